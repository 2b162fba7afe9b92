"""A function's role that loses the DynamoDB write actions its handler uses fails the e2e run,
naming function, action, resource and role, as AWS would deny the calls (embedded engine only:
LocalStack's free edition does not enforce IAM)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from concert_platform.execution_roles import summary_lines

pytestmark = [pytest.mark.integration, pytest.mark.own_engine]
WRITES = "dynamodb:GetItem, dynamodb:PutItem, dynamodb:UpdateItem, dynamodb:DeleteItem"


def test_a_role_without_the_handlers_dynamodb_writes_fails_e2e(planted_e2e: Any, tmp_path: Path) -> None:
    # the LambdaExecutionRole's ChatbotTables statement keeps reads and deletes only
    code, report = planted_e2e(
        "it-iam",
        ("templates/03-compute-application.yaml", WRITES, "dynamodb:GetItem, dynamodb:DeleteItem"),
    )
    reports = tmp_path / "reports"

    assert code == 1
    assert report["ok"] is False
    role = "arn:aws:iam::123456789012:role/concert-lambda-execution-it-iam-us-east-1"
    tables = {
        f"arn:aws:dynamodb:us-east-1:123456789012:table/concert-{name}-it-iam"
        for name in ("conversation-history", "session-state")
    }
    denied = report["iam"]["denied"]
    assert denied, "the run recorded no denial"
    assert {d["function"] for d in denied} == {"concert-api-chatbot-it-iam"}
    assert {d["action"] for d in denied} <= {"dynamodb:PutItem", "dynamodb:UpdateItem"}
    assert {d["resource"] for d in denied} <= tables
    assert {d["role"] for d in denied} == {role}
    table = denied[0]["resource"]
    line = next(line for line in summary_lines(report["iam"]) if table in line)
    assert "concert-api-chatbot-it-iam" in line and role in line and denied[0]["action"] in line
    # the JUnit and Markdown reports carry the same denial
    junit = (reports / "e2e-embedded-it-iam.xml").read_text()
    markdown = (reports / "e2e-embedded-it-iam.md").read_text()
    assert table in junit and 'testsuite name="iam"' in junit
    assert "## IAM" in markdown and table in markdown and role in markdown
    assert report["teardown"]["clean"] is True
