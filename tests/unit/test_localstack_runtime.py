"""`concert-platform localstack start|stop|status`: LocalStack built, started, watched and stopped.

Most tests run a fake LocalStack (a small Python script standing in for the venv's interpreter):
starting the real one takes about 20 s and its environment minutes to build. The one test marked
`localstack_real` starts the real thing (CONCERT_LOCALSTACK_REAL=1; `make localstack` runs it).
Every failing start must end in one LocalStackError line naming the cause and the log, exit 2,
and no process left in LocalStack's group."""

from __future__ import annotations

import contextlib
import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from concert_platform import localstack_runtime as lr
from concert_platform.cli import main

ROOT = Path(__file__).resolve().parents[2]

# Stands in for `python -m localstack.runtime.main`; CONCERT_FAKE_MODE (passed through as CONCERT_*)
# says how it behaves. "healthy" serves the two routes start() waits for on GATEWAY_LISTEN.
FAKE_RUNTIME = r"""
import http.server, json, os, signal, subprocess, sys, time
mode = os.environ["CONCERT_FAKE_MODE"]
with open(os.environ["CONCERT_FAKE_RECORD"], "w") as record:
    json.dump({"argv": sys.argv, "env": dict(os.environ)}, record)
if mode == "crash":
    print("Traceback (most recent call last):")
    print("ModuleNotFoundError: No module named 'hypercorn'", flush=True)
    sys.exit(1)
if mode in ("stubborn", "stubborn-healthy"):  # a grandchild in the group that ignores SIGTERM
    subprocess.Popen([sys.executable, "-c",
        "import signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\ntime.sleep(600)"])
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
if mode in ("silent", "stubborn"):
    time.sleep(600)
host, port = os.environ["GATEWAY_LISTEN"].split(":")
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = {"/_localstack/health": {"services": {"s3": "available"}, "version": "fake"},
                "/_localstack/init/ready": {"completed": True, "scripts": []}}.get(self.path)
        self.send_response(200 if body else 404)
        self.end_headers()
        self.wfile.write(json.dumps(body).encode())
    def log_message(self, *args):
        pass
print("Ready.", flush=True)
http.server.HTTPServer((host, int(port)), Handler).serve_forever()
"""


REPOSITORY = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def fake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[lr.LocalStackPaths]:
    """A project whose LocalStack environment is already built (stamp current) with a fake runtime."""
    root = tmp_path / "project"
    (root / "localstack").mkdir(parents=True)
    (root / "localstack" / "requirements.txt").write_text("localstack-core==4.13.1 --hash=sha256:00\n")
    # CONCERT_PLATFORM_HOME must name a platform: the real manifest and templates, linked
    for name in ("stacks.yaml", "templates"):
        (root / name).symlink_to(REPOSITORY / name)
    paths = lr.LocalStackPaths(root)
    script = tmp_path / "fake_runtime.py"
    script.write_text(FAKE_RUNTIME)
    paths.venv_python.parent.mkdir(parents=True)
    paths.venv_python.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{script}" "$@"\n')
    paths.venv_python.chmod(0o755)
    lr._write_stamp(paths, lr.environment_digests(paths, lr.PYTHON_VERSION))
    monkeypatch.setenv(lr.PYTHON_OVERRIDE_VARIABLE, sys.executable)
    monkeypatch.setenv("CONCERT_FAKE_MODE", "healthy")
    monkeypatch.setenv("CONCERT_FAKE_RECORD", str(tmp_path / "record.json"))
    monkeypatch.setenv("CONCERT_PLATFORM_HOME", str(root))
    yield paths
    with contextlib.suppress(lr.LocalStackError):  # a test's own garbage PID file
        lr.stop(paths, grace=1, progress=quiet)  # a test that failed half-way leaves nothing running


def record(tmp_path: Path) -> dict[str, object]:
    return dict(json.loads((tmp_path / "record.json").read_text()))


def quiet(message: str) -> None:
    del message


def left_behind(pid: int) -> list[int]:
    time.sleep(0.2)
    return lr.group_members(pid)


# --- start and stop -----------------------------------------------------------------------------


def test_start_waits_for_health_writes_the_pid_file_and_stop_ends_the_group(
    fake: lr.LocalStackPaths, tmp_path: Path
) -> None:
    port = free_port()
    notes: list[str] = []
    running = lr.start(fake, port=port, timeout=30, progress=notes.append)

    assert running.endpoint == f"http://127.0.0.1:{port}"
    assert lr.read_pid_file(fake) == running
    assert lr.health(port) is not None
    assert lr.status(fake) | {"log": ""} == {
        "running": True,
        "healthy": True,
        "pid": running.pid,
        "endpoint": running.endpoint,
        "version": "fake",
        "log": "",
    }
    assert any("healthy on" in note for note in notes)
    assert record(tmp_path)["argv"][1:] == ["-m", lr.RUNTIME_MODULE]
    assert os.getpgid(running.pid) == running.pid  # a process group of its own

    assert lr.stop(fake, grace=5, progress=notes.append) is True
    assert left_behind(running.pid) == []
    assert not fake.pid_file.exists()
    assert lr.status(fake)["running"] is False
    assert lr.stop(fake, progress=notes.append) is False
    assert notes[-1] == "LocalStack is not running (no PID file)"


def test_stop_kills_what_ignores_sigterm_after_the_grace(
    fake: lr.LocalStackPaths, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONCERT_FAKE_MODE", "stubborn-healthy")
    running = lr.start(fake, port=free_port(), timeout=30, progress=quiet)
    time.sleep(0.3)
    assert len(lr.group_members(running.pid)) == 2  # the runtime and the grandchild it started
    notes: list[str] = []
    lr.stop(fake, grace=1, progress=notes.append)
    assert left_behind(running.pid) == []
    assert "SIGKILL after 1 s" in notes[-1]


def test_a_second_start_on_the_same_port_reuses_the_running_one(fake: lr.LocalStackPaths) -> None:
    port = free_port()
    first = lr.start(fake, port=port, timeout=30, progress=quiet)
    notes: list[str] = []
    assert lr.start(fake, port=port, timeout=30, progress=notes.append) == first
    assert "already running" in notes[0]
    with pytest.raises(lr.LocalStackError, match=r"already running .*localstack stop"):
        lr.start(fake, port=free_port(), timeout=30, progress=quiet)
    lr.stop(fake, progress=quiet)


def test_a_stale_pid_file_is_removed_and_a_foreign_one_refused(fake: lr.LocalStackPaths) -> None:
    fake.pid_file.write_text(json.dumps({"pid": os.getpid(), "port": 1, "log": "x"}))  # not LocalStack
    notes: list[str] = []
    assert lr.stop(fake, progress=notes.append) is False
    assert "stale" in notes[0] and not fake.pid_file.exists()
    fake.pid_file.write_text("garbage")
    with pytest.raises(lr.LocalStackError, match="not a PID file this tool wrote"):
        lr.stop(fake, progress=quiet)


def test_a_pid_is_identified_by_what_it_runs_with_or_without_proc(tmp_path: Path) -> None:
    """Without /proc (macOS) the PID file's process is identified through `ps`: a reused PID
    running something else is never taken for LocalStack, and a gone one is gone."""
    no_proc = tmp_path / "no-proc"
    runtime = subprocess.Popen(  # stands in for LocalStack: its command line names the runtime module
        [sys.executable, "-c", "import time; time.sleep(60)", lr.RUNTIME_MODULE]
    )
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    deadline = time.monotonic() + 10  # until both children have exec'd their own command line
    while time.monotonic() < deadline and not all(
        "time.sleep" in (lr._command_line(child.pid) or "") for child in (runtime, other)
    ):
        time.sleep(0.05)
    try:
        for proc in (Path("/proc"), no_proc):
            assert lr._is_localstack(runtime.pid, proc), proc
            assert not lr._is_localstack(other.pid, proc), proc
    finally:
        for child in (runtime, other):
            child.kill()
            child.wait()
    for proc in (Path("/proc"), no_proc):
        assert not lr._is_localstack(runtime.pid, proc), proc


def test_a_live_pid_that_cannot_be_identified_is_neither_signalled_nor_called_gone(
    fake: lr.LocalStackPaths, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without /proc and without a working `ps`, stop keeps the PID file and says what to do."""
    fake.pid_file.write_text(json.dumps({"pid": os.getpid(), "port": 1, "log": "x"}))  # alive
    monkeypatch.setattr(
        lr, "_command_line", lambda pid, proc=None: (_ for _ in ()).throw(lr.Unidentified(pid))
    )
    with pytest.raises(lr.LocalStackError, match=r"alive but cannot be identified.*stop it by hand"):
        lr.stop(fake, progress=quiet)
    assert fake.pid_file.exists()
    with pytest.raises(lr.LocalStackError, match="cannot be identified"):
        lr.start(fake, port=free_port(), timeout=5, progress=quiet)
    assert fake.pid_file.exists()


# --- bad input: one line, the log, exit 2, nothing left running -----------------------------------


def test_port_taken(fake: lr.LocalStackPaths) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        with pytest.raises(lr.LocalStackError) as caught:
            lr.start(fake, port=port, timeout=30, progress=quiet)
    assert f"port {port} on 127.0.0.1 is taken" in str(caught.value)
    assert str(fake.log) in str(caught.value)
    assert not fake.pid_file.exists()


def test_broken_environment_names_the_import_error_and_the_log(
    fake: lr.LocalStackPaths, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONCERT_FAKE_MODE", "crash")
    with pytest.raises(lr.LocalStackError) as caught:
        lr.start(fake, port=free_port(), timeout=30, progress=quiet)
    message = str(caught.value)
    assert "LocalStack exited while starting (exit code 1)" in message
    assert "ModuleNotFoundError: No module named 'hypercorn'" in message
    assert message.endswith(f"log: {fake.log}")
    assert "\n" not in message
    assert not fake.pid_file.exists()


def test_health_timeout_stops_the_whole_group(
    fake: lr.LocalStackPaths, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONCERT_FAKE_MODE", "stubborn")  # never answers, and ignores SIGTERM
    started: list[int] = []
    real_popen = lr.subprocess.Popen

    def recording_popen(*args: object, **kwargs: object) -> object:
        process = real_popen(*args, **kwargs)  # type: ignore[call-overload]
        started.append(process.pid)
        return process

    monkeypatch.setattr(lr.subprocess, "Popen", recording_popen)
    monkeypatch.setattr(lr, "DEFAULT_STOP_GRACE", 1.0)
    port = free_port()
    with pytest.raises(lr.LocalStackError) as caught:
        lr.start(fake, port=port, timeout=2, progress=quiet)
    assert f"did not answer http://127.0.0.1:{port}/_localstack/health within 2 s" in str(caught.value)
    assert str(fake.log) in str(caught.value)
    assert left_behind(started[0]) == []
    assert not fake.pid_file.exists()


def test_ctrl_c_while_waiting_stops_localstack(
    fake: lr.LocalStackPaths, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONCERT_FAKE_MODE", "silent")
    started = Path(os.environ["CONCERT_FAKE_RECORD"])
    pressed: list[bool] = []
    real_sleep = time.sleep

    def interrupted_sleep(seconds: float) -> None:
        if started.exists() and not pressed:  # LocalStack runs, start() waits: the user presses Ctrl-C
            pressed.append(True)
            raise KeyboardInterrupt
        real_sleep(seconds)

    monkeypatch.setattr(lr.time, "sleep", interrupted_sleep)
    with pytest.raises(KeyboardInterrupt):
        lr.start(fake, port=free_port(), timeout=60, progress=quiet)
    monkeypatch.setattr(lr.time, "sleep", real_sleep)
    assert pressed == [True]
    assert not fake.pid_file.exists()
    assert _processes_running(str(fake.root.parent / "fake_runtime.py")) == []


def _processes_running(marker: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and entry.name != str(os.getpid()):
            try:
                command = entry.joinpath("cmdline").read_bytes().decode(errors="replace")
                if marker in command and not lr._is_zombie(int(entry.name)):
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def test_unsupported_interpreter_is_named(tmp_path: Path) -> None:
    other = tmp_path / "python3.12"
    other.write_text("#!/bin/sh\nprintf '3.12\\n/opt/python3.12\\n'\n")
    other.chmod(0o755)
    with pytest.raises(lr.LocalStackError, match=r"python3\.12 is Python 3\.12; .* are for Python 3\.11"):
        lr.find_interpreter({lr.PYTHON_OVERRIDE_VARIABLE: str(other)})
    with pytest.raises(lr.LocalStackError, match="does not run as a Python interpreter"):
        lr.find_interpreter({lr.PYTHON_OVERRIDE_VARIABLE: str(tmp_path / "absent")})


def test_no_python_311_anywhere_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path / "no-pyenv"))
    with pytest.raises(lr.LocalStackError, match=r"no Python 3\.11 found .*CONCERT_LOCALSTACK_PYTHON"):
        lr.find_interpreter({"PATH": str(tmp_path)})


def test_the_cli_says_one_line_and_exits_2(
    fake: lr.LocalStackPaths, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONCERT_FAKE_MODE", "crash")
    code = main(["localstack", "start", "--port", str(free_port()), "--timeout", "30"])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert err.startswith("error: LocalStack exited while starting")
    assert str(fake.log) in err.replace("\n", "")
    assert "Traceback" not in err
    assert main(["localstack", "status"]) == 1
    assert "not running" in capsys.readouterr().out


def test_the_cli_starts_reports_and_stops(
    fake: lr.LocalStackPaths, capsys: pytest.CaptureFixture[str]
) -> None:
    port = free_port()
    assert main(["localstack", "start", "--port", str(port)]) == 0
    assert capsys.readouterr().out.strip() == f"http://127.0.0.1:{port}"
    assert main(["localstack", "status", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["healthy"] is True
    assert main(["localstack", "stop"]) == 0
    assert "LocalStack stopped" in capsys.readouterr().err
    assert main(["localstack", "start", "--port", "70000"]) == 2


# --- what LocalStack is started with ------------------------------------------------------------


def test_localstack_environment_keeps_state_under_build_and_passes_the_extension_settings(
    tmp_path: Path,
) -> None:
    paths = lr.LocalStackPaths(tmp_path)
    env = lr.localstack_environment(
        paths,
        4599,
        {
            "PATH": "/usr/bin",
            "LAMBDA_RUNTIME_EXECUTOR": "concert",
            "PROVIDER_OVERRIDE_GLUE": "concert",
            "AWS_ENDPOINT_URL": "http://elsewhere",
            "SERVICES": "s3",
            "AWS_SECRET_ACCESS_KEY": "never",
        },
    )
    assert env["GATEWAY_LISTEN"] == "127.0.0.1:4599"
    assert env["OVERRIDE_IN_DOCKER"] == "0"
    assert env["FILESYSTEM_ROOT"] == str(tmp_path / "build" / "localstack" / "filesystem")
    assert env["TMPDIR"] == str(tmp_path / "build" / "localstack" / "tmp")
    assert env["CONFIG_DIR"].startswith(str(tmp_path / "build" / "localstack"))
    assert env["DNS_ADDRESS"] == "0"
    assert env["LAMBDA_RUNTIME_EXECUTOR"] == "concert"
    assert env["PROVIDER_OVERRIDE_GLUE"] == "concert"
    assert env["SERVICES"] == lr.SERVICES
    assert "AWS_ENDPOINT_URL" not in env and "AWS_SECRET_ACCESS_KEY" not in env
    assert env["PATH"].startswith(str(paths.venv / "bin"))
    assert "LAMBDA_RUNTIME_EXECUTOR" not in lr.localstack_environment(paths, 4599, {"PATH": "/usr/bin"})


def test_every_template_namespace_has_a_localstack_service() -> None:
    namespaces = set()
    for template in (ROOT / "templates").glob("*.y*ml"):
        for line in template.read_text().splitlines():
            match = re.match(r"\s*Type:\s*AWS::(\w+)::", line)
            if match:
                namespaces.add(match.group(1))
    assert namespaces, "no resource types found in templates/"
    missing = namespaces - set(lr.SERVICE_BY_NAMESPACE)
    assert not missing, f"SERVICES lacks the LocalStack service for {sorted(missing)}"


# --- the environment: built once per content hash -----------------------------------------------


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[lr.LocalStackPaths, list[list[str]]]:
    """A project with requirements and an extension; the build's commands recorded, not run."""
    root = tmp_path / "project"
    (root / "localstack").mkdir(parents=True)
    (root / "localstack" / "requirements.txt").write_text("localstack-core==4.13.1 --hash=sha256:00\n")
    (root / "localstack-ext" / "concert_localstack_ext").mkdir(parents=True)
    (root / "localstack-ext" / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    (root / "localstack-ext" / "concert_localstack_ext" / "__init__.py").write_text("")
    paths = lr.LocalStackPaths(root)
    commands: list[list[str]] = []

    def run_logged(command: list[str], log: Path, what: str) -> None:
        commands.append(command)
        if command[1:3] == ["-m", "venv"]:
            paths.venv_python.parent.mkdir(parents=True, exist_ok=True)
            paths.venv_python.write_text("")

    monkeypatch.setattr(lr, "_run_logged", run_logged)
    return paths, commands


def test_the_environment_is_built_once_and_rebuilt_when_pins_or_extension_change(
    project: tuple[lr.LocalStackPaths, list[list[str]]],
) -> None:
    paths, commands = project
    build = lambda: lr.ensure_environment(paths, quiet, sys.executable)  # noqa: E731

    assert build() == paths.venv_python
    assert [c[1:3] if c[1:3] == ["-m", "venv"] else c[3:] for c in commands] == [
        ["-m", "venv"],
        [
            "install",
            "--disable-pip-version-check",
            "--no-input",
            "--require-hashes",
            "--requirement",
            str(paths.requirements),
        ],
        [
            "install",
            "--disable-pip-version-check",
            "--no-input",
            "--no-deps",
            "--no-build-isolation",
            str(paths.base / "extension-source"),
        ],
    ]
    commands.clear()
    build()
    assert commands == []  # cached

    # what pip's build leaves in the extension's tree is not its content
    (paths.extension / "build" / "lib").mkdir(parents=True)
    (paths.extension / "x.egg-info").mkdir()
    (paths.extension / "x.egg-info" / "PKG-INFO").write_text("changed")
    build()
    assert commands == []

    # the extension changed: only it is installed again
    (paths.extension / "concert_localstack_ext" / "__init__.py").write_text("VERSION = 2\n")
    build()
    assert len(commands) == 1 and "--force-reinstall" in commands[0] and "--no-deps" in commands[0]
    commands.clear()
    build()
    assert commands == []

    # the pins changed: a new environment
    paths.requirements.write_text(paths.requirements.read_text() + "duckdb==2.0.1 --hash=sha256:01\n")
    build()
    assert len(commands) == 3 and commands[0][1:3] == ["-m", "venv"]
    commands.clear()

    # the extension removed: a new environment without it (pip cannot forget what it installed)
    (paths.extension / "pyproject.toml").unlink()
    build()
    assert len(commands) == 2 and commands[0][1:3] == ["-m", "venv"]


def test_without_the_extension_it_builds_with_a_warning(
    project: tuple[lr.LocalStackPaths, list[list[str]]],
) -> None:
    paths, commands = project
    (paths.extension / "pyproject.toml").unlink()
    notes: list[str] = []
    lr.ensure_environment(paths, notes.append, sys.executable)
    assert len(commands) == 2
    assert any(note.startswith("warning:") and "localstack-ext" in note for note in notes)


def test_a_failed_build_leaves_no_stamp_and_names_the_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "localstack").mkdir()
    (tmp_path / "localstack" / "requirements.txt").write_text("no-such-package-xyz==1 --hash=sha256:00\n")
    paths = lr.LocalStackPaths(tmp_path)
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)  # no machine-wide index or find-links
    monkeypatch.setenv("PIP_NO_INDEX", "1")  # fails fast, without a package index
    monkeypatch.delenv("PIP_FIND_LINKS", raising=False)
    with pytest.raises(lr.LocalStackError) as caught:
        lr.ensure_environment(paths, quiet, sys.executable)
    assert f"could not install {paths.requirements}" in str(caught.value)
    assert str(paths.build_log) in str(caught.value)
    assert not paths.stamp.exists()


def test_the_requirements_file_is_hash_pinned_and_holds_the_measured_pins() -> None:
    text = (ROOT / "localstack" / "requirements.txt").read_text()
    pins = {}
    for entry in re.split(r"\n(?=[A-Za-z])", text):
        head = entry.split()[0]
        if "==" in head:
            assert "--hash=sha256:" in entry, f"{head} has no hash"
            name, version = head.split("==")
            pins[name] = version
    for name, version in {
        "localstack-core": lr.LOCALSTACK_VERSION,
        "cbor2": "5.6.5",
        "cryptography": "43.0.3",
        "pyopenssl": "24.2.1",
        "service-identity": "24.1.0",
        "joserfc": "1.0.4",
        "duckdb": "2.0.1",
        "sqlglot": "30.30.0",
    }.items():
        assert pins.get(name) == version, f"{name}: {pins.get(name)} (expected {version})"
    compose = yaml.safe_load((ROOT / "docker-compose.localstack.yml").read_text())
    assert compose["services"]["localstack"]["image"].endswith(f":{lr.LOCALSTACK_VERSION}}}")


# --- the real thing -----------------------------------------------------------------------------


@pytest.mark.localstack_real
@pytest.mark.skipif(
    not os.environ.get("CONCERT_LOCALSTACK_REAL"),
    reason="starts real LocalStack (builds its environment once): CONCERT_LOCALSTACK_REAL=1, or make localstack",
)
def test_real_localstack_starts_answers_and_stops_leaving_no_process() -> None:
    paths = lr.LocalStackPaths(ROOT)
    # tools/localstack-run passes its own port: on a shared machine LocalStack uses only that one
    port = int(os.environ.get("CONCERT_LOCALSTACK_REAL_PORT") or free_port())
    running = lr.start(paths, port=port, timeout=180)
    try:
        document = lr.health(port)
        assert document is not None and document.get("version", "").startswith(lr.LOCALSTACK_VERSION)
        import boto3

        s3 = boto3.client(
            "s3",
            endpoint_url=running.endpoint,
            region_name="us-east-1",
            aws_access_key_id="test",
            aws_secret_access_key="test",
        )
        s3.create_bucket(Bucket="concert-localstack-runtime-probe")
        assert "concert-localstack-runtime-probe" in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    finally:
        lr.stop(paths)
    assert left_behind(running.pid) == []
    assert lr.health(port) is None
    assert (paths.filesystem / "var" / "lib" / "localstack").is_dir()  # under build/, not /var/lib


def test_ctrl_c_during_the_cli_start_says_localstack_was_stopped(
    fake: lr.LocalStackPaths, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted(*args: object, **kwargs: object) -> lr.Running:
        raise KeyboardInterrupt

    monkeypatch.setattr(lr, "start", interrupted)
    assert main(["localstack", "start"]) == 130
    assert capsys.readouterr().err.startswith("interrupted: LocalStack stopped, nothing left running; log: ")


def test_with_the_extension_localstack_starts_with_its_settings_each_overridable(tmp_path: Path) -> None:
    (tmp_path / "localstack-ext").mkdir()
    (tmp_path / "localstack-ext" / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    paths = lr.LocalStackPaths(tmp_path)
    env = lr.localstack_environment(paths, 4599, {"PATH": "/usr/bin"})
    assert env["GATEWAY_SERVER"] == "twisted"
    assert env["LOCALSTACK_HOST"] == "127.0.0.1:4599"
    assert env["PROVIDER_OVERRIDE_DYNAMODB"] == "concert"
    assert env["PROVIDER_OVERRIDE_KINESIS"] == "concert"
    assert env["LAMBDA_RUNTIME_EXECUTOR"] == "concert"
    assert env["CONCERT_LAMBDA_CACHE_DIR"] == str(tmp_path / "build" / "layer-cache")
    overridden = lr.localstack_environment(
        paths,
        4599,
        {
            "PATH": "/usr/bin",
            "GATEWAY_SERVER": "hypercorn",
            "PROVIDER_OVERRIDE_KINESIS": "default",
            "LAMBDA_RUNTIME_EXECUTOR": "docker",
            "CONCERT_LAMBDA_CACHE_DIR": "/elsewhere",
        },
    )
    assert overridden["GATEWAY_SERVER"] == "hypercorn"
    assert overridden["PROVIDER_OVERRIDE_KINESIS"] == "default"
    assert overridden["PROVIDER_OVERRIDE_DYNAMODB"] == "concert"
    assert overridden["LAMBDA_RUNTIME_EXECUTOR"] == "docker"
    assert overridden["CONCERT_LAMBDA_CACHE_DIR"] == "/elsewhere"


def test_the_project_is_installed_without_dependencies_and_reinstalled_when_its_source_changes(
    project: tuple[lr.LocalStackPaths, list[list[str]]],
) -> None:
    paths, commands = project
    (paths.root / "pyproject.toml").write_text("[project]\nname = 'concert-platform'\n")
    (paths.root / "src" / "concert_platform").mkdir(parents=True)
    (paths.root / "src" / "concert_platform" / "__init__.py").write_text("")
    build = lambda: lr.ensure_environment(paths, quiet, sys.executable)  # noqa: E731
    build()
    assert commands[-1][-1] == str(paths.base / "project-source")
    assert "--no-deps" in commands[-1]
    assert (paths.base / "project-source" / "src" / "concert_platform" / "__init__.py").is_file()
    commands.clear()
    build()
    assert commands == []  # cached
    (paths.root / "src" / "concert_platform" / "__init__.py").write_text("VERSION = 2\n")
    build()
    assert len(commands) == 2 and all("--force-reinstall" in c and "--no-deps" in c for c in commands)
    assert commands[1][-1] == str(paths.base / "project-source")
