"""The platform's own checks, one per module: adding a check is adding a file."""

from __future__ import annotations

import importlib
import pkgutil

from concert_platform.policy.model import Check


def all_checks() -> list[Check]:
    found: list[Check] = []
    for module in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        loaded = importlib.import_module(f"{__name__}.{module.name}")
        for value in vars(loaded).values():
            if isinstance(value, type) and issubclass(value, Check) and value is not Check and value.id:
                found.append(value())
    return sorted(found, key=lambda c: c.id)
