"""A small deterministic sample data set, and the loader that writes it into a deployed platform.

Seeded, so every run produces the same artists, venues, concerts, ticket sales and user
preferences, including two deliberately flawed records (a venue with capacity -1, a concert
with no date) that exercise the handlers' data-quality path.
"""

from __future__ import annotations

import json
import random
from datetime import date, timedelta
from typing import Any

from concert_platform.errors import DeployError
from concert_platform.postdeploy import REDSHIFT_TABLES, query_rows, run_batch

SEED = 20261125
ANCHOR = date(2026, 6, 1)  # the data set's "today": concerts before it are past, after it upcoming
GENRES = ("rock", "pop", "jazz", "electronic", "hip-hop", "classical", "indie")
CITIES = ("Berlin", "Lisbon", "Austin", "Toronto", "Osaka")


def generate(today: date | None = None) -> dict[str, list[dict[str, Any]]]:
    """The data set; concert dates are placed around `today` so some are always upcoming."""
    rng = random.Random(SEED)
    shift = (today - ANCHOR) if today else timedelta(0)
    artists: list[dict[str, Any]] = [
        {
            "artist_id": f"artist-{i:02d}",
            "name": f"{rng.choice(('The', 'Neon', 'Velvet', 'Silver', 'Echo'))} {rng.choice(('Owls', 'Tides', 'Engines', 'Lanterns', 'Atlas'))} {i}",
            "genre": GENRES[i % len(GENRES)],
            "popularity": rng.randint(20, 99),
        }
        for i in range(1, 21)
    ]
    venues: list[dict[str, Any]] = [
        {
            "venue_id": f"venue-{i:02d}",
            "name": f"{CITIES[i % len(CITIES)]} {rng.choice(('Arena', 'Hall', 'Club', 'Theatre'))} {i}",
            "city": CITIES[i % len(CITIES)],
            "capacity": rng.choice((400, 800, 1500, 3000, 12000)),
        }
        for i in range(1, 16)
    ]
    venues[-1]["capacity"] = -1  # deliberately flawed: a data-quality issue
    concerts: list[dict[str, Any]] = []
    sales: list[dict[str, Any]] = []
    for i in range(1, 61):
        artist = artists[rng.randrange(len(artists))]
        venue = venues[rng.randrange(len(venues))]
        day = ANCHOR + shift + timedelta(days=rng.randint(-400, 120))
        concert = {
            "concert_id": f"concert-{i:03d}",
            "artist_id": artist["artist_id"],
            "venue_id": venue["venue_id"],
            "concert_date": day.isoformat(),
            "base_price": float(rng.choice((25, 35, 49, 65, 89, 120))),
        }
        concerts.append(concert)
        if day < ANCHOR + shift and venue["capacity"] > 0:
            rate = min(1.0, max(0.15, rng.gauss(0.45 + artist["popularity"] / 200, 0.15)))
            sold = int(venue["capacity"] * rate)
            sales.append(
                {
                    "concert_id": concert["concert_id"],
                    "tickets_sold": sold,
                    "revenue": round(sold * concert["base_price"], 2),
                }
            )
    concerts[7]["concert_date"] = None  # deliberately flawed: a concert without a date
    users = [
        {
            "user_id": f"user-{i:02d}",
            "favorite_genres": rng.sample(GENRES, 2),
            "favorite_artists": [artists[rng.randrange(len(artists))]["artist_id"]],
            "city": CITIES[i % len(CITIES)],
        }
        for i in range(1, 11)
    ]
    return {"artists": artists, "venues": venues, "concerts": concerts, "ticket_sales": sales, "users": users}


def sample_user_id() -> str:
    return "user-01"


def upcoming_concert_id(today: date | None = None) -> str:
    today = today or date.today()
    data = generate(today)
    horizon = today.isoformat()
    upcoming = [c for c in data["concerts"] if c["concert_date"] and c["concert_date"] >= horizon]
    return sorted(upcoming, key=lambda c: c["concert_id"])[0]["concert_id"]


def _sql_value(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, int | float):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


INSERT_BATCH_ROWS = 50  # rows per INSERT: keeps each statement far below the Data API's 100 KB limit
REQUIRED_OUTPUTS = (
    "ProcessedDataBucketName",
    "UserPreferencesTableName",
    "RedshiftWorkgroupName",
    "RedshiftDatabaseName",
    "RedshiftAdminSecretArn",
)


def insert_statements(
    data: dict[str, list[dict[str, Any]]], batch_rows: int = INSERT_BATCH_ROWS
) -> list[str]:
    """DELETE then batched multi-row INSERTs per table, so a reload replaces rather than duplicates."""
    statements = []
    for table in REDSHIFT_TABLES:
        rows = data[table]
        columns = list(rows[0])
        statements.append(f"DELETE FROM {table}")  # noqa: S608 - fixed table names
        for start in range(0, len(rows), batch_rows):
            values = ", ".join(
                "(" + ", ".join(_sql_value(row[c]) for c in columns) + ")"
                for row in rows[start : start + batch_rows]
            )
            statements.append(f"INSERT INTO {table} ({', '.join(columns)}) VALUES {values}")  # noqa: S608
    return statements


def reference_key(table: str) -> str:
    """The processed-bucket key of one reference table (the handlers' fallback reads the same)."""
    return f"reference/{table}.json"


def load_sample_data(
    session_or_clients: Any, outputs: dict[str, str], today: date | None = None
) -> dict[str, int]:
    """Write the data set into a deployed platform; `outputs` are the stacks' output values by key.

    `session_or_clients` is a boto3 Session or anything with `.client(service)`. JSON copies go to
    the processed bucket (reference/<table>.json), user preferences to the user-preferences
    table, and the tables to Redshift through the Data API (DELETE + batched INSERTs, one
    BatchExecuteStatement transaction). Returns the rows per table as counted back from the
    warehouse; a failing statement or a count that differs from what was loaded is a DeployError."""
    missing = [key for key in REQUIRED_OUTPUTS if not outputs.get(key)]
    if missing:
        raise DeployError(
            f"cannot load sample data: stack outputs {', '.join(missing)} are missing; deploy the storage and chatbot stacks first"
        )
    data = generate(today or date.today())
    s3 = session_or_clients.client("s3")
    bucket = outputs["ProcessedDataBucketName"]
    for table in REDSHIFT_TABLES:
        s3.put_object(
            Bucket=bucket,
            Key=reference_key(table),
            Body=json.dumps(data[table]).encode(),
            ContentType="application/json",
        )
    dynamodb = session_or_clients.client("dynamodb")
    for user in data["users"]:
        dynamodb.put_item(
            TableName=outputs["UserPreferencesTableName"],
            Item={
                "user_id": {"S": user["user_id"]},
                "favorite_genres": {"L": [{"S": g} for g in user["favorite_genres"]]},
                "favorite_artists": {"L": [{"S": a} for a in user["favorite_artists"]]},
                "city": {"S": user["city"]},
            },
        )
    data_api = session_or_clients.client("redshift-data")
    target = (
        outputs["RedshiftWorkgroupName"],
        outputs["RedshiftDatabaseName"],
        outputs["RedshiftAdminSecretArn"],
    )
    run_batch(data_api, *target, insert_statements(data))
    counted = count_warehouse_rows(data_api, *target)
    wrong = [
        f"{table}: {counted.get(table)} rows, {len(data[table])} loaded"
        for table in REDSHIFT_TABLES
        if counted.get(table) != len(data[table])
    ]
    if wrong:
        raise DeployError("sample data counted back from the warehouse does not match: " + "; ".join(wrong))
    return counted


def count_warehouse_rows(data_api: Any, workgroup: str, database: str, secret: str) -> dict[str, int]:
    """Rows per sample table, counted by the warehouse itself."""
    sql = " UNION ALL ".join(
        f"SELECT '{table}' AS table_name, COUNT(*) AS row_count FROM {table}"  # noqa: S608 - fixed table names
        for table in REDSHIFT_TABLES
    )
    return {str(name): int(count) for name, count in query_rows(data_api, workgroup, database, secret, sql)}
