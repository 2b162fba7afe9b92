"""GET /health: asks every dependency; 200 only when all required ones are healthy."""

from __future__ import annotations

import json
from typing import Any

import boto3

import health_check


def _call(event: dict[str, Any], context: Any) -> tuple[int, dict[str, Any]]:
    response = health_check.handler(event, context)
    assert response["headers"]["Access-Control-Allow-Origin"] == "*"
    return response["statusCode"], json.loads(response["body"])


def test_all_required_dependencies_healthy(platform, make_api_event, lambda_context):
    status, body = _call(make_api_event("GET", "/health"), lambda_context)
    assert status == 200, body
    assert body["status"] == "healthy"
    deps = body["dependencies"]
    for name in (
        "conversation_history_table",
        "session_state_table",
        "user_preferences_table",
        "processed_bucket",
        "model_artifacts_bucket",
        "concert_events_stream",
        "redshift_workgroup",
    ):
        assert deps[name]["status"] == "ok", (name, deps[name])
        assert deps[name]["latency_ms"] >= 0
    assert deps["redshift_workgroup"]["state"] == "AVAILABLE"
    for name in ("bedrock_agent", "ticket_prediction_endpoint", "recommendations_endpoint"):
        assert deps[name]["status"] == "not configured"


def test_a_missing_table_makes_it_503(platform, make_api_event, lambda_context):
    boto3.client("dynamodb").delete_table(TableName=platform["SESSION_STATE_TABLE"])
    status, body = _call(make_api_event("GET", "/health"), lambda_context)
    assert status == 503
    assert body["status"] == "unhealthy"
    assert body["dependencies"]["session_state_table"]["status"] == "error"
    assert body["dependencies"]["session_state_table"]["error"] == "ResourceNotFoundException"
    assert platform["SESSION_STATE_TABLE"] not in json.dumps(body)  # resource names go to the log only


def test_a_missing_bucket_and_unset_variable(platform, make_api_event, lambda_context, monkeypatch):
    boto3.client("s3").delete_bucket(Bucket=platform["MODEL_ARTIFACTS_BUCKET"])
    monkeypatch.delenv("CONCERT_EVENTS_STREAM")
    status, body = _call(make_api_event("GET", "/health"), lambda_context)
    assert status == 503
    assert body["dependencies"]["model_artifacts_bucket"]["status"] == "error"
    assert body["dependencies"]["model_artifacts_bucket"]["error"] == "ClientError (HTTP 404)"
    assert platform["MODEL_ARTIFACTS_BUCKET"] not in json.dumps(body)
    assert body["dependencies"]["concert_events_stream"]["error"] == "CONCERT_EVENTS_STREAM is not set"


def test_a_configured_but_missing_endpoint_is_degraded_not_down(
    platform, make_api_event, lambda_context, monkeypatch
):
    monkeypatch.setenv("TICKET_PREDICTION_ENDPOINT", "no-such-endpoint")
    status, body = _call(make_api_event("GET", "/health"), lambda_context)
    assert status == 200
    assert body["status"] == "degraded"
    assert body["dependencies"]["ticket_prediction_endpoint"]["status"] == "error"


def test_wrong_method_and_path(platform, make_api_event, lambda_context):
    assert _call(make_api_event("DELETE", "/health"), lambda_context)[0] == 405
    assert _call(make_api_event("GET", "/healthz"), lambda_context)[0] == 404
