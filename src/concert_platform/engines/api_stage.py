"""A deployed REST API stage answering requests on the embedded engine, as API Gateway would.

moto stores REST APIs but does not serve them without Docker-run Lambdas. `DeployedStage` reads
the API back from the engine (resources, methods, integrations, the stage, usage plans, API keys,
request validators, models) and answers a request in API Gateway's order:

1. route: the resource whose path template matches (`{param}`, `{proxy+}`) and its method (or
   ANY); none: 403 `Missing Authentication Token`, as API Gateway answers;
2. API key: a method with `apiKeyRequired` needs an `x-api-key` that is enabled and attached to a
   usage plan of this API and stage, else 403 `Forbidden`;
3. request validator: required request parameters and the body's JSON schema (the method's
   request model), else 400 with API Gateway's message;
4. integration: `MOCK` answers from its integration responses (CORS preflight); `AWS_PROXY`
   builds the proxy event (stage, resource path, path parameters, request context, identity)
   and invokes the function named by the integration URI, if the function's resource policy
   lets apigateway.amazonaws.com invoke it for this API, stage, method and path (else 500, as
   API Gateway's "Invalid permissions on Lambda function"); a function error or a malformed
   answer is API Gateway's 502.

What it does not do: throttling and quotas, authorizers, non-proxy AWS/HTTP integrations, and
serving a deployment snapshot (it serves the API's current methods).
"""

from __future__ import annotations

import functools
import json
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any

from concert_platform.engines.local_lambda import Invocation

_LAMBDA_URI = re.compile(
    r"^arn:[^:]+:apigateway:[^:]+:lambda:path/2015-03-31/functions/(?P<arn>.+)/invocations$"
)


@dataclass
class ApiResponse:
    status: int
    headers: dict[str, str]
    body: str
    #: the function the integration invoked, and why the integration failed (502s), if it did
    function: str | None = None
    error: str | None = None


@dataclass
class Route:
    resource_id: str
    path: str
    method: str
    settings: dict[str, Any]
    path_parameters: dict[str, str] = field(default_factory=dict)

    @property
    def integration(self) -> dict[str, Any]:
        integration: dict[str, Any] = self.settings.get("methodIntegration") or {}
        return integration

    def function_arn(self) -> str | None:
        match = _LAMBDA_URI.match(self.integration.get("uri") or "")
        return match.group("arn") if match else None


class WiringError(RuntimeError):
    """A method integrated with a function that does not serve its route."""


#: the stage name API Gateway's TestInvokeMethod runs a method in (`$context.stage`, source ARNs)
TEST_INVOKE_STAGE = "test-invoke-stage"


def _message(status: int, message: str) -> ApiResponse:
    return ApiResponse(status, {"content-type": "application/json"}, json.dumps({"message": message}))


class DeployedStage:
    """One stage of one deployed REST API (see the module docstring)."""

    def __init__(
        self,
        engine: Any,
        api_id: str,
        stage: str,
        invoke: Callable[[str, dict[str, Any]], Invocation],
        routes_of: Callable[[str], tuple[str, dict[str, list[str]] | None, Invocation | None]] | None = None,
        check_permissions: bool = True,
        stage_variables: dict[str, str] | None = None,
    ) -> None:
        self.engine = engine
        self.api_id = api_id
        self.stage = stage
        self._invoke = invoke
        self._routes_of = routes_of
        self._check_permissions = check_permissions
        client = engine.client("apigateway")
        testing = stage == TEST_INVOKE_STAGE
        # TestInvokeMethod runs a method outside any deployed stage, with the variables it is given
        self._stage = (
            {"stageName": stage, "variables": dict(stage_variables or {})}
            if testing
            else client.get_stage(restApiId=api_id, stageName=stage)
        )
        self._resources = _all(client.get_resources, "items", restApiId=api_id)
        self._methods: dict[tuple[str, str], dict[str, Any]] = {}
        for resource in self._resources:
            for method in resource.get("resourceMethods") or {}:
                self._methods[(resource["id"], method)] = client.get_method(
                    restApiId=api_id, resourceId=resource["id"], httpMethod=method
                )
        self._validators = {
            v["id"]: v for v in _all(client.get_request_validators, "items", restApiId=api_id)
        }
        self._keys = {} if testing else self._stage_keys(client)
        self._schemas: dict[str, dict[str, Any]] = {}
        self.account_id = self._stage_account()
        # customised gateway responses (the template's), by type; the rest answer API Gateway's default
        self._gateway_responses = {
            r["responseType"]: r
            for r in client.get_gateway_responses(restApiId=api_id).get("items", [])
            if not r.get("defaultResponse", False)
        }

    def _refuse(self, response_type: str, status: int, message: str) -> ApiResponse:
        """API Gateway's own answer (403, 400, ...): the API's gateway response of that type (or its
        DEFAULT_4XX) when the template customises one, with its headers and body template."""
        custom = self._gateway_responses.get(response_type) or self._gateway_responses.get("DEFAULT_4XX")
        if custom is None:
            return _message(status, message)
        request_id = str(uuid.uuid4())
        headers = {"content-type": "application/json"}
        for name, value in (custom.get("responseParameters") or {}).items():
            if name.startswith("gatewayresponse.header."):
                headers[name.removeprefix("gatewayresponse.header.").lower()] = str(value).strip("'")
        template = (custom.get("responseTemplates") or {}).get("application/json")
        body = (
            template.replace("$context.requestId", request_id)
            .replace("$context.error.messageString", json.dumps(message))
            .replace("$context.error.message", message)
            .replace("$context.error.validationErrorString", message)
            if template
            else json.dumps({"message": message})
        )
        return ApiResponse(int(custom.get("statusCode") or status), headers, body)

    def _stage_keys(self, client: Any) -> dict[str, dict[str, Any]]:
        """API key value -> key, for keys attached to a usage plan that covers this API and stage."""
        keys: dict[str, dict[str, Any]] = {}
        for plan in _all(client.get_usage_plans, "items"):
            stages = plan.get("apiStages") or []
            if not any(s.get("apiId") == self.api_id and s.get("stage") == self.stage for s in stages):
                continue
            for plan_key in _all(client.get_usage_plan_keys, "items", usagePlanId=plan["id"]):
                key = client.get_api_key(apiKey=plan_key["id"], includeValue=True)
                if key.get("value"):
                    keys[key["value"]] = key
        return keys

    def _stage_account(self) -> str:
        arn = self.engine.client("sts").get_caller_identity().get("Account", "")
        return str(arn)

    # ---- routing -------------------------------------------------------------------------------
    def routes(self) -> list[Route]:
        return [
            Route(resource["id"], resource["path"], method, self._methods[(resource["id"], method)])
            for resource in self._resources
            for method in sorted(resource.get("resourceMethods") or {})
        ]

    def match(self, method: str, path: str) -> Route | None:
        path = "/" + path.strip("/")
        for resource in sorted(self._resources, key=lambda r: r["path"].count("{")):
            parameters = _match_path(resource["path"], path)
            if parameters is None:
                continue
            for candidate in (method, "ANY"):
                settings = self._methods.get((resource["id"], candidate))
                if settings is not None:
                    return Route(resource["id"], resource["path"], candidate, settings, parameters)
            return None
        return None

    # ---- serving a request ---------------------------------------------------------------------
    def request(
        self,
        method: str,
        path: str,
        headers: dict[str, str] | None = None,
        query: dict[str, str] | None = None,
        body: str | None = None,
    ) -> ApiResponse:
        headers = dict(headers or {})
        lower = {k.lower(): v for k, v in headers.items()}
        route = self.match(method, path)
        if route is None:
            return self._refuse("MISSING_AUTHENTICATION_TOKEN", 403, "Missing Authentication Token")
        key = None
        if route.settings.get("apiKeyRequired"):
            key = self._keys.get(lower.get("x-api-key", ""))
            if key is None or not key.get("enabled", False):
                return self._refuse("INVALID_API_KEY", 403, "Forbidden")
        return self._serve(route, method, path, headers, query, body, key)

    def test_invoke(
        self,
        resource_id: str,
        method: str,
        path_with_query: str | None = None,
        headers: dict[str, str] | None = None,
        body: str | None = None,
    ) -> ApiResponse:
        """API Gateway's TestInvokeMethod: the method of `resource_id`, called as `path_with_query`
        (default: the resource's path), through validation and the integration; API keys and
        authorisation are not checked, as the test invoke skips them. LookupError: no such
        resource or method."""
        from urllib.parse import parse_qsl

        resource = next((r for r in self._resources if r["id"] == resource_id), None)
        if resource is None:
            raise LookupError(f"Invalid Resource identifier specified: {resource_id}")
        route_method = method if (resource_id, method) in self._methods else "ANY"
        settings = self._methods.get((resource_id, route_method))
        if settings is None:
            raise LookupError(f"Invalid Method identifier specified: {method} on {resource['path']}")
        raw_path, _, query_string = (path_with_query or resource["path"]).partition("?")
        parameters = _match_path(resource["path"], raw_path) or {}
        route = Route(resource_id, resource["path"], route_method, settings, parameters)
        query = dict(parse_qsl(query_string, keep_blank_values=True)) or None
        return self._serve(route, method, raw_path, dict(headers or {}), query, body, None)

    def _serve(
        self,
        route: Route,
        method: str,
        path: str,
        headers: dict[str, str],
        query: dict[str, str] | None,
        body: str | None,
        key: dict[str, Any] | None,
    ) -> ApiResponse:
        """A routed (and, where required, keyed) request: validation, then the integration."""
        lower = {k.lower(): v for k, v in headers.items()}
        refused = self._validate(route, lower, query or {}, body)
        if refused is not None:
            return refused
        integration_type = route.integration.get("type")
        if integration_type == "MOCK":
            return self._mock(route)
        if integration_type != "AWS_PROXY":
            return _message(500, f"integration type {integration_type} is not emulated")
        function_arn = route.function_arn()
        if function_arn is None:
            return _message(500, "Internal server error")
        self.require_serves(route, function_arn)
        source_arn = self.source_arn(method, path)
        if self._check_permissions and not self.may_invoke(function_arn, source_arn):
            response = _message(500, "Internal server error")
            response.function = function_arn.rsplit(":", 1)[-1]
            response.error = (
                f"Execution failed due to configuration error: Invalid permissions on Lambda function "
                f"{response.function} (no statement of its resource policy lets apigateway.amazonaws.com "
                f"invoke it for {source_arn})"
            )
            return response
        event = self.proxy_event(route, method, path, headers, query, body, key)
        outcome = self._invoke(function_arn, event)
        return _proxy_response(outcome)

    def require_serves(self, route: Route, function_arn: str) -> None:
        """Raise WiringError when the integrated function's handler does not declare this route."""
        if self._routes_of is None:
            return
        function, declared, failure = self._routes_of(function_arn)
        if failure is not None or declared is None:
            return  # the invocation reports the init failure; an undeclared table cannot be checked
        if route.method not in declared.get(route.path, []) and "ANY" not in declared.get(route.path, []):
            serves = ", ".join(f"{m} {p}" for p, ms in sorted(declared.items()) for m in ms) or "nothing"
            raise WiringError(
                f"{route.method} {route.path} is integrated with {function}, which does not serve it "
                f"(it serves {serves})"
            )

    def source_arn(self, method: str, path: str) -> str:
        return (
            f"arn:aws:execute-api:{self.engine.region}:{self.account_id}:{self.api_id}/{self.stage}/"
            f"{method}/{path.strip('/')}"
        )

    def may_invoke(self, function_arn: str, source_arn: str) -> bool:
        """Whether the function's resource policy allows API Gateway to invoke it for `source_arn`."""
        policy = self.engine.function_policy(function_arn)
        if policy is None:
            return False  # no resource policy at all
        context = {"aws:sourcearn": source_arn, "aws:sourceaccount": self.account_id}
        allowed = False
        for statement in policy.get("Statement", []):
            principal = statement.get("Principal")
            services = principal.get("Service") if isinstance(principal, dict) else principal
            services = [services] if isinstance(services, str) else list(services or [])
            actions = statement.get("Action")
            actions = [actions] if isinstance(actions, str) else list(actions or [])
            if not (
                ("apigateway.amazonaws.com" in services or "*" in services)
                and any(fnmatchcase("lambda:InvokeFunction", a) for a in actions)
                and _conditions_hold(statement.get("Condition") or {}, context)
            ):
                continue
            if statement.get("Effect") == "Deny":
                return False
            allowed = True
        return allowed

    def wiring_problems(self) -> list[str]:
        """Every AWS_PROXY method whose function does not serve its route (or cannot start)."""
        problems = []
        for route in self.routes():
            function_arn = route.function_arn()
            if route.integration.get("type") != "AWS_PROXY" or function_arn is None:
                continue
            if self._routes_of is not None:
                _, _, failure = self._routes_of(function_arn)
                if failure is not None:
                    problems.append(f"{route.method} {route.path}: {failure.describe_error()}")
                    continue
            try:
                self.require_serves(route, function_arn)
            except WiringError as exc:
                problems.append(str(exc))
        return problems

    def _validate(
        self, route: Route, headers: dict[str, str], query: dict[str, str], body: str | None
    ) -> ApiResponse | None:
        validator = self._validators.get(route.settings.get("requestValidatorId") or "")
        if validator is None:
            return None
        if validator.get("validateRequestParameters"):
            missing = []
            for name, required in (route.settings.get("requestParameters") or {}).items():
                _, _, where, parameter = name.split(".", 3)
                present = {
                    "querystring": parameter in query,
                    "header": parameter.lower() in headers,
                    "path": True,  # a route with a path parameter only matches when it is there
                }.get(where, True)
                if required and not present:
                    missing.append(parameter)
            if missing:
                return self._refuse(
                    "BAD_REQUEST_PARAMETERS",
                    400,
                    f"Missing required request parameters: [{', '.join(missing)}]",
                )
        if validator.get("validateRequestBody"):
            content_type = headers.get("content-type", "application/json").split(";")[0].strip()
            models = route.settings.get("requestModels") or {}
            model = models.get(content_type)
            if model and model != "Empty":
                schema = self._schemas.get(model)
                if schema is None:  # a stage serves the models it was deployed with: read once
                    schema = self._schemas[model] = json.loads(
                        self.engine.client("apigateway").get_model(restApiId=self.api_id, modelName=model)[
                            "schema"
                        ]
                    )
                if not _valid_json(schema, body):
                    return self._refuse("BAD_REQUEST_BODY", 400, "Invalid request body")
        return None

    def _mock(self, route: Route) -> ApiResponse:
        template = (route.integration.get("requestTemplates") or {}).get("application/json", "")
        try:
            status = str(json.loads(template).get("statusCode", 200)) if template else "200"
        except ValueError:
            return _message(500, "Internal server error")
        responses = route.integration.get("integrationResponses") or {}
        chosen = next(
            (
                r
                for r in responses.values()
                if r.get("selectionPattern") and re.fullmatch(r["selectionPattern"], status)
            ),
            None,
        ) or next((r for r in responses.values() if not r.get("selectionPattern")), None)
        if chosen is None:
            return _message(500, "Internal server error")
        headers = {"content-type": "application/json"}
        for name, value in (chosen.get("responseParameters") or {}).items():
            if name.startswith("method.response.header.") and value.startswith("'") and value.endswith("'"):
                headers[name.removeprefix("method.response.header.").lower()] = value[1:-1]
        body = (chosen.get("responseTemplates") or {}).get("application/json") or ""
        return ApiResponse(int(chosen.get("statusCode", 200)), headers, body)

    def proxy_event(
        self,
        route: Route,
        method: str,
        path: str,
        headers: dict[str, str],
        query: dict[str, str] | None,
        body: str | None,
        key: dict[str, Any] | None,
    ) -> dict[str, Any]:
        """The Lambda proxy (REST, payload 1.0) event API Gateway sends for this request."""
        request_id = str(uuid.uuid4())
        region = self.engine.region
        domain = f"{self.api_id}.execute-api.{region}.amazonaws.com"
        now = time.time()
        full_headers = {
            "Host": domain,
            "X-Forwarded-For": "127.0.0.1",
            "X-Forwarded-Port": "443",
            "X-Forwarded-Proto": "https",
            "X-Amzn-Trace-Id": f"Root=1-{int(now):08x}-{uuid.uuid4().hex[:24]}",
            **headers,
        }
        return {
            "resource": route.path,
            "path": "/" + path.strip("/"),
            "httpMethod": method,
            "headers": full_headers,
            "multiValueHeaders": {k: [v] for k, v in full_headers.items()},
            "queryStringParameters": dict(query) if query else None,
            "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} if query else None,
            "pathParameters": dict(route.path_parameters) or None,
            "stageVariables": self._stage.get("variables") or None,
            "requestContext": {
                "accountId": self.account_id,
                "apiId": self.api_id,
                "resourceId": route.resource_id,
                "resourcePath": route.path,
                "httpMethod": method,
                "path": f"/{self.stage}/" + path.strip("/"),
                "stage": self.stage,
                "requestId": request_id,
                "extendedRequestId": request_id,
                "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
                "requestTimeEpoch": int(now * 1000),
                "protocol": "HTTP/1.1",
                "domainName": domain,
                "domainPrefix": self.api_id,
                "identity": {
                    "sourceIp": "127.0.0.1",
                    "userAgent": headers.get("User-Agent", "concert-platform-smoke"),
                    "apiKey": key.get("value") if key else None,
                    "apiKeyId": key.get("id") if key else None,
                    "accountId": None,
                    "caller": None,
                    "user": None,
                    "userArn": None,
                    "accessKey": None,
                    "cognitoIdentityPoolId": None,
                    "cognitoIdentityId": None,
                    "cognitoAuthenticationType": None,
                    "cognitoAuthenticationProvider": None,
                },
            },
            "body": body,
            "isBase64Encoded": False,
        }


def _proxy_response(outcome: Invocation) -> ApiResponse:
    if not outcome.ok:
        response = _message(502, "Internal server error")
        response.function, response.error = outcome.function, outcome.describe_error()
        return response
    result = outcome.result
    if not isinstance(result, dict) or not isinstance(result.get("statusCode", 200), int):
        response = _message(502, "Internal server error")
        response.function = outcome.function
        response.error = f"{outcome.function} returned a malformed Lambda proxy response: {str(result)[:200]}"
        return response
    headers = {k.lower(): str(v) for k, v in (result.get("headers") or {}).items()}
    for name, values in (result.get("multiValueHeaders") or {}).items():
        headers.setdefault(name.lower(), ",".join(str(v) for v in values))
    body = result.get("body")
    return ApiResponse(
        int(result.get("statusCode", 200)),
        headers,
        body if isinstance(body, str) else ("" if body is None else json.dumps(body)),
        function=outcome.function,
    )


def _conditions_hold(conditions: dict[str, dict[str, Any]], context: dict[str, str]) -> bool:
    """The ARN/String operators resource policies for API Gateway use; any other operator fails closed."""
    for operator, pairs in conditions.items():
        for key, expected in pairs.items():
            actual = context.get(key.lower())
            values = [expected] if isinstance(expected, str) else list(expected)
            if actual is None:
                return False
            if operator in ("ArnLike", "StringLike"):
                if not any(fnmatchcase(actual, v) for v in values):
                    return False
            elif operator in ("ArnEquals", "StringEquals"):
                if actual not in values:
                    return False
            else:
                return False
    return True


def _match_path(template: str, path: str) -> dict[str, str] | None:
    """Path parameters when `path` matches the resource path template, else None."""
    parts, given = [p for p in template.split("/") if p], [p for p in path.split("/") if p]
    parameters: dict[str, str] = {}
    for index, part in enumerate(parts):
        if part.startswith("{") and part.endswith("+}"):
            if index >= len(given):
                return None
            parameters[part[1:-2]] = "/".join(given[index:])
            return parameters
        if index >= len(given):
            return None
        if part.startswith("{") and part.endswith("}"):
            parameters[part[1:-1]] = given[index]
        elif part != given[index]:
            return None
    return parameters if len(parts) == len(given) else None


@functools.lru_cache(maxsize=128)
def _schema_validator(schema_text: str) -> Callable[[Any], Any]:
    """A model's JSON schema compiled once (fastjsonschema, which Powertools' validator runs): a
    compile per request was a twentieth of the engine's time in the hostile-input flow."""
    import fastjsonschema

    return fastjsonschema.compile(json.loads(schema_text))


def _valid_json(schema: dict[str, Any], body: str | None) -> bool:
    from fastjsonschema import JsonSchemaValueException

    try:
        data = json.loads(body or "")
    except ValueError:
        return False
    try:
        _schema_validator(json.dumps(schema, sort_keys=True))(data)
    except JsonSchemaValueException:
        return False
    return True


def _all(call: Callable[..., dict[str, Any]], key: str, **kwargs: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    position = None
    while True:
        page = call(**kwargs, **({"position": position} if position else {}))
        items.extend(page.get(key, []))
        position = page.get("position")
        if not position:
            return items
