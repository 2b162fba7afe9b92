"""Configuration from the function's environment; a missing variable is named, not guessed."""

from __future__ import annotations

import os


class ConfigurationError(RuntimeError):
    """The function's environment lacks something the template should have set."""


def env(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        raise ConfigurationError(f"environment variable {name} is not set; check the function's template")
    return value


def optional_env(name: str, default: str = "") -> str:
    return os.environ.get(name, default) or default


def int_env(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigurationError(f"environment variable {name}={raw!r} is not a whole number") from None


def bounded_int_env(name: str, default: int, low: int, high: int) -> int:
    """A whole number from the environment within [low, high]: a limit of 0 or -1 must fail the
    run with its name, not silently mean "delete everything" or "expire at once"."""
    value = int_env(name, default)
    if not low <= value <= high:
        raise ConfigurationError(
            f"environment variable {name}={value} is out of range; use a whole number from {low} to {high}"
        )
    return value
