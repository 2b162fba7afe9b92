"""What Lambda itself does as a function's execution role, planted missing in a copy of the
project and applied to the worker's fault bed as an update (tests/integration/fault_bed.py): the
checks `e2e` runs fail naming the function, the action and the resource."""

from __future__ import annotations

from typing import Any

import pytest
from tests.integration.conftest import failing_checks, only_smoke_failures

pytestmark = [pytest.mark.integration, pytest.mark.own_engine]

RUNTIME_CHECK = "every function's execution environment starts"
ENI_ONLY = """      Policies:
        - PolicyName: eni-only
          PolicyDocument:
            Version: '2012-10-17'
            Statement:
              - Effect: Allow
                Action: [ec2:CreateNetworkInterface, ec2:DescribeNetworkInterfaces, ec2:DeleteNetworkInterface]
                Resource: '*'
"""


def test_role_without_log_permissions_fails_the_run(planted_update: Any) -> None:
    # the chatbot jobs' role keeps its ENI permissions (the deploy passes, as on AWS) but loses
    # the managed policy's log writes: on AWS nothing fails, the functions' logs go missing
    code, report = planted_update(
        (
            "templates/04-chatbot-infrastructure.yaml",
            "      ManagedPolicyArns:\n"
            "        - !Sub 'arn:${AWS::Partition}:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole'\n"
            "      Policies:\n",
            ENI_ONLY,
        ),
    )
    assert code == 1
    # the maintenance and analytics functions' logs are lost, so their metric filters see nothing
    assert only_smoke_failures(report) == {
        RUNTIME_CHECK,
        "alarm flow: data-quality issues",
        "alert routing: a driven alarm alerts the subscribers of its action topics and no other",
    }
    detail = failing_checks(report)[RUNTIME_CHECK]
    function = f"concert-chatbot-maintenance-{report['environment']}"
    assert f"{function}: Lambda cannot write the function's logs" in detail, detail
    assert (
        "logs:PutLogEvents on arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/" + function in detail
    )
    assert "logs:CreateLogStream" in detail
    # the API functions' role still has them: only the planted role is named
    assert f"concert-api-health-check-{report['environment']}" not in detail
    assert report["rollback"]["clean"]
