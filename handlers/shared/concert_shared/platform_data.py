"""The platform's reference data (artists, venues, concerts, ticket sales): Redshift first, the
processed-data bucket (`reference/<table>.json`) when Redshift cannot answer. Callers are told
which source answered and, for a fallback, why."""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from typing import Any

from aws_lambda_powertools import Logger

from concert_shared import redshift
from concert_shared.clients import client
from concert_shared.config import optional_env
from concert_shared.errors import DataUnavailable, public_reason

logger = Logger(child=True)

TABLES: dict[str, list[str]] = {
    "artists": ["artist_id", "name", "genre", "popularity"],
    "venues": ["venue_id", "name", "city", "capacity"],
    "concerts": ["concert_id", "artist_id", "venue_id", "concert_date", "base_price"],
    "ticket_sales": ["concert_id", "tickets_sold", "revenue"],
}
# The Data API returns DECIMAL and DATE as strings: cast so both sources give the same types.
SELECT_EXPRESSIONS: dict[str, str] = {
    "concert_date": "TO_CHAR(concert_date, 'YYYY-MM-DD') AS concert_date",
    "base_price": "CAST(base_price AS DOUBLE PRECISION) AS base_price",
    "revenue": "CAST(revenue AS DOUBLE PRECISION) AS revenue",
}
REFERENCE_PREFIX = "reference"
CACHE_SECONDS = 60.0
_cache: dict[str, Any] = {}


@dataclass
class Dataset:
    source: str
    tables: dict[str, list[dict[str, Any]]]
    fallback_reason: str = ""
    quality_issues: list[str] = field(default_factory=list)


def _from_redshift() -> dict[str, list[dict[str, Any]]]:
    tables = {}
    for table, columns in TABLES.items():
        select = ", ".join(SELECT_EXPRESSIONS.get(column, column) for column in columns)
        rows = redshift.query(f"SELECT {select} FROM {table}", columns)  # noqa: S608 - fixed identifiers
        if not rows:
            raise redshift.RedshiftUnavailable(f"table {table} is empty")
        tables[table] = rows
    return tables


def _from_bucket() -> dict[str, list[dict[str, Any]]]:
    # Messages name the table and the failure's kind; the bucket goes to the log (`detail`) only.
    bucket = optional_env("PROCESSED_BUCKET")
    if not bucket:
        raise DataUnavailable(
            "the processed-data bucket is not configured", detail="PROCESSED_BUCKET is not set"
        )
    s3 = client("s3")
    tables = {}
    for table in TABLES:
        key = reference_key(table)
        where = f"s3://{bucket}/{key}"
        try:
            body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        except Exception as exc:
            raise DataUnavailable(
                f"the {table} reference data is not readable ({public_reason(exc)}); load the sample data",
                detail=f"{where}: {type(exc).__name__}: {exc}",
            ) from exc
        try:
            rows = json.loads(body)
        except (ValueError, RecursionError) as exc:
            raise DataUnavailable(
                f"the {table} reference data is not valid JSON; reload the sample data",
                detail=f"{where}: {exc}",
            ) from exc
        if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
            raise DataUnavailable(
                f"the {table} reference data is not a JSON array of objects; reload the sample data",
                detail=where,
            )
        tables[table] = rows
    return tables


_STATEMENT_STATE = re.compile(r"\bstatement (FAILED|ABORTED)\b")


def redshift_failure(reason: BaseException) -> str:
    """The kind of a Redshift failure, safe for a client: an AWS error code, the statement's
    final state, or a fixed phrase; never the reason's text (role ARN, account, workgroup, SQL)."""
    if reason.__cause__ is not None:
        return public_reason(reason)
    text = str(reason)
    state = _STATEMENT_STATE.search(text)
    if state:
        return f"statement {state.group(1)}"
    if "not configured" in text:
        return "not configured"
    if "after" in text and "still" in text:
        return "statement timed out"
    return "no usable answer"


def reference_key(table: str) -> str:
    """Where the processed bucket keeps one reference table (a JSON array of row objects)."""
    return f"{REFERENCE_PREFIX}/{table}.json"


def clear_cache() -> None:
    _cache.clear()


def load() -> Dataset:
    """The reference data, cached for CACHE_SECONDS per container (one chat turn reads it twice)."""
    cached = _cache.get("dataset")
    if cached and time.monotonic() - cached[0] < CACHE_SECONDS:
        return cached[1]
    dataset = _load()
    _cache["dataset"] = (time.monotonic(), dataset)
    return dataset


def _load() -> Dataset:
    try:
        dataset = Dataset("redshift", _from_redshift())
    except redshift.RedshiftUnavailable as reason:
        # the client sees the failure's kind; the full reason (ARNs, workgroup, SQL error) is logged
        logger.warning(
            "redshift could not answer; using the processed bucket", extra={"reason": str(reason)[:500]}
        )
        dataset = Dataset(
            "processed-bucket",
            _from_bucket(),
            fallback_reason=f"redshift unavailable: {redshift_failure(reason)}",
        )
    dataset.quality_issues = check_quality(dataset.tables)
    return dataset


def check_quality(tables: dict[str, list[dict[str, Any]]]) -> list[str]:
    """Flag rows the computations cannot trust; each issue is logged for the data-quality filter."""
    issues = []
    for venue in tables.get("venues", []):
        capacity = venue.get("capacity")
        if not isinstance(capacity, int | float) or capacity <= 0:
            issues.append(f"venue {venue.get('venue_id')}: capacity {capacity!r}")
            logger.warning(
                "data quality issue",
                extra={"data_quality_issue": "invalid_capacity", "venue_id": venue.get("venue_id")},
            )
    for concert in tables.get("concerts", []):
        if not concert.get("concert_date"):
            issues.append(f"concert {concert.get('concert_id')}: no date")
            logger.warning(
                "data quality issue",
                extra={"data_quality_issue": "missing_concert_date", "concert_id": concert.get("concert_id")},
            )
        price = concert.get("base_price")
        if not isinstance(price, int | float) or price < 0:
            issues.append(f"concert {concert.get('concert_id')}: price {price!r}")
            logger.warning(
                "data quality issue",
                extra={"data_quality_issue": "invalid_price", "concert_id": concert.get("concert_id")},
            )
    for sale in tables.get("ticket_sales", []):
        sold = sale.get("tickets_sold")
        if not isinstance(sold, int | float) or sold < 0:
            issues.append(f"ticket sales of {sale.get('concert_id')}: tickets_sold {sold!r}")
            logger.warning(
                "data quality issue",
                extra={"data_quality_issue": "invalid_tickets_sold", "concert_id": sale.get("concert_id")},
            )
    return issues
