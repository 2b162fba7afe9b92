"""The deployed functions' execution environments: started in the background right after deploy
(`start_cold_starts`), then checked by the smoke run's first check: every one starts, and a start
that failed once fails the check."""

from __future__ import annotations

import contextlib
import threading
from typing import Any

from concert_platform.engines.base import Engine
from concert_platform.manifest import Manifest
from concert_platform.packaging import default_cache_dir
from concert_platform.smoke.platform import FlowResult, Platform, deployed_functions, runtime_for
from concert_platform.target import Target


def runtime_check(platform: Platform) -> FlowResult:
    """Every deployed function's execution environment starts (its handler module imports)."""
    name = "every function's execution environment starts"
    runtime = platform.runtime
    assert runtime is not None
    deployed = deployed_functions(platform.outputs, platform.function_outputs)
    if not deployed:
        return FlowResult(name, False, "the stacks have no function outputs")
    runtime.warm(deployed)  # what the background start left: all at once, each timed on its own
    failures = []
    for function in deployed:
        try:
            _, _, failure = runtime.routes(function)
        except RuntimeError as exc:
            failures.append(str(exc))
            continue
        if failure is not None:
            failures.append(failure.describe_error())
    report = runtime.report()
    # a start that failed once fails the check even when a later attempt came up (flaky init);
    # the runtime is the engine's, so only this environment's functions count
    ours = [function for function in report["functions"] if function["name"] in deployed]
    for recorded in (failure for function in ours for failure in function.get("init_failures", [])):
        if recorded not in failures:
            failures.append(recorded)
    # what Lambda itself could not do as a function's role (logs, traces lost on AWS; nothing fails there)
    failures += [gap for function in ours for gap in function.get("role_gaps", []) if gap not in failures]
    if failures:
        return FlowResult(name, False, "; ".join(failures))
    runs: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    for function in ours:  # which interpreter ran which functions, and why where it substitutes
        key = (
            str(function.get("interpreter", "")),
            str(function.get("substitute_for_declared_runtime") or ""),
            str(function.get("layer_distributions", "")),
        )
        runs.setdefault(key, []).append(function)
    ran = "; ".join(
        f"{len(functions)} declared {', '.join(sorted({f['declared_runtime'] for f in functions}))}, "
        f"run on {python}, "
        + (f"a substitute ({substitute})" if substitute else "the declared runtime")
        + f", layers {layers}"
        for (python, substitute, layers), functions in runs.items()
    )
    colds = sorted(s for f in ours for s in f["cold_start_seconds"])
    return FlowResult(
        name,
        True,
        f"{ran} (isolated, deployed code and layers only); cold starts {colds[0]:.2f}-{colds[-1]:.2f}s",
    )


def start_cold_starts(engine: Engine, manifest: Manifest, environment: str) -> threading.Thread | None:
    """Begin the deployed functions' cold starts in the background, right after deploy: the
    workers are separate processes, so they boot on the second core while verification keeps this
    process busy. Nothing is decided here: the smoke run's first check starts (or, where this got
    there first, waits for) the same environments and reports every failure; a function whose
    configuration changes in between gets a new environment, as in Lambda. Returns the thread to
    join before the smoke run, or None where the engine runs function code itself."""
    if engine.runs_function_code:
        return None
    runtime = runtime_for(engine, default_cache_dir(manifest.root))

    def start() -> None:
        # any failure here is met again, and reported, by the smoke run's own start
        with contextlib.suppress(Exception):
            outputs = Target(engine, manifest, environment).outputs()
            functions = deployed_functions(outputs, manifest.function_outputs())
            # two at a time: a core stays with verification, which runs in this process
            runtime.warm(functions, parallel=2)

    thread = threading.Thread(target=start, name="lambda-cold-starts", daemon=True)
    thread.start()
    return thread


def runtime_checks(platform: Platform) -> list[FlowResult]:
    """The runtime check where the engine's functions run in this tool's runtime; none elsewhere."""
    return [runtime_check(platform)] if platform.runtime is not None else []
