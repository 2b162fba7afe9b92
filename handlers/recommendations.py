"""GET /recommendations?user_id=&limit=: concerts for a user, from a SageMaker endpoint when
configured, otherwise scored from the user's stored preferences (each pick says why)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from concert_shared import analytics, platform_data
from concert_shared.api import ApiError, lambda_handler, make_app, query_params
from concert_shared.clients import client
from concert_shared.config import env, optional_env

app = make_app({"/recommendations": {"GET"}})


class RecommendationQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    user_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
    limit: int = Field(default=5, ge=1, le=50)


def preferences_of(user_id: str) -> dict[str, Any]:
    item = client("dynamodb").get_item(TableName=env("USER_PREFERENCES_TABLE"), Key={"user_id": {"S": user_id}}).get("Item")
    if not item:
        raise ApiError(404, "unknown_user", f"no preferences stored for user {user_id}")
    return {
        "favorite_genres": [v["S"] for v in item.get("favorite_genres", {}).get("L", [])],
        "favorite_artists": [v["S"] for v in item.get("favorite_artists", {}).get("L", [])],
        "city": item.get("city", {}).get("S", ""),
    }


def recommendations_for(query: RecommendationQuery, today: datetime | None = None) -> dict[str, Any]:
    preferences = preferences_of(query.user_id)
    endpoint = optional_env("RECOMMENDATIONS_ENDPOINT")
    if endpoint:
        result = client("sagemaker-runtime").invoke_endpoint(
            EndpointName=endpoint, ContentType="application/json", Body=json.dumps({"user_id": query.user_id, "preferences": preferences, "limit": query.limit})
        )
        return {"user_id": query.user_id, "recommendations": json.loads(result["Body"].read()), "source": "sagemaker"}
    try:
        dataset = platform_data.load()
    except platform_data.DataUnavailable as exc:
        raise ApiError(503, "data_unavailable", f"the platform's data is not available: {exc}") from None
    picks = analytics.recommend(dataset.tables, preferences, (today or datetime.now(UTC)).date(), limit=query.limit)
    return {
        "user_id": query.user_id,
        "recommendations": picks,
        "source": f"preferences ({dataset.source})",
        "fallback_reason": "RECOMMENDATIONS_ENDPOINT is not configured",
    }


@app.get("/recommendations")
def get_recommendations() -> dict[str, Any]:
    return recommendations_for(query_params(app, RecommendationQuery))


handler = lambda_handler(app)
