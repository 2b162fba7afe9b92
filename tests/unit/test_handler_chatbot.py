"""POST /chat: platform-data answers, the Bedrock agent path, stored turns, concurrency, errors."""

from __future__ import annotations

import io
import json
import re
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

import chatbot
from concert_shared import clients, conversations
from concert_shared.config import ConfigurationError


def _call(event: dict[str, Any], context: Any) -> tuple[int, dict[str, Any], dict[str, str]]:
    response = chatbot.handler(event, context)
    return response["statusCode"], json.loads(response["body"]), response["headers"]


def _turns(table: str, session_id: str) -> list[dict[str, Any]]:
    items = boto3.client("dynamodb").query(
        TableName=table,
        KeyConditionExpression="session_id = :s",
        ExpressionAttributeValues={":s": {"S": session_id}},
    )["Items"]
    return [
        {"turn": int(i["turn"]["N"]), "role": i["role"]["S"], "content": i["content"]["S"]} for i in items
    ]


def test_chat_answers_popular_venues_from_platform_data(
    platform, sample_data, make_api_event, lambda_context
):
    status, body, headers = _call(
        make_api_event("POST", "/chat", {"message": "Which venues are the most popular?"}), lambda_context
    )
    assert status == 200, body
    assert body["source"] == "platform-data"
    assert body["intent"] == "popular_venues"
    assert body["turn"] == 2
    assert "most popular venues" in body["answer"]
    assert headers["Access-Control-Allow-Origin"] == "*"
    turns = _turns(platform["CONVERSATION_HISTORY_TABLE"], body["session_id"])
    assert [(t["turn"], t["role"]) for t in turns] == [(1, "user"), (2, "assistant")]
    state = boto3.client("dynamodb").get_item(
        TableName=platform["SESSION_STATE_TABLE"], Key={"session_id": {"S": body["session_id"]}}
    )["Item"]
    assert state["turn_count"]["N"] == "2"
    assert int(state["expires_at"]["N"]) > int(state["last_activity"]["N"])


def test_second_message_continues_the_session(platform, sample_data, make_api_event, lambda_context):
    _, first, _ = _call(make_api_event("POST", "/chat", {"message": "hello"}), lambda_context)
    status, second, _ = _call(
        make_api_event(
            "POST",
            "/chat",
            {"session_id": first["session_id"], "message": "Recommend concerts for me", "user_id": "user-01"},
        ),
        lambda_context,
    )
    assert status == 200
    assert second["session_id"] == first["session_id"]
    assert second["turn"] == 4
    assert second["intent"] == "recommendations"
    assert second["answer"].startswith(("You might like", "I found no upcoming"))
    assert [t["turn"] for t in _turns(platform["CONVERSATION_HISTORY_TABLE"], first["session_id"])] == [
        1,
        2,
        3,
        4,
    ]


@pytest.mark.parametrize(
    ("message", "intent", "expected"),
    [
        ("Which concerts are upcoming in Berlin?", "upcoming_concerts", "in Berlin"),
        ("How many tickets will sell for the next show?", "ticket_prediction", "tickets expected"),
        ("What can you do?", "general", "I can tell you about"),
        ("recommend something", "recommendations", "user_id"),
    ],
)
def test_intents_are_answered_through_the_platform_functions(
    platform, sample_data, message, intent, expected
):
    result = chatbot.chat(message)
    assert result["intent"] == intent
    assert expected in result["answer"]


def test_upcoming_concerts_by_artist_name(platform, sample_data):
    artist = sample_data["artists"][0]
    result = chatbot.chat(f"When is {artist['name']} playing?")
    assert result["intent"] == "upcoming_concerts"
    assert (
        artist["artist_id"] in result["answer"]
        or artist["name"] in result["answer"]
        or "No upcoming concerts by" in result["answer"]
    )
    assert f"by {artist['artist_id']}" in result["answer"]


def test_bedrock_agent_answers_when_configured(platform, sample_data, monkeypatch):
    monkeypatch.setenv("BEDROCK_AGENT_ID", "AGENT12345")
    monkeypatch.setenv("BEDROCK_AGENT_ALIAS_ID", "ALIAS12345")
    agent = clients.client("bedrock-agent-runtime")

    def invoke_agent(**kwargs: Any) -> dict[str, Any]:
        assert kwargs["agentId"] == "AGENT12345" and kwargs["agentAliasId"] == "ALIAS12345"
        return {
            "completion": [
                {"chunk": {"bytes": b"The Lisbon Hall "}},
                {"chunk": {"bytes": b"is popular."}},
                {"trace": {}},
            ]
        }

    monkeypatch.setattr(agent, "invoke_agent", invoke_agent)  # botocore's Stubber cannot build event streams
    result = chatbot.chat("Which venue is popular?")
    assert result["source"] == "bedrock-agent"
    assert result["answer"] == "The Lisbon Hall is popular."


def test_bedrock_failure_falls_back_to_platform_data(platform, sample_data, monkeypatch):
    monkeypatch.setenv("BEDROCK_AGENT_ID", "AGENT12345")
    monkeypatch.setenv("BEDROCK_AGENT_ALIAS_ID", "ALIAS12345")
    agent = clients.client("bedrock-agent-runtime")
    with Stubber(agent) as stub:
        stub.add_client_error("invoke_agent", "ThrottlingException", "slow down")
        result = chatbot.chat("Which venues are popular?")
    assert result["source"] == "platform-data"
    assert "ThrottlingException" in result["fallback_reason"]


def test_only_one_bedrock_variable_means_platform_data(platform, sample_data, monkeypatch):
    monkeypatch.setenv("BEDROCK_AGENT_ID", "AGENT12345")
    assert chatbot.chat("Which venues are popular?")["source"] == "platform-data"


@pytest.fixture
def atomic_dynamodb(platform, monkeypatch):
    """The handlers' DynamoDB client with each request applied whole before the next starts:
    DynamoDB's own guarantee (a request, a conditional write, a transaction is atomic), which
    moto's in-process backend does not give threads. Interleaving *between* requests stays free."""
    dynamodb = clients.client("dynamodb")
    lock = threading.Lock()
    unlocked = dynamodb._make_api_call

    def one_request_at_a_time(operation: str, params: dict[str, Any]) -> Any:
        with lock:
            return unlocked(operation, params)

    monkeypatch.setattr(dynamodb, "_make_api_call", one_request_at_a_time)
    return dynamodb


def test_concurrent_messages_for_one_session_lose_and_duplicate_nothing(
    platform, sample_data, atomic_dynamodb
):
    session = chatbot.chat("hello")["session_id"]
    workers, errors, answered = 8, [], []

    def send(index: int) -> None:
        try:
            answered.append(chatbot.chat(f"message number {index}", session_id=session))
        except Exception as exc:  # collected: a thread's failure must fail the test
            errors.append(exc)

    threads = [threading.Thread(target=send, args=(i,)) for i in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert {a["session_id"] for a in answered} == {session}
    turns = _turns(platform["CONVERSATION_HISTORY_TABLE"], session)
    assert [t["turn"] for t in turns] == list(range(1, 2 * workers + 3))
    questions = sorted(t["content"] for t in turns[2:] if t["role"] == "user")
    assert questions == sorted(f"message number {i}" for i in range(workers))
    # each user turn is followed by its own answer turn
    assert all(
        turns[i]["role"] == "user" and turns[i + 1]["role"] == "assistant" for i in range(0, len(turns), 2)
    )
    assert sorted(a["turn"] for a in answered) == list(range(4, 2 * workers + 3, 2))


def test_store_turns_numbers_after_the_last_turn(platform):
    session = conversations.new_session_id()
    first = [conversations.Turn(0, "user", "a"), conversations.Turn(0, "assistant", "b")]
    assert conversations.store_turns(session, first) == [1, 2]
    more = [conversations.Turn(0, "user", c) for c in "cde"]
    assert conversations.store_turns(session, more) == [3, 4, 5]


def test_a_failed_store_moves_neither_the_counter_nor_the_history(platform, sample_data, monkeypatch):
    session = chatbot.chat("hello")["session_id"]
    history_table = platform["CONVERSATION_HISTORY_TABLE"]
    monkeypatch.setenv("CONVERSATION_HISTORY_TABLE", "concert-no-such-table")  # the turn write fails
    with pytest.raises(Exception):  # noqa: B017 - whatever the service raises, nothing may be half-done
        chatbot.chat("this exchange is not stored", session_id=session)
    monkeypatch.setenv("CONVERSATION_HISTORY_TABLE", history_table)
    assert chatbot.chat("and this one is", session_id=session)["turn"] == 4
    assert [t["turn"] for t in _turns(history_table, session)] == [1, 2, 3, 4]


def test_session_ids_are_minted_by_the_service(platform, sample_data):
    ids = {chatbot.chat("hello")["session_id"] for _ in range(3)}
    assert len(ids) == 3
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{32}", i) for i in ids)


def test_an_unknown_session_id_starts_a_new_session(platform, sample_data):
    chosen = "guessed-session-0001"
    result = chatbot.chat("hello", session_id=chosen)
    assert result["session_id"] != chosen and result["turn"] == 2
    assert _turns(platform["CONVERSATION_HISTORY_TABLE"], chosen) == []


def test_another_users_session_is_not_joined(platform, sample_data):
    mine = chatbot.chat("hello", user_id="user-01")["session_id"]
    theirs = chatbot.chat("hello", session_id=mine, user_id="user-02")
    assert theirs["session_id"] != mine and theirs["turn"] == 2
    assert [t["turn"] for t in _turns(platform["CONVERSATION_HISTORY_TABLE"], mine)] == [1, 2]
    assert chatbot.chat("again", session_id=mine, user_id="user-01")["session_id"] == mine


def test_an_expired_session_is_not_continued(platform, sample_data):
    first = chatbot.chat("hello")
    later = datetime.now(UTC) + timedelta(hours=25)
    assert (
        chatbot.chat("still there?", session_id=first["session_id"], now=later)["session_id"]
        != first["session_id"]
    )


@pytest.mark.parametrize(
    ("event_args", "status", "code"),
    [
        ({"raw_body": "{not json"}, 400, "malformed_json"),
        ({"raw_body": ""}, 400, "missing_body"),
        ({"raw_body": "[1, 2]"}, 400, "invalid_request"),
        ({"body": {}}, 400, "invalid_request"),
        ({"body": {"message": ""}}, 400, "invalid_request"),
        ({"body": {"message": 42}}, 400, "invalid_request"),
        ({"body": {"message": "x" * 2001}}, 400, "invalid_request"),
        ({"body": {"message": "hi", "session_id": "bad id!"}}, 400, "invalid_request"),
        ({"body": {"message": "hi", "unexpected": 1}}, 400, "invalid_request"),
        ({"raw_body": json.dumps({"message": "x" * 17000})}, 413, "body_too_large"),
    ],
)
def test_bad_input_is_a_4xx_that_says_what_was_wrong(
    platform, make_api_event, lambda_context, event_args, status, code
):
    got, body, headers = _call(make_api_event("POST", "/chat", **event_args), lambda_context)
    assert got == status
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    assert body["error"]["correlation_id"]
    assert headers["Access-Control-Allow-Origin"] == "*"


def test_unknown_route_and_wrong_method(platform, make_api_event, lambda_context):
    status, body, headers = _call(make_api_event("POST", "/nowhere", {"message": "hi"}), lambda_context)
    assert status == 404 and body["error"]["code"] == "not_found" and "POST /chat" in body["error"]["message"]
    assert headers["Access-Control-Allow-Origin"] == "*"
    status, body, headers = _call(make_api_event("GET", "/chat"), lambda_context)
    assert status == 405 and body["error"]["code"] == "method_not_allowed"
    assert headers["Access-Control-Allow-Origin"] == "*"


def test_correlation_id_from_header_reaches_error_body_and_logs(
    platform, make_api_event, lambda_context, json_logs
):
    event = make_api_event("POST", "/chat", raw_body="{", headers={"X-Correlation-Id": "corr-12345"})
    status, body, headers = _call(event, lambda_context)
    assert status == 400
    assert body["error"]["correlation_id"] == "corr-12345"
    assert headers["X-Correlation-Id"] == "corr-12345"
    assert json_logs.records and all(r.get("correlation_id") == "corr-12345" for r in json_logs.records)


def test_correlation_id_defaults_to_the_api_gateway_request_id(platform, make_api_event, lambda_context):
    event = make_api_event("POST", "/chat", raw_body="{")
    _, body, _ = _call(event, lambda_context)
    assert body["error"]["correlation_id"] == event["requestContext"]["requestId"]


def test_missing_data_is_a_503_logged_at_error(platform, make_api_event, lambda_context, json_logs):
    status, body, headers = _call(
        make_api_event("POST", "/chat", {"message": "popular venues?"}), lambda_context
    )
    assert status == 503
    assert body["error"]["code"] == "data_unavailable"
    assert "load the sample data" in body["error"]["message"]
    assert headers["Access-Control-Allow-Origin"] == "*"
    errors = [r for r in json_logs.records if r["level"] == "ERROR"]
    assert errors and all(r["correlation_id"] == body["error"]["correlation_id"] for r in errors)


def test_a_server_fault_is_a_500_logged_with_the_correlation_id(
    platform, make_api_event, lambda_context, json_logs, monkeypatch
):
    monkeypatch.delenv("SESSION_STATE_TABLE")
    status, body, _ = _call(make_api_event("POST", "/chat", {"message": "hello"}), lambda_context)
    assert status == 500
    assert body["error"]["code"] == "internal_error"
    assert any(r["level"] == "ERROR" and "SESSION_STATE_TABLE" in json.dumps(r) for r in json_logs.records)


def test_stream_reads_are_not_needed(platform):
    # the chatbot never reads the events stream; io is imported for the agent stub's shape only
    assert isinstance(io.BytesIO(b"").read(), bytes)


@pytest.mark.parametrize("hours", ["0", "-5"])
def test_a_session_ttl_out_of_range_is_a_named_configuration_error(platform, sample_data, monkeypatch, hours):
    monkeypatch.setenv("SESSION_TTL_HOURS", hours)
    with pytest.raises(ConfigurationError, match="SESSION_TTL_HOURS"):
        chatbot.chat("hello")
