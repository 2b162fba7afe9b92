"""The console script: bad input ends with one clear line and exit code 2, before anything is created."""

from __future__ import annotations

import shutil
import socket
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
