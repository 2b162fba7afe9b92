"""The log lines the handlers really emit match the metric and subscription filters of
templates/06-tracing-logging.yaml, so the alarms and the error processor can actually fire.

Every filter in the tracing stack is traced to the function whose log group it watches (export
-> output -> log group -> function of the same name -> `Handler`), that handler is driven into
the situation the filter is for, and its Powertools JSON lines are matched with the filter's
own pattern (concert_platform.filter_pattern implements CloudWatch's JSON pattern syntax)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest

import chatbot
import chatbot_maintenance
import conversation_analytics
import health_check
import recommendations
import ticket_prediction
import venue_popularity
from concert_platform.filter_pattern import matches
from concert_platform.manifest import load_cfn_yaml

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = {p.name: load_cfn_yaml(p.read_text()) for p in sorted((ROOT / "templates").glob("*.yaml"))}
MODULES = {
    m.__name__: m
    for m in (
        chatbot,
        venue_popularity,
        ticket_prediction,
        recommendations,
        health_check,
        chatbot_maintenance,
        conversation_analytics,
    )
}


def _handler_of_log_group_export(export_suffix: str) -> str:
    """The handler module of the function whose log group is exported as `<stack>-<suffix>`."""
    for template in TEMPLATES.values():
        output = template.get("Outputs", {}).get(export_suffix)
        if not output:
            continue
        group = template["Resources"][output["Value"]["Ref"]]["Properties"]["LogGroupName"]["Fn::Sub"]
        function_name = group.removeprefix("/aws/lambda/")
        for resource in template["Resources"].values():
            props = resource.get("Properties", {})
            if resource["Type"] == "AWS::Lambda::Function" and props.get("FunctionName") == {
                "Fn::Sub": function_name
            }:
                return str(props["Handler"]).split(".")[0]
    raise AssertionError(f"no function's log group is exported as {export_suffix}")


def tracing_filters() -> list[tuple[str, str, str]]:
    """(filter logical id, handler module, pattern) for every filter of the tracing stack."""
    found = []
    for name, resource in TEMPLATES["06-tracing-logging.yaml"]["Resources"].items():
        if resource["Type"] not in ("AWS::Logs::MetricFilter", "AWS::Logs::SubscriptionFilter"):
            continue
        props = resource["Properties"]
        imported = props["LogGroupName"]["Fn::ImportValue"]["Fn::Sub"]
        suffix = re.fullmatch(r"\$\{\w+\}-(\w+)", imported)
        assert suffix, f"{name}: unexpected log group import {imported}"
        found.append((name, _handler_of_log_group_export(suffix.group(1)), props["FilterPattern"]))
    return found


def kind_of(pattern: str) -> str:
    if "$.level" in pattern:
        return "error"
    if "$.latency_ms" in pattern:
        return "latency"
    if "$.data_quality_issue" in pattern:
        return "data_quality"
    raise AssertionError(f"no scenario for pattern {pattern}: add one to tests/unit/test_log_patterns.py")


def _api_request(
    module: str, data: dict[str, list[dict[str, Any]]] | None, make_api_event: Any
) -> dict[str, Any]:
    concert = data["concerts"][0]["concert_id"] if data else "concert-0001"
    user = data["users"][0]["user_id"] if data else "user-001"
    return {
        "chatbot": make_api_event("POST", "/chat", {"message": "Which venues are popular?"}),
        "venue_popularity": make_api_event("GET", "/venues/popularity"),
        "ticket_prediction": make_api_event("POST", "/predictions/tickets", {"concert_id": concert}),
        "recommendations": make_api_event("GET", "/recommendations", query={"user_id": user}),
        "health_check": make_api_event("GET", "/health"),
    }[module]


def _run(module: str, event: dict[str, Any], context: Any) -> Any:
    try:
        return MODULES[module].handler(event, context)
    except Exception as exc:  # the scheduled jobs re-raise after logging, so Lambda records a failure
        return exc


def situation(kind: str, module: str, request: pytest.FixtureRequest, platform: Any) -> Callable[[], Any]:
    """Put the platform into the state the filter is for; return the call that should log it."""
    context, make_api_event = (
        request.getfixturevalue("lambda_context"),
        request.getfixturevalue("make_api_event"),
    )
    dynamodb = boto3.client("dynamodb")
    if module in ("chatbot_maintenance", "conversation_analytics"):
        event = {"source": "aws.events", "detail-type": "Scheduled Event"}
        if kind == "error":  # the table the job reads is gone
            table = "SESSION_STATE_TABLE" if module == "chatbot_maintenance" else "CONVERSATION_HISTORY_TABLE"
            dynamodb.delete_table(TableName=platform[table])
        elif kind == "data_quality":  # a history item the chatbot would never write
            import time

            dynamodb.put_item(
                TableName=platform["CONVERSATION_HISTORY_TABLE"],
                Item={
                    "session_id": {"S": "s-1"},
                    "turn": {"N": "1"},
                    "role": {"S": "robot"},
                    "content": {"S": "x"},
                    "created_at": {"N": str(int(time.time()) - 60)},
                },
            )
        return lambda: _run(module, event, context)
    if kind == "error":  # reference data never loaded, required tables gone: a real server-side fault
        for table in ("SESSION_STATE_TABLE", "USER_PREFERENCES_TABLE"):
            dynamodb.delete_table(TableName=platform[table])
        return lambda: _run(module, _api_request(module, None, make_api_event), context)
    data = request.getfixturevalue("sample_data")  # has deliberate quality problems (venue-15 ...)
    return lambda: _run(module, _api_request(module, data, make_api_event), context)


@pytest.mark.parametrize(("filter_name", "module", "pattern"), tracing_filters(), ids=lambda v: str(v)[:40])
def test_the_handler_emits_a_line_the_filter_matches(
    filter_name: str, module: str, pattern: str, request: pytest.FixtureRequest, platform: Any, json_logs: Any
) -> None:
    assert module in MODULES, f"{filter_name} watches {module}, which has no scenario here"
    call = situation(kind_of(pattern), module, request, platform)
    json_logs.lines.clear()
    call()
    assert json_logs.lines, f"{module} logged nothing"
    hits = [line for line in json_logs.lines if matches(pattern, line)]
    assert hits, f"{filter_name} ({pattern}) matched none of {module}'s lines:\n" + "\n".join(
        json_logs.lines[:10]
    )


@pytest.mark.parametrize("module", sorted(MODULES))
def test_a_healthy_run_trips_no_error_filter(
    module: str, request: pytest.FixtureRequest, platform: Any, json_logs: Any
) -> None:
    call = situation("healthy", module, request, platform)
    json_logs.lines.clear()
    result = call()
    assert not isinstance(result, Exception), result
    if isinstance(result, dict) and "statusCode" in result:
        assert result["statusCode"] == 200, result["body"]
    errors = {p for _, m, p in tracing_filters() if m == module and kind_of(p) == "error"}
    assert errors, f"no error filter watches {module}"
    for pattern in errors:
        assert not [line for line in json_logs.lines if matches(pattern, line)], (module, pattern)


def test_every_scheduled_and_api_function_is_watched() -> None:
    watched = {m for _, m, _ in tracing_filters()}
    assert watched == set(MODULES)
