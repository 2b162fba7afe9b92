"""Defaults an operator can predict (issue 20 item 7): every command asks the same engine unless
told otherwise and says which it asked; an engine that ends with the command says so; what
needs no engine is checked before one starts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from concert_platform.cli import build_parser, main
from concert_platform.engines.embedded import EmbeddedEngine

PASSWORD = "Sup3rSecretPw"


@pytest.fixture(autouse=True)
def no_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    monkeypatch.setenv("REDSHIFT_MASTER_PASSWORD", PASSWORD)


@pytest.fixture
def engine_must_not_start(monkeypatch: pytest.MonkeyPatch) -> None:
    def start(self: EmbeddedEngine) -> None:
        raise AssertionError("the engine was started before the input was checked")

    monkeypatch.setattr(EmbeddedEngine, "start", start)


@pytest.mark.parametrize("command", ["destroy", "status", "outputs"])
def test_every_command_asks_the_engine_deploy_deploys_to(command: str) -> None:
    parser = build_parser()
    assert parser.parse_args([command]).engine == parser.parse_args(["deploy"]).engine


@pytest.mark.parametrize("command", ["status", "outputs"])
def test_status_and_outputs_name_the_engine_they_asked(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([command, "--environment", "dev-x", "--json"]) == 0
    captured = capsys.readouterr()
    json.loads(captured.out)  # --json stays one document on stdout
    err = " ".join(captured.err.split())
    assert "asking the embedded engine in us-east-1" in err
    assert "starts empty" in err and "engine serve" in err


def test_deploy_on_an_ephemeral_engine_says_the_stacks_end_with_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["deploy", "--environment", "dev-x", "--only", "networking"]) == 0
    err = " ".join(capsys.readouterr().err.split())
    assert "the embedded engine lives only as long as this command" in err
    assert "`concert-platform engine serve`" in err


def test_e2e_keep_on_an_ephemeral_engine_is_refused_before_it_starts(
    engine_must_not_start: None, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code = main(["e2e", "--keep", "--environment", "e2e-k", "--reports-dir", str(tmp_path)])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert err.startswith("error: --keep: the embedded engine ends with this run")
    assert len(err.splitlines()) == 1


def test_deploy_missing_password_is_refused_before_the_engine_starts(
    engine_must_not_start: None, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("REDSHIFT_MASTER_PASSWORD")
    code = main(["deploy", "--environment", "dev-x"])
    err = capsys.readouterr().err
    assert code == 2 and "REDSHIFT_MASTER_PASSWORD" in err


def test_deploy_bad_flag_value_is_refused_before_any_engine_starts(
    engine_must_not_start: None, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["deploy", "--environment", "dev-x", "--log-retention-days", "12"])
    assert code == 2 and "log retention" in capsys.readouterr().err


def test_e2e_bad_input_is_refused_before_the_engine_starts(
    engine_must_not_start: None,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("ALERT_EMAIL", "not-an-email")
    code = main(["e2e", "--environment", "e2e-x", "--reports-dir", str(tmp_path)])
    assert code == 2 and "alert email" in capsys.readouterr().err
