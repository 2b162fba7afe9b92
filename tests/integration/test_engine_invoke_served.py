"""Lambda Invoke and API Gateway's TestInvokeMethod through `concert-platform engine serve`'s
endpoint, from another process (issue 20 item 5): the served engine runs the function in its
local runtime as its role, as the embedded engine does (test_engine_invoke.py)."""

from __future__ import annotations

import base64
import json
from typing import Any

import boto3
import pytest
from test_ownership_served import _cli, served  # noqa: F401 - the module's engine serve fixture

pytestmark = [pytest.mark.integration, pytest.mark.own_engine]

ENVIRONMENT = "inv7"


def _outputs(endpoint: str) -> dict[str, dict[str, str]]:
    shown = _cli(endpoint, "outputs", "--environment", ENVIRONMENT, "--json")
    assert shown.returncode == 0, shown.stderr
    outputs: dict[str, dict[str, str]] = json.loads(shown.stdout)
    return outputs


def _client(endpoint: str, service: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def test_invoke_and_test_invoke_method_on_the_served_engine(served: str) -> None:  # noqa: F811
    deployed = _cli(
        served, "deploy", "--environment", ENVIRONMENT, "--only", "networking", "storage", "compute"
    )
    assert deployed.returncode == 0, deployed.stderr[-2000:]
    try:
        compute = _outputs(served)["compute"]
        event = {"httpMethod": "GET", "path": "/health", "resource": "/health", "headers": {}, "body": None}
        response = _client(served, "lambda").invoke(
            FunctionName=compute["HealthCheckFunctionName"],
            Payload=json.dumps(event).encode(),
            LogType="Tail",
        )
        payload = json.loads(response["Payload"].read())
        assert response["StatusCode"] == 200 and "FunctionError" not in response, payload
        # the chatbot stack is not deployed: the health check names its tables as unavailable
        assert payload["statusCode"] in (200, 503), payload
        assert "REPORT RequestId: " in base64.b64decode(response["LogResult"]).decode()

        apigateway = _client(served, "apigateway")
        api_id = compute["ApiId"]
        resources = apigateway.get_resources(restApiId=api_id, limit=500)["items"]
        answer = apigateway.test_invoke_method(
            restApiId=api_id,
            resourceId=next(r["id"] for r in resources if r["path"] == "/health"),
            httpMethod="GET",
        )
        assert answer["status"] == payload["statusCode"], answer
        assert json.loads(answer["body"])["status"] == json.loads(payload["body"])["status"]
        assert answer["headers"]["access-control-allow-origin"] == "*"
    finally:
        destroyed = _cli(served, "destroy", "--environment", ENVIRONMENT, "--yes")
        assert destroyed.returncode == 0, destroyed.stderr[-2000:]
