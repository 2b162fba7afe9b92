"""Breaking one link of the observability chain in a copy of the project makes `concert-platform
e2e` exit 1 with a message that names the broken alarm or filter.

Each test runs the real command in a child process (the embedded engine and its clock are its
own), against a copy of the project whose templates the test edits."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from tests.integration.conftest import copy_project

pytestmark = [pytest.mark.integration, pytest.mark.own_engine]
ROOT = Path(__file__).resolve().parents[2]


def broken_e2e(
    tmp_path: Path, environment: str, template: str, old: str, new: str
) -> subprocess.CompletedProcess[str]:
    project = tmp_path / "project"
    copy_project(project)(f"templates/{template}", old, new)
    env = {**os.environ, "CONCERT_PLATFORM_HOME": str(project), "REDSHIFT_MASTER_PASSWORD": "Sup3rSecretPw"}
    env.pop("CONCERT_ENGINE", None)
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "concert_platform.cli",
            "e2e",
            "--engine",
            "embedded",
            "--environment",
            environment,
            "--reports-dir",
            str(tmp_path / "reports"),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
        check=False,
    )


def test_an_alarm_whose_metric_nothing_emits(tmp_path: Path) -> None:
    old = "      Namespace: !Sub 'ConcertPlatform/${Environment}'\n      MetricName: DataQualityIssues\n"
    completed = broken_e2e(
        tmp_path,
        "alarm-a",
        "06-tracing-logging.yaml",
        old,
        old.replace("DataQualityIssues", "DataQualityIssue"),
    )
    output = " ".join((completed.stdout + completed.stderr).split())
    assert completed.returncode == 1, output[-3000:]
    assert (
        "alarm concert-data-quality-issues-alarm-a (DataQualityAlarm in 06-tracing-logging.yaml) watches "
        "ConcertPlatform/alarm-a DataQualityIssue, which no metric filter or handler emits" in output
    ), output[-3000:]


def test_a_subscription_filter_that_no_error_line_matches(tmp_path: Path) -> None:
    old = """  ChatbotErrorSubscription:
    Type: AWS::Logs::SubscriptionFilter
    DependsOn: ErrorProcessorLogsPermission
    Properties:
      LogGroupName: {'Fn::ImportValue': !Sub '${ComputeStackName}-ChatbotLogGroupName'}
      FilterName: !Sub 'concert-errors-to-processor-${Environment}'
      FilterPattern: '{ $.level = "ERROR" || $.level = "CRITICAL" }'"""
    completed = broken_e2e(
        tmp_path,
        "alarm-b",
        "06-tracing-logging.yaml",
        old,
        old.replace('$.level = "ERROR" || $.level = "CRITICAL"', '$.level = "FATAL"'),
    )
    output = " ".join((completed.stdout + completed.stderr).split())
    assert completed.returncode == 1, output[-3000:]
    assert (
        "subscription filter concert-errors-to-processor-alarm-b on /aws/lambda/concert-api-chatbot-alarm-b "
        '(pattern { $.level = "FATAL" }) matches no error line' in output
    ), output[-3000:]


def test_an_alarm_whose_dimension_names_no_function(tmp_path: Path) -> None:
    old = (
        "          Value: {'Fn::ImportValue': !Sub '${ComputeStackName}-ChatbotFunctionName'}\n"
        "      Statistic: Sum\n      Period: 300\n\n  ChatbotDurationAlarm:"
    )
    completed = broken_e2e(
        tmp_path,
        "alarm-c",
        "05-monitoring-observability.yaml",
        old,
        old.replace(
            "{'Fn::ImportValue': !Sub '${ComputeStackName}-ChatbotFunctionName'}",
            "!Sub 'concert-api-chat-${Environment}'",
        ),
    )
    output = " ".join((completed.stdout + completed.stderr).split())
    assert completed.returncode == 1, output[-3000:]
    assert (
        "concert-chatbot-errors-alarm-c watches AWS/Lambda Errors [FunctionName=concert-api-chat-alarm-c], "
        "which received no data" in output
    ), output[-3000:]
