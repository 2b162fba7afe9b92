"""EventBridge rules and their targets."""

from __future__ import annotations

from typing import Any

from concert_platform.verify._base import Field, Resource, Table, VerifyContext, as_set, register
from concert_platform.verify._lifecycle import (
    Namer,
    Probe,
    Remover,
)


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


# ---- teardown: proving each resource gone, removing what a stack deletion left --------------


#: type -> how to ask its service whether the resource still exists
PROBES: dict[str, Probe] = {
    "AWS::Events::Rule": lambda c, r: c("events").describe_rule(Name=r.physical_id.split("|")[-1]) and None,
}

#: type -> how to delete one directly, for what a stack deletion left behind
REMOVERS: dict[str, Remover] = {
    "AWS::Events::Rule": lambda c, r: c("events").delete_rule(Name=r.physical_id.split("|")[-1], Force=True),
}

#: what the name scan lists of this service: (kind, the names)
NAMES: tuple[tuple[str, Namer], ...] = (
    ("rule", lambda c: (r["Name"] for r in c("events").list_rules().get("Rules", []))),
)
