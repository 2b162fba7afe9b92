"""Shared unit-test fixtures: fake AWS credentials, moto's `mock_aws`, the platform's tables,
buckets, stream and topics created in it, handler environment variables, a fake Lambda context,
API Gateway event builders and captured JSON log lines.

Generic on purpose: any unit test can ask for `aws` (an empty mocked account) or `platform`
(every resource the handlers use, with the environment variables pointing at them)."""

from __future__ import annotations

import json
import logging
import os
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import boto3
import pytest

REGION = "us-east-1"
ENVIRONMENT = "unittest"
HANDLERS_DIR = Path(__file__).resolve().parents[2] / "handlers"


@pytest.fixture
def aws_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake credentials and region, so nothing can reach a real account."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SECURITY_TOKEN": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")  # no X-Ray daemon in tests
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "ConcertPlatform")
    monkeypatch.setenv("POWERTOOLS_DEV", "false")


def _reset_handler_caches() -> None:
    """boto3 clients and the reference-data cache live per container; tests need fresh ones."""
    if str(HANDLERS_DIR / "shared") not in sys.path:
        return
    try:
        from concert_shared import clients, platform_data
    except ImportError:
        return
    clients.reset()
    platform_data.clear_cache()


@pytest.fixture
def aws(aws_credentials: None) -> Iterator[None]:
    """An empty mocked AWS account (moto `mock_aws`), with the project's moto extensions
    (Redshift Serverless backend, a Redshift Data API that runs SQL)."""
    from moto import mock_aws

    from concert_platform.engines import moto_ext

    moto_ext.register()
    # The handlers never read AWS-managed IAM policies; loading them costs ~0.8 s per mocked account.
    os.environ["MOTO_IAM_LOAD_MANAGED_POLICIES"] = "false"
    with mock_aws():
        _reset_handler_caches()
        yield
    _reset_handler_caches()
    moto_ext.load_managed_policies()  # back to what the embedded engine and stack tests expect


@dataclass
class Platform:
    """Names of the resources the `platform` fixture created, and helpers to read topics."""

    env: dict[str, str]
    topic_queues: dict[str, str] = field(default_factory=dict)

    def __getitem__(self, name: str) -> str:
        return self.env[name]

    def messages(self, topic_variable: str) -> list[dict[str, Any]]:
        """SNS messages published to the topic named by `topic_variable`, oldest first."""
        sqs = boto3.client("sqs", region_name=REGION)
        received: list[dict[str, Any]] = []
        while True:
            batch = sqs.receive_message(
                QueueUrl=self.topic_queues[topic_variable], MaxNumberOfMessages=10
            ).get("Messages", [])
            if not batch:
                return received
            for message in batch:
                envelope = json.loads(message["Body"])
                received.append(
                    {"subject": envelope.get("Subject"), "message": json.loads(envelope["Message"])}
                )
                sqs.delete_message(
                    QueueUrl=self.topic_queues[topic_variable], ReceiptHandle=message["ReceiptHandle"]
                )


def create_platform_resources(monkeypatch: pytest.MonkeyPatch) -> Platform:
    """Create every table, bucket, stream, topic and workgroup the handlers use; set their env vars."""
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    env: dict[str, str] = {
        "ENVIRONMENT": ENVIRONMENT,
        "LOG_LEVEL": "INFO",
        "CONVERSATION_HISTORY_TABLE": f"concert-conversation-history-{ENVIRONMENT}",
        "SESSION_STATE_TABLE": f"concert-session-state-{ENVIRONMENT}",
        "USER_PREFERENCES_TABLE": f"concert-user-preferences-{ENVIRONMENT}",
        "ALERT_STATE_TABLE": f"concert-alert-state-{ENVIRONMENT}",
        "PROCESSED_BUCKET": f"concert-processed-data-{ENVIRONMENT}-123456789012",
        "MODEL_ARTIFACTS_BUCKET": f"concert-model-artifacts-{ENVIRONMENT}-123456789012",
        "CONCERT_EVENTS_STREAM": f"concert-events-{ENVIRONMENT}",
        "REDSHIFT_WORKGROUP": f"concert-{ENVIRONMENT}",
        "REDSHIFT_DATABASE": "concert_dw",
        "REDSHIFT_SECRET_ARN": f"arn:aws:secretsmanager:{REGION}:123456789012:secret:concert-platform/{ENVIRONMENT}/redshift-admin-AbCdEf",
        "BEDROCK_AGENT_ID": "",
        "BEDROCK_AGENT_ALIAS_ID": "",
        "TICKET_PREDICTION_ENDPOINT": "",
        "RECOMMENDATIONS_ENDPOINT": "",
        "SESSION_TTL_HOURS": "24",
        "HISTORY_MAX_TURNS": "50",
        "ALERT_SUPPRESSION_SECONDS": "300",
    }
    tables = {
        "CONVERSATION_HISTORY_TABLE": [("session_id", "S", "HASH"), ("turn", "N", "RANGE")],
        "SESSION_STATE_TABLE": [("session_id", "S", "HASH")],
        "USER_PREFERENCES_TABLE": [("user_id", "S", "HASH")],
        "ALERT_STATE_TABLE": [("fingerprint", "S", "HASH")],
    }
    for variable, keys in tables.items():
        dynamodb.create_table(
            TableName=env[variable],
            AttributeDefinitions=[{"AttributeName": n, "AttributeType": t} for n, t, _ in keys],
            KeySchema=[{"AttributeName": n, "KeyType": k} for n, _, k in keys],
            BillingMode="PAY_PER_REQUEST",
        )
    s3 = boto3.client("s3", region_name=REGION)
    for variable in ("PROCESSED_BUCKET", "MODEL_ARTIFACTS_BUCKET"):
        s3.create_bucket(Bucket=env[variable])
    boto3.client("kinesis", region_name=REGION).create_stream(
        StreamName=env["CONCERT_EVENTS_STREAM"], ShardCount=1
    )
    redshift = boto3.client("redshift-serverless", region_name=REGION)
    redshift.create_namespace(namespaceName=env["REDSHIFT_WORKGROUP"], dbName=env["REDSHIFT_DATABASE"])
    redshift.create_workgroup(
        workgroupName=env["REDSHIFT_WORKGROUP"], namespaceName=env["REDSHIFT_WORKGROUP"]
    )
    sns = boto3.client("sns", region_name=REGION)
    sqs = boto3.client("sqs", region_name=REGION)
    queues = {}
    for variable, name in (
        ("CRITICAL_TOPIC_ARN", "concert-critical-alerts"),
        ("WARNING_TOPIC_ARN", "concert-warning-alerts"),
        ("CHATBOT_ALERTS_TOPIC_ARN", "concert-chatbot-alerts"),
    ):
        topic = sns.create_topic(Name=f"{name}-{ENVIRONMENT}")["TopicArn"]
        queue_url = sqs.create_queue(QueueName=f"{name}-{ENVIRONMENT}-inbox")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
        env[variable] = topic
        queues[variable] = queue_url
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return Platform(env=env, topic_queues=queues)


@pytest.fixture
def platform(aws: None, monkeypatch: pytest.MonkeyPatch) -> Platform:
    """Every resource the handlers use, created in moto, with the env vars pointing at them."""
    return create_platform_resources(monkeypatch)


@pytest.fixture
def sample_data(platform: Platform) -> dict[str, list[dict[str, Any]]]:
    """The sample data set in the processed bucket (reference/<table>.json) and the
    user-preferences table: what the handlers' fallback reads when Redshift cannot answer."""
    from concert_platform import sample_data as module

    data = module.generate(date.today())  # dates around today, so some concerts are upcoming
    s3 = boto3.client("s3", region_name=REGION)
    for table in module.REDSHIFT_TABLES:
        s3.put_object(
            Bucket=platform["PROCESSED_BUCKET"],
            Key=module.reference_key(table),
            Body=json.dumps(data[table]).encode(),
        )
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    for user in data["users"]:
        dynamodb.put_item(
            TableName=platform["USER_PREFERENCES_TABLE"],
            Item={
                "user_id": {"S": user["user_id"]},
                "favorite_genres": {"L": [{"S": g} for g in user["favorite_genres"]]},
                "favorite_artists": {"L": [{"S": a} for a in user["favorite_artists"]]},
                "city": {"S": user["city"]},
            },
        )
    return data


@dataclass
class FakeLambdaContext:
    """The attributes Powertools reads from a Lambda context."""

    function_name: str = "concert-unit-test"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = f"arn:aws:lambda:{REGION}:123456789012:function:concert-unit-test"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = "/aws/lambda/concert-unit-test"
    log_stream_name: str = "2026/11/25/[$LATEST]unit"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


@pytest.fixture
def lambda_context() -> FakeLambdaContext:
    return FakeLambdaContext()


def api_event(
    method: str,
    path: str,
    body: Any = None,
    query: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    raw_body: str | None = None,
    multi_query: dict[str, list[str]] | None = None,
) -> dict[str, Any]:
    """An API Gateway REST (v1) Lambda proxy event as the platform's stage sends it."""
    text = raw_body if raw_body is not None else (json.dumps(body) if body is not None else None)
    request_id = str(uuid.uuid4())
    all_headers = {"Content-Type": "application/json", "X-Api-Key": "unit-test-key", **(headers or {})}
    return {
        "resource": path,
        "path": path,
        "httpMethod": method,
        "headers": all_headers,
        "multiValueHeaders": {k: [v] for k, v in all_headers.items()},
        "queryStringParameters": query or None,
        "multiValueQueryStringParameters": multi_query
        or ({k: [v] for k, v in query.items()} if query else None),
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "requestId": request_id,
            "stage": ENVIRONMENT,
            "httpMethod": method,
            "path": f"/{ENVIRONMENT}{path}",
            "resourcePath": path,
            "identity": {"sourceIp": "203.0.113.10", "apiKey": "unit-test-key"},
        },
        "body": text,
        "isBase64Encoded": False,
    }


@pytest.fixture
def make_api_event() -> Any:
    return api_event


class _LineHandler(logging.Handler):
    def __init__(self, lines: list[str], formatter: logging.Formatter) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines = lines
        self.setFormatter(formatter)

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


class JsonLogCapture:
    """Every line the Powertools loggers emit during a test, formatted by their own JSON
    formatter (exactly what CloudWatch Logs receives in Lambda), as text and parsed."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self._attached: list[tuple[logging.Logger, logging.Handler]] = []

    def attach(self) -> None:
        from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

        for candidate in list(logging.root.manager.loggerDict.values()):
            if not isinstance(candidate, logging.Logger):
                continue
            formatter = next(
                (
                    h.formatter
                    for h in candidate.handlers
                    if isinstance(h.formatter, LambdaPowertoolsFormatter)
                ),
                None,
            )
            if formatter is not None:
                handler = _LineHandler(self.lines, formatter)
                candidate.addHandler(handler)
                self._attached.append((candidate, handler))

    def detach(self) -> None:
        for candidate, handler in self._attached:
            candidate.removeHandler(handler)

    @property
    def records(self) -> list[dict[str, Any]]:
        parsed = []
        for line in self.lines:
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict) and "level" in record:
                parsed.append(record)
        return parsed


@pytest.fixture
def json_logs() -> Iterator[JsonLogCapture]:
    """The JSON log lines the handlers printed during the test (import the handlers first)."""
    capture = JsonLogCapture()
    capture.attach()
    yield capture
    capture.detach()


@pytest.fixture(autouse=True)
def _one_project_per_test() -> Iterator[None]:
    """A test that runs the CLI with `--project DIR` in this process chooses DIR for the whole
    process (manifest.use_project): forgotten after each test, so no later test reads its copy."""
    yield
    from concert_platform import manifest

    if manifest._explicit_root is not None:
        manifest.use_project(None)
        manifest._load.cache_clear()
