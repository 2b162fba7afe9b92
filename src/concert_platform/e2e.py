"""`concert-platform e2e`: deploy, verify every resource, smoke-test every flow, destroy, report.

One verdict: every check of every phase (deploy, post-deploy, verify, cross-stack, smoke,
teardown) feeds `failures`; `ok` is true, and the exit code 0, only when there are none. Any
failure in any phase, on any engine, still ends with the teardown and the three reports
(JSON, JUnit XML, Markdown) written, and a one-line `reason`; no traceback reaches the user.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import string
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from concert_platform.errors import ConcertPlatformError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from concert_platform.engines import ENGINE_NAMES, default_region

    parser.add_argument(
        "--engine",
        choices=ENGINE_NAMES,
        default=os.environ.get("CONCERT_ENGINE", "embedded"),
    )
    parser.add_argument(
        "--environment", "-e", default="e2e", help="environment slug for the run (default: e2e)"
    )
    parser.add_argument("--region", "-r", default=default_region())
    parser.add_argument("--endpoint-url", help="override the engine's endpoint")
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    parser.add_argument(
        "--keep", action="store_true", help="leave the stacks deployed (not for the embedded engine)"
    )
    parser.add_argument(
        "--adopt",
        action="store_true",
        help="take over an environment that already has stacks (it is updated, then deleted); "
        "never for a protected environment",
    )
    parser.add_argument(
        "--reports-dir", type=Path, default=Path("reports"), help="where the JUnit XML and Markdown go"
    )
    parser.add_argument(
        "--base",
        metavar="REF",
        help="test the update a merge makes: deploy git revision REF (its templates, handlers and "
        "manifest), write data, update every stack to the working tree, then verify and smoke; "
        "writes reports/update-review-ENV.{md,sarif} (docs/update-gate.md)",
    )


def ephemeral_password() -> str:
    """A throwaway Redshift password meeting its rules (upper, lower, digit; no / @ \" ' \\ or space)."""
    alphabet = string.ascii_letters + string.digits
    while True:
        candidate = "".join(secrets.choice(alphabet) for _ in range(24))
        if (
            any(c.isupper() for c in candidate)
            and any(c.islower() for c in candidate)
            and any(c.isdigit() for c in candidate)
        ):
            return candidate


PHASES = ("deploy", "post_deploy", "verify", "smoke", "teardown")


def describe_exception(exc: BaseException) -> str:
    """One line for any failure: ours as written, AWS errors with operation and code, bugs by type."""
    from botocore.exceptions import BotoCoreError, ClientError

    from concert_platform.workflow import describe_aws_error

    if isinstance(exc, ConcertPlatformError):
        text = str(exc)
    elif isinstance(exc, ClientError | BotoCoreError):
        text = describe_aws_error(exc)
    else:
        text = f"internal error {type(exc).__name__}: {exc}"
    return " ".join(text.split())


#: the phases of `e2e --base REF`: the base revision is deployed, then updated
UPDATE_PHASES = ("deploy", "update", "post_deploy", "verify", "smoke", "teardown")


class _Phases:
    """Times each phase and turns whatever it raises into a failure of that phase."""

    def __init__(self, report: dict[str, Any], names: tuple[str, ...] = PHASES) -> None:
        self.report = report
        self.seconds: dict[str, float | None] = dict.fromkeys(names)
        report["phases"] = self.seconds
        report["errors"] = []

    def run(self, phase: str, action: Callable[[], Any]) -> tuple[bool, Any]:
        started = time.monotonic()
        try:
            return True, action()
        except Exception as exc:  # every phase ends in the report, never in a traceback
            self.report["errors"].append({"phase": phase, "reason": describe_exception(exc)})
            return False, None
        finally:
            self.seconds[phase] = round((self.seconds[phase] or 0.0) + time.monotonic() - started, 3)


def run_e2e(
    engine_name: str,
    environment: str,
    region: str,
    endpoint_url: str | None,
    keep: bool,
    manifest: Any = None,
    artifacts: Any = None,
    adopt: bool = False,
    base: str | None = None,
) -> dict[str, Any]:
    """The whole run; never raises for a failure after the inputs were validated (UsageError before).

    It also raises UsageError, after starting the engine but before changing anything, for an
    environment it may not take over (concert_platform.ownership).

    With `base` (a git revision) the run deploys that revision first and updates it to the working
    tree (concert_platform.update_gate); a revision git does not know is a UsageError before the
    engine starts."""
    from concert_platform.manifest import load_manifest
    from concert_platform.naming import validate_target
    from concert_platform.ownership import refuse_protected

    manifest = manifest or load_manifest()
    validate_target(manifest, environment, region)
    refuse_protected(manifest, environment, "run e2e against")
    update = _UpdateRun.prepare(base, manifest) if base else None
    try:
        return _run(engine_name, environment, region, endpoint_url, keep, manifest, artifacts, adopt, update)
    finally:
        if update is not None:
            update.base.remove()


@dataclass
class _UpdateRun:
    """What `--base` adds to the run: the exported base revision and the acknowledgements."""

    base: Any  # update_gate.BaseRevision
    acknowledgements: dict[str, dict[str, str]]

    @classmethod
    def prepare(cls, ref: str, manifest: Any) -> _UpdateRun:
        from concert_platform.update_gate import export_base
        from concert_platform.update_review import load_acknowledgements

        acknowledgements = load_acknowledgements(manifest.root)  # a malformed file: exit 2 before anything
        return cls(export_base(ref, manifest.root), acknowledgements)


def _run(
    engine_name: str,
    environment: str,
    region: str,
    endpoint_url: str | None,
    keep: bool,
    manifest: Any,
    artifacts: Any,
    adopt: bool,
    update: _UpdateRun | None,
) -> dict[str, Any]:
    from rich.console import Console

    from concert_platform.engines import create_engine
    from concert_platform.ownership import new_run_id

    console = Console(stderr=True, highlight=False)
    engine = create_engine(engine_name, region, endpoint_url)
    started = time.monotonic()
    run_id = new_run_id("e2e")
    report: dict[str, Any] = {
        "engine": engine_name,
        "environment": environment,
        "region": region,
        "run_id": run_id,
    }
    if update is not None:
        report["base"] = {"ref": update.base.ref, "commit": update.base.commit}
    phases = _Phases(report, UPDATE_PHASES if update is not None else PHASES)
    environ = dict(os.environ)
    environ.setdefault("REDSHIFT_MASTER_PASSWORD", ephemeral_password())
    try:
        engine.start()
    except ConcertPlatformError as exc:  # unreachable or misconfigured: nothing ran, reports still written
        report["errors"].append({"phase": "deploy", "reason": f"engine {engine_name}: {exc}"})
        report["exit_code"] = exc.exit_code
        report["teardown"] = {"clean": None, "remaining": [], "leftovers": [], "not_run": True}
    else:
        try:
            ownership = _claim(engine, manifest, environment, run_id, adopt)
            report["ownership"] = ownership.describe()
            _run_phases(
                engine,
                engine_name,
                manifest,
                environment,
                keep,
                artifacts,
                environ,
                console,
                phases,
                ownership,
                update,
            )
        finally:
            engine.stop()
    report.setdefault("stacks", [])
    report.setdefault("post_deploy", [])
    report.setdefault(
        "resources", {"declared": 0, "verified": 0, "unverified": [], "cross_stack": [], "ran": False}
    )
    report.setdefault("smoke", {"passed": 0, "failed": 0, "checks": [], "ran": False})
    report.setdefault("iam", {"enforced": False, "denied": [], "unused": []})
    report["seconds"] = round(time.monotonic() - started, 3)
    report["failures"] = collect_failures(report)
    report["ok"] = not report["failures"]
    report["reason"] = one_line_reason(report["failures"])
    return report


def _claim(engine: Any, manifest: Any, environment: str, run_id: str, adopt: bool) -> Any:
    """Refuse (UsageError, nothing changed) an environment that already has stacks, unless adopted."""
    from concert_platform.deploy import StackOperator
    from concert_platform.ownership import claim_environment

    return claim_environment(
        StackOperator(engine, manifest, environment), manifest, environment, run_id, adopt=adopt
    )


def _run_phases(
    engine: Any,
    engine_name: str,
    manifest: Any,
    environment: str,
    keep: bool,
    artifacts: Any,
    environ: dict[str, str],
    console: Any,
    phases: _Phases,
    ownership: Any,
    update: _UpdateRun | None = None,
) -> None:
    """Deploy (with post-deploy), verify, smoke, teardown on a started engine, into phases.report.
    With `update`, the deploy is the base revision's followed by the update to `manifest`."""
    from concert_platform.execution_roles import iam_section
    from concert_platform.ownership import run_tags
    from concert_platform.smoke import run_smoke, start_cold_starts
    from concert_platform.verify import verify_environment
    from concert_platform.workflow import deploy_environment

    report = phases.report

    def deploy(target: Any, phase: str, load_sample: bool, change_sets: Any = None) -> tuple[bool, Any]:
        done, deployed = phases.run(
            phase,
            lambda: deploy_environment(
                engine,
                target,
                environment,
                console=console,
                load_sample=load_sample,
                environ=environ,
                interactive=False,
                confirm=lambda _q: True,
                artifacts=artifacts if target is manifest else None,
                tags=run_tags(ownership.run_id, "e2e"),
                change_sets=change_sets,
            ),
        )
        if done:
            report["stacks"] = deployed["stacks"]
            report["post_deploy"] = report.get("post_deploy", []) + deployed["post_deploy"]
            # deploy_environment runs the post-deployment steps; it says how long they took
            post_seconds = float(deployed.get("post_deploy_seconds", 0.0))
            phases.seconds[phase] = round((phases.seconds[phase] or 0.0) - post_seconds, 3)
            phases.seconds["post_deploy"] = round((phases.seconds["post_deploy"] or 0.0) + post_seconds, 3)
        return done, deployed

    if update is None:
        deployed_ok, _ = deploy(manifest, "deploy", load_sample=True)
    else:
        deployed_ok = _deploy_and_update(engine, manifest, environment, phases, update, deploy)
    if deployed_ok:
        # the functions' execution environments boot in their own processes while verify runs
        cold_starts = start_cold_starts(engine, manifest, environment)
        verified_ok, resources = phases.run(
            "verify", lambda: verify_environment(engine, manifest, environment)
        )
        if verified_ok:
            report["resources"] = resources

        def smoke_run() -> dict[str, Any]:
            if cold_starts is not None:
                cold_starts.join()  # what is left of the cold starts counts as smoke time
            return run_smoke(engine, manifest, environment)

        smoked_ok, smoke = phases.run("smoke", smoke_run)
        if smoked_ok:
            report["smoke"] = smoke
        # what the functions' own calls were allowed and denied (IAM, enforced on the embedded engine)
        iam_ok, iam = phases.run("smoke", lambda: iam_section(engine))
        if iam_ok:
            report["iam"] = iam
    else:
        report["stacks"] = _stack_rows(engine, manifest, environment)
    if keep and not engine.capabilities.ephemeral:
        report["teardown"] = {"clean": None, "kept": True, "remaining": [], "leftovers": []}
    else:
        torn_ok, teardown = phases.run(
            "teardown", lambda: teardown_environment(engine, manifest, environment, console, ownership)
        )
        report["teardown"] = (
            teardown if torn_ok else {"clean": False, "remaining": [], "leftovers": [], "stack_failures": []}
        )


def _deploy_and_update(
    engine: Any,
    manifest: Any,
    environment: str,
    phases: _Phases,
    update: _UpdateRun,
    deploy: Callable[..., Any],
) -> bool:
    """The base revision deployed with the sample data and a user's writes, then every stack
    updated to `manifest` through change sets; the update review goes into the report."""
    from concert_platform.manifest import load_manifest
    from concert_platform.update_gate import write_as_a_user
    from concert_platform.update_review import build_review, snapshot

    report = phases.report
    base_manifest = load_manifest(update.base.root)
    based, _ = deploy(base_manifest, "deploy", load_sample=True)
    if not based:
        return False
    wrote, writes = phases.run("deploy", lambda: write_as_a_user(engine, base_manifest, environment))
    if not wrote:
        return False
    report["base"]["user_writes"] = writes
    counted, before = phases.run("update", lambda: snapshot(engine, base_manifest, environment))
    change_sets: dict[str, dict[str, Any]] = {}
    updated, _ = deploy(manifest, "update", load_sample=False, change_sets=change_sets)
    counted_after, after = phases.run("update", lambda: snapshot(engine, manifest, environment))
    if counted and counted_after:
        refusals = [e["reason"] for e in report["errors"] if e["phase"] == "update"]
        report["update_review"] = build_review(
            change_sets,
            before,
            after,
            update.acknowledgements,
            manifest,
            update.base.root,
            refusals,
            f"{update.base.ref} ({update.base.commit[:12]})",
        )
    return bool(updated)


def _stack_rows(engine: Any, manifest: Any, environment: str) -> list[dict[str, Any]]:
    """After a failed deploy: what each stack is now (best effort, for the report)."""
    from concert_platform.deploy import StackOperator

    rows = []
    try:
        operator = StackOperator(engine, manifest, environment)
        for spec in manifest.stacks:
            name = operator.stack_name(spec.key)
            stack = operator.describe(name)
            status = stack["StackStatus"] if stack else "not deployed"
            rows.append({"key": spec.key, "name": name, "status": status, "seconds": 0.0})
    except Exception:  # the engine may be the thing that broke; the error is already reported
        return rows
    return rows


def teardown_environment(
    engine: Any, manifest: Any, environment: str, console: Any, ownership: Any = None
) -> dict[str, Any]:
    """Record what exists, destroy, then prove each recorded resource gone through its service.

    With `ownership`, only the stacks this run created (or adopted) are deleted; another run's
    stack that appeared meanwhile is left in place and named as a failure."""
    from concert_platform.teardown import (
        RETAINED_BY_DESIGN,
        confirm_gone,
        find_leftovers,
        record_inventory,
        remove_remaining,
    )
    from concert_platform.workflow import destroy_environment

    problems: list[str] = []
    only: list[str] | None = None
    foreign: list[dict[str, str]] = []
    if ownership is not None:
        from concert_platform.deploy import StackOperator
        from concert_platform.ownership import split_owned

        only, foreign = split_owned(StackOperator(engine, manifest, environment), manifest.keys, ownership)
        problems += [item["reason"] for item in foreign]
    try:
        inventory = [
            item
            for item in record_inventory(engine, manifest, environment)
            if only is None or item.stack in only
        ]
    except Exception as exc:  # still destroy what can be destroyed; the run cannot be called clean
        inventory = []
        problems.append(f"could not record what the stacks created: {describe_exception(exc)}")
    destroyed = (
        destroy_environment(engine, manifest, environment, console=console, only=only)
        if only is None or only
        else {"failures": []}
    )
    problems += destroyed["failures"]
    remaining, confirmed = confirm_gone(engine, inventory)
    removed_directly = 0
    if remaining:
        # the engine's stack deletion left these: remove what can be removed, then ask again
        problems += [f"not removable: {line}" for line in remove_remaining(engine, inventory, remaining)]
        before = len(remaining)
        remaining, confirmed = confirm_gone(engine, inventory)
        removed_directly = before - len(remaining)
    from concert_platform.leftovers import save_recorded, still_there

    kept = save_recorded(engine, environment, still_there(inventory, remaining))
    recorded_names = {item.physical_id for item in inventory} | {item["name"] for item in foreign}
    found = [
        item for item in find_leftovers(engine, environment) if item.split(": ", 1)[-1] not in recorded_names
    ]
    # a kind this engine cannot list is noted, not failed: the recorded resources were each asked for
    unlisted = [item for item in found if ": could not list (" in item]
    leftovers = [item for item in found if item not in unlisted]
    return {
        "clean": not remaining and not leftovers and not problems,
        "recorded": len(inventory),
        "confirmed_gone": confirmed,
        "removed_directly": removed_directly,
        "remaining": remaining,
        "retained": [
            {"stack": i.stack, "logical_id": i.logical_id, "type": i.type, "why": RETAINED_BY_DESIGN[i.type]}
            for i in inventory
            if i.type in RETAINED_BY_DESIGN
        ],
        "leftovers": leftovers,
        "unlisted": unlisted,
        "stack_failures": problems,
        **({"leftovers_file": str(kept)} if kept is not None else {}),
    }


def collect_failures(report: dict[str, Any]) -> list[dict[str, str]]:
    """Every failed check of every phase, as {phase, check, reason}."""
    failures = [{"phase": e["phase"], "check": "", "reason": e["reason"]} for e in report["errors"]]
    failures += [
        {"phase": "post_deploy", "check": step["name"], "reason": step["detail"]}
        for step in report["post_deploy"]
        if not step["ok"]
    ]
    resources = report["resources"]
    failures += [
        {
            "phase": "verify",
            "check": f"{item['stack']}/{item['logical_id']} ({item['type']})",
            "reason": item["reason"],
        }
        for item in resources["unverified"]
        if not item.get("exempt")
    ]
    failures += [
        {"phase": "cross_stack", "check": f"{item['stack']} {item['name']}", "reason": item["detail"]}
        for item in resources.get("cross_stack", [])
        if not item["ok"]
    ]
    smoke = report["smoke"]
    failures += [
        {"phase": "smoke", "check": check["name"], "reason": check["detail"]}
        for check in smoke["checks"]
        if not check["ok"]
    ]
    if smoke.get("ran", True) and not smoke["checks"]:
        failures.append({"phase": "smoke", "check": "smoke", "reason": "no smoke check ran"})
    from concert_platform.execution_roles import denial_lines

    iam = report.get("iam") or {"denied": []}
    failures += [
        {"phase": "iam", "check": f"{d['function']} {d['action']}", "reason": line}
        for d, line in zip(iam["denied"], denial_lines(iam), strict=True)
    ]
    review = report.get("update_review") or {}
    failures += [
        {
            "phase": "update_review",
            "check": f"{f['stack']}/{f['logical_id']}",
            "reason": f"{f['id']}: {f['message']}",
        }
        for f in review.get("findings", [])
        if not f["acknowledged"] and f["rule"] != "update-refused"  # a refusal is the update phase's failure
    ]
    teardown = report.get("teardown", {})
    failures += [
        {"phase": "teardown", "check": "stack deletion", "reason": reason}
        for reason in teardown.get("stack_failures", [])
    ]
    failures += [
        {
            "phase": "teardown",
            "check": f"{row['stack']}/{row['logical_id']} ({row['type']})",
            "reason": f"{row['physical_id']}: {row['detail']}",
        }
        for row in teardown.get("remaining", [])
    ]
    failures += [
        {"phase": "teardown", "check": "leftover", "reason": item} for item in teardown.get("leftovers", [])
    ]
    return failures


def one_line_reason(failures: list[dict[str, str]]) -> str | None:
    if not failures:
        return None
    first = failures[0]
    more = (
        f" (and {len(failures) - 1} more failure{'s' if len(failures) > 2 else ''})"
        if len(failures) > 1
        else ""
    )
    where = f"{first['phase']}: {first['check']}" if first["check"] else first["phase"]
    return f"{where}: {first['reason']}{more}"


def run(args: argparse.Namespace) -> int:
    from concert_platform.reports import print_summary, write_reports

    report = run_e2e(
        args.engine,
        args.environment,
        args.region,
        args.endpoint_url,
        args.keep,
        adopt=args.adopt,
        base=args.base,
    )
    paths = write_reports(report, args.reports_dir)
    if report.get("update_review"):
        from concert_platform.manifest import load_manifest
        from concert_platform.update_review import write_review

        paths += write_review(
            report["update_review"], args.reports_dir, args.environment, load_manifest().root
        )
    if args.json:
        print(json.dumps(report, indent=2, default=str))
    else:
        print_summary(report, paths)
    return 0 if report["ok"] else int(report.get("exit_code", 1))
