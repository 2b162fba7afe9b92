"""Run a deployed Lambda function's handler locally, the way Lambda would, against an engine.

moto cannot run Lambda code without Docker. Instead, the smoke run reads the function's
deployed configuration back from the engine (handler string, environment variables, layers),
downloads the deployed code and shared-layer packages from the engine's S3, and runs the
handler in a fresh Python process whose environment is exactly the function's environment
plus the engine's endpoint. A wrong handler string, a missing environment variable or a
table name that points nowhere fails here as it would in Lambda.

The layer's third-party dependencies are built for the Lambda runtime (manylinux, Python
3.12), so the child process takes those from this interpreter's site-packages; the layer's
own code (`python/concert_shared`) comes from the deployed layer package.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_RUNNER = "concert_platform.local_invoke"


@dataclass
class LocalFunction:
    name: str
    handler: str
    environment: dict[str, str]
    code_dir: Path
    layer_dir: Path | None
    timeout: int


class DeployedCode:
    """Extracts deployed packages from the engine's S3 once per (bucket, key)."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self._root = Path(tempfile.mkdtemp(prefix="concert-deployed-"))
        self._extracted: dict[tuple[str, str], Path] = {}

    def extract(self, bucket: str, key: str, only_prefix: str = "") -> Path:
        cache_key = (bucket, key + "|" + only_prefix)
        if cache_key not in self._extracted:
            body = self.engine.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
            target = self._root / f"pkg{len(self._extracted)}"
            with zipfile.ZipFile(io.BytesIO(body)) as archive:
                members = [m for m in archive.namelist() if m.startswith(only_prefix)]
                archive.extractall(target, members)
            self._extracted[cache_key] = target
        return self._extracted[cache_key]


def describe_function(
    engine: Any,
    code: DeployedCode,
    name: str,
    code_location: tuple[str, str],
    layer_location: tuple[str, str] | None,
) -> LocalFunction:
    config = engine.client("lambda").get_function_configuration(FunctionName=name)
    layer_dir = None
    if layer_location and config.get("Layers"):
        layer_dir = code.extract(*layer_location, only_prefix="python/concert_shared/") / "python"
    return LocalFunction(
        name=name,
        handler=config["Handler"],
        environment=dict(config.get("Environment", {}).get("Variables", {})),
        code_dir=code.extract(*code_location),
        layer_dir=layer_dir,
        timeout=int(config.get("Timeout", 3)),
    )


def invoke(function: LocalFunction, event: dict[str, Any], engine: Any) -> dict[str, Any]:
    """Run the handler in a child process; returns {"result": ...} or {"errorType", "errorMessage"}."""
    from concert_platform.execution_roles import function_credentials  # not in the child's imports

    paths = [str(function.code_dir)] + ([str(function.layer_dir)] if function.layer_dir else [])
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", "/tmp"),  # noqa: S108
        "PYTHONPATH": os.pathsep.join(paths),
        "AWS_REGION": engine.region,
        "AWS_DEFAULT_REGION": engine.region,
        **function_credentials(engine, function.name),  # the function's execution role
        "AWS_LAMBDA_FUNCTION_NAME": function.name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
        "POWERTOOLS_TRACE_DISABLED": "true",  # no X-Ray daemon here
        **function.environment,
    }
    if engine.endpoint_url:
        env["AWS_ENDPOINT_URL"] = engine.endpoint_url
    request = json.dumps(
        {
            "handler": function.handler,
            "event": event,
            "function_name": function.name,
            "timeout": function.timeout,
        }
    )
    started = time.monotonic()
    completed = subprocess.run(
        [sys.executable, "-m", _RUNNER],
        input=request,
        capture_output=True,
        text=True,
        env=env,
        timeout=max(function.timeout, 30) + 30,
        cwd=str(function.code_dir),
        check=False,
    )
    outcome = _outcome(completed)
    if engine.name == "embedded":  # Lambda's logs and metrics for this invocation
        from concert_platform.engines.moto_ext.lambda_telemetry import record_invocation

        error = f"{outcome['errorType']}: {outcome['errorMessage']}" if "errorType" in outcome else None
        record_invocation(
            engine, function.name, outcome["logs"].splitlines(), (time.monotonic() - started) * 1000, error
        )
    return outcome


def _outcome(completed: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    lines = [line for line in completed.stdout.splitlines() if line.startswith('{"__invoke_result__"')]
    if not lines:
        return {
            "errorType": "RunnerFailed",
            "errorMessage": (completed.stderr or completed.stdout)[-2000:],
            "logs": completed.stdout,
        }
    outcome: dict[str, Any] = json.loads(lines[-1])["__invoke_result__"]
    outcome["logs"] = "\n".join(
        line for line in completed.stdout.splitlines() if not line.startswith('{"__invoke_result__"')
    )
    return outcome


class _Context:
    def __init__(self, function_name: str, timeout: int) -> None:
        import time
        import uuid

        self.function_name = function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = (
            f"arn:aws:lambda:{os.environ.get('AWS_REGION')}:123456789012:function:{function_name}"
        )
        self.memory_limit_in_mb = 512
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = "local"
        self._deadline = time.monotonic() + timeout

    def get_remaining_time_in_millis(self) -> int:
        import time

        return max(0, int((self._deadline - time.monotonic()) * 1000))


def _main() -> None:
    """Child-process side: import the module named by the handler string and call it."""
    import importlib
    import traceback

    request = json.loads(sys.stdin.read())
    module_name, _, function_name = request["handler"].rpartition(".")
    try:
        module = importlib.import_module(module_name)
        handler = getattr(module, function_name)
        result = handler(request["event"], _Context(request["function_name"], request["timeout"]))
        outcome = {"result": result}
    except Exception as exc:
        outcome = {
            "errorType": type(exc).__name__,
            "errorMessage": str(exc),
            "stackTrace": traceback.format_exc(),
        }
    print(json.dumps({"__invoke_result__": outcome}, default=str), flush=True)


if __name__ == "__main__":
    _main()
