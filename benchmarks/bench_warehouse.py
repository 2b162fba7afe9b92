"""The warehouse's phases on the embedded engine, each timed on its own.

    python benchmarks/bench_warehouse.py [--rounds N]

Starts the embedded engine (moto server + extensions) in this process, creates a Redshift
Serverless namespace and workgroup, then times: the SQL engine's start (the first statement on a
new workgroup creates its DuckDB database), post-deploy's schema step (schema.sql statement by
statement, tables listed back), the sample-data load (one BatchExecuteStatement, counted back),
and one query of each data route's SQL aggregation through `concert_shared.redshift.query`.
Prints the median of each phase over the rounds; a measurement, not a test.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT / "handlers" / "shared")]

from concert_platform import postdeploy, sample_data  # noqa: E402
from concert_platform.engines.embedded import EmbeddedEngine  # noqa: E402

DATABASE = "concert_dw"


def timed(phases: dict[str, list[float]], name: str, call: Callable[[], Any]) -> Any:
    started = time.perf_counter()
    result = call()
    phases.setdefault(name, []).append(time.perf_counter() - started)
    return result


def one_round(engine: EmbeddedEngine, index: int, phases: dict[str, list[float]]) -> None:
    workgroup = f"bench-wh-{index}"
    serverless = engine.client("redshift-serverless")
    serverless.create_namespace(namespaceName=workgroup, dbName=DATABASE)
    serverless.create_workgroup(workgroupName=workgroup, namespaceName=workgroup)
    outputs = {
        "RedshiftWorkgroupName": workgroup,
        "RedshiftDatabaseName": DATABASE,
        "RedshiftAdminSecretArn": "arn:aws:secretsmanager:us-east-1:123456789012:secret:bench-AbCdEf",
    }
    data_api = engine.client("redshift-data")
    timed(
        phases,
        "sql engine start (first statement on a new workgroup)",
        lambda: postdeploy.run_statements(data_api, workgroup, DATABASE, "arn", ["SELECT 1"]),
    )
    timed(
        phases,
        "schema applied and listed back",
        lambda: postdeploy.initialize_redshift_schema(engine, outputs),
    )
    data = sample_data.generate(date.today())
    target = (workgroup, DATABASE, outputs["RedshiftAdminSecretArn"])
    timed(
        phases,
        "sample rows loaded (one batch) and counted back",
        lambda: (
            postdeploy.run_batch(data_api, *target, sample_data.insert_statements(data)),
            sample_data.count_warehouse_rows(data_api, *target),
        ),
    )
    os.environ.update(
        {
            "REDSHIFT_WORKGROUP": workgroup,
            "REDSHIFT_DATABASE": DATABASE,
            "REDSHIFT_SECRET_ARN": outputs["RedshiftAdminSecretArn"],
            "AWS_ENDPOINT_URL": str(engine.endpoint_url),
        }
    )
    from concert_shared import clients, platform_data

    clients.reset()
    today = date.today()
    timed(phases, "route SQL: venue sales", lambda: platform_data.warehouse_venue_sales(today, None))
    timed(
        phases,
        "route SQL: prediction history",
        lambda: platform_data.warehouse_history("artist-01", "venue-01", today),
    )
    timed(
        phases,
        "route SQL: recommendation candidates",
        lambda: platform_data.warehouse_candidates(
            {"favorite_artists": ["artist-01"], "favorite_genres": ["rock"], "city": "Berlin"}, today
        ),
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    phases: dict[str, list[float]] = {}
    engine = EmbeddedEngine("us-east-1")
    started = time.perf_counter()
    engine.start()
    phases["embedded engine start"] = [time.perf_counter() - started]
    try:
        for index in range(args.rounds):
            one_round(engine, index, phases)
    finally:
        engine.stop()
    width = max(len(name) for name in phases)
    for name, seconds in phases.items():
        print(f"{name:<{width}}  median {statistics.median(seconds) * 1000:8.1f} ms  (n={len(seconds)})")


if __name__ == "__main__":
    main()
