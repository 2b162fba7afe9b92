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
