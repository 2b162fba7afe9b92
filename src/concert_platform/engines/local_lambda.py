"""Run deployed Lambda functions locally, the way Lambda runs them, against an engine whose Lambda
cannot run code (`Capabilities.runs_function_code` False; reached through `engine.function_runtime()`).

moto cannot run Lambda code without Docker. `LocalLambdaRuntime` is the embedded engine's
execution environment instead:

- the function's configuration is read back from the engine (handler, environment, timeout,
  memory size, layers) and its code package and layers are the bytes Lambda holds for them
  (`engine.deployed_code()`);
- one worker process per function (`python -I -S concert_platform/engines/lambda_worker.py`: no
  site-packages, no PYTHONPATH), started on the first invocation (the cold start, timed), kept
  with its module state for later invocations, replaced after a timeout or a crash;
- the worker runs on the interpreter the function's `Runtime` names (python3.12: CPython 3.12)
  where this machine has one (concert_platform.packaging.find_interpreter), and its import path
  is what Lambda's would be: the code package (/var/task), the deployed layers merged in order
  (/opt/python), then the runtime's boto3 (installed by that interpreter's pip). The layers are
  imported as built for Lambda; only on a substitute interpreter (none for the declared runtime
  here, named in the report) are their third-party distributions replaced by the same ones at
  the same versions built for it (concert_platform.packaging.local_dependencies). Either way a
  package missing from a layer fails the import as `Runtime.ImportModuleError`;
- the function's `Timeout` is enforced: past it the worker is killed and the invocation fails
  with "Task timed out after N.NN seconds"; `MemorySize` is in the context and environment, and
  an invocation after which the process's peak memory exceeds it fails as `Runtime.OutOfMemory`
  (checked when the invocation returns, not while it runs);
- the environment is the function's own plus Lambda's reserved variables, the engine's endpoint
  and the credentials `function_credentials` returns.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import io
import json
import os
import queue
import re
import shutil
import subprocess
import tempfile
import threading
import time
import uuid
import weakref
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from concert_platform.engines.function_roles import function_credentials
from concert_platform.engines.lambda_worker import END_OF_INVOCATION
from concert_platform.errors import UsageError
from concert_platform.packaging import (
    LOCAL_INTERPRETER,
    Interpreter,
    default_cache_dir,
    find_interpreter,
    local_dependencies,
    pins_of,
    runtime_sdk,
)

WORKER = Path(__file__).with_name("lambda_worker.py")
_PROTOCOL_GRACE_SECONDS = 0.2
#: how much longer an invocation may run when a test switched Timeout enforcement off
_UNENFORCED_TIMEOUT_SECONDS = 30.0
#: how long a replied invocation's logs wait for the worker's end-of-invocation line, and a dead
#: or stopped worker's for its log stream to close (each only a bound: both normally take < 1 ms)
_LOG_END_SECONDS = 1.0
_LOG_DRAIN_SECONDS = 0.5
#: a live worker's logs without an end-of-invocation line to wait for: the pump's moment to catch up
_LOG_LIVE_SECONDS = 0.01
#: Lambda's init phase (importing the handler's module) has its own limit, apart from Timeout.
INIT_SECONDS = 10.0


_RUNTIMES: weakref.WeakKeyDictionary[Any, LocalLambdaRuntime] = weakref.WeakKeyDictionary()


def runtime_for(engine: Any, cache_dir: Path | None = None) -> LocalLambdaRuntime:
    """The engine's one Lambda runtime, shared by the smoke run and the functions the engine's own
    services invoke (subscription filters, SNS), so each function keeps one warm environment as in
    Lambda. It lives until `close_runtime(engine)` (every engine calls it when it stops)."""
    runtime = _RUNTIMES.get(engine)
    if runtime is None:
        if cache_dir is None:
            from concert_platform.manifest import load_manifest

            cache_dir = default_cache_dir(load_manifest().root)
        runtime = _RUNTIMES[engine] = LocalLambdaRuntime(engine, cache_dir)
    return runtime


def close_runtime(engine: Any) -> None:
    runtime = _RUNTIMES.pop(engine, None)
    if runtime is not None:
        runtime.close()


def interpreter_for(runtime: str) -> tuple[Interpreter, str | None]:
    """The interpreter that runs a function declaring `runtime` (python3.12), and None, or this
    tool's own interpreter and why it stands in (printed in the report)."""
    match = re.fullmatch(r"python(\d+\.\d+)", runtime)
    if not match:
        return LOCAL_INTERPRETER, f"{runtime or 'no runtime'} is not a Python runtime this tool can run"
    found, how = find_interpreter(match.group(1))
    if found is None:
        return LOCAL_INTERPRETER, how
    return found, None


@dataclass
class Invocation:
    function: str
    request_id: str
    result: Any = None
    error_type: str | None = None
    error_message: str = ""
    logs: str = ""
    seconds: float = 0.0
    cold_start: bool = False
    #: the handler's traceback lines, when it raised (Lambda's `stackTrace`)
    stack_trace: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.error_type is None

    def describe_error(self) -> str:
        return f"{self.function} failed with {self.error_type}: {self.error_message[:500]}"


@dataclass
class FunctionEnvironment:
    """A deployed function made runnable: its files on disk and how to start its worker."""

    name: str
    arn: str
    handler: str
    timeout: float
    memory_size: int
    runtime: str
    path: list[str]
    task_root: Path
    environment: dict[str, str]
    layers: list[str] = field(default_factory=list)
    revision: str = ""
    interpreter: Interpreter = LOCAL_INTERPRETER
    #: why `interpreter` stands in for the declared runtime (None: it is the declared one)
    substitute: str | None = None
    #: the layers' own third-party wheels are imported (else rebuilt for `interpreter`)
    layers_as_built: bool = False


class Worker:
    """One execution environment: a process that imported the handler and serves invocations."""

    def __init__(self, function: FunctionEnvironment) -> None:
        self.function = function
        self.started = time.monotonic()
        self.process = subprocess.Popen(
            [function.interpreter.executable, "-I", "-S", str(WORKER)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=function.environment,
            cwd=str(function.task_root),
            text=True,
            bufsize=1,
        )
        self._replies: queue.Queue[str | None] = queue.Queue()
        self._log_lines: list[str] = []
        self._log_ended = threading.Condition()
        self._ended: set[str] = set()  # request ids whose end-of-invocation line was read
        self._pumped = False  # the log stream closed (the process exited)
        threading.Thread(target=self._pump_replies, daemon=True).start()
        threading.Thread(target=self._pump_logs, daemon=True).start()
        self.init_seconds: float | None = None
        self.routes: dict[str, list[str]] | None = None

    def _pump_replies(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._replies.put(line)
        self._replies.put(None)

    def _pump_logs(self) -> None:
        assert self.process.stderr is not None
        try:
            for line in self.process.stderr:
                text, marker, request_id = line.partition(END_OF_INVOCATION)
                with self._log_ended:
                    if text.rstrip("\n") or not marker:  # output without a final newline: its own line
                        self._log_lines.append(text.rstrip("\n"))
                    if marker:
                        self._ended.add(request_id.strip())
                        self._log_ended.notify_all()
        except (OSError, ValueError):  # the stream was closed under the pump by stop()
            pass
        finally:
            with self._log_ended:
                self._pumped = True
                self._log_ended.notify_all()

    def log_mark(self) -> int:
        with self._log_ended:
            return len(self._log_lines)

    def logs_since(self, mark: int, request_id: str | None = None) -> str:
        """The log lines from `mark` on. With `request_id` (an invocation that replied), wait for
        the worker's end-of-invocation line, so every line the handler flushed is included. Without
        one: an exited worker's log stream is drained to its end; a live one (timed out, or asked
        between invocations) gets a moment for the pump to catch up."""
        with self._log_ended:
            if request_id is not None:
                self._log_ended.wait_for(
                    lambda: request_id in self._ended or self._pumped, timeout=_LOG_END_SECONDS
                )
                self._ended.discard(request_id)
            elif self.process.poll() is not None:
                self._log_ended.wait_for(lambda: self._pumped, timeout=_LOG_DRAIN_SECONDS)
            else:
                self._log_ended.wait(timeout=_LOG_LIVE_SECONDS)
            return "\n".join(self._log_lines[mark:])

    def send(self, message: dict[str, Any]) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(message, default=str) + "\n")
        self.process.stdin.flush()

    def receive(self, timeout: float) -> dict[str, Any] | None:
        """The next reply, or None when the worker exited; raises TimeoutError past `timeout`."""
        try:
            line = self._replies.get(timeout=max(timeout, 0.001))
        except queue.Empty:
            raise TimeoutError from None
        if line is None:
            return None
        reply: dict[str, Any] = json.loads(line)
        return reply

    def alive(self) -> bool:
        return self.process.poll() is None

    def peak_memory_mb(self) -> int:
        """The process's peak resident memory so far (VmHWM), what Lambda reports as Max Memory Used."""
        try:
            status = Path(f"/proc/{self.process.pid}/status").read_text()
        except OSError:
            return 0
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) // 1024
        return 0

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        with contextlib.suppress(Exception):
            self.process.wait(timeout=5)
        for stream in (self.process.stdin, self.process.stdout, self.process.stderr):
            with contextlib.suppress(Exception):
                if stream is not None:
                    stream.close()


@dataclass
class FunctionStats:
    cold_starts: int = 0
    init_seconds: list[float] = field(default_factory=list)
    invocations: int = 0
    errors: int = 0
    timeouts: int = 0
    max_memory_used_mb: int = 0
    #: each failed cold start's error (a start retried later still counts as failed here)
    init_failures: list[str] = field(default_factory=list)
    #: what Lambda itself could not do as the execution role at a cold start (engine.lambda_role_gaps)
    role_gaps: list[str] = field(default_factory=list)


class LocalLambdaRuntime:
    """Runs the deployed functions of an engine whose Lambda runs no code (see the module docstring)."""

    def __init__(self, engine: Any, cache_dir: Path) -> None:
        self.engine = engine
        self.cache_dir = cache_dir
        self._root = Path(tempfile.mkdtemp(prefix="concert-lambda-"))
        self._environments: dict[str, FunctionEnvironment] = {}
        self._workers: dict[str, Worker] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()
        self.stats: dict[str, FunctionStats] = {}
        self._logs_lost: set[str] = set()  # functions whose role cannot write their logs
        self._closed = False
        atexit.register(self.close)

    # ---- preparing a function ------------------------------------------------------------------
    def _refuse_if_closed(self) -> None:
        if self._closed:
            raise RuntimeError("the Lambda runtime is closed (its engine stopped)")

    def environment(self, name_or_arn: str) -> FunctionEnvironment:
        self._refuse_if_closed()
        config = self.engine.function_configuration(name_or_arn)
        name = config["FunctionName"]
        revision = _revision(config)
        with self._lock:
            lock = self._locks.setdefault(name, threading.Lock())
        with lock:
            current = self._environments.get(name)
            if current is None or current.revision != revision:
                # a changed configuration or code gets new execution environments, as in Lambda
                worker = self._workers.pop(name, None)
                if worker is not None:
                    worker.stop()
                try:
                    self._environments[name] = self._prepare(config, revision)
                except (LookupError, OSError, zipfile.BadZipFile) as exc:
                    shutil.rmtree(self._root / name / revision, ignore_errors=True)  # retried afresh
                    raise RuntimeError(
                        f"{name}: its deployed code or layers cannot be unpacked: {exc}"
                    ) from exc
                if self._closed:  # closed while this was unpacking: leave nothing behind
                    shutil.rmtree(self._root, ignore_errors=True)
                    self._refuse_if_closed()
            return self._environments[name]

    def _prepare(self, config: dict[str, Any], revision: str) -> FunctionEnvironment:
        name, arn = config["FunctionName"], config["FunctionArn"]
        account = arn.split(":")[4]
        packages = self.engine.deployed_code()
        root = self._root / name / revision
        # a configuration changed and changed back (the alarm flow's broken handler) returns to a
        # revision unpacked before: unpacked afresh, as a new execution environment would be
        shutil.rmtree(root, ignore_errors=True)
        task_root = root / "task"
        _extract(packages.deployed_package(account, self.engine.region, name), task_root)
        opt_python = root / "opt" / "python"
        opt_python.mkdir(parents=True)
        layer_arns = [layer["Arn"] for layer in config.get("Layers", [])]
        python, substitute = interpreter_for(str(config.get("Runtime") or ""))
        if python is not LOCAL_INTERPRETER:
            try:  # the declared runtime's SDK, by its own pip
                sdk = runtime_sdk(self.cache_dir, python) / "python"
            except UsageError as exc:  # its pip cannot install: run on this tool's, and say why
                python, substitute = LOCAL_INTERPRETER, f"python{python.version}'s pip failed: {exc}"
        if python is LOCAL_INTERPRETER:
            sdk = runtime_sdk(self.cache_dir) / "python"
        as_built = python.runs_layers_as_built()
        third_party: set[str] = set()
        as_deployed: list[str] = []  # each layer's own distributions, the later layer first
        for layer_arn in layer_arns:  # later layers overwrite earlier ones, as in /opt
            package = packages.deployed_layer(account, self.engine.region, layer_arn)
            third_party |= _extract_layer(package, root)
            if as_built:
                as_deployed.insert(0, str(_layer_distributions(package, self.cache_dir, python)))
        rebuilt = (
            as_deployed
            if as_built
            else [str(local_dependencies(sorted(third_party), self.cache_dir, python) / "python")]
        )
        memory = int(config.get("MemorySize", 128))
        environment = {
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "LANG": "en_US.UTF-8",
            "TZ": ":UTC",
            "HOME": str(root),  # no ~/.aws of whoever runs the tool
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "LAMBDA_TASK_ROOT": str(task_root),
            "LAMBDA_RUNTIME_DIR": str(sdk),
            "AWS_EXECUTION_ENV": f"AWS_Lambda_{config.get('Runtime', 'python3.12')}",
            "AWS_REGION": self.engine.region,
            "AWS_DEFAULT_REGION": self.engine.region,
            "AWS_LAMBDA_FUNCTION_NAME": name,
            "AWS_LAMBDA_FUNCTION_VERSION": config.get("Version", "$LATEST"),
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(memory),
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{name}",
            "AWS_LAMBDA_LOG_STREAM_NAME": f"local/[$LATEST]{uuid.uuid4().hex}",
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            "_HANDLER": config["Handler"],
            # no X-Ray daemon here: Powertools' tracer stays off instead of emitting to nowhere
            "POWERTOOLS_TRACE_DISABLED": "true",
            **dict(config.get("Environment", {}).get("Variables", {})),
        }
        if self.engine.endpoint_url:
            environment["AWS_ENDPOINT_URL"] = self.engine.endpoint_url
        return FunctionEnvironment(
            name=name,
            arn=arn,
            handler=config["Handler"],
            timeout=float(config.get("Timeout", 3)),
            memory_size=memory,
            runtime=config.get("Runtime", ""),
            path=[str(task_root), str(opt_python), *rebuilt, str(sdk)],
            task_root=task_root,
            environment=environment,
            layers=layer_arns,
            revision=revision,
            interpreter=python,
            substitute=substitute,
            layers_as_built=as_built,
        )

    # ---- running it ----------------------------------------------------------------------------
    def _start(
        self, function: FunctionEnvironment, deadline: float
    ) -> tuple[Worker | None, Invocation | None]:
        """A cold start: a new worker imports the handler. Returns the worker or the init failure."""
        config = self.engine.function_configuration(function.name)
        environment = dict(function.environment)
        environment.update(function_credentials(self.engine, config))
        stats = self.stats.setdefault(function.name, FunctionStats())
        refused = self._check_role(function, config, environment["AWS_LAMBDA_LOG_STREAM_NAME"], stats)
        if refused is not None:
            return None, refused
        worker = Worker(FunctionEnvironment(**{**function.__dict__, "environment": environment}))
        stats.cold_starts += 1
        worker.send(
            {
                "path": function.path,
                "handler": function.handler,
                "function_name": function.name,
                "function_arn": function.arn,
                "memory_size": function.memory_size,
                "log_group_name": environment["AWS_LAMBDA_LOG_GROUP_NAME"],
                "log_stream_name": environment["AWS_LAMBDA_LOG_STREAM_NAME"],
            }
        )
        try:
            reply = worker.receive(deadline - time.monotonic())
        except TimeoutError:
            worker.stop()
            timed_out = self._timed_out(function, str(uuid.uuid4()), worker, 0, True, INIT_SECONDS)
            stats.init_failures.append(timed_out.describe_error())
            return None, timed_out
        if reply is None or reply.get("init") != "ok":
            logs = worker.logs_since(0)
            worker.stop()
            reply = reply or {
                "errorType": "Runtime.ExitError",
                "errorMessage": f"Runtime exited with error: exit status {worker.process.returncode}",
            }
            stats.errors += 1
            failed = Invocation(
                function.name,
                str(uuid.uuid4()),
                error_type=reply.get("errorType"),
                error_message=reply.get("errorMessage", ""),
                logs=logs,
                cold_start=True,
            )
            stats.init_failures.append(failed.describe_error())
            return None, failed
        worker.init_seconds = float(reply.get("seconds", 0.0))
        worker.routes = reply.get("routes")
        stats.init_seconds.append(round(time.monotonic() - worker.started, 3))
        return worker, None

    def _check_role(
        self, function: FunctionEnvironment, config: dict[str, Any], log_stream: str, stats: FunctionStats
    ) -> Invocation | None:
        """What Lambda itself does as the role at a cold start (engine.lambda_role_gaps): each gap
        is kept for the report; one that fails the invocation on AWS (the environment's KMS
        decrypt) fails this start with Lambda's error; without log permissions the logs are lost."""
        check = getattr(self.engine, "lambda_role_gaps", None)  # an Engine's; test doubles lack it
        gaps = check(config, log_stream) if check is not None else []
        for line in _gap_lines(gaps):
            if line not in stats.role_gaps:
                stats.role_gaps.append(line)
        if any(gap.action.startswith("logs:") for gap in gaps):
            self._logs_lost.add(function.name)
        else:
            self._logs_lost.discard(function.name)
        fatal = next((gap for gap in gaps if gap.error_type == "KMSAccessDeniedException"), None)
        if fatal is None:
            return None
        stats.errors += 1
        failed = Invocation(
            function.name,
            str(uuid.uuid4()),
            error_type=fatal.error_type,
            error_message=f"{fatal.message} KMS Exception: AccessDeniedException KMS Message: "
            f"{fatal.action} on {fatal.resource} is not allowed for {fatal.role} ({fatal.reason})",
            cold_start=True,
        )
        stats.init_failures.append(failed.describe_error())
        return failed

    def _timed_out(
        self,
        function: FunctionEnvironment,
        request_id: str,
        worker: Worker,
        mark: int,
        cold: bool,
        limit: float | None = None,
    ) -> Invocation:
        seconds = function.timeout if limit is None else limit
        stats = self.stats.setdefault(function.name, FunctionStats())
        stats.timeouts += 1
        stats.errors += 1
        return Invocation(
            function.name,
            request_id,
            error_type="Sandbox.Timedout",
            error_message=f"RequestId: {request_id} Error: Task timed out after {seconds:.2f} seconds",
            logs=worker.logs_since(mark),
            seconds=seconds,
            cold_start=cold,
        )

    def invoke(self, name_or_arn: str, event: dict[str, Any]) -> Invocation:
        function = self.environment(name_or_arn)
        with self._lock:
            lock = self._locks.setdefault(function.name, threading.Lock())
        with lock:  # one environment serves one invocation at a time
            outcome = self._invoke(function, event)
        # Lambda's logs and metrics for this invocation, where the engine keeps them
        error = None if outcome.ok else f"{outcome.error_type}: {outcome.error_message}"
        # a role that cannot write the function's logs loses them, as on AWS (metrics are Lambda's own)
        lines = [] if function.name in self._logs_lost else outcome.logs.splitlines()
        self.engine.record_invocation(function.name, lines, outcome.seconds * 1000, error)
        return outcome

    def _invoke(self, function: FunctionEnvironment, event: dict[str, Any]) -> Invocation:
        request_id = str(uuid.uuid4())
        worker = self._workers.get(function.name)
        cold = worker is None or not worker.alive()
        if cold:
            worker, failure = self._start(function, time.monotonic() + INIT_SECONDS)
            if worker is None:
                assert failure is not None
                return failure
            self._keep(function.name, worker)
        assert worker is not None
        started = time.monotonic()  # the function's Timeout counts from the invoke phase
        deadline = started + function.timeout
        stats = self.stats.setdefault(function.name, FunctionStats())
        stats.invocations += 1
        mark = worker.log_mark()
        remaining_ms = int((deadline - time.monotonic()) * 1000)
        worker.send(
            {
                "event": event,
                "request_id": request_id,
                "deadline_ms": remaining_ms,
                "trace_id": f"Root=1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]};Sampled=0",
            }
        )
        limit = deadline - time.monotonic() + _PROTOCOL_GRACE_SECONDS
        breaks = getattr(self.engine, "breaks_guarantee", None)  # an Engine's; test doubles lack it
        enforced = not (breaks is not None and breaks("timeout"))  # test-only fault: not enforced
        if not enforced:
            limit += _UNENFORCED_TIMEOUT_SECONDS
        try:
            reply = worker.receive(limit)
            # a reply read after the deadline still counts as in time only if the handler itself ran
            # within the Timeout (its own measure, from the worker): when this process is starved of
            # CPU, the wait above can start after the handler has already run past its Timeout
            ran = float((reply or {}).get("seconds", 0.0))
            if enforced and ran > function.timeout + _PROTOCOL_GRACE_SECONDS:
                raise TimeoutError
        except TimeoutError:
            worker.stop()  # the environment is not reused after a timeout
            self._workers.pop(function.name, None)
            return self._timed_out(function, request_id, worker, mark, cold)
        seconds = round(time.monotonic() - started, 3)
        if reply is None:
            logs = worker.logs_since(mark)
            worker.stop()
            self._workers.pop(function.name, None)
            stats.errors += 1
            return Invocation(
                function.name,
                request_id,
                error_type="Runtime.ExitError",
                error_message=(
                    f"RequestId: {request_id} Error: Runtime exited with error: exit status "
                    f"{worker.process.returncode}"
                ),
                logs=logs,
                seconds=seconds,
                cold_start=cold,
            )
        peak = worker.peak_memory_mb()
        stats.max_memory_used_mb = max(stats.max_memory_used_mb, peak)
        if peak > function.memory_size:  # Lambda kills an environment past its memory size
            logs = worker.logs_since(mark, request_id)
            worker.stop()
            self._workers.pop(function.name, None)
            stats.errors += 1
            return Invocation(
                function.name,
                request_id,
                error_type="Runtime.OutOfMemory",
                error_message=(
                    f"RequestId: {request_id} Error: Runtime exited with error: signal: killed "
                    f"(max memory used {peak} MB, memory size {function.memory_size} MB)"
                ),
                logs=logs,
                seconds=seconds,
                cold_start=cold,
            )
        if "errorType" in reply:
            stats.errors += 1
            return Invocation(
                function.name,
                request_id,
                error_type=reply["errorType"],
                error_message=reply.get("errorMessage", ""),
                logs=worker.logs_since(mark, request_id),
                seconds=seconds,
                cold_start=cold,
                stack_trace=[str(line) for line in reply.get("stackTrace") or []],
            )
        return Invocation(
            function.name,
            request_id,
            result=reply.get("result"),
            logs=worker.logs_since(mark, request_id),
            seconds=seconds,
            cold_start=cold,
        )

    def routes(self, name_or_arn: str) -> tuple[str, dict[str, list[str]] | None, Invocation | None]:
        """The routes the function's handler module declares (ROUTES), from a started worker."""
        function = self.environment(name_or_arn)
        with self._lock:
            lock = self._locks.setdefault(function.name, threading.Lock())
        with lock:
            worker = self._workers.get(function.name)
            if worker is None or not worker.alive():
                worker, failure = self._start(function, time.monotonic() + INIT_SECONDS)
                if worker is None:
                    return function.name, None, failure
                self._keep(function.name, worker)
            return function.name, worker.routes, None

    def warm(self, names_or_arns: list[str], parallel: int | None = None) -> None:
        """Cold-start several functions' environments, `parallel` at a time (default: all at
        once); each start is still timed on its own."""
        from concurrent.futures import ThreadPoolExecutor

        def start(name: str) -> None:
            with contextlib.suppress(RuntimeError):  # reported again by whoever invokes it
                self.routes(name)

        with ThreadPoolExecutor(max_workers=max(1, parallel or len(names_or_arns))) as pool:
            list(pool.map(start, names_or_arns))

    # ---- reporting and cleanup -----------------------------------------------------------------
    def report(self) -> dict[str, Any]:
        return {
            "isolation": "python -I -S; code package, deployed layers and the runtime's boto3 only",
            "functions": [
                {
                    "name": name,
                    **self._interpreter_of(name),
                    "declared_runtime": self._environments[name].runtime
                    if name in self._environments
                    else "",
                    "timeout_seconds": self._environments[name].timeout
                    if name in self._environments
                    else None,
                    "memory_mb": self._environments[name].memory_size if name in self._environments else None,
                    "layers": len(self._environments[name].layers) if name in self._environments else 0,
                    "cold_starts": stats.cold_starts,
                    "cold_start_seconds": stats.init_seconds,
                    "invocations": stats.invocations,
                    "errors": stats.errors,
                    "timeouts": stats.timeouts,
                    "max_memory_used_mb": stats.max_memory_used_mb,
                    "init_failures": list(stats.init_failures),
                    "role_gaps": list(stats.role_gaps),
                }
                for name, stats in sorted(self.stats.items())
            ],
        }

    def _interpreter_of(self, name: str) -> dict[str, Any]:
        function = self._environments.get(name)
        if function is None:
            return {}
        return {
            "interpreter": function.interpreter.describe(),
            "substitute_for_declared_runtime": function.substitute,
            "layer_distributions": "as built for Lambda"
            if function.layers_as_built
            else (f"third-party distributions rebuilt for Python {function.interpreter.version}"),
        }

    def _keep(self, name: str, worker: Worker) -> None:
        """Register a started worker, unless the runtime closed while it was starting (a cold
        start begun in the background can outlive an interrupted run)."""
        with self._lock:
            if not self._closed:
                self._workers[name] = worker
                return
        worker.stop()
        self._refuse_if_closed()

    def close(self) -> None:
        with self._lock:
            self._closed = True
        for worker in list(self._workers.values()):
            worker.stop()
        self._workers.clear()
        shutil.rmtree(self._root, ignore_errors=True)


def _gap_lines(gaps: list[Any]) -> list[str]:
    """One line per function and thing Lambda cannot do as its role, naming every action and resource."""
    groups: dict[tuple[str, str, str, str, str], list[Any]] = {}
    for gap in gaps:
        groups.setdefault((gap.function, gap.role, gap.purpose, gap.error_type, gap.message), []).append(gap)
    lines = []
    for (function, role, purpose, error_type, message), group in groups.items():
        denied = ", ".join(f"{gap.action} on {gap.resource}" for gap in group)
        reasons = {gap.reason for gap in group if not gap.reason.startswith("because no identity-based")}
        why = "; ".join(sorted(reasons)) or "no policy of the role allows it"
        line = (
            f"{function}: Lambda cannot {purpose} as its execution role {role}: {denied} not allowed ({why})"
        )
        lines.append(
            f"{line}; on AWS nothing fails and they go missing"
            if not error_type
            else f"{line}; Lambda answers {error_type}: {message}"
        )
    return lines


def _revision(config: dict[str, Any]) -> str:
    """What makes Lambda start new execution environments: code, handler, settings, layers, role."""
    keys = ("CodeSha256", "Handler", "Runtime", "Timeout", "MemorySize", "Environment", "Layers", "Role")
    snapshot = json.dumps({key: config.get(key) for key in keys}, sort_keys=True, default=str)
    return hashlib.sha256(snapshot.encode()).hexdigest()[:12]


def _extract(package: bytes, target: Path) -> None:
    target.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(io.BytesIO(package)) as archive:
        archive.extractall(target)


def _distributions(archive: zipfile.ZipFile) -> tuple[set[str], set[str]]:
    """A layer's third-party distributions (their .dist-info names) and every file they own."""
    names = archive.namelist()
    infos = {name.split("/")[1] for name in names if name.startswith("python/") and ".dist-info/" in name}
    owned: set[str] = set()
    for info in infos:
        record = f"python/{info}/RECORD"
        if record in names:
            for row in archive.read(record).decode().splitlines():
                path = row.split(",", 1)[0]
                if path and not path.startswith(".."):
                    owned.add(f"python/{path}")
        owned.update(name for name in names if name.startswith(f"python/{info}/"))
    return infos, owned & set(names)


def _extract_layer(package: bytes, root: Path) -> set[str]:
    """Extract a layer's own files into root/opt; return the third-party distributions it holds
    (name==version), whose files are left out: `_layer_distributions` or a rebuild provides them."""
    with zipfile.ZipFile(io.BytesIO(package)) as archive:
        infos, owned = _distributions(archive)
        archive.extractall(root / "opt", [name for name in archive.namelist() if name not in owned])
    return set(pins_of(infos))


def _layer_distributions(package: bytes, cache_dir: Path, python: Interpreter) -> Path:
    """A deployed layer's third-party distributions as built for Lambda, extracted once per layer
    content and interpreter into the cache and compiled there by that interpreter: a cold start
    then imports bytecode, as Lambda's does, instead of compiling pydantic within the init limit."""
    import fcntl

    digest = hashlib.sha256(package).hexdigest()[:16]
    target = cache_dir / f"layer-as-built-py{python.version}-{digest}"
    if not (target / ".complete").exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(target.with_name(f"{target.name}.lock"), "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not (target / ".complete").exists():
                staging = Path(tempfile.mkdtemp(prefix=f"{target.name}.building-", dir=target.parent))
                with zipfile.ZipFile(io.BytesIO(package)) as archive:
                    archive.extractall(staging, sorted(_distributions(archive)[1]))
                (staging / "python").mkdir(exist_ok=True)
                subprocess.run(
                    [python.executable, "-m", "compileall", "-q", "-j", "0", str(staging / "python")],
                    capture_output=True,
                    check=False,  # a file that does not compile fails its import, as it would on Lambda
                )
                (staging / ".complete").write_text("ok")
                shutil.rmtree(target, ignore_errors=True)
                staging.rename(target)
    return target / "python"


def failure_of(outcome: Invocation) -> str | None:
    return None if outcome.ok else outcome.describe_error()


InvokeFunction = Callable[[str, dict[str, Any]], Invocation]
