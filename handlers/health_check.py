"""GET /health: every dependency asked, never assumed. 200 when all required ones answer, else 503."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types

from concert_shared.api import lambda_handler, logger, make_app
from concert_shared.clients import client
from concert_shared.config import optional_env
from concert_shared.errors import public_reason

# path -> methods; docs/api.md and the compute template agree (tests/unit/test_api_contract.py)
ROUTES = {"/health": {"GET"}}
app = make_app(ROUTES)


def _table(name: str) -> str:
    return client("dynamodb").describe_table(TableName=name)["Table"]["TableStatus"]


def _bucket(name: str) -> str:
    client("s3").head_bucket(Bucket=name)
    return "AVAILABLE"


def _stream(name: str) -> str:
    return client("kinesis").describe_stream_summary(StreamName=name)["StreamDescriptionSummary"][
        "StreamStatus"
    ]


def _workgroup(name: str) -> str:
    return client("redshift-serverless").get_workgroup(workgroupName=name)["workgroup"]["status"]


def _agent_alias(agent_id: str) -> str:
    alias = client("bedrock-agent").get_agent_alias(
        agentId=agent_id, agentAliasId=optional_env("BEDROCK_AGENT_ALIAS_ID")
    )
    return alias["agentAlias"]["agentAliasStatus"]


def _endpoint(name: str) -> str:
    return client("sagemaker").describe_endpoint(EndpointName=name)["EndpointStatus"]


@dataclass(frozen=True)
class Probe:
    name: str
    variable: str
    ask: Callable[[str], str]  # returns the dependency's own status word
    healthy_states: frozenset[str]
    required: bool


ACTIVE = frozenset({"ACTIVE", "UPDATING"})
PROBES: tuple[Probe, ...] = (
    Probe("conversation_history_table", "CONVERSATION_HISTORY_TABLE", _table, ACTIVE, True),
    Probe("session_state_table", "SESSION_STATE_TABLE", _table, ACTIVE, True),
    Probe("user_preferences_table", "USER_PREFERENCES_TABLE", _table, ACTIVE, True),
    Probe("processed_bucket", "PROCESSED_BUCKET", _bucket, frozenset({"AVAILABLE"}), True),
    Probe("model_artifacts_bucket", "MODEL_ARTIFACTS_BUCKET", _bucket, frozenset({"AVAILABLE"}), True),
    Probe("concert_events_stream", "CONCERT_EVENTS_STREAM", _stream, ACTIVE, True),
    Probe(
        "redshift_workgroup", "REDSHIFT_WORKGROUP", _workgroup, frozenset({"AVAILABLE", "MODIFYING"}), True
    ),
    Probe("bedrock_agent", "BEDROCK_AGENT_ID", _agent_alias, frozenset({"PREPARED"}), False),
    Probe(
        "ticket_prediction_endpoint", "TICKET_PREDICTION_ENDPOINT", _endpoint, frozenset({"InService"}), False
    ),
    Probe("recommendations_endpoint", "RECOMMENDATIONS_ENDPOINT", _endpoint, frozenset({"InService"}), False),
)


def check_dependency(probe: Probe) -> dict[str, Any]:
    value = optional_env(probe.variable)
    if not value:
        if probe.required:
            return {"status": "error", "required": True, "error": f"{probe.variable} is not set"}
        return {"status": "not configured", "required": False}
    started = time.perf_counter()
    try:
        state = probe.ask(value)
        result: dict[str, Any] = {
            "status": "ok" if state in probe.healthy_states else "error",
            "state": state,
        }
        if result["status"] == "error":
            result["error"] = f"{probe.name} is {state}; expected {' or '.join(sorted(probe.healthy_states))}"
    except Exception as exc:
        # the answer names the failure's kind; the service's text (resource names, ARNs) is logged
        result = {"status": "error", "error": public_reason(exc)}
        logger.warning(
            "dependency check failed",
            extra={"dependency": probe.name, "reason": f"{type(exc).__name__}: {exc}"[:500]},
        )
    result["required"] = probe.required
    result["latency_ms"] = round((time.perf_counter() - started) * 1000, 2)
    return result


def check_dependencies(probes: tuple[Probe, ...] = PROBES) -> dict[str, Any]:
    """healthy: every required dependency ok; degraded: an optional configured one fails."""
    dependencies = {probe.name: check_dependency(probe) for probe in probes}
    required_ok = all(d["status"] == "ok" for d in dependencies.values() if d["required"])
    optional_ok = all(d["status"] != "error" for d in dependencies.values() if not d["required"])
    status = "unhealthy" if not required_ok else ("healthy" if optional_ok else "degraded")
    return {"status": status, "dependencies": dependencies}


@app.get("/health")
def get_health() -> Response:
    report = check_dependencies()
    return Response(
        status_code=503 if report["status"] == "unhealthy" else 200,
        content_type=content_types.APPLICATION_JSON,
        body=json.dumps(report),
    )


handler = lambda_handler(app)
