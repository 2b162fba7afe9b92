"""CloudWatch Logs subscription target: decode, classify, and alert the right topic, at most
once per error fingerprint per ALERT_SUPPRESSION_SECONDS (no alert storms)."""

from __future__ import annotations

import base64
import binascii
import contextlib
import gzip
import hashlib
import json
import re
import time
import uuid
import zlib
from dataclasses import dataclass
from typing import Any

from concert_shared.clients import client
from concert_shared.config import env, int_env
from concert_shared.scheduled import powertools

tools = powertools(metrics=False)  # it publishes no metrics of its own
logger, tracer = tools.logger, tools.tracer

CRITICAL_MARKERS = ("Task timed out", "Runtime exited", "AccessDenied", "OutOfMemory")
# Ids, numbers and quoted values vary between occurrences of one error: mask them.
_VOLATILE = re.compile(
    r"\b[0-9a-f]{8}-[0-9a-f-]{27,}\b|\b[0-9a-f]{12,}\b|\d+(\.\d+)?|'[^']*'|\"[^\"]*\"", re.IGNORECASE
)


class MalformedPayload(ValueError):
    pass


class MalformedLine(ValueError):
    """One log event the processor cannot read: counted as a data-quality issue, then skipped."""


def decode(event: Any) -> dict[str, Any]:
    """The subscription payload (base64 of gzip of JSON), or MalformedPayload saying why not."""
    try:
        data = event["awslogs"]["data"]
        payload = json.loads(gzip.decompress(base64.b64decode(data, validate=True)))
    except (
        KeyError,
        TypeError,
        ValueError,
        RecursionError,
        OSError,
        EOFError,
        binascii.Error,
        zlib.error,
    ) as exc:
        raise MalformedPayload(f"not a CloudWatch Logs subscription payload ({type(exc).__name__})") from exc
    if not isinstance(payload, dict) or not isinstance(payload.get("logEvents", []), list):
        raise MalformedPayload("the payload has no logEvents list")
    return payload


def classify(message: str) -> tuple[str, dict[str, Any]]:
    """(severity, parsed record) for one log message; severity is critical, warning or ignore.

    critical: level CRITICAL, or an ERROR (or a plain-text runtime line) with a critical marker;
    warning: any other ERROR; ignore: everything else. A line too deeply nested to parse raises
    MalformedLine (RecursionError is not a ValueError: it used to drop the whole batch)."""
    try:
        record = json.loads(message)
    except ValueError:
        record = None
    except RecursionError:
        raise MalformedLine("JSON nested too deeply to parse") from None
    if not isinstance(record, dict):
        record = {"message": message}
        level = "ERROR" if any(marker in message for marker in CRITICAL_MARKERS) or "ERROR" in message else ""
    else:
        level = str(record.get("level", "")).upper()
    if level == "CRITICAL":
        return "critical", record
    if level == "ERROR":
        return ("critical" if any(marker in message for marker in CRITICAL_MARKERS) else "warning"), record
    return "ignore", record


def error_type(record: dict[str, Any]) -> str:
    if record.get("exception_name"):
        return str(record["exception_name"])
    text = json.dumps(record, default=str)
    return next(
        (marker for marker in CRITICAL_MARKERS if marker in text), str(record.get("level") or "ERROR")
    )


def fingerprint(log_group: str, record: dict[str, Any]) -> str:
    """service + error type + normalised message: one fingerprint per kind of failure."""
    normalised = _VOLATILE.sub("#", str(record.get("message", "")))[:300]
    basis = f"{record.get('service') or log_group}|{error_type(record)}|{normalised}"
    return hashlib.sha256(basis.encode()).hexdigest()[:32]


def batch_id(payload: dict[str, Any]) -> str:
    """The same for a batch and Lambda's retries of it: suppressed counts are added once per batch."""
    ids = [str(e.get("id")) for e in payload.get("logEvents", []) if isinstance(e, dict)]
    basis = f"{payload.get('logGroup')}|{payload.get('logStream')}|{'|'.join(ids)}"
    return hashlib.sha256(basis.encode()).hexdigest()[:32]


@dataclass(frozen=True)
class Claim:
    """An alert window this processor opened; released again if the alert cannot be published."""

    token: str
    previous_until: int
    previous_suppressed: int


def open_window(key: str, now: int, window: int, batch: str = "") -> Claim | None:
    """A Claim exactly once per fingerprint per window, else None. The conditional update is the
    lock: concurrent processors cannot both win."""
    dynamodb = client("dynamodb")
    token = uuid.uuid4().hex
    try:
        result = dynamodb.update_item(
            TableName=env("ALERT_STATE_TABLE"),
            Key={"fingerprint": {"S": key}},
            UpdateExpression="SET window_until = :until, expires_at = :expires, suppressed = :zero, "
            "last_alert_at = :now, claim = :token, batches = :batches",
            ConditionExpression="attribute_not_exists(fingerprint) OR window_until <= :now",
            ExpressionAttributeValues={
                ":until": {"N": str(now + window)},
                ":expires": {"N": str(now + 2 * window)},
                ":zero": {"N": "0"},
                ":now": {"N": str(now)},
                ":token": {"S": token},
                ":batches": {"SS": [batch or token]},
            },
            ReturnValues="ALL_OLD",
        )
    except dynamodb.exceptions.ConditionalCheckFailedException:
        return None
    old = result.get("Attributes", {})
    return Claim(
        token,
        int(old.get("window_until", {}).get("N", "0")),
        int(old.get("suppressed", {}).get("N", "0")),
    )


def release_window(key: str, claim: Claim) -> None:
    """Undo a claim whose alert was not published: the window closes as it was, the occurrences
    suppressed before it are kept, so the retry alerts and reports them."""
    dynamodb = client("dynamodb")
    # ConditionalCheckFailed: someone else's window by now, nothing of ours to undo
    with contextlib.suppress(dynamodb.exceptions.ConditionalCheckFailedException):
        dynamodb.update_item(
            TableName=env("ALERT_STATE_TABLE"),
            Key={"fingerprint": {"S": key}},
            UpdateExpression="SET window_until = :until ADD suppressed :earlier REMOVE claim, batches",
            ConditionExpression="claim = :token",
            ExpressionAttributeValues={
                ":until": {"N": str(claim.previous_until)},
                ":earlier": {"N": str(claim.previous_suppressed)},
                ":token": {"S": claim.token},
            },
        )


def count_suppressed(key: str, count: int, batch: str) -> bool:
    """Remember suppressed occurrences so the next alert for this fingerprint reports them; False
    when this batch was counted already (a retry of a batch whose other alerts failed)."""
    dynamodb = client("dynamodb")
    try:
        dynamodb.update_item(
            TableName=env("ALERT_STATE_TABLE"),
            Key={"fingerprint": {"S": key}},
            UpdateExpression="ADD suppressed :count, batches :batch",
            ConditionExpression="attribute_not_exists(batches) OR NOT contains(batches, :id)",
            ExpressionAttributeValues={
                ":count": {"N": str(count)},
                ":batch": {"SS": [batch]},
                ":id": {"S": batch},
            },
        )
    except dynamodb.exceptions.ConditionalCheckFailedException:
        return False
    return True


class AlertsNotDelivered(RuntimeError):
    """Raised after the whole batch was tried: Lambda retries the event, then sends it to the
    function's dead-letter queue. Alerts already sent are not sent again (their window is open)."""


def process(payload: dict[str, Any], now: int | None = None) -> dict[str, Any]:
    """Group the batch's errors by fingerprint; alert each group unless its window is open.

    A window is claimed before publishing and released when the publish fails, so a failed alert
    is never mistaken for a sent one; `failed` counts the groups the caller must have retried."""
    now = now or int(time.time())
    window = int_env("ALERT_SUPPRESSION_SECONDS", 300)
    log_group = str(payload.get("logGroup") or "unknown")
    batch = batch_id(payload)
    summary: dict[str, Any] = {
        "events": 0,
        "alerts": 0,
        "suppressed": 0,
        "ignored": 0,
        "failed": 0,
        "malformed": 0,
        "already_counted": 0,
    }
    grouped: dict[str, dict[str, Any]] = {}
    for log_event in payload.get("logEvents", []):
        summary["events"] += 1
        try:
            if not isinstance(log_event, dict) or not isinstance(log_event.get("message"), str):
                raise MalformedLine("not a log event with a message")
            severity, record = classify(log_event["message"])
            if severity == "ignore":
                summary["ignored"] += 1
                continue
            key = fingerprint(log_group, record)
        except Exception as exc:  # one poisoned line must not drop the batch's real errors
            summary["malformed"] += 1
            logger.warning(
                "data quality issue",
                extra={
                    "data_quality_issue": "malformed_log_event",
                    "reason": f"{type(exc).__name__}: {str(exc)[:200]}",
                    "log_group": log_group,
                },
            )
            continue
        entry = grouped.setdefault(key, {"severity": severity, "record": record, "count": 0})
        entry["count"] += 1
        if severity == "critical":
            entry["severity"] = "critical"
    for key, entry in grouped.items():
        claim = None
        try:
            claim = open_window(key, now, window, batch)
            if claim is None:
                if count_suppressed(key, entry["count"], batch):
                    summary["suppressed"] += entry["count"]
                else:
                    summary["already_counted"] += entry["count"]
                continue
            publish_alert(key, entry, log_group, payload.get("logStream"), claim.previous_suppressed)
            summary["alerts"] += 1
            summary["suppressed"] += entry["count"] - 1
        except Exception as exc:  # one failing group must not drop the others
            summary["failed"] += 1
            # WARNING, not ERROR: this function's own errors must not feed back into itself.
            logger.warning(
                "alert not sent",
                extra={
                    "fingerprint": key,
                    "severity": entry["severity"],
                    "reason": f"{type(exc).__name__}: {exc}"[:300],
                },
            )
            if claim is not None:
                try:
                    release_window(key, claim)
                except Exception as release_exc:
                    logger.warning(
                        "alert window not released",
                        extra={"fingerprint": key, "reason": f"{type(release_exc).__name__}"},
                    )
    return summary


def publish_alert(
    key: str, entry: dict[str, Any], log_group: str, log_stream: Any, earlier_suppressed: int
) -> None:
    record = entry["record"]
    topic = env("CRITICAL_TOPIC_ARN") if entry["severity"] == "critical" else env("WARNING_TOPIC_ARN")
    message = {
        "severity": entry["severity"],
        "log_group": log_group,
        "log_stream": log_stream,
        "service": record.get("service"),
        "error_type": error_type(record),
        "message": record.get("message"),
        "correlation_id": record.get("correlation_id"),
        "occurrences": entry["count"],
        "suppressed_since_last_alert": earlier_suppressed,
        "fingerprint": key,
    }
    subject = (
        f"[{entry['severity'].upper()}] {record.get('service') or log_group}: {record.get('message', '')!s}"
    )
    subject = re.sub(r"[^\x20-\x7e]", " ", subject)[:99]  # SNS subjects: printable ASCII, < 100 chars
    client("sns").publish(TopicArn=topic, Subject=subject, Message=json.dumps(message, default=str))


EMPTY_SUMMARY = {
    "events": 0,
    "alerts": 0,
    "suppressed": 0,
    "ignored": 0,
    "failed": 0,
    "malformed": 0,
    "already_counted": 0,
}


@tools.entry
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    try:
        payload = decode(event)
    except MalformedPayload as exc:
        # WARNING, not ERROR: this function's own errors must not feed back into itself.
        logger.warning("malformed subscription payload", extra={"reason": str(exc)})
        return {**EMPTY_SUMMARY, "malformed": 1}
    if payload.get("messageType") == "CONTROL_MESSAGE":
        return {**EMPTY_SUMMARY, "control": 1}
    summary = process(payload)
    logger.info("error events processed", extra=summary)
    if summary["failed"]:
        raise AlertsNotDelivered(
            f"{summary['failed']} alert(s) not delivered; Lambda retries this batch, then sends it "
            "to the dead-letter queue"
        )
    return summary
