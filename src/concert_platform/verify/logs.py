"""CloudWatch Logs: log groups, metric filters, subscription filters, Insights query definitions."""

from __future__ import annotations

from typing import Any

from concert_platform.verify._base import (
    Field,
    Resource,
    Table,
    VerifyContext,
    as_set,
    first,
    register,
    same_id,
)
from concert_platform.verify._lifecycle import (
    Gone,
    Namer,
    Probe,
    Recorded,
    Remover,
    first_or_gone,
    paginate,
)


def _log_group(ctx: VerifyContext, r: Resource) -> dict[str, Any]:
    groups = ctx.client("logs").describe_log_groups(logGroupNamePrefix=r.physical_id)["logGroups"]
    return dict(first(groups, lambda g: g["logGroupName"] == r.physical_id, f"log group {r.physical_id}"))


def _metric_filter(ctx: VerifyContext, r: Resource) -> dict[str, Any]:
    filters = ctx.client("logs").describe_metric_filters(
        logGroupName=r.props.get("LogGroupName"), filterNamePrefix=r.physical_id
    )["metricFilters"]
    return dict(first(filters, lambda f: f["filterName"] == r.physical_id, f"metric filter {r.physical_id}"))


def _transformations(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    keys = {
        "metricName": "MetricName",
        "metricNamespace": "MetricNamespace",
        "metricValue": "MetricValue",
        "defaultValue": "DefaultValue",
        "unit": "Unit",
    }
    shaped = []
    for item in items:
        transformation = {prop: item[key] for key, prop in keys.items() if key in item}
        if item.get("dimensions"):
            transformation["Dimensions"] = [{"Key": k, "Value": v} for k, v in item["dimensions"].items()]
        shaped.append(transformation)
    return shaped


def _subscription_filter(ctx: VerifyContext, r: Resource) -> dict[str, Any]:
    filters = ctx.client("logs").describe_subscription_filters(
        logGroupName=r.props.get("LogGroupName"), filterNamePrefix=r.physical_id
    )["subscriptionFilters"]
    return dict(
        first(filters, lambda f: f["filterName"] == r.physical_id, f"subscription filter {r.physical_id}")
    )


def _query_definition(ctx: VerifyContext, r: Resource) -> dict[str, Any]:
    definitions = ctx.client("logs").describe_query_definitions(
        queryDefinitionNamePrefix=r.props.get("Name", "")
    )["queryDefinitions"]
    return dict(
        first(
            definitions,
            lambda d: d["queryDefinitionId"] == r.physical_id,
            f"query definition {r.physical_id}",
        )
    )


register(
    Table(
        "AWS::Logs::LogGroup",
        _log_group,
        {
            "LogGroupName": Field("logGroupName"),
            "RetentionInDays": Field("retentionInDays"),
            "KmsKeyId": Field("kmsKeyId", same_id),
            "LogGroupClass": Field("logGroupClass"),
        },
        attributes={"Arn": lambda c, p: c.arn("logs", f"log-group:{p}:*")},
    ),
    Table(
        "AWS::Logs::MetricFilter",
        _metric_filter,
        {
            "FilterName": Field("filterName"),
            "LogGroupName": Field("logGroupName"),
            "FilterPattern": Field("filterPattern"),
            "MetricTransformations": Field("metricTransformations", as_set, view=_transformations),
        },
    ),
    Table(
        "AWS::Logs::SubscriptionFilter",
        _subscription_filter,
        {
            "FilterName": Field("filterName"),
            "LogGroupName": Field("logGroupName"),
            "FilterPattern": Field("filterPattern"),
            "DestinationArn": Field("destinationArn"),
            "RoleArn": Field("roleArn"),
            "Distribution": Field("distribution"),
        },
    ),
    Table(
        "AWS::Logs::QueryDefinition",
        _query_definition,
        {
            "Name": Field("name"),
            "QueryString": Field("queryString"),
            "LogGroupNames": Field("logGroupNames", as_set),
        },
    ),
)


# ---- teardown: proving each resource gone, removing what a stack deletion left --------------


def _probe_log_group(c: Any, r: Recorded) -> str | None:
    groups = c("logs").describe_log_groups(logGroupNamePrefix=r.physical_id)["logGroups"]
    first_or_gone(g for g in groups if g["logGroupName"] == r.physical_id)
    return None


def _probe_metric_filter(c: Any, r: Recorded) -> str | None:
    group = r.properties.get("LogGroupName")
    kwargs = {"logGroupName": group} if isinstance(group, str) else {}
    filters = c("logs").describe_metric_filters(filterNamePrefix=r.physical_id, **kwargs)["metricFilters"]
    first_or_gone(f for f in filters if f["filterName"] == r.physical_id)
    return None


def _probe_subscription_filter(c: Any, r: Recorded) -> str | None:
    group = r.properties.get("LogGroupName")
    if not isinstance(group, str):
        raise Gone
    filters = c("logs").describe_subscription_filters(logGroupName=group)["subscriptionFilters"]
    first_or_gone(f for f in filters if f["filterName"] == r.physical_id)
    return None


def _probe_query_definition(c: Any, r: Recorded) -> str | None:
    found = c("logs").describe_query_definitions()["queryDefinitions"]
    first_or_gone(q for q in found if q["queryDefinitionId"] == r.physical_id)
    return None


#: type -> how to ask its service whether the resource still exists
PROBES: dict[str, Probe] = {
    "AWS::Logs::LogGroup": _probe_log_group,
    "AWS::Logs::MetricFilter": _probe_metric_filter,
    "AWS::Logs::SubscriptionFilter": _probe_subscription_filter,
    "AWS::Logs::QueryDefinition": _probe_query_definition,
}

#: type -> how to delete one directly, for what a stack deletion left behind
REMOVERS: dict[str, Remover] = {
    "AWS::Logs::LogGroup": lambda c, r: c("logs").delete_log_group(logGroupName=r.physical_id),
    "AWS::Logs::MetricFilter": lambda c, r: c("logs").delete_metric_filter(
        logGroupName=str(r.properties.get("LogGroupName")), filterName=r.physical_id
    ),
    "AWS::Logs::SubscriptionFilter": lambda c, r: c("logs").delete_subscription_filter(
        logGroupName=str(r.properties.get("LogGroupName")), filterName=r.physical_id
    ),
    "AWS::Logs::QueryDefinition": lambda c, r: c("logs").delete_query_definition(
        queryDefinitionId=r.physical_id
    ),
}

#: what the name scan lists of this service: (kind, the names)
NAMES: tuple[tuple[str, Namer], ...] = (
    (
        "log group",
        lambda c: (g["logGroupName"] for g in paginate(c("logs"), "describe_log_groups", "logGroups")),
    ),
)
