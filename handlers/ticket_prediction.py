"""POST /predictions/tickets: predicted ticket sales from a SageMaker endpoint when configured,
otherwise from the documented historical computation. The response names its source."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictFloat,
    StrictInt,
    StrictStr,
    field_validator,
    model_validator,
)

from concert_shared import services
from concert_shared.api import json_body, lambda_handler, make_app

# path -> methods; docs/api.md and the compute template agree (tests/unit/test_api_contract.py)
ROUTES = {"/predictions/tickets": {"POST"}}
app = make_app(ROUTES)
ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"


class PredictionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    concert_id: StrictStr | None = Field(default=None, pattern=ID_PATTERN)
    artist_id: StrictStr | None = Field(default=None, pattern=ID_PATTERN)
    venue_id: StrictStr | None = Field(default=None, pattern=ID_PATTERN)
    date: dt.date | None = Field(default=None, description="ISO date (YYYY-MM-DD) of the concert")
    price: StrictFloat | StrictInt | None = Field(default=None, ge=0, le=100000)

    @field_validator("date", mode="before")
    @classmethod
    def _iso_text(cls, value: Any) -> Any:
        # only the documented form (the compute template's model says the same), not a timestamp
        if value is not None and not (
            isinstance(value, str) and re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value)
        ):
            raise ValueError("give the date as text, YYYY-MM-DD")
        return value

    @model_validator(mode="after")
    def _identify(self) -> PredictionRequest:
        if not self.concert_id and not (self.artist_id and self.venue_id and self.date):
            raise ValueError("give concert_id, or all of artist_id, venue_id and date")
        return self


@app.post("/predictions/tickets")
def post_prediction() -> dict[str, Any]:
    request = json_body(app, PredictionRequest)
    price = float(request.price) if request.price is not None else None
    return services.predict_tickets(
        request.concert_id, request.artist_id, request.venue_id, request.date, price
    )


handler = lambda_handler(app)
