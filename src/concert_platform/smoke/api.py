"""The API flow: every route answers as docs/api.md documents, bad input gets a 4xx with CORS
headers, a request without the API key is refused, the CORS preflight answers; where the engine
serves the API in-process, every method reaches a function that serves its route."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from concert_platform import sample_data
from concert_platform.smoke.platform import FlowResult, HttpResponse, Platform
from concert_platform.smoke.warehouse import last_failed_statement


def expect_ok(response: HttpResponse, what: str) -> dict[str, Any]:
    assert response.status == 200, (
        f"{what}: HTTP {response.status}: {response.error or str(response.body)[:300]}"
    )
    assert response.headers.get("access-control-allow-origin"), f"{what}: no CORS header"
    assert isinstance(response.body, dict), f"{what}: body is not a JSON object"
    return response.body


def expect_warehouse(platform: Platform, body: dict[str, Any], what: str) -> None:
    if not platform.engine.capabilities.has_warehouse:
        return
    source = str(body.get("source"))
    assert "redshift" in source, (
        f"{what} answered from {source}, not the warehouse; fallback reason: "
        f"{body.get('fallback_reason')}{last_failed_statement(platform)}"
    )


def health(platform: Platform) -> str:
    body = expect_ok(platform.call_api("GET", "/health"), "GET /health")
    dependencies = body.get("dependencies") or body.get("checks") or {}
    assert dependencies, "GET /health lists no dependencies"
    return f"status {body.get('status')}, {len(dependencies)} dependencies reported"


def chat(platform: Platform) -> str:
    first = expect_ok(
        platform.call_api("POST", "/chat", {"message": "Which venues are the most popular?"}),
        "POST /chat",
    )
    session = first.get("session_id")
    assert session and first.get("answer"), f"POST /chat answered without session_id or answer: {first}"
    second = expect_ok(
        platform.call_api("POST", "/chat", {"session_id": session, "message": "Recommend concerts for me"}),
        "POST /chat (2nd turn)",
    )
    assert second.get("session_id") == session, "the second turn changed the session id"
    table = platform.out("compute", "ConversationHistoryTableName")
    items = platform.engine.client("dynamodb").query(
        TableName=table,
        KeyConditionExpression="session_id = :s",
        ExpressionAttributeValues={":s": {"S": session}},
    )["Items"]
    assert len(items) >= 4, f"expected 4 turns in {table} for session {session}, found {len(items)}"
    return f"2 exchanges stored as {len(items)} turns in {table}; source {first.get('source')}"


def venues(platform: Platform) -> str:
    body = expect_ok(
        platform.call_api("GET", "/venues/popularity", query={"limit": "5"}), "GET /venues/popularity"
    )
    venues_list = body.get("venues") or body.get("items") or []
    assert venues_list, f"no venues returned: {body}"
    assert body.get("source"), "the response does not say which source answered"
    expect_warehouse(platform, body, "GET /venues/popularity")
    return f"{len(venues_list)} venues from {body.get('source')}"


def prediction(platform: Platform) -> str:
    concert = sample_data.upcoming_concert_id()
    body = expect_ok(
        platform.call_api("POST", "/predictions/tickets", {"concert_id": concert}),
        "POST /predictions/tickets",
    )
    assert body.get("source"), "the response does not say which source answered"
    expect_warehouse(platform, body, "POST /predictions/tickets")
    return f"prediction for {concert} from {body.get('source')}"


def recommendations(platform: Platform) -> str:
    user = sample_data.sample_user_id()
    body = expect_ok(
        platform.call_api("GET", "/recommendations", query={"user_id": user, "limit": "3"}),
        "GET /recommendations",
    )
    items = body.get("recommendations") or body.get("items") or []
    assert items, f"no recommendations for {user}: {body}"
    expect_warehouse(platform, body, "GET /recommendations")
    return f"{len(items)} recommendations for {user} from {body.get('source')}"


def bad_json(platform: Platform) -> str:
    response = platform.call_api("POST", "/chat", raw_body="{not json")
    assert 400 <= response.status < 500, f"malformed JSON got HTTP {response.status}"
    assert response.headers.get("access-control-allow-origin"), "error response has no CORS header"
    message = (response.body.get("error") or {}).get("message") if isinstance(response.body, dict) else None
    assert message, f"the 4xx does not say what was wrong: {response.body}"
    return f"HTTP {response.status}: {message}"


def missing_field(platform: Platform) -> str:
    response = platform.call_api("POST", "/predictions/tickets", {"price": "free"})
    assert 400 <= response.status < 500, f"a body without concert_id got HTTP {response.status}"
    return f"HTTP {response.status}"


def wiring(platform: Platform) -> str:
    stage = platform.stage()
    problems = stage.wiring_problems()
    assert not problems, "; ".join(problems)
    proxied = [r for r in stage.routes() if r.function_arn()]
    return f"{len(proxied)} methods integrated with functions that serve their routes"


def without_key(platform: Platform) -> str:
    response = platform.call_api("GET", "/health", with_key=False)
    assert response.status == 403, f"GET /health without an API key got HTTP {response.status}"
    return f"HTTP 403 {response.body}"


def preflight(platform: Platform) -> str:
    response = platform.call_api("OPTIONS", "/chat", with_key=False)
    assert response.status == 200, f"OPTIONS /chat got HTTP {response.status}: {response.body}"
    methods = response.headers.get("access-control-allow-methods", "")
    assert "POST" in methods, f"the preflight does not allow POST: {response.headers}"
    assert response.headers.get("access-control-allow-origin"), "the preflight has no allowed origin"
    return f"allows {methods}"


#: the API checks in the order they run, each `(platform) -> detail`; a failed assertion fails it
API_CHECKS: tuple[tuple[str, Callable[[Platform], str]], ...] = (
    ("api refuses a request without the API key", without_key),
    ("api answers the CORS preflight", preflight),
    ("api GET /health", health),
    ("api POST /chat keeps history", chat),
    ("api GET /venues/popularity", venues),
    ("api POST /predictions/tickets", prediction),
    ("api GET /recommendations", recommendations),
    ("api rejects malformed JSON with 4xx", bad_json),
    ("api rejects a wrongly typed body with 4xx", missing_field),
)


def _checked(platform: Platform, name: str, run: Callable[[Platform], str]) -> FlowResult:
    try:
        return FlowResult(name, True, run(platform))
    except (AssertionError, LookupError, RuntimeError, KeyError, TypeError, ValueError) as exc:
        return FlowResult(name, False, str(exc) or type(exc).__name__)


def api_checks(platform: Platform) -> list[FlowResult]:
    wired = [("api methods reach functions that serve their routes", wiring)] if platform.local else []
    return [_checked(platform, name, run) for name, run in [*wired, *API_CHECKS]]
