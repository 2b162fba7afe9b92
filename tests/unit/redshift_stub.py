"""Feed the handlers' Redshift Data API client real-looking rows through botocore's Stubber
(moto's Data API runs no SQL and answers a canned result)."""

from __future__ import annotations

from typing import Any

from botocore.stub import ANY, Stubber

from concert_shared import clients
from concert_shared.platform_data import TABLES


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


def stub_tables(stubber: Stubber, data: dict[str, list[dict[str, Any]]], status: str = "FINISHED") -> None:
    """Expect one ExecuteStatement / DescribeStatement / GetStatementResult per reference table."""
    for index, (table, columns) in enumerate(TABLES.items()):
        statement_id = f"00000000-0000-0000-0000-{index:012d}"
        stubber.add_response(
            "execute_statement",
            {"Id": statement_id},
            {"WorkgroupName": ANY, "Database": ANY, "SecretArn": ANY, "Sql": ANY},
        )
        stubber.add_response(
            "describe_statement", {"Id": statement_id, "Status": "STARTED"}, {"Id": statement_id}
        )
        stubber.add_response(
            "describe_statement",
            {"Id": statement_id, "Status": status, "Error": "boom"},
            {"Id": statement_id},
        )
        if status != "FINISHED":
            return
        stubber.add_response(
            "get_statement_result",
            {
                "ColumnMetadata": [{"name": column, "label": column} for column in columns],
                "Records": [[field(row.get(column)) for column in columns] for row in data[table]],
                "TotalNumRows": len(data[table]),
            },
            {"Id": statement_id},
        )


def redshift_stubber() -> Stubber:
    return Stubber(clients.client("redshift-data"))
