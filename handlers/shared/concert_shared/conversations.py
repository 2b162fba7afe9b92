"""Conversation history and session state in DynamoDB.

Turn numbers come from an atomic counter on the session item (UpdateItem ADD), so concurrent
requests for one session never lose or duplicate a turn; each turn is one history item
(HASH session_id, RANGE turn) so the history reads back in order."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from concert_shared.clients import client
from concert_shared.config import env, int_env


@dataclass
class Turn:
    turn: int
    role: str
    content: str
    source: str = ""
    intent: str = ""


def _expiry() -> int:
    return int(time.time()) + int_env("SESSION_TTL_HOURS", 24) * 3600


def allocate_turns(session_id: str, count: int, user_id: str | None = None) -> list[int]:
    """Reserve `count` consecutive turn numbers for the session (atomic across callers)."""
    now = int(time.time())
    names = {"#turns": "turn_count", "#last": "last_activity", "#expires": "expires_at"}
    values: dict[str, Any] = {":n": {"N": str(count)}, ":now": {"N": str(now)}, ":exp": {"N": str(_expiry())}}
    update = "ADD #turns :n SET #last = :now, #expires = :exp"
    if user_id:
        names["#user"] = "user_id"
        values[":user"] = {"S": user_id}
        update += ", #user = :user"
    result = client("dynamodb").update_item(
        TableName=env("SESSION_STATE_TABLE"),
        Key={"session_id": {"S": session_id}},
        UpdateExpression=update,
        ExpressionAttributeNames=names,
        ExpressionAttributeValues=values,
        ReturnValues="UPDATED_NEW",
    )
    last = int(result["Attributes"]["turn_count"]["N"])
    return list(range(last - count + 1, last + 1))


def put_turn(session_id: str, turn: Turn) -> None:
    item = {
        "session_id": {"S": session_id},
        "turn": {"N": str(turn.turn)},
        "role": {"S": turn.role},
        "content": {"S": turn.content},
        "created_at": {"N": str(int(time.time()))},
        "expires_at": {"N": str(_expiry())},
    }
    if turn.source:
        item["source"] = {"S": turn.source}
    if turn.intent:
        item["intent"] = {"S": turn.intent}
    client("dynamodb").put_item(
        TableName=env("CONVERSATION_HISTORY_TABLE"),
        Item=item,
        ConditionExpression="attribute_not_exists(turn)",
    )


def history(session_id: str) -> list[Turn]:
    items: list[dict[str, Any]] = []
    request: dict[str, Any] = {
        "TableName": env("CONVERSATION_HISTORY_TABLE"),
        "KeyConditionExpression": "session_id = :s",
        "ExpressionAttributeValues": {":s": {"S": session_id}},
        "ScanIndexForward": True,
    }
    while True:
        page = client("dynamodb").query(**request)
        items.extend(page["Items"])
        if "LastEvaluatedKey" not in page:
            break
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    return [
        Turn(
            int(i["turn"]["N"]),
            i["role"]["S"],
            i["content"]["S"],
            i.get("source", {}).get("S", ""),
            i.get("intent", {}).get("S", ""),
        )
        for i in items
    ]
