"""The platform's answers as plain functions: the API routes and the chatbot both call these.

Each takes plain arguments (never a Lambda event), names the source that answered and, for a
fallback, why. Failures are `concert_shared.errors` exceptions the API edge turns into 4xx/503.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

from aws_lambda_powertools import Logger

from concert_shared import analytics, platform_data
from concert_shared.clients import client
from concert_shared.config import env, optional_env
from concert_shared.errors import CannotAnswer, NotFound

logger = Logger(child=True)

POPULARITY_FORMULA = "sell_through * log10(1 + tickets_sold) * recency"


def _today(today: date | None) -> date:
    return today or datetime.now(UTC).date()


def popular_venues(limit: int = 10, city: str | None = None, today: date | None = None) -> dict[str, Any]:
    """Venues ranked by POPULARITY_FORMULA over their past concerts (sales aggregated in the warehouse)."""
    day = _today(today)

    def from_warehouse() -> tuple[list[dict[str, Any]], list[str]]:
        return platform_data.warehouse_venue_sales(day, city), platform_data.warehouse_quality_issues()

    answered = platform_data.answer(
        from_warehouse, lambda tables: (analytics.venue_sales(tables, day, city), [])
    )
    entries, issues = answered.value
    return {
        "venues": analytics.rank_venues(entries, limit),
        "source": answered.source,
        "fallback_reason": answered.fallback_reason or None,
        "formula": POPULARITY_FORMULA,
        "data_quality_issues": len(issues or answered.quality_issues),
    }


def _invoke_endpoint(endpoint: str, payload: dict[str, Any]) -> Any:
    result = client("sagemaker-runtime").invoke_endpoint(
        EndpointName=endpoint,
        ContentType="application/json",
        Accept="application/json",
        Body=json.dumps(payload),
    )
    return json.loads(result["Body"].read())


def predict_tickets(
    concert_id: str | None = None,
    artist_id: str | None = None,
    venue_id: str | None = None,
    on: date | None = None,
    price: float | None = None,
) -> dict[str, Any]:
    """Predicted ticket sales for a concert (by id, or by artist, venue and date); the history's
    features are aggregated in the warehouse."""
    if concert_id:
        found = platform_data.answer(
            lambda: platform_data.warehouse_concert(concert_id),
            lambda tables: next((c for c in tables["concerts"] if c.get("concert_id") == concert_id), None),
        )
        concert = found.value
        if concert is None:
            raise NotFound(
                f"no concert {concert_id}; ask the chatbot for upcoming concerts", "unknown_concert"
            )
        artist_id, venue_id = concert["artist_id"], concert["venue_id"]
        on = on or analytics.parse_date(concert.get("concert_date"))
        price = price if price is not None else concert.get("base_price")
    if not (artist_id and venue_id):
        raise CannotAnswer("give concert_id, or artist_id, venue_id and date", "missing_identity")
    request = {
        "concert_id": concert_id,
        "artist_id": artist_id,
        "venue_id": venue_id,
        "date": on.isoformat() if on else None,
        "price": price,
    }
    endpoint = optional_env("TICKET_PREDICTION_ENDPOINT")
    if endpoint:
        return {**request, "prediction": _invoke_endpoint(endpoint, request), "source": "sagemaker"}
    artist, venue = artist_id, venue_id
    history = platform_data.answer(
        lambda: (platform_data.warehouse_history(artist, venue, on), platform_data.warehouse_capacity(venue)),
        lambda tables: (
            analytics.history_tiers(tables, artist, venue, on),
            analytics.venue_capacity(tables, venue),
        ),
    )
    tiers, capacity = history.value
    try:
        prediction = analytics.predict_from_history(tiers, capacity, venue_id, price)
    except LookupError as exc:
        raise CannotAnswer(str(exc), "cannot_predict") from None
    return {
        **request,
        "prediction": prediction,
        "source": f"historical ({history.source})",
        "fallback_reason": "TICKET_PREDICTION_ENDPOINT is not configured",
    }


def user_preferences(user_id: str) -> dict[str, Any]:
    """The user's stored preferences (favourite genres, artists, home city)."""
    item = (
        client("dynamodb")
        .get_item(TableName=env("USER_PREFERENCES_TABLE"), Key={"user_id": {"S": user_id}})
        .get("Item")
    )
    if not item:
        raise NotFound(
            f"no preferences stored for user {user_id}; load the sample data or store preferences first",
            "unknown_user",
        )
    return {
        "favorite_genres": [v["S"] for v in item.get("favorite_genres", {}).get("L", []) if "S" in v],
        "favorite_artists": [v["S"] for v in item.get("favorite_artists", {}).get("L", []) if "S" in v],
        "city": item.get("city", {}).get("S", ""),
    }


def recommendations_for(user_id: str, limit: int = 5, today: date | None = None) -> dict[str, Any]:
    """Upcoming concerts for the user, each with its score and the reasons it was picked."""
    preferences = user_preferences(user_id)
    endpoint = optional_env("RECOMMENDATIONS_ENDPOINT")
    if endpoint:
        picks = _invoke_endpoint(endpoint, {"user_id": user_id, "preferences": preferences, "limit": limit})
        return {"user_id": user_id, "recommendations": picks, "source": "sagemaker"}
    day = _today(today)
    candidates = platform_data.answer(
        lambda: platform_data.warehouse_candidates(preferences, day),
        lambda tables: analytics.recommendation_candidates(tables, preferences, day),
    )
    picks = analytics.score_candidates(candidates.value, preferences, limit=limit)
    return {
        "user_id": user_id,
        "recommendations": picks,
        "source": f"preferences ({candidates.source})",
        "fallback_reason": "RECOMMENDATIONS_ENDPOINT is not configured",
    }


def upcoming_concerts(
    artist: str | None = None, city: str | None = None, limit: int = 5, today: date | None = None
) -> dict[str, Any]:
    """Concerts from today on, optionally by one artist (id or name) or in one city."""
    dataset = platform_data.load()
    day = _today(today)
    artists = {a["artist_id"]: a for a in dataset.tables["artists"]}
    venues = {v["venue_id"]: v for v in dataset.tables["venues"]}
    wanted_artist = (artist or "").lower()
    concerts = []
    for concert in dataset.tables["concerts"]:
        concert_day = analytics.parse_date(concert.get("concert_date"))
        venue = venues.get(concert.get("venue_id"))
        performer = artists.get(concert.get("artist_id"), {})
        if concert_day is None or concert_day < day or venue is None:
            continue
        if wanted_artist and wanted_artist not in (
            str(performer.get("artist_id", "")).lower(),
            str(performer.get("name", "")).lower(),
        ):
            continue
        if city and str(venue.get("city", "")).lower() != city.lower():
            continue
        concerts.append(
            {
                "concert_id": concert["concert_id"],
                "artist": performer.get("name", concert.get("artist_id")),
                "venue": venue.get("name"),
                "city": venue.get("city"),
                "date": concert_day.isoformat(),
                "base_price": concert.get("base_price"),
            }
        )
    concerts.sort(key=lambda c: (c["date"], c["concert_id"]))
    return {"concerts": concerts[:limit], "source": dataset.source}


def known_names() -> dict[str, dict[str, str]]:
    """Lower-cased artist names and cities -> their canonical form (for the chatbot's entity spotting)."""
    dataset = platform_data.load()
    return {
        "artists": {
            str(a["name"]).lower(): a["artist_id"] for a in dataset.tables["artists"] if a.get("name")
        },
        "cities": {str(v["city"]).lower(): v["city"] for v in dataset.tables["venues"] if v.get("city")},
    }
