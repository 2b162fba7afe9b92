"""What every e2e report says about the run itself (issue 20, items 8 and 9): when it ran, with
which tool and engine versions, which phases ran (the others `not run: <reason>`), stable JUnit
case names, and the command-line details (--version, --reports-dir help)."""

from __future__ import annotations

import copy
import re
import xml.etree.ElementTree as ET
from typing import Any

import pytest
from test_e2e_verdict import passing_report

from concert_platform.e2e import collect_failures
from concert_platform.reports import junit_xml, markdown


def finished(report: dict[str, Any], **extra: Any) -> dict[str, Any]:
    report.update(
        engine="embedded",
        environment="e",
        region="us-east-1",
        seconds=1.0,
        started_at="2026-12-03T19:00:00Z",
        finished_at="2026-12-03T19:00:20Z",
        tool_version="0.1.0",
        engine_version="moto 5.2.5 (embedded)",
        **extra,
    )
    report["failures"] = collect_failures(report)
    report["ok"] = not report["failures"]
    report["reason"] = None if report["ok"] else report["failures"][0]["reason"]
    report["verdict"] = "passed" if report["ok"] else "failed"
    return report


def case_names(xml: str) -> dict[str, list[str]]:
    root = ET.fromstring(xml)  # noqa: S314 - our own report
    return {suite.get("name", ""): [c.get("name", "") for c in suite.iter("testcase")] for suite in root}


def test_junit_case_names_do_not_change_when_a_count_or_status_does() -> None:
    """Before: `183 of 183 declared resources verified`, `storage created`: a new name whenever a
    count or a stack's status changed, so CI lost the case's history."""
    one = finished(passing_report())
    one["teardown"].update(recorded=40, confirmed_gone=40)
    two = copy.deepcopy(one)
    two["resources"].update(declared=183, verified=183)
    two["stacks"][0]["status"] = "no changes"
    two["teardown"].update(recorded=183, confirmed_gone=183)
    assert case_names(junit_xml(one)) == case_names(junit_xml(two))
    names = [n for cases in case_names(junit_xml(two)).values() for n in cases]
    assert not any(re.search(r"\d", name) for name in names), names
    # the counts are still there, as properties of the case
    root = ET.fromstring(junit_xml(two))  # noqa: S314
    verify_case = next(c for c in root.iter("testcase") if c.get("name") == "declared resources verified")
    assert {p.get("name"): p.get("value") for p in verify_case.iter("property")} == {
        "verified": "183",
        "declared": "183",
    }


def test_every_report_says_when_with_which_tool_and_which_engine_version() -> None:
    report = finished(passing_report())
    text = markdown(report)
    assert (
        "run: 2026-12-03T19:00:00Z to 2026-12-03T19:00:20Z (UTC), concert-platform 0.1.0, "
        "engine embedded version moto 5.2.5 (embedded)"
    ) in text
    root = ET.fromstring(junit_xml(report))  # noqa: S314
    assert root.get("timestamp") == "2026-12-03T19:00:00Z"
    properties = {p.get("name"): p.get("value") for p in next(iter(root)).find("properties")}  # type: ignore[union-attr]
    assert properties["tool_version"] == "0.1.0"
    assert properties["engine_version"] == "moto 5.2.5 (embedded)"
    assert properties["verdict"] == "passed"


def test_a_phase_that_never_ran_says_not_run_and_why_in_every_report() -> None:
    """Before: `resources: 0 of 0 declared resources verified`, `smoke: 0 passed, 0 failed` for
    phases a failed deploy never reached."""
    report = passing_report()
    report["errors"].append({"phase": "deploy", "reason": "stack x failed"})
    report["resources"] = {"declared": 0, "verified": 0, "unverified": [], "cross_stack": [], "ran": False}
    report["smoke"] = {"passed": 0, "failed": 0, "checks": [], "ran": False}
    report["post_deploy"] = []
    report["not_run"] = dict.fromkeys(("post_deploy", "verify", "smoke"), "the deploy failed")
    report = finished(report)
    text = markdown(report)
    assert "- resources: not run: the deploy failed" in text
    assert "- smoke: not run: the deploy failed" in text
    assert "0 of 0" not in text and "0 passed" not in text
    root = ET.fromstring(junit_xml(report))  # noqa: S314
    for suite_name in ("verify", "cross_stack", "smoke", "iam"):
        suite = next(s for s in root if s.get("name") == suite_name)
        skipped = [c.find("skipped") for c in suite.iter("testcase")]
        assert skipped and all(s is not None for s in skipped), suite_name
        assert skipped[0].get("message") == "not run: the deploy failed"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("teardown", "named"),
    [
        (
            {"stack_failures": ["stack concert-platform-networking-e DELETE_FAILED: Vpc"]},
            "DELETE_FAILED: Vpc",
        ),
        ({"leftovers": ["bucket: concert-raw-e"]}, "bucket: concert-raw-e"),
        (
            {
                "remaining": [
                    {
                        "stack": "networking",
                        "logical_id": "Nat",
                        "type": "AWS::EC2::NatGateway",
                        "physical_id": "nat-1",
                        "detail": "still exists",
                    }
                ]
            },
            "AWS::EC2::NatGateway nat-1 (networking/Nat): still exists",
        ),
        (
            {"failed": "teardown: boom", "may_remain": ["stack concert-platform-networking-e"]},
            "stack concert-platform-networking-e",
        ),
    ],
)
def test_not_clean_always_names_what_remains(teardown: dict[str, Any], named: str) -> None:
    report = passing_report()
    report["teardown"] = {"clean": False, "remaining": [], "leftovers": [], "stack_failures": [], **teardown}
    line = next(x for x in markdown(finished(report)).splitlines() if x.startswith("- teardown:"))
    assert "NOT CLEAN" in line and named in line, line


def test_version_flag_and_reports_dir_help(capsys: pytest.CaptureFixture[str]) -> None:
    from concert_platform.cli import main
    from concert_platform.e2e import tool_version

    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out.strip() == f"concert-platform {tool_version()}"
    assert re.fullmatch(r"\d+\.\d+\.\d+.*", tool_version())
    with pytest.raises(SystemExit):
        main(["e2e", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert "--reports-dir REPORTS_DIR where the reports go: e2e-ENGINE-ENV.json" in help_text


def test_each_phase_says_when_it_starts_and_that_it_is_still_running() -> None:
    """Before: up to 41 s with no line during a cold layer build, 15-34 s during verify and smoke."""
    import io
    import time

    from rich.console import Console

    from concert_platform.e2e import _Phases

    stream = io.StringIO()
    phases = _Phases({}, Console(file=stream, width=200))
    phases.heartbeat_seconds = 0.05
    assert phases.run("verify", lambda: time.sleep(0.3)) == (True, None)
    assert phases.run("smoke", lambda: None) == (True, None)
    time.sleep(0.2)  # no line may follow a phase that has ended
    lines = stream.getvalue().splitlines()
    assert lines[0] == "e2e: verify started"
    beats = [line for line in lines if line.startswith("e2e: verify still running (")]
    assert 1 <= len(beats) <= 6, lines
    assert lines[-1] == "e2e: smoke started"


def test_a_phase_beside_another_is_timed_reported_and_waited_for() -> None:
    """The canaries run beside verify: the main thread's phase stays the one a signal names, the
    canaries' failure is theirs, what they found arrives only when they succeed, and joining waits."""
    import threading
    import time

    from concert_platform.e2e import _Phases

    report: dict[str, object] = {}
    phases = _Phases(report)
    release = threading.Event()
    found: list[object] = []

    def canaries() -> str:
        release.wait(timeout=10)
        return "proved"

    phases.beside("canaries", canaries, found.append)
    assert phases.run("verify", lambda: time.sleep(0.05)) == (True, None)
    assert phases.current == "verify" and found == []
    release.set()
    phases.join_beside()
    assert found == ["proved"] and phases.current == "canaries"
    assert phases.seconds["canaries"] is not None and phases.seconds["canaries"] >= 0.05

    def broken() -> None:
        raise RuntimeError("the engine broke")

    phases.beside("canaries", broken, found.append)
    phases.join_beside()
    phases.join_beside()  # nothing left to wait for
    assert found == ["proved"]
    assert [e["phase"] for e in report["errors"]] == ["canaries"]  # type: ignore[attr-defined]
    assert "the engine broke" in report["errors"][0]["reason"]  # type: ignore[index]
