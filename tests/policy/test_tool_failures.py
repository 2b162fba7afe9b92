"""A tool that fails on one template costs only that template (issue 20, item 10).

checkov 3 raises `TypeError: unhashable type: 'dict'` on some templates (three public AWS sample
templates among them); our fixture `tool_breakers/condition-operand-by-ref.yaml` (kept out of
fixtures/, which the corpus test scans expecting no check error) breaks it
the same way. Before: one check error for `(all)` templates and every checkov finding of every other
file in the run lost. Now: the run is retried file by file (only when it failed), the error names
the file that breaks the tool, and the other files keep their findings."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from concert_platform.cli import main
from concert_platform.policy.model import CheckError
from concert_platform.policy.runner import run_policy

BREAKS = Path(__file__).parent / "tool_breakers" / "condition-operand-by-ref.yaml"
PLAIN_BUCKET = "Resources:\n  Plain:\n    Type: AWS::S3::Bucket\n"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    shutil.copy(BREAKS, tmp_path / "breaks.yaml")
    (tmp_path / "plain.yaml").write_text(PLAIN_BUCKET)
    (tmp_path / "nested").mkdir()
    (tmp_path / "nested" / "plain.yaml").write_text(PLAIN_BUCKET)
    return tmp_path


def test_the_fixture_really_breaks_checkov() -> None:
    from checkov.cloudformation.runner import Runner
    from checkov.runner_filter import RunnerFilter

    with pytest.raises(TypeError, match="unhashable type: 'dict'"):
        Runner().run(
            root_folder=None, files=[str(BREAKS)], runner_filter=RunnerFilter(framework=["cloudformation"])
        )


def test_a_template_that_breaks_checkov_costs_only_that_template(folder: Path) -> None:
    report = run_policy(folder, tools=("checkov",))
    assert report.errors == [
        CheckError("checkov", "breaks.yaml", "(template)", "TypeError: unhashable type: 'dict'", "checkov")
    ]
    by_template: dict[str, set[str]] = {}
    for finding in report.findings:
        by_template.setdefault(finding.template, set()).add(finding.check_id)
    # both other files keep their checkov findings (an unencrypted, unlogged, unversioned bucket)
    assert set(by_template) == {"plain.yaml", "nested/plain.yaml"}
    assert by_template["plain.yaml"] == by_template["nested/plain.yaml"]
    assert {"CKV_AWS_18", "CKV_AWS_21"} <= by_template["plain.yaml"]
    assert report.checks_run > 0
    assert report.exit_code == 3


def test_the_command_reports_the_file_exits_3_and_keeps_every_other_tools_findings(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["policy", "--templates", str(folder), "--format", "json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 3
    assert [(e["tool"], e["template"]) for e in report["errors"]] == [("checkov", "breaks.yaml")]
    tools_by_template = {(f["tool"], f["template"]) for f in report["findings"]}
    assert {("checkov", "plain.yaml"), ("checkov", "nested/plain.yaml")} <= tools_by_template
    assert ("cfn-lint", "breaks.yaml") in tools_by_template  # cfn-lint read the file that broke checkov
    assert ("concert-platform", "plain.yaml") in tools_by_template


def test_when_every_file_can_be_checked_no_file_is_run_twice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from concert_platform.policy import runner

    (tmp_path / "a.yaml").write_text(PLAIN_BUCKET)
    (tmp_path / "b.yaml").write_text(PLAIN_BUCKET)
    runs: list[int] = []
    real = runner._checkov_over

    def counted(templates: list) -> runner.ToolRun:
        runs.append(len(templates))
        return real(templates)

    monkeypatch.setattr(runner, "_checkov_over", counted)
    report = run_policy(tmp_path, tools=("checkov",))
    assert runs == [2] and report.errors == [] and report.exit_code == 1


def test_a_tool_that_fails_on_every_file_is_reported_for_each(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from concert_platform.policy import runner

    (tmp_path / "a.yaml").write_text(PLAIN_BUCKET)
    (tmp_path / "b.yaml").write_text(PLAIN_BUCKET)

    def broken(_templates: list) -> runner.ToolRun:
        raise RuntimeError("rules failed to load")

    monkeypatch.setattr(runner, "_cfn_lint_over", broken)
    report = run_policy(tmp_path, tools=("cfn-lint",))
    assert [(e.template, e.message) for e in report.errors] == [
        ("a.yaml", "RuntimeError: rules failed to load"),
        ("b.yaml", "RuntimeError: rules failed to load"),
    ]
    assert report.checks_run == 0 and report.exit_code == 3
