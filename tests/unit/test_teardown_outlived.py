"""Teardown judges the engine: what remains of a stack that reached DELETE_COMPLETE is a failure
naming stack, logical id, type and physical id, unless the template retains it on purpose."""

from __future__ import annotations

from typing import Any

from concert_platform.e2e import collect_failures
from concert_platform.teardown import Recorded, outlived_their_stacks


def recorded(logical_id: str, policy: str = "Delete", stack: str = "chatbot") -> Recorded:
    return Recorded(
        stack, f"s-{stack}", logical_id, "AWS::SQS::Queue", f"url/{logical_id}", deletion_policy=policy
    )


def test_only_what_a_deleted_stack_left_without_a_retain_policy_outlived_it() -> None:
    inventory = [
        recorded("Leaked"),
        recorded("Kept", "Retain"),
        recorded("StuckInFailedStack", stack="logging"),
        recorded("Unaskable"),
    ]
    remaining = [
        inventory[0].row("still exists"),
        inventory[1].row("still exists"),
        inventory[2].row("still exists"),
        inventory[3].row("could not ask (Throttling: slow down)"),
    ]
    outlived = outlived_their_stacks(inventory, remaining, deleted_stacks={"chatbot"})
    assert [row["logical_id"] for row in outlived] == ["Leaked"]


def test_a_survivor_fails_the_run_once_even_when_also_remaining() -> None:
    row = recorded("Leaked").row("survived its stack's DELETE_COMPLETE; removed directly afterwards")
    report: dict[str, Any] = {
        "errors": [],
        "post_deploy": [],
        "resources": {"unverified": [], "cross_stack": []},
        "smoke": {"checks": [{"name": "a", "ok": True, "detail": ""}]},
        "teardown": {"survived": [row], "remaining": [recorded("Leaked").row("still exists")]},
    }
    failures = collect_failures(report)
    assert failures == [
        {
            "phase": "teardown",
            "check": "chatbot/Leaked (AWS::SQS::Queue)",
            "reason": "url/Leaked: survived its stack's DELETE_COMPLETE; removed directly afterwards",
        }
    ]
