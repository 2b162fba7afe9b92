"""CloudWatch Logs: AWS::Logs::MetricFilter and AWS::Logs::QueryDefinition, on LocalStack's own
Logs API (PutMetricFilter / DescribeMetricFilters / DeleteMetricFilter and PutQueryDefinition /
DescribeQueryDefinitions / DeleteQueryDefinition).

LocalStack's Logs hands every operation it does not implement to its bundled moto, which has no
query definitions. ``concert_logs_query_definitions`` (an ``on_infra_start`` hook) adds the three
query-definition operations to moto's Logs wire, with the project's moto extension that the
embedded engine uses (``concert_platform.engines.moto_ext.logs.patch_wire``): definitions are
stored and described, Logs Insights queries do not run."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError
from localstack.runtime import hooks
from localstack.services.cloudformation.provider_utils import generate_default_name

from ._base import ExtensionProvider, ResourceRequest, done, failed, is_not_found, schema


def _transformation(t: dict) -> dict[str, Any]:
    """A template MetricTransformation (PascalCase, Dimensions as a list) as the API wants it."""
    out: dict[str, Any] = {
        "metricName": t["MetricName"],
        "metricNamespace": t["MetricNamespace"],
        "metricValue": str(t["MetricValue"]),
    }
    if t.get("DefaultValue") is not None:
        out["defaultValue"] = float(t["DefaultValue"])
    if t.get("Unit"):
        out["unit"] = t["Unit"]
    if t.get("Dimensions"):
        out["dimensions"] = {d["Key"]: d["Value"] for d in t["Dimensions"]}
    return out


class MetricFilterProvider(ExtensionProvider):
    """PutMetricFilter (create and in-place update: pattern and transformations),
    DeleteMetricFilter. Ref is the filter name (generated when the template gives none)."""

    TYPE = "AWS::Logs::MetricFilter"
    SCHEMA = schema(TYPE, ["FilterName"], create_only=["FilterName", "LogGroupName"])

    def _put(self, request: ResourceRequest, model: dict) -> None:
        params: dict[str, Any] = {
            "logGroupName": model["LogGroupName"],
            "filterName": model["FilterName"],
            "filterPattern": model.get("FilterPattern", ""),
            "metricTransformations": [_transformation(t) for t in model["MetricTransformations"]],
        }
        request.aws_client_factory.logs.put_metric_filter(**params)

    def create(self, request: ResourceRequest):
        model = request.desired_state
        if not model.get("FilterName"):
            model["FilterName"] = generate_default_name(request.stack_name, request.logical_resource_id)
        self._put(request, model)
        return done(model, request)

    def describe(self, request: ResourceRequest):
        model = request.desired_state
        found = request.aws_client_factory.logs.describe_metric_filters(
            logGroupName=model["LogGroupName"], filterNamePrefix=model["FilterName"]
        )["metricFilters"]
        match = [f for f in found if f["filterName"] == model["FilterName"]]
        if not match:
            return None
        return {**model, "FilterPattern": match[0].get("filterPattern", "")}

    def update(self, request: ResourceRequest):
        previous = request.previous_state or {}
        model = {**request.desired_state, "FilterName": previous["FilterName"]}
        # AWS replaces a filter put under the same name; LocalStack's Logs (moto) appends a
        # second one and keeps answering the first, so the old one goes first
        request.aws_client_factory.logs.delete_metric_filter(
            logGroupName=previous.get("LogGroupName", model["LogGroupName"]),
            filterName=model["FilterName"],
        )
        self._put(request, model)
        return done(model, request)

    def delete(self, request: ResourceRequest):
        model = request.desired_state
        try:
            request.aws_client_factory.logs.delete_metric_filter(
                logGroupName=model["LogGroupName"], filterName=model["FilterName"]
            )
        except ClientError as e:
            if not is_not_found(e):
                raise
        return done(model, request)


class QueryDefinitionProvider(ExtensionProvider):
    """PutQueryDefinition (create; update passes the id so the same definition changes),
    DeleteQueryDefinition. Ref and GetAtt QueryDefinitionId are the id the API answers."""

    TYPE = "AWS::Logs::QueryDefinition"
    SCHEMA = schema(TYPE, ["QueryDefinitionId"], read_only=["QueryDefinitionId"])

    def _put(self, request: ResourceRequest, model: dict, definition_id: str | None = None):
        params: dict[str, Any] = {"name": model["Name"], "queryString": model["QueryString"]}
        if model.get("LogGroupNames"):
            params["logGroupNames"] = list(model["LogGroupNames"])
        if definition_id:
            params["queryDefinitionId"] = definition_id
        try:
            return request.aws_client_factory.logs.put_query_definition(**params)
        except ClientError as e:
            if e.response.get("Error", {}).get("Code") == "InternalFailure":
                return None
            raise

    def create(self, request: ResourceRequest):
        model = request.desired_state
        response = self._put(request, model)
        if response is None:
            return failed(
                "AWS::Logs::QueryDefinition needs the Logs API PutQueryDefinition, which this "
                "LocalStack does not answer (is the concert_logs_query_definitions hook installed, "
                "and concert-platform beside LocalStack?)"
            )
        model["QueryDefinitionId"] = response["queryDefinitionId"]
        return done(model, request)

    def describe(self, request: ResourceRequest):
        model = request.desired_state
        found = request.aws_client_factory.logs.describe_query_definitions(
            queryDefinitionNamePrefix=model["Name"]
        )["queryDefinitions"]
        match = [d for d in found if d["queryDefinitionId"] == model["QueryDefinitionId"]]
        if not match:
            return None
        return {
            **model,
            "QueryString": match[0]["queryString"],
            "LogGroupNames": match[0].get("logGroupNames", []),
        }

    def update(self, request: ResourceRequest):
        previous = request.previous_state or {}
        model = {**request.desired_state, "QueryDefinitionId": previous["QueryDefinitionId"]}
        if self._put(request, model, model["QueryDefinitionId"]) is None:
            return failed("PutQueryDefinition is not implemented by this LocalStack")
        return done(model, request)

    def delete(self, request: ResourceRequest):
        model = request.desired_state
        try:
            request.aws_client_factory.logs.delete_query_definition(
                queryDefinitionId=model["QueryDefinitionId"]
            )
        except ClientError as e:
            if not is_not_found(e):
                raise
        return done(model, request)


@hooks.on_infra_start()
def concert_logs_query_definitions() -> None:
    from concert_platform.engines.moto_ext import logs as moto_logs

    moto_logs.patch_wire()
