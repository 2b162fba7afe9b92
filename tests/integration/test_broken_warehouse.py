"""Breaking the warehouse in a copy of the project makes `concert-platform e2e` exit 1 naming it.

Each test copies the project, plants one fault, runs the e2e command in this process against a
fresh embedded engine, and reads its exit code and its output (the report's error or the failing
smoke check)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from concert_platform.cli import main

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
SCHEMA = Path("src/concert_platform/sql/schema.sql")


def run_e2e(
    environment: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> tuple[int, dict[str, Any]]:
    code = main(
        [
            "e2e",
            "--engine",
            "embedded",
            "--environment",
            environment,
            "--json",
            "--reports-dir",
            str(tmp_path / "reports"),
        ]
    )
    out = capsys.readouterr().out
    return code, json.loads(out[out.index("{") :])


def failing_checks(report: dict[str, Any]) -> dict[str, str]:
    return {c["name"]: c["detail"] for c in report["smoke"]["checks"] if not c["ok"]}


def test_typo_in_a_handlers_sql(project_copy: Any, tmp_path: Path, capsys: Any) -> None:
    project_copy(
        "handlers/shared/concert_shared/platform_data.py",
        "JOIN ticket_sales s ON s.concert_id = c.concert_id",
        "JOIN ticket_sales s ON s.concert_id = c.concert_idd",
    )
    code, report = run_e2e("wh-sql", tmp_path, capsys)
    assert code == 1
    failures = failing_checks(report)
    assert "api GET /venues/popularity" in failures, failures
    assert "not the warehouse" in failures["api GET /venues/popularity"]
    assert "the warehouse's last failed statement: SELECT" in failures["api GET /venues/popularity"]
    assert "concert_idd" in failures["api GET /venues/popularity"]
    assert report["teardown"]["clean"]


def test_broken_schema_statement(project_copy: Any, tmp_path: Path, capsys: Any) -> None:
    project_copy(str(SCHEMA), "CREATE TABLE IF NOT EXISTS venues (", "CREATE TABEL IF NOT EXISTS venues (")
    code, report = run_e2e("wh-schema", tmp_path, capsys)
    assert code == 1
    assert "Redshift statement failed: CREATE TABEL IF NOT EXISTS venues (" in report["reason"]
    assert "syntax error" in report["reason"]
    assert report["teardown"]["clean"]


def test_column_renamed_in_the_schema_only(project_copy: Any, tmp_path: Path, capsys: Any) -> None:
    project_copy(str(SCHEMA), "    capacity    INTEGER", "    seat_capacity INTEGER")
    code, report = run_e2e("wh-column", tmp_path, capsys)
    assert code == 1
    assert (
        "Redshift statement failed: INSERT INTO venues (venue_id, name, city, capacity)" in report["reason"]
    )
    assert 'does not have a column with name "capacity"' in report["reason"]
    assert report["teardown"]["clean"]
