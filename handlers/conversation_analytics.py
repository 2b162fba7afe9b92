"""Hourly conversation analytics: statistics of the last hour, written to the processed bucket
(analytics/conversations/YYYY/MM/DD/HH.json) and published as metrics."""

from __future__ import annotations

import json
import time
from collections import Counter
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit

from concert_shared.clients import client
from concert_shared.config import env, optional_env

logger = Logger()
tracer = Tracer()
metrics = Metrics()


def summarise(items: list[dict[str, Any]], since: int, until: int) -> dict[str, Any]:
    recent = [i for i in items if since <= int(i.get("created_at", {}).get("N", 0)) < until]
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
        "top_intents": [name for name, _ in intents.most_common(5) if name],
    }


def analyse(now: int | None = None) -> dict[str, Any]:
    until = now or int(time.time())
    since = until - 3600
    items: list[dict[str, Any]] = []
    request: dict[str, Any] = {
        "TableName": env("CONVERSATION_HISTORY_TABLE"),
        "FilterExpression": "created_at >= :since",
        "ExpressionAttributeValues": {":since": {"N": str(since)}},
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


@metrics.log_metrics(raise_on_empty_metrics=False)
@tracer.capture_lambda_handler
@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    try:
        summary = analyse()
    except Exception as exc:
        logger.exception("conversation analytics failed")
        topic = optional_env("CHATBOT_ALERTS_TOPIC_ARN")
        if topic:
            client("sns").publish(
                TopicArn=topic,
                Subject="Conversation analytics failed",
                Message=json.dumps({"error": f"{type(exc).__name__}: {exc}"}),
            )
        raise
    metrics.add_metric(name="Sessions", unit=MetricUnit.Count, value=summary["sessions"])
    metrics.add_metric(name="Turns", unit=MetricUnit.Count, value=summary["turns"])
    logger.info(
        "conversation analytics published",
        extra={"sessions": summary["sessions"], "turns": summary["turns"], "s3_key": summary["s3_key"]},
    )
    return summary
