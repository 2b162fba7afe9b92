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


def recency(age_days: int) -> float:
    """A concert's weight: 1.0 within 90 days, decaying linearly to 0.25 at two years."""
    return 1.0 if age_days <= 90 else max(0.25, 1.0 - 0.75 * (age_days - 90) / (730 - 90))


def venue_sales(
    tables: dict[str, list[dict[str, Any]]], today: date, city: str | None = None
) -> list[dict[str, Any]]:
    """Per venue, over its past concerts with valid sales: concerts, tickets sold, seats offered and
    the summed recency weight (the warehouse computes the same rows in SQL)."""
    venues = {v["venue_id"]: v for v in tables["venues"] if _valid_venue(v)}
    sales = {s["concert_id"]: s for s in tables["ticket_sales"] if _valid_sale(s)}
    entries: dict[str, dict[str, Any]] = {}
    for concert in tables["concerts"]:
        venue = venues.get(concert.get("venue_id"))
        concert_day = parse_date(concert.get("concert_date"))
        sale = sales.get(concert.get("concert_id"))
        if venue is None or concert_day is None or sale is None or concert_day > today:
            continue
        if city and venue["city"].lower() != city.lower():
            continue
        entry = entries.setdefault(
            venue["venue_id"],
            {
                "venue_id": venue["venue_id"],
                "name": venue["name"],
                "city": venue["city"],
                "capacity": venue["capacity"],
                "concerts": 0,
                "sold": 0.0,
                "offered": 0.0,
                "recency_weight": 0.0,
            },
        )
        entry["sold"] += sale["tickets_sold"]
        entry["offered"] += venue["capacity"]
        entry["recency_weight"] += recency((today - concert_day).days)
        entry["concerts"] += 1
    return list(entries.values())


def rank_venues(entries: list[dict[str, Any]], limit: int = 10) -> list[dict[str, Any]]:
    """popularity = sell_through x log10(1 + tickets_sold) x mean recency, best first."""
    ranked = []
    for entry in entries:
        sold, offered, count = float(entry["sold"]), float(entry["offered"]), int(entry["concerts"])
        if count <= 0:
            continue
        sell_through = min(1.0, sold / offered) if offered else 0.0
        mean_recency = float(entry["recency_weight"]) / count
        ranked.append(
            {
                "venue_id": entry["venue_id"],
                "name": entry["name"],
                "city": entry["city"],
                "capacity": entry["capacity"],
                "concerts": count,
                "sell_through": round(sell_through, 4),
                "popularity": round(sell_through * math.log10(1 + sold) * mean_recency, 4),
            }
        )
    ranked.sort(key=lambda v: (-v["popularity"], v["venue_id"]))
    return ranked[:limit]


def venue_popularity(
    tables: dict[str, list[dict[str, Any]]], today: date, city: str | None = None, limit: int = 10
) -> list[dict[str, Any]]:
    """popularity = sell_through x log10(1 + tickets_sold) x recency, per venue.

    sell_through = tickets sold / seats offered over the venue's past concerts; recency weighs a
    concert 1.0 within 90 days, decaying linearly to 0.25 at two years."""
    return rank_venues(venue_sales(tables, today, city), limit)


TIERS = ("artist at venue", "artist history", "venue history", "platform history")


def history_tiers(
    tables: dict[str, list[dict[str, Any]]], artist_id: str, venue_id: str, on: date | None = None
) -> list[dict[str, Any]]:
    """The prediction's features: for each tier of TIERS, the number of past concerts with valid
    sales, their summed sell-through, and the sum and count of their positive prices (the
    warehouse computes the same rows in SQL). Only concerts before `on` count as history."""
    venues = {v["venue_id"]: v for v in tables["venues"] if _valid_venue(v)}
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
    matchers = (
        lambda c: c.get("artist_id") == artist_id and c.get("venue_id") == venue_id,
        lambda c: c.get("artist_id") == artist_id,
        lambda c: c.get("venue_id") == venue_id,
        lambda c: True,
    )
    tiers = []
    for name, matches in zip(TIERS, matchers, strict=True):
        basis = [(c, rate) for c, rate in history if matches(c)]
        prices = [
            c["base_price"]
            for c, _ in basis
            if isinstance(c.get("base_price"), int | float) and c["base_price"] > 0
        ]
        tiers.append(
            {
                "basis": name,
                "concerts": len(basis),
                "rate_sum": sum(rate for _, rate in basis),
                "price_sum": sum(prices),
                "priced": len(prices),
            }
        )
    return tiers


def venue_capacity(tables: dict[str, list[dict[str, Any]]], venue_id: str) -> int | float | None:
    venue = next((v for v in tables["venues"] if v.get("venue_id") == venue_id and _valid_venue(v)), None)
    return venue["capacity"] if venue else None


def predict_from_history(
    tiers: list[dict[str, Any]], capacity: int | float | None, venue_id: str, price: float | None
) -> dict[str, Any]:
    """Mean sell-through of the most specific tier with history, times the venue's capacity,
    adjusted by price elasticity -0.5 against that tier's mean price (floor 0.2), capped at capacity."""
    if capacity is None:
        raise LookupError(f"unknown venue {venue_id} (or its capacity is invalid)")
    tier = next((t for t in tiers if int(t["concerts"]) > 0), None)
    if tier is None:
        raise LookupError("no ticket sales history to predict from; load the sample data")
    sell_through = float(tier["rate_sum"]) / int(tier["concerts"])
    mean_price = float(tier["price_sum"]) / int(tier["priced"]) if int(tier["priced"]) else None
    adjustment = 1.0
    if price is not None and mean_price:
        adjustment = max(0.2, 1.0 - 0.5 * (price - mean_price) / mean_price)
    predicted = int(min(capacity, round(capacity * sell_through * adjustment)))
    return {
        "predicted_tickets": predicted,
        "capacity": capacity,
        "sell_through": round(predicted / capacity, 4),
        "basis": tier["basis"],
        "history_concerts": int(tier["concerts"]),
    }


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
    capacity = venue_capacity(tables, venue_id)
    if capacity is None:
        raise LookupError(f"unknown venue {venue_id} (or its capacity is invalid)")
    return predict_from_history(history_tiers(tables, artist_id, venue_id, on), capacity, venue_id, price)


def recommendation_candidates(
    tables: dict[str, list[dict[str, Any]]], preferences: dict[str, Any], today: date
) -> list[dict[str, Any]]:
    """Upcoming concerts at valid venues by a favourite artist, in a favourite genre or in the
    user's city (the warehouse selects the same rows in SQL)."""
    artists = {a["artist_id"]: a for a in tables["artists"]}
    venues = {v["venue_id"]: v for v in tables["venues"] if _valid_venue(v)}
    favourite_artists = set(preferences.get("favorite_artists", []))
    favourite_genres = {g.lower() for g in preferences.get("favorite_genres", [])}
    home = str(preferences.get("city", "")).lower()
    candidates = []
    for concert in tables["concerts"]:
        day = parse_date(concert.get("concert_date"))
        artist = artists.get(concert.get("artist_id"))
        venue = venues.get(concert.get("venue_id"))
        if day is None or day < today or artist is None or venue is None:
            continue
        if not (
            artist["artist_id"] in favourite_artists
            or str(artist.get("genre", "")).lower() in favourite_genres
            or (home and str(venue["city"]).lower() == home)
        ):
            continue
        candidates.append(
            {
                "concert_id": concert["concert_id"],
                "concert_date": day.isoformat(),
                "artist_id": artist["artist_id"],
                "artist": artist["name"],
                "genre": artist.get("genre"),
                "popularity": artist.get("popularity"),
                "venue": venue["name"],
                "city": venue["city"],
            }
        )
    return candidates


def score_candidates(
    candidates: list[dict[str, Any]], preferences: dict[str, Any], limit: int = 5
) -> list[dict[str, Any]]:
    """+3 favourite artist, +2 favourite genre, +1 in the user's city, + artist popularity / 100;
    ties broken by date. Each item says why it was chosen."""
    favourite_artists = set(preferences.get("favorite_artists", []))
    favourite_genres = {g.lower() for g in preferences.get("favorite_genres", [])}
    home = str(preferences.get("city", "")).lower()
    picks = []
    for candidate in candidates:
        reasons, score = [], 0.0
        if candidate["artist_id"] in favourite_artists:
            score += 3
            reasons.append("favourite artist")
        if str(candidate.get("genre") or "").lower() in favourite_genres:
            score += 2
            reasons.append(f"likes {candidate['genre']}")
        if home and str(candidate["city"]).lower() == home:
            score += 1
            reasons.append(f"in {candidate['city']}")
        if score == 0:
            continue
        score += float(candidate.get("popularity") or 0) / 100
        picks.append(
            {
                "concert_id": candidate["concert_id"],
                "artist": candidate["artist"],
                "venue": candidate["venue"],
                "city": candidate["city"],
                "date": candidate["concert_date"],
                "score": round(score, 3),
                "reasons": reasons,
            }
        )
    picks.sort(key=lambda p: (-p["score"], p["date"], p["concert_id"]))
    return picks[:limit]


def recommend(
    tables: dict[str, list[dict[str, Any]]], preferences: dict[str, Any], today: date, limit: int = 5
) -> list[dict[str, Any]]:
    """Score upcoming concerts: +3 favourite artist, +2 favourite genre, +1 in the user's city,
    + artist popularity / 100; ties broken by date. Each item says why it was chosen."""
    return score_candidates(recommendation_candidates(tables, preferences, today), preferences, limit)
