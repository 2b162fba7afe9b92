"""The data routes answer from the warehouse (SQL aggregations on the embedded engine's Data API),
give the same answers as the processed-bucket fallback over the same rows, and send request
values only as Data API parameters."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import boto3
import pytest
from redshift_stub import REGION, load_warehouse

import recommendations
import ticket_prediction
import venue_popularity
from concert_shared import analytics, platform_data, redshift, services


@pytest.fixture
def warehouse(platform: Any, sample_data: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    load_warehouse(platform.env, sample_data)
    return sample_data


@pytest.fixture
def sent_sql(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Every ExecuteStatement request the handlers send, as sent."""
    sent: list[dict[str, Any]] = []
    real = redshift.client

    def recording_client(service: str) -> Any:
        made = real(service)
        if service == "redshift-data" and not getattr(made, "_recording", False):
            made.meta.events.register(
                "provide-client-params.redshift-data.ExecuteStatement",
                lambda params, **_: sent.append(dict(params)),
            )
            made._recording = True
        return made

    monkeypatch.setattr(redshift, "client", recording_client)
    return sent


def _body(handler: Any, event: dict[str, Any], context: Any) -> dict[str, Any]:
    response = handler(event, context)
    assert response["statusCode"] == 200, response["body"]
    body: dict[str, Any] = json.loads(response["body"])
    return body


def test_venue_popularity_is_aggregated_in_the_warehouse(warehouse, make_api_event, lambda_context, sent_sql):
    body = _body(
        venue_popularity.handler,
        make_api_event("GET", "/venues/popularity", query={"limit": "5"}),
        lambda_context,
    )
    assert body["source"] == "redshift" and body["fallback_reason"] is None
    expected = analytics.venue_popularity(warehouse, date.today(), limit=5)
    assert [v["venue_id"] for v in body["venues"]] == [v["venue_id"] for v in expected]
    for got, want in zip(body["venues"], expected, strict=True):
        assert got["popularity"] == pytest.approx(want["popularity"], abs=1e-4)
        assert got["sell_through"] == pytest.approx(want["sell_through"], abs=1e-4)
        assert got["concerts"] == want["concerts"]
    assert body["data_quality_issues"] == len(platform_data.check_quality(warehouse))
    assert any("GROUP BY" in request["Sql"] for request in sent_sql)
    assert not any(
        request["Sql"].strip().upper().startswith("SELECT VENUE_ID, NAME, CITY, CAPACITY FROM")
        for request in sent_sql
    )


def test_city_filter_is_a_parameter(warehouse, make_api_event, lambda_context, sent_sql):
    body = _body(
        venue_popularity.handler,
        make_api_event("GET", "/venues/popularity", query={"city": "berlin"}),
        lambda_context,
    )
    assert body["source"] == "redshift"
    assert body["venues"] and {v["city"] for v in body["venues"]} == {"Berlin"}
    aggregation = next(r for r in sent_sql if "GROUP BY" in r["Sql"])
    assert {"name": "city", "value": "berlin"} in aggregation["Parameters"]
    assert "berlin" not in aggregation["Sql"].lower().replace(":city", "")


@pytest.mark.parametrize(
    "hostile",
    [
        "Berlin' OR '1'='1",
        "x'); DROP TABLE venues; --",
        "Berlin\\'; DELETE FROM venues; --",
        "%",
    ],
)
def test_a_hostile_query_string_stays_a_value(warehouse, make_api_event, lambda_context, sent_sql, hostile):
    body = _body(
        venue_popularity.handler,
        make_api_event("GET", "/venues/popularity", query={"city": hostile}),
        lambda_context,
    )
    assert body["source"] == "redshift"
    assert body["venues"] == []  # no city has that name: the value was compared, not executed
    for request in sent_sql:
        assert hostile not in request["Sql"]
    assert {"name": "city", "value": hostile} in next(r for r in sent_sql if "GROUP BY" in r["Sql"])[
        "Parameters"
    ]
    platform_data.clear_cache()
    again = services.popular_venues(limit=100)
    assert again["source"] == "redshift" and len(again["venues"]) > 1  # the tables are intact


def test_prediction_features_come_from_the_warehouse(warehouse, make_api_event, lambda_context, sent_sql):
    from concert_platform import sample_data as module

    concert = module.upcoming_concert_id()
    body = _body(
        ticket_prediction.handler,
        make_api_event("POST", "/predictions/tickets", {"concert_id": concert}),
        lambda_context,
    )
    assert body["source"] == "historical (redshift)"
    row = next(c for c in warehouse["concerts"] if c["concert_id"] == concert)
    on = analytics.parse_date(row["concert_date"])
    expected = analytics.predict_ticket_sales(
        warehouse, row["artist_id"], row["venue_id"], row["base_price"], on=on
    )
    assert body["prediction"]["basis"] == expected["basis"]
    assert body["prediction"]["history_concerts"] == expected["history_concerts"]
    assert body["prediction"]["predicted_tickets"] == expected["predicted_tickets"]
    history = next(r for r in sent_sql if "UNION ALL" in r["Sql"])
    assert {p["name"] for p in history["Parameters"]} == {"artist_id", "venue_id", "before"}


def test_prediction_for_an_unknown_concert_is_404_from_the_warehouse(
    warehouse, make_api_event, lambda_context
):
    response = ticket_prediction.handler(
        make_api_event("POST", "/predictions/tickets", {"concert_id": "concert-999"}), lambda_context
    )
    assert response["statusCode"] == 404


def test_recommendation_candidates_are_selected_in_the_warehouse(
    warehouse, make_api_event, lambda_context, sent_sql
):
    from concert_platform import sample_data as module

    user = module.sample_user_id()
    body = _body(
        recommendations.handler,
        make_api_event("GET", "/recommendations", query={"user_id": user, "limit": "5"}),
        lambda_context,
    )
    assert body["source"] == "preferences (redshift)"
    preferences = services.user_preferences(user)
    expected = analytics.recommend(warehouse, preferences, date.today(), limit=5)
    assert body["recommendations"] == expected
    candidates = next(r for r in sent_sql if "a.artist_id IN" in r["Sql"] or "LOWER(a.genre) IN" in r["Sql"])
    values = {p["value"] for p in candidates["Parameters"]}
    assert set(preferences["favorite_artists"]) <= values
    for value in preferences["favorite_artists"]:
        assert value not in candidates["Sql"]


def test_warehouse_without_the_schema_falls_back_to_the_bucket(platform, sample_data):
    answer = services.popular_venues(limit=3)
    assert answer["source"] == "processed-bucket"
    assert "redshift" in answer["fallback_reason"] and "FAILED" in answer["fallback_reason"]
    assert len(answer["venues"]) == 3
    assert services.recommendations_for("user-01")["source"] == "preferences (processed-bucket)"


def test_unconfigured_warehouse_falls_back_to_the_bucket(platform, sample_data, monkeypatch):
    monkeypatch.delenv("REDSHIFT_WORKGROUP")
    answer = services.popular_venues(limit=3)
    assert answer["source"] == "processed-bucket"
    assert "not configured" in answer["fallback_reason"]


def test_deleted_workgroup_falls_back_to_the_bucket(warehouse, platform):
    boto3.client("redshift-serverless", region_name=REGION).delete_workgroup(
        workgroupName=platform["REDSHIFT_WORKGROUP"]
    )
    answer = services.predict_tickets(artist_id="artist-01", venue_id="venue-01", on=date.today())
    assert answer["source"] == "historical (processed-bucket)"
