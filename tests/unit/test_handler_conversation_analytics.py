"""Hourly analytics: statistics of the last hour, written to S3 and published as metrics."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import boto3

import chatbot
import conversation_analytics


def test_summary_of_the_last_hour(platform, sample_data, lambda_context, capsys):
    first = chatbot.chat("Which venues are popular?")
    chatbot.chat("upcoming concerts in Lisbon", session_id=first["session_id"])
    chatbot.chat("what can you do?")
    old = {
        "session_id": {"S": "old-session"},
        "turn": {"N": "1"},
        "role": {"S": "user"},
        "content": {"S": "x"},
        "created_at": {"N": str(int(time.time()) - 7200)},
        "intent": {"S": "general"},
    }
    boto3.client("dynamodb").put_item(TableName=platform["CONVERSATION_HISTORY_TABLE"], Item=old)
    capsys.readouterr()
    summary = conversation_analytics.handler({"source": "aws.events"}, lambda_context)
    assert summary["sessions"] == 2
    assert summary["turns"] == 6
    assert summary["avg_turns_per_session"] == 3.0
    assert summary["sources"] == {"platform-data": 3}
    assert {i["intent"]: i["count"] for i in summary["top_intents"]} == {
        "popular_venues": 1,
        "upcoming_concerts": 1,
        "general": 1,
    }
    start = datetime.fromisoformat(summary["window_start"])
    assert summary["s3_key"] == f"analytics/conversations/{start:%Y/%m/%d/%H}.json"
    stored = json.loads(
        boto3.client("s3")
        .get_object(Bucket=platform["PROCESSED_BUCKET"], Key=summary["s3_key"])["Body"]
        .read()
    )
    assert stored["turns"] == 6
    emf = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    assert emf, "no CloudWatch embedded-metric line was printed"
    directive = emf[-1]["_aws"]["CloudWatchMetrics"][0]
    assert directive["Namespace"] == "ConcertPlatform"
    assert {m["Name"] for m in directive["Metrics"]} >= {"Sessions", "Turns", "AvgTurnsPerSession"}
    assert emf[-1]["Sessions"] == [2.0]


def test_empty_hour(platform, lambda_context):
    summary = conversation_analytics.analyse(now=int(datetime(2026, 1, 1, 12, 30, tzinfo=UTC).timestamp()))
    assert summary["sessions"] == 0 and summary["avg_turns_per_session"] == 0.0
    assert summary["s3_key"] == "analytics/conversations/2026/01/01/11.json"


def test_failure_alerts_and_raises(platform, lambda_context, monkeypatch):
    monkeypatch.setenv("PROCESSED_BUCKET", "no-such-bucket")
    try:
        conversation_analytics.handler({}, lambda_context)
    except Exception as exc:
        assert "NoSuchBucket" in str(exc)
    else:
        raise AssertionError("writing to a missing bucket must fail the run")
    assert platform.messages("CHATBOT_ALERTS_TOPIC_ARN")[0]["subject"] == "Conversation analytics failed"


def test_malformed_turns_are_left_out_counted_and_logged_for_the_data_quality_filter(platform, json_logs):
    from concert_platform.filter_pattern import matches

    now = int(time.time())
    table = platform["CONVERSATION_HISTORY_TABLE"]
    good = {"session_id": {"S": "s-good"}, "turn": {"N": "1"}, "role": {"S": "user"}, "content": {"S": "hi"}}
    bad_role = {
        "session_id": {"S": "s-bad"},
        "turn": {"N": "1"},
        "role": {"S": "robot"},
        "content": {"S": "x"},
    }
    empty = {"session_id": {"S": "s-bad"}, "turn": {"N": "2"}, "role": {"S": "user"}, "content": {"S": ""}}
    for item in (good, bad_role, empty):
        boto3.client("dynamodb").put_item(TableName=table, Item={**item, "created_at": {"N": str(now - 60)}})
    summary = conversation_analytics.analyse(now=now)
    assert summary["turns"] == 1 and summary["sessions"] == 1
    assert summary["data_quality_issues"] == 2
    flagged = [line for line in json_logs.lines if matches('{ $.data_quality_issue = "*" }', line)]
    assert sorted(json.loads(line)["data_quality_issue"] for line in flagged) == [
        "empty_content",
        "unknown_role",
    ]


def test_a_malformed_created_at_is_counted_and_the_rest_summarised(
    platform, sample_data, lambda_context, json_logs
):
    chatbot.chat("Which venues are popular?")
    table = platform["CONVERSATION_HISTORY_TABLE"]
    base = {"turn": {"N": "1"}, "role": {"S": "user"}, "content": {"S": "x"}}
    for session, created in (("text-date", {"S": "2026-11-25T10:00:00Z"}), ("no-date", None)):
        item = {"session_id": {"S": session}, **base}
        if created:
            item["created_at"] = created
        boto3.client("dynamodb").put_item(TableName=table, Item=item)
    summary = conversation_analytics.handler({"source": "aws.events"}, lambda_context)
    assert summary["turns"] == 2 and summary["sessions"] == 1
    assert summary["data_quality_issues"] == 2
    issues = [r for r in json_logs.records if r.get("data_quality_issue") == "malformed_created_at"]
    assert {r["session_id"] for r in issues} == {"text-date", "no-date"}


def test_a_malformed_item_in_memory_is_counted_not_raised():
    items = [{"session_id": {"S": "s"}, "created_at": {"N": "not a number"}, "role": "user"}]
    assert conversation_analytics.summarise(items, 0, 10)["data_quality_issues"] == 1
