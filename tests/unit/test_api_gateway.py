"""The deployed-stage emulation answers as API Gateway does: routes, API keys, validators, MOCK
integrations, the Lambda proxy event, 502s that name the failing function, and wiring errors."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from concert_platform.engines.api_stage import DeployedStage, WiringError
from concert_platform.engines.base import Engine
from concert_platform.engines.local_lambda import Invocation

FUNCTION = "arn:aws:lambda:us-east-1:123456789012:function:items-fn"
URI = f"arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/{FUNCTION}/invocations"


class MotoEngine:
    region = "us-east-1"
    endpoint_url = None

    def client(self, service: str) -> Any:
        return boto3.client(service, region_name=self.region)  # type: ignore[call-overload]

    def function_policy(self, name_or_arn: str) -> dict[str, Any] | None:  # Engine's, through the API
        return Engine.function_policy(self, name_or_arn)  # type: ignore[arg-type]


@pytest.fixture
def api(aws: None) -> dict[str, str]:
    client = boto3.client("apigateway", region_name="us-east-1")
    api_id = client.create_rest_api(name="items")["id"]
    root = next(r["id"] for r in client.get_resources(restApiId=api_id)["items"] if r["path"] == "/")
    items = client.create_resource(restApiId=api_id, parentId=root, pathPart="items")["id"]
    item = client.create_resource(restApiId=api_id, parentId=items, pathPart="{id}")["id"]
    validator = client.create_request_validator(
        restApiId=api_id, name="all", validateRequestBody=True, validateRequestParameters=True
    )["id"]
    client.create_model(
        restApiId=api_id,
        name="NewItem",
        contentType="application/json",
        schema=json.dumps(
            {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}}
        ),
    )
    for resource, method, extra in (
        (items, "GET", {"requestParameters": {"method.request.querystring.q": True}}),
        (items, "POST", {"requestModels": {"application/json": "NewItem"}}),
        (item, "GET", {}),
    ):
        client.put_method(
            restApiId=api_id,
            resourceId=resource,
            httpMethod=method,
            authorizationType="NONE",
            apiKeyRequired=True,
            requestValidatorId=validator,
            **extra,
        )
        client.put_integration(
            restApiId=api_id,
            resourceId=resource,
            httpMethod=method,
            type="AWS_PROXY",
            integrationHttpMethod="POST",
            uri=URI,
        )
    client.put_method(restApiId=api_id, resourceId=items, httpMethod="OPTIONS", authorizationType="NONE")
    client.put_integration(
        restApiId=api_id,
        resourceId=items,
        httpMethod="OPTIONS",
        type="MOCK",
        requestTemplates={"application/json": '{"statusCode": 200}'},
    )
    client.put_integration_response(
        restApiId=api_id,
        resourceId=items,
        httpMethod="OPTIONS",
        statusCode="200",
        selectionPattern="",
        responseParameters={
            "method.response.header.Access-Control-Allow-Methods": "'GET,POST,OPTIONS'",
            "method.response.header.Access-Control-Allow-Origin": "'*'",
        },
    )
    deployment = client.create_deployment(restApiId=api_id)["id"]
    client.create_stage(restApiId=api_id, stageName="dev", deploymentId=deployment)
    plan = client.create_usage_plan(name="plan", apiStages=[{"apiId": api_id, "stage": "dev"}])["id"]
    key = client.create_api_key(name="k", enabled=True, value="attached-key-value-0001")
    client.create_usage_plan_key(usagePlanId=plan, keyId=key["id"], keyType="API_KEY")
    client.create_api_key(name="loose", enabled=True, value="unattached-key-value-01")
    return {"api_id": api_id, "key": "attached-key-value-0001", "key_id": key["id"]}


def stage(
    api: dict[str, str],
    answer: Any = None,
    routes: dict[str, list[str]] | None = None,
    check_permissions: bool = False,
) -> tuple[DeployedStage, list[dict[str, Any]]]:
    events: list[dict[str, Any]] = []

    def invoke(arn: str, event: dict[str, Any]) -> Invocation:
        events.append(event)
        if isinstance(answer, Invocation):
            return answer
        return Invocation("items-fn", "r1", result=answer or {"statusCode": 200, "body": '{"ok": true}'})

    def routes_of(arn: str) -> tuple[str, dict[str, list[str]] | None, Invocation | None]:
        return "items-fn", routes, None

    return DeployedStage(MotoEngine(), api["api_id"], "dev", invoke, routes_of, check_permissions), events


def test_a_proxy_request_builds_the_event_api_gateway_sends(api: dict[str, str]) -> None:
    served, events = stage(api)
    response = served.request("GET", "/items/42", headers={"x-api-key": api["key"]})
    assert response.status == 200 and json.loads(response.body) == {"ok": True}
    (event,) = events
    assert event["resource"] == "/items/{id}"
    assert event["path"] == "/items/42"
    assert event["pathParameters"] == {"id": "42"}
    context = event["requestContext"]
    assert context["stage"] == "dev" and context["resourcePath"] == "/items/{id}"
    assert context["path"] == "/dev/items/42" and context["apiId"] == api["api_id"]
    assert context["identity"]["apiKeyId"] == api["key_id"]


def test_api_keys_must_be_sent_and_attached_to_the_stage_usage_plan(api: dict[str, str]) -> None:
    served, events = stage(api)
    assert served.request("GET", "/items/1").status == 403
    refused = served.request("GET", "/items/1", headers={"x-api-key": "unattached-key-value-01"})
    assert (refused.status, json.loads(refused.body)) == (403, {"message": "Forbidden"})
    assert not events


def test_an_unknown_route_is_missing_authentication_token(api: dict[str, str]) -> None:
    served, _ = stage(api)
    for method, path in (("GET", "/nowhere"), ("DELETE", "/items")):
        response = served.request(method, path, headers={"x-api-key": api["key"]})
        assert (response.status, json.loads(response.body)) == (
            403,
            {"message": "Missing Authentication Token"},
        )


def test_the_request_validator_checks_parameters_and_the_body_model(api: dict[str, str]) -> None:
    served, events = stage(api)
    headers = {"x-api-key": api["key"], "content-type": "application/json"}
    missing = served.request("GET", "/items", headers=headers)
    assert json.loads(missing.body) == {"message": "Missing required request parameters: [q]"}
    assert served.request("GET", "/items", headers=headers, query={"q": "x"}).status == 200
    invalid = served.request("POST", "/items", headers=headers, body='{"title": "no name"}')
    assert (invalid.status, json.loads(invalid.body)) == (400, {"message": "Invalid request body"})
    assert served.request("POST", "/items", headers=headers, body='{"name": "a"}').status == 200
    assert len(events) == 2


def test_a_mock_integration_answers_the_cors_preflight(api: dict[str, str]) -> None:
    served, events = stage(api)
    response = served.request("OPTIONS", "/items")
    assert response.status == 200
    assert response.headers["access-control-allow-methods"] == "GET,POST,OPTIONS"
    assert response.headers["access-control-allow-origin"] == "*"
    assert not events


def test_a_function_error_is_a_502_that_names_the_function(api: dict[str, str]) -> None:
    failed = Invocation(
        "items-fn", "r1", error_type="Sandbox.Timedout", error_message="Task timed out after 3.00 seconds"
    )
    served, _ = stage(api, answer=failed)
    response = served.request("GET", "/items/1", headers={"x-api-key": api["key"]})
    assert (response.status, json.loads(response.body)) == (502, {"message": "Internal server error"})
    assert response.error == "items-fn failed with Sandbox.Timedout: Task timed out after 3.00 seconds"
    malformed, _ = stage(api, answer={"body": "no status"} | {"statusCode": "200"})
    assert malformed.request("GET", "/items/1", headers={"x-api-key": api["key"]}).status == 502


def test_a_method_integrated_with_a_function_that_does_not_serve_it(api: dict[str, str]) -> None:
    served, events = stage(api, routes={"/items/{id}": ["GET"]})
    with pytest.raises(WiringError, match=r"GET /items is integrated with items-fn, which does not serve it"):
        served.request("GET", "/items", headers={"x-api-key": api["key"]}, query={"q": "x"})
    assert not events
    problems = served.wiring_problems()
    assert problems == [
        "GET /items is integrated with items-fn, which does not serve it (it serves GET /items/{id})",
        "POST /items is integrated with items-fn, which does not serve it (it serves GET /items/{id})",
    ]


def test_the_function_resource_policy_must_let_api_gateway_invoke_it(api: dict[str, str]) -> None:
    import io
    import zipfile

    package = io.BytesIO()
    with zipfile.ZipFile(package, "w") as archive:
        archive.writestr("app.py", "def handler(event, context):\n    return {}\n")
    role = boto3.client("iam").create_role(RoleName="items", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    functions = boto3.client("lambda", region_name="us-east-1")
    functions.create_function(
        FunctionName="items-fn", Runtime="python3.12", Role=role, Handler="app.handler",
        Code={"ZipFile": package.getvalue()},
    )  # fmt: skip
    served, events = stage(api, check_permissions=True)
    headers = {"x-api-key": api["key"], "content-type": "application/json"}
    refused = served.request("GET", "/items/1", headers=headers)
    assert (refused.status, json.loads(refused.body)) == (500, {"message": "Internal server error"})
    assert refused.error is not None and "Invalid permissions on Lambda function items-fn" in refused.error
    functions.add_permission(
        FunctionName="items-fn",
        StatementId="api",
        Action="lambda:InvokeFunction",
        Principal="apigateway.amazonaws.com",
        SourceArn=f"arn:aws:execute-api:us-east-1:123456789012:{api['api_id']}/*/GET/items/*",
        SourceAccount="123456789012",
    )
    assert served.request("GET", "/items/1", headers=headers).status == 200
    other = served.request("POST", "/items", headers=headers, body='{"name": "a"}')
    assert other.status == 500 and other.error is not None
    assert f"{api['api_id']}/dev/POST/items" in other.error
    assert len(events) == 1
