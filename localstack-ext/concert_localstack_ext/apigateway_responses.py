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
"""

from __future__ import annotations

import logging
from typing import Any

from localstack.runtime import hooks

LOG = logging.getLogger(__name__)
_HEADER = "gatewayresponse.header."


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
        except Exception:
            LOG.exception("concert: could not apply the gateway response for %s", exception.type)
        return response

    create_exception_response._concert = True  # type: ignore[attr-defined]
    cls.create_exception_response = create_exception_response
    return True


@hooks.on_infra_start()
def concert_gateway_responses() -> None:
    patch_gateway_exception_handler()
