"""How the embedded engine runs a function that one of its own services invokes: the destination
of a log subscription filter, the lambda subscriber of an SNS topic.

moto would run such a function in Docker (none here). Instead the function's deployed code and
shared layer, exactly as the engine holds them, run through concert_platform.local_invoke against
the engine's endpoint, with the function's deployed handler, environment and timeout. The
invocation is recorded like any other (logs, Lambda metrics: moto_ext.lambda_telemetry).

The engine binds itself when it starts (`bind`), so deliveries know its endpoint. Every delivery
is kept in DELIVERIES, which the smoke run and the tests read.
"""

from __future__ import annotations

import io
import tempfile
import threading
import zipfile
from pathlib import Path
from typing import Any

_engine: Any = None
_lock = threading.Lock()
_extracted: dict[str, Path] = {}
_root: Path | None = None

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


def _extract(digest: str, body: bytes, only_prefix: str = "") -> Path:
    global _root
    with _lock:
        key = f"{digest}|{only_prefix}"
        if key not in _extracted:
            if _root is None:
                _root = Path(tempfile.mkdtemp(prefix="concert-engine-code-"))
            target = _root / f"pkg{len(_extracted)}"
            with zipfile.ZipFile(io.BytesIO(body)) as archive:
                archive.extractall(target, [m for m in archive.namelist() if m.startswith(only_prefix)])
            _extracted[key] = target
        return _extracted[key]


def local_function(function_ref: str, account_id: str, region: str) -> Any:
    """The deployed function as local_invoke runs it, from the engine's own Lambda backend."""
    from moto.awslambda.utils import get_backend

    from concert_platform.local_invoke import LocalFunction

    backend = get_backend(account_id, region)
    function = backend.get_function(function_ref)
    layer_dir = None
    for layer in function.layers:
        version = backend.layers_versions_by_arn(layer["Arn"])
        if version is not None and getattr(version, "code_bytes", b""):
            # as local_invoke does: the layer's own package; its third-party wheels are built for
            # the Lambda runtime, this interpreter's site-packages stand in for them
            layer_dir = _extract(version.code_digest, version.code_bytes, "python/concert_shared/") / "python"
    return LocalFunction(
        name=function.function_name,
        handler=function.handler,
        environment=dict(function.environment_vars or {}),
        code_dir=_extract(function.code_digest, function.code_bytes),
        layer_dir=layer_dir,
        timeout=int(function.timeout or 3),
    )


def run_function(
    function_ref: str, event: dict[str, Any], account_id: str, region: str, source: str, **details: Any
) -> dict[str, Any]:
    """Invoke a deployed function for an engine service; the outcome is kept in DELIVERIES."""
    from concert_platform.local_invoke import invoke

    record: dict[str, Any] = {"source": source, "function": function_ref, **details}
    if _engine is None:
        record.update(ok=False, error="no embedded engine is running to invoke the function")
        DELIVERIES.append(record)
        return {"errorType": "EngineNotBound", "errorMessage": record["error"]}
    try:
        outcome = invoke(local_function(function_ref, account_id, region), event, _engine)
    except Exception as exc:
        outcome = {"errorType": type(exc).__name__, "errorMessage": str(exc)}
    record.update(ok="errorType" not in outcome, error=outcome.get("errorMessage", ""))
    DELIVERIES.append(record)
    return outcome
