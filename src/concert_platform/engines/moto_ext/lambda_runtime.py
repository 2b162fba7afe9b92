"""How the embedded engine runs a function that one of its own services invokes: the destination
of a log subscription filter, the lambda subscriber of an SNS topic.

moto would run such a function in Docker (none here). Instead it runs in the engine's local
Lambda runtime (concert_platform.engines.local_lambda, `engine.function_runtime()`): the deployed code and layers, the
function's own execution environment, role, Timeout and memory size. The invocation is recorded
like any other (logs, Lambda metrics: moto_ext.lambda_telemetry).

The engine binds itself when it starts (`bind`), so deliveries know its endpoint. Several
embedded engines may live in one process at once (the pytest plugin's session engine beside a
test's own); moto's backends are the process's, so a delivery runs on the engine bound last that
is still running: one stopping unbinds only itself, and the one bound before it serves again.
Every delivery is kept in DELIVERIES, which the smoke run and the tests read.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

_BOUND: list[Any] = []  # the running engines, in the order they were bound; the last one serves

#: every function the engine ran for one of its services: {"source", "function", "ok", "error", ...}
DELIVERIES: list[dict[str, Any]] = []


def bind(engine: Any) -> None:
    """`engine` serves the deliveries from now on (again, when it was bound before)."""
    if engine in _BOUND:
        _BOUND.remove(engine)
    _BOUND.append(engine)


def unbind(engine: Any) -> None:
    """`engine` stops: the engine bound before it, if still running, serves again."""
    if engine in _BOUND:
        _BOUND.remove(engine)


@contextmanager
def bound(engine: Any) -> Iterator[None]:
    """`engine` serves the deliveries for the length of the block, then the bindings are as they
    were (the integration layer's fault bed, whose engine lives beside the plugin's session engine
    and must not take that engine's invocations between its own runs)."""
    saved = list(_BOUND)
    bind(engine)
    try:
        yield
    finally:
        _BOUND[:] = saved


def bound_engine() -> Any:
    return _BOUND[-1] if _BOUND else None


def run_function(
    function_ref: str, event: dict[str, Any], account_id: str, region: str, source: str, **details: Any
) -> dict[str, Any]:
    """Invoke a deployed function for an engine service; the outcome is kept in DELIVERIES."""
    record: dict[str, Any] = {"source": source, "function": function_ref, **details}
    engine = bound_engine()
    if engine is None:
        record.update(ok=False, error="no embedded engine is running to invoke the function")
        DELIVERIES.append(record)
        return {"errorType": "EngineNotBound", "errorMessage": record["error"]}
    try:
        invocation = engine.function_runtime().invoke(function_ref, event)
        outcome: dict[str, Any] = (
            {"result": invocation.result}
            if invocation.ok
            else {"errorType": invocation.error_type, "errorMessage": invocation.error_message}
        )
    except Exception as exc:
        outcome = {"errorType": type(exc).__name__, "errorMessage": str(exc)}
    record.update(ok="errorType" not in outcome, error=outcome.get("errorMessage", ""))
    DELIVERIES.append(record)
    return outcome
