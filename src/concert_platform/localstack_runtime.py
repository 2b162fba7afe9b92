"""LocalStack on this machine without Docker: its own environment, started, watched and stopped.

LocalStack's community core (`localstack-core`) runs on the host from a virtual environment of its
own (it bundles a moto fork imported as `moto` and pins boto3, so it cannot share the tool's). The
environment is built from the committed, hash-pinned `localstack/requirements.txt` plus this
project's extension (`localstack-ext/`) and the project itself (the extension's services and Lambda
executor import `concert_platform`), both installed with `--no-deps`, into `build/localstack/venv`,
once: a stamp holds the content hash of the pins and of the extension with the project's source; a
change to the pins rebuilds it, a change to the other reinstalls only the two.

`start` runs `python -m localstack.runtime.main` on 127.0.0.1 in a process group of its own, with
its state, downloads and log under `build/localstack/`, waits for its health route and writes a
PID file; `stop` ends the group by that PID (SIGTERM, then SIGKILL after a grace). Any way a start
can fail (port taken, broken environment, wrong interpreter, no health in time, Ctrl-C) ends in
one `LocalStackError` line naming the cause and the log, and no process left behind.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from concert_platform.errors import ConcertPlatformError

LOCALSTACK_VERSION = "4.13.1"  # the pin in localstack/requirements.in; docs/localstack.md says why
PYTHON_VERSION = "3.11"  # the pins are resolved for it; 4.14.0 and later need 3.12+
PYTHON_OVERRIDE_VARIABLE = "CONCERT_LOCALSTACK_PYTHON"
DEFAULT_PORT = 4566
DEFAULT_START_TIMEOUT = 120.0
DEFAULT_STOP_GRACE = 15.0
HEALTH_PATH = "/_localstack/health"
READY_PATH = "/_localstack/init/ready"
RUNTIME_MODULE = "localstack.runtime.main"

# The LocalStack service behind each CloudFormation namespace the templates use; a unit test holds
# this table against templates/, so a new namespace cannot be deployed to a LocalStack without it.
SERVICE_BY_NAMESPACE = {
    "ApiGateway": "apigateway",
    "ApplicationAutoScaling": "application-autoscaling",
    "CloudTrail": "cloudtrail",
    "CloudWatch": "cloudwatch",
    "DynamoDB": "dynamodb",
    "EC2": "ec2",
    "Events": "events",
    "Glue": "glue",
    "IAM": "iam",
    "KMS": "kms",
    "Kinesis": "kinesis",
    "Lambda": "lambda",
    "Logs": "logs",
    "RedshiftServerless": "redshift-serverless",
    "S3": "s3",
    "SNS": "sns",
    "SQS": "sqs",
    "SecretsManager": "secretsmanager",
    "XRay": "xray",
}
# Called by the handlers and the harness beyond what the templates create.
RUNTIME_SERVICES = ("cloudformation", "sts", "redshift-data", "ssm")
SERVICES = ",".join(sorted({*SERVICE_BY_NAMESPACE.values(), *RUNTIME_SERVICES}))

# Settings handed through from the caller's environment to LocalStack: the extension's choices
# (its Lambda executor, service variants), logging, and what a machine needs to reach an index.
PASS_THROUGH_NAMES = (
    "LAMBDA_RUNTIME_EXECUTOR",
    "GATEWAY_SERVER",
    "DEBUG",
    "LS_LOG",
    "HOME",
    "LANG",
    "LC_ALL",
    "TZ",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "REQUESTS_CA_BUNDLE",
    "CURL_CA_BUNDLE",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "NO_PROXY",
    "http_proxy",
    "https_proxy",
    "no_proxy",
)
PASS_THROUGH_PREFIXES = ("PROVIDER_OVERRIDE_", "CONCERT_")


def extension_defaults(paths: LocalStackPaths) -> dict[str, str]:
    """What LocalStack is started with when the extension is installed, unless the caller's
    environment names another value (docs/localstack.md says why each)."""
    return {
        # its default gateway; 4.13.1's binds 0.0.0.0 whatever GATEWAY_LISTEN says, which the
        # extension's gateway hook fixes (hypercorn binds the host but drops S3 uploads sent
        # with `Expect: 100-continue`)
        "GATEWAY_SERVER": "twisted",
        # the extension's moto-backed variants: LocalStack's own download DynamoDB Local with a
        # Java 21 runtime, and kinesis-mock from npm (offline here)
        "PROVIDER_OVERRIDE_DYNAMODB": "concert",
        "PROVIDER_OVERRIDE_KINESIS": "concert",
        # the functions' code runs in the project's isolated worker, not in Docker
        "LAMBDA_RUNTIME_EXECUTOR": "concert",
        "CONCERT_LAMBDA_CACHE_DIR": str(paths.root / "build" / "layer-cache"),
    }


# What is not the extension's content: build output and caches pip and Python leave in a source tree.
_EXTENSION_IGNORED = ("build", "dist", "__pycache__", "*.egg-info", "*.pyc", ".pytest_cache")

Progress = Callable[[str], None]


class LocalStackError(ConcertPlatformError):
    """LocalStack could not be built, started or stopped; the message names the cause and the log."""

    exit_code = 2


@dataclass(frozen=True)
class LocalStackPaths:
    """Where everything LocalStack reads and writes lives, under the project's build/ folder."""

    root: Path

    @property
    def requirements(self) -> Path:
        return self.root / "localstack" / "requirements.txt"

    @property
    def extension(self) -> Path:
        return self.root / "localstack-ext"

    @property
    def base(self) -> Path:
        return self.root / "build" / "localstack"

    @property
    def venv(self) -> Path:
        return self.base / "venv"

    @property
    def venv_python(self) -> Path:
        return self.venv / "bin" / "python"

    @property
    def stamp(self) -> Path:
        return self.venv / ".concert-stamp"

    @property
    def build_log(self) -> Path:
        return self.base / "build.log"

    @property
    def log(self) -> Path:
        return self.base / "localstack.log"

    @property
    def pid_file(self) -> Path:
        return self.base / "localstack.pid"

    @property
    def filesystem(self) -> Path:
        """LocalStack's FILESYSTEM_ROOT: its /var/lib/localstack, /tmp/localstack and downloads."""
        return self.base / "filesystem"


@dataclass(frozen=True)
class Running:
    pid: int
    port: int
    log: Path

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- the interpreter ----------------------------------------------------------------------------


def _interpreter_version(candidate: str) -> tuple[str, str] | None:
    """(major.minor, real executable) of a Python, or None when it does not run."""
    try:
        result = subprocess.run(
            [candidate, "-c", "import sys; print('%d.%d' % sys.version_info[:2]); print(sys.executable)"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    lines = result.stdout.split()
    if result.returncode != 0 or len(lines) != 2:
        return None
    return lines[0], lines[1]


def _pyenv_candidates() -> Iterator[str]:
    pyenv_root = os.environ.get("PYENV_ROOT") or str(Path.home() / ".pyenv")
    versions = Path(pyenv_root) / "versions"
    if versions.is_dir():
        for folder in sorted(versions.glob(f"{PYTHON_VERSION}.*"), reverse=True):
            yield str(folder / "bin" / f"python{PYTHON_VERSION}")


def find_interpreter(environ: Mapping[str, str] | None = None) -> str:
    """The Python 3.11 LocalStack's environment is built with: $CONCERT_LOCALSTACK_PYTHON when set,
    else `python3.11` on PATH, else a pyenv 3.11.x."""
    environ = os.environ if environ is None else environ
    override = environ.get(PYTHON_OVERRIDE_VARIABLE)
    if override:
        found = _interpreter_version(override)
        if found is None:
            raise LocalStackError(
                f"{PYTHON_OVERRIDE_VARIABLE}={override} does not run as a Python interpreter"
            )
        if found[0] != PYTHON_VERSION:
            raise LocalStackError(
                f"{PYTHON_OVERRIDE_VARIABLE}={override} is Python {found[0]}; LocalStack {LOCALSTACK_VERSION}'s "
                f"pins (localstack/requirements.txt) are for Python {PYTHON_VERSION}: point it at a {PYTHON_VERSION}"
            )
        return found[1]
    on_path = shutil.which(f"python{PYTHON_VERSION}", path=environ.get("PATH"))
    for candidate in ([on_path] if on_path else []) + list(_pyenv_candidates()):
        found = _interpreter_version(candidate)
        if found is not None and found[0] == PYTHON_VERSION:
            return found[1]
    raise LocalStackError(
        f"no Python {PYTHON_VERSION} found (python{PYTHON_VERSION} on PATH, pyenv): LocalStack "
        f"{LOCALSTACK_VERSION}'s pins are for {PYTHON_VERSION}; install it or set {PYTHON_OVERRIDE_VARIABLE}"
    )


# --- the environment ----------------------------------------------------------------------------


def _extension_files(extension: Path) -> list[Path]:
    ignored = shutil.ignore_patterns(*_EXTENSION_IGNORED)
    found: list[Path] = []
    for folder, dirs, files in os.walk(extension):
        skip = ignored(folder, [*dirs, *files])
        dirs[:] = sorted(d for d in dirs if d not in skip)
        found.extend(Path(folder) / name for name in sorted(files) if name not in skip)
    return found


def _project_files(root: Path) -> list[Path]:
    """What of the project LocalStack's environment gets: its metadata and `src/` (no tests)."""
    if not (root / "pyproject.toml").is_file() or not (root / "src").is_dir():
        return []
    return [root / "pyproject.toml", *_extension_files(root / "src")]


def environment_digests(paths: LocalStackPaths, interpreter_version: str) -> dict[str, str]:
    """What the stamp holds: the hash of the pins with the interpreter (a change rebuilds the
    environment) and of every file of the extension and of the project's source (a change
    reinstalls only those two)."""
    pins = hashlib.sha256(f"python {interpreter_version}\n".encode() + paths.requirements.read_bytes())
    extension = "absent"
    if (paths.extension / "pyproject.toml").is_file():
        files = hashlib.sha256()
        for file in _extension_files(paths.extension):
            files.update(b"\0" + file.relative_to(paths.extension).as_posix().encode() + b"\0")
            files.update(file.read_bytes())
        for file in _project_files(paths.root):
            files.update(b"\0project/" + file.relative_to(paths.root).as_posix().encode() + b"\0")
            files.update(file.read_bytes())
        extension = files.hexdigest()
    return {"requirements": pins.hexdigest(), "extension": extension}


def _run_logged(command: list[str], log: Path, what: str) -> None:
    # pip's unpacked wheels and builds in a folder of ours: a /tmp cleaner running meanwhile on a
    # shared machine once removed a wheel mid-install (OSError: No such file or directory)
    scratch = log.parent / "build-tmp"
    scratch.mkdir(parents=True, exist_ok=True)
    with log.open("a") as out:
        out.write(f"$ {' '.join(command)}\n")
        out.flush()
        code = subprocess.run(
            command,
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "TMPDIR": str(scratch)},
            check=False,
        ).returncode
    shutil.rmtree(scratch, ignore_errors=True)
    if code != 0:
        raise LocalStackError(f"could not {what}: {_last_line(log)}; log: {log}")


def ensure_environment(
    paths: LocalStackPaths, progress: Progress = _stderr, interpreter: str | None = None
) -> Path:
    """LocalStack's environment, built once per content hash; returns its interpreter."""
    if not paths.requirements.is_file():
        raise LocalStackError(f"{paths.requirements} is missing: it pins LocalStack's environment")
    interpreter = interpreter or find_interpreter()
    found = _interpreter_version(interpreter)
    if found is None or found[0] != PYTHON_VERSION:
        raise LocalStackError(
            f"{interpreter} is not a Python {PYTHON_VERSION}; LocalStack's pins are for {PYTHON_VERSION}"
        )
    wanted = environment_digests(paths, found[0])
    paths.base.mkdir(parents=True, exist_ok=True)
    pip = [str(paths.venv_python), "-m", "pip", "install", "--disable-pip-version-check", "--no-input"]
    # one builder at a time (two terminals, parallel CI steps): a lock file of its own
    with open(paths.base / "venv.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        built = _stamp(paths) if paths.venv_python.exists() else {}
        if built == wanted:
            return paths.venv_python
        if built.get("requirements") == wanted["requirements"] and wanted["extension"] != "absent":
            progress(f"reinstalling the LocalStack extension from {paths.extension} (its content changed)")
            _install_extension(paths, [*pip, "--force-reinstall"], progress)
            _write_stamp(paths, wanted)
            return paths.venv_python
        started = time.monotonic()
        progress(
            f"building LocalStack {LOCALSTACK_VERSION}'s environment in {paths.venv} (once per pin change)"
        )
        shutil.rmtree(paths.venv, ignore_errors=True)
        paths.build_log.write_text("")
        _run_logged([interpreter, "-m", "venv", str(paths.venv)], paths.build_log, "create LocalStack's venv")
        _run_logged(
            [*pip, "--require-hashes", "--requirement", str(paths.requirements)],
            paths.build_log,
            f"install {paths.requirements}",
        )
        _install_extension(paths, pip, progress)
        _write_stamp(paths, wanted)
        progress(f"LocalStack's environment built in {time.monotonic() - started:.0f} s")
    return paths.venv_python


def _install_extension(paths: LocalStackPaths, pip: list[str], progress: Progress) -> None:
    if not (paths.extension / "pyproject.toml").is_file():
        progress(
            f"warning: {paths.extension} not found: LocalStack runs without this project's extension "
            "(no providers for the types community LocalStack lacks)"
        )
        return
    # built from a copy: pip's setuptools build leaves build/ and *.egg-info in the source tree
    source = paths.base / "extension-source"
    shutil.rmtree(source, ignore_errors=True)
    shutil.copytree(paths.extension, source, ignore=shutil.ignore_patterns(*_EXTENSION_IGNORED))
    _run_logged(
        [*pip, "--no-deps", "--no-build-isolation", str(source)],
        paths.build_log,
        f"install the LocalStack extension {paths.extension}",
    )
    if not _project_files(paths.root):
        return
    # the project itself, without its dependencies (LocalStack's pins stay): the extension's
    # Redshift Serverless and Data API, Logs query definitions and Lambda executor import it
    project = paths.base / "project-source"
    shutil.rmtree(project, ignore_errors=True)
    project.mkdir(parents=True)
    for name in ("pyproject.toml", "README.md"):
        if (paths.root / name).is_file():
            shutil.copy2(paths.root / name, project / name)
    shutil.copytree(paths.root / "src", project / "src", ignore=shutil.ignore_patterns(*_EXTENSION_IGNORED))
    _run_logged(
        [*pip, "--no-deps", "--no-build-isolation", str(project)],
        paths.build_log,
        f"install this project ({paths.root}) into LocalStack's environment",
    )


def _stamp(paths: LocalStackPaths) -> dict[str, str]:
    try:
        return dict(line.split(" ", 1) for line in paths.stamp.read_text().splitlines() if " " in line)
    except OSError:
        return {}


def _write_stamp(paths: LocalStackPaths, digests: dict[str, str]) -> None:
    paths.stamp.write_text("".join(f"{name} {value}\n" for name, value in sorted(digests.items())))


# --- starting and stopping ----------------------------------------------------------------------


def localstack_environment(
    paths: LocalStackPaths, port: int, environ: Mapping[str, str] | None = None
) -> dict[str, str]:
    """LocalStack's process environment: only what is named here, so a stray AWS_* or a
    ~/.localstack profile of the caller's cannot change what runs."""
    environ = os.environ if environ is None else environ
    env = extension_defaults(paths) if (paths.extension / "pyproject.toml").is_file() else {}
    env.update({name: environ[name] for name in PASS_THROUGH_NAMES if name in environ})
    env.update({k: v for k, v in environ.items() if k.startswith(PASS_THROUGH_PREFIXES)})
    filesystem = paths.filesystem
    env.update(
        {
            "PATH": f"{paths.venv / 'bin'}{os.pathsep}{environ.get('PATH', os.defpath)}",
            "GATEWAY_LISTEN": f"127.0.0.1:{port}",
            "LOCALSTACK_HOST": f"127.0.0.1:{port}",
            # A machine that is itself a container (/.dockerenv) makes LocalStack take it for its own
            # image: it would use /var/lib/localstack and listen on 0.0.0.0. It runs on the host here.
            "OVERRIDE_IN_DOCKER": "0",
            "FILESYSTEM_ROOT": str(filesystem),
            # its temporary files and the Lambda code it unpacks (gettempdir()); it warns that
            # TMPDIR is a deprecated setting of its own, which is harmless
            "TMPDIR": str(paths.base / "tmp"),
            "CONFIG_DIR": str(paths.base / "config"),  # not ~/.localstack: no profile of the caller's
            "SERVICES": SERVICES,
            "PERSISTENCE": "0",
            "DNS_ADDRESS": "0",  # no DNS server: it would bind port 53 and resolve upstream (offline)
            "SKIP_SSL_CERT_DOWNLOAD": "1",
            "DISABLE_EVENTS": "1",  # no analytics calls home
            "SQS_ENDPOINT_STRATEGY": "path",  # queue URLs on 127.0.0.1, not *.localhost.localstack.cloud
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _check_port(port: int) -> None:
    if not 1 <= port <= 65535:
        raise LocalStackError(f"--port {port} is not a port number (1-65535)")


def health(port: int, timeout: float = 2.0) -> dict[str, Any] | None:
    """LocalStack's health document when it answers and its ready stage has run, else None."""
    document = _get_json(f"http://127.0.0.1:{port}{HEALTH_PATH}", timeout)
    if not isinstance(document, dict) or "services" not in document:
        return None  # not LocalStack (engine serve answers this route too, without services)
    ready = _get_json(f"http://127.0.0.1:{port}{READY_PATH}", timeout)
    if isinstance(ready, dict) and not ready.get("completed"):
        return None
    return document


def _get_json(url: str, timeout: float) -> Any:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 (loopback URL built here)
            return json.loads(response.read() or b"null")
    except (urllib.error.URLError, OSError, ValueError):
        return None


def start(
    paths: LocalStackPaths,
    port: int = DEFAULT_PORT,
    timeout: float = DEFAULT_START_TIMEOUT,
    progress: Progress = _stderr,
    interpreter: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> Running:
    """Start LocalStack and wait until it is healthy; on any failure nothing is left running."""
    _check_port(port)
    current = read_pid_file(paths)
    if current is not None and _identified(paths, current):
        if current.port == port and health(port) is not None:
            progress(f"LocalStack already running (pid {current.pid}) on {current.endpoint}")
            return current
        raise LocalStackError(
            f"LocalStack is already running (pid {current.pid}, port {current.port}): "
            "`concert-platform localstack stop` first"
        )
    paths.pid_file.unlink(missing_ok=True)  # stale: its process is gone
    if not port_is_free(port):
        raise LocalStackError(
            f"port {port} on 127.0.0.1 is taken by another process: stop it or pass --port "
            f"(nothing started; log: {paths.log})"
        )
    python = ensure_environment(paths, progress, interpreter)
    paths.base.joinpath("tmp").mkdir(parents=True, exist_ok=True)
    env = localstack_environment(paths, port, environ)
    started = time.monotonic()
    with paths.log.open("wb") as log:
        process = subprocess.Popen(
            [str(python), "-m", RUNTIME_MODULE],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=paths.base,
            start_new_session=True,  # its own process group: Ctrl-C here, or stop, ends all of it
        )
    running = Running(pid=process.pid, port=port, log=paths.log)
    try:
        _write_pid_file(paths, running)
        _wait_healthy(process, running, timeout, progress, started)
    except BaseException:  # a failed start, a timeout, Ctrl-C: the whole group goes
        _end_group(process.pid, DEFAULT_STOP_GRACE, child=process)
        paths.pid_file.unlink(missing_ok=True)
        raise
    progress(
        f"LocalStack {LOCALSTACK_VERSION} healthy on {running.endpoint} after {time.monotonic() - started:.1f} s"
    )
    return running


def _wait_healthy(
    process: subprocess.Popen[bytes], running: Running, timeout: float, progress: Progress, started: float
) -> None:
    next_note = started + 5.0
    while True:
        code = process.poll()
        if code is not None:
            raise LocalStackError(
                f"LocalStack exited while starting (exit code {code}): {_last_line(running.log)}; "
                f"log: {running.log}"
            )
        if health(running.port, timeout=1.0) is not None:
            return
        now = time.monotonic()
        if now - started >= timeout:
            raise LocalStackError(
                f"LocalStack did not answer {running.endpoint}{HEALTH_PATH} within {timeout:.0f} s "
                f"(stopped it); log: {running.log}"
            )
        if now >= next_note:
            progress(f"waiting for LocalStack on {running.endpoint} ({now - started:.0f} s)")
            next_note = now + 5.0
        time.sleep(0.5)


def stop(paths: LocalStackPaths, grace: float = DEFAULT_STOP_GRACE, progress: Progress = _stderr) -> bool:
    """Stop the LocalStack the PID file names; False when none was running."""
    current = read_pid_file(paths)
    if current is None:
        progress("LocalStack is not running (no PID file)")
        return False
    if not _identified(paths, current):
        paths.pid_file.unlink(missing_ok=True)
        progress(f"LocalStack is not running (pid {current.pid} is gone; removed the stale PID file)")
        return False
    how = _end_group(current.pid, grace)
    paths.pid_file.unlink(missing_ok=True)
    progress(f"LocalStack stopped (pid {current.pid}, {how})")
    return True


def status(paths: LocalStackPaths) -> dict[str, Any]:
    current = read_pid_file(paths)
    if current is None or not _identified(paths, current):
        return {"running": False, "healthy": False, "log": str(paths.log)}
    document = health(current.port)
    return {
        "running": True,
        "healthy": document is not None,
        "pid": current.pid,
        "endpoint": current.endpoint,
        "version": (document or {}).get("version"),
        "log": str(current.log),
    }


# --- processes ----------------------------------------------------------------------------------


def _write_pid_file(paths: LocalStackPaths, running: Running) -> None:
    partial = paths.pid_file.with_suffix(".partial")
    partial.write_text(json.dumps({"pid": running.pid, "port": running.port, "log": str(running.log)}) + "\n")
    partial.replace(paths.pid_file)


def read_pid_file(paths: LocalStackPaths) -> Running | None:
    try:
        data = json.loads(paths.pid_file.read_text())
        return Running(pid=int(data["pid"]), port=int(data["port"]), log=Path(data["log"]))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError):
        raise LocalStackError(
            f"{paths.pid_file} is not a PID file this tool wrote: remove it, and stop any LocalStack by hand"
        ) from None


class Unidentified(Exception):
    """A live PID whose command line cannot be read (no /proc, `ps` missing or failing)."""


def _is_localstack(pid: int, proc: Path = Path("/proc")) -> bool:
    """The PID is alive and still LocalStack's runtime (not a PID reused by something else).
    Raises `Unidentified` for a live process that cannot be identified: never taken for gone."""
    command = _command_line(pid, proc)
    return command is not None and RUNTIME_MODULE in command


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _command_line(pid: int, proc: Path = Path("/proc")) -> str | None:
    """What a live (not zombie) process runs, or None when it is gone. Linux reads /proc; elsewhere
    (macOS, the BSDs) POSIX `ps` answers; with neither, a live PID raises `Unidentified`: it is
    never signalled (it may have been reused by another program), and never called gone."""
    if proc.joinpath("self").exists():
        try:
            command = proc.joinpath(str(pid), "cmdline").read_bytes().decode(errors="replace")
        except OSError:
            return None
        return None if _is_zombie(pid, proc) else command
    if not _alive(pid):
        return None
    try:
        answer = subprocess.run(
            ["ps", "-ww", "-p", str(pid), "-o", "stat=", "-o", "command="],  # -ww: never cut to a width
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        raise Unidentified(pid) from None
    line = answer.stdout.strip()
    if answer.returncode != 0 or not line:
        if _alive(pid):
            raise Unidentified(pid)
        return None
    if line.startswith("Z"):
        return None
    return line.partition(" ")[2].lstrip()


def _identified(paths: LocalStackPaths, current: Running) -> bool:
    """Whether the PID file's process is LocalStack; a LocalStackError (PID file kept) when it is
    alive but cannot be identified."""
    try:
        return _is_localstack(current.pid)
    except Unidentified:
        raise LocalStackError(
            f"pid {current.pid} from {paths.pid_file} is alive but cannot be identified here (no /proc, "
            "and `ps` did not answer): if it is LocalStack, stop it by hand; then remove the PID file"
        ) from None


def _is_zombie(pid: int, proc: Path = Path("/proc")) -> bool:
    try:
        stat = proc.joinpath(str(pid), "stat").read_text()
    except OSError:
        return True
    return stat.rpartition(")")[2].split()[0] == "Z"


def group_members(pgid: int) -> list[int]:
    """Live (not zombie) processes in a process group."""
    proc = Path("/proc")
    if not proc.joinpath("self").exists():
        try:
            os.killpg(pgid, 0)
        except (ProcessLookupError, PermissionError):
            return []
        return [pgid]
    members = []
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = entry.joinpath("stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        if len(fields) > 2 and fields[0] != "Z" and int(fields[2]) == pgid:
            members.append(int(entry.name))
    return members


def _end_group(pgid: int, grace: float, child: subprocess.Popen[bytes] | None = None) -> str:
    """SIGTERM the group, SIGKILL what is left after `grace` seconds; reap our own child."""
    how = "SIGTERM"
    _signal_group(pgid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while group_members(pgid) and time.monotonic() < deadline:
        _reap(pgid, child)
        time.sleep(0.2)
    if group_members(pgid):
        how = f"SIGKILL after {grace:.0f} s"
        _signal_group(pgid, signal.SIGKILL)
        deadline = time.monotonic() + 5.0
        while group_members(pgid) and time.monotonic() < deadline:
            time.sleep(0.1)
    _reap(pgid, child)
    if group_members(pgid):
        raise LocalStackError(f"LocalStack's process group {pgid} survived SIGKILL: {group_members(pgid)}")
    return how


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, sig)


def _reap(pid: int, child: subprocess.Popen[bytes] | None) -> None:
    if child is not None:
        child.poll()
        return
    with contextlib.suppress(ChildProcessError):  # not ours: its parent (or init) reaps it
        os.waitpid(pid, os.WNOHANG)


def _last_line(log: Path) -> str:
    """The last non-empty line of a log (a traceback ends with its exception), shortened."""
    try:
        with log.open("rb") as handle:
            handle.seek(0, os.SEEK_END)
            handle.seek(max(0, handle.tell() - 16384))
            tail = handle.read().decode(errors="replace")
    except OSError:
        return "no log written"
    lines = [line.strip() for line in tail.splitlines() if line.strip()]
    if not lines:
        return "the log is empty"
    line = lines[-1]
    return line if len(line) <= 240 else line[:237] + "..."


# --- the command line ---------------------------------------------------------------------------


def add_arguments(parser: Any) -> None:
    """`concert-platform localstack start|stop|status`."""
    actions = parser.add_subparsers(dest="localstack_command", required=True, metavar="ACTION")
    start_parser = actions.add_parser(
        "start",
        help="build LocalStack's environment (once), start it on 127.0.0.1 and wait for its health",
        description=f"LocalStack {LOCALSTACK_VERSION} without Docker, from localstack/requirements.txt and "
        "localstack-ext/ (built once into build/localstack/venv). State and log under build/localstack/. "
        "Passes LAMBDA_RUNTIME_EXECUTOR, PROVIDER_OVERRIDE_* and CONCERT_* through; "
        f"{PYTHON_OVERRIDE_VARIABLE} names the Python {PYTHON_VERSION} to build with.",
    )
    start_parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"default: {DEFAULT_PORT}")
    start_parser.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_START_TIMEOUT,
        help=f"seconds to wait for health (default: {DEFAULT_START_TIMEOUT:.0f})",
    )
    stop_parser = actions.add_parser("stop", help="stop the LocalStack `start` started (by its PID file)")
    stop_parser.add_argument(
        "--grace", type=float, default=DEFAULT_STOP_GRACE, help="seconds between SIGTERM and SIGKILL"
    )
    status_parser = actions.add_parser("status", help="say whether LocalStack runs and answers")
    status_parser.add_argument("--json", action="store_true")
    parser.set_defaults(handler=run)


def run(args: Any) -> int:
    from concert_platform.manifest import project_root

    paths = LocalStackPaths(project_root())
    if args.localstack_command == "start":
        try:
            running = start(paths, port=args.port, timeout=args.timeout)
        except KeyboardInterrupt:  # start() has already ended LocalStack's process group
            _stderr(f"interrupted: LocalStack stopped, nothing left running; log: {paths.log}")
            return 130
        print(running.endpoint, flush=True)  # stdout: the endpoint, for scripts
        return 0
    if args.localstack_command == "stop":
        stop(paths, grace=args.grace)
        return 0
    report = status(paths)
    if args.json:
        print(json.dumps(report, indent=2))
    elif report["running"]:
        answer = (
            f"healthy, LocalStack {report['version']}"
            if report["healthy"]
            else "not answering its health route"
        )
        print(f"running: pid {report['pid']} on {report['endpoint']}, {answer}; log: {report['log']}")
    else:
        print(f"not running; last log: {report['log']}")
    return 0 if report["healthy"] else 1
