"""concert_shared.redshift.query: every page read, a loud limit, statuses and result shapes."""

from __future__ import annotations

from typing import Any

import pytest
from redshift_stub import load_warehouse, redshift_stubber, stub_statement

from concert_shared import redshift


def test_a_paged_result_is_read_to_the_end(platform):
    pages = [[[f"v{page}-{row}", row] for row in range(3)] for page in range(4)]
    with redshift_stubber() as stubber:
        stub_statement(stubber, ["venue_id", "capacity"], pages)
        rows = redshift.query("SELECT venue_id, capacity FROM venues", ["venue_id", "capacity"])
        stubber.assert_no_pending_responses()
    assert len(rows) == 12
    assert rows[0] == {"venue_id": "v0-0", "capacity": 0} and rows[-1] == {"venue_id": "v3-2", "capacity": 2}


def test_a_result_over_the_row_limit_fails_loudly(platform):
    """250,000 rows announced: no answer from the first page (it used to be answered silently)."""
    with redshift_stubber() as stubber:
        stub_statement(stubber, ["n"], [[[1]] * 1000, [[2]] * 1000], total=250_000)
        with pytest.raises(redshift.ResultTooLarge, match="250000 rows, more than the limit of 100000"):
            redshift.query("SELECT n FROM big", ["n"])


def test_too_large_a_result_is_a_503_not_a_fallback(platform, sample_data, make_api_event, lambda_context):
    import json

    import venue_popularity

    with redshift_stubber() as stubber:
        stub_statement(stubber, ["venue_id"], [[["v"]]], total=250_000)
        response = venue_popularity.handler(make_api_event("GET", "/venues/popularity"), lambda_context)
    assert response["statusCode"] == 503
    assert json.loads(response["body"])["error"]["code"] == "result_too_large"


def test_the_limit_also_holds_when_pages_do_not_say_their_total(platform):
    with redshift_stubber() as stubber:
        stub_statement(stubber, ["n"], [[[1]] * 3, [[2]] * 3], total=0)
        with pytest.raises(redshift.ResultTooLarge):
            redshift.query("SELECT n FROM big", ["n"], max_rows=4)


def test_the_real_engine_pages_and_every_row_arrives(platform, sample_data):
    load_warehouse(platform.env, sample_data)
    rows: list[dict[str, Any]] = redshift.query(
        "SELECT CAST(n AS INTEGER) AS n FROM generate_series(1, 2600) AS t(n) WHERE n >= :low",
        ["n"],
        {"low": "1"},
    )
    assert [row["n"] for row in rows] == list(range(1, 2601))


def test_failed_statement_is_unavailable_with_the_engines_error(platform, sample_data):
    load_warehouse(platform.env, sample_data)
    with pytest.raises(redshift.RedshiftUnavailable, match=r"FAILED: ERROR: .*nme"):
        redshift.query("SELECT nme FROM venues", ["name"])


def test_unexpected_columns_are_refused(platform, sample_data):
    load_warehouse(platform.env, sample_data)
    with pytest.raises(redshift.RedshiftUnavailable, match="unexpected result columns"):
        redshift.query("SELECT venue_id, city FROM venues", ["venue_id", "name"])
