"""CloudWatch Logs: AWS::Logs::MetricFilter, ::SubscriptionFilter and ::QueryDefinition.

moto has no query definitions at all; this module adds them to the logs backend and answers
PutQueryDefinition / DescribeQueryDefinitions / DeleteQueryDefinition on the wire.

Filters act on every event put into a log group (over the wire or by
moto_ext.lambda_telemetry), with patterns evaluated by concert_platform.filter_pattern:
- a metric filter turns each matching event into a datapoint of its metric transformation
  (value and dimensions from the event's JSON, `DefaultValue` when a batch has no match);
- a subscription filter delivers only the matching events (moto sends all of them) to its
  destination; a Lambda destination runs through moto_ext.lambda_runtime with the payload
  CloudWatch Logs sends (gzip + base64 `awslogs.data`).
Each delivery, and each pattern the engine could not evaluate, is kept in SUBSCRIPTION_DELIVERIES
and FILTER_ERRORS for the smoke run and the tests.

A subscription's Lambda destination runs asynchronously, as CloudWatch Logs invokes it on AWS: the
call that put the events returns at once, and one delivery thread runs the deliveries in the
order they were sent. `settle_deliveries()` waits until every delivery sent so far has run (the
engine's `settle()`: at the end of each smoke flow, before a teardown and when the engine stops)."""

from __future__ import annotations

import base64
import gzip
import json
import threading
import time
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_for
from datetime import UTC, datetime
from typing import Any

from moto.core.common_models import CloudFormationModel
from moto.logs import models as logs_models
from moto.logs.responses import LogsResponse

from concert_platform.engines.moto_ext._base import EmulatedResource, after_cloudformation_create
from concert_platform.filter_pattern import compile_pattern

#: every subscription delivery: {"logGroup", "filterName", "destination", "events", "ok", "error"}
SUBSCRIPTION_DELIVERIES: list[dict[str, Any]] = []
#: filters whose pattern the engine cannot evaluate: {"logGroup", "filterName", "error"}
FILTER_ERRORS: list[dict[str, Any]] = []


#: the one thread that runs subscription deliveries, in order; what it has not finished yet
_DELIVERY = ThreadPoolExecutor(max_workers=1, thread_name_prefix="logs-subscription-delivery")
_PENDING: set[Future[None]] = set()
_PENDING_LOCK = threading.Lock()


def _deliver_later(deliver: Any) -> None:
    future = _DELIVERY.submit(deliver)
    with _PENDING_LOCK:
        _PENDING.add(future)
    future.add_done_callback(_forget)


def _forget(future: Future[None]) -> None:
    with _PENDING_LOCK:
        _PENDING.discard(future)


def settle_deliveries(timeout: float | None = 60.0) -> bool:
    """Wait until every subscription delivery sent so far has run (a delivery's own invocation
    is bounded by its function's timeout); False when `timeout` passed first."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        with _PENDING_LOCK:
            pending = set(_PENDING)
        if not pending:
            return True
        remaining = None if deadline is None else deadline - time.monotonic()
        if remaining is not None and remaining <= 0:
            return False
        wait_for(pending, timeout=remaining)


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

    def keep_key(group: Any, properties: dict[str, Any], _account_id: str, _region_name: str) -> None:
        if properties.get("KmsKeyId"):
            group.kms_key_id = properties["KmsKeyId"]

    after_cloudformation_create(group_cls, keep_key)
    original_attribute = group_cls.get_cfn_attribute

    def get_cfn_attribute(self: Any, attribute_name: str) -> Any:
        # As on AWS, a log group's GetAtt Arn ends in ":*" (policies granting it cover its streams).
        value = original_attribute(self, attribute_name)
        return value if attribute_name != "Arn" or str(value).endswith(":*") else f"{value}:*"

    group_cls.get_cfn_attribute = get_cfn_attribute


def _matcher(group: str, name: str, pattern: str) -> Any:
    try:
        return compile_pattern(pattern)
    except ValueError as exc:
        error = {"logGroup": group, "filterName": name, "error": str(exc)}
        if error not in FILTER_ERRORS:
            FILTER_ERRORS.append(error)
        return None


def _select(document: Any, selector: str) -> Any:
    value = document
    for part in selector.removeprefix("$.").split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def metric_datapoint(transformation: dict[str, Any], message: str, stamp_ms: int) -> dict[str, Any] | None:
    """The datapoint one matching event gives a metric transformation (None when it gives none)."""
    raw = str(transformation["metricValue"])
    document: Any = None
    if raw.startswith("$.") or any(
        str(v).startswith("$.") for v in (transformation.get("dimensions") or {}).values()
    ):
        try:
            document = json.loads(message)
        except ValueError:
            return None
    value = _select(document, raw) if raw.startswith("$.") else raw
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None  # CloudWatch publishes nothing for a non-numeric value
    dimensions = []
    for key, selector in (transformation.get("dimensions") or {}).items():
        dimension = _select(document, selector) if str(selector).startswith("$.") else selector
        if dimension is None:
            return None
        dimensions.append({"Name": key, "Value": str(dimension)})
    return {
        "MetricName": transformation["metricName"],
        "Value": number,
        "Unit": transformation.get("unit") or "None",
        "Dimensions": dimensions,
        "Timestamp": datetime.fromtimestamp(stamp_ms / 1000, UTC).replace(tzinfo=None),
    }


def apply_metric_filters(account_id: str, region: str, group: str, events: list[Any]) -> None:
    from moto.cloudwatch.models import cloudwatch_backends

    cloudwatch = cloudwatch_backends[account_id][region]
    for metric_filter in _backend(account_id, region).filters.get_matching_filters(log_group_name=group):
        matcher = _matcher(group, metric_filter["filterName"], metric_filter["filterPattern"])
        if matcher is None:
            continue
        matching = [e for e in events if matcher(e.message)]
        for transformation in metric_filter["metricTransformations"]:
            data = [
                point
                for e in matching
                if (point := metric_datapoint(transformation, e.message, e.timestamp)) is not None
            ]
            if not matching and transformation.get("defaultValue") is not None and events:
                data = [
                    {
                        "MetricName": transformation["metricName"],
                        "Value": float(transformation["defaultValue"]),
                        "Unit": transformation.get("unit") or "None",
                        "Timestamp": datetime.fromtimestamp(events[-1].timestamp / 1000, UTC).replace(
                            tzinfo=None
                        ),
                    }
                ]
            if data:
                cloudwatch.put_metric_data(transformation["metricNamespace"], data)


def patch_log_delivery() -> None:
    """Metric filters produce metric data; subscription filters deliver only matching events,
    and a Lambda destination runs (moto would need Docker)."""
    from moto.awslambda import models as lambda_models

    stream_cls = logs_models.LogStream
    original_put = stream_cls.put_log_events
    original_send = stream_cls._send_log_events

    def put_log_events(self: Any, log_events: list[dict[str, Any]]) -> str:
        before = len(self.events)
        token = original_put(self, log_events)
        apply_metric_filters(self.account_id, self.region, self.log_group.name, self.events[before:])
        return str(token)

    def send_log_events(
        self: Any, service: str, destination_arn: str, filter_name: str, log_events: list[dict[str, Any]]
    ) -> None:
        subscription = self.log_group.subscription_filters.get(filter_name)
        matcher = _matcher(
            self.log_group.name, filter_name, subscription.filter_pattern if subscription else ""
        )
        matching = [e for e in log_events if matcher and matcher(e["message"])]
        if matching:
            original_send(self, service, destination_arn, filter_name, matching)

    def send_log_event(
        self: Any,
        function_arn: str,
        filter_name: str,
        log_group_name: str,
        log_stream_name: str,
        log_events: list[dict[str, Any]],
    ) -> None:
        from concert_platform.engines.moto_ext.lambda_runtime import run_function

        data = {
            "messageType": "DATA_MESSAGE",
            "owner": self.account_id,
            "logGroup": log_group_name,
            "logStream": log_stream_name,
            "subscriptionFilters": [filter_name],
            "logEvents": log_events,
        }
        payload = base64.b64encode(gzip.compress(json.dumps(data).encode())).decode()
        account_id, region_name = self.account_id, self.region_name

        def deliver() -> None:
            outcome = run_function(
                function_arn,
                {"awslogs": {"data": payload}},
                account_id,
                region_name,
                source="logs",
                log_group=log_group_name,
                filter_name=filter_name,
            )
            SUBSCRIPTION_DELIVERIES.append(
                {
                    "logGroup": log_group_name,
                    "filterName": filter_name,
                    "destination": function_arn,
                    "events": len(log_events),
                    "messages": [e["message"] for e in log_events],
                    "ok": "errorType" not in outcome,
                    "error": outcome.get("errorMessage", ""),
                }
            )

        _deliver_later(deliver)

    stream_cls.put_log_events = put_log_events
    stream_cls._send_log_events = send_log_events
    lambda_models.LambdaBackend.send_log_event = send_log_event
