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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

from botocore.exceptions import ClientError

from concert_platform.engines.base import Engine
from concert_platform.errors import DeployError, UsageError
from concert_platform.manifest import project_root

#: the tables the warehouse schema creates (sample_data loads them, the smoke test counts them)
REDSHIFT_TABLES = ("artists", "venues", "concerts", "ticket_sales")

MAX_BATCH = 40  # BatchExecuteStatement's limit


@dataclass
class CheckResult:
    name: str
    ok: bool
    detail: str
    #: how long the step took, where it is worth its own line in a benchmark (warehouse steps)
    seconds: float | None = None
    #: not done, by choice (the detail says why and how to do it later): reported as skipped,
    #: never as applied; it fails nothing
    skipped: bool = False


SCHEMA_FILE = "src/concert_platform/sql/schema.sql"


def schema_text() -> str:
    """The project's schema.sql: the checkout's copy (like its templates), else the installed one."""
    try:
        path = project_root() / SCHEMA_FILE
    except UsageError:
        path = None
    if path is not None and path.is_file():
        return path.read_text()
    return resources.files("concert_platform").joinpath("sql/schema.sql").read_text()


def schema_statements() -> list[str]:
    """The Redshift schema split into statements."""
    text = schema_text()
    text = re.sub(r"--[^\n]*", "", text)
    return [statement.strip() for statement in text.split(";") if statement.strip()]


POLL_FIRST_SECONDS = 0.01  # small statements finish in milliseconds; polls back off to POLL_MAX
POLL_MAX_SECONDS = 0.5


def first_line(sql: str, limit: int = 100) -> str:
    """The statement's first non-blank line (what an error message names it by)."""
    line = next((text.strip() for text in sql.splitlines() if text.strip()), "")
    return line if len(line) <= limit else line[: limit - 3] + "..."


def wait_for_statement(data_api: Any, statement_id: str, timeout: float = 300) -> dict[str, Any]:
    """Poll until the statement ends; FINISHED returns its description, anything else raises."""
    deadline = time.monotonic() + timeout
    poll = POLL_FIRST_SECONDS
    while True:
        described: dict[str, Any] = data_api.describe_statement(Id=statement_id)
        status = described.get("Status")
        if status == "FINISHED":
            return described
        if status in ("FAILED", "ABORTED"):
            failed = next(
                (
                    sub
                    for sub in described.get("SubStatements", [])
                    if sub.get("Status") in ("FAILED", "ABORTED")
                ),
                described,
            )
            raise StatementFailed(
                failed.get("QueryString", described.get("QueryString", "")),
                f"{status}: {failed.get('Error') or described.get('Error') or 'no error text'}",
            )
        if time.monotonic() > deadline:
            raise DeployError(f"Redshift statement {statement_id} still {status} after {timeout:.0f}s")
        time.sleep(poll)
        poll = min(POLL_MAX_SECONDS, poll * 2)


class StatementFailed(DeployError):
    def __init__(self, sql: str, error: str) -> None:
        super().__init__(f"Redshift statement failed: {first_line(sql)}: {error}")
        self.sql = sql
        self.error = error


def _refused(sql: str, exc: ClientError) -> DeployError:
    error = exc.response.get("Error", {})
    return DeployError(
        f"Redshift statement refused: {first_line(sql)}: {error.get('Code')}: {error.get('Message')}"
    )


def run_statements(data_api: Any, workgroup: str, database: str, secret: str, statements: list[str]) -> int:
    """Execute statements one by one through the Data API, each waited for; returns how many ran.

    A refused or failing statement raises DeployError naming its first line and the engine's error."""
    for sql in statements:
        try:
            started = data_api.execute_statement(
                WorkgroupName=workgroup, Database=database, SecretArn=secret, Sql=sql
            )
        except ClientError as exc:
            raise _refused(sql, exc) from None
        wait_for_statement(data_api, started["Id"])
    return len(statements)


def run_batch(data_api: Any, workgroup: str, database: str, secret: str, statements: list[str]) -> int:
    """Execute statements as Data API batches (each batch one transaction, at most 40 statements)."""
    for start in range(0, len(statements), MAX_BATCH):
        chunk = statements[start : start + MAX_BATCH]
        try:
            started = data_api.batch_execute_statement(
                WorkgroupName=workgroup, Database=database, SecretArn=secret, Sqls=chunk
            )
        except ClientError as exc:
            raise _refused(chunk[0], exc) from None
        wait_for_statement(data_api, started["Id"])
    return len(statements)


def query_rows(data_api: Any, workgroup: str, database: str, secret: str, sql: str) -> list[list[Any]]:
    """A SELECT's rows as plain values (every page)."""
    try:
        started = data_api.execute_statement(
            WorkgroupName=workgroup, Database=database, SecretArn=secret, Sql=sql
        )
    except ClientError as exc:
        raise _refused(sql, exc) from None
    wait_for_statement(data_api, started["Id"])
    rows: list[list[Any]] = []
    token: str | None = None
    while True:
        page = data_api.get_statement_result(Id=started["Id"], **({"NextToken": token} if token else {}))
        rows += [
            [None if field.get("isNull") else next(iter(field.values()), None) for field in record]
            for record in page.get("Records", [])
        ]
        token = page.get("NextToken")
        if not token:
            return rows


def initialize_redshift_schema(engine: Engine, storage_outputs: Mapping[str, str]) -> CheckResult:
    """Run schema.sql through the Data API, statement by statement (idempotent: IF NOT EXISTS),
    then read the tables back from the warehouse's catalogue."""
    try:
        workgroup = storage_outputs["RedshiftWorkgroupName"]
        database = storage_outputs["RedshiftDatabaseName"]
        secret = storage_outputs["RedshiftAdminSecretArn"]
    except KeyError as missing:
        raise DeployError(f"the storage stack has no {missing} output; deploy it first") from None
    statements = schema_statements()
    data_api = engine.client("redshift-data")
    started = time.monotonic()
    applied = run_statements(data_api, workgroup, database, secret, statements)
    try:
        listed = data_api.list_tables(
            WorkgroupName=workgroup, Database=database, SecretArn=secret, SchemaPattern="public"
        )["Tables"]
    except ClientError as exc:
        raise DeployError(
            f"cannot list the tables of {workgroup}/{database}: {exc.response.get('Error', {}).get('Message')}"
        ) from None
    tables = sorted(t["name"] for t in listed)
    seconds = time.monotonic() - started
    absent = sorted(set(REDSHIFT_TABLES) - set(tables))
    if absent:
        return CheckResult(
            "redshift-schema",
            False,
            f"{applied} statements applied to {workgroup}/{database}, but these tables are not there: "
            f"{', '.join(absent)}",
            round(seconds, 3),
        )
    return CheckResult(
        "redshift-schema",
        True,
        f"{applied} statements applied to {workgroup}/{database} in {seconds:.2f}s; "
        f"tables: {', '.join(tables) or 'none'}",
        round(seconds, 3),
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


def check_function_tracing(
    engine: Engine, outputs: Mapping[str, Mapping[str, str]], functions: Sequence[tuple[str, str]]
) -> CheckResult:
    """Active X-Ray tracing on every function `functions` names ((stack key, output key), from
    `Manifest.function_outputs`)."""
    lambda_client = engine.client("lambda")
    inactive = []
    for stack, key in functions:
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
            skipped=True,
        )
    subscriptions = engine.client("sns").list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    endpoints = {s.get("Endpoint") for s in subscriptions if s.get("Protocol") == "email"}
    if alert_email in endpoints:
        return CheckResult(
            "alert-subscription", True, f"{alert_email} subscribed (confirm the e-mail AWS sends)"
        )
    return CheckResult("alert-subscription", False, f"{alert_email} is not subscribed to {topic}")


def run_post_deploy(
    engine: Engine,
    outputs: Mapping[str, Mapping[str, str]],
    deployed: set[str],
    alert_email: str,
    functions: Sequence[tuple[str, str]],
) -> list[CheckResult]:
    """Post-deployment steps for the stacks that were part of this deploy."""
    results: list[CheckResult] = []
    if "storage" in deployed:
        results.append(initialize_redshift_schema(engine, outputs.get("storage", {})))
    if "compute" in deployed:
        results.append(check_api_logging(engine, outputs.get("compute", {})))
    if deployed & {stack for stack, _ in functions}:
        results.append(check_function_tracing(engine, outputs, functions))
    if "monitoring" in deployed:
        results.append(check_alert_subscription(engine, outputs.get("monitoring", {}), alert_email))
    return results
