"""ConcertRuntimeExecutor: one LocalStack execution environment = one isolated worker process.

LocalStack drives an executor through a small life cycle (runtime_executor.RuntimeExecutor):
`prepare_version` once per function version (unpack code and layers), `start(env_vars)` per
execution environment (returns when ready), `invoke(payload)` one invocation at a time, `stop`.
The docker executor answers invocations through an HTTP init inside the container; here the
executor talks to its worker directly and returns LocalStack's InvocationResult itself.

What Lambda does and this does too:
- the import path is Lambda's: the code package (LAMBDA_TASK_ROOT), the layers merged in order
  (/opt/python), then the runtime's boto3; the layers' third-party distributions are rebuilt for
  the interpreter that runs the worker (the embedded engine's `local_dependencies`);
- the init phase (importing the handler) runs at start; an init failure is answered to the
  first invocation as Lambda answers it (Runtime.ImportModuleError...), and the next one starts
  a fresh worker;
- Timeout: past it the worker is killed and the invocation fails with Sandbox.Timedout
  ("Task timed out after N.NN seconds"); the next invocation starts a fresh worker. MemorySize:
  an invocation after which the worker's peak memory exceeds it fails as Runtime.OutOfMemory;
- the logs of each invocation (what the handler printed or logged) go back to LocalStack, which
  writes them to the function's log group, framed by START/END/REPORT lines.
"""

from __future__ import annotations

import io
import json
import logging
import os
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from localstack import config
from localstack.aws.api.lambda_ import PackageType
from localstack.services.lambda_.invocation.lambda_models import FunctionVersion, InvocationResult
from localstack.services.lambda_.invocation.runtime_executor import (
    LambdaRuntimeException,
    RuntimeExecutor,
)

LOG = logging.getLogger(__name__)

#: Lambda's init phase has its own limit (10 s), apart from the function's Timeout.
INIT_SECONDS = 10.0
_PROTOCOL_GRACE_SECONDS = 0.2
CACHE_DIR_VARIABLE = "CONCERT_LAMBDA_CACHE_DIR"


@dataclass
class PreparedVersion:
    """A function version's files on disk, made once and shared by its environments."""

    root: Path
    task_root: Path
    path: list[str]
    sdk: Path
    #: LocalStack's version managers holding it (a configuration update prepares the new version
    #: before it cleans up the old one, and both have the same code and layers)
    holders: int = 0


_PREPARED: dict[str, PreparedVersion] = {}
_PREPARED_LOCK = threading.Lock()


def cache_dir() -> Path:
    """Where the layers' distributions and the runtime's boto3 are built for this interpreter
    (once; the first build needs the package index)."""
    configured = os.environ.get(CACHE_DIR_VARIABLE, "").strip()
    return Path(configured) if configured else Path(config.dirs.cache) / "concert-lambda"


def _layer_archive(layer: Any) -> bytes:
    buffer = io.BytesIO()
    layer.code._download_archive_to_file(buffer)  # the stored zip, as GetLayerVersion serves it
    return buffer.getvalue()


def _version_key(function_version: FunctionVersion) -> str:
    """What the prepared files depend on: the version, its code and its layers ($LATEST keeps
    its ARN across UpdateFunctionCode, so the ARN alone would serve the old code)."""
    code = function_version.config.code
    layers = ",".join(layer.layer_version_arn for layer in function_version.config.layers)
    return f"{function_version.qualified_arn}|{getattr(code, 'code_sha256', id(code))}|{layers}"


def prepare(function_version: FunctionVersion, hold: bool = False) -> PreparedVersion:
    """The version's files, unpacked on first use; `hold` counts a version manager holding them."""
    key = _version_key(function_version)
    with _PREPARED_LOCK:
        prepared = _PREPARED.get(key)
        if prepared is not None:
            prepared.holders += int(hold)
            return prepared
    prepared = _unpack(function_version)
    with _PREPARED_LOCK:
        existing = _PREPARED.get(key)
        if existing is not None:  # unpacked meanwhile by another thread: keep one copy
            shutil.rmtree(prepared.root, ignore_errors=True)
            prepared = existing
        _PREPARED[key] = prepared
        prepared.holders += int(hold)
        return prepared


def release(function_version: FunctionVersion) -> None:
    key = _version_key(function_version)
    with _PREPARED_LOCK:
        prepared = _PREPARED.get(key)
        if prepared is None:
            return
        prepared.holders -= 1
        if prepared.holders > 0:
            return
        del _PREPARED[key]
    shutil.rmtree(prepared.root, ignore_errors=True)


def _unpack(function_version: FunctionVersion) -> PreparedVersion:
    from concert_platform.engines.local_lambda import _extract_layer
    from concert_platform.packaging import local_dependencies, runtime_sdk

    started = time.monotonic()
    code = function_version.config.code
    code.prepare_for_execution()
    unzipped = time.monotonic()
    root = Path(tempfile.mkdtemp(prefix="concert-lambda-", dir=config.dirs.tmp))
    (root / "opt" / "python").mkdir(parents=True)
    third_party: set[str] = set()
    for layer in function_version.config.layers:  # later layers overwrite earlier ones, as in /opt
        third_party |= _extract_layer(_layer_archive(layer), root)
    layers = time.monotonic()
    local_build = local_dependencies(sorted(third_party), cache_dir()) / "python"
    sdk = runtime_sdk(cache_dir()) / "python"
    LOG.debug(
        "prepared %s: code %.2fs, layers %.2fs, their distributions and the SDK %.2fs",
        function_version.qualified_arn,
        unzipped - started,
        layers - unzipped,
        time.monotonic() - layers,
    )
    task_root = Path(code.get_unzipped_code_location())
    return PreparedVersion(
        root=root,
        task_root=task_root,
        path=[str(task_root), str(root / "opt" / "python"), str(local_build), str(sdk)],
        sdk=sdk,
    )


def gateway_host() -> str:
    host = config.GATEWAY_LISTEN[0].host
    wildcard = ("", "0.0.0.0", "::")  # noqa: S104 - compared with, not bound to
    return "127.0.0.1" if host in wildcard else host


def _error_result(request_id: str, error_type: str, message: str, logs: str) -> InvocationResult:
    body = {"errorMessage": message, "errorType": error_type}
    return InvocationResult(request_id, json.dumps(body).encode(), is_error=True, logs=logs)


class ConcertRuntimeExecutor(RuntimeExecutor):
    def __init__(self, id: str, function_version: FunctionVersion) -> None:
        super().__init__(id, function_version)
        self._worker: Any = None
        self._environment: dict[str, str] = {}
        self._init_failure: dict[str, Any] | None = None
        self._all_logs: list[str] = []

    # ---- LocalStack's life cycle ---------------------------------------------------------------
    @classmethod
    def prepare_version(cls, function_version: FunctionVersion) -> None:
        config_ = function_version.config
        if config_.package_type != PackageType.Zip:
            raise LambdaRuntimeException(
                "the concert executor runs zip packages only; container images need Docker"
            )
        if not str(config_.runtime or "").startswith("python"):
            raise LambdaRuntimeException(
                f"the concert executor runs Python functions only, not runtime {config_.runtime}"
            )
        prepare(function_version, hold=True)

    @classmethod
    def cleanup_version(cls, function_version: FunctionVersion) -> None:
        release(function_version)

    def start(self, env_vars: dict[str, str]) -> None:
        prepared = prepare(self.function_version)
        environment = {key: str(value) for key, value in env_vars.items()}
        environment.update(
            {
                "PATH": "/usr/local/bin:/usr/bin:/bin",
                "LANG": "en_US.UTF-8",
                "HOME": str(prepared.root),  # no ~/.aws of whoever runs LocalStack
                "AWS_CONFIG_FILE": os.devnull,
                "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
                "LAMBDA_TASK_ROOT": str(prepared.task_root),
                "LAMBDA_RUNTIME_DIR": str(prepared.sdk),
                # no X-Ray daemon here: Powertools' tracer stays off instead of emitting to nowhere
                "POWERTOOLS_TRACE_DISABLED": "true",
            }
        )
        # the function's own variables win over everything above, as in Lambda
        environment.update({k: str(v) for k, v in (self.function_version.config.environment or {}).items()})
        self._environment = environment
        self._start_worker(prepared)

    def stop(self) -> None:
        if self._worker is not None:
            self._keep_logs(self._worker.logs_since(0))
            self._worker.stop()
            self._worker = None

    def get_address(self) -> str:
        return "127.0.0.1"

    def get_endpoint_from_executor(self) -> str:
        return gateway_host()

    def get_runtime_endpoint(self) -> str:
        port = config.GATEWAY_LISTEN[0].port
        return f"http://{gateway_host()}:{port}/_localstack_lambda/{self.id}"

    def get_logs(self) -> str:
        current = self._worker.logs_since(0) if self._worker is not None else ""
        return "\n".join([*self._all_logs, current]).strip()

    @classmethod
    def validate_environment(cls) -> bool:
        from concert_platform.engines.local_lambda import WORKER

        if not WORKER.is_file():
            LOG.warning("the concert Lambda executor's worker %s is missing", WORKER)
            return False
        return True

    # ---- the worker ----------------------------------------------------------------------------
    def _keep_logs(self, logs: str) -> None:
        if logs:
            self._all_logs.append(logs)

    def _start_worker(self, prepared: PreparedVersion) -> None:
        from concert_platform.engines.local_lambda import FunctionEnvironment, Worker

        fv = self.function_version
        function = FunctionEnvironment(
            name=fv.id.function_name,
            arn=fv.qualified_arn,
            handler=fv.config.handler,
            timeout=float(fv.config.timeout),
            memory_size=int(fv.config.memory_size),
            runtime=str(fv.config.runtime),
            path=prepared.path,
            task_root=prepared.task_root,
            environment=self._environment,
        )
        worker = Worker(function)
        worker.send(
            {
                "path": prepared.path,
                "handler": fv.config.handler,
                "function_name": fv.id.function_name,
                "function_version": fv.id.qualifier,
                "function_arn": fv.qualified_arn,
                "memory_size": int(fv.config.memory_size),
                "log_group_name": self._environment.get("AWS_LAMBDA_LOG_GROUP_NAME", ""),
                "log_stream_name": self._environment.get("AWS_LAMBDA_LOG_STREAM_NAME", ""),
            }
        )
        try:
            reply = worker.receive(INIT_SECONDS)
        except TimeoutError:
            reply = {
                "errorType": "Sandbox.Timedout",
                "errorMessage": f"Init phase timed out after {INIT_SECONDS:.2f} seconds",
            }
        if reply is None or reply.get("init") != "ok":
            logs = worker.logs_since(0)
            worker.stop()
            self._init_failure = dict(
                reply
                or {
                    "errorType": "Runtime.ExitError",
                    "errorMessage": f"Runtime exited with error: exit status {worker.process.returncode}",
                },
                logs=logs,
            )
            self._worker = None
            return
        self._init_failure = None
        self._worker = worker

    def invoke(self, payload: dict[str, str]) -> InvocationResult:
        request_id = payload["invoke-id"]
        fv = self.function_version
        header = f"START RequestId: {request_id} Version: {fv.id.qualifier}"
        started = time.monotonic()

        def framed(logs: str) -> str:
            milliseconds = (time.monotonic() - started) * 1000
            memory = self._worker.peak_memory_mb() if self._worker is not None else 0
            lines = [header, *([logs] if logs else []), f"END RequestId: {request_id}"]
            lines.append(
                f"REPORT RequestId: {request_id}\tDuration: {milliseconds:.2f} ms\t"
                f"Billed Duration: {max(1, int(milliseconds + 0.999))} ms\t"
                f"Memory Size: {fv.config.memory_size} MB\tMax Memory Used: {memory} MB"
            )
            return "\n".join(lines)

        if self._worker is None and self._init_failure is None:  # after a timeout or a crash
            self._start_worker(prepare(fv))
        if self._init_failure is not None:
            failure, self._init_failure = self._init_failure, None  # the next invoke re-inits
            return _error_result(
                request_id,
                str(failure.get("errorType")),
                str(failure.get("errorMessage", "")),
                framed(str(failure.get("logs", ""))),
            )
        worker = self._worker
        timeout = float(fv.config.timeout)
        deadline = started + timeout
        mark = worker.log_mark()
        text = payload.get("payload") or "{}"
        worker.send(
            {
                "event": json.loads(text),
                "request_id": request_id,
                "deadline_ms": int(timeout * 1000),
                "trace_id": payload.get("trace-id", ""),
            }
        )
        try:
            reply = worker.receive(deadline - time.monotonic() + _PROTOCOL_GRACE_SECONDS)
        except TimeoutError:
            logs = framed(worker.logs_since(mark))
            self.stop()  # the environment is not reused after a timeout
            return _error_result(
                request_id,
                "Sandbox.Timedout",
                f"RequestId: {request_id} Error: Task timed out after {timeout:.2f} seconds",
                logs,
            )
        if reply is None:
            logs = framed(worker.logs_since(mark))
            code = worker.process.poll()
            self.stop()
            return _error_result(
                request_id,
                "Runtime.ExitError",
                f"RequestId: {request_id} Error: Runtime exited with error: exit status {code}",
                logs,
            )
        logs = framed(worker.logs_since(mark, request_id))  # up to the worker's end-of-invocation line
        peak = worker.peak_memory_mb()
        if peak > int(fv.config.memory_size):  # Lambda kills an environment past its memory size
            self.stop()
            return _error_result(
                request_id,
                "Runtime.OutOfMemory",
                f"RequestId: {request_id} Error: Runtime exited with error: signal: killed "
                f"(max memory used {peak} MB, memory size {fv.config.memory_size} MB)",
                logs,
            )
        if "errorType" in reply:
            body = {k: reply[k] for k in ("errorMessage", "errorType", "stackTrace") if k in reply}
            return InvocationResult(request_id, json.dumps(body).encode(), is_error=True, logs=logs)
        result = json.dumps(reply.get("result"), default=str).encode()
        return InvocationResult(request_id, result, is_error=False, logs=logs)
