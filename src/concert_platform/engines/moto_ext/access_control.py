"""IAM enforcement for the functions' own calls: identity policies by action AND resource ARN,
conditions, resource policies (bucket, topic, queue, KMS key) and the KMS grants an SSE-KMS
resource needs, on top of moto's `moto.iam.access_control`.

moto authorises a signed request against the caller's policies by action only for most services
(the resource is `*` except for S3, SQS, IAM and STS) and evaluates no conditions. This module
replaces `ActionAuthenticatorMixin._authenticate_and_authorize_action` with one that, for requests
signed with the assumed-role keys of an *enforced session* (a function's execution role, see
`enforce_session`), identifies the session by its access key and session token (the SigV4
signature itself is not re-verified: moto's canonical request differs from botocore's for some
REST paths and would fail valid calls) and then:

1. works out the ARNs the call touches (`_checks_for`, one small resolver per service);
2. evaluates each against the role's identity policies and, where AWS does, the resource's own
   policy (`evaluate`), and for an encrypted resource the KMS actions on its key against the key
   policy plus the identity policies (`evaluate_kms`);
3. records every decision in the session's ledger and answers a denial as AWS does
   (`AccessDeniedException` on JSON protocols, `AccessDenied` on query/XML ones and S3).

Every other request (the tool's own deploy traffic, signed with the emulator's test keys) takes
moto's original path, which is unrestricted unless INITIAL_NO_AUTH_ACTION_COUNT says otherwise.
docs/embedded-engine.md ("IAM enforcement") lists what is and is not evaluated.
"""

from __future__ import annotations

import functools
import json
import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import concert_platform.engines.moto_ext.faults as faults

# ---- the policy language -----------------------------------------------------------------------


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _wildcard(pattern: str, value: str, ignore_case: bool = False) -> bool:
    """IAM's `*` and `?` wildcards (no character classes, unlike fnmatch)."""
    return _wildcard_regex(pattern, ignore_case).fullmatch(value) is not None


@functools.lru_cache(maxsize=4096)
def _wildcard_regex(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    """Each policy pattern compiled once: every call of every function is authorised through these."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(regex, re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL)


def action_matches(pattern: str, action: str) -> bool:
    """Action names are case-insensitive in IAM."""
    return _wildcard(pattern, action, ignore_case=True)


def _condition_values(expected: Any) -> list[str]:
    return [str(v).lower() if isinstance(v, bool) else str(v) for v in _as_list(expected)]


_OPERATORS: dict[str, Callable[[str, str], bool]] = {
    "StringEquals": lambda actual, wanted: actual == wanted,
    "StringEqualsIgnoreCase": lambda actual, wanted: actual.lower() == wanted.lower(),
    "StringLike": lambda actual, wanted: _wildcard(wanted, actual),
    "ArnEquals": lambda actual, wanted: actual == wanted,
    "ArnLike": lambda actual, wanted: _wildcard(wanted, actual),
    "Bool": lambda actual, wanted: actual.lower() == wanted.lower(),
    "NumericEquals": lambda actual, wanted: float(actual) == float(wanted),
    "NumericLessThan": lambda actual, wanted: float(actual) < float(wanted),
    "NumericLessThanEquals": lambda actual, wanted: float(actual) <= float(wanted),
    "NumericGreaterThan": lambda actual, wanted: float(actual) > float(wanted),
    "NumericGreaterThanEquals": lambda actual, wanted: float(actual) >= float(wanted),
}
_NEGATED = {
    "StringNotEquals": "StringEquals",
    "StringNotEqualsIgnoreCase": "StringEqualsIgnoreCase",
    "StringNotLike": "StringLike",
    "ArnNotEquals": "ArnEquals",
    "ArnNotLike": "ArnLike",
    "NumericNotEquals": "NumericEquals",
}


def condition_holds(condition: dict[str, Any], context: dict[str, str]) -> bool:
    """AWS's rules: every operator and every key must hold; any of a key's values may match.

    A key missing from the request context fails a positive operator and satisfies a negated one
    (`...IfExists` makes a missing key satisfy either). An operator not listed here makes the
    condition not hold, so an Allow it guards grants nothing and a Deny it guards denies nothing.
    """
    for raw_operator, pairs in condition.items():
        operator = raw_operator.split(":", 1)[-1]  # ForAnyValue:/ForAllValues: over single values
        if_exists = operator.endswith("IfExists")
        operator = operator.removesuffix("IfExists")
        for key, expected in pairs.items():
            actual = next((v for k, v in context.items() if k.lower() == key.lower()), None)
            wanted = _condition_values(expected)
            if operator == "Null":
                if (actual is None) != (wanted[0].lower() == "true"):
                    return False
                continue
            if actual is None:
                if if_exists or operator in _NEGATED:
                    continue
                return False
            if operator in _NEGATED:
                compare = _OPERATORS[_NEGATED[operator]]
                if any(compare(actual, w) for w in wanted):
                    return False
            elif operator in _OPERATORS:
                try:
                    if not any(_OPERATORS[operator](actual, w) for w in wanted):
                        return False
                except ValueError:
                    return False
            else:
                return False
    return True


def _principal_matches(principal: Any, principal_arns: Iterable[str]) -> bool:
    """Whether a resource policy's Principal names this caller directly.

    `*` and `{"AWS": "*"}` name everyone; the role's ARN or its session's ARN name the role. The
    account (`arn:...:root` or the account id) does not grant by itself: in the same account it
    hands the decision to the caller's identity policies, which are evaluated anyway.
    """
    if principal == "*":
        return True
    if not isinstance(principal, dict):
        return False
    names = _as_list(principal.get("AWS"))
    arns = set(principal_arns)
    return "*" in names or any(name in arns for name in names)


def _names_account(principal: Any, account_id: str) -> bool:
    if not isinstance(principal, dict):
        return False
    return any(
        name == account_id or re.fullmatch(rf"arn:[\w-]+:iam::{account_id}:root", name)
        for name in _as_list(principal.get("AWS"))
    )


def statement_applies(statement: dict[str, Any], action: str, resource: str, context: dict[str, str]) -> bool:
    if "NotAction" in statement:
        if any(action_matches(p, action) for p in _as_list(statement["NotAction"])):
            return False
    elif not any(action_matches(p, action) for p in _as_list(statement.get("Action"))):
        return False
    if "NotResource" in statement:
        if any(_wildcard(p, resource) for p in _as_list(statement["NotResource"])):
            return False
    elif "Resource" in statement and not any(_wildcard(p, resource) for p in _as_list(statement["Resource"])):
        return False
    return condition_holds(statement.get("Condition") or {}, context)


def _statements(document: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for s in _as_list(document.get("Statement")) if isinstance(s, dict)]


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    reason: str  # AWS's words for why: "no identity-based policy allows ...", "with an explicit deny in ..."


def evaluate(
    action: str,
    resource: str,
    context: dict[str, str],
    identity_policies: list[dict[str, Any]],
    resource_policy: dict[str, Any] | None = None,
    principal_arns: Iterable[str] = (),
) -> Verdict:
    """Same-account evaluation: an explicit Deny anywhere wins; otherwise an Allow in an identity
    policy or a resource-policy Allow naming this principal grants."""
    principals = list(principal_arns)
    identity_allows = False
    for document in identity_policies:
        for statement in _statements(document):
            if statement_applies(statement, action, resource, context):
                if statement.get("Effect") == "Deny":
                    return Verdict(False, "with an explicit deny in an identity-based policy")
                identity_allows = True
    resource_allows = False
    for statement in _statements(resource_policy or {}):
        principal = statement.get("Principal")
        if not _principal_matches(principal, principals):
            continue
        if statement_applies(statement, action, resource, context):
            if statement.get("Effect") == "Deny":
                return Verdict(False, "with an explicit deny in a resource-based policy")
            resource_allows = True
    if identity_allows or resource_allows:
        return Verdict(
            True,
            "allowed by a resource-based policy" if resource_allows and not identity_allows else "allowed",
        )
    return Verdict(False, f"because no identity-based policy allows the {action} action")


def evaluate_kms(
    action: str,
    key_arn: str,
    context: dict[str, str],
    identity_policies: list[dict[str, Any]],
    key_policy: dict[str, Any],
    principal_arns: Iterable[str],
    account_id: str,
) -> Verdict:
    """KMS: the key policy is the gate. It grants by naming the principal itself, or lets the
    account's IAM policies decide by naming the account; an explicit Deny in either wins.
    (Grants are not modelled.)"""
    principals = list(principal_arns)
    direct = delegated = False
    for statement in _statements(key_policy):
        principal = statement.get("Principal")
        named = _principal_matches(principal, principals)
        if not (named or _names_account(principal, account_id)):
            continue
        if statement_applies(statement, action, key_arn, context):
            if statement.get("Effect") == "Deny":
                return Verdict(False, "with an explicit deny in a resource-based policy")
            direct = direct or named
            delegated = delegated or not named
    identity = evaluate(action, key_arn, context, identity_policies)
    if not identity.allowed and identity.reason.startswith("with an explicit deny"):
        return identity
    if direct or (delegated and identity.allowed):
        return Verdict(True, "allowed")
    if not delegated and not direct:
        return Verdict(
            False, "because the key policy does not allow this principal or the account's IAM policies"
        )
    return Verdict(False, f"because no identity-based policy allows the {action} action")


# ---- sessions and the ledger of decisions -------------------------------------------------------


@dataclass(frozen=True)
class Decision:
    function: str
    role: str  # role ARN
    action: str
    resource: str
    allowed: bool
    reason: str
    via: str = ""  # for a KMS action a service performs for the caller: the call that needed it


@dataclass
class Ledger:
    """Every authorisation decision made for the enforced sessions of one run."""

    decisions: list[Decision] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def record(self, decision: Decision) -> None:
        with self._lock:
            self.decisions.append(decision)

    def denied(self) -> list[Decision]:
        with self._lock:
            seen: dict[tuple[str, str, str, str], Decision] = {}
            for d in self.decisions:
                if not d.allowed:
                    seen.setdefault((d.function, d.role, d.action, d.resource), d)
            return list(seen.values())

    def used(self, role_arn: str) -> set[tuple[str, str]]:
        """(action, resource) pairs the role was allowed to use."""
        with self._lock:
            return {(d.action, d.resource) for d in self.decisions if d.allowed and d.role == role_arn}

    def used_by(self, function: str) -> set[tuple[str, str]]:
        """(action, resource) pairs the function was allowed to use (implied KMS calls aside)."""
        with self._lock:
            return {
                (d.action, d.resource)
                for d in self.decisions
                if d.allowed and d.function == function and not d.via
            }


@dataclass(frozen=True)
class Session:
    function: str
    role_arn: str
    session_arn: str
    ledger: Ledger


_SESSIONS: dict[str, Session] = {}  # assumed-role access key id -> session


def enforce_session(access_key_id: str, session: Session) -> None:
    """From now on, requests signed with this access key are authorised (and recorded)."""
    _SESSIONS[access_key_id] = session


def _document(raw: Any) -> dict[str, Any]:
    """A policy document as moto keeps it: JSON text, URL-encoded JSON, or (from CloudFormation) a dict."""
    from urllib.parse import unquote

    if isinstance(raw, dict):
        return raw
    text = raw.decode() if isinstance(raw, bytes) else str(raw)
    try:
        document = json.loads(text)
    except ValueError:
        document = json.loads(unquote(text))
    return document if isinstance(document, dict) else {}


def identity_policies_of(role_name: str, account_id: str, partition: str = "aws") -> list[dict[str, Any]]:
    """The role's inline and attached (customer- and AWS-managed) policy documents, as moto keeps them."""
    from moto.iam.models import iam_backends

    backend = iam_backends[account_id][partition]
    documents = [
        _document(backend.get_role_policy(role_name, name)[1])
        for name in backend.list_role_policies(role_name)
    ]
    attached, _ = backend.list_attached_role_policies(role_name)
    for policy in attached:
        default = next(v for v in policy.versions if v.is_default)
        documents.append(_document(default.document))
    return documents


# ---- what a request touches ---------------------------------------------------------------------


@dataclass(frozen=True)
class RequiredPermission:
    """One authorisation a request needs: an action on a resource, or a KMS action on a key."""

    action: str
    resource: str
    resource_policy: dict[str, Any] | None = None
    kms_key_policy: dict[str, Any] | None = None  # set for KMS checks
    context: tuple[tuple[str, str], ...] = ()


# The signing name differs from the IAM prefix for a few services.
_IAM_PREFIX = {"monitoring": "cloudwatch", "email": "ses", "execute-api": "execute-api"}


@dataclass
class _Call:
    service: str  # IAM prefix
    operation: str
    params: dict[str, Any]
    account: str
    region: str
    partition: str
    moto_resource: str  # what moto itself worked out ("*" for most services)
    headers: Any
    path: str = ""

    def arn(self, service: str, resource: str, region: str | None = None) -> str:
        region = self.region if region is None else region
        return f"arn:{self.partition}:{service}:{region}:{self.account}:{resource}"


def _json_doc(text: Any) -> dict[str, Any] | None:
    if not text:
        return None
    if isinstance(text, dict):
        return text
    try:
        document = json.loads(text.decode() if isinstance(text, bytes) else text)
    except ValueError:
        return None
    return document if isinstance(document, dict) else None


def _kms_checks(
    call: _Call, key_id: str | None, actions: Iterable[str], via: str
) -> list[RequiredPermission]:
    """The KMS actions a service performs with the caller's permissions on an SSE-KMS resource."""
    if not key_id:
        return []
    from moto.kms.models import kms_backends

    backend = kms_backends[call.account][call.region]
    try:
        key = backend.describe_key(key_id)
    except Exception:  # an AWS-owned key (alias/aws/...) or a key that is gone: nothing to check
        return []
    if getattr(key, "key_manager", "CUSTOMER") == "AWS":
        return []
    policy = _json_doc(key.policy) or {}
    context = (("kms:ViaService", f"{via}.{call.region}.amazonaws.com"), ("kms:CallerAccount", call.account))
    return [RequiredPermission(f"kms:{a}", key.arn, kms_key_policy=policy, context=context) for a in actions]


_DYNAMODB_ITEM_OPERATIONS = {
    "GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "Scan", "BatchGetItem",
    "BatchWriteItem", "TransactGetItems", "TransactWriteItems", "ExecuteStatement",
}  # fmt: skip


def _dynamodb(call: _Call) -> list[RequiredPermission]:
    from moto.dynamodb.models import dynamodb_backends

    tables = dynamodb_backends[call.account][call.region].tables
    targets: list[tuple[str, str, str | None]] = []  # (action, table, index)
    if call.operation in ("BatchWriteItem", "BatchGetItem"):
        targets = [(call.operation, name, None) for name in call.params.get("RequestItems") or {}]
    elif call.operation in ("TransactWriteItems", "TransactGetItems"):
        kinds = {
            "Put": "PutItem",
            "Update": "UpdateItem",
            "Delete": "DeleteItem",
            "ConditionCheck": "ConditionCheckItem",
            "Get": "GetItem",
        }
        for item in call.params.get("TransactItems") or []:
            for kind, body in item.items():
                targets.append((kinds.get(kind, kind), body.get("TableName", ""), None))
    elif call.params.get("TableName"):
        targets = [(call.operation, call.params["TableName"], call.params.get("IndexName"))]
    checks: list[RequiredPermission] = []
    for operation, table_name, index in targets:
        arn = call.arn("dynamodb", f"table/{table_name}") + (f"/index/{index}" if index else "")
        checks.append(RequiredPermission(f"dynamodb:{operation}", arn))
        table = tables.get(table_name)
        sse = getattr(table, "sse_specification", None) or {}
        if call.operation in _DYNAMODB_ITEM_OPERATIONS and sse.get("SSEType") == "KMS":
            checks += _kms_checks(call, sse.get("KMSMasterKeyId"), ["Decrypt"], "dynamodb")
    return checks or [RequiredPermission(f"dynamodb:{call.operation}", "*")]


# S3 operation names moto reports -> the IAM action AWS authorises them as
_S3_ACTIONS = {
    "HeadBucket": "ListBucket",
    "HeadObject": "GetObject",
    "ListObjects": "ListBucket",
    "ListObjectsV2": "ListBucket",
    "ListBucketVersions": "ListBucketVersions",
    "DeleteObjects": "DeleteObject",
}


def _s3(call: _Call) -> list[RequiredPermission]:
    from moto.s3.models import s3_backends

    action = "s3:" + _S3_ACTIONS.get(call.operation, call.operation)
    resource = call.moto_resource
    match = re.fullmatch(r"arn:[\w-]+:s3:::([^/]+)(?:/(.*))?", resource)
    if not match or match.group(1) == "*":
        return [RequiredPermission(action, resource)]
    bucket_name, key_name = match.groups()
    backend = s3_backends[call.account][call.partition]
    bucket = backend.buckets.get(bucket_name)
    context: tuple[tuple[str, str], ...] = ()
    if action == "s3:ListBucket":
        prefix = call.params.get("prefix")
        context = (("s3:prefix", prefix[0] if isinstance(prefix, list) else prefix),) if prefix else ()
    checks = [
        RequiredPermission(action, resource, _json_doc(getattr(bucket, "policy", None)), context=context)
    ]
    if bucket is None or key_name is None:
        return checks
    if action == "s3:GetObject":
        obj = bucket.keys.get(key_name) if hasattr(bucket.keys, "get") else None
        if obj is not None and getattr(obj, "encryption", None) == "aws:kms":
            checks += _kms_checks(call, obj.kms_key_id, ["Decrypt"], "s3")
    elif action == "s3:PutObject":
        headers = {k.lower(): v for k, v in dict(call.headers).items()}
        key_id = None
        if headers.get("x-amz-server-side-encryption") == "aws:kms":
            key_id = headers.get("x-amz-server-side-encryption-aws-kms-key-id") or "alias/aws/s3"
        elif not headers.get("x-amz-server-side-encryption"):
            encryption = getattr(bucket, "encryption", None)
            for rule in _as_list(encryption.get("Rule")) if isinstance(encryption, dict) else []:
                default = (
                    rule.get("ApplyServerSideEncryptionByDefault") or {} if isinstance(rule, dict) else {}
                )
                if default.get("SSEAlgorithm") == "aws:kms":
                    key_id = default.get("KMSMasterKeyID") or "alias/aws/s3"
        checks += _kms_checks(call, key_id, ["GenerateDataKey"], "s3")
    return checks


def _sns(call: _Call) -> list[RequiredPermission]:
    from moto.sns.models import sns_backends

    arn = call.params.get("TopicArn") or call.params.get("TargetArn")
    if not arn:
        return [RequiredPermission(f"sns:{call.operation}", "*")]
    topic = sns_backends[call.account][call.region].topics.get(arn)
    checks = [
        RequiredPermission(f"sns:{call.operation}", arn, _json_doc(getattr(topic, "_policy_json", None)))
    ]
    if call.operation == "Publish" and topic is not None:
        checks += _kms_checks(
            call, getattr(topic, "kms_master_key_id", None), ["GenerateDataKey", "Decrypt"], "sns"
        )
    return checks


def _sqs(call: _Call) -> list[RequiredPermission]:
    from moto.sqs.models import sqs_backends

    checks = [RequiredPermission(f"sqs:{call.operation}", call.moto_resource)]
    queue = next(
        (
            q
            for q in sqs_backends[call.account][call.region].queues.values()
            if q.queue_arn == call.moto_resource
        ),
        None,
    )
    if queue is None:
        return checks
    checks = [
        RequiredPermission(
            f"sqs:{call.operation}", queue.queue_arn, _json_doc(getattr(queue, "policy", None))
        )
    ]
    key = getattr(queue, "kms_master_key_id", None)
    if call.operation in ("SendMessage", "SendMessageBatch"):
        checks += _kms_checks(call, key, ["GenerateDataKey", "Decrypt"], "sqs")
    elif call.operation == "ReceiveMessage":
        checks += _kms_checks(call, key, ["Decrypt"], "sqs")
    return checks


def _kinesis(call: _Call) -> list[RequiredPermission]:
    from moto.kinesis.models import kinesis_backends

    arn = call.params.get("StreamARN")
    name = call.params.get("StreamName") or (arn.rsplit("/", 1)[-1] if arn else None)
    if not name:
        return [RequiredPermission(f"kinesis:{call.operation}", "*")]
    arn = arn or call.arn("kinesis", f"stream/{name}")
    checks = [RequiredPermission(f"kinesis:{call.operation}", arn)]
    stream = kinesis_backends[call.account][call.region].streams.get(name)
    if stream is not None and getattr(stream, "encryption_type", "NONE") == "KMS":
        if call.operation in ("PutRecord", "PutRecords"):
            checks += _kms_checks(call, stream.key_id, ["GenerateDataKey"], "kinesis")
        elif call.operation == "GetRecords":
            checks += _kms_checks(call, stream.key_id, ["Decrypt"], "kinesis")
    return checks


def _secret(call: _Call, secret_id: str) -> list[RequiredPermission]:
    from moto.secretsmanager.models import secretsmanager_backends

    secrets = secretsmanager_backends[call.account][call.region].secrets
    secret = secrets.get(secret_id) if secret_id in secrets else None
    arn = secret.arn if secret is not None else secret_id
    checks = [RequiredPermission("secretsmanager:GetSecretValue", arn)]
    if secret is not None:
        checks += _kms_checks(call, getattr(secret, "kms_key_id", None), ["Decrypt"], "secretsmanager")
    return checks


def _secretsmanager(call: _Call) -> list[RequiredPermission]:
    secret_id = call.params.get("SecretId")
    if call.operation == "GetSecretValue" and secret_id:
        return _secret(call, secret_id)
    if secret_id:
        from moto.secretsmanager.models import secretsmanager_backends

        secrets = secretsmanager_backends[call.account][call.region].secrets
        arn = secrets[secret_id].arn if secret_id in secrets else secret_id
        return [RequiredPermission(f"secretsmanager:{call.operation}", arn)]
    return [RequiredPermission(f"secretsmanager:{call.operation}", "*")]


def _workgroup_arn(call: _Call, name: str) -> str:
    try:
        from concert_platform.engines.moto_ext.redshift_serverless.models import redshiftserverless_backends

        return str(redshiftserverless_backends[call.account][call.region].get_workgroup(name).arn)
    except Exception:  # not deployed: AWS would name it by id; the name is the best we have
        return call.arn("redshift-serverless", f"workgroup/{name}")


def _redshift_data(call: _Call) -> list[RequiredPermission]:
    action = f"redshift-data:{call.operation}"
    if call.operation not in ("ExecuteStatement", "BatchExecuteStatement"):
        return [RequiredPermission(action, "*")]  # statement ids are not ARNs
    if call.params.get("WorkgroupName"):
        checks = [RequiredPermission(action, _workgroup_arn(call, call.params["WorkgroupName"]))]
    elif call.params.get("ClusterIdentifier"):
        checks = [
            RequiredPermission(action, call.arn("redshift", f"cluster:{call.params['ClusterIdentifier']}"))
        ]
    else:
        checks = [RequiredPermission(action, "*")]
    if call.params.get("SecretArn"):  # the Data API reads the secret with the caller's permissions
        checks += _secret(call, call.params["SecretArn"])
    elif call.params.get("WorkgroupName"):
        checks.append(RequiredPermission("redshift-serverless:GetCredentials", checks[0].resource))
    return checks


def _redshift_serverless(call: _Call) -> list[RequiredPermission]:
    name = call.params.get("workgroupName")
    if name:
        return [RequiredPermission(f"redshift-serverless:{call.operation}", _workgroup_arn(call, name))]
    return [RequiredPermission(f"redshift-serverless:{call.operation}", "*")]


def _logs(call: _Call) -> list[RequiredPermission]:
    group = call.params.get("logGroupName")
    if not group:
        return [RequiredPermission(f"logs:{call.operation}", "*")]
    stream = call.params.get("logStreamName")
    resource = f"log-group:{group}" + (f":log-stream:{stream}" if stream else "")
    # CloudWatch Logs uses an encrypted group's key as its own service principal, not the caller's.
    return [RequiredPermission(f"logs:{call.operation}", call.arn("logs", resource))]


def _kms(call: _Call) -> list[RequiredPermission]:
    # Decrypt (and ReEncrypt) name the key inside the ciphertext, not in a parameter
    key_id = call.params.get("KeyId") or call.params.get("SourceKeyId") or _ciphertext_key(call.params)
    if not key_id:
        return [RequiredPermission(f"kms:{call.operation}", "*")]
    from moto.kms.models import kms_backends

    try:
        key = kms_backends[call.account][call.region].describe_key(key_id)
    except Exception:
        return [RequiredPermission(f"kms:{call.operation}", "*")]
    return [RequiredPermission(f"kms:{call.operation}", key.arn, kms_key_policy=_json_doc(key.policy) or {})]


def _ciphertext_key(params: dict[str, Any]) -> str | None:
    blob = params.get("CiphertextBlob")
    if not blob:
        return None
    import base64
    import binascii
    import struct

    from moto.kms.utils import _deserialize_ciphertext_blob

    try:
        return _deserialize_ciphertext_blob(base64.b64decode(blob)).key_id
    except (binascii.Error, struct.error, UnicodeDecodeError, ValueError):
        return None  # not a ciphertext this engine produced: KMS itself rejects it


def _cloudwatch(call: _Call) -> list[RequiredPermission]:
    namespace = call.params.get("Namespace")
    context = (("cloudwatch:namespace", namespace),) if namespace else ()
    return [RequiredPermission(f"cloudwatch:{call.operation}", "*", context=context)]


def _sagemaker(call: _Call) -> list[RequiredPermission]:
    name = call.params.get("EndpointName")
    match = re.search(r"/endpoints/([^/]+)/invocations", call.path)
    name = name or (match.group(1) if match else None)
    if not name:
        return [RequiredPermission(f"sagemaker:{call.operation}", "*")]
    return [
        RequiredPermission(f"sagemaker:{call.operation}", call.arn("sagemaker", f"endpoint/{name.lower()}"))
    ]


def _bedrock(call: _Call) -> list[RequiredPermission]:
    """Agent aliases (GetAgentAlias, InvokeAgent) are named by agent id and alias id in the path."""
    match = re.search(r"/agents/([^/]+)/agent[aA]liases/([^/]+)(/sessions/[^/]+/text)?", call.path)
    if not match:
        return [RequiredPermission(f"bedrock:{call.operation}", "*")]
    # bedrock-agent-runtime shares the signing name "bedrock"; moto routes its paths by guesswork
    operation = "InvokeAgent" if match.group(3) else call.operation
    return [
        RequiredPermission(
            f"bedrock:{operation}", call.arn("bedrock", f"agent-alias/{match.group(1)}/{match.group(2)}")
        )
    ]


_RESOLVERS: dict[str, Callable[[_Call], list[RequiredPermission]]] = {
    "dynamodb": _dynamodb,
    "s3": _s3,
    "sns": _sns,
    "sqs": _sqs,
    "kinesis": _kinesis,
    "secretsmanager": _secretsmanager,
    "redshift-data": _redshift_data,
    "redshift-serverless": _redshift_serverless,
    "logs": _logs,
    "kms": _kms,
    "cloudwatch": _cloudwatch,
    "sagemaker": _sagemaker,
    "bedrock": _bedrock,
}
RESOURCE_LEVEL_SERVICES = tuple(sorted(_RESOLVERS))


def checks_for(call: _Call) -> list[RequiredPermission]:
    resolver = _RESOLVERS.get(call.service)
    if resolver is None:  # action-only, as moto does: the resource is "*"
        return [RequiredPermission(f"{call.service}:{call.operation}", call.moto_resource)]
    return resolver(call)


# ---- the hook into moto --------------------------------------------------------------------------


def _request_params(response: Any) -> dict[str, Any]:
    """The request's parameters on any protocol (DynamoDB's response keeps them parsed in .body)."""
    if isinstance(getattr(response, "body", None), dict):
        return dict(response.body)
    body = getattr(response, "body", None)
    if body:
        try:
            parsed = json.loads(body)
            if isinstance(parsed, dict):
                return parsed
        except (TypeError, ValueError):
            pass
    params: dict[str, Any] = {}
    for key, values in (getattr(response, "querystring", None) or {}).items():
        params[key] = values[0] if isinstance(values, list) and len(values) == 1 else values
    return params


def _session_for(headers: Any) -> tuple[str, Session] | None:
    authorization = headers.get("Authorization") or ""
    match = re.search(r"Credential=([A-Z0-9]+)/", authorization)
    if not match or not headers.get("X-Amz-Security-Token"):
        return None
    session = _SESSIONS.get(match.group(1))
    return (match.group(1), session) if session else None


def _deny(
    response: Any, iam_request: Any, session: Session, check: RequiredPermission, verdict: Verdict
) -> Exception:
    message = (
        f"User: {session.session_arn} is not authorized to perform: {check.action} "
        f"on resource: {check.resource} {verdict.reason}"
    )
    if iam_request._service == "s3":
        from moto.s3.exceptions import S3ClientError

        return S3ClientError("AccessDenied", message)
    content_type = str(response.headers.get("Content-Type") or "")
    if "json" in content_type or "cbor" in content_type:
        from moto.core.exceptions import JsonRESTError

        return JsonRESTError("AccessDeniedException", message)
    from moto.core.exceptions import AccessDeniedError

    # AccessDeniedError words it "User: <arn> is not authorized to perform: <action>"
    return AccessDeniedError(
        user_arn=session.session_arn, action=f"{check.action} on resource: {check.resource} {verdict.reason}"
    )


_original_authorize: Callable[..., None] | None = None


def _authorize(self: Any, iam_request_cls: type, resource: str = "*") -> None:
    found = _session_for(self.headers)
    if found is None:
        assert _original_authorize is not None
        _original_authorize(self, iam_request_cls, resource)
        return
    _key_id, session = found
    from urllib.parse import urlparse

    from moto.utilities.utils import get_partition

    path = self.raw_path + (f"?{urlparse(self.uri).query}" if urlparse(self.uri).query else "")
    operation = self._get_action()
    operation = operation[0] if isinstance(operation, list) else operation
    iam_request = iam_request_cls(
        account_id=self.current_account,
        method=self.method,
        path=path,
        data=self.data,
        body=self.raw_body,
        headers=self.headers,
        action=operation,
    )
    # The access key and session token (checked by moto's AssumedRoleAccessKey above) identify the
    # session. The signature is not re-verified: moto's canonical request differs from botocore's
    # for some REST paths (Bedrock Agent's trailing slash), which would fail valid calls.
    region = iam_request._region
    call = _Call(
        service=_IAM_PREFIX.get(iam_request._service, iam_request._service),
        operation=str((self.data or {}).get("Action") or operation)
        if iam_request._service == "s3"
        else str(operation),
        params=_request_params(self),
        account=self.current_account,
        region=region,
        partition=get_partition(region),
        moto_resource=resource,
        headers=self.headers,
        path=str(self.raw_path),
    )
    if call.service == "sts" and call.operation == "GetCallerIdentity":
        return  # always allowed, even under an explicit Deny
    role_name = session.role_arn.rsplit("/", 1)[-1]
    identity = identity_policies_of(role_name, call.account, call.partition)
    principals = (session.role_arn, session.session_arn)
    base_context = {
        "aws:SecureTransport": "true",  # the loopback endpoint stands in for AWS's TLS endpoints
        "aws:PrincipalArn": session.role_arn,
        "aws:PrincipalAccount": call.account,
        "aws:PrincipalType": "AssumedRole",
        "aws:RequestedRegion": region,
    }
    needed_by = ""
    checks = checks_for(call)
    for check in checks:
        context = {**base_context, **dict(check.context)}
        implied = "kms:ViaService" in context
        if not implied:
            needed_by = f"{check.action} on {check.resource}"
        if check.kms_key_policy is not None:
            verdict = evaluate_kms(
                check.action,
                check.resource,
                context,
                identity,
                check.kms_key_policy,
                principals,
                call.account,
            )
            if faults.active("kms"):  # test-only: the key policy is ignored
                verdict = evaluate(check.action, check.resource, context, identity)
        else:
            verdict = evaluate(
                check.action, check.resource, context, identity, check.resource_policy, principals
            )
            if not verdict.allowed and faults.active("iam"):  # test-only: IAM not enforced
                verdict = Verdict(True, "allowed")
        session.ledger.record(
            Decision(
                session.function,
                session.role_arn,
                check.action,
                check.resource,
                verdict.allowed,
                verdict.reason,
                needed_by if implied else "",
            )
        )
        if not verdict.allowed:
            raise _deny(self, iam_request, session, check, verdict)
    _inject_call_fault(self, iam_request, session, checks)


def _inject_call_fault(
    response: Any, iam_request: Any, session: Session, checks: list[RequiredPermission]
) -> None:
    """An allowed call the harness chose to fail (faults.CallFault) fails here, as the service would."""
    for check in checks:
        if "kms:ViaService" in dict(check.context):  # a call the service makes for the caller
            continue
        fault = faults.take(session.function, check.action, check.resource)
        if fault is None:
            continue
        if fault.error == faults.STATEMENT_FAILED:
            faults.hold_statement_failure(fault)  # the statement is accepted, then ends FAILED
            return
        message = f"injected by the smoke run's failure flow: {check.action} on {check.resource}"
        if iam_request._service == "s3":
            from moto.s3.exceptions import S3ClientError

            raise S3ClientError(fault.error, message)
        from moto.core.exceptions import JsonRESTError

        # the platform's dependencies other than S3 (DynamoDB, Kinesis, Redshift, Bedrock) speak JSON
        raise JsonRESTError(fault.error, message)


def install() -> None:
    """Idempotent: route moto's authorisation entry point through `_authorize`."""
    global _original_authorize
    from moto.core.authorization import ActionAuthenticatorMixin

    if _original_authorize is None:
        _original_authorize = ActionAuthenticatorMixin._authenticate_and_authorize_action
        ActionAuthenticatorMixin._authenticate_and_authorize_action = _authorize
