"""What Lambda records for every invocation, on the embedded engine.

`record_invocation` is called once per invocation by whoever ran the function
(concert_platform.engines.local_lambda). Like Lambda it

- writes the function's log lines, between START/END/REPORT lines, to the function's log group
  (created if missing, as Lambda does), where metric filters and subscription filters act on
  them (moto_ext.logs);
- records the function's own metrics in AWS/Lambda with the FunctionName dimension:
  Invocations, Errors, Throttles and Duration;
- extracts embedded-metric-format lines (`_aws.CloudWatchMetrics`, what Powertools Metrics
  prints) into metric data, as CloudWatch Logs does for Lambda log groups;
- then evaluates the alarms (moto_ext.cloudwatch).

Every timestamp comes from the engine's clock (moto_ext.clock).
"""

from __future__ import annotations

import json
import math
import threading
import uuid
from datetime import UTC, datetime
from typing import Any

from moto.core import DEFAULT_ACCOUNT_ID

from concert_platform.engines.moto_ext.clock import CLOCK

_streams: dict[tuple[str, str], str] = {}
_streams_lock = threading.Lock()


def _log_group_name(function: Any, name: str) -> str:
    config = getattr(function, "logging_config", None) or {}
    group = config.get("LogGroup") if isinstance(config, dict) else None
    return str(group or f"/aws/lambda/{name}")


def _stream(logs_backend: Any, group: str) -> str:
    """One log stream per function and day, like one warm execution environment."""
    day = datetime.fromtimestamp(CLOCK.now(), UTC)
    key = (group, f"{day:%Y/%m/%d}")
    with _streams_lock:  # invocations of one function may be recorded from several threads
        if key not in _streams or _streams[key] not in logs_backend.groups[group].streams:
            name = f"{day:%Y/%m/%d}/[$LATEST]{uuid.uuid4().hex}"
            logs_backend.groups[group].create_log_stream(name)
            _streams[key] = name
        return _streams[key]


def emf_metrics(line: str) -> list[tuple[str, list[dict[str, Any]]]]:
    """(namespace, metric data) of one embedded-metric-format log line; [] for any other line."""
    if '"_aws"' not in line:
        return []
    try:
        document = json.loads(line)
        directives = document["_aws"]["CloudWatchMetrics"]
    except (ValueError, KeyError, TypeError):
        return []
    timestamp = datetime.fromtimestamp(CLOCK.now(), UTC).replace(tzinfo=None)
    out = []
    for directive in directives if isinstance(directives, list) else []:
        data: list[dict[str, Any]] = []
        for metric in directive.get("Metrics", []):
            raw = document.get(metric.get("Name"))
            values = raw if isinstance(raw, list) else [raw]
            numbers = [float(v) for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
            for dimension_set in directive.get("Dimensions", []) or [[]]:
                dimensions = [
                    {"Name": key, "Value": str(document[key])} for key in dimension_set if key in document
                ]
                if len(dimensions) != len(dimension_set):
                    continue  # a dimension without a value: CloudWatch drops the metric too
                data.extend(
                    {
                        "MetricName": metric["Name"],
                        "Value": number,
                        "Unit": metric.get("Unit", "None"),
                        "Dimensions": dimensions,
                        "Timestamp": timestamp,
                    }
                    for number in numbers
                )
        if data and directive.get("Namespace"):
            out.append((directive["Namespace"], data))
    return out


def record_invocation(
    engine: Any, function_name: str, log_lines: list[str], duration_ms: float, error: str | None = None
) -> None:
    """Record one invocation of `function_name` the way Lambda would (see the module docstring)."""
    from moto.awslambda.utils import get_backend
    from moto.cloudwatch.models import cloudwatch_backends
    from moto.logs.models import logs_backends

    from concert_platform.engines.moto_ext.cloudwatch import evaluate_backend

    account, region = DEFAULT_ACCOUNT_ID, engine.region
    try:
        function = get_backend(account, region).get_function(function_name)
        memory = int(function.memory_size or 128)
    except Exception:
        function, memory = None, 128
    logs_backend = logs_backends[account][region]
    group = _log_group_name(function, function_name)
    with _streams_lock:
        if group not in logs_backend.groups:
            logs_backend.create_log_group(group, tags={})
    request_id = str(uuid.uuid4())
    messages = [f"START RequestId: {request_id} Version: $LATEST"]
    messages += [line for line in log_lines if line.strip()]
    if error:
        messages.append(f"[ERROR] {error}")
    messages.append(f"END RequestId: {request_id}")
    messages.append(
        f"REPORT RequestId: {request_id}\tDuration: {duration_ms:.2f} ms\t"
        f"Billed Duration: {max(1, math.ceil(duration_ms))} ms\tMemory Size: {memory} MB"
    )
    stamp = CLOCK.now_ms()
    logs_backend.groups[group].put_log_events(
        _stream(logs_backend, group), [{"timestamp": stamp, "message": m} for m in messages]
    )

    cloudwatch = cloudwatch_backends[account][region]
    timestamp = datetime.fromtimestamp(stamp / 1000, UTC).replace(tzinfo=None)
    dimensions = [{"Name": "FunctionName", "Value": function_name}]
    cloudwatch.put_metric_data(
        "AWS/Lambda",
        [
            {
                "MetricName": name,
                "Value": value,
                "Unit": unit,
                "Dimensions": dimensions,
                "Timestamp": timestamp,
            }
            for name, value, unit in (
                ("Invocations", 1.0, "Count"),
                ("Errors", 1.0 if error else 0.0, "Count"),
                ("Throttles", 0.0, "Count"),
                ("Duration", float(duration_ms), "Milliseconds"),
            )
        ],
    )
    for line in log_lines:
        for namespace, data in emf_metrics(line):
            cloudwatch.put_metric_data(namespace, data)
    evaluate_backend(cloudwatch)
