"""Smoke flows that make each dependency behind each API route fail, and each documented
fallback answer on purpose (issue 21, items 4 and 5).

The dependencies of a route are the calls its function made during the run (the engine's IAM
ledger: table reads and writes, warehouse statements, bucket and stream reads). Each is made to
fail for one request through the engine (`Engine.fail_calls`: one table throttled once, which the
SDK's retry must absorb; a missing table, a FAILED statement, a failing bucket or stream), and the
route must answer:

- with a documented error (docs/api.md, Errors) in the documented shape, or, for /health, 503
  naming the failed dependency's error; never a 4xx that blames the caller; or
- with 200 and the same answer it gave without the failure (a documented fallback, or the SDK's
  retry, served it), never a 200 with other (made-up or empty) data.

Fallbacks (docs/api.md: the warehouse's fallback to the processed-data bucket): each route whose
answer came from the warehouse is asked again with every statement FAILED (it must answer the
same from `processed-bucket`, saying so), and with the bucket failing too (503 data_unavailable).
Every flow's detail names the path that answered.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from concert_platform.engines.base import STATEMENT_FAILED, CallFault, EngineLacksCapability
from concert_platform.smoke.hostile import (
    ApiDoc,
    ApiRoute,
    call,
    deployed_routes,
    error_problem,
    read_api_doc,
    sample_requests,
)
from concert_platform.smoke.platform import FlowResult, HttpResponse, Platform
from concert_platform.smoke.warehouse import last_failed_statement

#: the platform's dependencies: (service prefix, data-plane actions) made to fail behind a route
DEPENDENCY_ACTIONS: dict[str, frozenset[str]] = {
    "dynamodb": frozenset(
        {
            "GetItem",
            "Query",
            "Scan",
            "PutItem",
            "UpdateItem",
            "DeleteItem",
            "BatchGetItem",
            "BatchWriteItem",
            "DescribeTable",
        }
    ),
    "redshift-data": frozenset({"ExecuteStatement", "BatchExecuteStatement"}),
    "s3": frozenset({"GetObject", "ListBucket", "PutObject"}),
    "kinesis": frozenset({"DescribeStreamSummary", "DescribeStream", "PutRecord", "PutRecords"}),
    "redshift-serverless": frozenset({"GetWorkgroup"}),
    "bedrock": frozenset({"InvokeAgent", "GetAgentAlias"}),
    "sagemaker": frozenset({"InvokeEndpoint", "DescribeEndpoint"}),
}
#: service -> how each of its dependencies fails: (AWS error code, calls failed; None = all in the request)
FAILURES: dict[str, tuple[tuple[str, int | None], ...]] = {
    "dynamodb": (("ResourceNotFoundException", 1),),
    "redshift-data": ((STATEMENT_FAILED, 1),),
    "s3": (("NoSuchBucket", 1),),
    "kinesis": (("ResourceNotFoundException", 1),),
    "redshift-serverless": (("ResourceNotFoundException", 1),),
    "bedrock": (("ThrottlingException", None),),
    "sagemaker": (("ModelError", 1),),
}
#: once per run, one table of one route is throttled for one call: the SDK's retry must absorb it
#: (the route answers as without it) or the route answers a documented error. Throttling every
#: attempt of the request cost 3-5 s of the SDK's backoff, so the retry path is what is proved.
THROTTLE = ("ProvisionedThroughputExceededException", 1)
#: the fallback docs/api.md documents for the warehouse, and how an answer names it
WAREHOUSE_FALLBACK = "processed-bucket"
#: keys whose values differ between two correct answers (new session, counters, the path taken)
VOLATILE = frozenset({"session_id", "turn", "source", "fallback_reason", "correlation_id", "latency_ms"})


@dataclass
class Outcome:
    what: str
    problem: str | None
    path: str  # which path answered (or "not reached")


def _normal(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _normal(v) for k, v in sorted(value.items()) if k not in VOLATILE}
    if isinstance(value, list):
        return [_normal(v) for v in value]
    if isinstance(value, float):
        return round(value, 6)
    return value


def _source(body: Any) -> str:
    return str(body.get("source") or "") if isinstance(body, dict) else ""


def _answered_by(response: HttpResponse) -> str:
    body = response.body
    if response.status != 200:
        code = ((body.get("error") or {}).get("code") if isinstance(body, dict) else None) or ""
        return f"HTTP {response.status} {code}".strip()
    reason = body.get("fallback_reason") if isinstance(body, dict) else None
    source = _source(body) or "the route"
    return f"{source} (fallback: {reason})" if reason and WAREHOUSE_FALLBACK in source else source


def judge(response: HttpResponse, baseline: HttpResponse, failed: str, error: str, doc: ApiDoc) -> str | None:
    """What is wrong with a route's answer while `failed` fails with `error` (None: correct)."""
    body = response.body
    dependencies = body.get("dependencies") if isinstance(body, dict) else None
    if isinstance(dependencies, dict):  # /health: the failure is reported, never hidden
        # (a HEAD answer, S3's HeadBucket, carries only its status, so the error is not compared)
        reported = [
            name
            for name, state in dependencies.items()
            if isinstance(state, dict) and state.get("required") and state.get("status") != "ok"
        ]
        if not reported:
            return f"HTTP {response.status} {body.get('status')!r} reports no required dependency failing ({error})"
        if response.status != 503 or body.get("status") != "unhealthy":
            return f"HTTP {response.status} {body.get('status')!r} while {', '.join(reported)} failed: expected 503 unhealthy"
        return None
    if response.status == 200:
        if _normal(body) == _normal(baseline.body):
            return None
        return (
            f"answered 200 with other data than without the failure (made-up or empty): "
            f"{str(_normal(body))[:160]} instead of {str(_normal(baseline.body))[:160]}"
        )
    if response.status < 500:
        return (
            f"answered HTTP {response.status}: a failed dependency blamed on the caller ({str(body)[:160]})"
        )
    return error_problem(response, doc)


class FaultRunner:
    """Arms one fault (or several) in the engine around one request of one route."""

    def __init__(self, platform: Platform) -> None:
        self.platform = platform

    def request(
        self, route: ApiRoute, sample: dict[str, Any], faults: list[tuple[str, str, str, int | None]]
    ) -> tuple[HttpResponse, list[CallFault]]:
        engine = self.platform.engine
        armed: list[CallFault] = []
        try:
            for action, resource, error, times in faults:
                armed.append(engine.fail_calls(route.function, action, error, resource=resource, times=times))
            return call(self.platform, route, sample), armed
        finally:
            for fault in armed:
                engine.clear_call_fault(fault)


def _short(resource: str) -> str:
    return resource.rsplit(":", 1)[-1]


def dependency_outcomes(
    runner: FaultRunner,
    route: ApiRoute,
    sample: dict[str, Any],
    baseline: HttpResponse,
    used: set[tuple[str, str]],
    doc: ApiDoc,
    skip_services: frozenset[str],
    throttle: list[bool],
) -> list[Outcome]:
    outcomes = []
    for action, resource in sorted(used):
        service, _, operation = action.partition(":")
        if service in skip_services or operation not in DEPENDENCY_ACTIONS.get(service, ()):
            continue
        failures = list(FAILURES.get(service, ()))
        if service == "dynamodb" and throttle and not throttle[0]:
            failures.insert(0, THROTTLE)
            throttle[0] = True
        for error, times in failures:
            what = f"{action} on {_short(resource)} {error}"
            response, armed = runner.request(route, sample, [(action, resource, error, times)])
            if not any(fault.hits for fault in armed):
                outcomes.append(Outcome(what, None, "not reached (the request made no such call)"))
                continue
            outcomes.append(
                Outcome(what, judge(response, baseline, what, error, doc), _answered_by(response))
            )
    return outcomes


def fallback_outcomes(
    runner: FaultRunner, route: ApiRoute, sample: dict[str, Any], baseline: HttpResponse, doc: ApiDoc
) -> list[Outcome]:
    """The warehouse fails: the processed bucket answers the same; the bucket fails too: 503."""
    statements = ("redshift-data:ExecuteStatement", "", STATEMENT_FAILED, None)
    outcomes = []
    # both failing first: the bucket's copy is cached per container once read
    what = "warehouse and processed bucket both failing"
    response, armed = runner.request(route, sample, [statements, ("s3:GetObject", "", "NoSuchKey", None)])
    if not armed[1].hits:
        outcomes.append(Outcome(what, None, "not reached (the bucket's copy was cached)"))
    elif response.status != 503 or (response.body.get("error") or {}).get("code") != "data_unavailable":
        outcomes.append(
            Outcome(
                what, f"expected 503 data_unavailable, got {_answered_by(response)}", _answered_by(response)
            )
        )
    else:
        outcomes.append(Outcome(what, error_problem(response, doc), _answered_by(response)))
    what = "warehouse statements FAILED (fallback on purpose)"
    response, armed = runner.request(route, sample, [statements])
    path = _answered_by(response)
    if not armed[0].hits:
        outcomes.append(Outcome(what, "no warehouse statement was made", path))
    elif response.status != 200 or WAREHOUSE_FALLBACK not in _source(response.body):
        outcomes.append(
            Outcome(what, f"the documented fallback did not answer: {path} {str(response.body)[:200]}", path)
        )
    else:
        outcomes.append(Outcome(what, judge(response, baseline, what, STATEMENT_FAILED, doc), path))
    return outcomes


def route_failures(
    platform: Platform, route: ApiRoute, sample: dict[str, Any], doc: ApiDoc, throttle: list[bool]
) -> FlowResult:
    name = f"dependency failures {route.label}"
    started = time.monotonic()
    baseline = call(platform, route, sample)
    if baseline.status != 200:
        return FlowResult(
            name,
            False,
            f"the route's sample request fails without any fault: HTTP {baseline.status} {str(baseline.body)[:200]}",
        )
    if platform.engine.capabilities.has_warehouse and WAREHOUSE_FALLBACK in _source(baseline.body):
        return FlowResult(
            name,
            False,
            f"answered through the fallback ({_answered_by(baseline)}) with no fault injected: its "
            f"primary, the warehouse, should have served{last_failed_statement(platform)}",
        )
    used = platform.engine.iam_ledger().used_by(route.function)
    runner = FaultRunner(platform)
    outcomes: list[Outcome] = []
    warehouse_primary = "redshift" in _source(baseline.body)
    if warehouse_primary:
        outcomes += fallback_outcomes(runner, route, sample, baseline, doc)
    outcomes += dependency_outcomes(
        runner,
        route,
        sample,
        baseline,
        used,
        doc,
        frozenset({"redshift-data"}) if warehouse_primary else frozenset(),
        throttle,
    )
    if not outcomes:
        return FlowResult(
            name, True, f"calls no dependency (answered by {_answered_by(baseline)})", skipped=True
        )
    problems = [f"{o.what}: {o.problem}" for o in outcomes if o.problem]
    if problems:
        return FlowResult(name, False, "; ".join(problems))
    paths = "; ".join(f"{o.what} -> {o.path}" for o in outcomes)
    return FlowResult(
        name,
        True,
        f"without faults answered by {_answered_by(baseline)}; {paths} ({time.monotonic() - started:.1f}s)",
    )


def bedrock_fallback_check(platform: Platform, routes: list[ApiRoute], samples: dict[Any, Any]) -> FlowResult:
    """docs/api.md's second fallback: when the configured Bedrock agent fails, /chat answers from
    the platform's data and names the failure (`fallback_reason: bedrock agent failed: ...`)."""
    name = "fallback: /chat answers from platform data when the Bedrock agent fails"
    route = next((r for r in routes if r.method == "POST" and r.path == "/chat"), None)
    if route is None:
        return FlowResult(name, False, "the deployed API has no POST /chat")
    config = platform.engine.client("lambda").get_function_configuration(FunctionName=route.function)
    variables = config.get("Environment", {}).get("Variables", {})
    if not (variables.get("BEDROCK_AGENT_ID") and variables.get("BEDROCK_AGENT_ALIAS_ID")):
        return FlowResult(
            name,
            True,
            "skipped: no Bedrock agent is configured in this environment (bedrock_agent_id is empty), "
            "so neither the bedrock-agent path nor its fallback can be exercised",
            skipped=True,
        )
    baseline = call(platform, route, samples[("POST", "/chat")])
    if baseline.status != 200 or _source(baseline.body) != "bedrock-agent":
        return FlowResult(name, False, f"the configured agent did not answer first: {_answered_by(baseline)}")
    response, armed = FaultRunner(platform).request(
        route, samples[("POST", "/chat")], [("bedrock:InvokeAgent", "", "ThrottlingException", None)]
    )
    reason = str(response.body.get("fallback_reason") if isinstance(response.body, dict) else "")
    ok = bool(armed[0].hits) and response.status == 200 and _source(response.body) == "platform-data"
    ok = ok and "ThrottlingException" in reason
    return FlowResult(name, ok, f"agent throttled -> {_answered_by(response)}, fallback_reason {reason!r}")


def failure_checks(platform: Platform) -> list[FlowResult]:
    engine = platform.engine
    try:
        probe = engine.fail_calls("concert-smoke-probe", "none:None", "None", times=0)
        engine.clear_call_fault(probe)
    except EngineLacksCapability as exc:
        return [FlowResult("dependency failures and fallbacks", True, f"skipped: {exc}", skipped=True)]
    if not engine.capabilities.iam_ledger:
        return [
            FlowResult(
                "dependency failures and fallbacks",
                True,
                f"skipped: the {engine.name} engine records no IAM ledger, so a route's dependencies are unknown",
                skipped=True,
            )
        ]
    try:
        doc = read_api_doc(platform.manifest.root)
        routes = deployed_routes(platform, doc)
    except (LookupError, ClientError, ValueError) as exc:
        return [FlowResult("dependency failures: the deployed routes", False, str(exc))]
    samples = sample_requests()

    checks = [_guarded("fallback: bedrock", lambda: bedrock_fallback_check(platform, routes, samples))]
    # the run's one throttled table goes to the route whose function uses fewest tables (its
    # retries' backoff is paid once, on the shortest request); the others start "already chosen"
    ledger = engine.iam_ledger()

    def tables(route: ApiRoute) -> int:
        return sum(1 for action, _ in ledger.used_by(route.function) if action.startswith("dynamodb:"))

    with_tables = [r for r in routes if tables(r)]
    throttled = min(with_tables, key=tables) if with_tables else None

    def one(route: ApiRoute) -> FlowResult:
        sample = samples.get((route.method, route.path))
        if sample is None:
            return FlowResult(
                f"dependency failures {route.label}", False, f"no sample request for {route.label}"
            )
        return _guarded(
            f"dependency failures {route.label}",
            lambda: route_failures(platform, route, sample, doc, [route is not throttled]),
        )

    # a fault is armed for one function (the route's): routes of different functions are failed
    # side by side, never reaching each other's requests; routes sharing a function take turns.
    # Reported in route order.
    by_function: dict[str, list[ApiRoute]] = {}
    for route in routes:
        by_function.setdefault(route.function, []).append(route)
    results: dict[int, FlowResult] = {}

    def in_turn(group: list[ApiRoute]) -> None:
        for route in group:
            results[id(route)] = one(route)

    with ThreadPoolExecutor(max_workers=max(len(by_function), 1)) as pool:
        list(pool.map(in_turn, by_function.values()))
    return checks + [results[id(route)] for route in routes]


def _guarded(name: str, run: Callable[[], FlowResult]) -> FlowResult:
    try:
        return run()
    except (LookupError, RuntimeError, KeyError, TypeError, ValueError, ClientError, AttributeError) as exc:
        return FlowResult(name, False, str(exc) or type(exc).__name__)
