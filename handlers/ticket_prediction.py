"""POST /predictions/tickets: predicted ticket sales from a SageMaker endpoint when configured,
otherwise from the documented historical computation. The response names its source."""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictFloat, StrictInt, StrictStr, model_validator

from concert_shared import analytics, platform_data
from concert_shared.api import ApiError, json_body, lambda_handler, logger, make_app
from concert_shared.clients import client
from concert_shared.config import optional_env

app = make_app({"/predictions/tickets": {"POST"}})


class PredictionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    concert_id: StrictStr | None = Field(default=None, min_length=1, max_length=64)
    artist_id: StrictStr | None = Field(default=None, min_length=1, max_length=64)
    venue_id: StrictStr | None = Field(default=None, min_length=1, max_length=64)
    price: StrictFloat | StrictInt | None = Field(default=None, ge=0, le=100000)

    @model_validator(mode="after")
    def _identify(self) -> PredictionRequest:
        if not self.concert_id and not (self.artist_id and self.venue_id):
            raise ValueError("give concert_id, or both artist_id and venue_id")
        return self


def predict(request: PredictionRequest) -> dict[str, Any]:
    try:
        dataset = platform_data.load()
    except platform_data.DataUnavailable as exc:
        raise ApiError(503, "data_unavailable", f"the platform's data is not available: {exc}") from None
    artist_id, venue_id, price = request.artist_id, request.venue_id, request.price
    if request.concert_id:
        concert = next((c for c in dataset.tables["concerts"] if c["concert_id"] == request.concert_id), None)
        if concert is None:
            raise ApiError(404, "unknown_concert", f"no concert {request.concert_id}; list concerts through the chatbot or the sample data")
        artist_id, venue_id = concert["artist_id"], concert["venue_id"]
        price = price if price is not None else concert.get("base_price")
    endpoint = optional_env("TICKET_PREDICTION_ENDPOINT")
    if endpoint:
        payload = {"artist_id": artist_id, "venue_id": venue_id, "price": price}
        result = client("sagemaker-runtime").invoke_endpoint(EndpointName=endpoint, ContentType="application/json", Body=json.dumps(payload))
        prediction = json.loads(result["Body"].read())
        return {"concert_id": request.concert_id, "artist_id": artist_id, "venue_id": venue_id, "prediction": prediction, "source": "sagemaker"}
    try:
        prediction = analytics.predict_ticket_sales(dataset.tables, str(artist_id), str(venue_id), price)
    except LookupError as exc:
        raise ApiError(422, "cannot_predict", str(exc)) from None
    logger.info("prediction", extra={"source": "historical", "artist_id": artist_id, "venue_id": venue_id})
    return {
        "concert_id": request.concert_id,
        "artist_id": artist_id,
        "venue_id": venue_id,
        "price": price,
        "prediction": prediction,
        "source": f"historical ({dataset.source})",
        "fallback_reason": "TICKET_PREDICTION_ENDPOINT is not configured",
    }


@app.post("/predictions/tickets")
def post_prediction() -> dict[str, Any]:
    return predict(json_body(app, PredictionRequest))


handler = lambda_handler(app)
