"""Mistakes a real deploy exposes within minutes, planted one at a time in a copy of the project:
each makes the run fail with a message that names the method, route, function or permission."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from tests.integration.conftest import LAYER_CACHE, Edit, deploy_planted

from concert_platform.deploy import StackOperator
from concert_platform.errors import DeployError
from concert_platform.manifest import load_manifest
from concert_platform.smoke import Platform
from concert_platform.smoke.api import api_checks as _api_checks
from concert_platform.smoke.runtime import runtime_check as _runtime_check
from concert_platform.workflow import destroy_environment

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def planted(project_copy: Edit) -> Edit:
    """A copy of the project; `edit(relative_path, old, new)` plants one mistake in it."""
    return project_copy


def require(engine: Any, capability: str, why: str) -> None:
    """Skip, with the reason in the report, where the engine's capabilities say it cannot show this."""
    if not getattr(engine.capabilities, capability):
        pytest.skip(f"{engine.name}: Capabilities.{capability} is false: {why}")


#: why the in-process checks cannot run where the engine's own Lambda runs the code
IN_PROCESS = (
    "the engine's Lambda runs the functions' code itself (Capabilities.runs_function_code), so there "
    "is no in-process Lambda runtime to read the handlers' routes and start reports from"
)


def failed_api_checks(engine: Any, manifest: Any, environment: str) -> dict[str, str]:
    with Platform(engine, manifest, environment, cache_dir=LAYER_CACHE) as platform:
        return {c.name: c.detail for c in _api_checks(platform) if not c.ok}


def test_api_method_integrated_with_the_wrong_function(engine: Any, planted: Edit) -> None:
    if engine.capabilities.runs_function_code:
        pytest.skip(f"{engine.name}: the route wiring check needs the in-process runtime: {IN_PROCESS}")
    planted(
        "templates/03-compute-application.yaml",
        "functions/${ChatbotFunction.Arn}/invocations",
        "functions/${HealthCheckFunction.Arn}/invocations",
    )
    manifest = deploy_planted(engine, "rt-a")
    try:
        failed = failed_api_checks(engine, manifest, "rt-a")
        expected = (
            "POST /chat is integrated with concert-api-health-check-rt-a, which does not serve it "
            "(it serves GET /health)"
        )
        assert expected in failed["api methods reach functions that serve their routes"]
        assert expected in failed["api POST /chat keeps history"]
        assert "api GET /health" not in failed
    finally:
        destroy_environment(engine, manifest, "rt-a")


def test_handler_running_past_its_timeout(engine: Any, planted: Edit) -> None:
    require(engine, "names_failed_functions", "its API answers a failed function with a bare 502")
    planted(
        "templates/03-compute-application.yaml",
        "      Handler: health_check.handler\n      Role: !GetAtt LambdaExecutionRole.Arn\n      Timeout: 15",
        "      Handler: health_check.handler\n      Role: !GetAtt LambdaExecutionRole.Arn\n      Timeout: 2",
    )
    planted(
        "handlers/health_check.py",
        "handler = lambda_handler(app)\n",
        "_serve = lambda_handler(app)\n\n\ndef handler(event, context):\n"
        "    time.sleep(5)\n    return _serve(event, context)\n",
    )
    manifest = deploy_planted(engine, "rt-b")
    try:
        failed = failed_api_checks(engine, manifest, "rt-b")
        detail = failed["api GET /health"]
        assert "GET /health: HTTP 502: concert-api-health-check-rt-b failed with Sandbox.Timedout" in detail
        assert "Task timed out after 2.00 seconds" in detail
        assert "api POST /chat keeps history" not in failed
    finally:
        destroy_environment(engine, manifest, "rt-b")


def test_package_missing_from_the_shared_layer(engine: Any, planted: Edit) -> None:
    planted("handlers/shared/requirements.txt", "pydantic==2.14.4\n", "")
    require(engine, "names_failed_functions", "its API answers a failed function with a bare 502")
    manifest = deploy_planted(engine, "rt-c")
    try:
        failed = failed_api_checks(engine, manifest, "rt-c")
        detail = failed["api POST /chat keeps history"]
        assert (
            "concert-api-chatbot-rt-c failed with Runtime.ImportModuleError: "
            "Unable to import module 'chatbot': No module named 'pydantic'"
        ) in detail
        if engine.capabilities.runs_function_code:
            pytest.skip(
                f"{engine.name}: the API's answer named the import error (asserted); the start "
                f"report of every function is not: {IN_PROCESS}"
            )
        with Platform(engine, manifest, "rt-c", cache_dir=LAYER_CACHE) as platform:
            started = _runtime_check(platform)
        assert not started.ok
        assert (
            "concert-api-health-check-rt-c failed with Runtime.ImportModuleError: "
            "Unable to import module 'health_check': No module named 'pydantic'"
        ) in started.detail
    finally:
        destroy_environment(engine, manifest, "rt-c")


def test_vpc_function_whose_role_cannot_create_network_interfaces(engine: Any, planted: Edit) -> None:
    require(engine, "enforces_iam", "a VPC function whose role lacks CreateNetworkInterface deploys")
    planted(
        "templates/03-compute-application.yaml",
        "        - !Sub 'arn:${AWS::Partition}:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole'\n",
        "        - !Sub 'arn:${AWS::Partition}:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole'\n",
    )
    manifest = load_manifest()
    try:
        with pytest.raises(DeployError) as raised:
            deploy_planted(engine, "rt-d")
        message = str(raised.value)
        assert "concert-platform-compute-rt-d" in message
        assert (
            "The provided execution role does not have permissions to call CreateNetworkInterface on EC2"
            in message
        )
        stack = StackOperator(engine, manifest, "rt-d").describe("concert-platform-compute-rt-d")
        assert stack is not None and stack["StackStatus"] == "ROLLBACK_COMPLETE"
    finally:
        destroy_environment(engine, manifest, "rt-d")


def test_function_whose_code_object_does_not_exist(engine: Any, planted: Edit) -> None:
    planted(
        "templates/04-chatbot-infrastructure.yaml",
        "        S3Key: !Ref HandlersS3Key",
        "        S3Key: !Sub '${HandlersS3Key}.missing'",
    )
    manifest = load_manifest()
    try:
        with pytest.raises(DeployError) as raised:
            deploy_planted(engine, "rt-e")
        message = str(raised.value)
        assert "concert-platform-chatbot-rt-e" in message
        assert "ChatbotMaintenanceFunction" in message
        assert "S3 Error Code: NoSuchKey" in message
        stack = StackOperator(engine, manifest, "rt-e").describe("concert-platform-chatbot-rt-e")
        assert stack is not None and stack["StackStatus"] == "ROLLBACK_COMPLETE"
    finally:
        destroy_environment(engine, manifest, "rt-e")


def test_api_permission_for_another_method(engine: Any, planted: Edit) -> None:
    require(engine, "enforces_iam", "API Gateway invokes a function its resource policy does not allow")
    planted(
        "templates/03-compute-application.yaml",
        "${AWS::AccountId}:${RestApi}/*/POST/chat'",
        "${AWS::AccountId}:${RestApi}/*/GET/chat'",
    )
    manifest = deploy_planted(engine, "rt-f")
    try:
        detail = failed_api_checks(engine, manifest, "rt-f")["api POST /chat keeps history"]
        assert "POST /chat: HTTP 500: Execution failed due to configuration error" in detail
        assert "Invalid permissions on Lambda function concert-api-chatbot-rt-f" in detail
        assert "/rt-f/POST/chat" in detail
    finally:
        destroy_environment(engine, manifest, "rt-f")
