"""EventBridge rules and their targets."""

from __future__ import annotations

from typing import Any

from concert_platform.verify._base import Field, Resource, Table, VerifyContext, as_set, register


def _rule(ctx: VerifyContext, r: Resource) -> dict[str, Any]:
    events = ctx.client("events")
    name = r.physical_id.split("|")[-1]
    rule = dict(events.describe_rule(Name=name))
    rule["Targets"] = events.list_targets_by_rule(Rule=name)["Targets"]
    return rule


register(
    Table(
        "AWS::Events::Rule",
        _rule,
        {
            "Name": Field("Name"),
            "Description": Field("Description"),
            "ScheduleExpression": Field("ScheduleExpression"),
            "EventPattern": Field("EventPattern"),
            "State": Field("State"),
            "Targets": Field("Targets", as_set),  # each target's declared keys (Id, Arn, RetryPolicy...)
        },
        attributes={"Arn": lambda c, p: c.client("events").describe_rule(Name=p.split("|")[-1])["Arn"]},
    )
)
