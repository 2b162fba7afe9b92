"""Errors the CLI turns into one clear line and an exit code."""


class ConcertPlatformError(Exception):
    """Base class; `exit_code` is what the CLI exits with."""

    exit_code = 1


class UsageError(ConcertPlatformError):
    """Bad input found before anything was created: a wrong flag, slug, region, file..."""

    exit_code = 2


class DeployError(ConcertPlatformError):
    """A stack operation failed; the message names the stack, the resources and the reasons."""

    exit_code = 1
