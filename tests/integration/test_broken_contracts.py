"""The run-time contracts catch a writer that breaks its table's TTL and a metric nobody reads:
each test plants one mistake in a copy of the project and sees `e2e` exit 1 naming it."""

from __future__ import annotations

from typing import Any

import pytest
from tests.integration.conftest import failing_checks

pytestmark = [pytest.mark.integration, pytest.mark.own_engine]
CONVERSATIONS = "handlers/shared/concert_shared/conversations.py"
TTL_CHECK = "contract: items carry their table's TTL attribute in epoch seconds, in the future"
METRIC_CHECK = "contract: every metric produced is read by an alarm or a dashboard (or listed unwatched)"


def test_a_handler_writing_the_ttl_under_another_name(planted_e2e: Any) -> None:
    code, report = planted_e2e(
        "ct-ttl-name",
        (
            CONVERSATIONS,
            '        "expires_at": {"N": str(_expiry(now))},\n    }',
            '        "expiry": {"N": str(_expiry(now))},\n    }',
        ),
    )
    assert code == 1
    failures = failing_checks(report)
    assert TTL_CHECK in failures, (report.get("reason"), failures)
    detail = failures[TTL_CHECK]
    assert "concert-conversation-history-ct-ttl-name" in detail
    assert "with no expires_at" in detail
    assert report["teardown"]["clean"]


def test_a_handler_writing_the_ttl_in_milliseconds(planted_e2e: Any) -> None:
    code, report = planted_e2e(
        "ct-ttl-ms",
        (
            CONVERSATIONS,
            "    return now + bounded_int_env(*SESSION_TTL_HOURS) * 3600",
            "    return (now + bounded_int_env(*SESSION_TTL_HOURS) * 3600) * 1000",
        ),
    )
    assert code == 1
    failures = failing_checks(report)
    assert TTL_CHECK in failures, (report.get("reason"), failures)
    detail = failures[TTL_CHECK]
    assert "is in milliseconds, not seconds" in detail
    assert "concert-session-state-ct-ttl-ms" in detail
    assert report["teardown"]["clean"]


def test_a_metric_filter_emitting_a_metric_nothing_reads(planted_e2e: Any) -> None:
    code, report = planted_e2e(
        "ct-metric",
        (
            "templates/06-tracing-logging.yaml",
            "  TicketPredictionDataQualityFilter:\n"
            "    Type: AWS::Logs::MetricFilter\n"
            "    Properties:\n"
            "      LogGroupName: {'Fn::ImportValue': !Sub '${ComputeStackName}-TicketPredictionLogGroupName'}\n"
            "      FilterPattern: '{ $.data_quality_issue = \"*\" }'\n"
            "      MetricTransformations:\n"
            "        - MetricNamespace: !Sub 'ConcertPlatform/${Environment}'\n"
            "          MetricName: DataQualityIssues\n",
            "  TicketPredictionDataQualityFilter:\n"
            "    Type: AWS::Logs::MetricFilter\n"
            "    Properties:\n"
            "      LogGroupName: {'Fn::ImportValue': !Sub '${ComputeStackName}-TicketPredictionLogGroupName'}\n"
            "      FilterPattern: '{ $.data_quality_issue = \"*\" }'\n"
            "      MetricTransformations:\n"
            "        - MetricNamespace: !Sub 'ConcertPlatform/${Environment}'\n"
            "          MetricName: DataQualityIssue\n",
        ),
    )
    assert code == 1
    failures = failing_checks(report)
    assert METRIC_CHECK in failures, (report.get("reason"), failures)
    detail = failures[METRIC_CHECK]
    assert "ConcertPlatform/ct-metric DataQualityIssue (from filter" in detail
    assert "is read by no alarm or dashboard" in detail
    assert report["teardown"]["clean"]
