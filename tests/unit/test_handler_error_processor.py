"""Error processor: decode, classify, fingerprint, alert once per window, never crash."""

from __future__ import annotations

import base64
import gzip
import json
from typing import Any

import pytest

import error_processor


def subscription_event(
    messages: list[str], log_group: str = "/aws/lambda/concert-api-chatbot-unittest"
) -> dict[str, Any]:
    payload = {
        "messageType": "DATA_MESSAGE",
        "owner": "123456789012",
        "logGroup": log_group,
        "logStream": "2026/11/25/[$LATEST]abc",
        "subscriptionFilters": ["errors"],
        "logEvents": [
            {"id": str(i), "timestamp": 1795577531000 + i, "message": m} for i, m in enumerate(messages)
        ],
    }
    return {"awslogs": {"data": base64.b64encode(gzip.compress(json.dumps(payload).encode())).decode()}}


def line(level: str, message: str, **extra: Any) -> str:
    return json.dumps({"level": level, "message": message, "service": "chatbot", **extra})


@pytest.mark.parametrize(
    ("message", "severity"),
    [
        (line("CRITICAL", "database gone"), "critical"),
        (line("ERROR", "Task timed out after 30.00 seconds"), "critical"),
        (line("ERROR", "Runtime exited with error: signal: killed"), "critical"),
        (line("ERROR", "An error occurred (AccessDenied) when calling GetObject"), "critical"),
        (line("ERROR", "boom", exception_name="OutOfMemory"), "critical"),
        (line("ERROR", "unhandled error", exception_name="KeyError"), "warning"),
        (line("INFO", "AccessDenied mentioned in passing"), "ignore"),
        (line("WARNING", "data quality issue"), "ignore"),
        ("2026-11-25T03:00:00Z abc Task timed out after 3.00 seconds", "critical"),
        ("plain text line", "ignore"),
    ],
)
def test_classification(message, severity):
    assert error_processor.classify(message)[0] == severity


def test_fingerprint_ignores_volatile_parts_but_not_the_error_type():
    a = {
        "service": "chatbot",
        "message": "statement 1a2b3c4d5e6f7a8b failed after 31 ms",
        "exception_name": "RedshiftUnavailable",
    }
    b = {
        "service": "chatbot",
        "message": "statement 99ffee00aa11bb22 failed after 7 ms",
        "exception_name": "RedshiftUnavailable",
    }
    c = {**a, "exception_name": "KeyError"}
    d = {**a, "service": "health-check"}
    assert error_processor.fingerprint("g", a) == error_processor.fingerprint("g", b)
    assert len({error_processor.fingerprint("g", x) for x in (a, c, d)}) == 3


def test_one_alert_per_fingerprint_per_window_and_the_count_carries(platform, lambda_context, monkeypatch):
    storm = [
        line("ERROR", f"request {i} failed: KeyError 'x{i}'", exception_name="KeyError") for i in range(20)
    ]
    first = error_processor.handler(subscription_event(storm), lambda_context)
    assert first == {
        "events": 20,
        "alerts": 1,
        "suppressed": 19,
        "ignored": 0,
        "failed": 0,
        "malformed": 0,
        "already_counted": 0,
    }
    second = error_processor.handler(subscription_event(storm[:5]), lambda_context)
    assert second["alerts"] == 0 and second["suppressed"] == 5
    warnings = platform.messages("WARNING_TOPIC_ARN")
    assert len(warnings) == 1
    assert warnings[0]["message"]["occurrences"] == 20
    assert warnings[0]["subject"].startswith("[WARNING] chatbot:")
    assert platform.messages("CRITICAL_TOPIC_ARN") == []
    # the window has passed: the next alert reports what was suppressed meanwhile
    later = error_processor.process(
        json.loads(gzip.decompress(base64.b64decode(subscription_event(storm[:1])["awslogs"]["data"]))),
        now=2_000_000_000,
    )
    assert later["alerts"] == 1
    assert platform.messages("WARNING_TOPIC_ARN")[0]["message"]["suppressed_since_last_alert"] == 5


def test_critical_goes_to_the_critical_topic(platform, lambda_context):
    result = error_processor.handler(
        subscription_event([line("ERROR", "Task timed out after 30.01 seconds"), line("INFO", "fine")]),
        lambda_context,
    )
    assert result["alerts"] == 1 and result["ignored"] == 1
    alerts = platform.messages("CRITICAL_TOPIC_ARN")
    assert len(alerts) == 1 and alerts[0]["message"]["severity"] == "critical"
    assert alerts[0]["message"]["error_type"] == "Task timed out"


@pytest.mark.parametrize(
    "event",
    [
        {},
        {"awslogs": {}},
        {"awslogs": {"data": "not base64!"}},
        {"awslogs": {"data": base64.b64encode(b"not gzip").decode()}},
        {"awslogs": {"data": base64.b64encode(gzip.compress(b"not json")).decode()}},
        {"awslogs": {"data": base64.b64encode(gzip.compress(b"[1, 2]")).decode()}},
    ],
)
def test_malformed_payloads_are_reported_not_raised(platform, lambda_context, json_logs, event):
    result = error_processor.handler(event, lambda_context)
    assert result["malformed"] == 1 and result["alerts"] == 0
    assert any(r["message"] == "malformed subscription payload" for r in json_logs.records)


def test_malformed_log_events_do_not_stop_the_batch(platform, lambda_context):
    event = subscription_event([line("ERROR", "real problem")])
    payload = json.loads(gzip.decompress(base64.b64decode(event["awslogs"]["data"])))
    payload["logEvents"].insert(0, {"id": "x"})
    payload["logEvents"].insert(0, "garbage")
    result = error_processor.process(payload)
    assert result["malformed"] == 2 and result["alerts"] == 1


def test_a_failing_publish_is_retried_and_the_rest_still_alert(platform, lambda_context, monkeypatch):
    monkeypatch.setenv("CRITICAL_TOPIC_ARN", "arn:aws:sns:us-east-1:123456789012:no-such-topic")
    event = subscription_event([line("CRITICAL", "down"), line("ERROR", "minor")])
    with pytest.raises(error_processor.AlertsNotDelivered, match="1 alert"):
        error_processor.handler(event, lambda_context)  # raised: Lambda retries, then the DLQ
    assert len(platform.messages("WARNING_TOPIC_ARN")) == 1


@pytest.mark.parametrize("broken", ["wrong ARN", "unset"])
def test_no_alert_is_lost_while_a_topic_is_broken_and_then_fixed(
    platform, lambda_context, monkeypatch, broken
):
    """Lambda's retries of one batch while the topic is broken, then a retry after the fix."""
    storm = [line("CRITICAL", "database gone"), line("ERROR", "minor", exception_name="KeyError")] * 3
    event = subscription_event(storm)
    if broken == "unset":
        monkeypatch.delenv("CRITICAL_TOPIC_ARN")
    else:
        monkeypatch.setenv("CRITICAL_TOPIC_ARN", "arn:aws:sns:us-east-1:123456789012:no-such-topic")
    for _ in range(3):  # the first attempt and Lambda's two retries
        with pytest.raises(error_processor.AlertsNotDelivered):
            error_processor.handler(event, lambda_context)
    monkeypatch.setenv("CRITICAL_TOPIC_ARN", platform["CRITICAL_TOPIC_ARN"])
    retried = error_processor.handler(event, lambda_context)  # e.g. redriven from the DLQ
    assert retried["alerts"] == 1 and retried["failed"] == 0
    critical = platform.messages("CRITICAL_TOPIC_ARN")
    assert len(critical) == 1 and critical[0]["message"]["occurrences"] == 3
    warnings = platform.messages("WARNING_TOPIC_ARN")
    assert len(warnings) == 1, "the warning was sent once, not once per retry"
    # the warning's alert reported its 3 occurrences; the retries of the same batch add nothing
    assert retried["already_counted"] == 3
    later = subscription_event([line("ERROR", "minor", exception_name="KeyError")])
    payload = json.loads(gzip.decompress(base64.b64decode(later["awslogs"]["data"])))
    error_processor.process(payload, now=2_000_000_000)
    assert platform.messages("WARNING_TOPIC_ARN")[0]["message"]["suppressed_since_last_alert"] == 0


def test_a_released_window_keeps_what_was_suppressed_before(platform, monkeypatch):
    """A failed alert closes its window again without losing the earlier suppressed count."""
    first = subscription_event([line("ERROR", "flaky 1", exception_name="KeyError")])
    payload = json.loads(gzip.decompress(base64.b64decode(first["awslogs"]["data"])))
    assert error_processor.process(payload, now=1_000_000_000)["alerts"] == 1
    payload["logEvents"][0]["id"] = "another batch"
    assert error_processor.process(payload, now=1_000_000_010)["suppressed"] == 1
    monkeypatch.setenv("WARNING_TOPIC_ARN", "arn:aws:sns:us-east-1:123456789012:no-such-topic")
    payload["logEvents"][0]["id"] = "after the window"
    assert error_processor.process(payload, now=1_000_001_000)["failed"] == 1
    monkeypatch.setenv("WARNING_TOPIC_ARN", platform["WARNING_TOPIC_ARN"])
    assert error_processor.process(payload, now=1_000_001_001)["alerts"] == 1
    messages = platform.messages("WARNING_TOPIC_ARN")
    assert [m["message"]["suppressed_since_last_alert"] for m in messages] == [0, 1]


def test_a_poisoned_line_does_not_drop_the_batch(platform, lambda_context, json_logs):
    poisoned = '{"level":"ERROR","message":' + "[" * 2000 + "]" * 2000 + "}"
    timeouts = [line("ERROR", f"Task timed out after {i}.00 seconds") for i in range(5)]
    result = error_processor.handler(subscription_event([poisoned, *timeouts]), lambda_context)
    assert result["malformed"] == 1 and result["alerts"] == 1
    alerts = platform.messages("CRITICAL_TOPIC_ARN")
    assert len(alerts) == 1 and alerts[0]["message"]["occurrences"] == 5
    assert any(r.get("data_quality_issue") == "malformed_log_event" for r in json_logs.records)


def test_a_deeply_nested_payload_is_malformed_not_a_crash(platform, lambda_context):
    data = base64.b64encode(gzip.compress(("[" * 100_000).encode())).decode()
    assert error_processor.handler({"awslogs": {"data": data}}, lambda_context)["malformed"] == 1


def test_control_messages_are_acknowledged(platform, lambda_context):
    payload = {"messageType": "CONTROL_MESSAGE", "logEvents": []}
    event = {"awslogs": {"data": base64.b64encode(gzip.compress(json.dumps(payload).encode())).decode()}}
    assert error_processor.handler(event, lambda_context)["control"] == 1


def test_each_smoke_runs_error_line_is_a_kind_of_failure_of_its_own() -> None:
    """The smoke run's error line must not be suppressed as a repeat of the last run's: its mark
    survives the processor's normaliser, so two runs' lines have two fingerprints (with a hex mark,
    as before, they had one, and a second run within the alert window got no alert)."""
    from concert_platform.smoke.error_pipeline import run_marker

    def line(marker: str) -> dict[str, str]:
        return {
            "level": "ERROR",
            "message": f"Task timed out after 30.00 seconds ({marker})",
            "service": "chatbot",
        }

    group = "/aws/lambda/concert-api-chatbot-dev"
    first, second = run_marker(), run_marker()
    assert first != second
    assert error_processor.fingerprint(group, line(first)) != error_processor.fingerprint(group, line(second))
    # what the mark was before: folded away, one fingerprint for every run
    assert error_processor.fingerprint(group, line("209571dbe0b7")) == error_processor.fingerprint(
        group, line("fdd03ac48730")
    )
