"""Conversation history and session state in DynamoDB.

Session ids are minted here (unguessable: holding one is what lets a caller continue it). A
chat exchange is stored with one transaction: the session's turn counter moves from the value
read to that value + 2 (a condition) together with both turn items, so the counter and the history
move together or not at all: no lost, duplicated or missing turn, whatever runs concurrently.
Each turn is one history item (HASH session_id, RANGE turn), so the history reads back in order."""

from __future__ import annotations

import random
import secrets
import time
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools import Logger

from concert_shared.clients import client
from concert_shared.config import bounded_int_env, env
from concert_shared.errors import PlatformError

logger = Logger(child=True)

# Concurrent exchanges for one session retry their transaction; each retry follows a winner.
MAX_STORE_ATTEMPTS = 25


class SessionBusy(PlatformError):
    """The session's counter kept moving under this exchange for MAX_STORE_ATTEMPTS attempts."""

    status = 409
    code = "session_busy"


@dataclass
class Turn:
    turn: int
    role: str
    content: str
    source: str = ""
    intent: str = ""


def new_session_id() -> str:
    """192 random bits, URL-safe: 32 characters matching the API's session_id pattern."""
    return secrets.token_urlsafe(24)


SESSION_TTL_HOURS = ("SESSION_TTL_HOURS", 24, 1, 24 * 365)  # name, default, bounds


def _expiry(now: int) -> int:
    return now + bounded_int_env(*SESSION_TTL_HOURS) * 3600


def _session(session_id: str) -> dict[str, Any] | None:
    return (
        client("dynamodb")
        .get_item(
            TableName=env("SESSION_STATE_TABLE"), Key={"session_id": {"S": session_id}}, ConsistentRead=True
        )
        .get("Item")
    )


def resume_session(session_id: str | None, user_id: str | None, now: int | None = None) -> tuple[str, bool]:
    """(the session id to use, whether it continues the given one).

    A given id continues only a live session this service minted and, when both name a user,
    the same user's; anything else (unknown, expired, another user's) starts a new session, so
    nobody can read into or append to a conversation by choosing or guessing its id."""
    now = now or int(time.time())
    if session_id:
        item = _session(session_id)
        if item is not None:
            expires = item.get("expires_at", {}).get("N")
            owner = item.get("user_id", {}).get("S")
            live = expires is not None and int(expires) > now
            if live and not (owner and user_id and owner != user_id):
                return session_id, True
        logger.info("session not continued", extra={"reason": "unknown, expired or another user's"})
    return new_session_id(), False


def _turn_item(session_id: str, turn: Turn, now: int) -> dict[str, Any]:
    item = {
        "session_id": {"S": session_id},
        "turn": {"N": str(turn.turn)},
        "role": {"S": turn.role},
        "content": {"S": turn.content},
        "created_at": {"N": str(now)},
        "expires_at": {"N": str(_expiry(now))},
    }
    if turn.source:
        item["source"] = {"S": turn.source}
    if turn.intent:
        item["intent"] = {"S": turn.intent}
    return item


def store_turns(session_id: str, turns: list[Turn], user_id: str | None = None) -> list[int]:
    """Number `turns` after the session's last turn and store them with the counter, atomically.

    Returns the turn numbers given. Optimistic: read the counter, then one TransactWriteItems
    whose session update is conditional on the counter still holding the value read; a
    concurrent exchange that won makes the transaction cancel, and this one retries after it."""
    dynamodb = client("dynamodb")
    sessions, history = env("SESSION_STATE_TABLE"), env("CONVERSATION_HISTORY_TABLE")
    for attempt in range(MAX_STORE_ATTEMPTS):
        now = int(time.time())
        item = _session(session_id)
        seen = int(item["turn_count"]["N"]) if item and "turn_count" in item else 0
        numbers = list(range(seen + 1, seen + len(turns) + 1))
        names = {"#turns": "turn_count", "#last": "last_activity", "#expires": "expires_at"}
        values: dict[str, Any] = {
            ":next": {"N": str(seen + len(turns))},
            ":now": {"N": str(now)},
            ":exp": {"N": str(_expiry(now))},
        }
        update = "SET #turns = :next, #last = :now, #expires = :exp"
        if seen:
            condition = "#turns = :seen"
            values[":seen"] = {"N": str(seen)}
        else:
            condition = "attribute_not_exists(#turns)"
        if user_id:
            names["#user"] = "user_id"
            values[":user"] = {"S": user_id}
            update += ", #user = :user"
        writes: list[dict[str, Any]] = [
            {
                "Update": {
                    "TableName": sessions,
                    "Key": {"session_id": {"S": session_id}},
                    "UpdateExpression": update,
                    "ConditionExpression": condition,
                    "ExpressionAttributeNames": names,
                    "ExpressionAttributeValues": values,
                }
            }
        ]
        for number, turn in zip(numbers, turns, strict=True):
            turn.turn = number
            writes.append(
                {
                    "Put": {
                        "TableName": history,
                        "Item": _turn_item(session_id, turn, now),
                        "ConditionExpression": "attribute_not_exists(turn)",
                    }
                }
            )
        try:
            dynamodb.transact_write_items(TransactItems=writes)
            return numbers
        except dynamodb.exceptions.TransactionCanceledException as exc:
            reasons = [r.get("Code") for r in exc.response.get("CancellationReasons", [])]
            if not any(code in ("ConditionalCheckFailed", "TransactionConflict") for code in reasons):
                raise
            time.sleep(random.uniform(0, 0.01 * (attempt + 1)))  # jitter, not a secret
    raise SessionBusy(f"the session's turns kept moving for {MAX_STORE_ATTEMPTS} attempts; retry the message")


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
