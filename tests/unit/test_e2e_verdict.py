"""One verdict: a failed check of any phase fails the run, and the reports say which and why.

The planted run deploys a copy of the real templates with two faults on the embedded engine:
the session-state table's key renamed (today's main died with a traceback and no report) and
the API endpoint output changed to http:// (today's main failed the cross-stack check and still
exited 0).
"""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from concert_platform.e2e import PHASES, collect_failures, one_line_reason
from concert_platform.manifest import load_manifest


def passing_report() -> dict[str, Any]:
    return {
        "errors": [],
        "phases": dict.fromkeys(PHASES, 1.0),
        "stacks": [{"key": "storage", "name": "s", "status": "created", "seconds": 1.0}],
        "post_deploy": [{"name": "schema", "ok": True, "detail": "done"}],
        "resources": {
            "declared": 1,
            "verified": 1,
            "unverified": [],
            "cross_stack": [{"stack": "compute", "name": "output ApiEndpointUrl", "ok": True, "detail": "x"}],
        },
        "smoke": {"passed": 1, "failed": 0, "checks": [{"name": "health", "ok": True, "detail": "200"}]},
        "teardown": {"clean": True, "remaining": [], "leftovers": [], "stack_failures": []},
    }


def test_a_passing_report_has_no_failures() -> None:
    assert collect_failures(passing_report()) == []
    assert one_line_reason([]) is None


@pytest.mark.parametrize(
    ("phase", "plant"),
    [
        ("deploy", lambda r: r["errors"].append({"phase": "deploy", "reason": "stack x failed"})),
        (
            "post_deploy",
            lambda r: r["post_deploy"].append({"name": "sample data", "ok": False, "detail": "no"}),
        ),
        (
            "verify",
            lambda r: r["resources"]["unverified"].append(
                {"stack": "a", "logical_id": "B", "type": "T", "reason": "Period 60 != 300", "exempt": False}
            ),
        ),
        (
            "cross_stack",
            lambda r: r["resources"]["cross_stack"].append(
                {"stack": "compute", "name": "output ApiEndpointUrl", "ok": False, "detail": "not https"}
            ),
        ),
        ("smoke", lambda r: r["smoke"]["checks"].append({"name": "chat", "ok": False, "detail": "500"})),
        ("smoke", lambda r: r["smoke"].update(checks=[], passed=0)),
        ("teardown", lambda r: r["teardown"]["stack_failures"].append("stack y DELETE_FAILED")),
        (
            "teardown",
            lambda r: r["teardown"]["remaining"].append(
                {
                    "stack": "n",
                    "logical_id": "Nat",
                    "type": "AWS::EC2::NatGateway",
                    "physical_id": "nat-1",
                    "detail": "still exists",
                }
            ),
        ),
        ("teardown", lambda r: r["teardown"]["leftovers"].append("bucket: concert-raw-e2e")),
    ],
)
def test_every_phase_feeds_the_verdict(phase: str, plant: Any) -> None:
    report = passing_report()
    plant(report)
    failures = collect_failures(report)
    assert [f["phase"] for f in failures] == [phase]
    assert one_line_reason(failures).startswith(f"{phase}")  # type: ignore[union-attr]


def test_an_exempt_resource_does_not_fail_the_run() -> None:
    report = passing_report()
    report["resources"]["unverified"].append(
        {"stack": "s", "logical_id": "W", "type": "T", "reason": "no API (engine: x)", "exempt": True}
    )
    assert collect_failures(report) == []


@pytest.fixture
def planted_home(tmp_path: Path) -> Path:
    root = load_manifest().root
    home = tmp_path / "home"
    home.mkdir()
    shutil.copy(root / "stacks.yaml", home / "stacks.yaml")
    shutil.copytree(root / "templates", home / "templates")
    (home / "handlers").symlink_to(root / "handlers")
    chatbot = home / "templates" / "04-chatbot-infrastructure.yaml"
    text = chatbot.read_text()
    table = text.index("  SessionStateTable:")
    end = text.index("BillingMode", table)
    renamed = text[table:end].replace("AttributeName: session_id", "AttributeName: session_key")
    assert renamed != text[table:end]
    chatbot.write_text(text[:table] + renamed + text[end:])
    compute = home / "templates" / "03-compute-application.yaml"
    text = compute.read_text()
    planted = text.replace(
        "Value: !Sub 'https://${RestApi}.execute-api", "Value: !Sub 'http://${RestApi}.execute-api"
    )
    assert planted != text
    compute.write_text(planted)
    return home


def test_planted_faults_fail_the_run_and_every_report_says_why(
    planted_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from test_embedded_lifecycle import small_artifacts

    from concert_platform import cli, workflow

    monkeypatch.setenv("CONCERT_PLATFORM_HOME", str(planted_home))
    monkeypatch.setattr(workflow, "build_artifacts", lambda _manifest: small_artifacts())
    reports = tmp_path / "reports"
    code = cli.main(
        ["e2e", "--engine", "embedded", "--environment", "e2e-plant", "--reports-dir", str(reports)]
    )
    out, err = capsys.readouterr()
    assert code == 1
    assert "Traceback" not in out + err
    report = json.loads((reports / "e2e-embedded-e2e-plant.json").read_text())
    assert report["ok"] is False
    assert set(report["phases"]) == set(PHASES)
    assert all(isinstance(report["phases"][p], float) for p in PHASES)
    from concert_platform.smoke.run import FLOWS

    # where the smoke phase's time went: every flow, in the order it ran
    assert list(report["smoke"]["flow_seconds"]) == [name for name, _ in FLOWS]
    by_phase = {}
    for failure in report["failures"]:
        by_phase.setdefault(failure["phase"], []).append(f"{failure['check']} {failure['reason']}")
    assert any("ApiEndpointUrl" in f and "https" in f for f in by_phase["cross_stack"]), by_phase
    assert any("session_key" in f for f in by_phase["smoke"]), by_phase
    assert report["reason"] and "\n" not in report["reason"]
    assert report["teardown"]["clean"] is True, report["teardown"]
    assert "FAILED" in out
    junit = ET.fromstring((reports / "e2e-embedded-e2e-plant.xml").read_text())  # noqa: S314 - our own report
    failed_suites = {s.get("name") for s in junit.iter("testsuite") if s.get("failures") != "0"}
    assert {"cross_stack", "smoke"} <= failed_suites
    markdown = (reports / "e2e-embedded-e2e-plant.md").read_text()
    assert markdown.startswith("# Concert Platform e2e: FAILED")
    assert "ApiEndpointUrl" in markdown and "session_key" in markdown


def test_the_markdown_report_lists_per_resource_what_was_compared_and_what_could_not_be() -> None:
    from concert_platform.reports import markdown

    report = passing_report()
    report.update(ok=True, reason=None, failures=[], engine="embedded", environment="e", seconds=1.0)
    report["resources"]["details"] = [
        {
            "stack": "storage",
            "logical_id": "PlatformKey",
            "type": "AWS::KMS::Key",
            "verified": True,
            "compared": ["Description", "KeyPolicy"],
            "not_comparable": {"PendingWindowInDays": "write-only in the provider schema"},
            "mismatches": [],
        }
    ]
    text = markdown(report)
    row = next(line for line in text.splitlines() if line.startswith("| storage/PlatformKey"))
    assert "Description, KeyPolicy" in row
    assert "PendingWindowInDays: write-only in the provider schema" in row


def test_a_post_deploy_step_skipped_by_choice_is_reported_skipped_never_passed() -> None:
    """No alert e-mail given: the subscription step did nothing. It fails nothing, and no report
    counts it as a passed step: JUnit marks it skipped, Markdown says skipped with the reason."""
    from concert_platform.postdeploy import check_alert_subscription
    from concert_platform.reports import junit_xml, markdown

    step = check_alert_subscription(None, {"CriticalAlertsTopicArn": "arn:aws:sns:us-east-1:1:t"}, "")  # type: ignore[arg-type]
    assert step.ok and step.skipped and "subscribe later" in step.detail
    report = passing_report()
    report["post_deploy"].append({"name": step.name, "ok": True, "detail": step.detail, "skipped": True})
    report.update(
        ok=True,
        reason=None,
        failures=collect_failures(report),
        engine="embedded",
        environment="e",
        seconds=1.0,
    )
    assert report["failures"] == []
    junit = ET.fromstring(junit_xml(report))  # noqa: S314 - our own report
    suite = next(s for s in junit if s.get("name") == "post_deploy")
    assert (suite.get("tests"), suite.get("skipped"), suite.get("failures")) == ("2", "1", "0")
    case = next(c for c in suite if c.get("name") == "alert-subscription")
    assert case.find("skipped") is not None
    row = next(line for line in markdown(report).splitlines() if line.startswith("| alert-subscription"))
    assert "| skipped |" in row and "subscribe later" in row


def test_an_update_review_finding_fails_the_run_and_shows_in_junit_unless_acknowledged() -> None:
    from concert_platform.e2e import UPDATE_PHASES
    from concert_platform.reports import junit_xml

    report = passing_report()
    report["phases"] = dict.fromkeys(UPDATE_PHASES, 1.0)
    finding = {
        "rule": "stateful-replacement",
        "id": "UPD001",
        "stack": "compute",
        "logical_id": "ConversationHistoryTable",
        "message": "ConversationHistoryTable (table) is replaced",
        "acknowledged": None,
    }
    report["update_review"] = {"findings": [finding], "data": []}
    failures = collect_failures(report)
    assert failures == [
        {
            "phase": "update_review",
            "check": "compute/ConversationHistoryTable",
            "reason": "UPD001: ConversationHistoryTable (table) is replaced",
        }
    ]
    report.update(failures=failures, ok=False, engine="embedded", environment="e2e", seconds=6.0)
    assert 'testsuite name="update_review"' in junit_xml(report)
    finding["acknowledged"] = "on purpose"
    assert collect_failures(report) == []
