"""Smoke flows over a deployed platform with the sample data loaded.

- every API route answers as docs/api.md documents, bad input gets a 4xx with CORS headers;
- the scheduled maintenance and analytics functions run and change state as expected;
- an ERROR log line reaches the error processor through the subscription filter and produces
  an alert on the right SNS topic.

Where the engine's Lambda runs no code (the embedded engine), API requests enter at the deployed
REST API stage (concert_platform.engines.api_stage: routes, API keys, validators and integrations read
back from the engine) and the functions run in their own isolated execution environments
(concert_platform.engines.local_lambda); elsewhere (LocalStack, AWS) through the deployed API
Gateway stage (with the deployed API key) and Lambda Invoke.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from concert_platform.deploy import StackOperator
from concert_platform.engines.api_stage import DeployedStage
from concert_platform.engines.base import Engine
from concert_platform.manifest import Manifest
from concert_platform.packaging import default_cache_dir


def runtime_for(engine: Engine, cache_dir: Path) -> Any:
    """The engine's local Lambda runtime (one per engine, closed with it)."""
    return engine.function_runtime(cache_dir)


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    #: not run on this engine (the detail says why): counted and reported as skipped, never as passed
    skipped: bool = False


#: the header in which LocalStack with this project's extension names a failed integration's
#: function and Lambda error (localstack-ext/concert_localstack_ext/apigateway_responses.py)
INTEGRATION_ERROR_HEADER = "x-concert-integration-error"


@dataclass
class HttpResponse:
    status: int
    headers: dict[str, str]
    body: Any
    #: why the API answered 5xx, when the engine can tell (the function and its Lambda error)
    error: str | None = None


class Platform:
    """How the smoke run reaches the deployed functions on one engine."""

    def __init__(
        self, engine: Engine, manifest: Manifest, environment: str, cache_dir: Path | None = None
    ) -> None:
        self.engine = engine
        self.environment = environment
        operator = StackOperator(engine, manifest, environment)
        self._operator = operator
        self._stack_names = [operator.stack_name(spec.key) for spec in manifest.stacks]
        self._own: dict[str, set[str]] = {}
        self.outputs = operator.all_outputs()
        self.parameters = {
            spec.key: {
                p["ParameterKey"]: p.get("ParameterValue", "")
                for p in (operator.describe(operator.stack_name(spec.key)) or {}).get("Parameters", [])
            }
            for spec in manifest.stacks
        }
        self.local = not engine.runs_function_code
        # the engine's runtime, shared with the functions its own services invoke (closed with it)
        self.runtime = (
            runtime_for(engine, cache_dir or default_cache_dir(manifest.root)) if self.local else None
        )
        self._stage: DeployedStage | None = None
        self._api_key: str | None = None

    def out(self, stack: str, key: str) -> str:
        value = self.outputs.get(stack, {}).get(key)
        if not value:
            raise LookupError(f"the {stack} stack has no {key} output")
        return value

    def own(self, resource_type: str) -> set[str]:
        """The physical ids of this environment's resources of one type, read from its stacks:
        an engine shared by several environments answers a listing with all of theirs."""
        from botocore.exceptions import ClientError

        if resource_type not in self._own:
            found: set[str] = set()
            for name in self._stack_names:
                with contextlib.suppress(ClientError):  # a stack not deployed holds nothing
                    found.update(self._operator.stack_resources_of(name, resource_type))
            self._own[resource_type] = found
        return self._own[resource_type]

    def close(self) -> None:
        """Nothing to release: the engine's Lambda runtime lives as long as the engine."""

    def __enter__(self) -> Platform:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # ---- invoking functions --------------------------------------------------------------------
    def invoke(self, stack: str, function_output: str, event: dict[str, Any]) -> dict[str, Any]:
        name = self.out(stack, function_output)
        if self.runtime is not None:
            outcome = self.runtime.invoke(name, event)
            if not outcome.ok:
                raise RuntimeError(outcome.describe_error())
            result: dict[str, Any] = outcome.result if isinstance(outcome.result, dict) else {}
            return result
        response = self.engine.client("lambda").invoke(FunctionName=name, Payload=json.dumps(event).encode())
        payload = json.loads(response["Payload"].read() or b"{}")
        if response.get("FunctionError"):
            raise RuntimeError(f"{name} failed: {payload}")
        return payload if isinstance(payload, dict) else {"result": payload}

    # ---- calling the API -----------------------------------------------------------------------
    def stage(self) -> DeployedStage:
        """The deployed API stage served on the embedded engine."""
        if self._stage is None:
            from botocore.exceptions import ClientError

            runtime = self.runtime
            assert runtime is not None, "only an engine whose Lambda runs no code serves its API in-process"
            api_id, stage = self.out("compute", "ApiId"), self.out("compute", "ApiStageName")
            try:
                self._stage = DeployedStage(self.engine, api_id, stage, runtime.invoke, runtime.routes)
            except ClientError as exc:
                raise RuntimeError(
                    f"the deployed API {api_id} (stage {stage}) cannot be read: {exc}"
                ) from exc
        return self._stage

    def api_key(self) -> str:
        if self._api_key is None:
            key_id = self.out("compute", "ApiKeyId")
            self._api_key = self.engine.client("apigateway").get_api_key(apiKey=key_id, includeValue=True)[
                "value"
            ]
        return self._api_key

    def call_api(
        self,
        method: str,
        path: str,
        body: Any = None,
        query: dict[str, str] | None = None,
        raw_body: str | None = None,
        with_key: bool = True,
    ) -> HttpResponse:
        payload = raw_body if raw_body is not None else (json.dumps(body) if body is not None else None)
        headers = {"content-type": "application/json"}
        if with_key:
            headers["x-api-key"] = self.api_key()
        if self.local:
            response = self.stage().request(method, path, headers=headers, query=query, body=payload)
            return HttpResponse(
                response.status, response.headers, _json_or_text(response.body), response.error
            )
        return self._http(method, path, payload, query, headers)

    def _http(
        self, method: str, path: str, data: str | None, query: dict[str, str] | None, headers: dict[str, str]
    ) -> HttpResponse:
        api_id, stage = self.out("compute", "ApiId"), self.out("compute", "ApiStageName")
        base = self.engine.api_base_url(api_id, stage, self.out("compute", "ApiEndpointUrl"))
        url = base + path + ("?" + urllib.parse.urlencode(query) if query else "")
        request = urllib.request.Request(  # noqa: S310 - our own API endpoint, http(s) only
            url, data=data.encode() if data else None, method=method, headers=headers
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - our own API endpoint
                return HttpResponse(
                    response.status,
                    {k.lower(): v for k, v in response.headers.items()},
                    _json_or_text(response.read().decode()),
                )
        except urllib.error.HTTPError as error:
            headers = {k.lower(): v for k, v in error.headers.items()}
            return HttpResponse(
                error.code,
                headers,
                _json_or_text(error.read().decode()),
                # the failed function and its Lambda error, where the engine names them
                headers.get(INTEGRATION_ERROR_HEADER)
                if self.engine.capabilities.names_failed_functions
                else None,
            )


def _json_or_text(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


# ---- the checks -----------------------------------------------------------------------------
def _api_checks(platform: Platform) -> list[Check]:
    checks: list[Check] = []

    def check(name: str, run: Callable[[], str]) -> None:
        try:
            checks.append(Check(name, True, run()))
        except (AssertionError, LookupError, RuntimeError, KeyError, TypeError, ValueError) as exc:
            checks.append(Check(name, False, str(exc) or type(exc).__name__))

    def expect_ok(response: HttpResponse, what: str) -> dict[str, Any]:
        assert response.status == 200, (
            f"{what}: HTTP {response.status}: {response.error or str(response.body)[:300]}"
        )
        assert response.headers.get("access-control-allow-origin"), f"{what}: no CORS header"
        assert isinstance(response.body, dict), f"{what}: body is not a JSON object"
        return response.body

    def expect_warehouse(body: dict[str, Any], what: str) -> None:
        if not platform.engine.capabilities.has_warehouse:
            return
        source = str(body.get("source"))
        assert "redshift" in source, (
            f"{what} answered from {source}, not the warehouse; fallback reason: "
            f"{body.get('fallback_reason')}{last_failed_statement(platform)}"
        )

    def health() -> str:
        body = expect_ok(platform.call_api("GET", "/health"), "GET /health")
        dependencies = body.get("dependencies") or body.get("checks") or {}
        assert dependencies, "GET /health lists no dependencies"
        return f"status {body.get('status')}, {len(dependencies)} dependencies reported"

    def chat() -> str:
        first = expect_ok(
            platform.call_api("POST", "/chat", {"message": "Which venues are the most popular?"}),
            "POST /chat",
        )
        session = first.get("session_id")
        assert session and first.get("answer"), f"POST /chat answered without session_id or answer: {first}"
        second = expect_ok(
            platform.call_api(
                "POST", "/chat", {"session_id": session, "message": "Recommend concerts for me"}
            ),
            "POST /chat (2nd turn)",
        )
        assert second.get("session_id") == session, "the second turn changed the session id"
        table = platform.out("compute", "ConversationHistoryTableName")
        items = platform.engine.client("dynamodb").query(
            TableName=table,
            KeyConditionExpression="session_id = :s",
            ExpressionAttributeValues={":s": {"S": session}},
        )["Items"]
        assert len(items) >= 4, f"expected 4 turns in {table} for session {session}, found {len(items)}"
        return f"2 exchanges stored as {len(items)} turns in {table}; source {first.get('source')}"

    def venues() -> str:
        body = expect_ok(
            platform.call_api("GET", "/venues/popularity", query={"limit": "5"}), "GET /venues/popularity"
        )
        venues_list = body.get("venues") or body.get("items") or []
        assert venues_list, f"no venues returned: {body}"
        assert body.get("source"), "the response does not say which source answered"
        expect_warehouse(body, "GET /venues/popularity")
        return f"{len(venues_list)} venues from {body.get('source')}"

    def prediction() -> str:
        from concert_platform import sample_data

        concert = sample_data.upcoming_concert_id()
        body = expect_ok(
            platform.call_api("POST", "/predictions/tickets", {"concert_id": concert}),
            "POST /predictions/tickets",
        )
        assert body.get("source"), "the response does not say which source answered"
        expect_warehouse(body, "POST /predictions/tickets")
        return f"prediction for {concert} from {body.get('source')}"

    def recommendations() -> str:
        from concert_platform import sample_data

        user = sample_data.sample_user_id()
        body = expect_ok(
            platform.call_api("GET", "/recommendations", query={"user_id": user, "limit": "3"}),
            "GET /recommendations",
        )
        items = body.get("recommendations") or body.get("items") or []
        assert items, f"no recommendations for {user}: {body}"
        expect_warehouse(body, "GET /recommendations")
        return f"{len(items)} recommendations for {user} from {body.get('source')}"

    def bad_json() -> str:
        response = platform.call_api("POST", "/chat", raw_body="{not json")
        assert 400 <= response.status < 500, f"malformed JSON got HTTP {response.status}"
        assert response.headers.get("access-control-allow-origin"), "error response has no CORS header"
        message = (
            (response.body.get("error") or {}).get("message") if isinstance(response.body, dict) else None
        )
        assert message, f"the 4xx does not say what was wrong: {response.body}"
        return f"HTTP {response.status}: {message}"

    def missing_field() -> str:
        response = platform.call_api("POST", "/predictions/tickets", {"price": "free"})
        assert 400 <= response.status < 500, f"a body without concert_id got HTTP {response.status}"
        return f"HTTP {response.status}"

    def wiring() -> str:
        stage = platform.stage()
        problems = stage.wiring_problems()
        assert not problems, "; ".join(problems)
        proxied = [r for r in stage.routes() if r.function_arn()]
        return f"{len(proxied)} methods integrated with functions that serve their routes"

    def without_key() -> str:
        response = platform.call_api("GET", "/health", with_key=False)
        assert response.status == 403, f"GET /health without an API key got HTTP {response.status}"
        return f"HTTP 403 {response.body}"

    def preflight() -> str:
        response = platform.call_api("OPTIONS", "/chat", with_key=False)
        assert response.status == 200, f"OPTIONS /chat got HTTP {response.status}: {response.body}"
        methods = response.headers.get("access-control-allow-methods", "")
        assert "POST" in methods, f"the preflight does not allow POST: {response.headers}"
        assert response.headers.get("access-control-allow-origin"), "the preflight has no allowed origin"
        return f"allows {methods}"

    if platform.local:
        check("api methods reach functions that serve their routes", wiring)
    for name, run in (
        ("api refuses a request without the API key", without_key),
        ("api answers the CORS preflight", preflight),
        ("api GET /health", health),
        ("api POST /chat keeps history", chat),
        ("api GET /venues/popularity", venues),
        ("api POST /predictions/tickets", prediction),
        ("api GET /recommendations", recommendations),
        ("api rejects malformed JSON with 4xx", bad_json),
        ("api rejects a wrongly typed body with 4xx", missing_field),
    ):
        check(name, run)
    return checks


def _scheduled_checks(platform: Platform) -> list[Check]:
    checks: list[Check] = []
    dynamodb = platform.engine.client("dynamodb")
    try:
        sessions = platform.out("chatbot", "SessionStateTableName")
        history = platform.out("compute", "ConversationHistoryTableName")
        expired = f"smoke-expired-{uuid.uuid4().hex[:8]}"
        past = str(int(time.time()) - 86400)
        dynamodb.put_item(
            TableName=sessions,
            Item={"session_id": {"S": expired}, "expires_at": {"N": past}, "turn_count": {"N": "1"}},
        )
        dynamodb.put_item(
            TableName=history,
            Item={
                "session_id": {"S": expired},
                "turn": {"N": "1"},
                "expires_at": {"N": past},
                "role": {"S": "user"},
                "content": {"S": "old"},
            },
        )
        result = platform.invoke(
            "chatbot", "ChatbotMaintenanceFunctionName", scheduled_event("daily maintenance")
        )
        left = dynamodb.get_item(TableName=sessions, Key={"session_id": {"S": expired}}).get("Item")
        turns = dynamodb.query(
            TableName=history,
            KeyConditionExpression="session_id = :s",
            ExpressionAttributeValues={":s": {"S": expired}},
        )["Items"]
        ok = left is None and not turns
        checks.append(
            Check(
                "scheduled maintenance expires old sessions",
                ok,
                f"result {result}; session left: {bool(left)}, turns left: {len(turns)}",
            )
        )
    except (LookupError, RuntimeError, KeyError) as exc:
        checks.append(Check("scheduled maintenance expires old sessions", False, str(exc)))
    try:
        bucket = platform.out("storage", "ProcessedDataBucketName")
        s3 = platform.engine.client("s3")
        before = {
            o["Key"]
            for o in s3.list_objects_v2(Bucket=bucket, Prefix="analytics/conversations/").get("Contents", [])
        }
        result = platform.invoke(
            "chatbot", "ConversationAnalyticsFunctionName", scheduled_event("hourly analytics")
        )
        after = {
            o["Key"]
            for o in s3.list_objects_v2(Bucket=bucket, Prefix="analytics/conversations/").get("Contents", [])
        }
        written = sorted(after - before) or sorted(after)
        ok = bool(after)
        checks.append(
            Check(
                "scheduled analytics publishes statistics",
                ok,
                f"summary {json.dumps(result)[:200]}; objects {written[:2]}",
            )
        )
    except (LookupError, RuntimeError, KeyError) as exc:
        checks.append(Check("scheduled analytics publishes statistics", False, str(exc)))
    return checks


def scheduled_event(detail: str) -> dict[str, Any]:
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "resources": [],
        "detail": {"smoke": detail},
    }


def _error_pipeline_check(platform: Platform) -> Check:
    from botocore.exceptions import ClientError

    name = "error log line reaches the error processor and alerts the critical topic"
    engine = platform.engine
    sqs, sns, logs = engine.client("sqs"), engine.client("sns"), engine.client("logs")
    queue_url = subscription = None
    try:
        topic = platform.out("monitoring", "CriticalAlertsTopicArn")
        log_group = platform.out("compute", "ChatbotLogGroupName")
        queue_url = sqs.create_queue(QueueName=f"concert-smoke-{uuid.uuid4().hex[:8]}")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        subscription = sns.subscribe(
            TopicArn=topic, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"}
        )["SubscriptionArn"]
        marker = uuid.uuid4().hex[:12]
        line = json.dumps(
            {
                "level": "ERROR",
                "message": f"Task timed out after 30.00 seconds ({marker})",
                "service": "chatbot",
                "correlation_id": marker,
            }
        )
        stream = f"smoke/{marker}"
        logs.create_log_stream(logGroupName=log_group, logStreamName=stream)
        logs.put_log_events(
            logGroupName=log_group,
            logStreamName=stream,
            logEvents=[{"timestamp": int(time.time() * 1000), "message": line}],
        )
        # the engine delivers the line through the group's subscription filters (no direct invocation)
        deadline = time.monotonic() + (5 if platform.local else 90)
        while time.monotonic() < deadline:
            for message in sqs.receive_message(
                QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1
            ).get("Messages", []):
                if marker in message["Body"]:
                    return Check(name, True, f"alert on {topic.rsplit(':', 1)[-1]}: {message['Body'][:160]}")
        from concert_platform.smoke_alarms import undelivered_reason

        return Check(name, False, undelivered_reason(platform, log_group, line, topic, marker))
    except (LookupError, RuntimeError, KeyError) as exc:
        return Check(name, False, str(exc))
    except ClientError as exc:  # this check fails, naming the call; the other checks still report
        error = exc.response.get("Error", {})
        return Check(name, False, f"{exc.operation_name}: {error.get('Code')}: {error.get('Message')}")
    finally:
        if subscription:
            sns.unsubscribe(SubscriptionArn=subscription)
        if queue_url:
            sqs.delete_queue(QueueUrl=queue_url)


_WIRE_PROBES: tuple[tuple[str, str, Callable[[Engine, str], Any]], ...] = (
    ("_TABLE", "DynamoDB table", lambda e, v: e.client("dynamodb").describe_table(TableName=v)),
    ("_BUCKET", "S3 bucket", lambda e, v: e.client("s3").head_bucket(Bucket=v)),
    ("_TOPIC_ARN", "SNS topic", lambda e, v: e.client("sns").get_topic_attributes(TopicArn=v)),
    ("_STREAM", "Kinesis stream", lambda e, v: e.client("kinesis").describe_stream_summary(StreamName=v)),
    (
        "REDSHIFT_WORKGROUP",
        "Redshift workgroup",
        lambda e, v: e.client("redshift-serverless").get_workgroup(workgroupName=v),
    ),
    ("_SECRET_ARN", "secret", lambda e, v: e.client("secretsmanager").describe_secret(SecretId=v)),
)


def _wiring_checks(platform: Platform) -> list[Check]:
    """Every function's environment names resources that exist, and its layers exist."""
    from botocore.exceptions import ClientError

    from concert_platform.postdeploy import FUNCTION_OUTPUTS

    checks: list[Check] = []
    for stack, output in FUNCTION_OUTPUTS:
        name = platform.outputs.get(stack, {}).get(output)
        if not name:
            checks.append(
                Check(f"wiring {stack}.{output}", False, f"the {stack} stack has no {output} output")
            )
            continue
        config = platform.engine.client("lambda").get_function_configuration(FunctionName=name)
        broken = []
        for variable, value in sorted(config.get("Environment", {}).get("Variables", {}).items()):
            probe = next(
                ((kind, call) for suffix, kind, call in _WIRE_PROBES if variable.endswith(suffix)), None
            )
            if probe is None or not value:
                continue
            try:
                probe[1](platform.engine, value)
            except ClientError as exc:
                broken.append(
                    f"{variable}={value}: no such {probe[0]} ({exc.response.get('Error', {}).get('Code')})"
                )
        for layer in config.get("Layers", []):
            try:
                layer_name, version = layer["Arn"].split(":")[-2:]
                platform.engine.client("lambda").get_layer_version(
                    LayerName=layer_name, VersionNumber=int(version)
                )
            except ClientError:
                broken.append(f"layer {layer['Arn']} does not exist")
        checks.append(
            Check(f"wiring {name}", not broken, "; ".join(broken) or "every referenced resource exists")
        )
    return checks


def last_failed_statement(platform: Platform) -> str:
    """The warehouse's newest FAILED statement and its error, to name what broke a route."""
    from botocore.exceptions import BotoCoreError, ClientError

    from concert_platform.postdeploy import first_line

    try:
        secret = platform.out("storage", "RedshiftAdminSecretArn")
        data_api = platform.engine.client("redshift-data")
        pages = data_api.get_paginator("list_statements").paginate(
            Status="FAILED", RoleLevel=False, PaginationConfig={"MaxItems": 300}
        )
        # newest first; only this environment's warehouse (its secret): the engine may serve others
        ours = next(
            (st for page in pages for st in page["Statements"] if st.get("SecretArn") == secret), None
        )
        if ours is None:
            return ""
        described = data_api.describe_statement(Id=ours["Id"])
    except (BotoCoreError, ClientError, LookupError):
        return ""
    return f"; the warehouse's last failed statement: {first_line(described.get('QueryString', ''))}: {described.get('Error')}"


def _warehouse_check(platform: Platform) -> Check:
    """The schema's tables exist in the warehouse and hold the sample rows, counted by the warehouse."""
    from botocore.exceptions import ClientError

    from concert_platform.errors import DeployError
    from concert_platform.sample_data import REDSHIFT_TABLES, count_warehouse_rows

    name = "warehouse holds the schema and the sample rows"
    try:
        target = (
            platform.out("storage", "RedshiftWorkgroupName"),
            platform.out("storage", "RedshiftDatabaseName"),
            platform.out("storage", "RedshiftAdminSecretArn"),
        )
        data_api = platform.engine.client("redshift-data")
        listed = data_api.list_tables(
            WorkgroupName=target[0], Database=target[1], SecretArn=target[2], SchemaPattern="public"
        )["Tables"]
        missing = sorted(set(REDSHIFT_TABLES) - {t["name"] for t in listed})
        if missing:
            return Check(name, False, f"tables missing from {target[0]}/{target[1]}: {', '.join(missing)}")
        counted = count_warehouse_rows(data_api, *target)
    except (LookupError, ClientError, DeployError) as exc:
        return Check(name, False, str(exc))
    empty = [table for table in REDSHIFT_TABLES if not counted.get(table)]
    rows = ", ".join(f"{table} {counted.get(table)}" for table in REDSHIFT_TABLES)
    tables = ", ".join(sorted(t["name"] for t in listed))
    return Check(
        name,
        not empty,
        f"schema applied in {target[0]}/{target[1]} (tables {tables}); rows counted back by the warehouse: {rows}",
    )


def _runtime_check(platform: Platform) -> Check:
    """Every deployed function's execution environment starts (its handler module imports)."""
    from concert_platform.postdeploy import FUNCTION_OUTPUTS

    name = "every function's execution environment starts"
    runtime = platform.runtime
    assert runtime is not None
    functions = [platform.outputs.get(stack, {}).get(output) for stack, output in FUNCTION_OUTPUTS]
    deployed = [function for function in functions if function]
    if not deployed:
        return Check(name, False, "the stacks have no function outputs")
    runtime.warm(deployed)  # what the background start left: all at once, each timed on its own
    failures = []
    for function in deployed:
        try:
            _, _, failure = runtime.routes(function)
        except RuntimeError as exc:
            failures.append(str(exc))
            continue
        if failure is not None:
            failures.append(failure.describe_error())
    report = runtime.report()
    # a start that failed once fails the check even when a later attempt came up (flaky init);
    # the runtime is the engine's, so only this environment's functions count
    ours = [function for function in report["functions"] if function["name"] in deployed]
    for recorded in (failure for function in ours for failure in function.get("init_failures", [])):
        if recorded not in failures:
            failures.append(recorded)
    # what Lambda itself could not do as a function's role (logs, traces lost on AWS; nothing fails there)
    failures += [gap for function in ours for gap in function.get("role_gaps", []) if gap not in failures]
    if failures:
        return Check(name, False, "; ".join(failures))
    runs: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    for function in ours:  # which interpreter ran which functions, and why where it substitutes
        key = (
            str(function.get("interpreter", "")),
            str(function.get("substitute_for_declared_runtime") or ""),
            str(function.get("layer_distributions", "")),
        )
        runs.setdefault(key, []).append(function)
    ran = "; ".join(
        f"{len(functions)} declared {', '.join(sorted({f['declared_runtime'] for f in functions}))}, "
        f"run on {python}, "
        + (f"a substitute ({substitute})" if substitute else "the declared runtime")
        + f", layers {layers}"
        for (python, substitute, layers), functions in runs.items()
    )
    colds = sorted(s for f in ours for s in f["cold_start_seconds"])
    return Check(
        name,
        True,
        f"{ran} (isolated, deployed code and layers only); cold starts {colds[0]:.2f}-{colds[-1]:.2f}s",
    )


def start_cold_starts(engine: Engine, manifest: Manifest, environment: str) -> threading.Thread | None:
    """Begin the deployed functions' cold starts in the background, right after deploy: the
    workers are separate processes, so they boot on the second core while verification keeps this
    process busy. Nothing is decided here: the smoke run's first check starts (or, where this got
    there first, waits for) the same environments and reports every failure; a function whose
    configuration changes in between gets a new environment, as in Lambda. Returns the thread to
    join before the smoke run, or None where the engine runs function code itself."""
    if engine.runs_function_code:
        return None
    runtime = runtime_for(engine, default_cache_dir(manifest.root))

    def start() -> None:
        from concert_platform.postdeploy import FUNCTION_OUTPUTS

        # any failure here is met again, and reported, by the smoke run's own start
        with contextlib.suppress(Exception):
            outputs = StackOperator(engine, manifest, environment).all_outputs()
            functions = [outputs.get(stack, {}).get(output) for stack, output in FUNCTION_OUTPUTS]
            # two at a time: a core stays with verification, which runs in this process
            runtime.warm([function for function in functions if function], parallel=2)

    thread = threading.Thread(target=start, name="lambda-cold-starts", daemon=True)
    thread.start()
    return thread


#: flows in their own modules, run in this order after the core and alarm flows (their faults and
#: 5xx answers must not disturb the alarm flows): "module:function", each `(Platform) -> list[Check]`
SMOKE_FLOWS: tuple[str, ...] = (
    "concert_platform.smoke_hostile:hostile_checks",
    "concert_platform.smoke_failures:failure_checks",
    "concert_platform.smoke_contracts:contract_checks",
)


def _registered_flows(platform: Platform) -> list[Check]:
    import importlib

    checks: list[Check] = []
    for entry in SMOKE_FLOWS:
        module, function = entry.split(":")
        try:
            checks += getattr(importlib.import_module(module), function)(platform)
        except Exception as exc:  # one broken flow is its own failure, never the others' silence
            checks.append(Check(entry, False, f"the flow crashed: {type(exc).__name__}: {exc}"))
    return checks


def run_smoke(engine: Engine, manifest: Manifest, environment: str) -> dict[str, Any]:
    from concert_platform.smoke_alarms import alarm_checks

    with Platform(engine, manifest, environment) as platform:
        checks = (
            ([_runtime_check(platform)] if platform.runtime is not None else [])
            + _wiring_checks(platform)
            + [
                _warehouse_check(platform)
                if engine.capabilities.has_warehouse
                else Check(
                    "warehouse holds the schema and the sample rows",
                    True,
                    f"skipped on {engine.name}: its Redshift Data API does not run SQL (LocalStack's "
                    "free tier has none), so the data routes' warehouse source is not asserted either",
                    skipped=True,
                )
            ]
            + _api_checks(platform)
            + _scheduled_checks(platform)
            + [_error_pipeline_check(platform)]
            + alarm_checks(platform, environment)
            + _registered_flows(platform)
        )
        runtime = platform.runtime.report() if platform.runtime is not None else None
        if runtime is not None:  # the runtime is the engine's: report this environment's functions
            from concert_platform.postdeploy import FUNCTION_OUTPUTS

            ours = {platform.outputs.get(stack, {}).get(output) for stack, output in FUNCTION_OUTPUTS}
            runtime["functions"] = [f for f in runtime["functions"] if f["name"] in ours]
    passed = sum(1 for c in checks if c.ok and not c.skipped)
    skipped = sum(1 for c in checks if c.skipped)
    path = engine.function_path()
    result: dict[str, Any] = {
        #: which path ran the functions' code in every flow of this run
        "function_path": path,
        "passed": passed,
        "failed": len(checks) - passed - skipped,
        "skipped": skipped,
        "checks": [
            {
                "name": c.name,
                "ok": c.ok,
                "detail": c.detail,
                "path": path,
                **({"skipped": True} if c.skipped else {}),
            }
            for c in checks
        ],
    }
    if runtime is not None:
        result["runtime"] = runtime
    return result
