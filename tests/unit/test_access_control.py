"""The embedded engine's IAM enforcement, through real SigV4 requests signed with a function role's
assumed-role keys: allowed, denied by action, denied by resource ARN, denied by a missing KMS
grant, allowed by a resource policy; plus the policy-language details the templates rely on."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from concert_platform.engines.embedded import EmbeddedEngine
from concert_platform.engines.moto_ext.access_control import (
    condition_holds,
    evaluate,
    evaluate_kms,
)
from concert_platform.execution_roles import function_credentials, iam_section, summary_lines

ACCOUNT = "123456789012"
REGION = "us-east-1"
TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ],
}


ROLES: dict[str, str] = {}  # function name -> its role ARN


@pytest.fixture(scope="module")
def engine() -> Iterator[Any]:
    with EmbeddedEngine(REGION) as running:
        yield running


_counter = iter(range(10_000))


def function_as(
    engine: Any, statements: list[dict[str, Any]], managed: list[str] = ()
) -> tuple[str, boto3.session.Session]:  # type: ignore[assignment]
    """A role with these inline statements (and managed policies), and a session signed as it."""
    name = f"fn-{next(_counter)}"
    iam = engine.client("iam")
    role = iam.create_role(RoleName=f"{name}-role", AssumeRolePolicyDocument=json.dumps(TRUST))["Role"]
    if statements:
        iam.put_role_policy(
            RoleName=role["RoleName"],
            PolicyName="inline",
            PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": statements}),
        )
    for arn in managed:
        iam.attach_role_policy(RoleName=role["RoleName"], PolicyArn=arn)
    ROLES[name] = role["Arn"]
    env = function_credentials(engine, {"FunctionName": name, "Role": role["Arn"]})
    session = boto3.session.Session(
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
        aws_session_token=env["AWS_SESSION_TOKEN"],
        region_name=REGION,
    )
    return name, session


def table(engine: Any, name: str, kms_key: str | None = None) -> str:
    request: dict[str, Any] = {
        "TableName": name,
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
        "BillingMode": "PAY_PER_REQUEST",
    }
    if kms_key:
        request["SSESpecification"] = {"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": kms_key}
    return str(engine.client("dynamodb").create_table(**request)["TableDescription"]["TableArn"])


def put(session: boto3.session.Session, engine: Any, table_name: str) -> None:
    session.client("dynamodb", endpoint_url=engine.endpoint_url).put_item(
        TableName=table_name, Item={"pk": {"S": "1"}}
    )


def denial(error: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    return error.value.response["Error"]["Code"], error.value.response["Error"]["Message"]


def test_allowed_by_action_and_resource(engine: Any) -> None:
    arn = table(engine, "allowed-table")
    _name, session = function_as(engine, [{"Effect": "Allow", "Action": "dynamodb:PutItem", "Resource": arn}])
    put(session, engine, "allowed-table")
    assert engine.client("dynamodb").get_item(TableName="allowed-table", Key={"pk": {"S": "1"}})["Item"]


def test_denied_by_action(engine: Any) -> None:
    arn = table(engine, "read-only-table")
    name, session = function_as(engine, [{"Effect": "Allow", "Action": "dynamodb:GetItem", "Resource": arn}])
    with pytest.raises(ClientError) as error:
        put(session, engine, "read-only-table")
    code, message = denial(error)
    assert code == "AccessDeniedException"
    assert f"assumed-role/{name}-role/{name} is not authorized to perform: dynamodb:PutItem" in message
    assert f"on resource: {arn}" in message
    assert "no identity-based policy allows" in message
    assert "Item" not in engine.client("dynamodb").get_item(
        TableName="read-only-table", Key={"pk": {"S": "1"}}
    )


def test_denied_by_resource_arn(engine: Any) -> None:
    granted = table(engine, "granted-table")
    other = table(engine, "other-table")
    name, session = function_as(
        engine, [{"Effect": "Allow", "Action": "dynamodb:PutItem", "Resource": granted}]
    )
    put(session, engine, "granted-table")
    with pytest.raises(ClientError) as error:
        put(session, engine, "other-table")
    assert f"dynamodb:PutItem on resource: {other}" in denial(error)[1]
    section = iam_section(engine)
    assert {
        "function": name,
        "role": ROLES[name],
        "action": "dynamodb:PutItem",
        "resource": other,
    }.items() <= next(d for d in section["denied"] if d["function"] == name).items()


def test_denied_by_a_missing_kms_grant(engine: Any) -> None:
    kms = engine.client("kms")
    key = kms.create_key(Description="table key")["KeyMetadata"]
    kms.put_key_policy(
        KeyId=key["KeyId"],
        PolicyName="default",
        Policy=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                        "Action": "kms:*",
                        "Resource": "*",
                    }
                ],
            }
        ),
    )
    arn = table(engine, "encrypted-table", kms_key=key["Arn"])
    name, session = function_as(engine, [{"Effect": "Allow", "Action": "dynamodb:PutItem", "Resource": arn}])
    with pytest.raises(ClientError) as error:
        put(session, engine, "encrypted-table")
    code, message = denial(error)
    assert code == "AccessDeniedException"
    assert f"kms:Decrypt on resource: {key['Arn']}" in message
    entry = next(d for d in iam_section(engine)["denied"] if d["function"] == name)
    assert entry["needed_by"] == f"dynamodb:PutItem on {arn}"
    assert any(f"needed by dynamodb:PutItem on {arn}" in line for line in summary_lines(iam_section(engine)))
    # with the KMS action on that key (delegated to IAM by the key policy) the same write succeeds
    _, granted = function_as(
        engine,
        [
            {"Effect": "Allow", "Action": "dynamodb:PutItem", "Resource": arn},
            {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": key["Arn"]},
        ],
    )
    put(granted, engine, "encrypted-table")


def test_allowed_by_a_resource_policy(engine: Any) -> None:
    sns = engine.client("sns")
    topic = sns.create_topic(Name="alerts-with-policy")["TopicArn"]
    name, session = function_as(engine, [])
    role_arn = ROLES[name]
    publisher = session.client("sns", endpoint_url=engine.endpoint_url)
    with pytest.raises(ClientError) as error:
        publisher.publish(TopicArn=topic, Message="before")
    assert denial(error)[0] == "AccessDenied"
    sns.set_topic_attributes(
        TopicArn=topic,
        AttributeName="Policy",
        AttributeValue=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"AWS": role_arn},
                        "Action": "sns:Publish",
                        "Resource": topic,
                    }
                ],
            }
        ),
    )
    assert publisher.publish(TopicArn=topic, Message="after")["MessageId"]


def test_bucket_policies_tls_only_deny_does_not_apply_and_an_explicit_deny_wins(engine: Any) -> None:
    s3 = engine.client("s3")
    s3.create_bucket(Bucket="policy-bucket")
    s3.put_object(Bucket="policy-bucket", Key="reference/a.json", Body=b"[]")
    s3.put_object(Bucket="policy-bucket", Key="secret/b.json", Body=b"[]")
    bucket = "arn:aws:s3:::policy-bucket"
    name, session = function_as(
        engine, [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"{bucket}/*"}]
    )
    statements = [
        {  # the templates' TLS-only statement: the loopback endpoint counts as TLS
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": [bucket, f"{bucket}/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        },
        {  # (moto's own pre-check applies a statement naming one principal to every caller)
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:GetObject",
            "Resource": f"{bucket}/secret/*",
            "Condition": {"ArnEquals": {"aws:PrincipalArn": ROLES[name]}},
        },
    ]
    s3.put_bucket_policy(
        Bucket="policy-bucket", Policy=json.dumps({"Version": "2012-10-17", "Statement": statements})
    )
    reader = session.client("s3", endpoint_url=engine.endpoint_url)
    assert reader.get_object(Bucket="policy-bucket", Key="reference/a.json")["Body"].read() == b"[]"
    with pytest.raises(ClientError) as error:
        reader.get_object(Bucket="policy-bucket", Key="secret/b.json")
    code, message = denial(error)
    assert code == "AccessDenied"
    assert (
        f"s3:GetObject on resource: {bucket}/secret/b.json with an explicit deny in a resource-based policy"
        in message
    )


def test_aws_managed_policies_count_and_the_tools_own_traffic_is_not_enforced(engine: Any) -> None:
    _name, session = function_as(engine, [], managed=["arn:aws:iam::aws:policy/AmazonDynamoDBReadOnlyAccess"])
    table(engine, "managed-read-table")
    client = session.client("dynamodb", endpoint_url=engine.endpoint_url)
    assert client.describe_table(TableName="managed-read-table")["Table"]["TableStatus"]
    with pytest.raises(ClientError):
        put(session, engine, "managed-read-table")
    # the tool's own (test-key) session is unrestricted
    engine.client("dynamodb").put_item(TableName="managed-read-table", Item={"pk": {"S": "1"}})


def test_unused_grants_are_reported_per_role(engine: Any) -> None:
    arn = table(engine, "unused-table")
    name, session = function_as(
        engine,
        [{"Effect": "Allow", "Action": ["dynamodb:PutItem", "dynamodb:Scan", "s3:Get*"], "Resource": arn}],
    )
    put(session, engine, "unused-table")
    section = iam_section(engine)
    entry = next(u for u in section["unused"] if u["functions"] == [name])
    assert entry["actions"] == ["dynamodb:Scan", "s3:Get*"]


def test_a_template_condition_scopes_put_metric_data_to_its_namespace(engine: Any) -> None:
    metrics = {
        "Effect": "Allow",
        "Action": "cloudwatch:PutMetricData",
        "Resource": "*",
        "Condition": {"StringLike": {"cloudwatch:namespace": "ConcertPlatform*"}},
    }
    _, session = function_as(engine, [metrics])
    cloudwatch = session.client("cloudwatch", endpoint_url=engine.endpoint_url)
    datum = [{"MetricName": "Turns", "Value": 1.0}]
    cloudwatch.put_metric_data(Namespace="ConcertPlatform/Chatbot", MetricData=datum)
    with pytest.raises(ClientError) as error:
        cloudwatch.put_metric_data(Namespace="SomeoneElse", MetricData=datum)
    assert "cloudwatch:PutMetricData" in denial(error)[1]


# ---- the policy language ----------------------------------------------------------------------


def test_condition_operators_the_templates_use() -> None:
    namespace = {"StringLike": {"cloudwatch:namespace": "ConcertPlatform*"}}
    assert condition_holds(namespace, {"cloudwatch:namespace": "ConcertPlatform/Chatbot"})
    assert not condition_holds(namespace, {"cloudwatch:namespace": "Other"})
    assert not condition_holds(namespace, {})  # a missing key fails a positive operator
    tls_only = {"Bool": {"aws:SecureTransport": "false"}}
    assert not condition_holds(tls_only, {"aws:SecureTransport": "true"})
    assert condition_holds({"StringNotEquals": {"aws:SourceAccount": "1"}}, {})
    assert condition_holds({"StringEqualsIfExists": {"aws:SourceAccount": "1"}}, {})
    assert not condition_holds({"SomeFutureOperator": {"k": "v"}}, {"k": "v"})


def test_explicit_deny_wins_and_not_resource() -> None:
    allow_all = {"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
    deny_bucket = {
        "Statement": [
            {"Effect": "Deny", "Action": "s3:*", "NotResource": "arn:aws:s3:::public/*"},
        ]
    }
    assert evaluate("s3:GetObject", "arn:aws:s3:::public/a", {}, [allow_all, deny_bucket]).allowed
    verdict = evaluate("s3:GetObject", "arn:aws:s3:::private/a", {}, [allow_all, deny_bucket])
    assert not verdict.allowed and "explicit deny" in verdict.reason


def test_a_key_policy_without_the_account_ignores_iam_policies() -> None:
    identity = [{"Statement": [{"Effect": "Allow", "Action": "kms:*", "Resource": "*"}]}]
    only_logs = {
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "logs.amazonaws.com"},
                "Action": "kms:*",
                "Resource": "*",
            }
        ]
    }
    key = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1"
    assert not evaluate_kms(
        "kms:Decrypt", key, {}, identity, only_logs, ["arn:aws:iam::1:role/r"], ACCOUNT
    ).allowed


def _rendered_statements(template: str, role: str) -> list[dict[str, Any]]:
    """A role's inline statements with pseudo-parameter-only `!Sub` resources rendered; resources
    that need other stacks' outputs are left out."""
    from concert_platform.manifest import load_cfn_yaml

    root = Path(__file__).resolve().parents[2]
    properties = load_cfn_yaml((root / "templates" / template).read_text())["Resources"][role]["Properties"]
    pseudo = {"${AWS::Partition}": "aws", "${AWS::Region}": REGION, "${AWS::AccountId}": ACCOUNT}
    statements = []
    for policy in properties.get("Policies", []):
        for statement in policy["PolicyDocument"]["Statement"]:
            resources = []
            for resource in (
                statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
            ):
                text = resource.get("Fn::Sub") if isinstance(resource, dict) else resource
                if isinstance(text, str) and "${" not in text.replace("${AWS::", ""):
                    for name, value in pseudo.items():
                        text = text.replace(name, value)
                    resources.append(text)
            statements.append({**statement, "Resource": resources})
    return statements


@pytest.mark.parametrize("action", ["bedrock:InvokeAgent", "bedrock:GetAgentAlias"])
def test_the_lambda_role_grants_the_bedrock_calls_the_handlers_make(action: str) -> None:
    """The chatbot invokes the agent alias; the health check reads it (GetAgentAlias)."""
    statements = _rendered_statements("03-compute-application.yaml", "LambdaExecutionRole")
    alias = f"arn:aws:bedrock:{REGION}:{ACCOUNT}:agent-alias/AGENT1234/ALIAS5678"
    assert evaluate(action, alias, {}, [{"Statement": statements}]).allowed


def test_model_endpoints_are_authorised_by_endpoint_arn(engine: Any) -> None:
    endpoints = {
        "Effect": "Allow",
        "Action": ["sagemaker:DescribeEndpoint"],
        "Resource": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:endpoint/concert-*",
    }
    _, session = function_as(engine, [endpoints])
    sagemaker = session.client("sagemaker", endpoint_url=engine.endpoint_url)
    with pytest.raises(ClientError) as missing:
        sagemaker.describe_endpoint(EndpointName="concert-tickets")
    assert missing.value.response["Error"]["Code"] == "ValidationException"  # allowed, then not found
    with pytest.raises(ClientError) as error:
        sagemaker.describe_endpoint(EndpointName="someone-elses")
    assert "endpoint/someone-elses because no identity-based policy" in denial(error)[1]


def test_a_denial_fails_the_run_and_every_report_names_it() -> None:
    from concert_platform.e2e import collect_failures
    from concert_platform.execution_roles import junit_cases, markdown_lines

    denied = {
        "function": "concert-api-chatbot-x",
        "role": "arn:aws:iam::123456789012:role/concert-lambda-execution-x-us-east-1",
        "action": "dynamodb:UpdateItem",
        "resource": "arn:aws:dynamodb:us-east-1:123456789012:table/concert-session-state-x",
        "reason": "because no identity-based policy allows the dynamodb:UpdateItem action",
    }
    unused = {"role": denied["role"], "functions": [denied["function"]], "actions": ["kinesis:PutRecord"]}
    section = {"enforced": True, "denied": [denied], "unused": [unused]}
    from tests.unit.test_e2e_verdict import passing_report

    report = {**passing_report(), "iam": section}
    failures = collect_failures(report)
    assert [f["phase"] for f in failures] == ["iam"]
    assert denied["action"] in failures[0]["reason"] and denied["role"] in failures[0]["reason"]
    assert collect_failures({**report, "iam": {**section, "denied": []}}) == []  # unused grants do not fail
    for text in (
        "\n".join(summary_lines(section)),
        "\n".join(markdown_lines(section)),
        "\n".join(f"{name} {failure}" for name, failure in junit_cases(section)),
    ):
        for value in ("function", "role", "action", "resource"):
            assert denied[value] in text
    assert "kinesis:PutRecord" in "\n".join(markdown_lines(section))
    assert junit_cases({"enforced": False, "denied": [], "unused": []}) == []
