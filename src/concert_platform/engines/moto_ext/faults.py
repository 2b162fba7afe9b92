"""TEST-ONLY: make the embedded engine break one AWS guarantee, so a test can watch the engine
canary that proves it (concert_platform.canaries) turn red.

`CONCERT_TEST_ENGINE_FAULT` names the guarantees to break (comma-separated). Nothing but a test
sets it; the variable is read here only, at the moment each guarantee is applied, so a test's
monkeypatch takes effect on a running engine. An unknown name is refused, never ignored.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field

from concert_platform.engines.base import STATEMENT_FAILED as STATEMENT_FAILED  # re-exported

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


# ---- dependency faults: one chosen call of one function fails (the smoke run's failure flows) ----
# Unlike the guarantees above, these are armed by the harness at run time (Engine.fail_calls): the
# functions run in worker processes that call this engine over HTTP, so the failure is made here,
# where their requests are authorised (access_control), keyed by the calling function's session.

# STATEMENT_FAILED: the statement is accepted, then reported FAILED, as a Redshift error would
# leave it; any other error code is answered as the service's own error


@dataclass
class CallFault:
    """Calls of `action` made by `function` (on a resource containing `resource`) fail with `error`:
    the next `times` of them, or every one until disarmed when `times` is None."""

    function: str
    action: str
    error: str
    resource: str = ""
    times: int | None = 1
    #: the (action, resource) of each call that was made to fail
    hits: list[tuple[str, str]] = field(default_factory=list)

    def matches(self, function: str, action: str, resource: str) -> bool:
        return (
            function == self.function
            and action.lower() == self.action.lower()
            and self.resource in resource
            and (self.times is None or len(self.hits) < self.times)
        )


_ARMED: list[CallFault] = []
_ARMED_LOCK = threading.Lock()
_PENDING = threading.local()  # a statement fault taken by the authoriser, for the request's handler


def arm(fault: CallFault) -> CallFault:
    with _ARMED_LOCK:
        _ARMED.append(fault)
    return fault


def disarm(fault: CallFault) -> None:
    with _ARMED_LOCK:
        if fault in _ARMED:
            _ARMED.remove(fault)


def take(function: str, action: str, resource: str) -> CallFault | None:
    """The armed fault this call triggers (recorded as a hit), or None."""
    with _ARMED_LOCK:
        for fault in _ARMED:
            if fault.matches(function, action, resource):
                fault.hits.append((action, resource))
                return fault
    return None


def hold_statement_failure(fault: CallFault) -> None:
    """The authoriser took a statement fault: the Data API handler of this request applies it."""
    _PENDING.fault = fault


def pending_statement_failure() -> CallFault | None:
    """The statement fault taken for this request (once), or None."""
    fault: CallFault | None = getattr(_PENDING, "fault", None)
    _PENDING.fault = None
    return fault
