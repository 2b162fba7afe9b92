"""GET /venues/popularity?limit=&city=: venues ranked by the documented popularity formula."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from concert_shared import analytics, platform_data
from concert_shared.api import ApiError, lambda_handler, make_app, query_params

app = make_app({"/venues/popularity": {"GET"}})


class PopularityQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    limit: int = Field(default=10, ge=1, le=100)
    city: str | None = Field(default=None, min_length=1, max_length=80)


def popular_venues(query: PopularityQuery, today: datetime | None = None) -> dict[str, Any]:
    try:
        dataset = platform_data.load()
    except platform_data.DataUnavailable as exc:
        raise ApiError(503, "data_unavailable", f"the platform's data is not available: {exc}") from None
    day = (today or datetime.now(UTC)).date()
    venues = analytics.venue_popularity(dataset.tables, day, city=query.city, limit=query.limit)
    return {
        "venues": venues,
        "source": dataset.source,
        "fallback_reason": dataset.fallback_reason or None,
        "formula": "sell_through * log10(1 + tickets_sold) * recency",
        "data_quality_issues": len(dataset.quality_issues),
    }


@app.get("/venues/popularity")
def get_popularity() -> dict[str, Any]:
    return popular_venues(query_params(app, PopularityQuery))


handler = lambda_handler(app)
