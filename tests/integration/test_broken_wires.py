"""Breaking one wire in a template makes the integration run fail with a message that names it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from tests.integration.conftest import LAYER_CACHE, Edit, deploy_planted

from concert_platform.deploy import StackOperator
from concert_platform.errors import DeployError
from concert_platform.manifest import load_manifest
from concert_platform.smoke import Platform
from concert_platform.smoke.error_pipeline import error_pipeline_check as _error_pipeline_check
from concert_platform.smoke.wiring import wiring_checks as _wiring_checks
from concert_platform.workflow import destroy_environment

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def broken_project(project_copy: Edit) -> Edit:
    """A copy of the project whose templates a test edits (by template file name)."""
    return lambda template, old, new: project_copy(f"templates/{template}", old, new)


def test_wrong_table_name_in_the_chatbot_environment(engine: Any, broken_project: Any) -> None:
    broken_project(
        "03-compute-application.yaml",
        "          CONVERSATION_HISTORY_TABLE: !Ref ConversationHistoryTable",
        "          CONVERSATION_HISTORY_TABLE: !Sub 'concert-conversation-history-${Environment}-old'",
    )
    manifest = deploy_planted(engine, "wire-a")
    try:
        failures = [
            c for c in _wiring_checks(Platform(engine, manifest, "wire-a", cache_dir=LAYER_CACHE)) if not c.ok
        ]
        assert failures, "the wiring check did not notice the wrong table"
        assert "concert-api-chatbot-wire-a" in failures[0].name
        assert (
            "CONVERSATION_HISTORY_TABLE=concert-conversation-history-wire-a-old: no such DynamoDB table"
            in failures[0].detail
        )
    finally:
        destroy_environment(engine, manifest, "wire-a")


def test_misspelt_export_name(engine: Any, broken_project: Any) -> None:
    broken_project(
        "02-storage-processing.yaml",
        "Export: {Name: !Sub '${AWS::StackName}-ProcessedDataBucketName'}",
        "Export: {Name: !Sub '${AWS::StackName}-ProcessedBucketName'}",
    )
    manifest = load_manifest()
    try:
        with pytest.raises(DeployError) as raised:
            deploy_planted(engine, "wire-b")
        message = str(raised.value)
        assert "concert-platform-compute-wire-b" in message
        assert "No export named concert-platform-storage-wire-b-ProcessedDataBucketName" in message
        assert (
            StackOperator(engine, manifest, "wire-b").describe("concert-platform-compute-wire-b")[
                "StackStatus"
            ]
            == "ROLLBACK_COMPLETE"
        )
    finally:
        destroy_environment(engine, manifest, "wire-b")


def test_subscription_filter_that_no_longer_matches_errors(engine: Any, broken_project: Any) -> None:
    old = """  ChatbotErrorSubscription:
    Type: AWS::Logs::SubscriptionFilter
    DependsOn: ErrorProcessorLogsPermission
    Properties:
      LogGroupName: {'Fn::ImportValue': !Sub '${ComputeStackName}-ChatbotLogGroupName'}
      FilterName: !Sub 'concert-errors-to-processor-${Environment}'
      FilterPattern: '{ $.level = "ERROR" || $.level = "CRITICAL" }'"""
    broken_project(
        "06-tracing-logging.yaml",
        old,
        old.replace('$.level = "ERROR" || $.level = "CRITICAL"', '$.level = "FATAL"'),
    )
    manifest = deploy_planted(engine, "wire-c")
    try:
        check = _error_pipeline_check(Platform(engine, manifest, "wire-c", cache_dir=LAYER_CACHE))
        assert not check.ok
        assert (
            "subscription filter concert-errors-to-processor-wire-c on /aws/lambda/concert-api-chatbot-wire-c "
            '(pattern { $.level = "FATAL" }) matches no error line' in check.detail
        )
    finally:
        destroy_environment(engine, manifest, "wire-c")
