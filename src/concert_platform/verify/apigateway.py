"""API Gateway (REST): the API, its resources and methods, deployment, stage, account settings,
API key and usage plan, request validators, models and gateway responses, read back and compared
in the template's shape."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from concert_platform.verify._base import (
    Field,
    Resource,
    Table,
    VerifyContext,
    as_set,
    exact,
    json_document,
    register,
)
from concert_platform.verify._lifecycle import (
    Gone,
    Namer,
    Probe,
    Recorded,
    Remover,
    paginate,
)


def _template_shape(answer: dict[str, Any], keys: dict[str, str]) -> dict[str, Any]:
    return {prop: answer[key] for key, prop in keys.items() if answer.get(key) is not None}


def _rest_api(ctx: VerifyContext, r: Resource) -> dict[str, Any]:
    return dict(ctx.client("apigateway").get_rest_api(restApiId=r.physical_id))


def _api_resource(ctx: VerifyContext, r: Resource) -> dict[str, Any]:
    api_id = r.props.get("RestApiId")
    resource = dict(ctx.client("apigateway").get_resource(restApiId=api_id, resourceId=r.physical_id))
    resource["restApiId"] = api_id  # found under the declared API: GetResource is scoped to it
    return resource


def _method(ctx: VerifyContext, r: Resource) -> dict[str, Any]:
    # The embedded engine's physical id is "<api>-<resource>-<METHOD>"; elsewhere use the declared keys.
    parts = r.physical_id.rsplit("-", 2)
    if len(parts) == 3 and parts[2] == r.props.get("HttpMethod"):
        api_id, resource_id, http_method = parts
    else:
        api_id, resource_id, http_method = (
            str(r.props.get(k)) for k in ("RestApiId", "ResourceId", "HttpMethod")
        )
    method = dict(
        ctx.client("apigateway").get_method(restApiId=api_id, resourceId=resource_id, httpMethod=http_method)
    )
    method["restApiId"], method["resourceId"] = api_id, resource_id
    return method


_INTEGRATION = {
    "type": "Type",
    "httpMethod": "IntegrationHttpMethod",
    "uri": "Uri",
    "credentials": "Credentials",
    "requestParameters": "RequestParameters",
    "requestTemplates": "RequestTemplates",
    "passthroughBehavior": "PassthroughBehavior",
    "contentHandling": "ContentHandling",
    "timeoutInMillis": "TimeoutInMillis",
    "cacheNamespace": "CacheNamespace",
    "cacheKeyParameters": "CacheKeyParameters",
    "connectionType": "ConnectionType",
}
_INTEGRATION_RESPONSE = {
    "statusCode": "StatusCode",
    "selectionPattern": "SelectionPattern",
    "responseParameters": "ResponseParameters",
    "responseTemplates": "ResponseTemplates",
    "contentHandling": "ContentHandling",
}
_METHOD_RESPONSE = {
    "statusCode": "StatusCode",
    "responseParameters": "ResponseParameters",
    "responseModels": "ResponseModels",
}


def _integration(integration: dict[str, Any]) -> dict[str, Any]:
    shaped = _template_shape(integration, _INTEGRATION)
    if integration.get("integrationResponses"):
        shaped["IntegrationResponses"] = [
            _template_shape(item, _INTEGRATION_RESPONSE)
            for item in integration["integrationResponses"].values()
        ]
    return shaped


def _method_responses(responses: dict[str, Any]) -> list[dict[str, Any]]:
    return [_template_shape(item, _METHOD_RESPONSE) for item in responses.values()]


def _deployment(ctx: VerifyContext, r: Resource) -> dict[str, Any]:
    api_id = r.props.get("RestApiId")
    deployment = dict(ctx.client("apigateway").get_deployment(restApiId=api_id, deploymentId=r.physical_id))
    deployment["restApiId"] = api_id
    return deployment


def _stage(ctx: VerifyContext, r: Resource) -> dict[str, Any]:
    api_id = r.props.get("RestApiId")
    stage = dict(ctx.client("apigateway").get_stage(restApiId=api_id, stageName=r.physical_id))
    stage["restApiId"] = api_id
    return stage


_METHOD_SETTING = {
    "metricsEnabled": "MetricsEnabled",
    "loggingLevel": "LoggingLevel",
    "dataTraceEnabled": "DataTraceEnabled",
    "throttlingBurstLimit": "ThrottlingBurstLimit",
    "throttlingRateLimit": "ThrottlingRateLimit",
    "cachingEnabled": "CachingEnabled",
    "cacheTtlInSeconds": "CacheTtlInSeconds",
    "cacheDataEncrypted": "CacheDataEncrypted",
}


def _method_settings(settings: dict[str, Any]) -> list[dict[str, Any]]:
    """Stage method settings are keyed "resource/method" ("*/*", "~1chat/POST")."""
    shaped = []
    for key, values in settings.items():
        path, method = key.rsplit("/", 1)
        item = _template_shape(values, _METHOD_SETTING)
        item["ResourcePath"], item["HttpMethod"] = "/" + path.replace("~1", "/"), method
        shaped.append(item)
    return shaped


def _access_log(declared: Any, observed: Any) -> list[str]:
    # A log group's GetAtt Arn ends in ":*"; API Gateway stores the group's ARN either way.
    def strip(setting: dict[str, Any]) -> dict[str, Any]:
        arn = setting.get("DestinationArn")
        return {**setting, "DestinationArn": arn.removesuffix(":*") if isinstance(arn, str) else arn}

    return exact(strip(declared), strip(observed))


def _account(ctx: VerifyContext, _r: Resource) -> dict[str, Any]:
    return dict(ctx.client("apigateway").get_account())


def _api_key(ctx: VerifyContext, r: Resource) -> dict[str, Any]:
    return dict(ctx.client("apigateway").get_api_key(apiKey=r.physical_id))


def _usage_plan(ctx: VerifyContext, r: Resource) -> dict[str, Any]:
    return dict(ctx.client("apigateway").get_usage_plan(usagePlanId=r.physical_id))


def _usage_plan_key(ctx: VerifyContext, r: Resource) -> dict[str, Any]:
    key_id, _, plan_id = r.physical_id.partition(":")  # the embedded engine's "<key>:<plan>"
    if not plan_id:
        key_id, plan_id = str(r.props.get("KeyId")), str(r.props.get("UsagePlanId"))
    key = dict(ctx.client("apigateway").get_usage_plan_key(usagePlanId=plan_id, keyId=key_id))
    key["usagePlanId"] = plan_id  # found under this plan: GetUsagePlanKey is scoped to it
    return key


def _request_validator(ctx: VerifyContext, r: Resource) -> dict[str, Any]:
    api_id = str(r.props.get("RestApiId"))
    validator = dict(
        ctx.client("apigateway").get_request_validator(restApiId=api_id, requestValidatorId=r.physical_id)
    )
    validator["restApiId"] = api_id
    return validator


def _model(ctx: VerifyContext, r: Resource) -> dict[str, Any]:
    api_id = str(r.props.get("RestApiId"))
    model = dict(ctx.client("apigateway").get_model(restApiId=api_id, modelName=r.physical_id))
    model["restApiId"] = api_id
    return model


def _gateway_response(ctx: VerifyContext, r: Resource) -> dict[str, Any]:
    api_id = str(r.props.get("RestApiId"))
    response = dict(
        ctx.client("apigateway").get_gateway_response(
            restApiId=api_id, responseType=str(r.props.get("ResponseType"))
        )
    )
    response["restApiId"] = api_id
    return response


def _account_role(declared: Any, observed: Any) -> list[str]:
    """The account's CloudWatch role is a region-wide setting every environment in the account
    writes (on AWS as on an emulator): the declared role, or the same-named role of another
    environment of this platform deployed after it, in the same account and region."""
    import re

    if not exact(declared, observed):
        return []
    pattern = re.sub(r"concert-apigateway-logs-.+-([a-z]{2}(?:-gov)?-[a-z]+-\d)$", "", str(declared))
    match = re.fullmatch(
        r"(.*)concert-apigateway-logs-[a-z0-9-]+-([a-z]{2}(?:-gov)?-[a-z]+-\d)", str(observed)
    )
    region = re.search(r"-([a-z]{2}(?:-gov)?-[a-z]+-\d)$", str(declared))
    if match and pattern and match.group(1) == pattern and region and match.group(2) == region.group(1):
        return []
    return exact(declared, observed)


register(
    Table(
        "AWS::ApiGateway::RequestValidator",
        _request_validator,
        {
            "RestApiId": Field("restApiId"),
            "Name": Field("name"),
            "ValidateRequestBody": Field("validateRequestBody"),
            "ValidateRequestParameters": Field("validateRequestParameters"),
        },
    ),
    Table(
        "AWS::ApiGateway::Model",
        _model,
        {
            "RestApiId": Field("restApiId"),
            "Name": Field("name"),
            "ContentType": Field("contentType"),
            "Description": Field("description"),
            "Schema": Field("schema", json_document),
        },
    ),
    Table(
        "AWS::ApiGateway::GatewayResponse",
        _gateway_response,
        {
            "RestApiId": Field("restApiId"),
            "ResponseType": Field("responseType"),
            "StatusCode": Field("statusCode"),
            "ResponseParameters": Field("responseParameters"),
            "ResponseTemplates": Field("responseTemplates"),
        },
    ),
    Table(
        "AWS::ApiGateway::RestApi",
        _rest_api,
        {
            "Name": Field("name"),
            "Description": Field("description"),
            "EndpointConfiguration": Field(
                "endpointConfiguration", as_set, view=lambda e: {"Types": e["types"]}
            ),
            "MinimumCompressionSize": Field("minimumCompressionSize"),
            "BinaryMediaTypes": Field("binaryMediaTypes", as_set),
            "ApiKeySourceType": Field("apiKeySource"),
        },
        attributes={
            "RootResourceId": lambda c, p: c.client("apigateway").get_rest_api(restApiId=p)["rootResourceId"]
        },
    ),
    Table(
        "AWS::ApiGateway::Resource",
        _api_resource,
        {"RestApiId": Field("restApiId"), "ParentId": Field("parentId"), "PathPart": Field("pathPart")},
    ),
    Table(
        "AWS::ApiGateway::Method",
        _method,
        {
            "RestApiId": Field("restApiId"),
            "ResourceId": Field("resourceId"),
            "HttpMethod": Field("httpMethod"),
            "AuthorizationType": Field("authorizationType"),
            "ApiKeyRequired": Field("apiKeyRequired"),
            "RequestValidatorId": Field("requestValidatorId"),
            "RequestModels": Field("requestModels"),
            "RequestParameters": Field("requestParameters"),
            "Integration": Field("methodIntegration", as_set, view=_integration),
            "MethodResponses": Field("methodResponses", as_set, view=_method_responses),
        },
    ),
    Table(
        "AWS::ApiGateway::Deployment",
        _deployment,
        {"RestApiId": Field("restApiId"), "Description": Field("description")},
    ),
    Table(
        "AWS::ApiGateway::Stage",
        _stage,
        {
            "RestApiId": Field("restApiId"),
            "DeploymentId": Field("deploymentId"),
            "StageName": Field("stageName"),
            "Description": Field("description"),
            "TracingEnabled": Field("tracingEnabled"),
            "AccessLogSetting": Field(
                "accessLogSettings",
                _access_log,
                view=lambda s: {"DestinationArn": s["destinationArn"], "Format": s["format"]},
            ),
            "MethodSettings": Field("methodSettings", as_set, view=_method_settings),
        },
    ),
    Table(
        "AWS::ApiGateway::Account", _account, {"CloudWatchRoleArn": Field("cloudwatchRoleArn", _account_role)}
    ),
    Table(
        "AWS::ApiGateway::ApiKey",
        _api_key,
        {"Name": Field("name"), "Description": Field("description"), "Enabled": Field("enabled")},
    ),
    Table(
        "AWS::ApiGateway::UsagePlan",
        _usage_plan,
        {
            "UsagePlanName": Field("name"),
            "Description": Field("description"),
            "ApiStages": Field(
                "apiStages",
                as_set,
                view=lambda stages: [{"ApiId": s["apiId"], "Stage": s["stage"]} for s in stages],
            ),
            "Throttle": Field(
                "throttle",
                view=lambda t: _template_shape(t, {"rateLimit": "RateLimit", "burstLimit": "BurstLimit"}),
            ),
            "Quota": Field(
                "quota",
                view=lambda q: _template_shape(q, {"limit": "Limit", "period": "Period", "offset": "Offset"}),
            ),
        },
    ),
    Table(
        "AWS::ApiGateway::UsagePlanKey",
        _usage_plan_key,
        {"KeyId": Field("id"), "KeyType": Field("type"), "UsagePlanId": Field("usagePlanId")},
    ),
)


# ---- teardown: proving each resource gone, removing what a stack deletion left --------------


def _probe_gateway_response(client: Any, api: str, r: Recorded) -> Any:
    # API Gateway answers every response type with its default; only a customised one is "there"
    response = client.get_gateway_response(restApiId=api, responseType=str(r.properties.get("ResponseType")))
    if response.get("defaultResponse", False):
        raise Gone
    return response


def _probe_api_method(client: Any, api: str, r: Recorded) -> Any:
    _api, resource, verb = r.physical_id.rsplit("-", 2) if r.physical_id.count("-") >= 2 else ("", "", "")
    resource = resource or str(r.properties.get("ResourceId", ""))
    verb = verb or str(r.properties.get("HttpMethod", ""))
    return client.get_method(restApiId=api, resourceId=resource, httpMethod=verb)


def _probe_usage_plan_key(c: Any, r: Recorded) -> str | None:
    key, _, plan = r.physical_id.partition(":")
    plan = plan or str(r.properties.get("UsagePlanId", ""))
    c("apigateway").get_usage_plan_key(usagePlanId=plan, keyId=key)
    return None


def _api_child(probe: Callable[[Any, str, Recorded], Any]) -> Probe:
    def check(c: Any, r: Recorded) -> str | None:
        api = r.properties.get("RestApiId")
        if not isinstance(api, str):
            raise Gone
        probe(c("apigateway"), api, r)
        return None

    return check


def _api(r: Recorded) -> str:
    return str(r.properties.get("RestApiId", ""))


#: type -> how to ask its service whether the resource still exists
PROBES: dict[str, Probe] = {
    "AWS::ApiGateway::RestApi": lambda c, r: c("apigateway").get_rest_api(restApiId=r.physical_id) and None,
    "AWS::ApiGateway::Resource": _api_child(
        lambda a, api, r: a.get_resource(restApiId=api, resourceId=r.physical_id)
    ),
    "AWS::ApiGateway::Method": _api_child(_probe_api_method),
    "AWS::ApiGateway::Deployment": _api_child(
        lambda a, api, r: a.get_deployment(restApiId=api, deploymentId=r.physical_id)
    ),
    "AWS::ApiGateway::Stage": _api_child(
        lambda a, api, r: a.get_stage(restApiId=api, stageName=r.physical_id)
    ),
    "AWS::ApiGateway::ApiKey": lambda c, r: c("apigateway").get_api_key(apiKey=r.physical_id) and None,
    "AWS::ApiGateway::UsagePlan": lambda c, r: (
        c("apigateway").get_usage_plan(usagePlanId=r.physical_id) and None
    ),
    "AWS::ApiGateway::UsagePlanKey": _probe_usage_plan_key,
    "AWS::ApiGateway::RequestValidator": _api_child(
        lambda a, api, r: a.get_request_validator(restApiId=api, requestValidatorId=r.physical_id)
    ),
    "AWS::ApiGateway::Model": _api_child(
        lambda a, api, r: a.get_model(restApiId=api, modelName=r.physical_id)
    ),
    "AWS::ApiGateway::GatewayResponse": _api_child(_probe_gateway_response),
}

#: type -> how to delete one directly, for what a stack deletion left behind
REMOVERS: dict[str, Remover] = {
    "AWS::ApiGateway::RestApi": lambda c, r: c("apigateway").delete_rest_api(restApiId=r.physical_id),
    "AWS::ApiGateway::Resource": lambda c, r: c("apigateway").delete_resource(
        restApiId=_api(r), resourceId=r.physical_id
    ),
    "AWS::ApiGateway::Deployment": lambda c, r: c("apigateway").delete_deployment(
        restApiId=_api(r), deploymentId=r.physical_id
    ),
    "AWS::ApiGateway::Stage": lambda c, r: c("apigateway").delete_stage(
        restApiId=_api(r), stageName=r.physical_id
    ),
    "AWS::ApiGateway::ApiKey": lambda c, r: c("apigateway").delete_api_key(apiKey=r.physical_id),
    "AWS::ApiGateway::UsagePlan": lambda c, r: c("apigateway").delete_usage_plan(usagePlanId=r.physical_id),
    "AWS::ApiGateway::RequestValidator": lambda c, r: c("apigateway").delete_request_validator(
        restApiId=_api(r), requestValidatorId=r.physical_id
    ),
    "AWS::ApiGateway::Model": lambda c, r: c("apigateway").delete_model(
        restApiId=_api(r), modelName=r.physical_id
    ),
    "AWS::ApiGateway::GatewayResponse": lambda c, r: c("apigateway").delete_gateway_response(
        restApiId=_api(r), responseType=str(r.properties.get("ResponseType"))
    ),
}

#: what the name scan lists of this service: (kind, the names)
NAMES: tuple[tuple[str, Namer], ...] = (
    ("rest api", lambda c: (a["name"] for a in paginate(c("apigateway"), "get_rest_apis", "items"))),
)

#: types with no remover of their own, and why
NO_REMOVER: dict[str, str] = {
    "AWS::ApiGateway::Method": "removed with its API resource",
    "AWS::ApiGateway::UsagePlanKey": "removed with its usage plan",
}


#: types that deleting a stack does not remove, on AWS either (with why); reported, never "remaining"
RETAINED_BY_DESIGN: dict[str, str] = {
    "AWS::ApiGateway::Account": "a region-wide API Gateway setting (the CloudWatch role); CloudFormation "
    "leaves it in place when the stack is deleted",
}
