"""The extension's services and Lambda executor, against a running LocalStack.

Start LocalStack with the settings docs/localstack.md lists (PROVIDER_OVERRIDE_DYNAMODB=concert,
PROVIDER_OVERRIDE_KINESIS=concert, LAMBDA_RUNTIME_EXECUTOR=concert) and set
CONCERT_LOCALSTACK_URL; without it these tests are skipped, saying so. Each test makes the calls
the platform's templates and handlers make, with names of its own."""

from __future__ import annotations

import base64
import io
import json
import os
import time
import urllib.request
import uuid
import zipfile
from typing import Any

import pytest

URL = os.environ.get("CONCERT_LOCALSTACK_URL", "")
SUFFIX = uuid.uuid4().hex[:8]


@pytest.fixture(scope="module")
def client() -> Any:
    if not URL:
        pytest.skip("CONCERT_LOCALSTACK_URL is not set: no LocalStack with the extension to test against")
    boto3 = pytest.importorskip("boto3")
    try:
        urllib.request.urlopen(f"{URL}/_localstack/health", timeout=5).close()  # noqa: S310 - loopback
    except OSError as exc:
        pytest.fail(f"CONCERT_LOCALSTACK_URL={URL} does not answer: {exc}")
    session = boto3.session.Session(
        aws_access_key_id="test",
        aws_secret_access_key="test",  # noqa: S106 - LocalStack's own test credentials
        region_name="us-east-1",
    )
    from botocore.config import Config

    config = Config(retries={"max_attempts": 1})
    return lambda service: session.client(service, endpoint_url=URL, config=config)


def test_cloudtrail_trail_on_a_localstack_bucket(client: Any) -> None:
    bucket = f"trail-{SUFFIX}"
    client("s3").create_bucket(Bucket=bucket)
    trails = client("cloudtrail")
    name = f"trail-{SUFFIX}"
    # moto checked the bucket in its own S3, which LocalStack's S3 is not: this failed before.
    arn = trails.create_trail(Name=name, S3BucketName=bucket, IsMultiRegionTrail=True)["TrailARN"]
    trails.start_logging(Name=name)
    assert trails.get_trail_status(Name=name)["IsLogging"] is True
    assert arn in [t["TrailARN"] for t in trails.describe_trails()["trailList"]]
    with pytest.raises(trails.exceptions.S3BucketDoesNotExistException):
        trails.create_trail(Name=f"nobucket-{SUFFIX}", S3BucketName=f"absent-{SUFFIX}")
    trails.delete_trail(Name=name)
    assert name not in [t["Name"] for t in trails.describe_trails()["trailList"]]


def test_glue_database(client: Any) -> None:
    glue = client("glue")
    name = f"concert_{SUFFIX}"
    glue.create_database(DatabaseInput={"Name": name, "Description": "analytics"})
    assert glue.get_database(Name=name)["Database"]["Description"] == "analytics"
    glue.delete_database(Name=name)
    with pytest.raises(glue.exceptions.EntityNotFoundException):
        glue.get_database(Name=name)


def test_xray_groups_and_sampling_rules(client: Any) -> None:
    xray = client("xray")
    group = f"g-{SUFFIX}"
    xray.create_group(GroupName=group, FilterExpression='service("api")')
    assert xray.get_group(GroupName=group)["Group"]["FilterExpression"] == 'service("api")'
    rule = {
        "RuleName": f"r-{SUFFIX}", "ResourceARN": "*", "Priority": 10, "FixedRate": 0.05,
        "ReservoirSize": 1, "ServiceName": "*", "ServiceType": "*", "Host": "*",
        "HTTPMethod": "*", "URLPath": "*", "Version": 1,
    }  # fmt: skip
    xray.create_sampling_rule(SamplingRule=rule)
    names = [r["SamplingRule"]["RuleName"] for r in xray.get_sampling_rules()["SamplingRuleRecords"]]
    assert rule["RuleName"] in names
    # CloudFormation updates both in place
    arn = xray.get_group(GroupName=group)["Group"]["GroupARN"]
    updated = xray.update_group(GroupARN=arn, FilterExpression='service("web")')["Group"]
    assert updated["FilterExpression"] == 'service("web")'
    assert xray.get_group(GroupName=group)["Group"]["FilterExpression"] == 'service("web")'
    xray.update_sampling_rule(
        SamplingRuleUpdate={"RuleName": rule["RuleName"], "FixedRate": 0.5, "Priority": 5}
    )
    record = next(
        r
        for r in xray.get_sampling_rules()["SamplingRuleRecords"]
        if r["SamplingRule"]["RuleName"] == rule["RuleName"]
    )
    assert (record["SamplingRule"]["FixedRate"], record["SamplingRule"]["Priority"]) == (0.5, 5)
    with pytest.raises(xray.exceptions.InvalidRequestException):
        xray.update_sampling_rule(SamplingRuleUpdate={"RuleName": f"absent-{SUFFIX}", "FixedRate": 0.1})
    xray.delete_sampling_rule(RuleName=rule["RuleName"])
    xray.delete_group(GroupName=group)
    assert group not in [g["GroupName"] for g in xray.get_groups()["Groups"]]


def test_application_autoscaling_on_a_dynamodb_table(client: Any) -> None:
    table = f"aas-{SUFFIX}"
    client("dynamodb").create_table(
        TableName=table,
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 5},
    )
    scaling = client("application-autoscaling")
    target = {"ServiceNamespace": "dynamodb", "ResourceId": f"table/{table}",
              "ScalableDimension": "dynamodb:table:ReadCapacityUnits"}  # fmt: skip
    scaling.register_scalable_target(**target, MinCapacity=5, MaxCapacity=50)
    scaling.put_scaling_policy(
        PolicyName=f"p-{SUFFIX}", PolicyType="TargetTrackingScaling", **target,
        TargetTrackingScalingPolicyConfiguration={
            "TargetValue": 70.0,
            "PredefinedMetricSpecification": {"PredefinedMetricType": "DynamoDBReadCapacityUtilization"},
        },
    )  # fmt: skip
    found = scaling.describe_scalable_targets(ServiceNamespace="dynamodb", ResourceIds=[f"table/{table}"])
    assert [(t["MinCapacity"], t["MaxCapacity"]) for t in found["ScalableTargets"]] == [(5, 50)]
    policies = scaling.describe_scaling_policies(ServiceNamespace="dynamodb", ResourceId=f"table/{table}")
    assert [p["PolicyName"] for p in policies["ScalingPolicies"]] == [f"p-{SUFFIX}"]
    scaling.delete_scaling_policy(PolicyName=f"p-{SUFFIX}", **target)
    scaling.deregister_scalable_target(**target)


def _run(data: Any, workgroup: str, secret: str, sql: str, **extra: Any) -> dict[str, Any]:
    statement = data.execute_statement(
        WorkgroupName=workgroup, Database="concert", SecretArn=secret, Sql=sql, **extra
    )
    for _ in range(200):
        described: dict[str, Any] = data.describe_statement(Id=statement["Id"])
        if described["Status"] in ("FINISHED", "FAILED", "ABORTED"):
            return described
        time.sleep(0.05)
    raise AssertionError(f"statement {sql!r} did not finish")


def test_redshift_serverless_and_the_data_api_on_duckdb(client: Any) -> None:
    serverless = client("redshift-serverless")
    namespace, workgroup = f"ns-{SUFFIX}", f"wg-{SUFFIX}"
    serverless.create_namespace(namespaceName=namespace, dbName="concert", adminUsername="admin")
    serverless.create_workgroup(workgroupName=workgroup, namespaceName=namespace, baseCapacity=8)
    assert serverless.get_workgroup(workgroupName=workgroup)["workgroup"]["status"] == "AVAILABLE"
    secret = client("secretsmanager").create_secret(Name=f"rs-{SUFFIX}", SecretString='{"username":"admin"}')[
        "ARN"
    ]
    data = client("redshift-data")
    assert (
        _run(data, workgroup, secret, "CREATE TABLE sales (artist VARCHAR(64), amount DECIMAL(10,2))")[
            "Status"
        ]
        == "FINISHED"
    )
    _run(data, workgroup, secret, "INSERT INTO sales VALUES ('a', 10.5), ('a', 2), ('b', 3)")
    done = _run(
        data, workgroup, secret,
        "SELECT artist, SUM(amount) AS total FROM sales WHERE artist = :artist GROUP BY artist",
        Parameters=[{"name": "artist", "value": "a"}],
    )  # fmt: skip
    assert done["Status"] == "FINISHED", done.get("Error")
    result = data.get_statement_result(Id=done["Id"])
    assert [c["name"] for c in result["ColumnMetadata"]] == ["artist", "total"]
    assert result["Records"] == [[{"stringValue": "a"}, {"stringValue": "12.50"}]]
    failed = _run(data, workgroup, secret, "SELEC nothing")
    assert failed["Status"] == "FAILED" and "syntax error" in failed["Error"]
    serverless.delete_workgroup(workgroupName=workgroup)
    serverless.delete_namespace(namespaceName=namespace)
    with pytest.raises(serverless.exceptions.ResourceNotFoundException):
        serverless.get_workgroup(workgroupName=workgroup)


def test_dynamodb_without_dynamodb_local(client: Any) -> None:
    ddb = client("dynamodb")
    table = f"events-{SUFFIX}"
    ddb.create_table(
        TableName=table,
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        BillingMode="PAY_PER_REQUEST",
        SSESpecification={"Enabled": True, "SSEType": "KMS"},
    )
    ddb.update_time_to_live(
        TableName=table, TimeToLiveSpecification={"Enabled": True, "AttributeName": "ttl"}
    )
    ddb.batch_write_item(
        RequestItems={
            table: [{"PutRequest": {"Item": {"pk": {"S": "a"}, "sk": {"S": str(i)}}}} for i in range(3)]
        }
    )
    assert (
        ddb.query(
            TableName=table, KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "a"}}
        )["Count"]
        == 3
    )
    updated = ddb.update_item(
        TableName=table, Key={"pk": {"S": "a"}, "sk": {"S": "1"}}, ReturnValues="ALL_NEW",
        UpdateExpression="SET n = if_not_exists(n, :z) + :o",
        ExpressionAttributeValues={":z": {"N": "0"}, ":o": {"N": "1"}},
    )  # fmt: skip
    assert updated["Attributes"]["n"] == {"N": "1"}
    assert (
        ddb.describe_time_to_live(TableName=table)["TimeToLiveDescription"]["TimeToLiveStatus"] == "ENABLED"
    )
    # the conversation store's optimistic writes: the reasons of a cancelled transaction survive
    # LocalStack's re-serialisation of moto's answer
    put = {
        "TableName": table,
        "Item": {"pk": {"S": "a"}, "sk": {"S": "1"}},
        "ConditionExpression": "attribute_not_exists(pk)",
    }
    fresh = {"TableName": table, "Item": {"pk": {"S": "b"}, "sk": {"S": "1"}}}
    with pytest.raises(ddb.exceptions.TransactionCanceledException) as cancelled:
        ddb.transact_write_items(TransactItems=[{"Put": put}, {"Put": fresh}])
    reasons = [r.get("Code") for r in cancelled.value.response["CancellationReasons"]]
    assert reasons[0] == "ConditionalCheckFailed"
    with pytest.raises(ddb.exceptions.ConditionalCheckFailedException):
        ddb.put_item(**put)
    ddb.delete_table(TableName=table)


def test_kinesis_without_kinesis_mock(client: Any) -> None:
    kinesis = client("kinesis")
    stream = f"events-{SUFFIX}"
    kinesis.create_stream(StreamName=stream, ShardCount=1)
    key = client("kms").create_key()["KeyMetadata"]["KeyId"]
    kinesis.start_stream_encryption(StreamName=stream, EncryptionType="KMS", KeyId=key)
    assert (
        kinesis.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"]["EncryptionType"]
        == "KMS"
    )
    kinesis.put_record(StreamName=stream, Data=b'{"event": 1}', PartitionKey="p")
    shard = kinesis.list_shards(StreamName=stream)["Shards"][0]["ShardId"]
    iterator = kinesis.get_shard_iterator(StreamName=stream, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    assert [r["Data"] for r in kinesis.get_records(ShardIterator=iterator["ShardIterator"])["Records"]] == [
        b'{"event": 1}'
    ]
    kinesis.delete_stream(StreamName=stream)


# ---- Lambda: the concert runtime executor ---------------------------------------------------------
def _zip(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def function(client: Any) -> Any:
    lam = client("lambda")
    role = client("iam").create_role(RoleName=f"fn-{SUFFIX}", AssumeRolePolicyDocument="{}")["Role"]["Arn"]

    def create(
        name: str,
        code: str,
        timeout: int = 3,
        env: dict[str, str] | None = None,
        layers: tuple[str, ...] = (),
    ) -> str:
        full = f"{name}-{SUFFIX}"
        lam.create_function(
            FunctionName=full, Runtime="python3.12", Role=role, Handler="app.handler",
            Code={"ZipFile": _zip({"app.py": code})}, Timeout=timeout,
            Environment={"Variables": env or {}}, Layers=list(layers),
        )  # fmt: skip
        for _ in range(240):
            state = lam.get_function(FunctionName=full)["Configuration"]
            if state["State"] != "Pending":
                break
            time.sleep(0.25)
        assert state["State"] == "Active", f"{full}: {state['State']} {state.get('StateReason')}"
        return full

    return create


def _invoke(client: Any, name: str, event: Any = None) -> tuple[str | None, Any, str]:
    answer = client("lambda").invoke(FunctionName=name, Payload=json.dumps(event or {}), LogType="Tail")
    return (
        answer.get("FunctionError"),
        json.loads(answer["Payload"].read()),
        base64.b64decode(answer["LogResult"]).decode(),
    )


def test_lambda_runs_its_code_and_layer_against_localstack(client: Any, function: Any) -> None:
    layer = client("lambda").publish_layer_version(
        LayerName=f"shared-{SUFFIX}", Content={"ZipFile": _zip({"python/shared.py": "ORIGIN = 'layer'\n"})}
    )["LayerVersionArn"]
    code = (
        "import os, sys, boto3, shared\n"
        "def handler(event, context):\n"
        "    print('bucket', os.environ['BUCKET'])\n"
        "    boto3.client('s3').create_bucket(Bucket=os.environ['BUCKET'])\n"
        "    return {'layer': shared.ORIGIN, 'event': event, 'function': context.function_name,\n"
        "            'endpoint': os.environ.get('AWS_ENDPOINT_URL'),\n"
        "            'no_localstack_packages': not any('site-packages' in p and 'localstack' in p.lower() for p in sys.path)}\n"
    )
    bucket = f"made-by-lambda-{SUFFIX}"
    name = function("uses", code, env={"BUCKET": bucket}, layers=(layer,))
    error, result, logs = _invoke(client, name, {"n": 1})
    assert error is None, result
    assert result["layer"] == "layer" and result["event"] == {"n": 1} and result["function"] == name
    assert result["endpoint"].startswith("http://127.0.0.1:") and result["no_localstack_packages"]
    assert bucket in [b["Name"] for b in client("s3").list_buckets()["Buckets"]]  # it called LocalStack
    assert f"bucket {bucket}" in logs and "REPORT RequestId:" in logs


def test_lambda_timeout_is_enforced(client: Any, function: Any) -> None:
    name = function("slow", "import time\ndef handler(event, context):\n    time.sleep(30)\n", timeout=1)
    started = time.monotonic()
    error, result, _ = _invoke(client, name)
    assert time.monotonic() - started < 10
    assert error == "Unhandled" and result["errorType"] == "Sandbox.Timedout"
    assert "Task timed out after 1.00 seconds" in result["errorMessage"]


def test_lambda_errors_as_lambda_reports_them(client: Any, function: Any) -> None:
    broken = function("broken", "import not_a_module\ndef handler(event, context):\n    return 1\n")
    error, result, _ = _invoke(client, broken)
    assert error == "Unhandled" and result["errorType"] == "Runtime.ImportModuleError"
    raises = function("raises", "def handler(event, context):\n    raise ValueError('bad input')\n")
    error, result, _ = _invoke(client, raises)
    assert (error, result["errorType"], result["errorMessage"]) == ("Unhandled", "ValueError", "bad input")


def test_lambda_environment_is_kept_warm(client: Any, function: Any) -> None:
    name = function("count", "N = 0\ndef handler(event, context):\n    global N\n    N += 1\n    return N\n")
    assert [_invoke(client, name)[1] for _ in range(3)] == [1, 2, 3]


def test_lambda_runs_the_updated_code(client: Any, function: Any) -> None:
    name = function("updated", "def handler(event, context):\n    return 'first'\n")
    assert _invoke(client, name)[1] == "first"
    lam = client("lambda")
    lam.update_function_code(
        FunctionName=name, ZipFile=_zip({"app.py": "def handler(event, context):\n    return 'second'\n"})
    )
    for _ in range(240):
        if lam.get_function(FunctionName=name)["Configuration"].get("LastUpdateStatus") != "InProgress":
            break
        time.sleep(0.25)
    assert _invoke(client, name)[1] == "second"


def test_lambda_keeps_its_layer_across_a_configuration_update(client: Any, function: Any) -> None:
    lam = client("lambda")
    layer = lam.publish_layer_version(
        LayerName=f"kept-{SUFFIX}", Content={"ZipFile": _zip({"python/kept.py": "VALUE = 'kept'\n"})}
    )["LayerVersionArn"]
    code = "import os, kept\ndef handler(event, context):\n    return [kept.VALUE, os.environ.get('MODE')]\n"
    name = function("configured", code, env={"MODE": "one"}, layers=(layer,))
    assert _invoke(client, name)[1] == ["kept", "one"]
    # the old version is cleaned up after the new one is prepared with the same code and layers
    lam.update_function_configuration(FunctionName=name, Environment={"Variables": {"MODE": "two"}})
    for _ in range(240):
        if lam.get_function(FunctionName=name)["Configuration"].get("LastUpdateStatus") != "InProgress":
            break
        time.sleep(0.25)
    time.sleep(1)
    error, result, _ = _invoke(client, name)
    assert (error, result) == (None, ["kept", "two"])


def test_lambda_answers_the_functions_kms_key(client: Any) -> None:
    # LocalStack 4.13.1 keeps no KMSKeyArn; the extension's shipped_fixes keeps it per version
    lam = client("lambda")
    role = client("iam").create_role(RoleName=f"kms-fn-{SUFFIX}", AssumeRolePolicyDocument="{}")["Role"][
        "Arn"
    ]
    key = client("kms").create_key()["KeyMetadata"]["Arn"]
    name = f"kms-{SUFFIX}"
    created = lam.create_function(
        FunctionName=name, Runtime="python3.12", Role=role, Handler="app.handler",
        Code={"ZipFile": _zip({"app.py": "def handler(e, c):\n    return 1\n"})}, KMSKeyArn=key,
    )  # fmt: skip
    assert created["KMSKeyArn"] == key
    assert lam.get_function(FunctionName=name)["Configuration"]["KMSKeyArn"] == key
    assert lam.get_function_configuration(FunctionName=name)["KMSKeyArn"] == key
    for _ in range(240):
        if lam.get_function(FunctionName=name)["Configuration"]["State"] != "Pending":
            break
        time.sleep(0.25)
    assert lam.publish_version(FunctionName=name)["KMSKeyArn"] == key
    lam.delete_function(FunctionName=name)
