"""The scheduled functions run and change state as expected: the daily maintenance expires old
sessions and their turns, the hourly analytics publishes its statistics to the processed bucket."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from concert_platform.smoke.platform import FlowResult, Platform


def scheduled_checks(platform: Platform) -> list[FlowResult]:
    checks: list[FlowResult] = []
    dynamodb = platform.engine.client("dynamodb")
    try:
        sessions = platform.out("chatbot", "SessionStateTableName")
        history = platform.out("compute", "ConversationHistoryTableName")
        expired = f"smoke-expired-{uuid.uuid4().hex[:8]}"
        past = str(int(time.time()) - 86400)
        dynamodb.put_item(
            TableName=sessions,
            Item={"session_id": {"S": expired}, "expires_at": {"N": past}, "turn_count": {"N": "1"}},
        )
        dynamodb.put_item(
            TableName=history,
            Item={
                "session_id": {"S": expired},
                "turn": {"N": "1"},
                "expires_at": {"N": past},
                "role": {"S": "user"},
                "content": {"S": "old"},
            },
        )
        result = platform.invoke(
            "chatbot", "ChatbotMaintenanceFunctionName", scheduled_event("daily maintenance")
        )
        left = dynamodb.get_item(TableName=sessions, Key={"session_id": {"S": expired}}).get("Item")
        turns = dynamodb.query(
            TableName=history,
            KeyConditionExpression="session_id = :s",
            ExpressionAttributeValues={":s": {"S": expired}},
        )["Items"]
        ok = left is None and not turns
        checks.append(
            FlowResult(
                "scheduled maintenance expires old sessions",
                ok,
                f"result {result}; session left: {bool(left)}, turns left: {len(turns)}",
            )
        )
    except (LookupError, RuntimeError, KeyError) as exc:
        checks.append(FlowResult("scheduled maintenance expires old sessions", False, str(exc)))
    try:
        bucket = platform.out("storage", "ProcessedDataBucketName")
        s3 = platform.engine.client("s3")
        before = {
            o["Key"]
            for o in s3.list_objects_v2(Bucket=bucket, Prefix="analytics/conversations/").get("Contents", [])
        }
        result = platform.invoke(
            "chatbot", "ConversationAnalyticsFunctionName", scheduled_event("hourly analytics")
        )
        after = {
            o["Key"]
            for o in s3.list_objects_v2(Bucket=bucket, Prefix="analytics/conversations/").get("Contents", [])
        }
        written = sorted(after - before) or sorted(after)
        ok = bool(after)
        checks.append(
            FlowResult(
                "scheduled analytics publishes statistics",
                ok,
                f"summary {json.dumps(result)[:200]}; objects {written[:2]}",
            )
        )
    except (LookupError, RuntimeError, KeyError) as exc:
        checks.append(FlowResult("scheduled analytics publishes statistics", False, str(exc)))
    return checks


def scheduled_event(detail: str) -> dict[str, Any]:
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "resources": [],
        "detail": {"smoke": detail},
    }
