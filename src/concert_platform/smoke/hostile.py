"""Smoke flows that attack every API route with hostile input (issue 21, item 4).

Routes are read from the deployed REST API (every method integrated with a function), their
body fields from the API's request models, their query fields from docs/api.md's routes table
(which tests/unit/test_api_contract.py holds against the handlers' request models). Each query
parameter, body field and path part gets quotes and SQL metacharacters, unicode, a very long
value, an empty value and a wrong type. Every answer must be a documented 4xx in the documented
error shape, or a 200 that answers what was asked: never a 5xx, and never rows that do not match
a filter the request named (a quote in `city` must not widen the venues answered).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from botocore.exceptions import ClientError

from concert_platform import sample_data
from concert_platform.smoke.platform import FlowResult, HttpResponse, Platform

API_DOC = Path("docs") / "api.md"

#: values that end a quoted SQL string and widen its condition, in the shapes a careless
#: f-string could be completed by (plain, inside a parenthesis, with a comment, double quotes)
SQL_QUOTES = ("x' OR '1'='1", "x') OR ('1'='1", "x' OR 1=1 --", 'x" OR ""="')
HOSTILE_TEXT: dict[str, str] = {
    **{f"sql quote {i + 1}": value for i, value in enumerate(SQL_QUOTES)},
    "statement injection": "x%'; DROP TABLE venues; --",
    "unicode and a nul byte": "Zürich 東京 🎵 \u202eevil\u0000",
    "very long": "A" * 5000,
    "empty": "",
}
#: for a field whose deployed model pins it to a pattern or a type (the gateway refuses what does
#: not match), one value of each kind is enough
HOSTILE_SAMPLE = ("sql quote 2", "unicode and a nul byte", "very long", "empty")
#: a body field given a value of the wrong JSON type
WRONG_TYPES: dict[str, Any] = {"number": 12345, "list": ["x"], "null": None}
#: a query parameter that should be a number given text that is not one, or out of any range
WRONG_NUMBERS: dict[str, str] = {"not a number": "abc", "negative": "-1", "huge": "9" * 40}


@dataclass(frozen=True)
class ApiRoute:
    method: str
    path: str
    function: str  # the function the method integrates with (name)
    query: tuple[str, ...] = ()
    body: tuple[str, ...] = ()
    #: body field -> its JSON schema in the deployed request model
    body_types: dict[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"


@dataclass(frozen=True)
class ApiDoc:
    """What docs/api.md documents: each route's query and body fields, and the error table."""

    fields: dict[tuple[str, str], dict[str, tuple[str, ...]]]
    errors: frozenset[tuple[int, str]]


def read_api_doc(root: Path) -> ApiDoc:
    path = root / API_DOC
    if not path.is_file():
        raise LookupError(
            f"{path} not found: the hostile and failure flows read the documented fields and errors from it"
        )
    text = path.read_text()
    block = re.search(r"<!-- routes:begin -->\n(.*?)<!-- routes:end -->", text, re.S)
    if block is None:
        raise LookupError(f"{path} has no <!-- routes:begin --> table")
    fields: dict[tuple[str, str], dict[str, tuple[str, ...]]] = {}
    for line in block.group(1).splitlines()[2:]:
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 5:
            continue
        method, route, request = cells[0], cells[1], cells[4]
        parts: dict[str, tuple[str, ...]] = {"query": (), "body": ()}
        for kind, names in re.findall(r"(query|body):\s*([\w, ]+)", request):
            parts[kind] = tuple(n.strip() for n in names.split(",") if n.strip())
        fields[(method, route)] = parts
    errors_section = text.split("## Errors", 1)[-1]
    errors: set[tuple[int, str]] = set()
    for status, codes in re.findall(r"^\|\s*(\d{3})\s*\|([^|]*)\|", errors_section, re.M):
        errors.update((int(status), code) for code in re.findall(r"`([a-z_]+)`", codes))
    if not errors:
        raise LookupError(f"{path} documents no error codes under '## Errors'")
    return ApiDoc(fields, frozenset(errors))


def deployed_routes(platform: Platform, doc: ApiDoc) -> list[ApiRoute]:
    """Every method of the deployed API that integrates with a function (OPTIONS mocks aside)."""
    client = platform.engine.client("apigateway")
    api_id = platform.out("compute", "ApiId")
    resources: list[dict[str, Any]] = []
    position = None
    while True:
        page = client.get_resources(
            restApiId=api_id, limit=500, **({"position": position} if position else {})
        )
        resources += page.get("items", [])
        position = page.get("position")
        if not position:
            break
    routes = []
    for resource in sorted(resources, key=lambda r: r["path"]):
        for method in sorted(resource.get("resourceMethods") or {}):
            settings = client.get_method(restApiId=api_id, resourceId=resource["id"], httpMethod=method)
            uri = (settings.get("methodIntegration") or {}).get("uri") or ""
            function = re.search(r":function:([^/:]+)", uri)
            if function is None:
                continue
            documented = doc.fields.get((method, resource["path"]), {})
            body_types: dict[str, Any] = {}
            for model in (settings.get("requestModels") or {}).values():
                if model and model != "Empty":
                    schema = json.loads(client.get_model(restApiId=api_id, modelName=model)["schema"])
                    body_types.update(schema.get("properties", {}))
            body = tuple(dict.fromkeys([*documented.get("body", ()), *body_types]))
            routes.append(
                ApiRoute(
                    method, resource["path"], function.group(1), documented.get("query", ()), body, body_types
                )
            )
    return routes


def sample_requests() -> dict[tuple[str, str], dict[str, Any]]:
    """One request per route that the sample data answers with 200: the base each hostile value
    is put into (a route the API gains needs one here; the flow fails naming it until then)."""
    return {
        ("GET", "/health"): {},
        ("POST", "/chat"): {"body": {"message": "Which venues are the most popular?"}},
        ("GET", "/venues/popularity"): {"query": {"limit": "5"}},
        ("POST", "/predictions/tickets"): {"body": {"concert_id": sample_data.upcoming_concert_id()}},
        ("GET", "/recommendations"): {"query": {"user_id": sample_data.sample_user_id(), "limit": "3"}},
    }


def call(
    platform: Platform, route: ApiRoute, request: dict[str, Any], path: str | None = None
) -> HttpResponse:
    return platform.call_api(
        route.method,
        path or route.path,
        body=request.get("body"),
        query=request.get("query"),
    )


def error_problem(response: HttpResponse, doc: ApiDoc) -> str | None:
    """What is wrong with an error answer: its status and code must be documented, in the
    documented shape (code, message, correlation id) with CORS headers."""
    body = response.body
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return f"HTTP {response.status} without the documented error shape: {str(body)[:200]}"
    code = error.get("code")
    if (response.status, code) not in doc.errors:
        return f"HTTP {response.status} {code!r} is not a documented error (docs/api.md, Errors)"
    if not error.get("message") or not error.get("correlation_id"):
        return f"HTTP {response.status} {code}: the error has no message or correlation id"
    if not response.headers.get("access-control-allow-origin"):
        return f"HTTP {response.status} {code}: no CORS header"
    return None


def _rows(body: Any) -> list[dict[str, Any]]:
    """The answer's records (lists of objects at any depth)."""
    rows: list[dict[str, Any]] = []
    if isinstance(body, dict):
        for value in body.values():
            rows += _rows(value)
    elif isinstance(body, list):
        for item in body:
            if isinstance(item, dict):
                rows.append(item)
                rows += _rows(item)
    return rows


def widened(response: HttpResponse, sent: dict[str, Any]) -> str | None:
    """A 200 that answers more than was asked: a record (or the answer) whose field named like a
    sent filter holds another value, or more records than a sent `limit`."""
    body = response.body
    if not isinstance(body, dict):
        return f"HTTP 200 with a body that is not a JSON object: {str(body)[:200]}"
    for name, value in sent.items():
        if not isinstance(value, str) or name in ("message", "limit"):
            continue
        wanted = value.lower()
        if name in body and isinstance(body[name], str) and body[name].lower() != wanted:
            return f"answered {name} {body[name]!r} for {name} {value[:60]!r}"
        others = sorted({str(r[name]) for r in _rows(body) if name in r and str(r[name]).lower() != wanted})
        if others:
            return f"{name} {value[:60]!r} answered records of {name} {', '.join(others[:5])}: the filter was widened"
    limit = sent.get("limit")
    if isinstance(limit, str) and limit.isdigit():
        for key, items in body.items():
            if isinstance(items, list) and len(items) > int(limit):
                return f"limit {limit} answered {len(items)} {key}"
    return None


@dataclass
class Attack:
    where: str  # "query city", "body message", "path"
    what: str  # the kind of hostile value
    request: dict[str, Any]
    path: str | None = None


def attacks(route: ApiRoute, base: dict[str, Any]) -> list[Attack]:
    """Each hostile value in each query parameter, body field and path part of one route."""
    found: list[Attack] = []
    query = dict(base.get("query") or {})
    body = dict(base.get("body") or {}) if route.body else None
    sample = {what: HOSTILE_TEXT[what] for what in HOSTILE_SAMPLE}
    for name in route.query:  # no query parameter is validated by the gateway: all reach the function
        numeric = query.get(name, "x").isdigit()
        values = {**sample, **WRONG_NUMBERS} if numeric else dict(HOSTILE_TEXT)
        for what, value in values.items():
            found.append(Attack(f"query {name}", what, {**base, "query": {**query, name: value}}))
    for name in route.body:
        declared = route.body_types.get(name)
        free_text = declared is None or (isinstance(declared, dict) and "pattern" not in declared)
        # free text in a body (a chat message) is not a filter: two quote shapes besides the sample
        values = {**sample, "sql quote 1": HOSTILE_TEXT["sql quote 1"]} if free_text else sample
        for what, value in {**values, **WRONG_TYPES}.items():
            found.append(Attack(f"body {name}", what, {**base, "body": {**(body or {}), name: value}}))
    hostile = quote(HOSTILE_TEXT["sql quote 2"], safe="")
    found.append(Attack("path", "sql quote 2", base, path=f"{route.path}/{hostile}"))
    return found


def _judge(response: HttpResponse, attack: Attack, doc: ApiDoc) -> str | None:
    if response.status >= 500:
        return f"HTTP {response.status}: {response.error or str(response.body)[:200]}"
    if attack.path is not None:  # a path no route has: API Gateway's 403/404, the platform's 404
        return None if response.status in (403, 404) else f"HTTP {response.status} for an unknown path"
    if response.status == 200:
        sent = {**(attack.request.get("query") or {}), **(attack.request.get("body") or {})}
        return widened(response, sent)
    if 400 <= response.status < 500:
        if response.status == 400 and response.body == {"message": "Invalid request body"}:
            return "the request validator's 400 lacks the documented error shape"
        return error_problem(response, doc)
    return f"HTTP {response.status}"


def route_check(platform: Platform, route: ApiRoute, base: dict[str, Any], doc: ApiDoc) -> FlowResult:
    name = f"hostile input {route.label}"
    problems: list[str] = []
    statuses: dict[int, int] = {}
    planned = attacks(route, base)
    started = time.monotonic()
    for attack in planned:
        response = call(platform, route, attack.request, attack.path)
        statuses[response.status] = statuses.get(response.status, 0) + 1
        problem = _judge(response, attack, doc)
        if problem:
            problems.append(f"{attack.where} ({attack.what}): {problem}")
    if problems:
        return FlowResult(
            name,
            False,
            "; ".join(problems[:6]) + (f" (+{len(problems) - 6} more)" if len(problems) > 6 else ""),
        )
    answered = ", ".join(f"{count}x {status}" for status, count in sorted(statuses.items()))
    fields = ", ".join([*(f"query {q}" for q in route.query), *(f"body {b}" for b in route.body), "path"])
    return FlowResult(
        name,
        True,
        f"{len(planned)} hostile requests ({fields}) answered {answered} in {time.monotonic() - started:.1f}s",
    )


def hostile_checks(platform: Platform) -> list[FlowResult]:
    """One check per deployed route."""
    try:
        doc = read_api_doc(platform.manifest.root)
        routes = deployed_routes(platform, doc)
    except (LookupError, ClientError, ValueError) as exc:
        return [FlowResult("hostile input: the deployed routes", False, str(exc))]
    if not routes:
        return [
            FlowResult(
                "hostile input: the deployed routes", False, "the deployed API has no function methods"
            )
        ]
    samples = sample_requests()

    def one(route: ApiRoute) -> FlowResult:
        base = samples.get((route.method, route.path))
        if base is None:
            return FlowResult(
                f"hostile input {route.label}",
                False,
                f"no sample request for {route.label} in concert_platform.smoke.hostile.sample_requests(): add one",
            )
        return _guarded(f"hostile input {route.label}", lambda: route_check(platform, route, base, doc))

    # routes are independent: attacked side by side, reported in route order. Measured on one
    # machine the same morning: embedded engine 3.4 s -> 1.7 s; LocalStack 24.1 s one at a time, 8.7 s
    # side by side (the e2e on LocalStack: --e2e-only, two runs)
    with ThreadPoolExecutor(max_workers=len(routes)) as pool:
        return list(pool.map(one, routes))


def _guarded(name: str, run: Callable[[], FlowResult]) -> FlowResult:
    try:
        return run()
    except (LookupError, RuntimeError, KeyError, TypeError, ValueError, ClientError) as exc:
        return FlowResult(name, False, str(exc) or type(exc).__name__)
