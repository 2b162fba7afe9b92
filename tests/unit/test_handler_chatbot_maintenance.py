"""Daily maintenance: expired sessions and their history go, long histories are trimmed."""

from __future__ import annotations

import time

import boto3
import pytest
from botocore.stub import Stubber

import chatbot_maintenance
from concert_shared import clients
from concert_shared.config import ConfigurationError


def _session(table: str, session_id: str, expires_at: int) -> None:
    boto3.client("dynamodb").put_item(
        TableName=table,
        Item={
            "session_id": {"S": session_id},
            "expires_at": {"N": str(expires_at)},
            "turn_count": {"N": "0"},
        },
    )


def _history(table: str, session_id: str, turns: int) -> None:
    dynamodb = boto3.client("dynamodb")
    for turn in range(1, turns + 1):
        dynamodb.put_item(
            TableName=table,
            Item={
                "session_id": {"S": session_id},
                "turn": {"N": str(turn)},
                "role": {"S": "user"},
                "content": {"S": f"t{turn}"},
            },
        )


def _turns(table: str, session_id: str) -> list[int]:
    items = boto3.client("dynamodb").query(
        TableName=table,
        KeyConditionExpression="session_id = :s",
        ExpressionAttributeValues={":s": {"S": session_id}},
    )["Items"]
    return sorted(int(i["turn"]["N"]) for i in items)


def test_expires_deletes_and_trims(platform, lambda_context, monkeypatch):
    monkeypatch.setenv("HISTORY_MAX_TURNS", "5")
    now = int(time.time())
    sessions, history = platform["SESSION_STATE_TABLE"], platform["CONVERSATION_HISTORY_TABLE"]
    _session(sessions, "expired", now - 60)
    _history(history, "expired", 3)
    _session(sessions, "long", now + 3600)
    _history(history, "long", 30)  # more than one BatchWriteItem of 25
    _session(sessions, "short", now + 3600)
    _history(history, "short", 2)
    result = chatbot_maintenance.handler({"source": "aws.events"}, lambda_context)
    assert result == {
        "sessions_scanned": 3,
        "sessions_expired": 1,
        "turns_deleted": 28,
        "sessions_trimmed": 1,
        "data_quality_issues": 0,
        "malformed_sessions": [],
        "errors": [],
    }
    assert _turns(history, "expired") == []
    assert "Item" not in boto3.client("dynamodb").get_item(
        TableName=sessions, Key={"session_id": {"S": "expired"}}
    )
    assert _turns(history, "long") == list(range(26, 31))  # the newest five stay
    assert _turns(history, "short") == [1, 2]
    assert platform.messages("CHATBOT_ALERTS_TOPIC_ARN") == []


def test_errors_are_reported_to_the_alerts_topic(platform, lambda_context, monkeypatch):
    now = int(time.time())
    _session(platform["SESSION_STATE_TABLE"], "doomed", now - 60)
    monkeypatch.setenv("CONVERSATION_HISTORY_TABLE", "no-such-table")
    result = chatbot_maintenance.handler({}, lambda_context)
    assert result["sessions_expired"] == 0
    assert len(result["errors"]) == 1 and "ResourceNotFoundException" in result["errors"][0]
    alerts = platform.messages("CHATBOT_ALERTS_TOPIC_ARN")
    assert len(alerts) == 1
    assert alerts[0]["subject"] == "Chatbot maintenance finished with errors"
    assert alerts[0]["message"]["errors"] == result["errors"]


def test_a_failed_scan_alerts_and_raises(platform, lambda_context):
    with Stubber(clients.client("dynamodb")) as stub:
        stub.add_client_error("scan", "ProvisionedThroughputExceededException", "slow down")
        try:
            chatbot_maintenance.handler({}, lambda_context)
        except Exception as exc:  # the scheduled run must fail visibly (EventBridge retries, alarms fire)
            assert "ProvisionedThroughputExceeded" in str(exc)
        else:
            raise AssertionError("a failed scan must fail the run")
    alerts = platform.messages("CHATBOT_ALERTS_TOPIC_ARN")
    assert alerts and alerts[0]["subject"] == "Chatbot maintenance failed"


@pytest.mark.parametrize("value", ["0", "-1", "1", "ten", "100000"])
def test_a_history_limit_out_of_range_stops_before_deleting_anything(
    platform, lambda_context, monkeypatch, value
):
    monkeypatch.setenv("HISTORY_MAX_TURNS", value)
    sessions, history = platform["SESSION_STATE_TABLE"], platform["CONVERSATION_HISTORY_TABLE"]
    _session(sessions, "live", int(time.time()) + 3600)
    _history(history, "live", 4)
    with pytest.raises(ConfigurationError, match="HISTORY_MAX_TURNS"):
        chatbot_maintenance.handler({}, lambda_context)
    assert _turns(history, "live") == [1, 2, 3, 4]
    alerts = platform.messages("CHATBOT_ALERTS_TOPIC_ARN")
    assert alerts and "HISTORY_MAX_TURNS" in alerts[0]["message"]["error"]


def test_sessions_without_a_usable_expiry_are_counted_and_reported(platform, lambda_context, json_logs):
    sessions = platform["SESSION_STATE_TABLE"]
    dynamodb = boto3.client("dynamodb")
    dynamodb.put_item(
        TableName=sessions, Item={"session_id": {"S": "text-expiry"}, "expires_at": {"S": "tomorrow"}}
    )
    dynamodb.put_item(TableName=sessions, Item={"session_id": {"S": "no-expiry"}})
    _session(sessions, "fine", int(time.time()) + 3600)
    result = chatbot_maintenance.handler({}, lambda_context)
    assert result["sessions_scanned"] == 3 and result["data_quality_issues"] == 2
    assert sorted(result["malformed_sessions"]) == [
        "no-expiry: missing_or_malformed_expires_at",
        "text-expiry: missing_or_malformed_expires_at",
    ]
    alerts = platform.messages("CHATBOT_ALERTS_TOPIC_ARN")
    assert [a["subject"] for a in alerts] == ["Chatbot maintenance found malformed sessions"]
    logged = [
        r for r in json_logs.records if r.get("data_quality_issue") == "missing_or_malformed_expires_at"
    ]
    assert len(logged) == 2
