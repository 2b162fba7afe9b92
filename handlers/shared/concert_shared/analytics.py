"""The platform's transparent computations: venue popularity, ticket prediction and
recommendation fallbacks. Plain functions over plain rows (see docs/api.md for the formulas)."""

from __future__ import annotations

import math
from datetime import date
from typing import Any


def _valid_venue(venue: dict[str, Any]) -> bool:
    return isinstance(venue.get("capacity"), int | float) and venue["capacity"] > 0


def _valid_sale(sale: dict[str, Any]) -> bool:
    sold = sale.get("tickets_sold")
    return isinstance(sold, int | float) and not isinstance(sold, bool) and sold >= 0


def parse_date(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def venue_popularity(
    tables: dict[str, list[dict[str, Any]]], today: date, city: str | None = None, limit: int = 10
) -> list[dict[str, Any]]:
    """popularity = sell_through x log10(1 + tickets_sold) x recency, per venue.

    sell_through = tickets sold / seats offered over the venue's past concerts; recency weighs a
    concert 1.0 within 90 days, decaying linearly to 0.25 at two years."""
    venues = {v["venue_id"]: v for v in tables["venues"] if _valid_venue(v)}
    sales = {s["concert_id"]: s for s in tables["ticket_sales"] if _valid_sale(s)}
    scores: dict[str, dict[str, float]] = {}
    for concert in tables["concerts"]:
        venue = venues.get(concert.get("venue_id"))
        concert_day = parse_date(concert.get("concert_date"))
        sale = sales.get(concert.get("concert_id"))
        if venue is None or concert_day is None or sale is None or concert_day > today:
            continue
        if city and venue["city"].lower() != city.lower():
            continue
        age = (today - concert_day).days
        recency = 1.0 if age <= 90 else max(0.25, 1.0 - 0.75 * (age - 90) / (730 - 90))
        entry = scores.setdefault(
            venue["venue_id"], {"sold": 0.0, "offered": 0.0, "weight": 0.0, "count": 0.0}
        )
        entry["sold"] += sale["tickets_sold"]
        entry["offered"] += venue["capacity"]
        entry["weight"] += recency
        entry["count"] += 1
    ranked = []
    for venue_id, entry in scores.items():
        sell_through = min(1.0, entry["sold"] / entry["offered"]) if entry["offered"] else 0.0
        recency = entry["weight"] / entry["count"]
        venue = venues[venue_id]
        ranked.append(
            {
                "venue_id": venue_id,
                "name": venue["name"],
                "city": venue["city"],
                "capacity": venue["capacity"],
                "concerts": int(entry["count"]),
                "sell_through": round(sell_through, 4),
                "popularity": round(sell_through * math.log10(1 + entry["sold"]) * recency, 4),
            }
        )
    ranked.sort(key=lambda v: (-v["popularity"], v["venue_id"]))
    return ranked[:limit]


def predict_ticket_sales(
    tables: dict[str, list[dict[str, Any]]],
    artist_id: str,
    venue_id: str,
    price: float | None,
    on: date | None = None,
) -> dict[str, Any]:
    """Historical fallback: mean sell-through of the most specific history available (the
    artist at this venue, else the artist anywhere, else this venue, else the whole platform),
    times the venue's capacity, adjusted by price elasticity -0.5 against that history's mean
    price (floor 0.2), capped at capacity. Only concerts before `on` count as history."""
    venues = {v["venue_id"]: v for v in tables["venues"] if _valid_venue(v)}
    if venue_id not in venues:
        raise LookupError(f"unknown venue {venue_id} (or its capacity is invalid)")
    capacity = venues[venue_id]["capacity"]
    sales = {s["concert_id"]: s for s in tables["ticket_sales"] if _valid_sale(s)}
    history = []
    for concert in tables["concerts"]:
        sale = sales.get(concert.get("concert_id"))
        venue = venues.get(concert.get("venue_id"))
        concert_day = parse_date(concert.get("concert_date"))
        if on is not None and (concert_day is None or concert_day >= on):
            continue  # only concerts before the predicted date are history
        if sale and venue:
            history.append((concert, min(1.0, sale["tickets_sold"] / venue["capacity"])))
    tiers = (
        ("artist at venue", lambda c: c.get("artist_id") == artist_id and c.get("venue_id") == venue_id),
        ("artist history", lambda c: c.get("artist_id") == artist_id),
        ("venue history", lambda c: c.get("venue_id") == venue_id),
        ("platform history", lambda c: True),
    )
    basis_name, basis = "", []
    for tier_name, matches in tiers:
        basis = [(c, rate) for c, rate in history if matches(c)]
        if basis:
            basis_name = tier_name
            break
    if not basis:
        raise LookupError("no ticket sales history to predict from; load the sample data")
    sell_through = sum(rate for _, rate in basis) / len(basis)
    prices = [
        c["base_price"]
        for c, _ in basis
        if isinstance(c.get("base_price"), int | float) and c["base_price"] > 0
    ]
    mean_price = sum(prices) / len(prices) if prices else None
    adjustment = 1.0
    if price is not None and mean_price:
        adjustment = max(0.2, 1.0 - 0.5 * (price - mean_price) / mean_price)
    predicted = int(min(capacity, round(capacity * sell_through * adjustment)))
    return {
        "predicted_tickets": predicted,
        "capacity": capacity,
        "sell_through": round(predicted / capacity, 4),
        "basis": basis_name,
        "history_concerts": len(basis),
    }


def recommend(
    tables: dict[str, list[dict[str, Any]]], preferences: dict[str, Any], today: date, limit: int = 5
) -> list[dict[str, Any]]:
    """Score upcoming concerts: +3 favourite artist, +2 favourite genre, +1 in the user's city,
    + artist popularity / 100; ties broken by date. Each item says why it was chosen."""
    artists = {a["artist_id"]: a for a in tables["artists"]}
    venues = {v["venue_id"]: v for v in tables["venues"] if _valid_venue(v)}
    favourite_artists = set(preferences.get("favorite_artists", []))
    favourite_genres = {g.lower() for g in preferences.get("favorite_genres", [])}
    home = str(preferences.get("city", "")).lower()
    picks = []
    for concert in tables["concerts"]:
        day = parse_date(concert.get("concert_date"))
        artist = artists.get(concert.get("artist_id"))
        venue = venues.get(concert.get("venue_id"))
        if day is None or day < today or artist is None or venue is None:
            continue
        reasons, score = [], 0.0
        if artist["artist_id"] in favourite_artists:
            score += 3
            reasons.append("favourite artist")
        if str(artist.get("genre", "")).lower() in favourite_genres:
            score += 2
            reasons.append(f"likes {artist['genre']}")
        if home and venue["city"].lower() == home:
            score += 1
            reasons.append(f"in {venue['city']}")
        if score == 0:
            continue
        score += float(artist.get("popularity", 0)) / 100
        picks.append(
            {
                "concert_id": concert["concert_id"],
                "artist": artist["name"],
                "venue": venue["name"],
                "city": venue["city"],
                "date": day.isoformat(),
                "score": round(score, 3),
                "reasons": reasons,
            }
        )
    picks.sort(key=lambda p: (-p["score"], p["date"], p["concert_id"]))
    return picks[:limit]
