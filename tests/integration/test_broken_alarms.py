"""Breaking one link of the observability chain in a copy of the project makes the checks `e2e`
runs fail with a message that names the broken alarm or filter.

Each test plants its mistake in a copy of the project's templates and applies it to the worker's
fault bed as an update (tests/integration/fault_bed.py), which is rolled back and verified after."""

from __future__ import annotations

from typing import Any

import pytest
from tests.integration.conftest import only_smoke_failures

pytestmark = [pytest.mark.integration, pytest.mark.own_engine]


def broken(planted_update: Any, template: str, old: str, new: str, failing: set[str]) -> tuple[int, str, str]:
    """(exit code, every failure's reason in one line, the bed's environment), once exactly the
    smoke checks `failing` failed and the bed was rolled back clean."""
    code, report = planted_update((f"templates/{template}", old, new))
    assert report["rollback"]["clean"], report["rollback"]
    assert only_smoke_failures(report) == failing
    reasons = " ".join(" ".join(f"{f['check']}: {f['reason']}" for f in report["failures"]).split())
    return code, reasons, report["environment"]


def test_an_alarm_whose_metric_nothing_emits(planted_update: Any) -> None:
    old = "      Namespace: !Sub 'ConcertPlatform/${Environment}'\n      MetricName: DataQualityIssues\n"
    code, output, env = broken(
        planted_update,
        "06-tracing-logging.yaml",
        old,
        old.replace("DataQualityIssues", "DataQualityIssue"),
        {
            "alarm contract: every custom-metric alarm watches an emitted metric",
            "alarm flow: data-quality issues",
            "every alarm on a Lambda or custom metric received data during the run",
            "alert routing: a driven alarm alerts the subscribers of its action topics and no other",
            "contract: every metric filter feeding an alarmed metric is driven once and counts",
        },
    )
    assert code == 1, output[-3000:]
    assert (
        f"alarm concert-data-quality-issues-{env} (DataQualityAlarm in 06-tracing-logging.yaml) watches "
        f"ConcertPlatform/{env} DataQualityIssue, which no metric filter or handler emits" in output
    ), output[-3000:]


def test_a_subscription_filter_that_no_error_line_matches(planted_update: Any) -> None:
    old = """  ChatbotErrorSubscription:
    Type: AWS::Logs::SubscriptionFilter
    DependsOn: ErrorProcessorLogsPermission
    Properties:
      LogGroupName: {'Fn::ImportValue': !Sub '${ComputeStackName}-ChatbotLogGroupName'}
      FilterName: !Sub 'concert-errors-to-processor-${Environment}'
      FilterPattern: '{ $.level = "ERROR" || $.level = "CRITICAL" }'"""
    code, output, env = broken(
        planted_update,
        "06-tracing-logging.yaml",
        old,
        old.replace('$.level = "ERROR" || $.level = "CRITICAL"', '$.level = "FATAL"'),
        {"error log line reaches the error processor and alerts the critical topic"},
    )
    assert code == 1, output[-3000:]
    assert (
        f"subscription filter concert-errors-to-processor-{env} on /aws/lambda/concert-api-chatbot-{env} "
        '(pattern { $.level = "FATAL" }) matches no error line' in output
    ), output[-3000:]


def test_an_alarm_whose_dimension_names_no_function(planted_update: Any) -> None:
    old = (
        "          Value: {'Fn::ImportValue': !Sub '${ComputeStackName}-ChatbotFunctionName'}\n"
        "      Statistic: Sum\n      Period: 300\n\n  ChatbotDurationAlarm:"
    )
    code, output, env = broken(
        planted_update,
        "05-monitoring-observability.yaml",
        old,
        old.replace(
            "{'Fn::ImportValue': !Sub '${ComputeStackName}-ChatbotFunctionName'}",
            "!Sub 'concert-api-chat-${Environment}'",
        ),
        {"every alarm on a Lambda or custom metric received data during the run"},
    )
    assert code == 1, output[-3000:]
    assert (
        f"concert-chatbot-errors-{env} watches AWS/Lambda Errors [FunctionName=concert-api-chat-{env}], "
        "which received no data" in output
    ), output[-3000:]
