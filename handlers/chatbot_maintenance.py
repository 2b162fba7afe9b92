"""Daily chatbot maintenance: expire old sessions (and their history), trim long histories."""

from __future__ import annotations

import time
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from botocore.exceptions import BotoCoreError, ClientError

from concert_shared.clients import client
from concert_shared.config import bounded_int_env, env
from concert_shared.scheduled import powertools, publish_alert

tools = powertools()
logger, tracer, metrics = tools.logger, tools.tracer, tools.metrics
assert metrics is not None


def _history_keys(session_id: str) -> list[dict[str, Any]]:
    keys: list[dict[str, Any]] = []
    request: dict[str, Any] = {
        "TableName": env("CONVERSATION_HISTORY_TABLE"),
        "KeyConditionExpression": "session_id = :s",
        "ExpressionAttributeValues": {":s": {"S": session_id}},
        "ProjectionExpression": "session_id, turn",
    }
    while True:
        page = client("dynamodb").query(**request)
        keys.extend(page["Items"])
        if "LastEvaluatedKey" not in page:
            return sorted(keys, key=lambda k: int(k["turn"]["N"]))
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _delete(table: str, keys: list[dict[str, Any]]) -> None:
    for start in range(0, len(keys), 25):
        requests = [{"DeleteRequest": {"Key": key}} for key in keys[start : start + 25]]
        pending = {table: requests}
        while pending:
            pending = client("dynamodb").batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}


# HISTORY_MAX_TURNS: name, default, bounds (0 or a negative number would delete every turn)
HISTORY_MAX_TURNS = ("HISTORY_MAX_TURNS", 50, 2, 10_000)


def _expires_at(item: dict[str, Any]) -> int | None:
    """The session's expiry (epoch seconds), or None when the item has no usable number."""
    raw = item.get("expires_at", {})
    try:
        return int(raw["N"]) if isinstance(raw, dict) and "N" in raw else None
    except (TypeError, ValueError):
        return None


MAX_LISTED = 50  # the report names the first malformed sessions; the count covers all of them


def _quality_issue(counts: dict[str, Any], session_id: str | None, issue: str) -> None:
    counts["data_quality_issues"] += 1
    if len(counts["malformed_sessions"]) < MAX_LISTED:
        counts["malformed_sessions"].append(f"{session_id or '(no id)'}: {issue}")
    logger.warning("data quality issue", extra={"data_quality_issue": issue, "session_id": session_id})


def maintain(now: int | None = None) -> dict[str, Any]:
    """Delete expired sessions with their history; trim live histories to HISTORY_MAX_TURNS.

    The configuration is checked before anything is deleted. A session item without a usable id
    or `expires_at` is a data-quality issue: counted, logged and reported, never silently kept
    forever (its history is still trimmed). A failing session is recorded and skipped so one bad
    item cannot stop the daily run."""
    now = now or int(time.time())
    max_turns = bounded_int_env(*HISTORY_MAX_TURNS)
    sessions_table = env("SESSION_STATE_TABLE")
    history_table = env("CONVERSATION_HISTORY_TABLE")
    counts: dict[str, Any] = {
        "sessions_scanned": 0,
        "sessions_expired": 0,
        "turns_deleted": 0,
        "sessions_trimmed": 0,
        "data_quality_issues": 0,
        "malformed_sessions": [],
        "errors": [],
    }
    request: dict[str, Any] = {"TableName": sessions_table, "ProjectionExpression": "session_id, expires_at"}
    while True:
        page = client("dynamodb").scan(**request)
        for item in page["Items"]:
            counts["sessions_scanned"] += 1
            session_id = item.get("session_id", {}).get("S")
            if not session_id:
                _quality_issue(counts, None, "session_id_not_a_string")
                continue
            expires = _expires_at(item)
            if expires is None:
                _quality_issue(counts, session_id, "missing_or_malformed_expires_at")
            try:
                keys = _history_keys(session_id)
                if expires is not None and expires <= now:
                    _delete(history_table, keys)
                    client("dynamodb").delete_item(
                        TableName=sessions_table, Key={"session_id": {"S": session_id}}
                    )
                    counts["sessions_expired"] += 1
                    counts["turns_deleted"] += len(keys)
                elif len(keys) > max_turns:
                    surplus = keys[: len(keys) - max_turns]
                    _delete(history_table, surplus)
                    counts["sessions_trimmed"] += 1
                    counts["turns_deleted"] += len(surplus)
            except (ClientError, BotoCoreError, ValueError, KeyError, TypeError) as exc:
                counts["errors"].append(f"{session_id}: {type(exc).__name__}: {str(exc)[:200]}")
                logger.error(
                    "session maintenance failed", extra={"session_id": session_id, "reason": str(exc)[:300]}
                )
        if "LastEvaluatedKey" not in page:
            break
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    return counts


@tools.entry
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    counts = tools.run_or_alert("Chatbot maintenance", maintain)
    if counts["errors"]:
        publish_alert("Chatbot maintenance finished with errors", counts)
    elif counts["data_quality_issues"]:
        publish_alert("Chatbot maintenance found malformed sessions", counts)
    for name in (
        "sessions_scanned",
        "sessions_expired",
        "turns_deleted",
        "sessions_trimmed",
        "data_quality_issues",
    ):
        metrics.add_metric(
            name=f"Maintenance{name.title().replace('_', '')}", unit=MetricUnit.Count, value=counts[name]
        )
    metrics.add_metric(name="MaintenanceErrors", unit=MetricUnit.Count, value=len(counts["errors"]))
    logger.info(
        "chatbot maintenance done",
        extra={k: v for k, v in counts.items() if k not in ("errors", "malformed_sessions")}
        | {"error_count": len(counts["errors"])},
    )
    return counts
