"""CloudWatch: alarms (single-metric and metric-math, every declared property by content) and
dashboards (the body compared as parsed JSON)."""

from __future__ import annotations

from typing import Any

from concert_platform.verify._base import (
    Field,
    Resource,
    Table,
    VerifyContext,
    as_set,
    first,
    json_document,
    register,
)
from concert_platform.verify._lifecycle import (
    Namer,
    Probe,
    Recorded,
    Remover,
    by_id_or_gone,
    paginate,
)


def _alarm(ctx: VerifyContext, r: Resource) -> dict[str, Any]:
    alarms = ctx.client("cloudwatch").describe_alarms(AlarmNames=[r.physical_id])["MetricAlarms"]
    return dict(first(alarms, lambda a: a["AlarmName"] == r.physical_id, f"alarm {r.physical_id}"))


def _dashboard(ctx: VerifyContext, r: Resource) -> dict[str, Any]:
    return dict(ctx.client("cloudwatch").get_dashboard(DashboardName=r.physical_id))


_SAME_NAME = (
    "AlarmName",
    "AlarmDescription",
    "ActionsEnabled",
    "ComparisonOperator",
    "Threshold",
    "EvaluationPeriods",
    "DatapointsToAlarm",
    "TreatMissingData",
    "Namespace",
    "MetricName",
    "Statistic",
    "ExtendedStatistic",
    "Period",
    "Unit",
    "EvaluateLowSampleCountPercentile",
    "ThresholdMetricId",
)
_SETS = ("AlarmActions", "OKActions", "InsufficientDataActions", "Dimensions", "Metrics")

register(
    Table(
        "AWS::CloudWatch::Alarm",
        _alarm,
        {
            **{name: Field(name) for name in _SAME_NAME},
            # DescribeAlarms answers in the template's own shape; order carries no meaning here.
            **{name: Field(name, as_set) for name in _SETS},
        },
        attributes={"Arn": lambda c, p: _alarm(c, Resource("", "", "", p, {}))["AlarmArn"]},
    ),
    Table(
        "AWS::CloudWatch::Dashboard",
        _dashboard,
        {"DashboardName": Field("DashboardName"), "DashboardBody": Field("DashboardBody", json_document)},
    ),
)


# ---- teardown: proving each resource gone, removing what a stack deletion left --------------


def _probe_alarm(c: Any, r: Recorded) -> str | None:
    by_id_or_gone(
        c("cloudwatch").describe_alarms(AlarmNames=[r.physical_id])["MetricAlarms"],
        "AlarmName",
        r.physical_id,
    )
    return None


#: type -> how to ask its service whether the resource still exists
PROBES: dict[str, Probe] = {
    "AWS::CloudWatch::Alarm": _probe_alarm,
    "AWS::CloudWatch::Dashboard": lambda c, r: (
        c("cloudwatch").get_dashboard(DashboardName=r.physical_id) and None
    ),
}

#: type -> how to delete one directly, for what a stack deletion left behind
REMOVERS: dict[str, Remover] = {
    "AWS::CloudWatch::Alarm": lambda c, r: c("cloudwatch").delete_alarms(AlarmNames=[r.physical_id]),
    "AWS::CloudWatch::Dashboard": lambda c, r: c("cloudwatch").delete_dashboards(
        DashboardNames=[r.physical_id]
    ),
}

#: what the name scan lists of this service: (kind, the names)
NAMES: tuple[tuple[str, Namer], ...] = (
    (
        "alarm",
        lambda c: (a["AlarmName"] for a in paginate(c("cloudwatch"), "describe_alarms", "MetricAlarms")),
    ),
    (
        "dashboard",
        lambda c: (
            d["DashboardName"] for d in paginate(c("cloudwatch"), "list_dashboards", "DashboardEntries")
        ),
    ),
)
