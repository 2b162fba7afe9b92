"""TEST-ONLY: make the embedded engine break one AWS guarantee, so a test can watch the engine
canary that proves it (concert_platform.canaries) turn red.

`CONCERT_TEST_ENGINE_FAULT` names the guarantees to break (comma-separated). Nothing but a test
sets it; the variable is read here only, at the moment each guarantee is applied, so a test's
monkeypatch takes effect on a running engine. An unknown name is refused, never ignored.
"""

from __future__ import annotations

import os

ENV = "CONCERT_TEST_ENGINE_FAULT"

#: fault -> the guarantee it breaks (and the canary that must then fail)
FAULTS: dict[str, str] = {
    "iam": "identity policies are not enforced: every call of a role's session is allowed",
    "kms": "key policies are not enforced: KMS answers a principal the key policy excludes",
    "timeout": "a function's Timeout is not enforced: the invocation runs to its end",
    "sql": "a Data API statement that fails is reported FINISHED",
    "alarm": "alarms are never evaluated: no state change, no action",
    "teardown": "stack deletion reports DELETE_COMPLETE but leaves every resource of one type",
}

#: the type the `teardown` fault leaves behind (the platform and the stack canary both have one)
SURVIVING_TYPE = "AWS::SQS::Queue"


def active(fault: str) -> bool:
    """Whether a test asked the engine to break this guarantee."""
    if fault not in FAULTS:
        raise ValueError(f"no engine fault {fault!r}: one of {', '.join(FAULTS)}")
    raw = os.environ.get(ENV, "")
    if not raw:
        return False
    named = {part.strip() for part in raw.split(",") if part.strip()}
    unknown = named - set(FAULTS)
    if unknown:
        raise ValueError(
            f"{ENV}={raw!r}: unknown fault {', '.join(sorted(unknown))}; one of {', '.join(FAULTS)}"
        )
    return fault in named
