"""X-Ray groups and sampling rules."""

from __future__ import annotations

from typing import Any

from concert_platform.verify._base import Field, Resource, Table, VerifyContext, first, register
from concert_platform.verify._lifecycle import (
    Namer,
    Probe,
    Recorded,
    Remover,
    first_or_gone,
)


def _group(ctx: VerifyContext, r: Resource) -> dict[str, Any]:
    return dict(ctx.client("xray").get_group(GroupARN=r.physical_id)["Group"])


def _sampling_rule(ctx: VerifyContext, r: Resource) -> dict[str, Any]:
    records = ctx.client("xray").get_sampling_rules()["SamplingRuleRecords"]
    record = first(
        records, lambda x: x["SamplingRule"].get("RuleARN") == r.physical_id, f"sampling rule {r.physical_id}"
    )
    return {"SamplingRule": record["SamplingRule"]}


register(
    Table(
        "AWS::XRay::Group",
        _group,
        {
            "GroupName": Field("GroupName"),
            "FilterExpression": Field("FilterExpression"),
            "InsightsConfiguration": Field("InsightsConfiguration"),
        },
        attributes={"GroupARN": lambda _c, p: p},
    ),
    Table("AWS::XRay::SamplingRule", _sampling_rule, {"SamplingRule": Field("SamplingRule")}),
)


# ---- teardown: proving each resource gone, removing what a stack deletion left --------------


def _probe_sampling_rule(c: Any, r: Recorded) -> str | None:
    records = c("xray").get_sampling_rules()["SamplingRuleRecords"]
    first_or_gone(
        x
        for x in records
        if r.physical_id in (x["SamplingRule"].get("RuleARN"), x["SamplingRule"].get("RuleName"))
    )
    return None


#: type -> how to ask its service whether the resource still exists
PROBES: dict[str, Probe] = {
    "AWS::XRay::Group": lambda c, r: c("xray").get_group(GroupARN=r.physical_id) and None,
    "AWS::XRay::SamplingRule": _probe_sampling_rule,
}

#: type -> how to delete one directly, for what a stack deletion left behind
REMOVERS: dict[str, Remover] = {
    "AWS::XRay::Group": lambda c, r: c("xray").delete_group(GroupARN=r.physical_id),
    "AWS::XRay::SamplingRule": lambda c, r: c("xray").delete_sampling_rule(RuleARN=r.physical_id),
}

#: what the name scan lists of this service: (kind, the names)
NAMES: tuple[tuple[str, Namer], ...] = (
    ("x-ray group", lambda c: (g["GroupName"] for g in c("xray").get_groups().get("Groups", []))),
)
