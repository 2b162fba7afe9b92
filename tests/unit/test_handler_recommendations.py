"""GET /recommendations: SageMaker (stubbed), the preferences fallback, errors."""

from __future__ import annotations

import io
import json
from datetime import date
from typing import Any

import pytest
from botocore.response import StreamingBody
from botocore.stub import ANY, Stubber

import recommendations
from concert_shared import analytics, clients


def _call(event: dict[str, Any], context: Any) -> tuple[int, dict[str, Any]]:
    response = recommendations.handler(event, context)
    assert response["headers"]["Access-Control-Allow-Origin"] == "*"
    return response["statusCode"], json.loads(response["body"])


def test_fallback_scores_upcoming_concerts_from_preferences(
    platform, sample_data, make_api_event, lambda_context
):
    status, body = _call(
        make_api_event("GET", "/recommendations", query={"user_id": "user-01", "limit": "3"}), lambda_context
    )
    assert status == 200, body
    assert body["source"] == "preferences (processed-bucket)"
    assert body["fallback_reason"] == "RECOMMENDATIONS_ENDPOINT is not configured"
    picks = body["recommendations"]
    assert 1 <= len(picks) <= 3
    assert all(p["reasons"] and p["date"] >= date.today().isoformat() for p in picks)
    assert [p["score"] for p in picks] == sorted((p["score"] for p in picks), reverse=True)


def test_scoring_by_hand():
    tables = {
        "artists": [
            {"artist_id": "a1", "name": "One", "genre": "jazz", "popularity": 50},
            {"artist_id": "a2", "name": "Two", "genre": "rock", "popularity": 10},
        ],
        "venues": [{"venue_id": "v1", "name": "Hall", "city": "Lisbon", "capacity": 100}],
        "concerts": [
            {"concert_id": "c1", "artist_id": "a1", "venue_id": "v1", "concert_date": "2026-07-01"},
            {"concert_id": "c2", "artist_id": "a2", "venue_id": "v1", "concert_date": "2026-07-02"},
            {"concert_id": "c0", "artist_id": "a1", "venue_id": "v1", "concert_date": "2026-01-01"},  # past
        ],
    }
    picks = analytics.recommend(
        tables, {"favorite_artists": ["a2"], "favorite_genres": ["Jazz"], "city": "lisbon"}, date(2026, 6, 1)
    )
    assert [(p["concert_id"], p["score"]) for p in picks] == [("c2", 4.1), ("c1", 3.5)]
    assert picks[0]["reasons"] == ["favourite artist", "in Lisbon"]


def test_sagemaker_endpoint_answers_when_configured(
    platform, sample_data, make_api_event, lambda_context, monkeypatch
):
    monkeypatch.setenv("RECOMMENDATIONS_ENDPOINT", "recs-model")
    answer = json.dumps([{"concert_id": "concert-050", "score": 0.9}]).encode()
    with Stubber(clients.client("sagemaker-runtime")) as stub:
        stub.add_response(
            "invoke_endpoint",
            {"Body": StreamingBody(io.BytesIO(answer), len(answer))},
            {
                "EndpointName": "recs-model",
                "ContentType": "application/json",
                "Accept": "application/json",
                "Body": ANY,
            },
        )
        status, body = _call(
            make_api_event("GET", "/recommendations", query={"user_id": "user-02"}), lambda_context
        )
    assert status == 200, body
    assert body["source"] == "sagemaker"
    assert body["recommendations"] == [{"concert_id": "concert-050", "score": 0.9}]


@pytest.mark.parametrize(
    ("query", "status", "code"),
    [
        (None, 400, "invalid_request"),
        ({"user_id": "user 01"}, 400, "invalid_request"),
        ({"user_id": "user-01", "limit": "0"}, 400, "invalid_request"),
        ({"user_id": "user-01", "limit": "51"}, 400, "invalid_request"),
        ({"user_id": "nobody"}, 404, "unknown_user"),
    ],
)
def test_bad_requests(platform, sample_data, make_api_event, lambda_context, query, status, code):
    got, body = _call(make_api_event("GET", "/recommendations", query=query), lambda_context)
    assert got == status, body
    assert body["error"]["code"] == code
