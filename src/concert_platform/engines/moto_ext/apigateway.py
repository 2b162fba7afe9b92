"""API Gateway: Stage, Account, ApiKey, UsagePlan, UsagePlanKey, RequestValidator, Model,
GatewayResponse; and a Method model that accepts MOCK integrations (moto reads
Integration.IntegrationHttpMethod unconditionally: KeyError, HTTP 500) and keeps integration
responses, request parameters and request models."""

from __future__ import annotations

import json
from typing import Any

from moto.apigateway import models as apigw_models
from moto.core.common_models import CloudFormationModel

from concert_platform.engines.moto_ext._base import EmulatedResource, after_cloudformation_create, as_bool


def _backend(account_id: str, region_name: str) -> Any:
    return apigw_models.apigateway_backends[account_id][region_name]


def _method_settings(stage: Any, settings: list[dict[str, Any]]) -> None:
    keys = {
        "MetricsEnabled": "metricsEnabled",
        "LoggingLevel": "loggingLevel",
        "DataTraceEnabled": "dataTraceEnabled",
        "ThrottlingRateLimit": "throttlingRateLimit",
        "ThrottlingBurstLimit": "throttlingBurstLimit",
        "CachingEnabled": "cachingEnabled",
    }
    for setting in settings:
        path = setting.get("ResourcePath", "/*").lstrip("/") or "*"
        key = f"{path}/{setting.get('HttpMethod', '*')}"
        stage.method_settings[key] = {api: setting[cfn] for cfn, api in keys.items() if cfn in setting}


class Stage(EmulatedResource, CloudFormationModel):
    CFN_TYPE = "AWS::ApiGateway::Stage"

    def __init__(self, rest_api_id: str, name: str) -> None:
        self.rest_api_id = rest_api_id
        self.name = name

    @property
    def physical_resource_id(self) -> str:
        return self.name

    @classmethod
    def create(cls, properties: dict[str, Any], account_id: str, region_name: str, logical_id: str) -> Stage:
        backend = _backend(account_id, region_name)
        stage = backend.create_stage(
            function_id=properties["RestApiId"],
            stage_name=properties["StageName"],
            deploymentId=properties["DeploymentId"],
            variables=properties.get("Variables"),
            description=properties.get("Description", ""),
            cacheClusterEnabled=as_bool(properties.get("CacheClusterEnabled", False)),
            cacheClusterSize=properties.get("CacheClusterSize"),
            tracing_enabled=as_bool(properties.get("TracingEnabled", False)),
        )
        access = properties.get("AccessLogSetting")
        if access:
            stage.access_log_settings = {
                "destinationArn": access.get("DestinationArn"),
                "format": access.get("Format"),
            }
        _method_settings(stage, properties.get("MethodSettings", []))
        return cls(properties["RestApiId"], properties["StageName"])

    def remove(self, account_id: str, region_name: str) -> None:
        backend = _backend(account_id, region_name)
        if self.rest_api_id in backend.apis and self.name in backend.apis[self.rest_api_id].stages:
            backend.delete_stage(self.rest_api_id, self.name)


class Account(EmulatedResource, CloudFormationModel):
    CFN_TYPE = "AWS::ApiGateway::Account"

    def __init__(self, account_id: str) -> None:
        self.account_id = account_id

    @property
    def physical_resource_id(self) -> str:
        return self.account_id

    @classmethod
    def create(
        cls, properties: dict[str, Any], account_id: str, region_name: str, logical_id: str
    ) -> Account:
        _backend(account_id, region_name).update_account(
            [{"op": "replace", "path": "/cloudwatchRoleArn", "value": properties.get("CloudWatchRoleArn")}]
        )
        return cls(account_id)

    def remove(self, account_id: str, region_name: str) -> None:
        # Deleting the resource leaves the account setting as it is, as CloudFormation does.
        return None


class ApiKey(EmulatedResource, CloudFormationModel):
    CFN_TYPE = "AWS::ApiGateway::ApiKey"
    ATTRIBUTES = ("APIKeyId",)

    def __init__(self, key_id: str) -> None:
        self.key_id = key_id
        self.APIKeyId = key_id

    @property
    def physical_resource_id(self) -> str:
        return self.key_id

    @classmethod
    def create(cls, properties: dict[str, Any], account_id: str, region_name: str, logical_id: str) -> ApiKey:
        payload = {
            "name": properties.get("Name", logical_id),
            "description": properties.get("Description"),
            "enabled": as_bool(properties.get("Enabled", False)),
            "value": properties.get("Value"),
            "customerId": properties.get("CustomerId"),
        }
        key = _backend(account_id, region_name).create_api_key(
            {k: v for k, v in payload.items() if v is not None}
        )
        return cls(key.id)

    def remove(self, account_id: str, region_name: str) -> None:
        backend = _backend(account_id, region_name)
        if self.key_id in backend.keys:
            backend.delete_api_key(self.key_id)


class UsagePlan(EmulatedResource, CloudFormationModel):
    CFN_TYPE = "AWS::ApiGateway::UsagePlan"

    def __init__(self, plan_id: str) -> None:
        self.plan_id = plan_id

    @property
    def physical_resource_id(self) -> str:
        return self.plan_id

    @classmethod
    def create(
        cls, properties: dict[str, Any], account_id: str, region_name: str, logical_id: str
    ) -> UsagePlan:
        throttle = properties.get("Throttle", {})
        quota = properties.get("Quota", {})
        payload = {
            "name": properties.get("UsagePlanName", logical_id),
            "description": properties.get("Description"),
            "apiStages": [
                {"apiId": s["ApiId"], "stage": s["Stage"]} for s in properties.get("ApiStages", [])
            ],
            "throttle": {"rateLimit": throttle.get("RateLimit"), "burstLimit": throttle.get("BurstLimit")}
            if throttle
            else None,
            "quota": {
                "limit": quota.get("Limit"),
                "period": quota.get("Period"),
                "offset": quota.get("Offset", 0),
            }
            if quota
            else None,
        }
        plan = _backend(account_id, region_name).create_usage_plan(
            {k: v for k, v in payload.items() if v is not None}
        )
        return cls(plan.id)

    def remove(self, account_id: str, region_name: str) -> None:
        backend = _backend(account_id, region_name)
        if self.plan_id in backend.usage_plans:
            backend.delete_usage_plan(self.plan_id)


class UsagePlanKey(EmulatedResource, CloudFormationModel):
    CFN_TYPE = "AWS::ApiGateway::UsagePlanKey"

    def __init__(self, plan_id: str, key_id: str) -> None:
        self.plan_id = plan_id
        self.key_id = key_id

    @property
    def physical_resource_id(self) -> str:
        return f"{self.key_id}:{self.plan_id}"

    @classmethod
    def create(
        cls, properties: dict[str, Any], account_id: str, region_name: str, logical_id: str
    ) -> UsagePlanKey:
        _backend(account_id, region_name).create_usage_plan_key(
            properties["UsagePlanId"],
            {"keyId": properties["KeyId"], "keyType": properties.get("KeyType", "API_KEY")},
        )
        return cls(properties["UsagePlanId"], properties["KeyId"])

    def remove(self, account_id: str, region_name: str) -> None:
        backend = _backend(account_id, region_name)
        if self.key_id in backend.usage_plan_keys.get(self.plan_id, {}):
            backend.delete_usage_plan_key(self.plan_id, self.key_id)


class RequestValidator(EmulatedResource, CloudFormationModel):
    CFN_TYPE = "AWS::ApiGateway::RequestValidator"
    ATTRIBUTES = ("RequestValidatorId",)

    def __init__(self, rest_api_id: str, validator_id: str) -> None:
        self.rest_api_id = rest_api_id
        self.validator_id = validator_id
        self.RequestValidatorId = validator_id

    @property
    def physical_resource_id(self) -> str:
        return self.validator_id

    @classmethod
    def create(
        cls, properties: dict[str, Any], account_id: str, region_name: str, logical_id: str
    ) -> RequestValidator:
        validator = _backend(account_id, region_name).create_request_validator(
            properties["RestApiId"],
            properties.get("Name") or logical_id,
            as_bool(properties.get("ValidateRequestBody", False)),
            as_bool(properties.get("ValidateRequestParameters", False)),
        )
        return cls(properties["RestApiId"], validator.id)

    def remove(self, account_id: str, region_name: str) -> None:
        backend = _backend(account_id, region_name)
        if self.rest_api_id in backend.apis:
            backend.apis[self.rest_api_id].request_validators.pop(self.validator_id, None)


class Model(EmulatedResource, CloudFormationModel):
    CFN_TYPE = "AWS::ApiGateway::Model"

    def __init__(self, rest_api_id: str, name: str) -> None:
        self.rest_api_id = rest_api_id
        self.name = name

    @property
    def physical_resource_id(self) -> str:
        return self.name

    @classmethod
    def create(cls, properties: dict[str, Any], account_id: str, region_name: str, logical_id: str) -> Model:
        schema = properties.get("Schema", {})
        name = properties.get("Name") or logical_id
        _backend(account_id, region_name).create_model(
            properties["RestApiId"],
            name,
            properties.get("ContentType", "application/json"),
            properties.get("Description", ""),
            schema if isinstance(schema, str) else json.dumps(schema),
        )
        return cls(properties["RestApiId"], name)

    def remove(self, account_id: str, region_name: str) -> None:
        backend = _backend(account_id, region_name)
        if self.rest_api_id in backend.apis:
            backend.apis[self.rest_api_id].models.pop(self.name, None)


class GatewayResponse(EmulatedResource, CloudFormationModel):
    CFN_TYPE = "AWS::ApiGateway::GatewayResponse"

    def __init__(self, rest_api_id: str, response_type: str) -> None:
        self.rest_api_id = rest_api_id
        self.response_type = response_type

    @property
    def physical_resource_id(self) -> str:
        return f"{self.rest_api_id}-{self.response_type}"

    @classmethod
    def create(
        cls, properties: dict[str, Any], account_id: str, region_name: str, logical_id: str
    ) -> GatewayResponse:
        _backend(account_id, region_name).put_gateway_response(
            properties["RestApiId"],
            properties["ResponseType"],
            properties.get("StatusCode"),
            properties.get("ResponseParameters", {}),
            properties.get("ResponseTemplates", {}),
        )
        return cls(properties["RestApiId"], properties["ResponseType"])

    def remove(self, account_id: str, region_name: str) -> None:
        backend = _backend(account_id, region_name)
        if self.rest_api_id in backend.apis:
            backend.delete_gateway_response(self.rest_api_id, self.response_type)


def patch_method_model() -> None:
    """Accept integrations without IntegrationHttpMethod/Uri (MOCK), and keep their responses."""
    method_cls = apigw_models.Method

    def create_from_cloudformation_json(
        cls: Any,
        resource_name: str,
        cloudformation_json: Any,
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> Any:
        properties = cloudformation_json["Properties"]
        backend = _backend(account_id, region_name)
        method = backend.put_method(
            function_id=properties["RestApiId"],
            resource_id=properties["ResourceId"],
            method_type=properties["HttpMethod"],
            authorization_type=properties.get("AuthorizationType"),
            api_key_required=as_bool(properties.get("ApiKeyRequired", False)),
            request_validator_id=properties.get("RequestValidatorId"),
            request_parameters=properties.get("RequestParameters"),
            request_models=properties.get("RequestModels"),
        )
        integration = properties.get("Integration", {})
        if integration:
            backend.put_integration(
                function_id=properties["RestApiId"],
                resource_id=properties["ResourceId"],
                method_type=properties["HttpMethod"],
                integration_type=integration["Type"],
                uri=integration.get("Uri"),
                integration_method=integration.get("IntegrationHttpMethod"),
                request_templates=integration.get("RequestTemplates"),
            )
            # Kept so the stage can answer MOCK integrations (CORS preflight) as API Gateway does.
            for response in integration.get("IntegrationResponses", []):
                backend.put_integration_response(
                    function_id=properties["RestApiId"],
                    resource_id=properties["ResourceId"],
                    method_type=properties["HttpMethod"],
                    status_code=str(response["StatusCode"]),
                    selection_pattern=response.get("SelectionPattern"),
                    response_templates=response.get("ResponseTemplates", {}),
                    response_parameters=response.get("ResponseParameters", {}),
                    content_handling=response.get("ContentHandling"),
                )
        for response in properties.get("MethodResponses", []):
            method.create_response(
                str(response["StatusCode"]),
                response.get("ResponseModels", {}),
                response.get("ResponseParameters", {}),
            )
        method.cfn_physical_id = (
            f"{properties['RestApiId']}-{properties['ResourceId']}-{properties['HttpMethod']}"
        )
        method.cfn_location = (properties["RestApiId"], properties["ResourceId"], properties["HttpMethod"])
        return method

    def delete(self: Any, account_id: str, region_name: str) -> None:
        rest_api_id, resource_id, http_method = self.cfn_location
        backend = _backend(account_id, region_name)
        try:
            backend.delete_method(rest_api_id, resource_id, http_method)
        except Exception:
            return

    method_cls.create_from_cloudformation_json = classmethod(create_from_cloudformation_json)  # type: ignore[assignment]
    patch_rest_api_model()
    method_cls.physical_resource_id = property(lambda self: getattr(self, "cfn_physical_id", ""))  # type: ignore[attr-defined]
    method_cls.delete = delete  # type: ignore[attr-defined]
    apigw_models.Deployment.physical_resource_id = property(lambda self: self.id)  # type: ignore[attr-defined]

    def delete_rest_api(self: Any, account_id: str, region_name: str) -> None:
        backend = _backend(account_id, region_name)
        if self.id in backend.apis:
            backend.delete_rest_api(self.id)

    # moto cannot delete a RestApi through CloudFormation; it would outlive its stack.
    apigw_models.RestAPI.delete = delete_rest_api  # type: ignore[attr-defined]

    def delete_resource(self: Any, account_id: str, region_name: str) -> None:
        api = _backend(account_id, region_name).apis.get(self.api_id)
        if api is not None:
            api.resources.pop(self.id, None)

    def delete_deployment(self: Any, account_id: str, region_name: str) -> None:
        for api in _backend(account_id, region_name).apis.values():
            if self.id in api.deployments:
                api.delete_deployment(self.id)

    # Neither had a delete: moto skipped them and the stack still said DELETE_COMPLETE.
    apigw_models.Resource.delete = delete_resource  # type: ignore[attr-defined]
    apigw_models.Deployment.delete = delete_deployment  # type: ignore[attr-defined]


def patch_rest_api_model() -> None:
    """moto keeps EndpointConfiguration in the template's shape (so GetRestApi answers no types)
    and drops MinimumCompressionSize, BinaryMediaTypes and ApiKeySourceType."""
    rest_api_cls = apigw_models.RestAPI

    def apply(api: Any, properties: dict[str, Any], _account_id: str, _region_name: str) -> None:
        configuration = properties.get("EndpointConfiguration")
        if configuration:
            api.endpoint_configuration = {
                "types": list(configuration.get("Types", [])),
                **(
                    {"vpcEndpointIds": list(configuration["VpcEndpointIds"])}
                    if configuration.get("VpcEndpointIds")
                    else {}
                ),
            }
        if properties.get("MinimumCompressionSize") is not None:
            api.minimum_compression_size = int(properties["MinimumCompressionSize"])
        if properties.get("BinaryMediaTypes"):
            api.binaryMediaTypes = list(properties["BinaryMediaTypes"])
        if properties.get("ApiKeySourceType"):
            api.api_key_source = properties["ApiKeySourceType"]

    after_cloudformation_create(rest_api_cls, apply)


def test_invoke_answer(
    engine: Any, api_id: str, resource_id: str, http_method: str, request: dict[str, Any]
) -> dict[str, Any]:
    """TestInvokeMethod's answer: the method run through the path the smoke run's requests take
    (concert_platform.engines.api_stage.DeployedStage), its integration's function in the engine's local
    Lambda runtime. LookupError for an unknown resource or method (API Gateway's 404)."""
    import time
    import uuid

    from concert_platform.engines.api_stage import TEST_INVOKE_STAGE, DeployedStage, WiringError

    started = time.monotonic()
    runtime = engine.function_runtime()
    stage = DeployedStage(
        engine,
        api_id,
        TEST_INVOKE_STAGE,
        runtime.invoke,
        runtime.routes,
        stage_variables=request.get("stageVariables"),
    )
    headers = dict(request.get("headers") or {})
    for name, values in (request.get("multiValueHeaders") or {}).items():
        headers.setdefault(name, ",".join(values))
    request_id = str(uuid.uuid4())
    try:
        response = stage.test_invoke(
            resource_id, http_method, request.get("pathWithQueryString"), headers, request.get("body")
        )
        failure = response.error
    except WiringError as exc:
        from concert_platform.engines.api_stage import ApiResponse

        response = ApiResponse(
            500, {"content-type": "application/json"}, '{"message": "Internal server error"}'
        )
        failure = str(exc)
    latency = int((time.monotonic() - started) * 1000)
    stamp = time.strftime("%a %b %d %H:%M:%S UTC %Y", time.gmtime())
    log = [
        f"Execution log for request {request_id}",
        f"{stamp} : Starting execution for request: {request_id}",
        f"{stamp} : HTTP Method: {http_method}, Resource Path: {request.get('pathWithQueryString') or ''}",
    ]
    if response.function:
        log.append(f"{stamp} : Endpoint request URI: lambda function {response.function}")
    if failure:
        log.append(f"{stamp} : {failure}")
    log.append(f"{stamp} : Method completed with status: {response.status}")
    return {
        "status": response.status,
        "body": response.body,
        "headers": dict(response.headers),
        "multiValueHeaders": {name: [value] for name, value in response.headers.items()},
        "log": "\n".join(log) + "\n",
        "latency": latency,
    }


def patch_test_invoke() -> None:
    """TestInvokeMethod (moto has no handler for it: HTTP 500) answers as API Gateway does, for
    the engine bound to run functions (moto_ext.lambda_runtime); unbound, it stays unsupported."""
    from moto.apigateway.exceptions import NotFoundException
    from moto.apigateway.responses import APIGatewayResponse

    from concert_platform.engines.moto_ext.lambda_runtime import bound_engine

    def test_invoke_method(self: Any) -> Any:
        parts = self.path.split("/")
        api_id, resource_id, http_method = parts[2], parts[4], parts[6]
        engine = bound_engine()
        if engine is None:
            return 501, {}, json.dumps({"message": "TestInvokeMethod needs a bound engine to run functions"})
        _backend(self.current_account, self.region).get_rest_api(api_id)  # NotFoundException if none
        try:
            answer = test_invoke_answer(
                engine, api_id, resource_id, http_method, json.loads(self.body or "{}")
            )
        except LookupError as exc:
            raise NotFoundException(str(exc)) from None
        return 200, {"content-type": "application/json"}, json.dumps(answer)

    APIGatewayResponse.test_invoke_method = test_invoke_method  # type: ignore[attr-defined]
