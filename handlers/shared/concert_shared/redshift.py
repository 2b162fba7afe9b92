"""Queries through the Redshift Data API, with polling, a timeout and a result-shape check."""

from __future__ import annotations

import time
from typing import Any

from concert_shared.clients import client
from concert_shared.config import optional_env

POLL_SECONDS = 0.2  # Data API statements on small tables finish in well under a second


class RedshiftUnavailable(RuntimeError):
    """Redshift could not answer; callers fall back and say why."""


def _value(field: dict[str, Any]) -> Any:
    if field.get("isNull"):
        return None
    for key in ("stringValue", "longValue", "doubleValue", "booleanValue"):
        if key in field:
            return field[key]
    return None


def query(
    sql: str, columns: list[str], parameters: list[dict[str, str]] | None = None, timeout: float = 10.0
) -> list[dict[str, Any]]:
    """Run `sql` (which selects `columns`, in order) and return the rows as dicts."""
    workgroup = optional_env("REDSHIFT_WORKGROUP")
    database = optional_env("REDSHIFT_DATABASE")
    secret = optional_env("REDSHIFT_SECRET_ARN")
    if not (workgroup and database and secret):
        raise RedshiftUnavailable("Redshift is not configured (REDSHIFT_WORKGROUP/DATABASE/SECRET_ARN)")
    data_api = client("redshift-data")
    try:
        request: dict[str, Any] = {
            "WorkgroupName": workgroup,
            "Database": database,
            "SecretArn": secret,
            "Sql": sql,
        }
        if parameters:
            request["Parameters"] = parameters
        statement = data_api.execute_statement(**request)["Id"]
        deadline = time.monotonic() + timeout
        while True:
            described = data_api.describe_statement(Id=statement)
            status = described.get("Status")
            if status == "FINISHED":
                break
            if status in ("FAILED", "ABORTED"):
                raise RedshiftUnavailable(f"statement {status}: {described.get('Error', 'no error text')}")
            if time.monotonic() > deadline:
                raise RedshiftUnavailable(f"statement still {status} after {timeout:.0f}s")
            time.sleep(POLL_SECONDS)
        result = data_api.get_statement_result(Id=statement)
    except RedshiftUnavailable:
        raise
    except Exception as exc:
        raise RedshiftUnavailable(f"{type(exc).__name__}: {exc}") from exc
    names = [(c.get("name") or c.get("label") or "").lower() for c in result.get("ColumnMetadata", [])]
    if names != [c.lower() for c in columns]:
        raise RedshiftUnavailable(f"unexpected result columns {names}, expected {columns}")
    return [
        dict(zip(columns, (_value(f) for f in record), strict=True)) for record in result.get("Records", [])
    ]
