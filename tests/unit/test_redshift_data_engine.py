"""The embedded engine's Redshift Data API: real SQL on DuckDB behind AWS's API shapes and errors."""

from __future__ import annotations

import json
import time
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from concert_platform.engines.moto_ext.redshift_data import models
from concert_platform.postdeploy import schema_statements

REGION = "us-east-1"
WORKGROUP = "concert-unittest"
DATABASE = "concert_dw"


@pytest.fixture
def data_api(aws: None) -> Any:
    serverless = boto3.client("redshift-serverless", region_name=REGION)
    serverless.create_namespace(namespaceName=WORKGROUP, dbName=DATABASE)
    serverless.create_workgroup(workgroupName=WORKGROUP, namespaceName=WORKGROUP)
    return boto3.client("redshift-data", region_name=REGION)


def execute(data_api: Any, sql: str, **extra: Any) -> str:
    return data_api.execute_statement(WorkgroupName=WORKGROUP, Database=DATABASE, Sql=sql, **extra)["Id"]


def wait(data_api: Any, statement_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        described: dict[str, Any] = data_api.describe_statement(Id=statement_id)
        if described["Status"] in ("FINISHED", "FAILED", "ABORTED"):
            return described
        time.sleep(0.005)
    raise AssertionError(f"statement {statement_id} never ended")


def run(data_api: Any, sql: str, **extra: Any) -> dict[str, Any]:
    return wait(data_api, execute(data_api, sql, **extra))


def rows(data_api: Any, sql: str, **extra: Any) -> list[list[dict[str, Any]]]:
    described = run(data_api, sql, **extra)
    assert described["Status"] == "FINISHED", described.get("Error")
    records: list[list[dict[str, Any]]] = data_api.get_statement_result(Id=described["Id"])["Records"]
    return records


@pytest.fixture
def schema(data_api: Any) -> Any:
    for sql in schema_statements():
        assert run(data_api, sql)["Status"] == "FINISHED"
    return data_api


def test_the_real_schema_applies_with_its_redshift_clauses(schema: Any) -> None:
    tables = schema.list_tables(WorkgroupName=WORKGROUP, Database=DATABASE)["Tables"]
    assert sorted(t["name"] for t in tables) == ["artists", "concerts", "ticket_sales", "venues"]
    assert {t["schema"] for t in tables} == {"public"}
    columns = schema.describe_table(WorkgroupName=WORKGROUP, Database=DATABASE, Table="concerts")[
        "ColumnList"
    ]
    assert [(c["name"], c["typeName"]) for c in columns] == [
        ("concert_id", "varchar"),
        ("artist_id", "varchar"),
        ("venue_id", "varchar"),
        ("concert_date", "date"),
        ("base_price", "numeric"),
    ]
    assert columns[0]["nullable"] == 0 and columns[3]["nullable"] == 1


def test_statement_lifecycle_and_typed_results(schema: Any) -> None:
    inserted = run(
        schema,
        "INSERT INTO concerts VALUES ('c1', 'a1', 'v1', '2026-06-01', 49.90), ('c2', 'a1', 'v2', NULL, 25)",
    )
    assert inserted["Status"] == "FINISHED"
    assert inserted["HasResultSet"] is False and inserted["ResultRows"] == 2
    selected = run(
        schema,
        "SELECT concert_id, concert_date, base_price, COUNT(*), 7 / 2, 1.5::float8, true "
        "FROM concerts GROUP BY 1, 2, 3 ORDER BY 1",
    )
    assert selected["HasResultSet"] is True and selected["ResultRows"] == 2
    result = schema.get_statement_result(Id=selected["Id"])
    assert [c["name"] for c in result["ColumnMetadata"]] == [
        "concert_id",
        "concert_date",
        "base_price",
        "count",
        "?column?",
        "?column?",
        "?column?",
    ]
    assert [c["typeName"] for c in result["ColumnMetadata"]][:4] == ["varchar", "date", "numeric", "int8"]
    assert result["Records"][0] == [
        {"stringValue": "c1"},
        {"stringValue": "2026-06-01"},
        {"stringValue": "49.90"},
        {"longValue": 1},
        {"longValue": 3},  # Redshift's integer division, not DuckDB's 3.5
        {"doubleValue": 1.5},
        {"booleanValue": True},
    ]
    assert result["Records"][1][1] == {"isNull": True}
    assert result["TotalNumRows"] == 2


def test_a_failing_statement_reports_the_engines_error(schema: Any) -> None:
    described = run(schema, "SELECT nme FROM venues")
    assert described["Status"] == "FAILED"
    assert described["Error"].startswith("ERROR: Binder Error:")
    assert '"nme"' in described["Error"] and "\n" not in described["Error"]
    with pytest.raises(ClientError) as raised:
        schema.get_statement_result(Id=described["Id"])
    assert raised.value.response["Error"]["Code"] == "ValidationException"


@pytest.mark.parametrize(
    "sql",
    [
        "SELEC 1",
        "CREATE TABEL t (a INT)",
        "garbage here",
        "SELECT * FORM venues",
        "SELECT * EXCLUDE (city) FROM venues",  # DuckDB's, not Redshift's
        "SELECT {'a': 1}",
    ],
)
def test_sql_redshift_rejects_is_rejected(schema: Any, sql: str) -> None:
    described = run(schema, sql)
    assert described["Status"] == "FAILED"
    assert "syntax error" in described["Error"]


def test_redshift_only_clauses_are_accepted_and_lengths_enforced(schema: Any) -> None:
    created = run(
        schema,
        "CREATE TABLE events (id BIGINT IDENTITY(1, 1) ENCODE az64, kind VARCHAR(5) ENCODE lzo NOT NULL) "
        "DISTSTYLE KEY DISTKEY (id) COMPOUND SORTKEY (id)",
    )
    assert created["Status"] == "FINISHED", created.get("Error")
    assert run(schema, "INSERT INTO events (kind) VALUES ('a'), ('b')")["Status"] == "FINISHED"
    assert rows(schema, "SELECT id, kind FROM events ORDER BY id") == [
        [{"longValue": 1}, {"stringValue": "a"}],
        [{"longValue": 2}, {"stringValue": "b"}],
    ]
    too_long = run(schema, "INSERT INTO events (kind) VALUES ('abcdef')")
    assert too_long["Status"] == "FAILED" and "CHECK constraint" in too_long["Error"]


def test_keys_are_informational_as_in_redshift(schema: Any) -> None:
    """Redshift accepts duplicate primary keys and dangling references; so must the emulator."""
    assert run(schema, "INSERT INTO artists VALUES ('a1', 'x', 'rock', 1), ('a1', 'y', 'pop', 2)")[
        "Status"
    ] == ("FINISHED")
    assert run(schema, "INSERT INTO ticket_sales VALUES ('no-such-concert', 5, 10.0)")["Status"] == "FINISHED"
    assert run(schema, "DELETE FROM artists")["Status"] == "FINISHED"


def test_parameters_bind_by_name_and_a_hostile_value_stays_a_value(schema: Any) -> None:
    run(schema, "INSERT INTO venues VALUES ('v1', 'A', 'Berlin', 400), ('v2', 'B', 'Osaka', 800)")
    hostile = "Berlin' OR '1'='1"
    assert (
        rows(
            schema,
            "SELECT venue_id FROM venues WHERE city = :city",
            Parameters=[{"name": "city", "value": hostile}],
        )
        == []
    )
    dropped = "x'); DROP TABLE venues; --"
    assert (
        rows(
            schema,
            "SELECT venue_id FROM venues WHERE city = :city",
            Parameters=[{"name": "city", "value": dropped}],
        )
        == []
    )
    assert rows(
        schema,
        "SELECT venue_id FROM venues WHERE capacity > :min AND city = :city",
        Parameters=[{"name": "min", "value": "500"}, {"name": "city", "value": "Osaka"}],
    ) == [[{"stringValue": "v2"}]]
    assert len(rows(schema, "SELECT * FROM venues")) == 2  # the table survived
    not_a_number = run(
        schema,
        "SELECT venue_id FROM venues WHERE capacity > :min",
        Parameters=[{"name": "min", "value": "lots"}],
    )
    assert not_a_number["Status"] == "FAILED" and "Conversion Error" in not_a_number["Error"]
    prefixed = rows(
        schema,
        "SELECT :ab, :a",
        Parameters=[
            {"name": "a", "value": "first"},
            {"name": "ab", "value": "second"},
            {"name": "c", "value": "x"},
        ],
    )
    assert prefixed == [[{"stringValue": "second"}, {"stringValue": "first"}]]
    missing = run(schema, "SELECT :absent", Parameters=[{"name": "other", "value": "1"}])
    assert missing["Status"] == "FAILED" and ":absent" in missing["Error"]


def test_batch_is_one_transaction(schema: Any) -> None:
    run(schema, "INSERT INTO venues VALUES ('v1', 'A', 'Berlin', 400)")
    batch = schema.batch_execute_statement(
        WorkgroupName=WORKGROUP,
        Database=DATABASE,
        Sqls=["DELETE FROM venues", "INSERT INTO venues (nope) VALUES (1)", "SELECT 1"],
    )["Id"]
    described = wait(schema, batch)
    assert described["Status"] == "FAILED"
    assert [s["Status"] for s in described["SubStatements"]] == ["FINISHED", "FAILED", "ABORTED"]
    assert [s["Id"] for s in described["SubStatements"]] == [f"{batch}:1", f"{batch}:2", f"{batch}:3"]
    assert "nope" in described["Error"]
    assert rows(schema, "SELECT COUNT(*) FROM venues") == [[{"longValue": 1}]]  # the DELETE rolled back
    good = wait(
        schema,
        schema.batch_execute_statement(
            WorkgroupName=WORKGROUP,
            Database=DATABASE,
            Sqls=["DELETE FROM venues", "SELECT COUNT(*) FROM venues"],
        )["Id"],
    )
    assert good["Status"] == "FINISHED"
    assert schema.describe_statement(Id=f"{good['Id']}:2")["HasResultSet"] is True
    assert schema.get_statement_result(Id=f"{good['Id']}:2")["Records"] == [[{"longValue": 0}]]


def test_results_are_paged_with_next_token(schema: Any) -> None:
    total = models.RESULT_PAGE_ROWS * 2 + 17
    statement = run(schema, f"SELECT * FROM generate_series(1, {total})")["Id"]  # noqa: S608 - an int
    seen, token, pages = [], None, 0
    while True:
        page = schema.get_statement_result(Id=statement, **({"NextToken": token} if token else {}))
        pages += 1
        assert page["TotalNumRows"] == total
        seen += [record[0]["longValue"] for record in page["Records"]]
        token = page.get("NextToken")
        if not token:
            break
    assert pages == 3 and seen == list(range(1, total + 1))


def test_cancel(schema: Any) -> None:
    slow = execute(schema, "SELECT COUNT(*) FROM range(3000000000) a")
    assert schema.describe_statement(Id=slow)["Status"] in ("SUBMITTED", "STARTED")  # answered before it ran
    assert schema.cancel_statement(Id=slow)["Status"] is True
    assert wait(schema, slow)["Status"] == "ABORTED"
    finished = run(schema, "SELECT 1")["Id"]
    with pytest.raises(ClientError) as raised:
        schema.cancel_statement(Id=finished)
    assert raised.value.response["Error"]["Code"] == "ValidationException"
    assert "FINISHED" in raised.value.response["Error"]["Message"]


def test_databases_are_separate_per_workgroup(schema: Any) -> None:
    serverless = boto3.client("redshift-serverless", region_name=REGION)
    serverless.create_namespace(namespaceName="other-ns", dbName=DATABASE)
    serverless.create_workgroup(workgroupName="other-wg", namespaceName="other-ns")
    other = schema.execute_statement(WorkgroupName="other-wg", Database=DATABASE, Sql="SELECT * FROM venues")[
        "Id"
    ]
    assert "does not exist" in wait(schema, other)["Error"]


def _error(call: Any, **kwargs: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as raised:
        call(**kwargs)
    error = raised.value.response["Error"]
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    return error["Code"], error["Message"]


@pytest.mark.parametrize(
    ("kwargs", "code", "says"),
    [
        (
            {"WorkgroupName": "no-such-wg", "Database": DATABASE, "Sql": "SELECT 1"},
            "ValidationException",
            "no-such-wg",
        ),
        ({"WorkgroupName": WORKGROUP, "Database": "nodb", "Sql": "SELECT 1"}, "ValidationException", "nodb"),
        ({"Database": DATABASE, "Sql": "SELECT 1"}, "ValidationException", "WorkgroupName"),
        (
            {"WorkgroupName": WORKGROUP, "Database": DATABASE, "Sql": "SELECT '" + "x" * (100 * 1024) + "'"},
            "ValidationException",
            "100 KB",
        ),
        (
            {
                "WorkgroupName": WORKGROUP,
                "Database": DATABASE,
                "Sql": "SELECT :a",
                "Parameters": [{"name": "a", "value": "1"}, {"name": "a", "value": "2"}],
            },
            "ValidationException",
            "more than once",
        ),
    ],
)
def test_bad_requests_get_aws_error_codes(
    data_api: Any, kwargs: dict[str, Any], code: str, says: str
) -> None:
    assert _error(data_api.execute_statement, **kwargs)[0] == code
    assert says in _error(data_api.execute_statement, **kwargs)[1]


def test_unknown_statement_ids(data_api: Any) -> None:
    unknown = "00000000-0000-0000-0000-000000000000"
    for call in (data_api.describe_statement, data_api.get_statement_result, data_api.cancel_statement):
        assert _error(call, Id=unknown)[0] == "ResourceNotFoundException"


def test_malformed_wire_requests_are_400_not_500(data_api: Any) -> None:
    """What botocore refuses client-side, sent anyway: the engine answers 400 ValidationException."""
    from botocore.config import Config

    raw = boto3.client("redshift-data", region_name=REGION, config=Config(parameter_validation=False))
    base = {"WorkgroupName": WORKGROUP, "Database": DATABASE, "Sql": "SELECT :a"}
    for parameters in (
        [],
        [{"name": "a"}],
        [{"name": "a b", "value": "1"}],
        [{"name": "a", "value": ""}],
    ):
        assert _error(raw.execute_statement, **base, Parameters=parameters)[0] == "ValidationException"
    assert _error(raw.execute_statement, WorkgroupName=WORKGROUP, Database=DATABASE, Sql="")[0] == (
        "ValidationException"
    )
    for sqls in ([], ["SELECT 1"] * 41, ["SELECT 1", ""]):
        assert _error(raw.batch_execute_statement, WorkgroupName=WORKGROUP, Database=DATABASE, Sqls=sqls)[
            0
        ] == ("ValidationException")
    for bad_id in ("x", "00000000-0000-0000-0000-000000000000:x"):
        assert _error(raw.describe_statement, Id=bad_id)[0] == "ValidationException"
    finished = run(data_api, "SELECT 1")["Id"]
    assert _error(raw.get_statement_result, Id=finished, NextToken="not-a-token")[0] == "ValidationException"
    assert _error(raw.list_tables, WorkgroupName=WORKGROUP, Database=DATABASE, MaxResults=5000)[0] == (
        "ValidationException"
    )
    assert _error(
        raw.execute_statement, **base, Parameters=[{"name": "a", "value": "1"}], ResultFormat="CSV"
    )[0] == ("ValidationException")


def test_databases_live_as_long_as_the_embedded_engine(aws_credentials: None) -> None:
    from concert_platform.engines.embedded import EmbeddedEngine

    def databases() -> int:
        return sum(
            len(backend.databases)
            for account in models.redshiftdata_backends.values()
            for backend in account.values()
        )

    engine = EmbeddedEngine(REGION)
    engine.start()
    try:
        serverless = engine.client("redshift-serverless")
        serverless.create_namespace(namespaceName="life-ns", dbName=DATABASE)
        serverless.create_workgroup(workgroupName="life-wg", namespaceName="life-ns")
        data_api = engine.client("redshift-data")
        statement = data_api.execute_statement(
            WorkgroupName="life-wg", Database=DATABASE, Sql="CREATE TABLE t (a INT)"
        )
        assert wait(data_api, statement["Id"])["Status"] == "FINISHED"
        assert databases() >= 1
    finally:
        engine.stop()
    assert databases() == 0


@pytest.mark.parametrize(
    ("target", "body", "code"),
    [
        ("RedshiftData.ExecuteStatement", b"not json", "ValidationException"),
        ("RedshiftData.ExecuteStatement", b"[1, 2]", "ValidationException"),
        (
            "RedshiftData.ExecuteStatement",
            b'{"Sql": 5, "WorkgroupName": "concert-unittest"}',
            "ValidationException",
        ),
        ("RedshiftData.DescribeStatement", b'{"Id": ["x"]}', "ValidationException"),
        (
            "RedshiftData.ExecuteStatement",
            b'{"Sql": "SELECT 1", "ClusterIdentifier": {"a": 1}}',
            "ValidationException",
        ),
        (
            "RedshiftData.ListTables",
            b'{"WorkgroupName": "concert-unittest", "Database": "concert_dw", "SchemaPattern": 5}',
            "ValidationException",
        ),
        (
            "RedshiftData.DescribeTable",
            b'{"WorkgroupName": "concert-unittest", "Database": "concert_dw", "Table": ["t"]}',
            "ValidationException",
        ),
        (
            "RedshiftData.ListTables",
            b'{"WorkgroupName": "concert-unittest", "Database": "concert_dw", "NextToken": 5}',
            "ValidationException",
        ),
        ("RedshiftData.ListDatabases", b"{}", "UnknownOperationException"),
        ("RedshiftData.CallAction", b"{}", "UnknownOperationException"),
    ],
)
def test_raw_requests_never_get_a_500(data_api: Any, target: str, body: bytes, code: str) -> None:

    import requests

    response = requests.post(
        "https://redshift-data.us-east-1.amazonaws.com/",
        data=body,
        headers={"X-Amz-Target": target, "Content-Type": "application/x-amz-json-1.1"},
        timeout=10,
    )
    assert response.status_code == 400, response.text
    assert response.json()["__type"] == code


_FIELDS = (
    "Sql",
    "Sqls",
    "WorkgroupName",
    "ClusterIdentifier",
    "Database",
    "SecretArn",
    "Parameters",
    "Id",
    "NextToken",
    "MaxResults",
    "SchemaPattern",
    "TablePattern",
    "Schema",
    "Table",
    "ResultFormat",
    "SessionId",
)


def _json_values() -> Any:
    from hypothesis import strategies as st

    scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20)
    special = st.sampled_from(
        [WORKGROUP, DATABASE, "SELECT 1", "SELECT :a", "00000000-0000-0000-0000-000000000000"]
    )
    return st.recursive(
        scalars | special,
        lambda inner: (
            st.lists(inner, max_size=3)
            | st.dictionaries(st.sampled_from(["name", "value", "x"]), inner, max_size=3)
        ),
        max_leaves=6,
    )


def test_no_request_body_gets_a_500(data_api: Any) -> None:
    """Generated bodies for every operation: the answer is 200 or a 4xx with an AWS error code."""
    import requests
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from concert_platform.engines.moto_ext.redshift_data.responses import OPERATIONS

    targets = sorted("".join(part.title() for part in name.split("_")) for name in OPERATIONS)

    @settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.sampled_from(targets), st.dictionaries(st.sampled_from(_FIELDS), _json_values(), max_size=5))
    def check(target: str, body: dict[str, Any]) -> None:
        response = requests.post(
            "https://redshift-data.us-east-1.amazonaws.com/",
            data=json.dumps(body),
            headers={"X-Amz-Target": f"RedshiftData.{target}", "Content-Type": "application/x-amz-json-1.1"},
            timeout=10,
        )
        assert response.status_code in (200, 400), (target, body, response.status_code, response.text[:300])
        if response.status_code == 400:
            assert response.json()["__type"] in ("ValidationException", "ResourceNotFoundException")

    check()


def test_list_statements_newest_first_by_status(schema: Any) -> None:
    ok = run(schema, "SELECT 1", StatementName="probe")["Id"]
    bad = run(schema, "SELECT nothing FROM nowhere")["Id"]
    failed = schema.list_statements(Status="FAILED", MaxResults=1)["Statements"]
    assert [s["Id"] for s in failed] == [bad]
    assert failed[0]["QueryString"] == "SELECT nothing FROM nowhere"
    named = schema.list_statements(StatementName="probe")["Statements"]
    assert [s["Id"] for s in named] == [ok]
    every = schema.list_statements(MaxResults=2)
    assert [s["Id"] for s in every["Statements"]] == [bad, ok] and every.get("NextToken")


def test_a_translation_is_made_once_per_text_and_a_failing_one_fails_every_time() -> None:
    from concert_platform.engines.moto_ext.redshift_data import sql as redshift_sql

    first = redshift_sql.translate("SELECT venue_id FROM venues WHERE city = :city", {"city"})
    again = redshift_sql.translate("SELECT venue_id FROM venues WHERE city = :city", {"city"})
    assert [t.duckdb for t in first] == [t.duckdb for t in again] and first[0] is again[0]
    assert redshift_sql.translate("SELECT 1", set())[0] is not first[0]
    for _ in range(2):  # never remembered as a success
        with pytest.raises(redshift_sql.StatementError):
            redshift_sql.translate("SELEC venue_id FROM venues", set())
    with pytest.raises(redshift_sql.StatementError, match="no value given"):
        redshift_sql.translate("SELECT venue_id FROM venues WHERE city = :city", set())
