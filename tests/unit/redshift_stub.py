"""The handlers' warehouse in unit tests: `load_warehouse` applies the real schema and loads the
sample data into the embedded engine's Data API (DuckDB under mock_aws), as post-deploy does;
`stub_statement`/`redshift_stubber` feed exact Data API answers (status, pages) through botocore's
Stubber where a test needs a response the engine would not give."""

from __future__ import annotations

from typing import Any

from botocore.stub import Stubber

from concert_shared import clients

REGION = "us-east-1"


def load_warehouse(env: dict[str, str], data: dict[str, list[dict[str, Any]]]) -> None:
    """schema.sql and the sample rows into the workgroup the handlers' environment names."""
    import boto3

    from concert_platform.postdeploy import run_batch, run_statements, schema_statements
    from concert_platform.sample_data import insert_statements

    data_api = boto3.client("redshift-data", region_name=REGION)
    target = (env["REDSHIFT_WORKGROUP"], env["REDSHIFT_DATABASE"], env["REDSHIFT_SECRET_ARN"])
    run_statements(data_api, *target, schema_statements())
    run_batch(data_api, *target, insert_statements(data))


def field(value: Any) -> dict[str, Any]:
    if value is None:
        return {"isNull": True}
    if isinstance(value, bool):
        return {"booleanValue": value}
    if isinstance(value, int):
        return {"longValue": value}
    if isinstance(value, float):
        return {"doubleValue": value}
    return {"stringValue": str(value)}


def stub_statement(
    stubber: Stubber,
    columns: list[str],
    pages: list[list[list[Any]]],
    status: str = "FINISHED",
    total: int | None = None,
    index: int = 0,
) -> None:
    """Expect one ExecuteStatement, its polls, and one GetStatementResult per page (NextToken chained)."""
    statement_id = f"00000000-0000-0000-0000-{index:012d}"
    stubber.add_response("execute_statement", {"Id": statement_id}, None)
    stubber.add_response(
        "describe_statement", {"Id": statement_id, "Status": "STARTED"}, {"Id": statement_id}
    )
    stubber.add_response(
        "describe_statement",
        {"Id": statement_id, "Status": status, "Error": "ERROR: boom"},
        {"Id": statement_id},
    )
    if status != "FINISHED":
        return
    rows = sum(len(page) for page in pages)
    for number, page in enumerate(pages):
        answer: dict[str, Any] = {
            "ColumnMetadata": [{"name": column, "label": column} for column in columns],
            "Records": [[field(value) for value in row] for row in page],
            "TotalNumRows": rows if total is None else total,
        }
        if number < len(pages) - 1:
            answer["NextToken"] = f"page-{number + 1}"
        expected = {"Id": statement_id, **({"NextToken": f"page-{number}"} if number else {})}
        stubber.add_response("get_statement_result", answer, expected)


def redshift_stubber() -> Stubber:
    return Stubber(clients.client("redshift-data"))
