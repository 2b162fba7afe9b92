"""Failures the platform's plain functions report; the API edge maps each to an HTTP status."""

from __future__ import annotations


class PlatformError(Exception):
    """Base class: `code` is a stable machine-readable name, the message says what to do."""

    status = 500
    code = "internal_error"

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code


class NotFound(PlatformError):
    """The request names something the platform does not hold (a user, a concert, a venue)."""

    status = 404
    code = "not_found"


class CannotAnswer(PlatformError):
    """The request is valid but the data cannot answer it (e.g. no history to predict from)."""

    status = 422
    code = "cannot_answer"


class DataUnavailable(PlatformError):
    """Neither Redshift nor the processed bucket could provide the reference data."""

    status = 503
    code = "data_unavailable"
