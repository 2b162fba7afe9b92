"""The smoke run: every flow over a deployed platform with the sample data loaded, in one order."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from concert_platform.engines.base import Engine
from concert_platform.manifest import Manifest
from concert_platform.smoke.alarms import alarm_checks
from concert_platform.smoke.api import api_checks
from concert_platform.smoke.contracts import contract_checks
from concert_platform.smoke.error_pipeline import error_pipeline_checks
from concert_platform.smoke.failures import failure_checks
from concert_platform.smoke.hostile import hostile_checks
from concert_platform.smoke.platform import FlowResult, Platform
from concert_platform.smoke.runtime import runtime_checks
from concert_platform.smoke.scheduled import scheduled_checks
from concert_platform.smoke.warehouse import warehouse_checks
from concert_platform.smoke.wiring import wiring_checks

Flow = Callable[[Platform], list[FlowResult]]

#: every smoke flow, in the order it runs. The runtime check comes first (it waits for the cold
#: starts begun after deploy); the hostile, failure and contract flows come after the alarm flows,
#: so their faults and 5xx answers do not disturb the alarms.
FLOWS: tuple[tuple[str, Flow], ...] = (
    ("runtime", runtime_checks),
    ("wiring", wiring_checks),
    ("warehouse", warehouse_checks),
    ("api", api_checks),
    ("scheduled", scheduled_checks),
    ("error pipeline", error_pipeline_checks),
    ("alarms", alarm_checks),
    ("hostile input", hostile_checks),
    ("dependency failures", failure_checks),
    ("contracts", contract_checks),
)


def run_flows(
    platform: Platform,
    flows: tuple[tuple[str, Flow], ...] = FLOWS,
    seconds: dict[str, float] | None = None,
) -> list[FlowResult]:
    """Run each flow in order; `seconds`, when given, receives each flow's wall time. A flow ends
    when what it set off on the engine (a log subscription's delivery) has run, inside its time:
    the next flow starts on a settled engine."""
    checks: list[FlowResult] = []
    for name, flow in flows:
        started = time.monotonic()
        try:
            checks += flow(platform)
            if not platform.engine.settle():
                checks.append(
                    FlowResult(
                        f"smoke flow {name}",
                        False,
                        "the engine's log subscription deliveries were still running a minute after the flow",
                    )
                )
        except Exception as exc:  # one broken flow is its own failure, never the others' silence
            checks.append(
                FlowResult(f"smoke flow {name}", False, f"the flow crashed: {type(exc).__name__}: {exc}")
            )
        if seconds is not None:
            seconds[name] = round(time.monotonic() - started, 3)
    return checks


def run_smoke(engine: Engine, manifest: Manifest, environment: str) -> dict[str, Any]:
    with Platform(engine, manifest, environment) as platform:
        flow_seconds: dict[str, float] = {}
        checks = run_flows(platform, seconds=flow_seconds)
        runtime = platform.runtime.report() if platform.runtime is not None else None
        if runtime is not None:  # the runtime is the engine's: report this environment's functions
            ours = set(platform.function_names())
            runtime["functions"] = [f for f in runtime["functions"] if f["name"] in ours]
    passed = sum(1 for c in checks if c.ok and not c.skipped)
    skipped = sum(1 for c in checks if c.skipped)
    path = engine.function_path()
    result: dict[str, Any] = {
        #: which path ran the functions' code in every flow of this run
        "function_path": path,
        "passed": passed,
        "failed": len(checks) - passed - skipped,
        "skipped": skipped,
        #: each flow's wall time, in the order the flows ran (where a smoke run's time goes)
        "flow_seconds": flow_seconds,
        "checks": [
            {
                "name": c.name,
                "ok": c.ok,
                "detail": c.detail,
                "path": path,
                **({"skipped": True} if c.skipped else {}),
            }
            for c in checks
        ],
    }
    if runtime is not None:
        result["runtime"] = runtime
    return result
