"""Deploy inputs: precedence, validation before anything is created, never waiting without a terminal."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from concert_platform.errors import UsageError
from concert_platform.inputs import read_parameters_file, redact, resolve_inputs
from concert_platform.manifest import load_manifest

GOOD_PASSWORD = "Sup3rSecretPw"


def specs():
    return load_manifest().inputs_for(load_manifest().stacks)


def resolve(environ=None, flags=None, file_values=None, **kwargs):
    return resolve_inputs(
        specs(),
        flags=flags or {},
        file_values=file_values or {},
        environ=environ or {},
        interactive=False,
        **kwargs,
    )


def test_flag_beats_environment_beats_file() -> None:
    values = resolve(
        environ={"REDSHIFT_MASTER_PASSWORD": GOOD_PASSWORD, "ALERT_EMAIL": "env@example.com"},
        flags={"alert_email": "flag@example.com"},
        file_values={"alert_email": "file@example.com", "bedrock_agent_id": "ABCDEFGHIJ"},
    )
    assert values["alert_email"] == "flag@example.com"
    assert values["bedrock_agent_id"] == "ABCDEFGHIJ"
    assert values["redshift_master_username"] == "admin"
    assert values["log_retention_days"] == "7"


def test_missing_password_without_terminal_is_a_clear_error() -> None:
    with pytest.raises(UsageError, match="REDSHIFT_MASTER_PASSWORD"):
        resolve()


def test_missing_password_is_fine_when_the_stack_keeps_its_previous_value() -> None:
    values = resolve(skip_required={"redshift_master_password"})
    assert "redshift_master_password" not in values


@pytest.mark.parametrize(
    "password",
    [
        "Short1A",
        "alllowercase1",
        "NoDigitsHere",
        "Has Space1A",
        "Slash/1Aaaaa",
        "Has\tTab1Aa",
        "Has\nNewline1A",
        "NonAsciié1Aa",
        "NoBreak\u00a0Space1A",
        "Quote'1Aaaaa",
    ],
)
def test_bad_passwords_are_rejected_without_echoing_them(password: str) -> None:
    with pytest.raises(UsageError) as raised:
        resolve(environ={"REDSHIFT_MASTER_PASSWORD": password})
    assert password not in str(raised.value)


def test_prompts_only_on_a_terminal_and_secrets_use_the_hidden_prompt() -> None:
    asked, hidden = [], []
    values = resolve_inputs(
        specs(),
        flags={},
        file_values={},
        environ={},
        interactive=True,
        ask=lambda q: asked.append(q) or "",
        ask_secret=lambda q: hidden.append(q) or GOOD_PASSWORD,
    )
    assert values["redshift_master_password"] == GOOD_PASSWORD
    assert len(hidden) == 1 and "password" in hidden[0].lower()
    assert any("Alert email" in q for q in asked)
    assert values["alert_email"] == ""


@pytest.mark.parametrize(
    ("name", "value"),
    [("alert_email", "not-an-email"), ("bedrock_agent_id", "short"), ("log_retention_days", "8")],
)
def test_bad_optional_values_are_rejected(name: str, value: str) -> None:
    with pytest.raises(UsageError, match=name.replace("_", " ")):
        resolve(environ={"REDSHIFT_MASTER_PASSWORD": GOOD_PASSWORD}, flags={name: value})


def test_parameters_file_accepts_input_names_and_cli_list_form(tmp_path: Path) -> None:
    manifest = load_manifest()
    plain = tmp_path / "p.yaml"
    plain.write_text("alert_email: ops@example.com\nRedshiftMasterPassword: " + GOOD_PASSWORD + "\n")
    assert read_parameters_file(plain, manifest) == {
        "alert_email": "ops@example.com",
        "redshift_master_password": GOOD_PASSWORD,
    }
    cli = tmp_path / "p.json"
    cli.write_text(json.dumps([{"ParameterKey": "BedrockAgentId", "ParameterValue": "ABCDEFGHIJ"}]))
    assert read_parameters_file(cli, manifest) == {"bedrock_agent_id": "ABCDEFGHIJ"}
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"Nope": 1}))
    with pytest.raises(UsageError, match="unknown name 'Nope'"):
        read_parameters_file(bad, manifest)
    with pytest.raises(UsageError, match="does not exist"):
        read_parameters_file(tmp_path / "missing.json", manifest)


def test_redact_hides_secrets() -> None:
    assert redact(f"failed with {GOOD_PASSWORD} inside", [GOOD_PASSWORD]) == "failed with ******** inside"
