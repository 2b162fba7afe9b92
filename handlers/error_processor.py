"""CloudWatch Logs subscription target: decode, classify, and alert the right topic, at most
once per error fingerprint per ALERT_SUPPRESSION_SECONDS (no alert storms)."""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import re
import time
from typing import Any

from aws_lambda_powertools import Logger, Tracer

from concert_shared.clients import client
from concert_shared.config import env, int_env

logger = Logger()
tracer = Tracer()

CRITICAL_MARKERS = ("Task timed out", "Runtime exited", "AccessDenied", "OutOfMemory", "MemoryError")
_VOLATILE = re.compile(r"\b[0-9a-f]{8,}\b|\b\d+(\.\d+)?\b|'[^']*'|\"[^\"]*\"")


class MalformedPayload(ValueError):
    pass


def decode(event: dict[str, Any]) -> dict[str, Any]:
    try:
        data = event["awslogs"]["data"]
        return json.loads(gzip.decompress(base64.b64decode(data)))
    except (KeyError, TypeError, ValueError, OSError) as exc:
        raise MalformedPayload(f"not a CloudWatch Logs subscription payload ({type(exc).__name__})") from exc


def classify(message: str) -> tuple[str, dict[str, Any]]:
    """(severity, parsed record) for one log message; severity is critical, warning or ignore."""
    try:
        record = json.loads(message)
    except ValueError:
        record = {"message": message}
    if not isinstance(record, dict):
        record = {"message": str(record)}
    level = str(record.get("level", "")).upper()
    text = str(record.get("message", ""))
    if level == "CRITICAL" or any(marker in message for marker in CRITICAL_MARKERS):
        return "critical", record
    if level == "ERROR" or "ERROR" in message:
        return "warning", record
    return "ignore", record


def fingerprint(log_group: str, record: dict[str, Any]) -> str:
    normalised = _VOLATILE.sub("#", str(record.get("message", "")))[:300]
    basis = f"{record.get('service') or log_group}|{record.get('exception_name', '')}|{normalised}"
    return hashlib.sha256(basis.encode()).hexdigest()[:32]


def _first_in_window(key: str, now: int, window: int) -> bool:
    """True exactly once per fingerprint per window (a conditional write is the lock)."""
    try:
        client("dynamodb").put_item(
            TableName=env("ALERT_STATE_TABLE"),
            Item={"fingerprint": {"S": key}, "window_until": {"N": str(now + window)}, "expires_at": {"N": str(now + 2 * window)}, "suppressed": {"N": "0"}},
            ConditionExpression="attribute_not_exists(fingerprint) OR window_until < :now",
            ExpressionAttributeValues={":now": {"N": str(now)}},
        )
        return True
    except client("dynamodb").exceptions.ConditionalCheckFailedException:
        client("dynamodb").update_item(
            TableName=env("ALERT_STATE_TABLE"),
            Key={"fingerprint": {"S": key}},
            UpdateExpression="ADD suppressed :one",
            ExpressionAttributeValues={":one": {"N": "1"}},
        )
        return False


def process(payload: dict[str, Any], now: int | None = None) -> dict[str, Any]:
    now = now or int(time.time())
    window = int_env("ALERT_SUPPRESSION_SECONDS", 300)
    log_group = payload.get("logGroup", "unknown")
    summary = {"events": 0, "alerts": 0, "suppressed": 0, "ignored": 0}
    grouped: dict[str, dict[str, Any]] = {}
    for log_event in payload.get("logEvents", []):
        summary["events"] += 1
        severity, record = classify(str(log_event.get("message", "")))
        if severity == "ignore":
            summary["ignored"] += 1
            continue
        key = fingerprint(log_group, record)
        entry = grouped.setdefault(key, {"severity": severity, "record": record, "count": 0})
        entry["count"] += 1
        if severity == "critical":
            entry["severity"] = "critical"
    for key, entry in grouped.items():
        if not _first_in_window(key, now, window):
            summary["suppressed"] += entry["count"]
            continue
        topic = env("CRITICAL_TOPIC_ARN") if entry["severity"] == "critical" else env("WARNING_TOPIC_ARN")
        record = entry["record"]
        message = {
            "severity": entry["severity"],
            "log_group": log_group,
            "log_stream": payload.get("logStream"),
            "service": record.get("service"),
            "message": record.get("message"),
            "correlation_id": record.get("correlation_id"),
            "occurrences": entry["count"],
            "fingerprint": key,
        }
        subject = f"[{entry['severity'].upper()}] {record.get('service') or log_group}: {str(record.get('message', ''))[:60]}"
        client("sns").publish(TopicArn=topic, Subject=subject[:99], Message=json.dumps(message))
        summary["alerts"] += 1
        summary["suppressed"] += entry["count"] - 1
    return summary


@tracer.capture_lambda_handler
@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    try:
        payload = decode(event)
    except MalformedPayload as exc:
        logger.warning("malformed subscription payload", extra={"reason": str(exc)})
        return {"events": 0, "alerts": 0, "suppressed": 0, "ignored": 0, "malformed": 1}
    if payload.get("messageType") == "CONTROL_MESSAGE":
        return {"events": 0, "alerts": 0, "suppressed": 0, "ignored": 0, "control": 1}
    summary = process(payload)
    logger.info("error events processed", extra=summary)
    return summary
