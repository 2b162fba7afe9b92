"""CloudWatch Logs: AWS::Logs::MetricFilter, ::SubscriptionFilter and ::QueryDefinition.

moto has no query definitions at all; this module adds them to the logs backend and answers
PutQueryDefinition / DescribeQueryDefinitions / DeleteQueryDefinition on the wire. Filters are
stored and described; metric filters do not produce metrics and subscription filters do not
deliver (the smoke run emulates delivery with concert_platform.filter_pattern)."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from moto.core.common_models import CloudFormationModel
from moto.logs import models as logs_models
from moto.logs.responses import LogsResponse

from concert_platform.engines.moto_ext._base import EmulatedResource


def _backend(account_id: str, region_name: str) -> Any:
    return logs_models.logs_backends[account_id][region_name]


def _query_definitions(backend: Any) -> dict[str, dict[str, Any]]:
    if not hasattr(backend, "concert_query_definitions"):
        backend.concert_query_definitions = {}
    definitions: dict[str, dict[str, Any]] = backend.concert_query_definitions
    return definitions


def put_query_definition(
    backend: Any, name: str, query: str, groups: list[str], definition_id: str | None = None
) -> str:
    definition_id = definition_id or str(uuid.uuid4())
    _query_definitions(backend)[definition_id] = {
        "queryDefinitionId": definition_id,
        "name": name,
        "queryString": query,
        "logGroupNames": list(groups),
        "lastModified": int(time.time() * 1000),
    }
    return definition_id


class MetricFilter(EmulatedResource, CloudFormationModel):
    CFN_TYPE = "AWS::Logs::MetricFilter"

    def __init__(self, name: str, log_group: str) -> None:
        self.name = name
        self.log_group = log_group

    @property
    def physical_resource_id(self) -> str:
        return self.name

    @classmethod
    def create(
        cls, properties: dict[str, Any], account_id: str, region_name: str, logical_id: str
    ) -> MetricFilter:
        name = properties.get("FilterName") or f"{logical_id}-{uuid.uuid4().hex[:12]}"
        transformations = [
            {
                "metricName": t["MetricName"],
                "metricNamespace": t["MetricNamespace"],
                "metricValue": str(t["MetricValue"]),
                **({"defaultValue": t["DefaultValue"]} if "DefaultValue" in t else {}),
                **({"unit": t["Unit"]} if "Unit" in t else {}),
                **(
                    {"dimensions": {d["Key"]: d["Value"] for d in t["Dimensions"]}}
                    if t.get("Dimensions")
                    else {}
                ),
            }
            for t in properties["MetricTransformations"]
        ]
        backend = _backend(account_id, region_name)
        if properties["LogGroupName"] not in backend.groups:
            from moto.logs.exceptions import ResourceNotFoundException

            raise ResourceNotFoundException(
                f"The specified log group does not exist: {properties['LogGroupName']}"
            )
        backend.put_metric_filter(
            name, properties["FilterPattern"], properties["LogGroupName"], transformations
        )
        return cls(name, properties["LogGroupName"])

    def remove(self, account_id: str, region_name: str) -> None:
        _backend(account_id, region_name).delete_metric_filter(self.name, self.log_group)


class SubscriptionFilter(EmulatedResource, CloudFormationModel):
    CFN_TYPE = "AWS::Logs::SubscriptionFilter"

    def __init__(self, name: str, log_group: str) -> None:
        self.name = name
        self.log_group = log_group

    @property
    def physical_resource_id(self) -> str:
        return self.name

    @classmethod
    def create(
        cls, properties: dict[str, Any], account_id: str, region_name: str, logical_id: str
    ) -> SubscriptionFilter:
        name = properties.get("FilterName") or f"{logical_id}-{uuid.uuid4().hex[:12]}"
        _backend(account_id, region_name).put_subscription_filter(
            properties["LogGroupName"],
            name,
            properties["FilterPattern"],
            properties["DestinationArn"],
            properties.get("RoleArn", ""),
        )
        return cls(name, properties["LogGroupName"])

    def remove(self, account_id: str, region_name: str) -> None:
        backend = _backend(account_id, region_name)
        if self.log_group in backend.groups:
            backend.delete_subscription_filter(self.log_group, self.name)


class QueryDefinition(EmulatedResource, CloudFormationModel):
    CFN_TYPE = "AWS::Logs::QueryDefinition"
    ATTRIBUTES = ("QueryDefinitionId",)

    def __init__(self, definition_id: str) -> None:
        self.QueryDefinitionId = definition_id

    @property
    def physical_resource_id(self) -> str:
        return self.QueryDefinitionId

    @classmethod
    def create(
        cls, properties: dict[str, Any], account_id: str, region_name: str, logical_id: str
    ) -> QueryDefinition:
        backend = _backend(account_id, region_name)
        return cls(
            put_query_definition(
                backend, properties["Name"], properties["QueryString"], properties.get("LogGroupNames", [])
            )
        )

    def remove(self, account_id: str, region_name: str) -> None:
        _query_definitions(_backend(account_id, region_name)).pop(self.QueryDefinitionId, None)


def _handle_put_query_definition(self: Any) -> str:
    params = json.loads(self.body or "{}")
    definition_id = put_query_definition(
        self.logs_backend,
        params["name"],
        params["queryString"],
        params.get("logGroupNames", []),
        params.get("queryDefinitionId"),
    )
    return json.dumps({"queryDefinitionId": definition_id})


def _handle_describe_query_definitions(self: Any) -> str:
    params = json.loads(self.body or "{}")
    prefix = params.get("queryDefinitionNamePrefix", "")
    found = [d for d in _query_definitions(self.logs_backend).values() if d["name"].startswith(prefix)]
    return json.dumps({"queryDefinitions": sorted(found, key=lambda d: d["name"])})


def _handle_delete_query_definition(self: Any) -> str:
    params = json.loads(self.body or "{}")
    removed = _query_definitions(self.logs_backend).pop(params["queryDefinitionId"], None)
    return json.dumps({"success": removed is not None})


def patch_wire() -> None:
    LogsResponse.put_query_definition = _handle_put_query_definition  # type: ignore[attr-defined]
    LogsResponse.describe_query_definitions = _handle_describe_query_definitions  # type: ignore[attr-defined]
    LogsResponse.delete_query_definition = _handle_delete_query_definition  # type: ignore[attr-defined]


def patch_log_group_model() -> None:
    """Log groups created by CloudFormation keep their KmsKeyId (moto drops it); GetAtt Arn as on AWS."""
    group_cls = logs_models.LogGroup
    original = group_cls.create_from_cloudformation_json.__func__  # type: ignore[attr-defined]

    def create_from_cloudformation_json(
        cls: Any,
        resource_name: str,
        cloudformation_json: Any,
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> Any:
        group = original(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)
        kms_key = cloudformation_json.get("Properties", {}).get("KmsKeyId")
        if kms_key:
            group.kms_key_id = kms_key
        return group

    group_cls.create_from_cloudformation_json = classmethod(create_from_cloudformation_json)  # type: ignore[assignment]
    original_attribute = group_cls.get_cfn_attribute

    def get_cfn_attribute(self: Any, attribute_name: str) -> Any:
        # As on AWS, a log group's GetAtt Arn ends in ":*" (policies granting it cover its streams).
        value = original_attribute(self, attribute_name)
        return value if attribute_name != "Arn" or str(value).endswith(":*") else f"{value}:*"

    group_cls.get_cfn_attribute = get_cfn_attribute


def patch_lambda_delivery() -> None:
    """moto delivers subscription-filter matches to Lambda by running the function in Docker;
    with no Docker engine that only prints errors. Delivery is left to the smoke run, which
    evaluates the filter pattern and invokes the deployed handler (concert_platform.smoke)."""
    from moto.awslambda import models as lambda_models

    def send_log_event(self: Any, *args: Any, **kwargs: Any) -> None:
        return None

    lambda_models.LambdaBackend.send_log_event = send_log_event
