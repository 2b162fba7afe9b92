"""The hostile-input and failure flows catch what they exist for: each test plants one mistake in
a copy of the project, applies it to the worker's fault bed as an update
(tests/integration/fault_bed.py), and sees the checks `e2e` runs fail with the flow naming it."""

from __future__ import annotations

from typing import Any

import pytest
from tests.integration.conftest import failing_checks, only_smoke_failures

pytestmark = [pytest.mark.integration, pytest.mark.own_engine]
SERVICES = "handlers/shared/concert_shared/services.py"
PLATFORM_DATA = "handlers/shared/concert_shared/platform_data.py"


def test_a_handler_that_swallows_a_dependency_error(planted_update: Any) -> None:
    code, report = planted_update(
        (
            SERVICES,
            "    preferences = user_preferences(user_id)\n    endpoint",
            "    try:\n        preferences = user_preferences(user_id)\n    except Exception:\n"
            '        return {"user_id": user_id, "recommendations": [], "source": "preferences (redshift)"}\n'
            "    endpoint",
        ),
    )
    assert code == 1
    assert only_smoke_failures(report) == {"dependency failures GET /recommendations"}
    failures = failing_checks(report)
    detail = failures["dependency failures GET /recommendations"]
    assert f"dynamodb:GetItem on table/concert-user-preferences-{report['environment']}" in detail
    assert "answered 200 with other data than without the failure" in detail
    assert report["rollback"]["clean"]


def test_a_quote_in_a_filter_cannot_widen_the_result(planted_update: Any) -> None:
    # the city reaches the SQL through an f-string instead of a Data API parameter
    code, report = planted_update(
        (
            PLATFORM_DATA,
            '    if city:\n        parameters["city"] = city\n'
            '    sql = VENUE_SALES_SQL.replace("{city_filter}", CITY_FILTER if city else "")',
            '    sql = VENUE_SALES_SQL.replace("{city_filter}", f"AND LOWER(v.city) = LOWER(\'{city}\')" if city else "")',
        ),
    )
    assert code == 1
    assert only_smoke_failures(report) == {"hostile input GET /venues/popularity"}
    failures = failing_checks(report)
    detail = failures["hostile input GET /venues/popularity"]
    assert "query city (sql quote" in detail
    assert "the filter was widened" in detail
    assert report["rollback"]["clean"]


def test_a_broken_fallback_is_found_by_failing_the_primary(planted_update: Any) -> None:
    # the bucket's copy is read from a key nothing writes: only the fallback path is broken
    code, report = planted_update(
        (
            PLATFORM_DATA,
            'return f"{REFERENCE_PREFIX}/{table}.json"',
            'return f"{REFERENCE_PREFIX}/{table}s.json"',
        ),
    )
    assert code == 1
    assert only_smoke_failures(report) == {
        "dependency failures GET /recommendations",
        "dependency failures GET /venues/popularity",
        "dependency failures POST /predictions/tickets",
    }
    failures = failing_checks(report)
    detail = failures["dependency failures GET /venues/popularity"]
    assert (
        "warehouse statements FAILED (fallback on purpose): the documented fallback did not answer" in detail
    )
    assert report["rollback"]["clean"]


def test_a_broken_primary_path_hidden_by_its_fallback(planted_update: Any) -> None:
    # the recommendations' warehouse query names a column that does not exist: the bucket answers
    code, report = planted_update(
        (
            PLATFORM_DATA,
            'conditions.append("LOWER(a.genre) IN ("',
            'conditions.append("LOWER(a.genres) IN ("',
        ),
    )
    assert code == 1
    assert only_smoke_failures(report) == {
        "api GET /recommendations",
        "dependency failures GET /recommendations",
    }
    failures = failing_checks(report)
    detail = failures["dependency failures GET /recommendations"]
    assert "answered through the fallback (preferences (processed-bucket)" in detail
    assert "the warehouse, should have served" in detail
    assert "genres" in detail  # the warehouse's failed statement names the broken column
    assert report["rollback"]["clean"]
