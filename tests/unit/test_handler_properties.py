"""Property: whatever a client sends to an API function (any method, path, query string, headers
or body, well-formed or not), the answer is a JSON response with CORS headers, never an
unhandled exception, and never a 5xx while the platform itself is healthy."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import chatbot
import health_check
import recommendations
import ticket_prediction
import venue_popularity

MODULES = {
    "chatbot": chatbot,
    "venue_popularity": venue_popularity,
    "ticket_prediction": ticket_prediction,
    "recommendations": recommendations,
    "health_check": health_check,
}
# The fields each route's model knows, plus one it does not: a request-shaped body or query
# reaches the validation code, not only the JSON parser.
FIELDS = {
    "chatbot": ["message", "session_id", "user_id"],
    "venue_popularity": ["limit", "city"],
    "ticket_prediction": ["concert_id", "artist_id", "venue_id", "date", "price"],
    "recommendations": ["user_id", "limit"],
    "health_check": [],
}
PLAUSIBLE = [
    "user-001",
    "concert-0001",
    "artist-01",
    "venue-01",
    "2026-12-01",
    "5",
    "Berlin",
    "Which venues are popular?",
]

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=40)
    | st.sampled_from(PLAUSIBLE)
)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
methods = st.sampled_from(["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"])
header_values = st.text(max_size=200)


def bodies(fields: list[str]) -> st.SearchStrategy[str | None]:
    shaped = st.dictionaries(st.sampled_from([*fields, "unexpected"]), json_values, max_size=6)
    return st.one_of(
        st.none(),
        st.text(max_size=300),  # not JSON at all, or JSON of the wrong type
        json_values.map(lambda v: json.dumps(v)),
        shaped.map(lambda v: json.dumps(v)),
        st.integers(min_value=16 * 1024 - 8, max_value=40 * 1024).map(
            lambda n: json.dumps({"message": "x" * n})
        ),
    )


def queries(fields: list[str]) -> st.SearchStrategy[dict[str, list[str]]]:
    keys = st.sampled_from([*fields, "unexpected"]) | st.text(min_size=1, max_size=12)
    values = st.sampled_from(PLAUSIBLE) | st.text(max_size=30)
    return st.dictionaries(keys, st.lists(values, min_size=1, max_size=2), max_size=4)


@st.composite
def requests(draw: st.DrawFn, name: str, api_event: Any) -> dict[str, Any]:
    module = MODULES[name]
    ((own_path, (own_method,)),) = ((p, tuple(m)) for p, m in module.ROUTES.items())
    if draw(st.integers(0, 3)):  # three times in four: the route itself, so validation is exercised
        method, path = own_method, own_path
    else:
        method = draw(methods)
        path = draw(
            st.sampled_from([own_path, own_path + "/", "/", "/chat", "/health"])
            | st.text(max_size=40).map("/{}".format)
        )
    multi = draw(queries(FIELDS[name]))
    headers = draw(
        st.dictionaries(
            st.sampled_from(["X-Correlation-Id", "Content-Type", "Origin"]), header_values, max_size=3
        )
    )
    event = api_event(
        method,
        path,
        query={k: v[-1] for k, v in multi.items()},
        multi_query=multi or None,
        headers=headers,
        raw_body=draw(bodies(FIELDS[name])),
    )
    event["isBase64Encoded"] = draw(st.integers(0, 9)) == 0  # now and then a binary body
    return event


@pytest.mark.parametrize("name", sorted(MODULES))
def test_no_client_input_causes_an_unhandled_error_or_a_5xx(
    name: str, platform, sample_data, lambda_context, make_api_event
) -> None:
    handler = MODULES[name].handler

    @settings(
        max_examples=120,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(event=requests(name, make_api_event))
    def check(event: dict[str, Any]) -> None:
        response = handler(event, lambda_context)
        status = response["statusCode"]
        assert status < 500, (status, event["httpMethod"], event["path"], response["body"][:300])
        headers = response["headers"]
        assert headers["Access-Control-Allow-Origin"] == "*"
        assert headers.get("X-Correlation-Id")
        if event["httpMethod"] == "OPTIONS" and status == 204:
            return  # CORS preflight answered by the resolver: no body
        body = json.loads(response["body"])
        if status >= 400:
            assert body["error"]["code"] and body["error"]["message"], body

    check()
