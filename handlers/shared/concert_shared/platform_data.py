"""The platform's reference data (artists, venues, concerts, ticket sales): Redshift first, the
processed-data bucket (`reference/<table>.json`) when Redshift cannot answer. Callers are told
which source answered and, for a fallback, why."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from aws_lambda_powertools import Logger

from concert_shared import redshift
from concert_shared.clients import client
from concert_shared.config import optional_env

logger = Logger(child=True)

TABLES: dict[str, list[str]] = {
    "artists": ["artist_id", "name", "genre", "popularity"],
    "venues": ["venue_id", "name", "city", "capacity"],
    "concerts": ["concert_id", "artist_id", "venue_id", "concert_date", "base_price"],
    "ticket_sales": ["concert_id", "tickets_sold", "revenue"],
}
REFERENCE_PREFIX = "reference"


class DataUnavailable(RuntimeError):
    """Neither Redshift nor the processed bucket holds the platform's reference data."""


@dataclass
class Dataset:
    source: str
    tables: dict[str, list[dict[str, Any]]]
    fallback_reason: str = ""
    quality_issues: list[str] = field(default_factory=list)


def _from_redshift() -> dict[str, list[dict[str, Any]]]:
    tables = {}
    for table, columns in TABLES.items():
        rows = redshift.query(f"SELECT {', '.join(columns)} FROM {table}", columns)  # noqa: S608 - fixed identifiers
        if not rows:
            raise redshift.RedshiftUnavailable(f"table {table} is empty")
        tables[table] = rows
    return tables


def _from_bucket() -> dict[str, list[dict[str, Any]]]:
    bucket = optional_env("PROCESSED_BUCKET")
    if not bucket:
        raise DataUnavailable("PROCESSED_BUCKET is not set")
    s3 = client("s3")
    tables = {}
    for table in TABLES:
        key = f"{REFERENCE_PREFIX}/{table}.json"
        try:
            body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        except Exception as exc:  # noqa: BLE001
            raise DataUnavailable(f"s3://{bucket}/{key} is not readable ({type(exc).__name__}); load the sample data") from exc
        tables[table] = json.loads(body)
    return tables


def load() -> Dataset:
    try:
        dataset = Dataset("redshift", _from_redshift())
    except redshift.RedshiftUnavailable as reason:
        dataset = Dataset("processed-bucket", _from_bucket(), fallback_reason=f"redshift: {reason}")
    dataset.quality_issues = check_quality(dataset.tables)
    return dataset


def check_quality(tables: dict[str, list[dict[str, Any]]]) -> list[str]:
    """Flag rows the computations cannot trust; each issue is logged for the data-quality filter."""
    issues = []
    for venue in tables.get("venues", []):
        capacity = venue.get("capacity")
        if not isinstance(capacity, int | float) or capacity <= 0:
            issues.append(f"venue {venue.get('venue_id')}: capacity {capacity!r}")
            logger.warning("data quality issue", extra={"data_quality_issue": "invalid_capacity", "venue_id": venue.get("venue_id")})
    for concert in tables.get("concerts", []):
        if not concert.get("concert_date"):
            issues.append(f"concert {concert.get('concert_id')}: no date")
            logger.warning("data quality issue", extra={"data_quality_issue": "missing_concert_date", "concert_id": concert.get("concert_id")})
        price = concert.get("base_price")
        if not isinstance(price, int | float) or price < 0:
            issues.append(f"concert {concert.get('concert_id')}: price {price!r}")
            logger.warning("data quality issue", extra={"data_quality_issue": "invalid_price", "concert_id": concert.get("concert_id")})
    return issues
