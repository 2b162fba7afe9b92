"""The API handlers' shared edge: routing with CORS, input validation, JSON errors that say what
was wrong, a correlation id in every log line, one latency line per request."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any, TypeVar

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, CORSConfig, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from pydantic import BaseModel, ValidationError

MAX_BODY_BYTES = 16 * 1024
CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Headers": "Content-Type,X-Api-Key,X-Correlation-Id",
}
Model = TypeVar("Model", bound=BaseModel)

logger = Logger()
tracer = Tracer()
metrics = Metrics()


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def error_response(status: int, code: str, message: str) -> Response:
    body = {"error": {"code": code, "message": message, "correlation_id": logger.get_correlation_id()}}
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=json.dumps(body), headers=dict(CORS_HEADERS))


def _describe(error: ValidationError) -> str:
    parts = []
    for item in error.errors():
        where = ".".join(str(p) for p in item.get("loc", ())) or "body"
        parts.append(f"{where}: {item.get('msg')}")
    return "; ".join(parts)


def make_app(routes: dict[str, set[str]]) -> APIGatewayRestResolver:
    """A resolver with CORS and JSON errors; `routes` (path -> methods) tells 404 from 405."""
    app = APIGatewayRestResolver(cors=CORSConfig(allow_origin="*", allow_headers=["Content-Type", "X-Api-Key", "X-Correlation-Id"]))

    @app.exception_handler(ApiError)
    def _api_error(error: ApiError) -> Response:
        return error_response(error.status, error.code, error.message)

    @app.exception_handler(ValidationError)
    def _validation(error: ValidationError) -> Response:
        return error_response(400, "invalid_request", _describe(error))

    @app.not_found
    def _not_found(_error: NotFoundError) -> Response:
        path, method = app.current_event.path, app.current_event.http_method
        allowed = routes.get(path.rstrip("/") or "/")
        if allowed:
            return error_response(405, "method_not_allowed", f"{method} is not allowed on {path}; use {', '.join(sorted(allowed))}")
        known = ", ".join(f"{m} {p}" for p, ms in sorted(routes.items()) for m in sorted(ms))
        return error_response(404, "not_found", f"no route {method} {path}; this API serves {known}")

    return app


def json_body(app: APIGatewayRestResolver, model: type[Model]) -> Model:
    raw = app.current_event.body or ""
    if app.current_event.is_base64_encoded:
        raise ApiError(415, "unsupported_body", "send the body as plain JSON text (Content-Type: application/json)")
    if len(raw.encode()) > MAX_BODY_BYTES:
        raise ApiError(413, "body_too_large", f"the body is {len(raw.encode())} bytes; the limit is {MAX_BODY_BYTES}")
    if not raw.strip():
        raise ApiError(400, "missing_body", "send a JSON object body")
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise ApiError(400, "malformed_json", f"the body is not valid JSON ({exc.msg} at position {exc.pos})") from None
    if not isinstance(data, dict):
        raise ApiError(400, "invalid_request", "the body must be a JSON object")
    return model.model_validate(data)


def query_params(app: APIGatewayRestResolver, model: type[Model]) -> Model:
    return model.model_validate(dict(app.current_event.query_string_parameters or {}))


def _with_cors(response: dict[str, Any]) -> dict[str, Any]:
    headers = dict(response.get("headers") or {})
    for name, value in CORS_HEADERS.items():
        headers.setdefault(name, value)
    response["headers"] = headers
    if response.get("multiValueHeaders") is not None:
        for name, value in CORS_HEADERS.items():
            response["multiValueHeaders"].setdefault(name, [value])
    return response


def lambda_handler(app: APIGatewayRestResolver) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    """The Lambda entry point: correlation id, tracing, metrics, latency log, no unhandled errors."""

    @metrics.log_metrics(raise_on_empty_metrics=False)
    @tracer.capture_lambda_handler(capture_response=False)
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        started = time.perf_counter()
        headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()} if isinstance(event, dict) else {}
        request_id = ((event.get("requestContext") or {}).get("requestId") if isinstance(event, dict) else None) or getattr(context, "aws_request_id", "")
        logger.set_correlation_id(headers.get("x-correlation-id") or request_id)
        try:
            response = app.resolve(event, context)
        except Exception:  # a real server fault: logged with the correlation id, answered with 500
            logger.exception("unhandled error")
            response = {
                "statusCode": 500,
                "headers": {"Content-Type": "application/json"},
                "body": json.dumps({"error": {"code": "internal_error", "message": "the server failed; report the correlation id", "correlation_id": logger.get_correlation_id()}}),
                "isBase64Encoded": False,
            }
        latency_ms = round((time.perf_counter() - started) * 1000, 2)
        status = int(response.get("statusCode", 0))
        log = logger.error if status >= 500 else logger.info
        log("request complete", extra={"latency_ms": latency_ms, "status_code": status, "path": event.get("path") if isinstance(event, dict) else None})
        return _with_cors(response)

    return handler
