"""Queries through the Redshift Data API, with polling, a timeout, every result page read (up to
MAX_ROWS, beyond which the query fails loudly rather than answering from a truncated result) and
a result-shape check. User input reaches the SQL only as Data API parameters (`:name`)."""

from __future__ import annotations

import time
from typing import Any

from concert_shared.clients import client
from concert_shared.config import optional_env
from concert_shared.errors import DataUnavailable

POLL_FIRST_SECONDS = 0.01  # small statements finish in milliseconds; polls back off to POLL_MAX
POLL_MAX_SECONDS = 0.2
MAX_ROWS = 100_000  # a query answering more rows than this is a bug in the query, not data to load


class RedshiftUnavailable(RuntimeError):
    """Redshift could not answer; callers fall back and say why."""


class ResultTooLarge(DataUnavailable):
    """The result holds more than MAX_ROWS rows. Not a reason to fall back (the bucket would be
    as large): the request fails (503 data_unavailable), never answered from a truncated part."""

    def __init__(self, message: str) -> None:
        super().__init__(message, "result_too_large")


def _value(field: dict[str, Any]) -> Any:
    if field.get("isNull"):
        return None
    for key in ("stringValue", "longValue", "doubleValue", "booleanValue"):
        if key in field:
            return field[key]
    return None


def query(
    sql: str,
    columns: list[str],
    parameters: dict[str, str] | list[dict[str, str]] | None = None,
    timeout: float = 10.0,
    max_rows: int = MAX_ROWS,
) -> list[dict[str, Any]]:
    """Run `sql` (which selects `columns`, in order) and return every row as a dict.

    `parameters` fill the SQL's `:name` placeholders (a {name: value} mapping or the Data API's
    [{"name", "value"}] list; values are sent as text and cast by Redshift). More than `max_rows`
    rows raise ResultTooLarge."""
    workgroup = optional_env("REDSHIFT_WORKGROUP")
    database = optional_env("REDSHIFT_DATABASE")
    secret = optional_env("REDSHIFT_SECRET_ARN")
    if not (workgroup and database and secret):
        raise RedshiftUnavailable("Redshift is not configured (REDSHIFT_WORKGROUP/DATABASE/SECRET_ARN)")
    data_api = client("redshift-data")
    request: dict[str, Any] = {
        "WorkgroupName": workgroup,
        "Database": database,
        "SecretArn": secret,
        "Sql": sql,
    }
    if parameters:
        request["Parameters"] = (
            [{"name": name, "value": str(value)} for name, value in parameters.items()]
            if isinstance(parameters, dict)
            else parameters
        )
    try:
        statement = data_api.execute_statement(**request)["Id"]
        _wait(data_api, statement, timeout)
        names, records = _all_pages(data_api, statement, max_rows)
    except (RedshiftUnavailable, ResultTooLarge):
        raise
    except Exception as exc:
        raise RedshiftUnavailable(f"{type(exc).__name__}: {exc}") from exc
    if names != [c.lower() for c in columns]:
        raise RedshiftUnavailable(f"unexpected result columns {names}, expected {columns}")
    return [dict(zip(columns, (_value(f) for f in record), strict=True)) for record in records]


def _wait(data_api: Any, statement: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    poll = POLL_FIRST_SECONDS
    while True:
        described = data_api.describe_statement(Id=statement)
        status = described.get("Status")
        if status == "FINISHED":
            return
        if status in ("FAILED", "ABORTED"):
            raise RedshiftUnavailable(f"statement {status}: {described.get('Error', 'no error text')}")
        if time.monotonic() > deadline:
            raise RedshiftUnavailable(f"statement still {status} after {timeout:.0f}s")
        time.sleep(poll)
        poll = min(POLL_MAX_SECONDS, poll * 2)


def _all_pages(data_api: Any, statement: str, max_rows: int) -> tuple[list[str], list[list[dict[str, Any]]]]:
    """Column names and every record, following NextToken to the end."""
    names: list[str] = []
    records: list[list[dict[str, Any]]] = []
    token: str | None = None
    while True:
        page = data_api.get_statement_result(Id=statement, **({"NextToken": token} if token else {}))
        if not names:
            names = [(c.get("name") or c.get("label") or "").lower() for c in page.get("ColumnMetadata", [])]
        total = page.get("TotalNumRows")
        if isinstance(total, int) and total > max_rows:
            raise ResultTooLarge(
                f"the warehouse's result has {total} rows, more than the limit of {max_rows}"
            )
        records += page.get("Records", [])
        if len(records) > max_rows:
            raise ResultTooLarge(f"the warehouse's result has more than the limit of {max_rows} rows")
        token = page.get("NextToken")
        if not token:
            return names, records
