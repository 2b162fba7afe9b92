"""What Lambda itself does as a function's execution role, checked by the embedded engine
(moto_ext.lambda_role) at deploy, with Lambda's own refusals, and at each cold start (`role_gaps`):
one test per check, the role planted without the permission, then with it."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from concert_platform.engines.moto_ext.lambda_role import KMS_DENIED, LOST, role_gaps

ACCOUNT = "123456789012"
REGION = "us-east-1"
TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ],
}
LOGS = {
    "Effect": "Allow",
    "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
    "Resource": "*",
}
_names = iter(range(10_000))


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("index.py", "def handler(event, context):\n    return event\n")
    return buffer.getvalue()


def role(statements: list[dict[str, Any]]) -> str:
    iam = boto3.client("iam", region_name=REGION)
    name = f"role-{next(_names)}"
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(TRUST))["Role"]["Arn"]
    if statements:
        document = {"Version": "2012-10-17", "Statement": statements}
        iam.put_role_policy(RoleName=name, PolicyName="inline", PolicyDocument=json.dumps(document))
    return str(arn)


def create(role_arn: str, **settings: Any) -> dict[str, Any]:
    return dict(
        boto3.client("lambda", region_name=REGION).create_function(
            FunctionName=f"fn-{next(_names)}",
            Runtime="python3.12",
            Role=role_arn,
            Handler="index.handler",
            Code={"ZipFile": _zip()},
            **settings,
        )
    )


def refusal(raised: pytest.ExceptionInfo[ClientError]) -> str:
    assert raised.value.response["Error"]["Code"] == "InvalidParameterValueException"
    return str(raised.value.response["Error"]["Message"])


def gaps_of(config: dict[str, Any]) -> list[Any]:
    latest = boto3.client("lambda", region_name=REGION).get_function_configuration(
        FunctionName=config["FunctionName"]
    )
    return role_gaps(ACCOUNT, REGION, latest, "local/[$LATEST]0")


def vpc_config() -> dict[str, Any]:
    ec2 = boto3.client("ec2", region_name=REGION)
    vpc = ec2.create_vpc(CidrBlock="10.7.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.7.1.0/24")["Subnet"]["SubnetId"]
    group = ec2.create_security_group(GroupName=f"g{next(_names)}", Description="d", VpcId=vpc)["GroupId"]
    return {"SubnetIds": [subnet], "SecurityGroupIds": [group]}


def test_vpc_function_needs_the_eni_actions(aws: None) -> None:
    with pytest.raises(ClientError) as raised:
        create(role([LOGS]), VpcConfig=vpc_config())
    assert refusal(raised) == (
        "The provided execution role does not have permissions to call CreateNetworkInterface on EC2"
    )
    # the first action Lambda checks is granted: it names the next one
    only_create = {"Effect": "Allow", "Action": "ec2:CreateNetworkInterface", "Resource": "*"}
    with pytest.raises(ClientError) as raised:
        create(role([LOGS, only_create]), VpcConfig=vpc_config())
    assert "call DescribeNetworkInterfaces on EC2" in refusal(raised)
    enis = {"Effect": "Allow", "Action": "ec2:*NetworkInterface*", "Resource": "*"}
    assert create(role([LOGS, enis]), VpcConfig=vpc_config())["VpcConfig"]["SubnetIds"]


def test_dead_letter_queue_needs_send_message(aws: None) -> None:
    queue = boto3.client("sqs", region_name=REGION).create_queue(QueueName="dlq")["QueueUrl"]
    queue_arn = boto3.client("sqs", region_name=REGION).get_queue_attributes(
        QueueUrl=queue, AttributeNames=["QueueArn"]
    )["Attributes"]["QueueArn"]
    with pytest.raises(ClientError) as raised:
        create(role([LOGS]), DeadLetterConfig={"TargetArn": queue_arn})
    assert (
        refusal(raised) == "The provided execution role does not have permissions to call SendMessage on SQS"
    )
    # a grant on another queue is not one on this queue
    other = {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": queue_arn + "-other"}
    with pytest.raises(ClientError):
        create(role([LOGS, other]), DeadLetterConfig={"TargetArn": queue_arn})
    send = {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": queue_arn}
    created = create(role([LOGS, send]), DeadLetterConfig={"TargetArn": queue_arn})
    assert gaps_of(created) == []


def test_dead_letter_topic_needs_publish_also_on_update(aws: None) -> None:
    topic = boto3.client("sns", region_name=REGION).create_topic(Name="dead-letters")["TopicArn"]
    created = create(role([LOGS]))
    client = boto3.client("lambda", region_name=REGION)
    with pytest.raises(ClientError) as raised:
        client.update_function_configuration(
            FunctionName=created["FunctionName"], DeadLetterConfig={"TargetArn": topic}
        )
    assert refusal(raised) == "The provided execution role does not have permissions to call Publish on SNS"
    config = client.get_function_configuration(FunctionName=created["FunctionName"])
    assert "DeadLetterConfig" not in config  # refused: nothing changed
    publish = {"Effect": "Allow", "Action": "sns:Publish", "Resource": topic}
    client.update_function_configuration(
        FunctionName=created["FunctionName"],
        Role=role([LOGS, publish]),
        DeadLetterConfig={"TargetArn": topic},
    )
    config = client.get_function_configuration(FunctionName=created["FunctionName"])
    assert config["DeadLetterConfig"] == {"TargetArn": topic}


def test_sqs_event_source_needs_the_receive_actions(aws: None) -> None:
    sqs = boto3.client("sqs", region_name=REGION)
    url = sqs.create_queue(QueueName="events")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    client = boto3.client("lambda", region_name=REGION)
    function = create(role([LOGS]))["FunctionName"]
    with pytest.raises(ClientError) as raised:
        client.create_event_source_mapping(FunctionName=function, EventSourceArn=arn)
    assert (
        refusal(raised)
        == "The provided execution role does not have permissions to call ReceiveMessage on SQS"
    )
    reads = {
        "Effect": "Allow",
        "Action": ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"],
        "Resource": arn,
    }
    function = create(role([LOGS, reads]))["FunctionName"]
    assert client.create_event_source_mapping(FunctionName=function, EventSourceArn=arn)["UUID"]


def test_kinesis_event_source_needs_the_stream_reads(aws: None) -> None:
    kinesis = boto3.client("kinesis", region_name=REGION)
    kinesis.create_stream(StreamName="events", ShardCount=1)
    arn = kinesis.describe_stream(StreamName="events")["StreamDescription"]["StreamARN"]
    client = boto3.client("lambda", region_name=REGION)
    partial = {
        "Effect": "Allow",
        "Action": ["kinesis:GetRecords", "kinesis:GetShardIterator"],
        "Resource": arn,
    }
    function = create(role([LOGS, partial]))["FunctionName"]
    with pytest.raises(ClientError) as raised:
        client.create_event_source_mapping(
            FunctionName=function, EventSourceArn=arn, StartingPosition="TRIM_HORIZON"
        )
    assert refusal(raised) == (
        f"Cannot access stream {arn}. Please ensure the role can perform the GetRecords, "
        "GetShardIterator, DescribeStream, and ListShards Actions on your stream in IAM."
    )
    reads = {
        "Effect": "Allow",
        "Action": ["kinesis:Get*", "kinesis:DescribeStream", "kinesis:ListShards"],
        "Resource": arn,
    }
    created = create(role([LOGS, reads]))
    client.create_event_source_mapping(
        FunctionName=created["FunctionName"], EventSourceArn=arn, StartingPosition="TRIM_HORIZON"
    )
    assert gaps_of(created) == []
    # the role loses the reads after the mapping exists: the next cold start names them
    boto3.client("iam", region_name=REGION).put_role_policy(
        RoleName=created["Role"].rsplit("/", 1)[-1],
        PolicyName="inline",
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [LOGS]}),
    )
    assert {g.action for g in gaps_of(created)} == {
        "kinesis:GetRecords", "kinesis:GetShardIterator", "kinesis:DescribeStream", "kinesis:ListShards"
    }  # fmt: skip


def test_logs_missing_are_a_cold_start_gap_not_a_refusal(aws: None) -> None:
    created = create(role([]))  # AWS creates it: the logs just go missing
    name = created["FunctionName"]
    gaps = gaps_of(created)
    assert [(g.action, g.error_type) for g in gaps] == [
        ("logs:CreateLogGroup", LOST),
        ("logs:CreateLogStream", LOST),
        ("logs:PutLogEvents", LOST),
    ]
    group = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/{name}"
    assert gaps[2].resource == f"{group}:log-stream:local/[$LATEST]0"
    assert (
        gaps[2]
        .describe()
        .startswith(f"{name}: Lambda cannot write the function's logs as its execution role")
    )
    # with the log group deployed, Lambda no longer creates it: only the stream writes are needed
    boto3.client("logs", region_name=REGION).create_log_group(logGroupName=f"/aws/lambda/{name}")
    assert [g.action for g in gaps_of(created)] == ["logs:CreateLogStream", "logs:PutLogEvents"]
    # scoped to another function's group, the grant does not cover this one
    other = {**LOGS, "Resource": f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/other:*"}
    assert len(gaps_of(create(role([other])))) == 3
    own = {**LOGS, "Resource": f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/fn-*:*"}
    assert gaps_of(create(role([own]))) == []


def test_active_tracing_needs_the_xray_writes(aws: None) -> None:
    created = create(role([LOGS]), TracingConfig={"Mode": "Active"})
    assert [(g.action, g.error_type) for g in gaps_of(created)] == [
        ("xray:PutTraceSegments", LOST),
        ("xray:PutTelemetryRecords", LOST),
    ]
    xray = {
        "Effect": "Allow",
        "Action": ["xray:PutTraceSegments", "xray:PutTelemetryRecords"],
        "Resource": "*",
    }
    assert gaps_of(create(role([LOGS, xray]), TracingConfig={"Mode": "Active"})) == []
    assert gaps_of(create(role([LOGS]), TracingConfig={"Mode": "PassThrough"})) == []


def test_encrypted_environment_fails_only_where_the_decrypt_is_denied(aws: None) -> None:
    kms = boto3.client("kms", region_name=REGION)
    denied_arn = role([LOGS])
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                "Action": "kms:*",
                "Resource": "*",
            },
            {"Effect": "Deny", "Principal": {"AWS": denied_arn}, "Action": "kms:Decrypt", "Resource": "*"},
        ],
    }
    key = kms.create_key(Policy=json.dumps(policy))["KeyMetadata"]["Arn"]
    environment = {"Variables": {"TABLE": "t"}}
    created = create(denied_arn, KMSKeyArn=key, Environment=environment)
    assert [(g.action, g.resource, g.error_type) for g in gaps_of(created)] == [
        ("kms:Decrypt", key, KMS_DENIED)
    ]
    assert gaps_of(created)[0].message.startswith(
        "Lambda was unable to decrypt the environment variables because KMS access was denied."
    )
    # Lambda decrypts through the grant it creates for the role: no identity policy is needed
    assert gaps_of(create(role([LOGS]), KMSKeyArn=key, Environment=environment)) == []
    # nothing to decrypt without variables
    assert gaps_of(create(denied_arn, KMSKeyArn=key)) == []
