"""Whole-environment operations shared by the CLI, the e2e run and the tests."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from rich.console import Console

from concert_platform.console import ConsoleProgress
from concert_platform.deploy import StackOperator, StackResult
from concert_platform.engines.base import Engine
from concert_platform.errors import DeployError
from concert_platform.inputs import read_parameters_file, redact, resolve_inputs
from concert_platform.manifest import Manifest
from concert_platform.packaging import Artifact, build_artifacts
from concert_platform.postdeploy import CheckResult, run_post_deploy


def _result_row(result: StackResult) -> dict[str, Any]:
    return {
        "key": result.key,
        "name": result.name,
        "status": result.status,
        "seconds": round(result.seconds, 3),
    }


def deploy_environment(
    engine: Engine,
    manifest: Manifest,
    environment: str,
    *,
    only: list[str] | None = None,
    flags: Mapping[str, str | None] | None = None,
    parameters_file: Path | None = None,
    confirm: Callable[[str], bool] | None = None,
    console: Console | None = None,
    load_sample: bool = False,
    environ: Mapping[str, str] | None = None,
    artifacts: Mapping[str, Artifact] | None = None,
    interactive: bool | None = None,
    tags: Mapping[str, str] | None = None,
    ownership: Any = None,
    change_sets: dict[str, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Resolve inputs, deploy the selected stacks, run the post-deployment steps; returns a report.

    Raises UsageError for bad input (before anything is created) and DeployError on failure.
    `change_sets`, when given, receives each stack's change set as DescribeChangeSet answered.
    """
    import os

    progress = ConsoleProgress(console) if console else None
    operator = StackOperator(
        engine, manifest, environment, progress=progress, confirm=confirm, tags=tags, ownership=ownership
    )
    operator.change_sets = change_sets
    stacks = manifest.select(only)
    existing = operator.existing()
    # Inputs only existing stacks use may be left out: CloudFormation keeps their previous value.
    to_create = [s for s in stacks if existing.get(s.key) in (None, "ROLLBACK_COMPLETE")]
    needed = set().union(*(s.input_names() for s in to_create)) if to_create else set()
    skip_required = set().union(*(s.input_names() for s in stacks)) - needed
    file_values = read_parameters_file(parameters_file, manifest) if parameters_file else {}
    inputs = resolve_inputs(
        manifest.inputs_for(stacks),
        flags=flags or {},
        file_values=file_values,
        skip_required=skip_required,
        environ=os.environ if environ is None else environ,
        interactive=interactive,
    )
    secrets = [inputs[name] for name, spec in manifest.inputs.items() if spec.secret and name in inputs]
    built: dict[str, Artifact] = dict(artifacts or {})

    def artifact_factory() -> Mapping[str, Artifact]:
        if not built:
            built.update(build_artifacts(manifest))
        return built

    try:
        results = operator.deploy(stacks, inputs, artifacts=artifact_factory)
    except DeployError as exc:
        redacted = DeployError(redact(str(exc), secrets))
        redacted.stack_key, redacted.stack_seconds = exc.stack_key, exc.stack_seconds
        redacted.completed = exc.completed
        raise redacted from None
    post_started = time.monotonic()
    outputs = operator.all_outputs()
    changed = {r.key for r in results if r.status != "no changes"}
    checks = run_post_deploy(
        engine, outputs, changed, inputs.get("alert_email", ""), manifest.function_outputs()
    )
    if load_sample:
        checks.append(_load_sample(engine, outputs))
    if console:
        for check in checks:
            mark = (
                "[yellow]skipped[/yellow]"
                if check.skipped
                else "[green]ok[/green]"
                if check.ok
                else "[red]FAILED[/red]"
            )
            console.print(f"{mark:>20} {check.name}: {check.detail}", soft_wrap=True)
    return {
        "ok": all(c.ok for c in checks),
        "engine": engine.name,
        "environment": environment,
        "stacks": [_result_row(r) for r in results],
        "post_deploy": [
            {
                "name": c.name,
                "ok": c.ok,
                "detail": c.detail,
                **({} if c.seconds is None else {"seconds": c.seconds}),
                **({"skipped": True} if c.skipped else {}),
            }
            for c in checks
        ],
        "post_deploy_seconds": round(time.monotonic() - post_started, 3),
    }


def _load_sample(engine: Engine, outputs: Mapping[str, Mapping[str, str]]) -> CheckResult:
    """The sample data set as a post-deployment check: a service refusing it (a renamed table key,
    a missing bucket) is a failed step with the service's reason, not a traceback."""
    from botocore.exceptions import BotoCoreError, ClientError

    from concert_platform.sample_data import load_sample_data

    flat = {k: v for values in outputs.values() for k, v in values.items()}
    started = time.monotonic()
    try:
        counted = load_sample_data(_EngineClients(engine), flat)
    except (ClientError, BotoCoreError) as exc:
        return CheckResult("sample data", False, f"not loaded: {describe_aws_error(exc)}")
    except DeployError as exc:
        return CheckResult("sample data", False, str(exc))
    rows = ", ".join(f"{table} {count}" for table, count in counted.items())
    seconds = time.monotonic() - started
    return CheckResult(
        "sample data",
        True,
        f"loaded in {seconds:.2f}s; rows counted back from the warehouse: {rows}",
        round(seconds, 3),
    )


class _EngineClients:
    """A boto3-session look-alike whose clients point at the engine's endpoint."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def client(self, service: str, **_: Any) -> Any:
        return self.engine.client(service)


def destroy_environment(
    engine: Engine,
    manifest: Manifest,
    environment: str,
    *,
    only: list[str] | None = None,
    console: Console | None = None,
    ownership: Any = None,
) -> dict[str, Any]:
    """Delete the selected stacks in reverse order (with `ownership`, only those the run owns). A stack that fails to delete does not stop
    the others: everything that can go goes, and `failures` says what could not, and why."""
    from botocore.exceptions import BotoCoreError, ClientError

    progress = ConsoleProgress(console) if console else None
    operator = StackOperator(engine, manifest, environment, progress=progress, ownership=ownership)
    rows: list[dict[str, Any]] = []
    failures: list[str] = []
    engine.settle()  # no delivery still on its way to a function this deletes
    for spec in reversed(manifest.select(only)):
        name = operator.stack_name(spec.key)
        try:
            (result,) = operator.destroy((spec,))
            rows.append(_result_row(result))
        except DeployError as exc:
            failures.append(str(exc))
            rows.append({"key": spec.key, "name": name, "status": "failed", "seconds": 0.0})
        except (ClientError, BotoCoreError) as exc:
            failures.append(f"stack {name} could not be deleted: {describe_aws_error(exc)}")
            rows.append({"key": spec.key, "name": name, "status": "failed", "seconds": 0.0})
        if failures and console and rows[-1]["status"] == "failed":
            console.print(f"[red]FAILED[/red] {failures[-1]}", soft_wrap=True)
    rows.reverse()  # manifest order, as deploy reports it
    return {
        "ok": not failures,
        "engine": engine.name,
        "environment": environment,
        "stacks": rows,
        "failures": failures,
    }


def describe_aws_error(exc: Exception) -> str:
    """One line for a botocore error: operation, code and message."""
    from botocore.exceptions import ClientError

    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        text = f"{exc.operation_name}: {error.get('Code', '?')}: {error.get('Message', '')}"
    else:
        text = str(exc)
    return " ".join(text.split())
