"""The obvious calls a user makes against a deployed platform answer as AWS does (issue 20,
item 5): Lambda Invoke through the engine's endpoint runs the deployed function in the local
runtime as its execution role (it answered "error running docker"), and API Gateway's
TestInvokeMethod runs the method's integration (it answered 500). On the embedded engine here;
on `engine serve` in test_engine_invoke_served.py."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

pytestmark = pytest.mark.integration


def _resource_id(apigateway: Any, api_id: str, path: str) -> str:
    items = apigateway.get_resources(restApiId=api_id, limit=500)["items"]
    return next(item["id"] for item in items if item["path"] == path)


def test_lambda_invoke_runs_the_deployed_function(deployment: Any) -> None:
    function = deployment.output("compute", "HealthCheckFunctionName")
    event = {"httpMethod": "GET", "path": "/health", "resource": "/health", "headers": {}, "body": None}
    response = deployment.client("lambda").invoke(
        FunctionName=function, Payload=json.dumps(event).encode(), LogType="Tail"
    )
    payload = json.loads(response["Payload"].read())
    assert response["StatusCode"] == 200
    assert "FunctionError" not in response, payload
    assert payload["statusCode"] == 200, payload
    assert json.loads(payload["body"])["status"] == "healthy"
    log = base64.b64decode(response["LogResult"]).decode()
    assert log.startswith("START RequestId: ") and "\nREPORT RequestId: " in log
    assert "error running docker" not in json.dumps(payload)


def test_lambda_invoke_runs_as_the_functions_role(deployment: Any) -> None:
    if not deployment.engine.capabilities.iam_ledger:
        pytest.skip(
            f"the {deployment.engine.name} engine keeps no IAM ledger this process can read "
            "(engine serve records decisions in its own process)"
        )
    function = deployment.output("compute", "HealthCheckFunctionName")
    role = deployment.client("lambda").get_function_configuration(FunctionName=function)["Role"]
    ledger = deployment.engine.iam_ledger()

    def decisions() -> list[Any]:  # every call signed with the role's session keys, authorised as IAM would
        return [d for d in ledger.decisions if d.role == role]

    before = len(decisions())
    event = {"httpMethod": "GET", "path": "/health", "resource": "/health", "headers": {}, "body": None}
    deployment.client("lambda").invoke(FunctionName=function, Payload=json.dumps(event).encode())
    made = decisions()[before:]
    assert "dynamodb:DescribeTable" in {d.action for d in made}, made
    assert all(d.allowed for d in made), [d for d in made if not d.allowed]


def _zip(source: str) -> bytes:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("planted.py", source)
    return buffer.getvalue()


def test_lambda_invoke_of_a_failing_function_answers_function_error(deployment: Any) -> None:
    """A function whose handler raises (the platform's own handlers answer every bad event)."""
    client = deployment.client("lambda")
    role = client.get_function_configuration(
        FunctionName=deployment.output("compute", "HealthCheckFunctionName")
    )["Role"]
    source = (
        "def handler(event, context):\n    print('about to fail')\n    raise ValueError('planted failure')\n"
    )
    client.create_function(
        FunctionName="planted-failure",
        Runtime="python3.12",
        Role=role,
        Handler="planted.handler",
        Code={"ZipFile": _zip(source)},
    )
    try:
        # Lambda answers Invoke of a Pending function with ResourceConflictException (LocalStack too)
        client.get_waiter("function_active_v2").wait(FunctionName="planted-failure")
        response = client.invoke(FunctionName="planted-failure", Payload=b"{}", LogType="Tail")
        payload = json.loads(response["Payload"].read())
        assert response["StatusCode"] == 200
        assert response["FunctionError"] == "Unhandled"
        assert payload["errorType"] == "ValueError" and payload["errorMessage"] == "planted failure"
        assert any("raise ValueError" in line for line in payload["stackTrace"]), payload
        assert "about to fail" in base64.b64decode(response["LogResult"]).decode()
        quiet = client.invoke(FunctionName="planted-failure", Payload=b"{}")
        assert "LogResult" not in quiet  # only with LogType=Tail
    finally:
        client.delete_function(FunctionName="planted-failure")


def test_lambda_invoke_event_and_dry_run(deployment: Any) -> None:
    function = deployment.output("compute", "HealthCheckFunctionName")
    client = deployment.client("lambda")
    assert client.invoke(FunctionName=function, InvocationType="DryRun")["StatusCode"] == 204
    assert client.invoke(FunctionName=function, InvocationType="Event", Payload=b"{}")["StatusCode"] == 202


def test_test_invoke_method_answers_as_api_gateway(deployment: Any) -> None:
    apigateway = deployment.client("apigateway")
    api_id = deployment.output("compute", "ApiId")
    answer = apigateway.test_invoke_method(
        restApiId=api_id, resourceId=_resource_id(apigateway, api_id, "/health"), httpMethod="GET"
    )
    assert answer["status"] == 200, answer
    assert json.loads(answer["body"])["status"] == "healthy"
    headers = {name.lower(): value for name, value in answer["headers"].items()}  # case-insensitive
    assert headers["access-control-allow-origin"] == "*"
    assert isinstance(answer["latency"], int) and answer["latency"] >= 0
    assert "Method completed with status: 200" in answer["log"]


def test_test_invoke_method_validates_the_request_as_the_stage_does(deployment: Any) -> None:
    apigateway = deployment.client("apigateway")
    api_id = deployment.output("compute", "ApiId")
    answer = apigateway.test_invoke_method(
        restApiId=api_id,
        resourceId=_resource_id(apigateway, api_id, "/chat"),
        httpMethod="POST",
        body=json.dumps({"unexpected": True}),
        headers={"content-type": "application/json"},
    )
    assert answer["status"] == 400, answer
    # the template's BAD_REQUEST_BODY gateway response, before any function runs
    assert json.loads(answer["body"])["error"]["code"] == "invalid_request"
    assert "lambda function" not in answer["log"]
