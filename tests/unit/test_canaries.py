"""The engine canaries against the embedded engine: all pass on a sound engine, and each
test-only engine fault (CONCERT_TEST_ENGINE_FAULT) turns exactly its own canaries red with a
message naming what the engine did wrong. An engine that declares a guarantee it lacks gets
`skip` with its reason, never `pass`. The reports carry a line per canary."""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from typing import Any, ClassVar

import pytest

from concert_platform import canaries
from concert_platform.canaries import CANARIES, GUARANTEES, run_canaries
from concert_platform.engines.embedded import EmbeddedEngine
from concert_platform.engines.moto_ext import faults
from concert_platform.teardown import find_leftovers

_environments = (f"can{n}" for n in itertools.count())


@pytest.fixture(scope="module")
def engine() -> Iterator[Any]:
    with EmbeddedEngine("us-east-1") as running:
        yield running


def by_name(section: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {row["name"]: row for row in section["results"]}


def test_every_canary_passes_on_the_embedded_engine_and_leaves_nothing(engine: Any) -> None:
    environment = next(_environments)
    section = run_canaries(engine, environment)
    rows = by_name(section)
    assert set(rows) == {c.name for c in CANARIES}
    assert {name: row["status"] for name, row in rows.items()} == dict.fromkeys(rows, "pass"), section
    assert section["cleanup"] == []
    assert find_leftovers(engine, environment) == []
    assert "Task timed out after 1.00 seconds" in rows["lambda-timeout"]["detail"]
    assert "FAILED" in rows["sql-syntax-error-failed"]["detail"]
    # the expected denials are the canaries' own, kept apart from the functions' ledger
    assert {(d["canary"], d["action"]) for d in section["denied"]} == {
        ("iam-action-denied", "dynamodb:PutItem"),
        ("iam-resource-denied", "dynamodb:GetItem"),
        ("kms-key-policy-denied", "kms:Decrypt"),
    }
    assert all(d.function == "engine canary" for d in engine.canary_ledger.denied())


#: fault -> (the canaries that must fail, words their failure must contain)
PLANTED = {
    "iam": (
        {"iam-action-denied", "iam-resource-denied"},
        "succeeded for a role whose policy does not allow it",
    ),
    "kms": ({"kms-key-policy-denied"}, "succeeded for a role the key policy excludes"),
    "timeout": ({"lambda-timeout"}, "does not enforce the function's Timeout"),
    "sql": ({"sql-syntax-error-failed", "sql-missing-table-failed"}, "ended FINISHED, not FAILED"),
    "alarm": ({"alarm-fires-and-delivers"}, "not ALARM"),
    "teardown": (
        {"stack-delete-leaves-nothing"},
        "reached DELETE_COMPLETE, but its resource CanaryQueue (AWS::SQS::Queue",
    ),
}


def test_every_guarantee_has_a_fault_and_a_canary() -> None:
    assert set(PLANTED) == set(faults.FAULTS) == set(GUARANTEES) == {c.guarantee for c in CANARIES}


@pytest.mark.parametrize("fault", sorted(PLANTED))
def test_each_engine_fault_fails_its_own_canaries_by_name(
    engine: Any, monkeypatch: pytest.MonkeyPatch, fault: str
) -> None:
    expected, words = PLANTED[fault]
    monkeypatch.setenv(faults.ENV, fault)
    environment = next(_environments)
    section = run_canaries(engine, environment)
    failed = {row["name"]: row["detail"] for row in section["results"] if row["status"] == "fail"}
    assert set(failed) == expected, section
    for name, detail in failed.items():
        assert words in detail, (name, detail)
    # the failures reach the verdict, one per canary, named
    assert {f["check"] for f in canaries.failures(section)} == expected
    monkeypatch.delenv(faults.ENV)
    assert section["cleanup"] == [] and find_leftovers(engine, environment) == []


def test_an_unknown_fault_name_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(faults.ENV, "iam,nonsense")
    with pytest.raises(ValueError, match="unknown fault nonsense"):
        faults.active("iam")


class _LimitedEngine(EmbeddedEngine):
    """An engine that declares it cannot be held to the warehouse and alarm guarantees."""

    canary_exemptions: ClassVar[dict[str, str]] = {
        "sql": "no Data API on this engine",
        "alarm": "alarms are not evaluated here",
    }


def test_a_guarantee_the_engine_lacks_is_skipped_with_its_reason_never_passed() -> None:
    with _LimitedEngine("us-east-1") as limited:
        section = run_canaries(limited, next(_environments))
    rows = by_name(section)
    assert rows["sql-syntax-error-failed"]["status"] == "skip"
    assert rows["sql-syntax-error-failed"]["detail"] == "no Data API on this engine"
    assert rows["alarm-fires-and-delivers"]["status"] == "skip"
    assert section["skipped"] == 3 and section["failed"] == 0
    assert canaries.failures(section) == []
    assert canaries.summary_line(section) == "canaries: 5 passed, 0 failed, 3 skipped"


def _report(section: dict[str, Any]) -> dict[str, Any]:
    from concert_platform.e2e import collect_failures

    report: dict[str, Any] = {
        "engine": "embedded",
        "environment": "can",
        "seconds": 1.0,
        "phases": {"canaries": 2.0},
        "errors": [],
        "stacks": [],
        "post_deploy": [],
        "resources": {"declared": 0, "verified": 0, "unverified": [], "cross_stack": []},
        "smoke": {"passed": 1, "failed": 0, "checks": [{"name": "a", "ok": True, "detail": ""}]},
        "iam": {
            "enforced": True,
            "denied": [],
            "unused": [],
            "canary_denied": section.get("denied", []),
        },
        "canaries": section,
        "teardown": {"clean": True, "remaining": []},
    }
    report["failures"] = collect_failures(report)
    report["ok"] = not report["failures"]
    return report


def test_reports_carry_a_line_per_canary_and_keep_canary_denials_apart() -> None:
    from concert_platform.execution_roles import summary_lines
    from concert_platform.reports import junit_xml, markdown

    section = {
        "ran": True,
        "passed": 1,
        "failed": 1,
        "skipped": 1,
        "results": [
            {
                "name": "iam-action-denied",
                "guarantee": "iam",
                "status": "pass",
                "detail": "denied",
                "seconds": 0.1,
            },
            {
                "name": "lambda-timeout",
                "guarantee": "timeout",
                "status": "fail",
                "detail": "ran 3 s",
                "seconds": 3,
            },
            {
                "name": "sql-syntax-error-failed",
                "guarantee": "sql",
                "status": "skip",
                "detail": "no Data API",
            },
        ],
        "denied": [
            {"canary": "iam-action-denied", "action": "dynamodb:PutItem", "resource": "arn:t", "message": "m"}
        ],
        "cleanup": [],
    }
    report = _report(section)
    assert not report["ok"]
    assert [(f["phase"], f["check"]) for f in report["failures"]] == [("canaries", "lambda-timeout")]
    suite = next(s for s in ET.fromstring(junit_xml(report)) if s.get("name") == "canaries")  # noqa: S314 - our own report
    cases = {c.get("name"): [child.tag for child in c] for c in suite.findall("testcase")}
    assert cases == {
        "iam-action-denied": [],
        "lambda-timeout": ["failure"],
        "sql-syntax-error-failed": ["skipped"],
    }
    assert canaries.console_lines(section) == [
        "  [green]pass[/green] iam-action-denied",
        "  [red]FAIL[/red] lambda-timeout: ran 3 s",
        "  [yellow]skipped[/yellow] sql-syntax-error-failed: no Data API",
    ]
    text = markdown(report)
    assert "- canaries: 1 passed, 1 failed, 1 skipped" in text
    assert "| lambda-timeout | timeout | FAIL | ran 3 s |" in text
    assert "| sql-syntax-error-failed | sql | skipped | no Data API |" in text
    assert "iam-action-denied: dynamodb:PutItem on arn:t denied, as expected" in text
    # the platform's own count stays 0: the canary's denial is shown apart and does not fail the run
    assert summary_lines(report["iam"])[0] == (
        "iam: 0 denied, 0 granted actions unused (1 engine-canary calls denied as expected, not counted)"
    )


def test_each_engine_names_only_guarantees_a_canary_proves_and_the_embedded_engine_none() -> None:
    from concert_platform.engines.aws import AwsEngine
    from concert_platform.engines.localstack import SERVED_CANARY_EXEMPTIONS, LocalStackEngine

    assert EmbeddedEngine.canary_exemptions == {}
    for exemptions in (
        AwsEngine.canary_exemptions,
        LocalStackEngine.canary_exemptions,
        SERVED_CANARY_EXEMPTIONS,
    ):
        assert set(exemptions) <= set(GUARANTEES)
        assert all(reason.strip() for reason in exemptions.values())
    # LocalStack community has no Data API; `engine serve` in another process cannot be asked to
    # evaluate its alarms; no engine may skip the stack-deletion canary
    assert "sql" in LocalStackEngine.canary_exemptions and "alarm" in SERVED_CANARY_EXEMPTIONS
    assert not any(
        "teardown" in e
        for e in (AwsEngine.canary_exemptions, LocalStackEngine.canary_exemptions, SERVED_CANARY_EXEMPTIONS)
    )


def test_a_platform_denial_still_fails_the_run_beside_the_canaries_expected_ones() -> None:
    from concert_platform.e2e import collect_failures

    section = {"ran": True, "passed": 1, "failed": 0, "skipped": 0, "results": [], "cleanup": []}
    section["denied"] = [
        {"canary": "iam-action-denied", "action": "dynamodb:PutItem", "resource": "arn:t", "message": "m"}
    ]
    report = _report(section)
    assert report["ok"]
    report["iam"]["denied"] = [
        {"function": "f", "role": "arn:role", "action": "s3:GetObject", "resource": "arn:b/k", "reason": "no"}
    ]
    failures = collect_failures(report)
    assert [(f["phase"], f["check"]) for f in failures] == [("iam", "f s3:GetObject")]


def test_an_interrupted_run_stops_the_canaries_at_their_next_wait_and_they_prove_nothing(engine: Any) -> None:
    """e2e sets the stop event on the first signal: a canary not started yet does not start, one
    waiting on the engine ends at its next reading; both are `skip`, never `pass`, and what the
    canaries made is still removed."""
    import threading

    environment = next(_environments)
    stop = threading.Event()
    stop.set()
    section = run_canaries(engine, environment, stop=stop)
    assert {row["status"] for row in section["results"]} == {"skip"}, section
    assert all("the run was interrupted" in row["detail"] for row in section["results"])
    assert section["cleanup"] == [] and find_leftovers(engine, environment) == []

    canaries._run_state.stop = stop  # a canary thread of a stopping run
    try:
        readings: list[int] = []
        with pytest.raises(canaries.CanaryStopped, match="interrupted"):
            canaries._poll(lambda: readings.append(1), lambda _value: False, seconds=30)
        assert readings == [1]  # one reading, then no wait
    finally:
        canaries._run_state.stop = None
