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
