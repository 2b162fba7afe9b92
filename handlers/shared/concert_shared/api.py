"""The API handlers' shared edge: routing with CORS, input validation, JSON errors that say what
was wrong, a correlation id in every log line, one latency line per request."""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Callable
from typing import Any, TypeVar

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, CORSConfig, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.metrics import MetricUnit
from pydantic import BaseModel, ValidationError

from concert_shared.errors import PlatformError

MAX_BODY_BYTES = 16 * 1024
# No request model nests deeper than 2; docs/api.md documents this bound. Checked before parsing,
# so a body of brackets is a 400, not a RecursionError and a 500 that pages someone.
MAX_JSON_DEPTH = 32
ALLOWED_HEADERS = ["Content-Type", "X-Api-Key", "X-Correlation-Id"]
CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Headers": ",".join(ALLOWED_HEADERS),
}
# A caller-supplied correlation id is echoed into logs: keep it short and printable.
_CORRELATION_ID = re.compile(r"^[A-Za-z0-9._:/+=@-]{1,128}$")
Model = TypeVar("Model", bound=BaseModel)

logger = Logger()
tracer = Tracer()
metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or "ConcertPlatform")


class ApiError(Exception):
    """A client fault found at the edge (body too large, not JSON, ...)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def error_body(code: str, message: str) -> str:
    return json.dumps(
        {"error": {"code": code, "message": message, "correlation_id": logger.get_correlation_id()}}
    )


def error_response(status: int, code: str, message: str) -> Response:
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=error_body(code, message),
        headers=dict(CORS_HEADERS),
    )


def _describe(error: ValidationError) -> str:
    parts = []
    for item in error.errors(include_url=False, include_input=False):
        where = ".".join(str(p) for p in item.get("loc", ())) or "body"
        parts.append(f"{where}: {item.get('msg')}")
    return "; ".join(parts) + "; see docs/api.md for the fields this route accepts"


def json_depth(text: str) -> int:
    """The deepest nesting of arrays and objects in `text` (brackets inside strings ignored)."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def make_app(routes: dict[str, set[str]]) -> APIGatewayRestResolver:
    """A resolver with CORS and JSON errors; `routes` (path -> methods) tells 404 from 405."""
    app = APIGatewayRestResolver(cors=CORSConfig(allow_origin="*", allow_headers=ALLOWED_HEADERS))

    @app.exception_handler(ApiError)
    def _api_error(error: ApiError) -> Response:
        return error_response(error.status, error.code, error.message)

    @app.exception_handler(PlatformError)
    def _platform_error(error: PlatformError) -> Response:
        if error.status >= 500:
            logger.error(
                "dependency failure",
                extra={"error_code": error.code, "reason": error.message, "detail": error.detail[:500]},
            )
        return error_response(error.status, error.code, error.message)

    @app.exception_handler(ValidationError)
    def _validation(error: ValidationError) -> Response:
        return error_response(400, "invalid_request", _describe(error))

    @app.not_found
    def _not_found(_error: NotFoundError) -> Response:
        path, method = app.current_event.path, app.current_event.http_method
        allowed = routes.get(path.rstrip("/") or "/")
        if allowed:
            return error_response(
                405,
                "method_not_allowed",
                f"{method} is not allowed on {path}; use {', '.join(sorted(allowed))}",
            )
        known = ", ".join(f"{m} {p}" for p, ms in sorted(routes.items()) for m in sorted(ms))
        return error_response(404, "not_found", f"no route {method} {path}; this function serves {known}")

    return app


def json_body(app: APIGatewayRestResolver, model: type[Model]) -> Model:
    """The request body validated against `model`; every client fault is an ApiError/ValidationError."""
    event = app.current_event
    raw = event.body or ""
    if event.is_base64_encoded:
        raise ApiError(
            415, "unsupported_body", "send the body as plain JSON text (Content-Type: application/json)"
        )
    size = len(raw.encode("utf-8", errors="surrogatepass"))
    if size > MAX_BODY_BYTES:
        raise ApiError(413, "body_too_large", f"the body is {size} bytes; the limit is {MAX_BODY_BYTES}")
    if not raw.strip():
        raise ApiError(400, "missing_body", 'send a JSON object body, e.g. {"message": "..."}')
    depth = json_depth(raw)
    if depth > MAX_JSON_DEPTH:
        raise ApiError(
            400,
            "invalid_request",
            f"the body nests {depth} levels deep; the limit is {MAX_JSON_DEPTH} (see docs/api.md)",
        )
    try:
        data = json.loads(raw)
    except ValueError as exc:
        where = f" ({exc.msg} at position {exc.pos})" if isinstance(exc, json.JSONDecodeError) else ""
        raise ApiError(
            400, "malformed_json", f"the body is not valid JSON{where}; send a JSON object"
        ) from None
    if not isinstance(data, dict):
        raise ApiError(400, "invalid_request", f"the body must be a JSON object, not {type(data).__name__}")
    return model.model_validate(data)


def query_params(app: APIGatewayRestResolver, model: type[Model]) -> Model:
    """The query string validated against `model` (a repeated parameter is a client fault)."""
    multi = app.current_event.multi_value_query_string_parameters or {}
    repeated = sorted(name for name, values in multi.items() if values and len(values) > 1)
    if repeated:
        raise ApiError(
            400, "invalid_request", f"give each query parameter once; repeated: {', '.join(repeated)}"
        )
    return model.model_validate(dict(app.current_event.query_string_parameters or {}))


def _with_cors(response: dict[str, Any]) -> dict[str, Any]:
    headers = dict(response.get("headers") or {})
    for name, value in CORS_HEADERS.items():
        headers.setdefault(name, value)
    headers.setdefault("X-Correlation-Id", logger.get_correlation_id() or "")
    response["headers"] = headers
    if response.get("multiValueHeaders") is not None:
        for name, value in CORS_HEADERS.items():
            response["multiValueHeaders"].setdefault(name, [value])
    return response


def correlation_id(event: Any, context: Any) -> str:
    """X-Correlation-Id when the caller sent a usable one, else the API Gateway request id."""
    headers = event.get("headers") if isinstance(event, dict) else None
    given = (
        next((str(v) for k, v in (headers or {}).items() if str(k).lower() == "x-correlation-id"), "")
        if isinstance(headers, dict)
        else ""
    )
    if _CORRELATION_ID.match(given):
        return given
    context_block = event.get("requestContext") if isinstance(event, dict) else None
    request_id = context_block.get("requestId") if isinstance(context_block, dict) else None
    return str(request_id or getattr(context, "aws_request_id", "") or "unknown")


def lambda_handler(app: APIGatewayRestResolver) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    """The Lambda entry point: correlation id, tracing, metrics, latency log, no unhandled errors."""

    @metrics.log_metrics(raise_on_empty_metrics=False)
    @tracer.capture_lambda_handler(capture_response=False)
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        started = time.perf_counter()
        logger.set_correlation_id(correlation_id(event, context))
        try:
            response = app.resolve(event, context)
        except Exception:  # a real server fault: logged with the correlation id, answered with 500
            logger.exception("unhandled error")
            response = {
                "statusCode": 500,
                "headers": {"Content-Type": "application/json"},
                "body": error_body(
                    "internal_error",
                    "the server failed; retry later and report the correlation id if it persists",
                ),
                "isBase64Encoded": False,
            }
        latency_ms = round((time.perf_counter() - started) * 1000, 2)
        status = int(response.get("statusCode", 0))
        log = logger.error if status >= 500 else logger.info
        path = event.get("path") if isinstance(event, dict) else None
        log("request complete", extra={"latency_ms": latency_ms, "status_code": status, "path": path})
        metrics.add_metric(name="ApiLatency", unit=MetricUnit.Milliseconds, value=latency_ms)
        metrics.add_metric(
            name="ApiServerErrors" if status >= 500 else "ApiRequests", unit=MetricUnit.Count, value=1
        )
        return _with_cors(response)

    return handler
