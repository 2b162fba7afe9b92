"""X-Ray groups and sampling rules."""

from __future__ import annotations

from typing import Any

from concert_platform.verify._base import Field, Resource, Table, VerifyContext, first, register


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
