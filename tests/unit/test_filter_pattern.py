"""The CloudWatch Logs filter-pattern evaluator used to emulate metric and subscription filters."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from concert_platform.filter_pattern import compile_pattern, matches

ERROR = json.dumps({"level": "ERROR", "message": "boom", "service": "chatbot", "latency_ms": 12.5})
INFO = json.dumps({"level": "INFO", "message": "ok", "service": "chatbot", "latency_ms": 3})
QUALITY = json.dumps({"level": "WARNING", "message": "bad row", "data_quality_issue": "negative_capacity"})


@pytest.mark.parametrize(
    ("pattern", "message", "expected"),
    [
        ('{ $.level = "ERROR" }', ERROR, True),
        ('{ $.level = "ERROR" }', INFO, False),
        ('{ $.level = "ERROR" || $.level = "CRITICAL" }', json.dumps({"level": "CRITICAL"}), True),
        ("{ $.latency_ms >= 0 }", INFO, True),
        ("{ $.latency_ms >= 0 }", QUALITY, False),
        ("{ $.latency_ms > 100 }", ERROR, False),
        ('{ $.data_quality_issue = "*" }', QUALITY, True),
        ('{ $.data_quality_issue = "*" }', ERROR, False),
        ('{ $.level = "ERR*" && $.service = "chatbot" }', ERROR, True),
        ('{ ($.level = "ERROR" || $.level = "WARNING") && $.service != "chatbot" }', ERROR, False),
        ("{ $.latency_ms EXISTS }", ERROR, True),
        ("{ $.nope NOT EXISTS }", ERROR, True),
        ('{ $.level = "ERROR" }', "not json at all", False),
        ("ERROR", "2024 ERROR something", True),
        ("ERROR -timeout", "ERROR timeout", False),
        ("", "anything", True),
    ],
)
def test_patterns(pattern: str, message: str, expected: bool) -> None:
    assert matches(pattern, message) is expected


@pytest.mark.parametrize("pattern", ["{ $.a = }", "{ $.a = 1", "[ip, user]", "{ $.a ~ 1 }"])
def test_unsupported_or_broken_patterns_are_refused(pattern: str) -> None:
    with pytest.raises(ValueError):
        compile_pattern(pattern)


@given(st.text())
def test_json_patterns_never_crash_on_arbitrary_messages(message: str) -> None:
    assert matches('{ $.level = "ERROR" || $.latency_ms >= 0 }', message) in (True, False)
