"""Breaking the warehouse in a copy of the project makes `concert-platform e2e` exit 1 naming it.

Each test copies the project and plants one fault. A fault in a handler's SQL is applied to the
worker's fault bed as an update (tests/integration/fault_bed.py); a fault in schema.sql needs a
fresh deploy (the warehouse keeps its tables through an update), so those two run the e2e command
in this process against a fresh embedded engine. Each reads the exit code and the failing check."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from tests.integration.conftest import failing_checks, only_smoke_failures

pytestmark = [pytest.mark.integration, pytest.mark.own_engine]
ROOT = Path(__file__).resolve().parents[2]
SCHEMA = Path("src/concert_platform/sql/schema.sql")


def test_typo_in_a_handlers_sql(planted_update: Any) -> None:
    code, report = planted_update(
        (
            "handlers/shared/concert_shared/platform_data.py",
            "JOIN ticket_sales s ON s.concert_id = c.concert_id",
            "JOIN ticket_sales s ON s.concert_id = c.concert_idd",
        ),
    )
    assert code == 1
    assert only_smoke_failures(report) == {
        "api GET /venues/popularity",
        "dependency failures GET /venues/popularity",
    }
    failures = failing_checks(report)
    assert "api GET /venues/popularity" in failures, failures
    assert "not the warehouse" in failures["api GET /venues/popularity"]
    assert "the warehouse's last failed statement: SELECT" in failures["api GET /venues/popularity"]
    assert "concert_idd" in failures["api GET /venues/popularity"]
    assert report["rollback"]["clean"]


def test_broken_schema_statement(planted_e2e: Any) -> None:
    code, report = planted_e2e(
        "wh-schema",
        (
            str(SCHEMA),
            "CREATE TABLE IF NOT EXISTS venues (",
            "CREATE TABEL IF NOT EXISTS venues (",
        ),
    )
    assert code == 1
    assert "Redshift statement failed: CREATE TABEL IF NOT EXISTS venues (" in report["reason"]
    assert "syntax error" in report["reason"]
    assert report["teardown"]["clean"]


def test_column_renamed_in_the_schema_only(planted_e2e: Any) -> None:
    code, report = planted_e2e(
        "wh-column",
        (
            str(SCHEMA),
            "    capacity    INTEGER",
            "    seat_capacity INTEGER",
        ),
    )
    assert code == 1
    assert (
        "Redshift statement failed: INSERT INTO venues (venue_id, name, city, capacity)" in report["reason"]
    )
    assert 'does not have a column with name "capacity"' in report["reason"]
    assert report["teardown"]["clean"]
