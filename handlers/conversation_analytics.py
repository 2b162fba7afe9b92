"""Hourly conversation analytics: statistics of the last hour, written to the processed bucket
(analytics/conversations/YYYY/MM/DD/HH.json) and published as metrics."""

from __future__ import annotations

import json
import time
from collections import Counter
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from concert_shared.clients import client
from concert_shared.config import env
from concert_shared.scheduled import powertools

tools = powertools()
logger, tracer, metrics = tools.logger, tools.tracer, tools.metrics
assert metrics is not None


ROLES = frozenset({"user", "assistant"})


def _field(item: dict[str, Any], name: str, kind: str) -> Any:
    value = item.get(name)
    return value.get(kind) if isinstance(value, dict) else None


def created_at(item: dict[str, Any]) -> int | None:
    """The item's creation time (epoch seconds), or None when it is missing or not a number."""
    raw = item.get("created_at")
    try:
        return int(raw["N"]) if isinstance(raw, dict) and "N" in raw else None
    except (TypeError, ValueError):
        return None


def quality_issue(item: dict[str, Any]) -> str | None:
    """Why a history item cannot be counted (None when it can): the chatbot never writes these."""
    if created_at(item) is None:
        return "malformed_created_at"
    if not isinstance(item.get("session_id"), dict) or "S" not in item["session_id"]:
        return "missing_session_id"
    if _field(item, "role", "S") not in ROLES:
        return "unknown_role"
    if not _field(item, "content", "S"):
        return "empty_content"
    return None


def summarise(items: list[dict[str, Any]], since: int, until: int) -> dict[str, Any]:
    """Statistics of the history items created in (since, until]: sources count answers, intents count questions.

    Malformed items are left out, counted, and logged with `data_quality_issue` (the tracing
    stack's data-quality metric filter on this function's log group counts those lines)."""
    recent, malformed = [], 0
    for item in items:
        when = created_at(item)
        if when is not None and not since < when <= until:
            continue  # another hour's turn
        issue = quality_issue(item)
        if issue is None:
            recent.append(item)
            continue
        malformed += 1
        logger.warning(
            "data quality issue",
            extra={
                "data_quality_issue": issue,
                "session_id": _field(item, "session_id", "S"),
                "turn": _field(item, "turn", "N"),
            },
        )
    sessions = {i["session_id"]["S"] for i in recent}
    sources = Counter(
        i.get("source", {}).get("S", "") for i in recent if i.get("role", {}).get("S") == "assistant"
    )
    intents = Counter(
        i.get("intent", {}).get("S", "") for i in recent if i.get("role", {}).get("S") == "user"
    )
    return {
        "window_start": datetime.fromtimestamp(since, UTC).isoformat(),
        "window_end": datetime.fromtimestamp(until, UTC).isoformat(),
        "sessions": len(sessions),
        "turns": len(recent),
        "avg_turns_per_session": round(len(recent) / len(sessions), 2) if sessions else 0.0,
        "sources": dict(sources),
        "top_intents": [{"intent": name, "count": count} for name, count in intents.most_common(5) if name],
        "data_quality_issues": malformed,
    }


def analyse(now: int | None = None) -> dict[str, Any]:
    """Summarise the hour before `now` and write it to analytics/conversations/YYYY/MM/DD/HH.json (HH: window start)."""
    until = now or int(time.time())
    since = until - 3600
    items: list[dict[str, Any]] = []
    request: dict[str, Any] = {
        "TableName": env("CONVERSATION_HISTORY_TABLE"),
        # (since, until]: consecutive hourly runs never count a turn twice; an item whose
        # created_at is missing or not a number is fetched too, to be counted as a quality issue
        "FilterExpression": "NOT attribute_type(created_at, :number) OR created_at > :since",
        "ExpressionAttributeValues": {":since": {"N": str(since)}, ":number": {"S": "N"}},
    }
    while True:
        page = client("dynamodb").scan(**request)
        items.extend(page["Items"])
        if "LastEvaluatedKey" not in page:
            break
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    summary = summarise(items, since, until)
    hour = datetime.fromtimestamp(since, UTC)
    key = f"analytics/conversations/{hour:%Y/%m/%d/%H}.json"
    client("s3").put_object(
        Bucket=env("PROCESSED_BUCKET"),
        Key=key,
        Body=json.dumps(summary).encode(),
        ContentType="application/json",
    )
    summary["s3_key"] = key
    return summary


@tools.entry
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    summary = tools.run_or_alert("Conversation analytics", analyse)
    metrics.add_metric(name="Sessions", unit=MetricUnit.Count, value=summary["sessions"])
    metrics.add_metric(name="Turns", unit=MetricUnit.Count, value=summary["turns"])
    metrics.add_metric(
        name="AvgTurnsPerSession", unit=MetricUnit.Count, value=summary["avg_turns_per_session"]
    )
    for source, count in summary["sources"].items():
        if source:
            metrics.add_metric(
                name=f"Answers{source.title().replace('-', '')}", unit=MetricUnit.Count, value=count
            )
    logger.info(
        "conversation analytics published",
        extra={"sessions": summary["sessions"], "turns": summary["turns"], "s3_key": summary["s3_key"]},
    )
    return summary
