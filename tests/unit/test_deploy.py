"""The deploy tool's change-set logic, failure reporting and teardown, against moto."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest
import yaml
from moto import mock_aws

from concert_platform.deploy import StackOperator, empty_bucket_versions
from concert_platform.engines.base import Engine
from concert_platform.engines.moto_ext import stack_lifecycle
from concert_platform.errors import DeployError
from concert_platform.manifest import load_manifest

BASE = {
    "Parameters": {"Environment": {"Type": "String"}},
    "Resources": {
        "DataBucket": {
            "Type": "AWS::S3::Bucket",
            "Properties": {
                "BucketName": {"Fn::Sub": "mini-data-${Environment}"},
                "VersioningConfiguration": {"Status": "Enabled"},
            },
        }
    },
    "Outputs": {
        "BucketName": {
            "Value": {"Ref": "DataBucket"},
            "Export": {"Name": {"Fn::Sub": "${AWS::StackName}-BucketName"}},
        }
    },
}
APP = {
    "Parameters": {
        "Environment": {"Type": "String"},
        "BaseStackName": {"Type": "String"},
        "Greeting": {"Type": "String"},
    },
    "Resources": {
        "Queue": {
            "Type": "AWS::SQS::Queue",
            "Properties": {"QueueName": {"Fn::Sub": "mini-${Environment}-${Greeting}"}},
        },
        "Table": {
            "Type": "AWS::DynamoDB::Table",
            "Properties": {
                "TableName": {
                    "Fn::Join": ["-", [{"Fn::ImportValue": {"Fn::Sub": "${BaseStackName}-BucketName"}}, "t"]]
                },
                "BillingMode": "PAY_PER_REQUEST",
                "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
                "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
            },
        },
    },
    "Outputs": {"QueueUrl": {"Value": {"Ref": "Queue"}}},
}
MANIFEST = {
    "name_pattern": "mini-{key}-{environment}",
    "inputs": {"greeting": {"env": "GREETING", "default": "hello"}},
    "artifacts": {"artifact_bucket_output": {"stack": "base", "output": "BucketName"}},
    "stacks": [
        {"key": "base", "template": "01-base.yaml", "parameters": {"Environment": {"environment": True}}},
        {
            "key": "app",
            "template": "02-app.yaml",
            "parameters": {
                "Environment": {"environment": True},
                "BaseStackName": {"stack": "base"},
                "Greeting": {"input": "greeting"},
            },
        },
    ],
}


class MotoEngine(Engine):
    name = "embedded"

    def _make_session(self) -> boto3.session.Session:
        return boto3.session.Session(
            aws_access_key_id="testing", aws_secret_access_key="testing", region_name=self.region
        )


def write_project(root: Path, app: dict | None = None) -> None:
    (root / "templates").mkdir(exist_ok=True)
    (root / "stacks.yaml").write_text(yaml.safe_dump(MANIFEST))
    (root / "templates" / "01-base.yaml").write_text(json.dumps(BASE))
    (root / "templates" / "02-app.yaml").write_text(json.dumps(app or APP))


@pytest.fixture
def project(tmp_path: Path):
    stack_lifecycle.apply()
    write_project(tmp_path)
    with mock_aws():
        yield tmp_path


def operator(root: Path, confirm=None, environment: str = "dev") -> StackOperator:
    from concert_platform.manifest import _load

    _load.cache_clear()
    return StackOperator(
        MotoEngine("us-east-1"), load_manifest(root), environment, confirm=confirm, poll_seconds=0
    )


def test_create_then_redeploy_reports_no_changes(project: Path) -> None:
    op = operator(project)
    first = op.deploy(op.manifest.stacks, {"greeting": "hi"})
    assert [r.status for r in first] == ["created", "created"]
    assert first[0].outputs == {"BucketName": "mini-data-dev"}
    second = op.deploy(op.manifest.stacks, {"greeting": "hi"})
    assert [r.status for r in second] == ["no changes", "no changes"]


def test_parameter_change_updates_only_that_stack(project: Path) -> None:
    op = operator(project)
    op.deploy(op.manifest.stacks, {"greeting": "hi"})
    results = op.deploy(op.manifest.stacks, {"greeting": "bye"})
    assert [r.status for r in results] == ["no changes", "updated"]
    parameters = {p["ParameterKey"]: p["ParameterValue"] for p in op.describe("mini-app-dev")["Parameters"]}
    assert parameters["Greeting"] == "bye"


def test_failing_resource_names_stack_resource_and_reason_and_rolls_back(project: Path) -> None:
    broken = json.loads(json.dumps(APP))
    broken["Resources"]["Fn"] = {
        "Type": "AWS::Lambda::Function",
        "DependsOn": "Queue",
        "Properties": {
            "FunctionName": "mini-fn",
            "Runtime": "python3.12",
            "Handler": "app.handler",
            "Role": "arn:aws:iam::123456789012:role/none",
            "Code": {"S3Bucket": "no-such-bucket", "S3Key": "code.zip"},
        },
    }
    write_project(project, broken)
    op = operator(project)
    with pytest.raises(DeployError) as raised:
        op.deploy(op.manifest.stacks, {"greeting": "hi"})
    message = str(raised.value)
    assert "mini-app-dev" in message and "Fn (AWS::Lambda::Function)" in message and "NoSuchBucket" in message
    assert op.describe("mini-app-dev")["StackStatus"] == "ROLLBACK_COMPLETE"
    # the rollback removed what the failed creation had made
    assert boto3.client("sqs", region_name="us-east-1").list_queues().get("QueueUrls", []) == []


def test_rollback_complete_is_replaced_only_with_confirmation(project: Path) -> None:
    broken = json.loads(json.dumps(APP))
    broken["Resources"]["Queue"]["Properties"]["RedrivePolicy"] = {
        "deadLetterTargetArn": "arn:aws:sqs:us-east-1:123456789012:none",
        "maxReceiveCount": 1,
    }
    write_project(project, broken)
    op = operator(project)
    with pytest.raises(DeployError):
        op.deploy(op.manifest.stacks, {"greeting": "hi"})
    write_project(project)
    refused = operator(project, confirm=lambda _q: False)
    with pytest.raises(DeployError, match=r"ROLLBACK_COMPLETE.*--yes"):
        refused.deploy(refused.manifest.stacks, {"greeting": "hi"})
    accepted = operator(project, confirm=lambda _q: True)
    results = accepted.deploy(accepted.manifest.stacks, {"greeting": "hi"})
    assert [r.status for r in results] == ["no changes", "replaced"]


def test_destroy_empties_versioned_buckets_and_removes_everything(project: Path) -> None:
    op = operator(project)
    op.deploy(op.manifest.stacks, {"greeting": "hi"})
    s3 = boto3.client("s3", region_name="us-east-1")
    for body in (b"1", b"2"):
        s3.put_object(Bucket="mini-data-dev", Key="data.json", Body=body)
    s3.delete_object(Bucket="mini-data-dev", Key="data.json")  # leaves a delete marker
    results = op.destroy(op.manifest.stacks)
    assert [r.status for r in results] == ["deleted", "deleted"]
    assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == []
    assert boto3.client("dynamodb", region_name="us-east-1").list_tables()["TableNames"] == []
    assert op.existing() == {}


def test_empty_bucket_versions_removes_versions_and_delete_markers(project: Path) -> None:
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="versions")
    s3.put_bucket_versioning(Bucket="versions", VersioningConfiguration={"Status": "Enabled"})
    for index in range(5):
        s3.put_object(Bucket="versions", Key=f"k{index % 2}", Body=str(index).encode())
    s3.delete_object(Bucket="versions", Key="k0")
    assert empty_bucket_versions(s3, "versions") == 6
    listing = s3.list_object_versions(Bucket="versions")
    assert not listing.get("Versions") and not listing.get("DeleteMarkers")
    s3.delete_bucket(Bucket="versions")


def test_two_environments_are_isolated(project: Path) -> None:
    dev, pr = operator(project, environment="dev"), operator(project, environment="pr-1")
    dev.deploy(dev.manifest.stacks, {"greeting": "hi"})
    pr.deploy(pr.manifest.stacks, {"greeting": "hi"})
    pr.destroy(pr.manifest.stacks)
    assert set(dev.existing()) == {"base", "app"} and pr.existing() == {}
