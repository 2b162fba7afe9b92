"""The warehouse helpers: what the Redshift warehouse holds (the schema's tables and the sample
rows, counted by the warehouse) and its newest failed statement, which names what broke a data route."""

from __future__ import annotations

from botocore.exceptions import BotoCoreError, ClientError

from concert_platform.errors import DeployError
from concert_platform.postdeploy import first_line
from concert_platform.sample_data import REDSHIFT_TABLES, count_warehouse_rows
from concert_platform.smoke.platform import FlowResult, Platform

WAREHOUSE_CHECK = "warehouse holds the schema and the sample rows"


def last_failed_statement(platform: Platform) -> str:
    """The warehouse's newest FAILED statement and its error, to name what broke a route."""
    try:
        secret = platform.out("storage", "RedshiftAdminSecretArn")
        data_api = platform.engine.client("redshift-data")
        pages = data_api.get_paginator("list_statements").paginate(
            Status="FAILED", RoleLevel=False, PaginationConfig={"MaxItems": 300}
        )
        # newest first; only this environment's warehouse (its secret): the engine may serve others
        ours = next(
            (st for page in pages for st in page["Statements"] if st.get("SecretArn") == secret), None
        )
        if ours is None:
            return ""
        described = data_api.describe_statement(Id=ours["Id"])
    except (BotoCoreError, ClientError, LookupError):
        return ""
    return f"; the warehouse's last failed statement: {first_line(described.get('QueryString', ''))}: {described.get('Error')}"


def warehouse_check(platform: Platform) -> FlowResult:
    """The schema's tables exist in the warehouse and hold the sample rows, counted by the warehouse."""
    name = WAREHOUSE_CHECK
    try:
        target = (
            platform.out("storage", "RedshiftWorkgroupName"),
            platform.out("storage", "RedshiftDatabaseName"),
            platform.out("storage", "RedshiftAdminSecretArn"),
        )
        data_api = platform.engine.client("redshift-data")
        listed = data_api.list_tables(
            WorkgroupName=target[0], Database=target[1], SecretArn=target[2], SchemaPattern="public"
        )["Tables"]
        missing = sorted(set(REDSHIFT_TABLES) - {t["name"] for t in listed})
        if missing:
            return FlowResult(
                name, False, f"tables missing from {target[0]}/{target[1]}: {', '.join(missing)}"
            )
        counted = count_warehouse_rows(data_api, *target)
    except (LookupError, ClientError, DeployError) as exc:
        return FlowResult(name, False, str(exc))
    empty = [table for table in REDSHIFT_TABLES if not counted.get(table)]
    rows = ", ".join(f"{table} {counted.get(table)}" for table in REDSHIFT_TABLES)
    tables = ", ".join(sorted(t["name"] for t in listed))
    return FlowResult(
        name,
        not empty,
        f"schema applied in {target[0]}/{target[1]} (tables {tables}); rows counted back by the warehouse: {rows}",
    )


def warehouse_checks(platform: Platform) -> list[FlowResult]:
    """The warehouse check, or where the engine's warehouse runs no SQL, a skip saying why."""
    if platform.engine.capabilities.has_warehouse:
        return [warehouse_check(platform)]
    return [
        FlowResult(
            WAREHOUSE_CHECK,
            True,
            f"skipped on {platform.engine.name}: its Redshift Data API does not run SQL (LocalStack's "
            "free tier has none), so the data routes' warehouse source is not asserted either",
            skipped=True,
        )
    ]
