"""POST /predictions/tickets: SageMaker (stubbed), the historical fallback, errors."""

from __future__ import annotations

import io
import json
from datetime import date
from typing import Any

import pytest
from botocore.response import StreamingBody
from botocore.stub import ANY, Stubber

import ticket_prediction
from concert_shared import analytics, clients


def _call(event: dict[str, Any], context: Any) -> tuple[int, dict[str, Any]]:
    response = ticket_prediction.handler(event, context)
    assert response["headers"]["Access-Control-Allow-Origin"] == "*"
    return response["statusCode"], json.loads(response["body"])


def _upcoming(data: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    today = date.today().isoformat()
    return next(
        c
        for c in sorted(data["concerts"], key=lambda c: c["concert_id"])
        if c["concert_date"] and c["concert_date"] >= today and c["venue_id"] != "venue-15"
    )


def test_fallback_predicts_from_history_capped_at_capacity(
    platform, sample_data, make_api_event, lambda_context
):
    concert = _upcoming(sample_data)
    status, body = _call(
        make_api_event("POST", "/predictions/tickets", {"concert_id": concert["concert_id"]}), lambda_context
    )
    assert status == 200, body
    assert body["source"] == "historical (processed-bucket)"
    assert body["fallback_reason"] == "TICKET_PREDICTION_ENDPOINT is not configured"
    prediction = body["prediction"]
    assert 0 <= prediction["predicted_tickets"] <= prediction["capacity"]
    assert prediction["basis"] in ("artist at venue", "artist history", "venue history", "platform history")
    assert body["price"] == concert["base_price"]


def test_by_artist_venue_and_date(platform, sample_data, make_api_event, lambda_context):
    body = {"artist_id": "artist-01", "venue_id": "venue-01", "date": date.today().isoformat(), "price": 20}
    status, result = _call(make_api_event("POST", "/predictions/tickets", body), lambda_context)
    assert status == 200, result
    assert result["artist_id"] == "artist-01" and result["venue_id"] == "venue-01"


def test_higher_price_predicts_fewer_tickets():
    tables = {
        "venues": [{"venue_id": "v", "capacity": 1000}],
        "concerts": [
            {
                "concert_id": "c1",
                "artist_id": "a",
                "venue_id": "v",
                "concert_date": "2026-01-01",
                "base_price": 50.0,
            }
        ],
        "ticket_sales": [{"concert_id": "c1", "tickets_sold": 600}],
    }
    cheap = analytics.predict_ticket_sales(tables, "a", "v", 25.0, on=date(2026, 6, 1))
    dear = analytics.predict_ticket_sales(tables, "a", "v", 100.0, on=date(2026, 6, 1))
    same = analytics.predict_ticket_sales(tables, "a", "v", None, on=date(2026, 6, 1))
    assert same["predicted_tickets"] == 600
    assert cheap["predicted_tickets"] == 750  # 0.6 * 1.25
    assert dear["predicted_tickets"] == 300  # 0.6 * 0.5
    assert same["basis"] == "artist at venue"
    tables["ticket_sales"][0]["tickets_sold"] = 5000
    assert (
        analytics.predict_ticket_sales(tables, "a", "v", 1.0, on=date(2026, 6, 1))["predicted_tickets"]
        == 1000
    )  # capped
    with pytest.raises(LookupError):
        analytics.predict_ticket_sales(
            tables, "a", "v", None, on=date(2025, 1, 1)
        )  # no history before that date


def test_sagemaker_endpoint_answers_when_configured(
    platform, sample_data, make_api_event, lambda_context, monkeypatch
):
    monkeypatch.setenv("TICKET_PREDICTION_ENDPOINT", "ticket-model")
    concert = _upcoming(sample_data)
    runtime = clients.client("sagemaker-runtime")
    answer = json.dumps({"predicted_tickets": 321}).encode()
    with Stubber(runtime) as stub:
        stub.add_response(
            "invoke_endpoint",
            {"Body": StreamingBody(io.BytesIO(answer), len(answer)), "ContentType": "application/json"},
            {
                "EndpointName": "ticket-model",
                "ContentType": "application/json",
                "Accept": "application/json",
                "Body": ANY,
            },
        )
        status, body = _call(
            make_api_event("POST", "/predictions/tickets", {"concert_id": concert["concert_id"]}),
            lambda_context,
        )
    assert status == 200, body
    assert body["source"] == "sagemaker"
    assert body["prediction"] == {"predicted_tickets": 321}


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({}, 400, "invalid_request"),
        ({"price": "free"}, 400, "invalid_request"),
        ({"artist_id": "artist-01", "venue_id": "venue-01"}, 400, "invalid_request"),  # no date
        ({"artist_id": "artist-01", "venue_id": "venue-01", "date": "next friday"}, 400, "invalid_request"),
        ({"concert_id": "concert-001", "price": -5}, 400, "invalid_request"),
        ({"concert_id": 7}, 400, "invalid_request"),
        ({"concert_id": "concert-999"}, 404, "unknown_concert"),
        ({"artist_id": "artist-01", "venue_id": "venue-15", "date": "2030-01-01"}, 422, "cannot_predict"),
    ],
)
def test_bad_requests(platform, sample_data, make_api_event, lambda_context, body, status, code):
    got, result = _call(make_api_event("POST", "/predictions/tickets", body), lambda_context)
    assert got == status, result
    assert result["error"]["code"] == code
    assert result["error"]["message"]
