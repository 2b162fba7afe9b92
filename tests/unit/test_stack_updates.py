"""Stack updates on the embedded engine as CloudFormation makes them (moto_ext.stack_lifecycle):
replacement from the provider schemas' create-only properties, the custom-named refusal, exports
in use, UpdateReplacePolicy/DeletionPolicy, rollback, and the change set's Replacement and Details.
Driven through the CloudFormation API under mock_aws, one small template per rule."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from concert_platform.engines import moto_ext

REGION = "us-east-1"


@pytest.fixture(scope="module")
def mocked() -> Iterator[None]:
    moto_ext.register()
    with mock_aws():  # once per module: a new IAM backend loads every managed policy (about 1 s)
        yield


@pytest.fixture
def aws(mocked: None) -> Iterator[Any]:
    from moto.cloudformation.models import cloudformation_backends
    from moto.dynamodb.models import dynamodb_backends
    from moto.kinesis.models import kinesis_backends
    from moto.sqs.models import sqs_backends

    yield lambda service: boto3.client(service, region_name=REGION)
    for backends in (cloudformation_backends, dynamodb_backends, kinesis_backends, sqs_backends):
        backends.reset()


def table(name: str | None = None, key: str = "id", **extra: Any) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "AttributeDefinitions": [{"AttributeName": key, "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": key, "KeyType": "HASH"}],
        "BillingMode": "PAY_PER_REQUEST",
    }
    if name:
        properties["TableName"] = name
    return {"Type": "AWS::DynamoDB::Table", "Properties": properties, **extra}


def template(resources: dict[str, Any], outputs: dict[str, Any] | None = None) -> str:
    return json.dumps({"Resources": resources, **({"Outputs": outputs} if outputs else {})})


def change_set(cfn: Any, stack: str, body: str) -> dict[str, Any]:
    exists = any(s["StackName"] == stack for s in cfn.list_stacks()["StackSummaries"])
    created = cfn.create_change_set(
        StackName=stack,
        ChangeSetName=f"cs{len(cfn.list_change_sets(StackName=stack)['Summaries']) if exists else 0}",
        ChangeSetType="UPDATE" if exists else "CREATE",
        TemplateBody=body,
    )
    return cfn.describe_change_set(ChangeSetName=created["Id"])


def deploy(cfn: Any, stack: str, body: str) -> dict[str, Any]:
    described = change_set(cfn, stack, body)
    cfn.execute_change_set(ChangeSetName=described["ChangeSetId"])
    return described


def status(cfn: Any, stack: str) -> str:
    return cfn.describe_stacks(StackName=stack)["Stacks"][0]["StackStatus"]


def physical(cfn: Any, stack: str, logical_id: str) -> str:
    resources = cfn.describe_stack_resources(StackName=stack)["StackResources"]
    return next(r["PhysicalResourceId"] for r in resources if r["LogicalResourceId"] == logical_id)


def failures(cfn: Any, stack: str) -> list[tuple[str, str]]:
    events = cfn.describe_stack_events(StackName=stack)["StackEvents"]
    return [
        (e["LogicalResourceId"], e.get("ResourceStatusReason") or "")
        for e in events
        if e["ResourceStatus"].endswith("_FAILED") or e["ResourceStatus"] == "UPDATE_ROLLBACK_IN_PROGRESS"
    ]


def tables(aws: Any) -> list[str]:
    return aws("dynamodb").list_tables()["TableNames"]


def test_a_key_schema_change_replaces_a_generated_name_table_and_deletes_the_old_one_at_cleanup(
    aws: Any,
) -> None:
    cfn = aws("cloudformation")
    deploy(cfn, "s", template({"Table": table()}))
    old = physical(cfn, "s", "Table")
    described = change_set(cfn, "s", template({"Table": table(key="pk")}))
    (change,) = [c["ResourceChange"] for c in described["Changes"]]
    assert (change["Action"], change["LogicalResourceId"], change["Replacement"]) == (
        "Modify",
        "Table",
        "True",
    )
    recreation = {d["Target"]["Name"]: d["Target"]["RequiresRecreation"] for d in change["Details"]}
    assert recreation == {"KeySchema": "Always", "AttributeDefinitions": "Never"}
    assert change["PhysicalResourceId"] == old
    cfn.execute_change_set(ChangeSetName=described["ChangeSetId"])
    assert status(cfn, "s") == "UPDATE_COMPLETE"
    new = physical(cfn, "s", "Table")
    assert new != old
    assert tables(aws) == [new]


def test_an_in_place_change_keeps_the_physical_id_and_reports_no_replacement(aws: Any) -> None:
    cfn = aws("cloudformation")
    stream = {"Type": "AWS::Kinesis::Stream", "Properties": {"Name": "s1", "ShardCount": 1}}
    deploy(cfn, "s", template({"Stream": stream}))
    stream["Properties"]["RetentionPeriodHours"] = 48
    described = deploy(cfn, "s", template({"Stream": stream}))
    (change,) = [c["ResourceChange"] for c in described["Changes"]]
    assert change["Replacement"] == "False"
    assert [d["Target"]["Name"] for d in change["Details"]] == ["RetentionPeriodHours"]
    assert status(cfn, "s") == "UPDATE_COMPLETE"
    assert physical(cfn, "s", "Stream") == "s1"


def test_a_custom_named_replacement_fails_with_cloudformations_message_and_rolls_back(aws: Any) -> None:
    cfn = aws("cloudformation")
    deploy(cfn, "s", template({"Table": table("orders")}))
    aws("dynamodb").put_item(TableName="orders", Item={"id": {"S": "kept"}})
    queue = {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "added-then-rolled-back"}}
    deploy(cfn, "s", template({"Table": table("orders", key="pk"), "Queue": queue}))
    assert status(cfn, "s") == "UPDATE_ROLLBACK_COMPLETE"
    assert (
        "Table",
        "CloudFormation cannot update a stack when a custom-named resource requires replacing. "
        "Rename orders and update the stack again.",
    ) in failures(cfn, "s")
    assert aws("dynamodb").scan(TableName="orders")["Count"] == 1
    assert aws("sqs").list_queues().get("QueueUrls", []) == []  # what the update added is gone again


def test_renaming_a_custom_named_resource_replaces_it(aws: Any) -> None:
    cfn = aws("cloudformation")
    deploy(cfn, "s", template({"Table": table("orders")}))
    described = deploy(cfn, "s", template({"Table": table("orders-v2")}))
    assert described["Changes"][0]["ResourceChange"]["Replacement"] == "True"
    assert status(cfn, "s") == "UPDATE_COMPLETE"
    assert tables(aws) == ["orders-v2"]


def test_update_replace_policy_retain_keeps_the_old_resource(aws: Any) -> None:
    cfn = aws("cloudformation")
    deploy(cfn, "s", template({"Table": table(UpdateReplacePolicy="Retain")}))
    old = physical(cfn, "s", "Table")
    deploy(cfn, "s", template({"Table": table(key="pk", UpdateReplacePolicy="Retain")}))
    assert sorted(tables(aws)) == sorted([old, physical(cfn, "s", "Table")])


def test_a_removed_resource_is_deleted_unless_its_deletion_policy_retains_it(aws: Any) -> None:
    cfn = aws("cloudformation")
    deploy(cfn, "s", template({"Kept": table("kept", DeletionPolicy="Retain"), "Gone": table("gone")}))
    described = deploy(cfn, "s", template({"Queue": {"Type": "AWS::SQS::Queue", "Properties": {}}}))
    actions = {
        c["ResourceChange"]["LogicalResourceId"]: c["ResourceChange"]["Action"] for c in described["Changes"]
    }
    assert actions == {"Kept": "Remove", "Gone": "Remove", "Queue": "Add"}
    assert status(cfn, "s") == "UPDATE_COMPLETE"
    assert tables(aws) == ["kept"]


EXPORTER_OUTPUTS = {"Name": {"Value": {"Ref": "Table"}, "Export": {"Name": "shared-table"}}}


def importer() -> str:
    return template(
        {
            "Queue": {
                "Type": "AWS::SQS::Queue",
                "Properties": {"QueueName": {"Fn::Join": ["-", [{"Fn::ImportValue": "shared-table"}, "q"]]}},
            }
        }
    )


def test_an_export_in_use_cannot_change(aws: Any) -> None:
    cfn = aws("cloudformation")
    deploy(cfn, "exporter", template({"Table": table("t1")}, EXPORTER_OUTPUTS))
    deploy(cfn, "importer", importer())
    deploy(cfn, "exporter", template({"Table": table("t2")}, EXPORTER_OUTPUTS))
    assert status(cfn, "exporter") == "UPDATE_ROLLBACK_COMPLETE"
    assert ("exporter", "Export shared-table cannot be updated as it is in use by importer") in failures(
        cfn, "exporter"
    )
    assert tables(aws) == ["t1"]  # the replacement was rolled back, the original kept


def test_an_export_in_use_cannot_disappear(aws: Any) -> None:
    cfn = aws("cloudformation")
    deploy(cfn, "exporter", template({"Table": table("t1")}, EXPORTER_OUTPUTS))
    deploy(cfn, "importer", importer())
    deploy(cfn, "exporter", template({"Table": table("t1")}))
    assert status(cfn, "exporter") == "UPDATE_ROLLBACK_COMPLETE"
    assert ("exporter", "Export shared-table cannot be deleted as it is in use by importer") in failures(
        cfn, "exporter"
    )
    assert cfn.list_exports()["Exports"][0]["Name"] == "shared-table"


def test_a_create_only_value_that_waits_on_a_replacement_is_conditional(aws: Any) -> None:
    cfn = aws("cloudformation")
    follower = {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": {"Fn::Sub": "${Table}-follower"}}}
    deploy(cfn, "s", template({"Table": table(), "Follower": follower}))
    described = deploy(cfn, "s", template({"Table": table(key="pk"), "Follower": follower}))
    changes = {c["ResourceChange"]["LogicalResourceId"]: c["ResourceChange"] for c in described["Changes"]}
    assert changes["Table"]["Replacement"] == "True"
    assert changes["Follower"]["Replacement"] == "Conditional"
    (detail,) = changes["Follower"]["Details"]
    assert detail["Target"]["RequiresRecreation"] == "Conditionally"
    assert (detail["Evaluation"], detail["ChangeSource"]) == ("Dynamic", "ResourceReference")
    assert status(cfn, "s") == "UPDATE_COMPLETE"
    queues = aws("sqs").list_queues()["QueueUrls"]
    assert [q.rsplit("/", 1)[1] for q in queues] == [f"{physical(cfn, 's', 'Table')}-follower"]
