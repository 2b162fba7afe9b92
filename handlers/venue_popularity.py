"""GET /venues/popularity?limit=&city=: venues ranked by the documented popularity formula."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from concert_shared import services
from concert_shared.api import lambda_handler, make_app, query_params

# path -> methods; docs/api.md and the compute template agree (tests/unit/test_api_contract.py)
ROUTES = {"/venues/popularity": {"GET"}}
app = make_app(ROUTES)


class PopularityQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    limit: int = Field(default=10, ge=1, le=100)
    city: str | None = Field(default=None, min_length=1, max_length=80)


@app.get("/venues/popularity")
def get_popularity() -> dict[str, Any]:
    query = query_params(app, PopularityQuery)
    return services.popular_venues(limit=query.limit, city=query.city)


handler = lambda_handler(app)
