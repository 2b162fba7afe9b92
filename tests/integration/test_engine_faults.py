"""An engine that stops behaving as AWS does fails the whole `concert-platform e2e`, named.

Each test switches one guarantee of the embedded engine off (CONCERT_TEST_ENGINE_FAULT, a switch
only tests set; engines/moto_ext/faults.py) and runs the e2e command in this process against a
fresh embedded engine: the engine canary that proves the guarantee fails by name, and for stack
deletion the teardown also names every resource that outlived its stack's DELETE_COMPLETE."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from tests.integration.conftest import run_e2e

from concert_platform.engines.moto_ext import faults

pytestmark = [pytest.mark.integration, pytest.mark.own_engine]


def failures(report: dict[str, Any]) -> dict[str, str]:
    return {f"{f['phase']}: {f['check']}": f["reason"] for f in report["failures"]}


def test_a_resource_that_outlives_its_stack_fails_the_run_naming_it(
    tmp_path: Path, capsys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(faults.ENV, "teardown")  # every AWS::SQS::Queue survives its stack
    code, report = run_e2e("fault-td", tmp_path, capsys)
    assert code == 1
    found = failures(report)
    for stack, logical_id, queue in (
        ("chatbot", "ChatbotDeadLetterQueue", "concert-chatbot-jobs-dlq-fault-td"),
        ("logging", "ErrorProcessorDeadLetterQueue", "concert-error-processor-dlq-fault-td"),
    ):
        reason = found[f"teardown: {stack}/{logical_id} (AWS::SQS::Queue)"]
        assert queue in reason, reason  # the physical id (the queue's URL)
        assert "survived its stack's DELETE_COMPLETE; removed directly afterwards" in reason
    assert (
        "reached DELETE_COMPLETE, but its resource CanaryQueue"
        in found["canaries: stack-delete-leaves-nothing"]
    )
    teardown = report["teardown"]
    assert teardown["clean"] is False
    assert teardown["remaining"] == [] and teardown["leftovers"] == []  # removed, and proven gone
    # the chatbot queue's policy lives on the queue, so it survives with it
    survived = {(row["logical_id"], row["type"]) for row in teardown["survived"]}
    assert survived == {
        ("ChatbotDeadLetterQueue", "AWS::SQS::Queue"),
        ("ChatbotDeadLetterQueuePolicy", "AWS::SQS::QueuePolicy"),
        ("ErrorProcessorDeadLetterQueue", "AWS::SQS::Queue"),
    }
    assert teardown["removed_directly"] == len(survived)
    # nothing else failed: the rest of the run was sound
    assert {key.split(": ")[0] for key in found} == {"teardown", "canaries"}


def test_an_engine_that_stops_enforcing_iam_fails_the_run_by_its_canaries(
    tmp_path: Path, capsys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(faults.ENV, "iam")
    code, report = run_e2e("fault-iam", tmp_path, capsys)
    assert code == 1
    found = failures(report)
    assert set(found) == {"canaries: iam-action-denied", "canaries: iam-resource-denied"}, found
    assert "dynamodb:PutItem on arn:aws:dynamodb:" in found["canaries: iam-action-denied"]
    assert "succeeded for a role whose policy does not allow it" in found["canaries: iam-action-denied"]
    # without the canaries this run would have passed: the functions' calls were all "allowed"
    assert report["iam"]["denied"] == []
    assert report["teardown"]["clean"]
