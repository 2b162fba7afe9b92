"""GET /health: every dependency asked, never assumed. 200 when all required ones answer, else 503."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types

from concert_shared.api import lambda_handler, make_app
from concert_shared.clients import client
from concert_shared.config import optional_env

app = make_app({"/health": {"GET"}})

# (name, environment variable, probe, required)
PROBES: tuple[tuple[str, str, Callable[[str], Any], bool], ...] = (
    ("conversation_history_table", "CONVERSATION_HISTORY_TABLE", lambda v: client("dynamodb").describe_table(TableName=v), True),
    ("session_state_table", "SESSION_STATE_TABLE", lambda v: client("dynamodb").describe_table(TableName=v), True),
    ("user_preferences_table", "USER_PREFERENCES_TABLE", lambda v: client("dynamodb").describe_table(TableName=v), True),
    ("processed_bucket", "PROCESSED_BUCKET", lambda v: client("s3").head_bucket(Bucket=v), True),
    ("model_artifacts_bucket", "MODEL_ARTIFACTS_BUCKET", lambda v: client("s3").head_bucket(Bucket=v), True),
    ("concert_events_stream", "CONCERT_EVENTS_STREAM", lambda v: client("kinesis").describe_stream_summary(StreamName=v), True),
    ("redshift_workgroup", "REDSHIFT_WORKGROUP", lambda v: client("redshift-serverless").get_workgroup(workgroupName=v), True),
    ("bedrock_agent", "BEDROCK_AGENT_ID", lambda v: v, False),
    ("ticket_prediction_endpoint", "TICKET_PREDICTION_ENDPOINT", lambda v: client("sagemaker").describe_endpoint(EndpointName=v), False),
    ("recommendations_endpoint", "RECOMMENDATIONS_ENDPOINT", lambda v: client("sagemaker").describe_endpoint(EndpointName=v), False),
)


def check_dependencies() -> dict[str, Any]:
    dependencies = {}
    healthy = True
    for name, variable, probe, required in PROBES:
        value = optional_env(variable)
        if not value:
            state = {"status": "missing configuration" if required else "not configured", "variable": variable}
            healthy = healthy and not required
        else:
            started = time.perf_counter()
            try:
                probe(value)
                state = {"status": "ok"}
            except Exception as exc:  # noqa: BLE001 - any failure is this dependency's state
                state = {"status": "error", "error": f"{type(exc).__name__}: {str(exc)[:200]}"}
                healthy = False
            state["latency_ms"] = round((time.perf_counter() - started) * 1000, 2)
        dependencies[name] = state
    return {"status": "healthy" if healthy else "unhealthy", "dependencies": dependencies}


@app.get("/health")
def get_health() -> Response:
    import json

    report = check_dependencies()
    return Response(status_code=200 if report["status"] == "healthy" else 503, content_type=content_types.APPLICATION_JSON, body=json.dumps(report))


handler = lambda_handler(app)
