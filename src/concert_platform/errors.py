"""Errors the CLI turns into one clear line and an exit code."""


class ConcertPlatformError(Exception):
    """Base class; `exit_code` is what the CLI exits with."""

    exit_code = 1


class UsageError(ConcertPlatformError):
    """Bad input found before anything was created: a wrong flag, slug, region, file..."""

    exit_code = 2


class DeployError(ConcertPlatformError):
    """A stack operation failed; the message names the stack, the resources and the reasons.

    A deploy that stopped at a stack also says which (`stack_key`), how long it spent on it
    (`stack_seconds`) and the report rows of the stacks it had completed before (`completed`)."""

    exit_code = 1
    stack_key: str | None = None
    stack_seconds: float | None = None
    completed: tuple[dict[str, object], ...] = ()
