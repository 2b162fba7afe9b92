"""How the embedded engine runs a function that one of its own services invokes: the destination
of a log subscription filter, the lambda subscriber of an SNS topic.

moto would run such a function in Docker (none here). Instead it runs in the engine's local
Lambda runtime (concert_platform.engines.local_lambda, `engine.function_runtime()`): the deployed code and layers, the
function's own execution environment, role, Timeout and memory size. The invocation is recorded
like any other (logs, Lambda metrics: moto_ext.lambda_telemetry).

The engine binds itself when it starts (`bind`), so deliveries know its endpoint. Every delivery
is kept in DELIVERIES, which the smoke run and the tests read.
"""

from __future__ import annotations

from typing import Any

_engine: Any = None

#: every function the engine ran for one of its services: {"source", "function", "ok", "error", ...}
DELIVERIES: list[dict[str, Any]] = []


def bind(engine: Any) -> None:
    global _engine
    _engine = engine


def unbind(engine: Any) -> None:
    global _engine
    if _engine is engine:
        _engine = None


def bound_engine() -> Any:
    return _engine


def run_function(
    function_ref: str, event: dict[str, Any], account_id: str, region: str, source: str, **details: Any
) -> dict[str, Any]:
    """Invoke a deployed function for an engine service; the outcome is kept in DELIVERIES."""
    record: dict[str, Any] = {"source": source, "function": function_ref, **details}
    if _engine is None:
        record.update(ok=False, error="no embedded engine is running to invoke the function")
        DELIVERIES.append(record)
        return {"errorType": "EngineNotBound", "errorMessage": record["error"]}
    try:
        invocation = _engine.function_runtime().invoke(function_ref, event)
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
