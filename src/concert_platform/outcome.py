"""How a run tells what went wrong, in words every reporter shares: one line for any failure
(`describe_exception`) and what a teardown that is not clean leaves (`teardown_remains`).

The e2e run, its reports, the canaries, the update review and the pytest plugin all take these
from here, so none of them imports another for them (docs/architecture.md, "Layers").
"""

from __future__ import annotations

from typing import Any

from concert_platform.errors import ConcertPlatformError


def describe_exception(exc: BaseException) -> str:
    """One line for any failure: ours as written, AWS errors with operation and code, bugs by type."""
    from botocore.exceptions import BotoCoreError, ClientError

    from concert_platform.workflow import describe_aws_error

    if isinstance(exc, ConcertPlatformError):
        text = str(exc)
    elif isinstance(exc, ClientError | BotoCoreError):
        text = describe_aws_error(exc)
    else:
        text = f"internal error {type(exc).__name__}: {exc}"
    return " ".join(text.split())


def teardown_remains(teardown: dict[str, Any]) -> list[str]:
    """Everything a teardown that is not clean knows may remain, one line each."""
    items = [
        f"{r['type']} {r['physical_id']} ({r['stack']}/{r['logical_id']}): {r['detail']}"
        for r in teardown.get("remaining", [])
    ]
    items += list(teardown.get("leftovers", []))
    items += [f"stack deletion: {line}" for line in teardown.get("stack_failures", [])]
    items += list(teardown.get("may_remain", []))
    return items
