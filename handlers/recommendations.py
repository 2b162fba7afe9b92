"""GET /recommendations?user_id=&limit=: concerts for a user, from a SageMaker endpoint when
configured, otherwise scored from the user's stored preferences (each pick says why)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from concert_shared import services
from concert_shared.api import lambda_handler, make_app, query_params

# path -> methods; docs/api.md and the compute template agree (tests/unit/test_api_contract.py)
ROUTES = {"/recommendations": {"GET"}}
app = make_app(ROUTES)


class RecommendationQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    user_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
    limit: int = Field(default=5, ge=1, le=50)


@app.get("/recommendations")
def get_recommendations() -> dict[str, Any]:
    query = query_params(app, RecommendationQuery)
    return services.recommendations_for(query.user_id, limit=query.limit)


handler = lambda_handler(app)
