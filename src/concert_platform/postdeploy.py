"""The guide's post-deployment steps, done by the tool and checked rather than assumed.

1. packages uploaded and functions updated: content-addressed artifact keys are template
   parameters (deploy.py), so CloudFormation updates a function exactly when its code changed;
2. Redshift schema initialised through the Redshift Data API;
3. API Gateway access logging; 4. the alert e-mail subscription; 5. X-Ray active tracing:
   set by the templates, checked here.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

from botocore.exceptions import ClientError

from concert_platform.engines.base import Engine
from concert_platform.errors import DeployError

FUNCTION_OUTPUTS = (
    ("compute", "ChatbotFunctionName"),
    ("compute", "VenuePopularityFunctionName"),
    ("compute", "TicketPredictionFunctionName"),
    ("compute", "RecommendationsFunctionName"),
    ("compute", "HealthCheckFunctionName"),
    ("chatbot", "ChatbotMaintenanceFunctionName"),
    ("chatbot", "ConversationAnalyticsFunctionName"),
    ("logging", "ErrorProcessorFunctionName"),
)


@dataclass
class CheckResult:
    name: str
    ok: bool
    detail: str


def schema_statements() -> list[str]:
    """The Redshift schema (src/concert_platform/sql/schema.sql) split into statements."""
    text = resources.files("concert_platform").joinpath("sql/schema.sql").read_text()
    text = re.sub(r"--[^\n]*", "", text)
    return [statement.strip() for statement in text.split(";") if statement.strip()]


def wait_for_statement(
    data_api: Any, statement_id: str, timeout: float = 300, poll: float = 0.5
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        described: dict[str, Any] = data_api.describe_statement(Id=statement_id)
        status = described.get("Status")
        if status == "FINISHED":
            return described
        if status in ("FAILED", "ABORTED"):
            raise DeployError(
                f"Redshift statement {statement_id} {status}: {described.get('Error', 'no error text')}"
            )
        if time.monotonic() > deadline:
            raise DeployError(f"Redshift statement {statement_id} still {status} after {timeout:.0f}s")
        time.sleep(poll)


def run_statements(data_api: Any, workgroup: str, database: str, secret: str, statements: list[str]) -> None:
    """Execute statements in order through the Data API, waiting for each to finish."""
    for index, sql in enumerate(statements, start=1):
        try:
            started = data_api.execute_statement(
                WorkgroupName=workgroup, Database=database, SecretArn=secret, Sql=sql
            )
        except ClientError as exc:
            raise DeployError(
                f"Redshift statement {index} of {len(statements)} was refused: {exc.response['Error']['Message']}"
            ) from None
        wait_for_statement(data_api, started["Id"])


def initialize_redshift_schema(engine: Engine, storage_outputs: Mapping[str, str]) -> CheckResult:
    """Run schema.sql through the Data API, statement by statement (idempotent: IF NOT EXISTS)."""
    try:
        workgroup = storage_outputs["RedshiftWorkgroupName"]
        database = storage_outputs["RedshiftDatabaseName"]
        secret = storage_outputs["RedshiftAdminSecretArn"]
    except KeyError as missing:
        raise DeployError(f"the storage stack has no {missing} output; deploy it first") from None
    statements = schema_statements()
    data_api = engine.client("redshift-data")
    run_statements(data_api, workgroup, database, secret, statements)
    return CheckResult(
        "redshift-schema", True, f"{len(statements)} statements applied to {workgroup}/{database}"
    )


def check_api_logging(engine: Engine, compute: Mapping[str, str]) -> CheckResult:
    try:
        stage = engine.client("apigateway").get_stage(
            restApiId=compute["ApiId"], stageName=compute["ApiStageName"]
        )
    except (KeyError, ClientError) as exc:
        return CheckResult("api-access-logging", False, f"cannot read the API stage: {exc}")
    destination = stage.get("accessLogSettings", {}).get("destinationArn")
    tracing = stage.get("tracingEnabled", False)
    ok = bool(destination) and tracing
    detail = f"access logs -> {destination or 'NOT SET'}; X-Ray tracing {'on' if tracing else 'OFF'}"
    return CheckResult("api-access-logging", ok, detail)


def check_function_tracing(engine: Engine, outputs: Mapping[str, Mapping[str, str]]) -> CheckResult:
    lambda_client = engine.client("lambda")
    inactive = []
    for stack, key in FUNCTION_OUTPUTS:
        name = outputs.get(stack, {}).get(key)
        if not name:
            continue
        mode = (
            lambda_client.get_function_configuration(FunctionName=name).get("TracingConfig", {}).get("Mode")
        )
        if mode != "Active":
            inactive.append(f"{name} ({mode or 'no tracing'})")
    if inactive:
        return CheckResult("xray-active-tracing", False, "not active on: " + ", ".join(inactive))
    return CheckResult("xray-active-tracing", True, "active on every deployed function")


def check_alert_subscription(engine: Engine, monitoring: Mapping[str, str], alert_email: str) -> CheckResult:
    topic = monitoring.get("CriticalAlertsTopicArn")
    if not topic:
        return CheckResult(
            "alert-subscription", False, "the monitoring stack has no CriticalAlertsTopicArn output"
        )
    if not alert_email:
        return CheckResult(
            "alert-subscription",
            True,
            "no alert email given: subscribe later with `aws sns subscribe --topic-arn "
            f"{topic} --protocol email --notification-endpoint you@example.com`",
        )
    subscriptions = engine.client("sns").list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    endpoints = {s.get("Endpoint") for s in subscriptions if s.get("Protocol") == "email"}
    if alert_email in endpoints:
        return CheckResult(
            "alert-subscription", True, f"{alert_email} subscribed (confirm the e-mail AWS sends)"
        )
    return CheckResult("alert-subscription", False, f"{alert_email} is not subscribed to {topic}")


def run_post_deploy(
    engine: Engine, outputs: Mapping[str, Mapping[str, str]], deployed: set[str], alert_email: str
) -> list[CheckResult]:
    """Post-deployment steps for the stacks that were part of this deploy."""
    results: list[CheckResult] = []
    if "storage" in deployed:
        results.append(initialize_redshift_schema(engine, outputs.get("storage", {})))
    if "compute" in deployed:
        results.append(check_api_logging(engine, outputs.get("compute", {})))
    if deployed & {"compute", "chatbot", "logging"}:
        results.append(check_function_tracing(engine, outputs))
    if "monitoring" in deployed:
        results.append(check_alert_subscription(engine, outputs.get("monitoring", {}), alert_email))
    return results
