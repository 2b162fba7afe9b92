"""The policy command on templates that are not ours: third-party stacks with known problems
fail with every problem listed; the JSON report has the documented shape."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from concert_platform.cli import main

FIXTURES = Path(__file__).parent / "fixtures" / "third_party"

# (check, template, resource): problems planted in the fixtures, each a practice of the guide.
KNOWN_PROBLEMS = {
    ("CP007", "legacy-website.yaml", "SiteBucket"),  # no encryption
    ("CP008", "legacy-website.yaml", "SiteBucket"),  # public access not blocked
    ("CP009", "legacy-website.yaml", "SiteBucket"),  # no TLS-only policy
    ("CP005", "legacy-website.yaml", "DeployRole"),  # Action "*"
    ("CP006", "legacy-website.yaml", "DeployRole"),  # Resource "*"
    ("CP010", "legacy-website.yaml", "DeployLogs"),  # no retention
    ("CP001", "reporting-warehouse.json", "WarehouseSecurityGroup"),  # 5439 open to the world
    ("CP002", "reporting-warehouse.json", "Warehouse"),  # publicly accessible
    ("CP003", "reporting-warehouse.json", "Warehouse"),  # password parameter with a default
    ("CP004", "reporting-warehouse.json", "MasterPassword"),  # not NoEcho, has a default
    ("CP004", "reporting-warehouse.json", "WarehousePassword"),  # password as an output
    ("CP012", "reporting-warehouse.json", "ReportsTable"),  # no point-in-time recovery
    ("CKV_AWS_62", "legacy-website.yaml", "DeployRole"),  # checkov: full admin policy
    ("W2501", "reporting-warehouse.json", "(template)"),  # cfn-lint: password parameter not NoEcho
}


def run_json(capsys: pytest.CaptureFixture[str], directory: Path) -> tuple[int, dict]:
    code = main(["policy", "--templates", str(directory), "--format", "json"])
    return code, json.loads(capsys.readouterr().out)


def test_third_party_templates_fail_with_every_known_problem_listed(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, report = run_json(capsys, FIXTURES)
    assert code == 1
    assert report["templates"] == ["legacy-website.yaml", "reporting-warehouse.json"]
    assert report["failed"] == len(report["findings"]) > 0
    found = {(f["check_id"], f["template"], f["resource"]) for f in report["findings"]}
    assert found >= KNOWN_PROBLEMS, f"missed: {sorted(KNOWN_PROBLEMS - found)}"
    for finding in report["findings"]:
        assert set(finding) >= {"check_id", "practice", "template", "resource", "line", "message"}
        assert finding["practice"] and finding["message"] and finding["line"] >= 1
    lines = {(f["check_id"], f["resource"]): f["line"] for f in report["findings"]}
    assert lines[("CP001", "WarehouseSecurityGroup")] == 9  # JSON templates get real lines too
    assert lines[("CP004", "WarehousePassword")] == 41


def test_one_bad_template_is_enough_to_fail(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    (tmp_path / "one.yaml").write_text((FIXTURES / "legacy-website.yaml").read_text())
    code, report = run_json(capsys, tmp_path)
    assert code == 1 and report["templates"] == ["one.yaml"]


def test_our_templates_pass_through_the_command(capsys: pytest.CaptureFixture[str]) -> None:
    code, report = run_json(capsys, Path(__file__).resolve().parents[2] / "templates")
    assert (code, report["failed"], report["findings"]) == (0, 0, [])
    assert len(report["templates"]) == 6 and report["checks_run"] > 60
