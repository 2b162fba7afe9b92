"""Failures the platform's plain functions report; the API edge maps each to an HTTP status.

A client sees a stable code, a message it can act on and the correlation id; what names the
platform's insides (ARNs, account ids, resource names, a service's own error text) is `detail`,
which goes to the log only."""

from __future__ import annotations

from typing import Any


class PlatformError(Exception):
    """Base class: `code` is a stable machine-readable name, the message says what to do."""

    status = 500
    code = "internal_error"

    def __init__(self, message: str, code: str | None = None, detail: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail
        if code:
            self.code = code


def public_reason(exc: BaseException) -> str:
    """A failure's kind, safe to show a client: an AWS error code (e.g. AccessDeniedException) or
    the exception's class name, never its text (which names ARNs, accounts and resources)."""
    seen: BaseException | None = exc
    while seen is not None:
        response: Any = getattr(seen, "response", None)
        code = response.get("Error", {}).get("Code") if isinstance(response, dict) else None
        if code:  # S3's HEAD answers carry only the HTTP status as their code
            return f"{type(seen).__name__} (HTTP {code})" if str(code).isdigit() else str(code)
        seen = seen.__cause__
    return type(exc).__name__


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
