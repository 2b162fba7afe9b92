"""Gateway responses as API Gateway answers them: LocalStack 4.13.1 ignores their settings.

LocalStack's REST API gateway (`next_gen.execute_api.handlers.gateway_exception`) picks the
gateway response for an error (`BAD_REQUEST_BODY`, ...) and uses only its status code: its own
TODOs say the `responseParameters` (headers) and `responseTemplates` (body) are not applied. Our
compute stack's `BadRequestBodyResponse` sets CORS headers and the platform's error shape there,
so on LocalStack a refused body came back without CORS and as `{"message": "Invalid request body"}`.

This `on_infra_start` hook wraps `GatewayExceptionHandler.create_exception_response`: after
LocalStack builds its response, the gateway response's static header values (`'...'`, the form the
templates use) are set, and its `application/json` template is rendered with LocalStack's own VTL
renderer and `$context` (so `$context.requestId` and `$context.error.messageString` work). Header
values mapped from the request (`method.request.header.X`) are not applied (none used here).

A Lambda proxy integration whose function fails answers `502 {"message": "Internal server
error"}`, as on AWS, where the function and its error are in API Gateway's execution log.
LocalStack keeps no such log: `patch_proxy_integration_failures` keeps the function's error
payload (Lambda's `errorType` and `errorMessage`) with the 502 and this module sets it, with the
function's name, as the response header `x-concert-integration-error` (one line, at most 500
characters): `concert-api-chatbot-dev failed with Runtime.ImportModuleError: Unable to import ...`,
the embedded engine's wording. The body stays AWS's.

A proxy answer with both `headers` and `multiValueHeaders` is merged as AWS documents it ("if the
same key-value pair is specified in both, only the values from multiValueHeaders will appear"):
LocalStack appended the single value anyway, so our handlers' CORS header, set in both, came
back as `Access-Control-Allow-Origin: *,*` (`merge_lambda_response_headers`).
"""

from __future__ import annotations

import json
import logging
from typing import Any

from localstack.runtime import hooks

LOG = logging.getLogger(__name__)
_HEADER = "gatewayresponse.header."
#: the response header naming the failed function and its Lambda error (read by the smoke run)
INTEGRATION_ERROR_HEADER = "x-concert-integration-error"
_FAILURE = "concert_integration_error"


def describe_function_failure(function_arn: str, payload: bytes) -> str | None:
    """`NAME failed with TYPE: MESSAGE` from a Lambda error payload, or None when it is not one."""
    try:
        error = json.loads(payload)
    except (ValueError, TypeError):
        return None
    if not isinstance(error, dict) or "errorMessage" not in error:
        return None
    name = function_arn.split(":")[6] if function_arn.count(":") >= 6 else function_arn
    kind = error.get("errorType") or "Unhandled"
    text = f"{name} failed with {kind}: {error.get('errorMessage')}"
    return " ".join(text.split())[:500].encode("latin-1", "replace").decode("latin-1")


def static_headers(parameters: dict[str, str] | None) -> dict[str, str]:
    """The headers a gateway response sets to static values ('...')."""
    headers = {}
    for name, value in (parameters or {}).items():
        if name.startswith(_HEADER) and len(value) >= 2 and value[0] == value[-1] == "'":
            headers[name[len(_HEADER) :]] = value[1:-1]
    return headers


def patch_gateway_exception_handler() -> bool:
    from localstack.services.apigateway.next_gen.execute_api.handlers import gateway_exception
    from localstack.services.apigateway.next_gen.execute_api.template_mapping import (
        ApiGatewayVtlTemplate,
        MappingTemplateInput,
        MappingTemplateParams,
        MappingTemplateVariables,
    )

    cls = gateway_exception.GatewayExceptionHandler
    original = cls.create_exception_response
    if getattr(original, "_concert", False):
        return False

    def create_exception_response(self: Any, exception: Any, context: Any) -> Any:
        response = original(self, exception, context)
        try:
            gateway_response = gateway_exception.get_gateway_response_or_default(
                exception.type, context.deployment.rest_api.gateway_responses
            )
            for name, value in static_headers(gateway_response.get("responseParameters")).items():
                response.headers[name] = value
            template = (gateway_response.get("responseTemplates") or {}).get("application/json")
            if template:
                body, _ = ApiGatewayVtlTemplate().render_response(
                    template=template,
                    variables=MappingTemplateVariables(
                        context=context.context_variables,
                        stageVariables=context.stage_variables or {},
                        input=MappingTemplateInput(
                            body="", params=MappingTemplateParams(path={}, querystring={}, header={})
                        ),
                    ),
                    context_overrides=context.context_variable_overrides,
                )
                response.set_data(body)
            if failure := getattr(exception, _FAILURE, None):
                response.headers[INTEGRATION_ERROR_HEADER] = failure
        except Exception:
            LOG.exception("concert: could not apply the gateway response for %s", exception.type)
        return response

    create_exception_response._concert = True  # type: ignore[attr-defined]
    cls.create_exception_response = create_exception_response
    return True


def merge_lambda_response_headers(lambda_response: dict[str, Any]) -> dict[str, Any]:
    """`headers` and `multiValueHeaders` of a proxy answer as API Gateway merges them: the
    multi-value list first (its casing wins), a single value only when it is not already in it."""
    headers = dict(lambda_response.get("headers") or {})
    multi_value = lambda_response.get("multiValueHeaders") or {}
    single = {name.lower(): name for name in headers}
    for name, values in multi_value.items():
        merged = list(values)
        if (original := single.get(name.lower())) is not None:
            value = headers.pop(original)
            if value not in merged:
                merged.append(value)
        headers[name] = merged
    return headers


def patch_proxy_integration_failures() -> bool:
    from localstack.services.apigateway.next_gen.execute_api.integrations import aws

    cls = aws.RestApiAwsProxyIntegration
    if getattr(cls.invoke, "_concert", False):
        return False
    original_invoke, original_parse = cls.invoke, cls.parse_lambda_response

    def parse_lambda_response(self: Any, payload: bytes) -> Any:
        try:
            return original_parse(self, payload)
        except Exception as exc:
            exc.concert_payload = payload  # type: ignore[attr-defined]
            raise

    def invoke(self: Any, context: Any) -> Any:
        try:
            return original_invoke(self, context)
        except Exception as exc:
            payload = getattr(exc, "concert_payload", None)
            if payload is not None:
                with_failure = None
                try:
                    arn = aws.get_lambda_function_arn_from_invocation_uri(context.integration_request["uri"])
                    with_failure = describe_function_failure(arn, payload)
                except Exception:
                    LOG.exception("concert: could not describe the integration's failure")
                if with_failure:
                    setattr(exc, _FAILURE, with_failure)
            raise

    invoke._concert = True  # type: ignore[attr-defined]
    cls.invoke = invoke
    cls._merge_lambda_response_headers = staticmethod(merge_lambda_response_headers)
    cls.parse_lambda_response = parse_lambda_response
    return True


@hooks.on_infra_start()
def concert_gateway_responses() -> None:
    patch_gateway_exception_handler()
    try:
        patch_proxy_integration_failures()
    except Exception:  # the 502 then carries AWS's body only, as without the extension
        LOG.exception("concert: could not patch the Lambda proxy integration's failures")
