"""The compute template's request models (checked by API Gateway before a function runs) and the
handlers' pydantic models agree: same fields, and no body a handler accepts is refused at the
gateway, so the gateway's check only ever moves a 400 earlier."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft4Validator
from pydantic import BaseModel, ValidationError

import chatbot
import ticket_prediction
from concert_platform.manifest import load_cfn_yaml

COMPUTE = Path(__file__).resolve().parents[2] / "templates" / "03-compute-application.yaml"
# method logical id -> the handler's model
BODY_METHODS: dict[str, type[BaseModel]] = {
    "ChatbotMethod": chatbot.ChatRequest,
    "TicketPredictionMethod": ticket_prediction.PredictionRequest,
}
PLAUSIBLE = ["hello", "user-01", "concert-0001", "artist-01", "venue-01", "2026-12-01", "abcdefgh12", 5, 19.5]


def template_schema(method: str) -> dict[str, Any]:
    resources = load_cfn_yaml(COMPUTE.read_text())["Resources"]
    props = resources[method]["Properties"]
    validator = resources[props["RequestValidatorId"]["Ref"]]["Properties"]
    assert validator["ValidateRequestBody"] is True
    model = resources[props["RequestModels"]["application/json"]["Ref"]]["Properties"]
    assert model["ContentType"] == "application/json"
    return model["Schema"]


@pytest.mark.parametrize("method", sorted(BODY_METHODS))
def test_every_body_method_has_a_model_with_the_handlers_fields(method: str) -> None:
    schema = template_schema(method)
    Draft4Validator.check_schema(schema)
    model = BODY_METHODS[method]
    assert set(schema["properties"]) == set(model.model_fields)
    assert schema["additionalProperties"] is False  # unknown fields refused, as the handlers do
    required = {name for name, field in model.model_fields.items() if field.is_required()}
    assert set(schema.get("required", [])) == required


def accepted_by_handler(model: type[BaseModel], body: Any) -> bool:
    try:
        model.model_validate(body)
    except ValidationError:
        return False
    return True


values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=70)
    | st.sampled_from(PLAUSIBLE),
    lambda c: st.lists(c, max_size=2) | st.dictionaries(st.text(max_size=4), c, max_size=2),
    max_leaves=4,
)


id_like = st.text(alphabet="aZ9_-", min_size=1, max_size=70)
GOOD: dict[str, st.SearchStrategy[Any]] = {
    "message": st.text(min_size=1, max_size=40) | st.integers(1990, 2010).map("m".__mul__),
    "session_id": id_like,
    "user_id": id_like,
    "concert_id": id_like,
    "artist_id": id_like,
    "venue_id": id_like,
    "date": st.dates().map(str),
    "price": st.integers(-5, 100_005) | st.floats(-1, 100_001),
}


@pytest.mark.parametrize("method", sorted(BODY_METHODS))
def test_the_gateway_refuses_no_body_the_handler_accepts(method: str) -> None:
    schema, model = template_schema(method), BODY_METHODS[method]
    validator = Draft4Validator(schema)
    fields = [*model.model_fields, "unexpected"]

    # plausible values for the model's own fields, so bodies the handler accepts are common
    plausible = st.fixed_dictionaries({}, optional={f: GOOD[f] | st.none() for f in model.model_fields})
    shaped = st.fixed_dictionaries({}, optional={f: GOOD.get(f, values) | values for f in fields})

    @settings(max_examples=400, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(body=plausible | plausible | shaped | st.dictionaries(st.sampled_from(fields), values, max_size=5))
    def check(body: dict[str, Any]) -> None:
        body = json.loads(json.dumps(body))  # what API Gateway sees: JSON text
        if accepted_by_handler(model, body):
            assert validator.is_valid(body), (body, [e.message for e in validator.iter_errors(body)])

    check()


@pytest.mark.parametrize(
    ("method", "body", "accepted"),
    [
        ("ChatbotMethod", {"message": "[" * 40}, True),  # brackets inside a string are text
        ("ChatbotMethod", {"message": ["[" * 40]}, False),
        ("ChatbotMethod", {"message": "hi", "session_id": "bad id!"}, False),
        ("TicketPredictionMethod", {"concert_id": {"nested": [[[[]]]]}}, False),
        ("TicketPredictionMethod", {"date": 1767225600}, False),  # a timestamp is not the documented date
        ("TicketPredictionMethod", {"concert_id": "concert-0001", "price": 20}, True),
    ],
)
def test_examples_both_layers_treat_alike(method: str, body: dict[str, Any], accepted: bool) -> None:
    assert Draft4Validator(template_schema(method)).is_valid(body) is accepted
    assert accepted_by_handler(BODY_METHODS[method], body) is accepted
