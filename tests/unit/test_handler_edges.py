"""The platform's edges under hostile input: every API route and the non-API handlers' events.

Beyond tests/unit/test_handler_properties.py: unbounded nesting, lone surrogates, very long
strings, every route from one generator, and subscription payloads with bad gzip, bad base64
and poisoned lines, scheduled events with unexpected fields. Asserted: no unhandled exception,
no 5xx for client input, no internal detail (ARN, account id, resource name, traceback) in any
answer.

CONCERT_HOSTILE_EVENTS sets how many API events are generated (default 300); the issue's bar is
    CONCERT_HOSTILE_EVENTS=10000 .venv/bin/python -m pytest tests/unit/test_handler_edges.py \
        -k every_route -p no:cacheprovider -s
which prints the count of events and of responses >= 500."""

from __future__ import annotations

import base64
import gzip
import json
import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import chatbot
import chatbot_maintenance
import conversation_analytics
import error_processor
import health_check
import recommendations
import ticket_prediction
import venue_popularity
from concert_shared import api

ROUTES = [
    (chatbot, "POST", "/chat", ["message", "session_id", "user_id"]),
    (venue_popularity, "GET", "/venues/popularity", ["limit", "city"]),
    (
        ticket_prediction,
        "POST",
        "/predictions/tickets",
        ["concert_id", "artist_id", "venue_id", "date", "price"],
    ),
    (recommendations, "GET", "/recommendations", ["user_id", "limit"]),
    (health_check, "GET", "/health", []),
]
BODY_ROUTES = [(m, method, path) for m, method, path, _ in ROUTES if method == "POST"]
HOSTILE_EVENTS = int(os.environ.get("CONCERT_HOSTILE_EVENTS", "300"))
INTERNAL_MARKERS = ("arn:aws", "123456789012", "Traceback", "botocore", 'File "')


def deep(depth: int, opener: str = "[", closer: str = "]") -> str:
    return opener * depth + closer * depth


def internal_names(platform: Any) -> list[str]:
    """Resource names the platform fixture created: none may appear in an answer."""
    return [
        value
        for name, value in platform.env.items()
        if name.endswith(("_TABLE", "_BUCKET", "_STREAM", "_ARN")) and value
    ]


def assert_clean_answer(response: dict[str, Any], names: list[str]) -> dict[str, Any] | None:
    status = response["statusCode"]
    assert status < 500, (status, response["body"][:300])
    headers = response["headers"]
    assert headers["Access-Control-Allow-Origin"] == "*" and headers.get("X-Correlation-Id")
    text = response.get("body") or ""
    for marker in [*INTERNAL_MARKERS, *names]:
        assert marker not in text, (marker, text[:300])
    if not text:
        return None  # a CORS preflight
    body = json.loads(text)
    if status >= 400:
        assert body["error"]["code"] and body["error"]["message"] and body["error"]["correlation_id"]
    return body


# --- nesting ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("module", "method", "path"), BODY_ROUTES, ids=lambda v: getattr(v, "__name__", v))
@pytest.mark.parametrize(
    "raw",
    [
        deep(1000),
        deep(40_000),
        '{"message": ' + deep(500) + "}",
        "{" * 2000,
        '{"a":' * 1000 + "1" + "}" * 1000,
    ],
    ids=["arrays-1000", "arrays-40000", "message-500", "open-braces-2000", "objects-1000"],
)
def test_deep_nesting_is_a_400_not_a_500(
    platform, make_api_event, lambda_context, json_logs, module, method, path, raw
):
    event = make_api_event(method, path, raw_body=raw[: api.MAX_BODY_BYTES])
    body = assert_clean_answer(module.handler(event, lambda_context), internal_names(platform))
    assert body is not None and body["error"]["code"] in ("invalid_request", "malformed_json")
    assert not [r for r in json_logs.records if r["level"] == "ERROR"], "a client's body must not page anyone"


def test_nesting_limit_is_documented_and_exact():
    assert api.json_depth(deep(api.MAX_JSON_DEPTH)) == api.MAX_JSON_DEPTH
    assert api.json_depth('{"a": "[[[[[[\\"]]]", "b": [{}]}') == 3  # brackets inside strings do not count
    doc = Path(api.__file__).resolve().parents[3] / "docs" / "api.md"
    assert f"deeper than {api.MAX_JSON_DEPTH} levels" in doc.read_text()


def test_brackets_inside_a_message_are_just_text(platform, sample_data, make_api_event, lambda_context):
    event = make_api_event("POST", "/chat", {"message": "what about " + deep(600)})
    response = chatbot.handler(event, lambda_context)
    assert response["statusCode"] == 200, response["body"][:300]


# --- every route, generated ------------------------------------------------------------------

surrogates = st.characters(categories=["Cs"])
hostile_text = st.one_of(
    st.text(max_size=60),
    st.text(st.characters(codec=None) | surrogates, max_size=60),
    st.integers(1, 70_000).map(lambda n: "x" * n),
    st.integers(1, 5000).map(deep),
    st.sampled_from(["NaN", "-Infinity", "1e999999", "\x00", "\u202e", "../../etc/passwd", "' OR 1=1 --"]),
)
scalars = st.none() | st.booleans() | st.integers(-(2**80), 2**80) | st.floats() | hostile_text
json_values = st.recursive(
    scalars,
    lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=6), c, max_size=3),
    max_leaves=8,
)


def hostile_bodies(fields: list[str]) -> st.SearchStrategy[str | None]:
    shaped = st.dictionaries(st.sampled_from([*fields, "unexpected"]), json_values, max_size=5)
    return st.one_of(
        st.none(),
        hostile_text,
        shaped.map(json.dumps),
        shaped.map(lambda v: json.dumps(v, ensure_ascii=False)),
        st.integers(1, 100_000).map(lambda n: deep(n, '{"message":', "}")),
        st.integers(1, 5000).map(lambda n: json.dumps({"message": "hi", "user_id": deep(n)})),
        st.builds(lambda s: json.dumps({"message": s}, ensure_ascii=False), st.text(surrogates, min_size=1)),
    )


@st.composite
def hostile_events(draw: st.DrawFn, make_api_event: Any) -> tuple[Any, dict[str, Any]]:
    module, method, path, fields = draw(st.sampled_from(ROUTES))
    if draw(st.integers(0, 4)) == 0:
        method = draw(st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"]))
        path = draw(st.sampled_from([path, path + "/", "/", "//" + path]) | hostile_text.map("/{}".format))
    keys = st.sampled_from([*fields, "unexpected"]) | hostile_text
    multi = draw(st.dictionaries(keys, st.lists(hostile_text, min_size=1, max_size=2), max_size=3))
    headers = draw(
        st.dictionaries(
            st.sampled_from(["X-Correlation-Id", "Content-Type", "Origin"]), hostile_text, max_size=3
        )
    )
    event = make_api_event(
        method,
        path,
        query={k: v[-1] for k, v in multi.items()},
        multi_query=multi or None,
        headers=headers,
        raw_body=draw(hostile_bodies(fields)),
    )
    event["isBase64Encoded"] = draw(st.integers(0, 19)) == 0
    return module, event


def test_hostile_events_on_every_route_never_get_a_5xx(
    platform, sample_data, lambda_context, make_api_event, capsys
):
    names = internal_names(platform)
    seen = {"events": 0, "5xx": 0}

    @settings(
        max_examples=HOSTILE_EVENTS,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=hostile_events(make_api_event))
    def check(case: tuple[Any, dict[str, Any]]) -> None:
        module, event = case
        response = module.handler(event, lambda_context)
        seen["events"] += 1
        seen["5xx"] += response["statusCode"] >= 500
        assert_clean_answer(response, names)

    check()
    with capsys.disabled():
        print(f"\nhostile API events: {seen['events']}, responses >= 500: {seen['5xx']}")
    assert seen["events"] >= HOSTILE_EVENTS and seen["5xx"] == 0


# --- non-API handlers ------------------------------------------------------------------------


def _subscription(payload: Any) -> dict[str, Any]:
    raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return {"awslogs": {"data": base64.b64encode(gzip.compress(raw)).decode()}}


log_lines = st.one_of(
    st.text(max_size=200),
    st.builds(lambda m: json.dumps({"level": "ERROR", "message": m}), hostile_text),
    st.builds(lambda n: '{"level":"ERROR","message":' + deep(n) + "}", st.integers(1, 5000)),
    st.builds(
        lambda lvl, m: json.dumps({"level": lvl, "message": m, "service": "chatbot"}),
        hostile_text,
        hostile_text,
    ),
    st.just("Task timed out after 3.00 seconds"),
)
log_events = st.one_of(
    st.fixed_dictionaries(
        {"id": st.text(max_size=8), "timestamp": st.integers(0, 2**45), "message": log_lines}
    ),
    json_values,
)
subscription_events = st.one_of(
    json_values.map(lambda v: {"awslogs": {"data": v}}),
    st.binary(max_size=200).map(lambda b: {"awslogs": {"data": base64.b64encode(b).decode()}}),
    st.binary(max_size=200).map(_subscription),
    hostile_text.map(lambda t: {"awslogs": {"data": t}}),
    st.builds(
        lambda group, events: _subscription(
            {"messageType": "DATA_MESSAGE", "logGroup": group, "logStream": "s", "logEvents": events}
        ),
        json_values,
        st.lists(log_events, max_size=6),
    ),
    st.integers(1, 60_000).map(lambda n: _subscription(deep(n).encode())),
    json_values,
)


def test_the_error_processor_survives_any_subscription_event(platform, lambda_context):
    @settings(max_examples=150, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(event=subscription_events)
    def check(event: Any) -> None:
        summary = error_processor.handler(event, lambda_context)
        assert summary["failed"] == 0
        assert summary["alerts"] + summary["suppressed"] + summary["already_counted"] <= max(
            summary["events"], 1
        )

    check()


scheduled_events = st.one_of(
    st.fixed_dictionaries(
        {"source": st.just("aws.events"), "detail-type": st.just("Scheduled Event"), "detail": json_values},
        optional={"unexpected": json_values, "resources": json_values, "time": hostile_text},
    ),
    json_values,
)


@pytest.mark.parametrize("module", [chatbot_maintenance, conversation_analytics], ids=lambda m: m.__name__)
def test_scheduled_handlers_ignore_unexpected_event_fields(platform, lambda_context, module):
    @settings(max_examples=25, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(event=scheduled_events)
    def check(event: Any) -> None:
        result = module.handler(event, lambda_context)
        assert isinstance(result, dict)

    check()
