"""The hostile-input, failure and contract flows' judgements, on plain answers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from concert_platform.engines.base import Engine, EngineLacksCapability
from concert_platform.engines.moto_ext import faults
from concert_platform.smoke import HttpResponse
from concert_platform.smoke.contracts import dashboard_metrics
from concert_platform.smoke.failures import judge
from concert_platform.smoke.hostile import ApiRoute, attacks, error_problem, read_api_doc, widened

ROOT = Path(__file__).resolve().parents[2]
CORS = {"access-control-allow-origin": "*"}


def ok(body: Any) -> HttpResponse:
    return HttpResponse(200, dict(CORS), body)


def test_the_api_doc_gives_fields_and_errors() -> None:
    doc = read_api_doc(ROOT)
    assert doc.fields[("GET", "/venues/popularity")]["query"] == ("limit", "city")
    assert doc.fields[("POST", "/chat")]["body"] == ("message", "session_id", "user_id")
    assert (503, "data_unavailable") in doc.errors
    assert (400, "invalid_request") in doc.errors
    assert (500, "internal_error") in doc.errors


def test_a_quote_in_a_filter_cannot_widen_the_result() -> None:
    sent = {"city": "x') OR ('1'='1", "limit": "5"}
    assert widened(ok({"venues": [], "source": "redshift"}), sent) is None
    wide = widened(ok({"venues": [{"venue_id": "v1", "city": "Berlin"}], "source": "redshift"}), sent)
    assert wide is not None and "the filter was widened" in wide and "Berlin" in wide
    # the filter is compared case-insensitively, as documented
    assert widened(ok({"venues": [{"city": "berlin"}]}), {"city": "Berlin"}) is None
    assert "limit 1 answered 2 venues" in str(widened(ok({"venues": [{}, {}]}), {"limit": "1"}))


def test_an_undocumented_error_is_named() -> None:
    doc = read_api_doc(ROOT)
    shaped = {"error": {"code": "invalid_request", "message": "m", "correlation_id": "c"}}
    assert error_problem(HttpResponse(400, dict(CORS), shaped), doc) is None
    assert "not a documented error" in str(error_problem(HttpResponse(418, dict(CORS), shaped), doc))
    assert "documented error shape" in str(error_problem(HttpResponse(502, {}, {"message": "x"}), doc))
    assert "no CORS header" in str(error_problem(HttpResponse(400, {}, shaped), doc))


def test_every_field_and_the_path_is_attacked() -> None:
    route = ApiRoute("GET", "/venues/popularity", "f", query=("limit", "city"))
    planned = attacks(route, {"query": {"limit": "5"}})
    wheres = {a.where for a in planned}
    assert wheres == {"query limit", "query city", "path"}
    assert any("') OR ('" in a.request["query"]["city"] for a in planned if a.where == "query city")
    assert any(a.request["query"]["limit"] == "abc" for a in planned if a.where == "query limit")


def test_a_failed_dependency_must_not_answer_other_data() -> None:
    doc = read_api_doc(ROOT)
    baseline = ok(
        {"user_id": "u", "recommendations": [{"concert_id": "c1"}], "source": "preferences (redshift)"}
    )
    same_by_fallback = ok(
        {
            "user_id": "u",
            "recommendations": [{"concert_id": "c1"}],
            "source": "preferences (processed-bucket)",
        }
    )
    assert judge(same_by_fallback, baseline, "x", "E", doc) is None
    empty = ok({"user_id": "u", "recommendations": [], "source": "preferences (redshift)"})
    assert "other data than without the failure" in str(judge(empty, baseline, "x", "E", doc))
    blamed = HttpResponse(
        404, dict(CORS), {"error": {"code": "unknown_user", "message": "m", "correlation_id": "c"}}
    )
    assert "blamed on the caller" in str(judge(blamed, baseline, "x", "E", doc))
    shaped = HttpResponse(
        500, dict(CORS), {"error": {"code": "internal_error", "message": "m", "correlation_id": "c"}}
    )
    assert judge(shaped, baseline, "x", "E", doc) is None
    healthy = ok({"status": "healthy", "dependencies": {"t": {"status": "ok", "required": True}}})
    assert "reports no required dependency failing" in str(judge(healthy, healthy, "x", "E", doc))


def test_dashboard_shorthands_are_expanded() -> None:
    body = {
        "widgets": [
            {
                "properties": {
                    "metrics": [
                        ["AWS/Lambda", "Invocations", "FunctionName", "a"],
                        [".", "Errors", ".", "."],
                        ["...", "b"],
                    ]
                }
            },
            {"properties": {"metrics": [["NS/e", "DataQualityIssues"], [{"expression": "m1*2"}]]}},
        ]
    }
    assert dashboard_metrics(body) == [
        ("AWS/Lambda", "Invocations"),
        ("AWS/Lambda", "Errors"),
        ("AWS/Lambda", "Errors"),
        ("NS/e", "DataQualityIssues"),
    ]


def test_an_engine_that_cannot_fail_a_call_says_so() -> None:
    with pytest.raises(EngineLacksCapability, match="fail a chosen call"):
        Engine("us-east-1").fail_calls("f", "dynamodb:GetItem", "ResourceNotFoundException")


def test_a_call_fault_hits_only_its_function_action_and_resource_and_only_as_often_as_asked() -> None:
    fault = faults.arm(
        faults.CallFault("fn-a", "dynamodb:GetItem", "ResourceNotFoundException", "table/t1", 1)
    )
    try:
        assert faults.take("fn-b", "dynamodb:GetItem", "arn:table/t1") is None
        assert faults.take("fn-a", "dynamodb:Query", "arn:table/t1") is None
        assert faults.take("fn-a", "dynamodb:GetItem", "arn:table/t2") is None
        assert faults.take("fn-a", "dynamodb:GetItem", "arn:table/t1") is fault
        assert faults.take("fn-a", "dynamodb:GetItem", "arn:table/t1") is None  # one-shot
        assert fault.hits == [("dynamodb:GetItem", "arn:table/t1")]
    finally:
        faults.disarm(fault)
    every = faults.arm(faults.CallFault("fn-a", "s3:GetObject", "SlowDown", times=None))
    faults.disarm(every)
    assert faults.take("fn-a", "s3:GetObject", "arn:aws:s3:::b/k") is None  # disarmed


def test_every_documented_route_has_a_sample_request() -> None:
    from concert_platform.smoke.hostile import sample_requests

    assert set(sample_requests()) == set(read_api_doc(ROOT).fields)


def test_unwatched_metrics_say_why() -> None:
    from concert_platform.smoke.contracts import UNWATCHED_METRICS

    assert all(len(reason) > 40 for reason in UNWATCHED_METRICS.values())
