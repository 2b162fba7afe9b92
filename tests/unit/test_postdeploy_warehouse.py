"""Post-deploy's warehouse steps on the embedded engine's Data API: the schema is applied and read
back, the sample rows are loaded and counted back, and a failing statement stops the deploy."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from concert_platform import postdeploy, sample_data
from concert_platform.errors import DeployError

REGION = "us-east-1"
OUTPUTS = {
    "RedshiftWorkgroupName": "concert-pd-test",
    "RedshiftDatabaseName": "concert_dw",
    "RedshiftAdminSecretArn": f"arn:aws:secretsmanager:{REGION}:123456789012:secret:pd-AbCdEf",
    "ProcessedDataBucketName": "concert-pd-processed",
    "UserPreferencesTableName": "concert-pd-preferences",
}


class Clients:
    """What post-deploy needs from an engine: `.client(service)`, here under mock_aws."""

    def client(self, service: str, **_: Any) -> Any:
        return boto3.client(service, region_name=REGION)


@pytest.fixture
def engine(aws: None) -> Clients:
    serverless = boto3.client("redshift-serverless", region_name=REGION)
    serverless.create_namespace(namespaceName=OUTPUTS["RedshiftWorkgroupName"], dbName="concert_dw")
    serverless.create_workgroup(
        workgroupName=OUTPUTS["RedshiftWorkgroupName"], namespaceName=OUTPUTS["RedshiftWorkgroupName"]
    )
    boto3.client("s3", region_name=REGION).create_bucket(Bucket=OUTPUTS["ProcessedDataBucketName"])
    boto3.client("dynamodb", region_name=REGION).create_table(
        TableName=OUTPUTS["UserPreferencesTableName"],
        AttributeDefinitions=[{"AttributeName": "user_id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "user_id", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return Clients()


def test_schema_applied_and_listed_back(engine: Clients) -> None:
    result = postdeploy.initialize_redshift_schema(engine, OUTPUTS)
    assert result.ok
    assert result.detail.startswith(
        f"{len(postdeploy.schema_statements())} statements applied to concert-pd-test/"
    )
    assert result.detail.endswith("tables: artists, concerts, ticket_sales, venues")
    again = postdeploy.initialize_redshift_schema(engine, OUTPUTS)
    assert again.ok  # idempotent


def test_a_broken_schema_statement_stops_with_its_first_line_and_the_engines_error(
    engine: Clients, monkeypatch: pytest.MonkeyPatch
) -> None:
    statements = postdeploy.schema_statements()
    statements[1] = statements[1].replace("capacity    INTEGER", "capacity    INTEGR(")
    monkeypatch.setattr(postdeploy, "schema_statements", lambda: statements)
    with pytest.raises(DeployError) as raised:
        postdeploy.initialize_redshift_schema(engine, OUTPUTS)
    message = str(raised.value)
    assert message.startswith(
        "Redshift statement failed: CREATE TABLE IF NOT EXISTS venues (: FAILED: ERROR:"
    )
    assert "\n" not in message


def test_sample_rows_are_loaded_and_counted_back(engine: Clients) -> None:
    postdeploy.initialize_redshift_schema(engine, OUTPUTS)
    counted = sample_data.load_sample_data(engine, OUTPUTS)
    data = sample_data.generate()
    assert counted == {table: len(data[table]) for table in sample_data.REDSHIFT_TABLES}
    assert sample_data.load_sample_data(engine, OUTPUTS) == counted  # a reload replaces, never duplicates


def test_sample_load_into_a_schema_with_a_renamed_column_names_the_insert(
    engine: Clients, monkeypatch
) -> None:
    statements = [s.replace("popularity  INTEGER", "fame  INTEGER") for s in postdeploy.schema_statements()]
    monkeypatch.setattr(postdeploy, "schema_statements", lambda: statements)
    postdeploy.initialize_redshift_schema(engine, OUTPUTS)
    with pytest.raises(DeployError) as raised:
        sample_data.load_sample_data(engine, OUTPUTS)
    message = str(raised.value)
    assert "Redshift statement failed: INSERT INTO artists (artist_id, name, genre, popularity)" in message
    assert '"popularity"' in message


def test_a_count_that_differs_from_what_was_loaded_stops_the_deploy(engine: Clients, monkeypatch) -> None:
    postdeploy.initialize_redshift_schema(engine, OUTPUTS)
    real = sample_data.insert_statements
    monkeypatch.setattr(sample_data, "insert_statements", lambda data: real(data)[:-1])  # lose the last batch
    with pytest.raises(DeployError, match="counted back from the warehouse does not match: ticket_sales"):
        sample_data.load_sample_data(engine, OUTPUTS)


def test_refused_statement_is_one_line_naming_it(engine: Clients) -> None:
    data_api = engine.client("redshift-data")
    with pytest.raises(DeployError) as raised:
        postdeploy.run_statements(data_api, "no-such-workgroup", "concert_dw", "arn", ["SELECT 1"])
    assert str(raised.value) == (
        "Redshift statement refused: SELECT 1: ValidationException: Workgroup no-such-workgroup not found."
    )
