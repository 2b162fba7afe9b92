"""The console script: bad input ends with one clear line and exit code 2, before anything is created."""

from __future__ import annotations

import os
import shutil
import socket
import sys
from pathlib import Path

import pytest

from concert_platform.cli import main

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "Sup3rSecretPw"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.err.strip()


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(autouse=True)
def no_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    monkeypatch.setenv("REDSHIFT_MASTER_PASSWORD", PASSWORD)


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["deploy", "--environment", "PR_12"], "invalid environment 'PR_12'"),
        (["deploy", "--environment", "a-very-long-environment-name"], "invalid environment"),
        (["deploy", "--region", "us-east-9"], "unknown region 'us-east-9'"),
        (["deploy", "--only", "nonsense"], "unknown stack 'nonsense'"),
        (["deploy", "--alert-email", "not-an-email"], "alert email"),
        (["destroy", "--environment", "production", "--engine", "aws"], "refusing to destroy production"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], argv: list[str], expected: str
) -> None:
    code, err = run(capsys, *argv)
    assert code == 2
    assert expected in err
    assert len(err.splitlines()) <= 2  # one message (rich may wrap a long line once)


def test_short_password_is_refused_without_echoing_it(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REDSHIFT_MASTER_PASSWORD", "Ab1")
    code, err = run(capsys, "deploy", "--environment", "dev-x")
    assert code == 2 and "8 to 64 characters" in err and "Ab1" not in err


def test_missing_password_without_a_terminal_stops_instead_of_waiting(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("REDSHIFT_MASTER_PASSWORD")
    code, err = run(capsys, "deploy", "--environment", "dev-x")
    assert code == 2 and "REDSHIFT_MASTER_PASSWORD" in err


def test_unreachable_endpoint(capsys: pytest.CaptureFixture[str]) -> None:
    code, err = run(
        capsys, "deploy", "--engine", "localstack", "--endpoint-url", f"http://127.0.0.1:{closed_port()}"
    )
    assert code == 2 and "unreachable" in err


def test_missing_template(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copy(ROOT / "stacks.yaml", tmp_path / "stacks.yaml")
    shutil.copytree(ROOT / "templates", tmp_path / "templates")
    (tmp_path / "templates" / "04-chatbot-infrastructure.yaml").unlink()
    monkeypatch.setenv("CONCERT_PLATFORM_HOME", str(tmp_path))
    from concert_platform.manifest import _load

    _load.cache_clear()
    code, err = run(capsys, "deploy", "--environment", "dev-x")
    _load.cache_clear()
    assert code == 2 and "04-chatbot-infrastructure.yaml" in err and "missing" in err


def test_policy_usage_errors(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, err = run(capsys, "policy", "--templates", str(tmp_path / "nope"))
    assert code == 2 and "does not exist" in err
    (tmp_path / "notes.yaml").write_text("just: some yaml\n")
    code, err = run(capsys, "policy", "--templates", str(tmp_path))
    assert code == 2 and "notes.yaml is not a CloudFormation template" in err


def test_graph_lists_every_stack(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["graph"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("flowchart LR") and "networking -- " in out and "--> logging" in out


SECRET = "S3cretPw9x"  # a password-like value: no part of it may reach any output
BAD_PARAMETER_FILES = {
    "binary": (b"\x89PNG\r\n\x1a\n\x00\xff\xfe" + SECRET.encode(), "is not UTF-8 text"),
    "yaml error on the password line": (
        f"AlertEmail: ops@example.com\nRedshiftMasterPassword: {SECRET}: oops\n".encode(),
        "line 2 (key RedshiftMasterPassword)",
    ),
    "unclosed quote": (
        f'RedshiftMasterPassword: "{SECRET}\nAlertEmail: ops@example.com\n'.encode(),
        "(key RedshiftMasterPassword)",
    ),
    "the password typed as a key": (
        f"RedshiftMasterPassword:\n  {SECRET}: oops: more\n".encode(),
        "at line 2",
    ),
    "json syntax error": (
        f'{{"RedshiftMasterPassword": "{SECRET}" "x": 1}}'.encode(),
        "not valid JSON or YAML",
    ),
    "tab in the password": (f'RedshiftMasterPassword: "S3cret\\t{SECRET}"\n'.encode(), "printable ASCII"),
    "newline in the password": (f'RedshiftMasterPassword: "{SECRET}\\nmore"\n'.encode(), "printable ASCII"),
    "non-ASCII password": (f"RedshiftMasterPassword: {SECRET}é\n".encode(), "printable ASCII"),
    "quote in the password": (f"RedshiftMasterPassword: {SECRET}'q\n".encode(), "printable ASCII"),
    "a list as the password": (f"RedshiftMasterPassword: [{SECRET}]\n".encode(), "single value"),
    "alias bomb": (
        b'a: &a ["x","x","x","x","x","x","x","x","x"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n'
        b"c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
        b"e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n",
        "unknown name 'a'",
    ),
    "alias bomb as a value": (
        b'x: &a ["x","x","x","x","x","x","x","x","x"]\ny: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n'
        b"z: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nAlertEmail: *c\n",
        "unknown name 'x'",
    ),
    "deep nesting": (b"[" * 60_000, "parameters file"),
    "too large": (b"# " + b"x" * 70_000 + b"\n", "the limit is 65536"),
    "unknown name": (b"Colour: blue\n", "unknown name 'Colour'"),
    "not a mapping": (SECRET.encode() + b"\n", "must be a mapping"),
}


@pytest.mark.parametrize("case", sorted(BAD_PARAMETER_FILES))
def test_a_bad_parameters_file_is_one_line_exit_2_and_no_secret(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path, case: str
) -> None:
    content, expected = BAD_PARAMETER_FILES[case]
    monkeypatch.delenv("REDSHIFT_MASTER_PASSWORD")
    path = tmp_path / "params.yaml"
    path.write_bytes(content)
    code = main(["deploy", "--environment", "dev-x", "--parameters-file", str(path)])
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert code == 2, err
    assert expected in err and str(path) in err.replace("\n", "")
    assert len(err.splitlines()) <= 2 and "Traceback" not in err
    for part in (SECRET, SECRET[:6], SECRET[-6:]):
        assert part not in captured.err + captured.out


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda tmp: tmp / "missing.yaml", "does not exist"),
        (lambda tmp: tmp, "is a directory, not a file"),
    ],
)
def test_a_parameters_file_that_is_not_a_file(capsys, tmp_path: Path, make, expected) -> None:
    code, err = run(capsys, "deploy", "--environment", "dev-x", "--parameters-file", str(make(tmp_path)))
    assert code == 2 and expected in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (
            lambda tmp: (tmp / "report.txt", (tmp / "report.txt").write_text("x"))[0],
            "is a file, not a directory",
        ),
        (lambda tmp: (tmp / "f", (tmp / "f").write_text("x"))[0] / "reports", "cannot be written"),
    ],
)
def test_an_unwritable_reports_dir_stops_e2e_before_it_starts(
    capsys, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, make, expected
) -> None:
    from concert_platform import e2e

    def must_not_run(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("the run started before the reports directory was checked")

    monkeypatch.setattr(e2e, "run_e2e", must_not_run)
    code, err = run(capsys, "e2e", "--reports-dir", str(make(tmp_path)))
    assert code == 2 and expected in err and len(err.splitlines()) <= 2


def test_a_good_parameters_file_still_deploys_its_values(tmp_path: Path) -> None:
    from concert_platform.inputs import read_parameters_file
    from concert_platform.manifest import load_manifest

    path = tmp_path / "params.json"
    path.write_text(f'{{"RedshiftMasterPassword": "{SECRET}", "alert_email": "ops@example.com"}}')
    values = read_parameters_file(path, load_manifest())
    assert values["redshift_master_password"] == SECRET and values["alert_email"] == "ops@example.com"


CONSOLE = """
import atexit, sys, threading, time
from concert_platform.cli import console_main
atexit.register(lambda: print("atexit handler ran", file=sys.stderr))
if "--thread" in sys.argv:
    sys.argv.remove("--thread")
    threading.Thread(target=lambda: (time.sleep(0.5), print("thread finished", file=sys.stderr))).start()
sys.argv[0] = "concert-platform"
console_main()
"""


@pytest.mark.parametrize("thread", [False, True])
def test_the_console_command_exits_with_mains_code_output_and_atexit_handlers(thread: bool) -> None:
    """console_main skips only the interpreter's teardown: the exit code, every line written
    (through a pipe, so buffered) and the atexit handlers are as with an ordinary exit, and a
    thread still running is waited for."""
    import subprocess

    # stdout block-buffered, as when the command's output goes to a pipe or a file
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    args = [sys.executable, "-c", CONSOLE, "graph", *(["--thread"] if thread else [])]
    done = subprocess.run(args, capture_output=True, text=True, check=False, timeout=120, env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.rstrip().endswith("--> monitoring") and done.stdout.count("\n") > 10  # the whole graph
    assert "atexit handler ran" in done.stderr
    assert ("thread finished" in done.stderr) == thread
    bad = subprocess.run(
        [sys.executable, "-c", CONSOLE, "e2e", "--environment", "Bad_Name"],
        capture_output=True, text=True, check=False, timeout=120, env=env,
    )  # fmt: skip
    assert bad.returncode == 2 and "error:" in bad.stderr and "atexit handler ran" in bad.stderr


def test_the_console_command_fails_when_its_output_cannot_be_written() -> None:
    """Output to a full disk (/dev/full): the final flush fails, so the exit code is 120, never 0."""
    import subprocess

    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    with open("/dev/full", "w") as full:
        done = subprocess.run(
            [sys.executable, "-c", CONSOLE, "graph"],
            stdout=full, stderr=subprocess.PIPE, text=True, check=False, timeout=120, env=env,
        )  # fmt: skip
    assert done.returncode == 120, done.stderr


def test_engine_serve_on_a_taken_port_is_one_line_and_exit_2() -> None:
    """Before: werkzeug's own two lines ("Address already in use", "Port N is in use by another
    program...") and exit 1."""
    import subprocess

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [str(Path(sys.executable).parent / "concert-platform"), "engine", "serve", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    assert done.returncode == 2, done.stderr
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(f"error: cannot listen on 127.0.0.1:{port} (Address already in use)")
    assert "--port" in lines[0] and "Traceback" not in done.stderr
