"""The platform's reference data (artists, venues, concerts, ticket sales): Redshift first, the
processed-data bucket (`reference/<table>.json`) when Redshift cannot answer. Callers are told
which source answered and, for a fallback, why.

Where the warehouse can aggregate (venue sales, a prediction's history, recommendation
candidates, data-quality issues) the SQL below does it there and returns a few rows; the same
rows are computed by `concert_shared.analytics` from the bucket's tables when falling back.
Request values reach the SQL only as Data API parameters (`:name`), never in its text."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any, TypeVar

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


# ---- aggregations in the warehouse ------------------------------------------------------------
T = TypeVar("T")

# Recency as analytics.recency(): 1.0 within 90 days, linear to 0.25 at two years (730 days).
VENUE_SALES_SQL = """
SELECT v.venue_id, v.name, v.city, v.capacity,
       COUNT(*) AS concerts,
       CAST(SUM(s.tickets_sold) AS DOUBLE PRECISION) AS sold,
       CAST(SUM(v.capacity) AS DOUBLE PRECISION) AS offered,
       SUM(CASE WHEN DATEDIFF(day, c.concert_date, CAST(:today AS DATE)) <= 90 THEN 1.0
                ELSE GREATEST(0.25, 1.0 - 0.75 * (DATEDIFF(day, c.concert_date, CAST(:today AS DATE)) - 90)
                                        / 640.0) END) AS recency_weight
FROM concerts c
JOIN venues v ON v.venue_id = c.venue_id
JOIN ticket_sales s ON s.concert_id = c.concert_id
WHERE v.capacity > 0 AND s.tickets_sold >= 0
  AND c.concert_date IS NOT NULL AND c.concert_date <= CAST(:today AS DATE)
  {city_filter}
GROUP BY v.venue_id, v.name, v.city, v.capacity
"""
VENUE_SALES_COLUMNS = [
    "venue_id",
    "name",
    "city",
    "capacity",
    "concerts",
    "sold",
    "offered",
    "recency_weight",
]
CITY_FILTER = "AND LOWER(v.city) = LOWER(:city)"

HISTORY_SQL = """
WITH history AS (
    SELECT c.artist_id, c.venue_id, c.base_price,
           LEAST(1.0, CAST(s.tickets_sold AS DOUBLE PRECISION) / v.capacity) AS rate
    FROM concerts c
    JOIN venues v ON v.venue_id = c.venue_id
    JOIN ticket_sales s ON s.concert_id = c.concert_id
    WHERE v.capacity > 0 AND s.tickets_sold >= 0 {date_filter}
)
SELECT 'artist at venue' AS basis, 1 AS tier, COUNT(*) AS concerts, SUM(rate) AS rate_sum,
       CAST(SUM(CASE WHEN base_price > 0 THEN base_price END) AS DOUBLE PRECISION) AS price_sum,
       COUNT(CASE WHEN base_price > 0 THEN 1 END) AS priced
FROM history WHERE artist_id = :artist_id AND venue_id = :venue_id
UNION ALL
SELECT 'artist history', 2, COUNT(*), SUM(rate),
       CAST(SUM(CASE WHEN base_price > 0 THEN base_price END) AS DOUBLE PRECISION),
       COUNT(CASE WHEN base_price > 0 THEN 1 END)
FROM history WHERE artist_id = :artist_id
UNION ALL
SELECT 'venue history', 3, COUNT(*), SUM(rate),
       CAST(SUM(CASE WHEN base_price > 0 THEN base_price END) AS DOUBLE PRECISION),
       COUNT(CASE WHEN base_price > 0 THEN 1 END)
FROM history WHERE venue_id = :venue_id
UNION ALL
SELECT 'platform history', 4, COUNT(*), SUM(rate),
       CAST(SUM(CASE WHEN base_price > 0 THEN base_price END) AS DOUBLE PRECISION),
       COUNT(CASE WHEN base_price > 0 THEN 1 END)
FROM history
ORDER BY tier
"""
HISTORY_COLUMNS = ["basis", "tier", "concerts", "rate_sum", "price_sum", "priced"]
BEFORE_DATE_FILTER = "AND c.concert_date < CAST(:before AS DATE)"

CONCERT_SQL = """
SELECT c.concert_id, c.artist_id, c.venue_id, TO_CHAR(c.concert_date, 'YYYY-MM-DD') AS concert_date,
       CAST(c.base_price AS DOUBLE PRECISION) AS base_price,
       CASE WHEN v.capacity > 0 THEN v.capacity END AS capacity
FROM concerts c LEFT JOIN venues v ON v.venue_id = c.venue_id
WHERE c.concert_id = :concert_id
"""
CONCERT_COLUMNS = ["concert_id", "artist_id", "venue_id", "concert_date", "base_price", "capacity"]
CAPACITY_SQL = "SELECT capacity FROM venues WHERE venue_id = :venue_id AND capacity > 0"

CANDIDATES_SQL = """
SELECT c.concert_id, TO_CHAR(c.concert_date, 'YYYY-MM-DD') AS concert_date, a.artist_id,
       a.name AS artist, a.genre, a.popularity, v.name AS venue, v.city
FROM concerts c
JOIN artists a ON a.artist_id = c.artist_id
JOIN venues v ON v.venue_id = c.venue_id
WHERE c.concert_date >= CAST(:today AS DATE) AND v.capacity > 0
  AND ({conditions})
"""
CANDIDATE_COLUMNS = [
    "concert_id",
    "concert_date",
    "artist_id",
    "artist",
    "genre",
    "popularity",
    "venue",
    "city",
]
MAX_PREFERENCES = 50  # favourite artists or genres sent as parameters, each

QUALITY_SQL = """
SELECT 'invalid_capacity' AS issue, 'venue_id' AS id_name, venue_id AS item_id,
       CAST(capacity AS VARCHAR(32)) AS value FROM venues WHERE capacity IS NULL OR capacity <= 0
UNION ALL
SELECT 'missing_concert_date', 'concert_id', concert_id, NULL FROM concerts WHERE concert_date IS NULL
UNION ALL
SELECT 'invalid_price', 'concert_id', concert_id, CAST(base_price AS VARCHAR(32))
FROM concerts WHERE base_price IS NULL OR base_price < 0
UNION ALL
SELECT 'invalid_tickets_sold', 'concert_id', concert_id, CAST(tickets_sold AS VARCHAR(32))
FROM ticket_sales WHERE tickets_sold IS NULL OR tickets_sold < 0
"""
QUALITY_COLUMNS = ["issue", "id_name", "item_id", "value"]


@dataclass
class Answer:
    """A computed answer and where its data came from."""

    value: Any
    source: str
    fallback_reason: str = ""
    quality_issues: list[str] = field(default_factory=list)


def answer(
    from_warehouse: Callable[[], T], from_tables: Callable[[dict[str, list[dict[str, Any]]]], T]
) -> Answer:
    """`from_warehouse()` (SQL in Redshift); when Redshift cannot answer, `from_tables(tables)` over
    the processed bucket's copy, saying why."""
    try:
        return Answer(from_warehouse(), "redshift")
    except redshift.RedshiftUnavailable as reason:
        # the client sees the failure's kind; the full reason (ARNs, workgroup, SQL error) is logged
        logger.warning(
            "warehouse unavailable, answering from the processed bucket", extra={"reason": str(reason)[:500]}
        )
        dataset = _bucket_dataset(f"redshift unavailable: {redshift_failure(reason)}")
        return Answer(
            from_tables(dataset.tables), dataset.source, dataset.fallback_reason, dataset.quality_issues
        )


def _bucket_dataset(reason: str) -> Dataset:
    cached = _cache.get("bucket")
    if cached and time.monotonic() - cached[0] < CACHE_SECONDS:
        dataset: Dataset = cached[1]
    else:
        dataset = Dataset("processed-bucket", _from_bucket())
        dataset.quality_issues = check_quality(dataset.tables)
        _cache["bucket"] = (time.monotonic(), dataset)
    return Dataset(dataset.source, dataset.tables, reason, dataset.quality_issues)


def warehouse_venue_sales(today: date, city: str | None) -> list[dict[str, Any]]:
    """analytics.venue_sales, aggregated in the warehouse."""
    parameters = {"today": today.isoformat()}
    if city:
        parameters["city"] = city
    sql = VENUE_SALES_SQL.replace("{city_filter}", CITY_FILTER if city else "")
    return redshift.query(sql, VENUE_SALES_COLUMNS, parameters)


def warehouse_history(artist_id: str, venue_id: str, on: date | None) -> list[dict[str, Any]]:
    """analytics.history_tiers, aggregated in the warehouse."""
    parameters = {"artist_id": artist_id, "venue_id": venue_id}
    if on is not None:
        parameters["before"] = on.isoformat()
    sql = HISTORY_SQL.replace("{date_filter}", BEFORE_DATE_FILTER if on is not None else "")
    rows = redshift.query(sql, HISTORY_COLUMNS, parameters)
    return [{**row, "rate_sum": row["rate_sum"] or 0.0, "price_sum": row["price_sum"] or 0.0} for row in rows]


def warehouse_concert(concert_id: str) -> dict[str, Any] | None:
    rows = redshift.query(CONCERT_SQL, CONCERT_COLUMNS, {"concert_id": concert_id})
    return rows[0] if rows else None


def warehouse_capacity(venue_id: str) -> int | None:
    rows = redshift.query(CAPACITY_SQL, ["capacity"], {"venue_id": venue_id})
    return rows[0]["capacity"] if rows else None


def warehouse_candidates(preferences: dict[str, Any], today: date) -> list[dict[str, Any]]:
    """analytics.recommendation_candidates, selected in the warehouse."""
    parameters = {"today": today.isoformat()}
    conditions = []
    artists = [str(a) for a in preferences.get("favorite_artists", []) if a][:MAX_PREFERENCES]
    genres = [str(g).lower() for g in preferences.get("favorite_genres", []) if g][:MAX_PREFERENCES]
    if artists:
        names = [f"artist_{index}" for index in range(len(artists))]
        conditions.append("a.artist_id IN (" + ", ".join(f":{name}" for name in names) + ")")
        parameters.update(zip(names, artists, strict=True))
    if genres:
        names = [f"genre_{index}" for index in range(len(genres))]
        conditions.append("LOWER(a.genre) IN (" + ", ".join(f":{name}" for name in names) + ")")
        parameters.update(zip(names, genres, strict=True))
    if preferences.get("city"):
        conditions.append("LOWER(v.city) = LOWER(:city)")
        parameters["city"] = str(preferences["city"])
    if not conditions:
        return []
    sql = CANDIDATES_SQL.replace("{conditions}", " OR ".join(conditions))
    return redshift.query(sql, CANDIDATE_COLUMNS, parameters)


def warehouse_quality_issues() -> list[str]:
    """check_quality's issues, found by the warehouse (each logged for the data-quality filter)."""
    issues = []
    for row in redshift.query(QUALITY_SQL, QUALITY_COLUMNS):
        issues.append(_issue(row["issue"], row["id_name"], row["item_id"], row["value"]))
    return issues


def _issue(kind: str, id_name: str, item_id: Any, value: Any) -> str:
    logger.warning("data quality issue", extra={"data_quality_issue": kind, id_name: item_id})
    return f"{id_name} {item_id}: {kind} ({value!r})"
