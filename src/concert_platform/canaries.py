"""Engine canaries: every e2e proves, on every engine, that the engine still behaves as AWS does
where the run relies on it, before the smoke flows trust it.

Each canary makes one thing happen that AWS answers in a known way, with throwaway resources and
a throwaway role of its own (named `concert-canary-<purpose>-<environment>`, never the
platform's), and removes them afterwards:

- `iam-action-denied`: a call the role's policy does not allow is AccessDenied naming the action
  and the resource (and a call it allows succeeds);
- `iam-resource-denied`: the allowed action on a resource ARN outside the granted one is denied;
- `kms-key-policy-denied`: a decrypt by a role that the key policy excludes is denied, although
  the role's own policy allows kms:Decrypt (and a key that delegates to IAM decrypts);
- `lambda-timeout`: an invocation past the function's Timeout ends "Task timed out";
- `sql-syntax-error-failed` and `sql-missing-table-failed`: through the Redshift Data API, a
  statement with a syntax error and one on a missing table end FAILED with the engine's error
  (and `SELECT 1` FINISHED);
- `alarm-fires-and-delivers`: a metric driven past an alarm's threshold moves it to ALARM and its
  notice reaches the subscriber of its topic;
- `stack-delete-leaves-nothing`: a stack whose resource deletes cleanly leaves nothing once it is
  DELETE_COMPLETE.

A canary whose guarantee the engine declares it lacks (`Engine.canary_exemption`) reports `skip`
with the engine's reason, never `pass`; on the embedded engine none is exempt. Denials the
canaries expected are listed apart (`denied`), so the report's `iam` section can show them beside,
not among, the platform's own calls (a denial of those still fails the run).
"""

from __future__ import annotations

import functools
import io
import json
import secrets
import threading
import time
import zipfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from concert_platform.outcome import describe_exception

#: guarantee -> what AWS does (an engine names these in `canary_exemptions`)
GUARANTEES: dict[str, str] = {
    "iam": "a call the caller's identity policies do not allow, by action or by resource, is denied",
    "kms": "KMS refuses a principal its key policy does not allow, whatever the caller's own policy says",
    "timeout": "Lambda stops an invocation at the function's Timeout: 'Task timed out'",
    "sql": "the Redshift Data API ends a failing statement FAILED with the engine's error",
    "alarm": "an alarm past its threshold goes to ALARM and notifies its topic's subscribers",
    "teardown": "a stack at DELETE_COMPLETE has deleted every resource it created",
}

PASS, FAIL, SKIP = "pass", "fail", "skip"
_TERMINAL_SQL = ("FINISHED", "FAILED", "ABORTED")
_CANARY_HANDLER = b"""import time


def handler(event, context):
    time.sleep(float(event.get("seconds", 3)))
    return {"slept": event.get("seconds", 3)}
"""


class CanaryFailed(Exception):
    """The engine did not behave as AWS does; the message says how."""


class CanaryStopped(Exception):
    """The run was interrupted while the canary waited: it proved nothing (reported `skip`)."""


#: the stop signal of the run the current canary thread belongs to (set by `_run_one`)
_run_state = threading.local()


def _stopping() -> threading.Event | None:
    stop: threading.Event | None = getattr(_run_state, "stop", None)
    return stop


def _pause(seconds: float) -> None:
    """Sleep between two readings, unless the run is stopping (then CanaryStopped at once)."""
    stop = _stopping()
    if stop is None:
        time.sleep(seconds)
    elif stop.wait(seconds):
        raise CanaryStopped("not finished: the run was interrupted while it waited on the engine")


@dataclass
class CanaryResult:
    name: str
    guarantee: str
    status: str
    detail: str
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "guarantee": self.guarantee,
            "status": self.status,
            "detail": self.detail,
            "seconds": self.seconds,
        }


@dataclass
class _Context:
    """What the canaries of one run share: names, the throwaway role, and what to remove."""

    engine: Any
    environment: str
    denied: list[dict[str, str]] = field(default_factory=list)
    _cleanups: list[tuple[str, Callable[[], Any]]] = field(default_factory=list)
    _lock: threading.RLock = field(default_factory=threading.RLock)
    _shared: dict[str, Any] = field(default_factory=dict)

    def name(self, purpose: str) -> str:
        return f"concert-canary-{purpose}-{self.environment}"

    def on_cleanup(self, what: str, action: Callable[[], Any]) -> None:
        with self._lock:
            self._cleanups.append((what, action))

    def once(self, key: str, make: Callable[[], Any]) -> Any:
        """A resource shared by several canaries, created by the first that needs it."""
        with self._lock:
            if key not in self._shared:
                self._shared[key] = make()
            return self._shared[key]

    def cleanup(self) -> list[str]:
        """Remove every throwaway resource (newest first); what could not be removed, named."""
        problems = []
        for what, action in reversed(self._cleanups):
            try:
                action()
            except ClientError as exc:
                if not _gone(exc):
                    problems.append(f"could not remove {what}: {_error(exc)}")
            except BotoCoreError as exc:
                problems.append(f"could not remove {what}: {exc}")
        self._cleanups.clear()
        return problems

    # ---- the canary role ----------------------------------------------------------------------
    @property
    def account(self) -> str:
        return str(self.once("account", lambda: self.engine.client("sts").get_caller_identity()["Account"]))

    @property
    def partition(self) -> str:
        return (
            "aws-cn"
            if self.engine.region.startswith("cn-")
            else ("aws-us-gov" if self.engine.region.startswith("us-gov-") else "aws")
        )

    def table_arn(self, name: str) -> str:
        return f"arn:{self.partition}:dynamodb:{self.engine.region}:{self.account}:table/{name}"

    def role(self) -> str:
        """The canary role's ARN: allowed dynamodb:GetItem on the granted table and kms:Decrypt
        on any key (so only a key policy can refuse it), nothing else."""
        return str(self.once("role", self._create_role))

    def _create_role(self) -> str:
        iam = self.engine.client("iam")
        name = self.name("role")
        trust = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {
                        "Service": "lambda.amazonaws.com",
                        "AWS": f"arn:{self.partition}:iam::{self.account}:root",
                    },
                    "Action": "sts:AssumeRole",
                }
            ],
        }
        arn = iam.create_role(
            RoleName=name,
            AssumeRolePolicyDocument=json.dumps(trust),
            Description="concert-platform engine canary (throwaway)",
        )["Role"]["Arn"]
        self.on_cleanup(f"role {name}", lambda: _delete_role(iam, name))
        policy = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": "dynamodb:GetItem",
                    "Resource": self.table_arn(self.name("granted")),
                },
                {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*"},
            ],
        }
        iam.put_role_policy(RoleName=name, PolicyName="canary", PolicyDocument=json.dumps(policy))
        return str(arn)

    def as_role(self, service: str) -> Any:
        """A client signed with the canary role's session (the engine told to enforce it)."""
        credentials = self.once("session", self._assume)
        return credentials["make"](service)

    def _assume(self) -> dict[str, Any]:
        role = self.role()
        sts = self.engine.client("sts")
        assumed = _retry(lambda: sts.assume_role(RoleArn=role, RoleSessionName="concert-canary"))
        keys = assumed["Credentials"]
        self.engine.act_as(keys["AccessKeyId"], "engine canary", role, assumed["AssumedRoleUser"]["Arn"])
        return {"make": lambda service: self.engine.client_as(service, keys)}

    def expect_denied(
        self,
        canary: str,
        action: str,
        resource: str,
        call: Callable[[], Any],
        refused_by: str = "a role whose policy does not allow it: the engine does not enforce IAM",
    ) -> str:
        """Make a call that must be denied; the denial must name the action and the resource."""
        try:
            call()
        except ClientError as exc:
            error = exc.response.get("Error", {})
            code, message = str(error.get("Code", "")), str(error.get("Message", ""))
            if code not in ("AccessDenied", "AccessDeniedException"):
                raise CanaryFailed(
                    f"{action} on {resource} by a role not allowed it failed with {code}, not AccessDenied: {message}"
                ) from None
            missing = [part for part in (action, resource) if part not in message]
            if missing:
                raise CanaryFailed(
                    f"{action} on {resource} was denied, but the denial does not name {' and '.join(missing)}: {message}"
                ) from None
            with self._lock:
                self.denied.append(
                    {"canary": canary, "action": action, "resource": resource, "message": message}
                )
            return message
        raise CanaryFailed(f"{action} on {resource} succeeded for {refused_by}")


def _retry(call: Callable[[], Any], seconds: float = 20.0) -> Any:
    """IAM is eventually consistent on AWS: a new role may take seconds to be assumable (or
    usable by Lambda); an emulator answers at once."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            return call()
        except ClientError as exc:
            if (
                _code(exc) not in ("AccessDenied", "InvalidParameterValueException")
                or time.monotonic() > deadline
            ):
                raise
            _pause(2)


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _error(exc: ClientError) -> str:
    error = exc.response.get("Error", {})
    return f"{exc.operation_name}: {error.get('Code')}: {error.get('Message', '')}"


def _gone(exc: ClientError) -> bool:
    code = _code(exc)
    return any(word in code for word in ("NotFound", "NoSuch", "NonExistent", "DoesNotExist", "NotExist"))


def _delete_role(iam: Any, name: str) -> None:
    for policy in iam.list_role_policies(RoleName=name)["PolicyNames"]:
        iam.delete_role_policy(RoleName=name, PolicyName=policy)
    iam.delete_role(RoleName=name)


def _poll(read: Callable[[], Any], done: Callable[[Any], bool], seconds: float, step: float = 0.05) -> Any:
    """Read until `done` says so or `seconds` pass; returns the last reading."""
    deadline = time.monotonic() + seconds
    while True:
        value = read()
        if done(value) or time.monotonic() > deadline:
            return value
        _pause(step)
        step = min(step * 2, 2.0)


# ---- the canaries ---------------------------------------------------------------------------------


def _tables(ctx: _Context) -> tuple[str, str]:
    """Two throwaway tables: the role may read the first, not the second."""

    def create() -> tuple[str, str]:
        dynamodb = ctx.engine.client("dynamodb")
        names = (ctx.name("granted"), ctx.name("other"))
        for name in names:
            dynamodb.create_table(
                TableName=name,
                AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                BillingMode="PAY_PER_REQUEST",
            )
            ctx.on_cleanup(f"table {name}", functools.partial(dynamodb.delete_table, TableName=name))
        for name in names:
            dynamodb.get_waiter("table_exists").wait(
                TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 60}
            )
        return names

    granted, other = ctx.once("tables", create)
    return str(granted), str(other)


def iam_action_denied(ctx: _Context) -> str:
    granted, _other = _tables(ctx)
    dynamodb = ctx.as_role("dynamodb")
    key = {"id": {"S": "canary"}}
    # the allowed call works: the session is good, so the denial below is the policy's
    _retry(lambda: dynamodb.get_item(TableName=granted, Key=key))
    message = ctx.expect_denied(
        "iam-action-denied",
        "dynamodb:PutItem",
        ctx.table_arn(granted),
        lambda: dynamodb.put_item(TableName=granted, Item=key),
    )
    return f"GetItem allowed; PutItem denied: {message}"


def iam_resource_denied(ctx: _Context) -> str:
    granted, other = _tables(ctx)
    dynamodb = ctx.as_role("dynamodb")
    key = {"id": {"S": "canary"}}
    message = ctx.expect_denied(
        "iam-resource-denied",
        "dynamodb:GetItem",
        ctx.table_arn(other),
        lambda: dynamodb.get_item(TableName=other, Key=key),
    )
    return f"GetItem granted on {ctx.table_arn(granted)} only; on {other} denied: {message}"


def kms_key_policy_denied(ctx: _Context) -> str:
    kms = ctx.engine.client("kms")
    account_root = f"arn:{ctx.partition}:iam::{ctx.account}:root"
    # the account may do everything with this key except decrypt: no one may decrypt
    excluding = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": account_root},
                "NotAction": "kms:Decrypt",
                "Resource": "*",
            }
        ],
    }
    keys = {}
    for purpose, policy in (("excluding", excluding), ("delegating", None)):
        key = kms.create_key(
            Description=f"concert-platform engine canary ({purpose} key policy, throwaway)",
            **({"Policy": json.dumps(policy)} if policy else {}),
        )["KeyMetadata"]
        keys[purpose] = key
        ctx.on_cleanup(
            f"KMS key {key['KeyId']}",
            functools.partial(kms.schedule_key_deletion, KeyId=key["KeyId"], PendingWindowInDays=7),
        )
    blobs = {
        purpose: kms.encrypt(KeyId=key["KeyId"], Plaintext=b"canary")["CiphertextBlob"]
        for purpose, key in keys.items()
    }
    as_role = ctx.as_role("kms")
    # a key whose policy delegates to the account's IAM policies: the role's own policy decides
    plain = _retry(lambda: as_role.decrypt(CiphertextBlob=blobs["delegating"]))["Plaintext"]
    if plain != b"canary":
        raise CanaryFailed(f"decrypting with the delegating key gave {plain!r}, not the plaintext")
    message = ctx.expect_denied(
        "kms-key-policy-denied",
        "kms:Decrypt",
        keys["excluding"]["Arn"],
        lambda: as_role.decrypt(CiphertextBlob=blobs["excluding"]),
        "a role the key policy excludes: the engine does not enforce key policies",
    )
    return f"decrypt allowed through a key delegating to IAM; refused by the excluding key policy: {message}"


def lambda_timeout(ctx: _Context) -> str:
    lam = ctx.engine.client("lambda")
    name = ctx.name("timeout")
    package = io.BytesIO()
    with zipfile.ZipFile(package, "w") as archive:
        archive.writestr("canary.py", _CANARY_HANDLER)
    role = ctx.role()
    _retry(
        lambda: lam.create_function(
            FunctionName=name,
            Runtime="python3.12",
            Role=role,
            Handler="canary.handler",
            Code={"ZipFile": package.getvalue()},
            Timeout=1,
            MemorySize=128,
            Description="concert-platform engine canary (throwaway)",
        )
    )
    ctx.on_cleanup(f"function {name}", lambda: lam.delete_function(FunctionName=name))
    # Lambda writes the function's log group on its behalf; it outlives the function, as on AWS
    logs = ctx.engine.client("logs")
    ctx.on_cleanup(
        f"log group /aws/lambda/{name}", lambda: logs.delete_log_group(logGroupName=f"/aws/lambda/{name}")
    )
    if ctx.engine.runs_function_code:
        # as on AWS, a new function is Pending until Lambda has prepared it; Invoke before then is
        # refused (ResourceConflictException)
        lam.get_waiter("function_active_v2").wait(
            FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 60}
        )
    started = time.monotonic()
    error_type, message = _invoke(ctx, name, {"seconds": 3})
    seconds = time.monotonic() - started
    if error_type is None:
        raise CanaryFailed(
            f"{name} (Timeout 1 s, sleeps 3 s) returned after {seconds:.1f} s: the engine does not "
            "enforce the function's Timeout"
        )
    if "Task timed out" not in message:
        raise CanaryFailed(
            f"{name} (Timeout 1 s, sleeps 3 s) failed with {error_type}: {message}, not 'Task timed out'"
        )
    return f"{name} (Timeout 1 s, sleeps 3 s): {message.strip()}"


def _invoke(ctx: _Context, name: str, event: dict[str, Any]) -> tuple[str | None, str]:
    """(error type or None, error message) of one invocation, however the engine runs code."""
    engine = ctx.engine
    if not engine.runs_function_code:
        from concert_platform.execution_roles import forget_function

        try:
            outcome = engine.function_runtime().invoke(name, event)
        finally:
            forget_function(engine, name)  # its role is the canary's, not the platform's
        return outcome.error_type, outcome.error_message
    response = engine.client("lambda").invoke(FunctionName=name, Payload=json.dumps(event).encode())
    payload = response["Payload"].read().decode(errors="replace")
    if not response.get("FunctionError"):
        return None, ""
    try:
        body = json.loads(payload)
    except ValueError:
        return str(response["FunctionError"]), payload
    if not isinstance(body, dict):
        return str(response["FunctionError"]), payload
    return str(body.get("errorType") or response["FunctionError"]), str(body.get("errorMessage", payload))


def _warehouse(ctx: _Context) -> tuple[str, str]:
    """A throwaway Redshift Serverless namespace and workgroup: (workgroup, database)."""

    def create() -> tuple[str, str]:
        serverless = ctx.engine.client("redshift-serverless")
        name = ctx.name("sql")
        serverless.create_namespace(
            namespaceName=name,
            dbName="canary",
            adminUsername="canary",
            adminUserPassword="Canary" + secrets.token_hex(8),
        )
        ctx.on_cleanup(f"namespace {name}", lambda: serverless.delete_namespace(namespaceName=name))
        serverless.create_workgroup(workgroupName=name, namespaceName=name)
        ctx.on_cleanup(f"workgroup {name}", lambda: serverless.delete_workgroup(workgroupName=name))
        return name, "canary"

    workgroup, database = ctx.once("warehouse", create)
    return str(workgroup), str(database)


def _statement(ctx: _Context, sql: str) -> dict[str, Any]:
    workgroup, database = _warehouse(ctx)
    data = ctx.engine.client("redshift-data")
    statement_id = data.execute_statement(WorkgroupName=workgroup, Database=database, Sql=sql)["Id"]
    described: dict[str, Any] = _poll(
        lambda: data.describe_statement(Id=statement_id),
        lambda d: d.get("Status") in _TERMINAL_SQL,
        30.0,
    )
    return described


def _expect_failed(ctx: _Context, sql: str, must_mention: str = "") -> str:
    control = _statement(ctx, "SELECT 1")
    if control.get("Status") != "FINISHED":
        raise CanaryFailed(
            f"the control statement SELECT 1 ended {control.get('Status')}: {control.get('Error', '')}"
        )
    described = _statement(ctx, sql)
    status, error = described.get("Status"), str(described.get("Error") or "")
    if status != "FAILED":
        raise CanaryFailed(f"{sql!r} ended {status}, not FAILED" + (f" ({error})" if error else ""))
    if not error:
        raise CanaryFailed(f"{sql!r} ended FAILED without the engine's error")
    if must_mention and must_mention.lower() not in error.lower():
        raise CanaryFailed(f"{sql!r} ended FAILED, but its error does not name {must_mention}: {error}")
    return f"SELECT 1 FINISHED; {sql!r} FAILED: {error}"


def sql_syntax_error_failed(ctx: _Context) -> str:
    return _expect_failed(ctx, "SELEC 1 AS canary")


def sql_missing_table_failed(ctx: _Context) -> str:
    return _expect_failed(
        ctx, "SELECT count(*) FROM concert_canary_missing_table", "concert_canary_missing_table"
    )


def alarm_fires_and_delivers(ctx: _Context) -> str:
    engine = ctx.engine
    sns, sqs, cloudwatch = engine.client("sns"), engine.client("sqs"), engine.client("cloudwatch")
    name = ctx.name("alarm")
    topic = sns.create_topic(Name=name)["TopicArn"]
    ctx.on_cleanup(f"topic {name}", lambda: sns.delete_topic(TopicArn=topic))
    queue = sqs.create_queue(QueueName=name)["QueueUrl"]
    ctx.on_cleanup(f"queue {name}", lambda: sqs.delete_queue(QueueUrl=queue))
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "sns.amazonaws.com"},
                "Action": "sqs:SendMessage",
                "Resource": queue_arn,
                "Condition": {"ArnEquals": {"aws:SourceArn": topic}},
            }
        ],
    }
    sqs.set_queue_attributes(QueueUrl=queue, Attributes={"Policy": json.dumps(policy)})
    subscription = sns.subscribe(
        TopicArn=topic, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"}
    )["SubscriptionArn"]
    ctx.on_cleanup(f"subscription {subscription}", lambda: sns.unsubscribe(SubscriptionArn=subscription))
    dimension = [{"Name": "Environment", "Value": ctx.environment}]
    cloudwatch.put_metric_alarm(
        AlarmName=name,
        AlarmDescription="concert-platform engine canary (throwaway)",
        Namespace="Concert/Canary",
        MetricName="CanaryErrors",
        Dimensions=dimension,
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=1,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
        TreatMissingData="notBreaching",
        AlarmActions=[topic],
    )
    ctx.on_cleanup(f"alarm {name}", lambda: cloudwatch.delete_alarms(AlarmNames=[name]))
    cloudwatch.put_metric_data(
        Namespace="Concert/Canary",
        MetricData=[{"MetricName": "CanaryErrors", "Dimensions": dimension, "Value": 5.0, "Unit": "Count"}],
    )
    # an engine that can be asked evaluates now; AWS evaluates each period, so wait for it
    wait = 3.0 if engine.evaluate_alarms_now(name) else 180.0

    def state() -> str:
        found = cloudwatch.describe_alarms(AlarmNames=[name])["MetricAlarms"]
        return str(found[0]["StateValue"]) if found else "DELETED"

    reached = _poll(state, lambda s: s == "ALARM", wait)
    if reached != "ALARM":
        raise CanaryFailed(
            f"alarm {name} (Sum >= 1 over 60 s) is {reached} {wait:.0f} s after a datapoint of 5, not ALARM"
        )
    notices: list[dict[str, Any]] = []

    def delivered() -> bool:
        for message in sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", []):
            try:
                notices.append(json.loads(message["Body"]))
            except ValueError:
                continue
        return any(n.get("AlarmName") == name and n.get("NewStateValue") == "ALARM" for n in notices)

    if not _poll(delivered, bool, wait):
        raise CanaryFailed(
            f"alarm {name} reached ALARM, but no ALARM notice reached the subscriber of {topic}"
        )
    return f"alarm {name} reached ALARM after a datapoint of 5 (threshold 1); its notice reached the SQS subscriber of {topic}"


def stack_delete_leaves_nothing(ctx: _Context) -> str:
    cfn, sqs = ctx.engine.client("cloudformation"), ctx.engine.client("sqs")
    stack = ctx.name("stack")
    queue_name = ctx.name("stack-queue")
    template = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": "concert-platform engine canary (throwaway)",
        "Resources": {"CanaryQueue": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": queue_name}}},
    }
    stack_id = cfn.create_stack(StackName=stack, TemplateBody=json.dumps(template))["StackId"]
    ctx.on_cleanup(f"stack {stack}", lambda: cfn.delete_stack(StackName=stack_id))

    def status() -> str:
        return str(cfn.describe_stacks(StackName=stack_id)["Stacks"][0]["StackStatus"])

    created = _poll(status, lambda s: not s.endswith("_IN_PROGRESS"), 120.0)
    if created != "CREATE_COMPLETE":
        raise CanaryFailed(f"stack {stack} ended {created}, not CREATE_COMPLETE")
    physical = next(
        r["PhysicalResourceId"]
        for r in cfn.describe_stack_resources(StackName=stack_id)["StackResources"]
        if r["LogicalResourceId"] == "CanaryQueue"
    )
    cfn.delete_stack(StackName=stack_id)
    deleted = _poll(status, lambda s: not s.endswith("_IN_PROGRESS"), 120.0)
    if deleted != "DELETE_COMPLETE":
        raise CanaryFailed(f"stack {stack} ended {deleted}, not DELETE_COMPLETE")
    try:
        url = sqs.get_queue_url(QueueName=queue_name)["QueueUrl"]
    except ClientError as exc:
        if _gone(exc):
            return f"stack {stack} DELETE_COMPLETE; its AWS::SQS::Queue {queue_name} is gone"
        raise
    ctx.on_cleanup(f"queue {queue_name} (left by its stack)", lambda: sqs.delete_queue(QueueUrl=url))
    raise CanaryFailed(
        f"stack {stack} reached DELETE_COMPLETE, but its resource CanaryQueue (AWS::SQS::Queue, "
        f"physical id {physical}) still exists (removed directly afterwards)"
    )


@dataclass(frozen=True)
class Canary:
    name: str  # stable: the JUnit case name
    guarantee: str
    run: Callable[[_Context], str]


CANARIES: tuple[Canary, ...] = (
    Canary("iam-action-denied", "iam", iam_action_denied),
    Canary("iam-resource-denied", "iam", iam_resource_denied),
    Canary("kms-key-policy-denied", "kms", kms_key_policy_denied),
    Canary("lambda-timeout", "timeout", lambda_timeout),
    Canary("sql-syntax-error-failed", "sql", sql_syntax_error_failed),
    Canary("sql-missing-table-failed", "sql", sql_missing_table_failed),
    Canary("alarm-fires-and-delivers", "alarm", alarm_fires_and_delivers),
    Canary("stack-delete-leaves-nothing", "teardown", stack_delete_leaves_nothing),
)


def _run_one(ctx: _Context, canary: Canary, stop: threading.Event | None = None) -> CanaryResult:
    exemption = ctx.engine.canary_exemption(canary.guarantee)
    if exemption:
        return CanaryResult(canary.name, canary.guarantee, SKIP, exemption)
    if stop is not None and stop.is_set():
        return CanaryResult(canary.name, canary.guarantee, SKIP, "not run: the run was interrupted")
    _run_state.stop = stop
    started = time.monotonic()
    try:
        status, detail = PASS, canary.run(ctx)
    except CanaryStopped as exc:
        status, detail = SKIP, str(exc)
    except CanaryFailed as exc:
        status, detail = FAIL, str(exc)
    except Exception as exc:  # the engine may be what broke: a failed canary, never a traceback
        status, detail = FAIL, f"could not run: {describe_exception(exc)}"
    return CanaryResult(canary.name, canary.guarantee, status, detail, round(time.monotonic() - started, 3))


def run_canaries(
    engine: Any,
    environment: str,
    canaries: tuple[Canary, ...] = CANARIES,
    stop: threading.Event | None = None,
) -> dict[str, Any]:
    """Run every canary at once (each waits on the engine, not on the others), then remove what
    they created. The report's `canaries` section. When `stop` is set (the run was interrupted),
    a canary waiting on the engine ends at its next reading, reported `skip`, and the removal
    follows at once."""
    ctx = _Context(engine, environment)
    try:
        with ThreadPoolExecutor(max_workers=len(canaries), thread_name_prefix="canary") as pool:
            results = list(pool.map(lambda canary: _run_one(ctx, canary, stop), canaries))
    finally:
        cleanup = ctx.cleanup()
    rows = [result.as_dict() for result in results]
    return {
        "ran": True,
        "passed": sum(r["status"] == PASS for r in rows),
        "failed": sum(r["status"] == FAIL for r in rows),
        "skipped": sum(r["status"] == SKIP for r in rows),
        "results": rows,
        "denied": ctx.denied,
        "cleanup": cleanup,
    }


# ---- the report section (JSON is the dict itself; these render it) -------------------------------


def failures(section: dict[str, Any] | None) -> list[dict[str, str]]:
    if not section:
        return []
    found = [
        {"phase": "canaries", "check": r["name"], "reason": r["detail"]}
        for r in section.get("results", [])
        if r["status"] == FAIL
    ]
    return found + [
        {"phase": "canaries", "check": "canary cleanup", "reason": problem}
        for problem in section.get("cleanup", [])
    ]


def junit_cases(section: dict[str, Any] | None) -> list[tuple[str, str | None, str | None]]:
    """(case, failure or None, skip reason or None) per canary."""
    return [
        (
            r["name"],
            r["detail"] if r["status"] == FAIL else None,
            r["detail"] if r["status"] == SKIP else None,
        )
        for r in (section or {}).get("results", [])
    ]


def summary_line(section: dict[str, Any] | None) -> str | None:
    if not section or not section.get("ran"):
        return None
    skipped = f", {section['skipped']} skipped" if section.get("skipped") else ""
    return f"canaries: {section['passed']} passed, {section['failed']} failed{skipped}"


def console_lines(section: dict[str, Any] | None) -> list[str]:
    """One line per canary under the summary line (rich markup): what it proved, or why not."""
    words = {PASS: "[green]pass[/green]", FAIL: "[red]FAIL[/red]", SKIP: "[yellow]skipped[/yellow]"}
    return [
        f"  {words[r['status']]} {r['name']}" + ("" if r["status"] == PASS else f": {r['detail']}")
        for r in (section or {}).get("results", [])
    ]


def markdown_lines(section: dict[str, Any] | None) -> list[str]:
    if not section or not section.get("ran"):
        return []
    lines = [
        "",
        "## Engine canaries",
        "",
        "| canary | guarantee | result | detail |",
        "| --- | --- | --- | --- |",
    ]
    for r in section["results"]:
        word = {PASS: "pass", FAIL: "FAIL", SKIP: "skipped"}[r["status"]]
        detail = str(r["detail"]).replace("|", "\\|").replace("\n", " ")
        lines.append(f"| {r['name']} | {r['guarantee']} | {word} | {detail} |")
    lines += [f"- could not remove: {problem}" for problem in section.get("cleanup", [])]
    return lines
