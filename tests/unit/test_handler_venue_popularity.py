"""GET /venues/popularity: the processed-bucket fallback, errors, the formula (the warehouse path:
tests/unit/test_warehouse_path.py)."""

from __future__ import annotations

import json
import math
from datetime import date
from typing import Any

import pytest
from redshift_stub import redshift_stubber, stub_statement

import venue_popularity
from concert_shared import analytics, platform_data, services


def _call(event: dict[str, Any], context: Any) -> tuple[int, dict[str, Any]]:
    response = venue_popularity.handler(event, context)
    assert response["headers"]["Access-Control-Allow-Origin"] == "*"
    return response["statusCode"], json.loads(response["body"])


def test_fallback_ranks_venues_from_the_processed_bucket(
    platform, sample_data, make_api_event, lambda_context
):
    status, body = _call(make_api_event("GET", "/venues/popularity", query={"limit": "5"}), lambda_context)
    assert status == 200, body
    assert body["source"] == "processed-bucket"
    assert "redshift" in body["fallback_reason"]  # the workgroup has no schema: the statement FAILED
    assert len(body["venues"]) == 5
    scores = [v["popularity"] for v in body["venues"]]
    assert scores == sorted(scores, reverse=True)
    assert all(v["venue_id"] != "venue-15" for v in body["venues"])  # the capacity -1 venue is excluded
    assert body["data_quality_issues"] >= 2


def test_city_filter(platform, sample_data, make_api_event, lambda_context):
    status, body = _call(
        make_api_event("GET", "/venues/popularity", query={"city": "berlin"}), lambda_context
    )
    assert status == 200
    assert body["venues"] and {v["city"] for v in body["venues"]} == {"Berlin"}


def test_failed_redshift_statement_falls_back_with_the_reason(platform, sample_data):
    with redshift_stubber() as stubber:
        stub_statement(stubber, [], [], status="FAILED")
        result = services.popular_venues(limit=3)
    assert result["source"] == "processed-bucket"
    # the kind of failure only: the engine's error text (tables, columns, SQL) goes to the log
    assert result["fallback_reason"] == "redshift unavailable: statement FAILED"
    assert "boom" not in result["fallback_reason"]


def test_no_data_anywhere_is_503(platform, make_api_event, lambda_context, json_logs):
    status, body = _call(make_api_event("GET", "/venues/popularity"), lambda_context)
    assert status == 503
    assert body["error"]["code"] == "data_unavailable" and body["error"]["correlation_id"]
    assert "load the sample data" in body["error"]["message"]
    assert platform["PROCESSED_BUCKET"] not in json.dumps(body)  # the bucket is named in the log only
    assert any(
        platform["PROCESSED_BUCKET"] in json.dumps(r) for r in json_logs.records if r["level"] == "ERROR"
    )


def test_a_denied_data_api_is_a_fallback_that_names_no_internals(
    platform, sample_data, make_api_event, lambda_context, json_logs
):
    denied = (
        "User: arn:aws:sts::123456789012:assumed-role/concert-api-role-unittest/fn is not authorized to "
        "perform: redshift-data:ExecuteStatement on resource: "
        "arn:aws:redshift-serverless:us-east-1:123456789012:workgroup/concert-unittest"
    )
    with redshift_stubber() as stubber:
        stubber.add_client_error("execute_statement", "AccessDeniedException", denied)
        status, body = _call(make_api_event("GET", "/venues/popularity"), lambda_context)
    assert status == 200 and body["source"] == "processed-bucket"
    assert body["fallback_reason"] == "redshift unavailable: AccessDeniedException"
    text = json.dumps(body)
    assert "arn:" not in text and "123456789012" not in text and "concert-unittest" not in text
    assert any("123456789012" in json.dumps(r) for r in json_logs.records)  # the detail is logged


@pytest.mark.parametrize(
    "query",
    [{"limit": "0"}, {"limit": "101"}, {"limit": "ten"}, {"city": ""}, {"colour": "blue"}],
)
def test_bad_query_is_400(platform, sample_data, make_api_event, lambda_context, query):
    status, body = _call(make_api_event("GET", "/venues/popularity", query=query), lambda_context)
    assert status == 400
    assert body["error"]["code"] == "invalid_request"
    assert "docs/api.md" in body["error"]["message"]


def test_repeated_query_parameter_is_400(platform, sample_data, make_api_event, lambda_context):
    event = make_api_event(
        "GET", "/venues/popularity", query={"limit": "3"}, multi_query={"limit": ["3", "4"]}
    )
    status, body = _call(event, lambda_context)
    assert status == 400 and "repeated: limit" in body["error"]["message"]


def test_post_is_405(platform, make_api_event, lambda_context):
    status, body = _call(make_api_event("POST", "/venues/popularity", {"x": 1}), lambda_context)
    assert status == 405
    assert "use GET" in body["error"]["message"]


def test_popularity_formula_by_hand():
    today = date(2026, 6, 1)
    tables = {
        "venues": [
            {"venue_id": "v1", "name": "A", "city": "X", "capacity": 1000},
            {"venue_id": "v2", "name": "B", "city": "X", "capacity": 100},
        ],
        "concerts": [
            {"concert_id": "c1", "venue_id": "v1", "concert_date": "2026-05-01"},  # 31 days ago: recency 1.0
            {
                "concert_id": "c2",
                "venue_id": "v2",
                "concert_date": "2025-06-01",
            },  # 365 days: recency 1 - 0.75*275/640
            {"concert_id": "c3", "venue_id": "v2", "concert_date": "2026-07-01"},  # upcoming: ignored
        ],
        "ticket_sales": [
            {"concert_id": "c1", "tickets_sold": 500},
            {"concert_id": "c2", "tickets_sold": 100},
            {"concert_id": "c3", "tickets_sold": 5},
        ],
    }
    ranked = analytics.venue_popularity(tables, today)
    by_id = {v["venue_id"]: v for v in ranked}
    assert by_id["v1"]["popularity"] == round(0.5 * math.log10(501) * 1.0, 4)
    assert by_id["v2"]["popularity"] == round(1.0 * math.log10(101) * (1 - 0.75 * 275 / 640), 4)
    assert by_id["v2"]["concerts"] == 1


def test_data_quality_problems_are_logged_as_warnings(json_logs):
    issues = platform_data.check_quality(
        {
            "venues": [{"venue_id": "v1", "capacity": None}, {"venue_id": "v2", "capacity": -5}],
            "concerts": [{"concert_id": "c1", "concert_date": None, "base_price": -1.0}],
            "ticket_sales": [{"concert_id": "c1", "tickets_sold": -3}],
        }
    )
    assert len(issues) == 5
    kinds = sorted(r["data_quality_issue"] for r in json_logs.records if "data_quality_issue" in r)
    assert kinds == [
        "invalid_capacity",
        "invalid_capacity",
        "invalid_price",
        "invalid_tickets_sold",
        "missing_concert_date",
    ]
    assert all(r["level"] == "WARNING" for r in json_logs.records if "data_quality_issue" in r)
