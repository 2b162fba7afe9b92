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
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from concert_platform.errors import ConcertPlatformError, UsageError
from concert_platform.outcome import describe_exception, teardown_remains

if TYPE_CHECKING:
    from concert_platform.target import Target


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
        "--keep",
        action="store_true",
        help="leave the stacks deployed (refused on an engine that ends with the run: embedded)",
    )
    parser.add_argument(
        "--adopt",
        action="store_true",
        help="take over an environment that already has stacks (it is updated, then deleted); "
        "never for a protected environment",
    )
    parser.add_argument(
        "--base",
        metavar="REF",
        help="test the update a merge makes: deploy git revision REF (its templates, handlers and "
        "manifest), write data, update every stack to the working tree, then verify and smoke; "
        "writes reports/update-review-ENV.{md,sarif} (docs/update-gate.md)",
    )
    parser.add_argument(
        "--reports-dir",
        type=Path,
        default=Path("reports"),
        help="where the reports go: e2e-ENGINE-ENV.json, .xml (JUnit) and .md (default: reports)",
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


PHASES = ("deploy", "post_deploy", "verify", "canaries", "smoke", "teardown")
#: the phases of `e2e --base REF`: the base revision is deployed, then updated
UPDATE_PHASES = ("deploy", "update", "post_deploy", "verify", "canaries", "smoke", "teardown")


class _Phases:
    """Times each phase, says when one starts, and turns whatever it raises into a failure of that
    phase. `Interrupted` (a signal) is not a failure of the phase: it passes through."""

    def __init__(self, report: dict[str, Any], console: Any = None, names: tuple[str, ...] = PHASES) -> None:
        self.report = report
        self.console = console
        self.seconds: dict[str, float | None] = dict.fromkeys(names)
        self.current: str | None = None
        self.last_error: BaseException | None = None
        self._beside: dict[str, threading.Event] = {}  # phase -> set when it has ended
        #: set when the run is interrupted: what runs beside the main thread winds up at once
        self.stopping = threading.Event()
        self.started_beside: set[str] = set()
        report["phases"] = self.seconds
        report["errors"] = []

    #: seconds between the lines that say a long phase is still running
    heartbeat_seconds = 10.0

    def run(self, phase: str, action: Callable[[], Any]) -> tuple[bool, Any]:
        self.current = phase  # before the line that says so: a signal right after it is this phase's
        return self._timed(phase, action)

    def beside(self, phase: str, action: Callable[[], Any], done: Callable[[Any], None]) -> None:
        """Start `phase` in a thread of its own while the caller goes on with the next phase: timed,
        announced and its failure reported as `run` does; `done(result)` receives what it returned
        when it did not fail. `join_beside` waits for it: before anything that must follow it, and
        always before the teardown (an interrupted run sets `stopping`, and the phase winds up and
        removes what it made). Signals reach only the main thread: `current` keeps naming the main
        thread's phase."""

        ended = threading.Event()

        def work() -> None:
            try:
                ok, result = self._timed(phase, action)
                if ok:
                    done(result)
            finally:
                ended.set()

        self._beside[phase] = ended
        self.started_beside.add(phase)
        threading.Thread(target=work, name=f"e2e-{phase}", daemon=True).start()

    def join_beside(self, during_current: bool = False) -> None:
        """Wait for every phase `beside` started; a signal while waiting is one during that phase
        (during the main thread's `current` phase with `during_current`: the teardown's wait)."""
        for phase, ended in list(self._beside.items()):
            if not during_current:
                self.current = phase
            # short waits on the phase's own flag: a signal is handled at once, not at the phase's
            # end (and Thread.join interrupted by a signal marks a running thread stopped)
            while not ended.wait(0.1):
                pass
            del self._beside[phase]

    def running_beside(self) -> list[str]:
        return [phase for phase, ended in self._beside.items() if not ended.is_set()]

    def _timed(self, phase: str, action: Callable[[], Any]) -> tuple[bool, Any]:
        started = time.monotonic()
        heartbeat = self._heartbeat(phase, started)
        try:
            if self.seconds[phase] is None and self.console is not None:
                self.console.print(f"e2e: {phase.replace('_', '-')} started", highlight=False)
            return True, action()
        except Exception as exc:  # every phase ends in the report, never in a traceback
            self.last_error = exc
            self.report["errors"].append({"phase": phase, "reason": describe_exception(exc)})
            return False, None
        finally:
            heartbeat.set()
            self.seconds[phase] = round((self.seconds[phase] or 0.0) + time.monotonic() - started, 3)

    def _heartbeat(self, phase: str, started: float) -> threading.Event:
        """A plain line every `heartbeat_seconds` while the phase runs (a cold layer build, a slow
        verify): a CI log never goes silent without saying which phase is running."""
        done = threading.Event()
        if self.console is None:
            return done
        before = self.seconds[phase] or 0.0

        def beat() -> None:
            while not done.wait(self.heartbeat_seconds):
                elapsed = before + time.monotonic() - started
                self.console.print(
                    f"e2e: {phase.replace('_', '-')} still running ({elapsed:.0f}s)", highlight=False
                )

        threading.Thread(target=beat, name=f"e2e-{phase}-heartbeat", daemon=True).start()
        return done


def tool_version() -> str:
    """This tool's version as installed (the package metadata), else the source's."""
    from importlib.metadata import PackageNotFoundError, version

    from concert_platform import __version__

    try:
        return version("concert-platform")
    except PackageNotFoundError:
        return __version__


def utc_now() -> str:
    from datetime import UTC, datetime

    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def run_e2e(
    engine_name: str,
    environment: str,
    region: str | None,
    endpoint_url: str | None,
    keep: bool,
    manifest: Any = None,
    artifacts: Any = None,
    handle_signals: bool = False,
    adopt: bool = False,
    base: str | None = None,
) -> dict[str, Any]:
    """The whole run (see `_run_e2e`). With `base` (a git revision) the run deploys that revision
    first and updates it to the working tree (concert_platform.update_gate); a revision git does
    not know, or a malformed acknowledgements file, is a UsageError before any engine starts.
    `region` None is every entry point's default (engines.default_region)."""
    from concert_platform.manifest import load_manifest

    manifest = manifest or load_manifest()
    update = _UpdateRun.prepare(base, manifest) if base else None
    try:
        return _run_e2e(
            engine_name,
            environment,
            region,
            endpoint_url,
            keep,
            manifest,
            artifacts,
            handle_signals,
            adopt,
            update,
        )
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
        from concert_platform.errors import UsageError
        from concert_platform.manifest import load_manifest
        from concert_platform.update_gate import export_base
        from concert_platform.update_review import load_acknowledgements

        acknowledgements = load_acknowledgements(manifest.root)  # a malformed file: exit 2 before anything
        base = export_base(ref, manifest.root)
        base_manifest = load_manifest(base.root)
        # the claim, the teardown and the leftover scan use the working tree's stack names: a base
        # with other stacks or another name pattern would deploy stacks this run never claims
        if base_manifest.keys != manifest.keys or base_manifest.name_pattern != manifest.name_pattern:
            base.remove()
            raise UsageError(
                f"--base {ref}: its stacks.yaml names other stacks ({', '.join(base_manifest.keys)}; "
                f"pattern {base_manifest.name_pattern}) than the working tree's "
                f"({', '.join(manifest.keys)}; pattern {manifest.name_pattern}); the update gate "
                "covers changes within the same stacks"
            )
        return cls(base, acknowledgements)


def _run_e2e(
    engine_name: str,
    environment: str,
    region: str | None,
    endpoint_url: str | None,
    keep: bool,
    manifest: Any,
    artifacts: Any,
    handle_signals: bool,
    adopt: bool,
    update: _UpdateRun | None,
) -> dict[str, Any]:
    """The whole run; never raises for a failure after the inputs were validated (UsageError before).

    It also raises UsageError, after starting the engine but before changing anything, for an
    environment it may not take over (concert_platform.ownership).

    With `handle_signals` (the CLI), SIGINT or SIGTERM at any phase ends the run as `interrupted`:
    what this run created is torn down (unless `keep`), and the report says what was left."""
    from contextlib import nullcontext, suppress

    from concert_platform.console import output_console
    from concert_platform.interrupt import Interrupted, SignalGuard
    from concert_platform.ownership import new_run_id, refuse_protected
    from concert_platform.target import prepare_target

    console = output_console(stderr=True)
    environ = dict(os.environ)
    environ.setdefault("REDSHIFT_MASTER_PASSWORD", ephemeral_password())

    def refuse_before_engine(manifest: Any) -> None:
        refuse_protected(manifest, environment, "run e2e against")
        check_inputs(manifest, environ)  # before the engine starts: they need none

    target = prepare_target(
        engine_name, environment, region, endpoint_url, manifest=manifest, before_engine=refuse_before_engine
    )
    engine, region = target.engine, target.region
    if keep and engine.capabilities.ephemeral:  # as the pytest plugin refuses --concert-keep
        raise UsageError(
            f"--keep: the {engine.name} engine ends with this run, so nothing can be kept; "
            "run `concert-platform engine serve` and pass --engine localstack --endpoint-url URL"
        )
    started = time.monotonic()
    run_id = new_run_id("e2e")
    report: dict[str, Any] = {
        "engine": engine_name,
        "environment": environment,
        "region": region,
        "run_id": run_id,
        "started_at": utc_now(),
        "tool_version": tool_version(),
        "engine_version": None,
        "verdict": None,
        "interrupted": None,
    }
    if update is not None:
        report["base"] = {"ref": update.base.ref, "commit": update.base.commit}
    phases = _Phases(report, console, UPDATE_PHASES if update is not None else PHASES)
    engine_started = False
    with SignalGuard() if handle_signals else nullcontext():
        try:
            try:
                engine.start()
                engine_started = True
            except (
                ConcertPlatformError
            ) as exc:  # unreachable or misconfigured: nothing ran, reports still written
                report["errors"].append({"phase": "deploy", "reason": f"engine {engine_name}: {exc}"})
                report["exit_code"] = exc.exit_code
                report["teardown"] = {"clean": None, "remaining": [], "leftovers": [], "not_run": True}
                report["not_run"] = dict.fromkeys(PHASES[:-1], "the engine never started")
            else:
                report["engine_version"] = engine.version()
                ownership = _claim(target, run_id, adopt)
                report["ownership"] = ownership.describe()
                _run_phases(target, keep, artifacts, environ, console, phases, ownership, update)
        except Interrupted as exc:  # while the engine started, or a second signal outside the teardown
            _record_interruption(report, phases, exc, during=phases.current or "engine start")
            if (
                engine_started and "teardown" not in report
            ):  # stopped before its teardown: say what may be there
                report["teardown"] = {
                    "clean": False,
                    "interrupted": True,
                    "remaining": [],
                    "leftovers": [],
                    "stack_failures": [],
                    "may_remain": may_remain(manifest, environment, None),
                }
            report.setdefault("teardown", {"clean": None, "remaining": [], "leftovers": [], "not_run": True})
        finally:
            with suppress(BaseException):  # a half-started engine too; a signal now ends nothing more
                engine.stop()
    report.setdefault("stacks", [])
    report.setdefault("post_deploy", [])
    report.setdefault(
        "resources", {"declared": 0, "verified": 0, "unverified": [], "cross_stack": [], "ran": False}
    )
    report.setdefault("smoke", {"passed": 0, "failed": 0, "checks": [], "ran": False})
    report.setdefault("iam", {"enforced": False, "denied": [], "unused": []})
    report.setdefault("canaries", {"ran": False, "passed": 0, "failed": 0, "skipped": 0, "results": []})
    report.setdefault("not_run", {})
    report.setdefault("not_finished", {})
    report["seconds"] = round(time.monotonic() - started, 3)
    report["finished_at"] = utc_now()
    report["failures"] = collect_failures(report)
    report["ok"] = not report["failures"]
    report["reason"] = one_line_reason(report["failures"])
    report["verdict"] = "interrupted" if report["interrupted"] else "passed" if report["ok"] else "failed"
    report["left"] = what_was_left(report, engine, manifest)
    return report


def _account_for_beside(report: dict[str, Any], phases: _Phases, first: Any) -> None:
    """After an interruption, a phase that ran beside the main thread (the canaries) ended after
    the interruption was recorded: it ran (not `not run`), and if the interruption cut a canary
    short (reported `skip`, "not finished"/"not run: the run was interrupted"), it is `not finished`."""
    if first is None or "canaries" not in phases.started_beside:
        return
    report.get("not_run", {}).pop("canaries", None)
    if phases.seconds.get("canaries") is None:  # a second signal stopped the wait for them
        report.setdefault("not_finished", {})["canaries"] = (
            f"interrupted by {first.signal_name}; still running when the run stopped"
        )
        return
    cut = [
        r
        for r in report.get("canaries", {}).get("results", [])
        if r.get("status") == "skip" and "the run was interrupted" in str(r.get("detail", ""))
    ]
    if cut or "canaries" not in report:
        report.setdefault("not_finished", {}).setdefault("canaries", f"interrupted by {first.signal_name}")


def _record_interruption(report: dict[str, Any], phases: _Phases, exc: Any, during: str) -> None:
    """The first signal decides the verdict and the exit code; a later one is noted beside it."""
    if report["interrupted"] is None:
        report["interrupted"] = {"signal": exc.signal_name, "phase": during, "exit_code": exc.exit_code}
        report["exit_code"] = exc.exit_code
        report["errors"].append(
            {
                "phase": during if during in PHASES else "deploy",
                "reason": f"interrupted by {exc.signal_name} during {during}",
            }
        )
    else:
        report["interrupted"]["again"] = f"{exc.signal_name} during {during}"
    first = report["interrupted"]
    not_run = report.setdefault("not_run", {})
    not_finished = report.setdefault("not_finished", {})
    if during in PHASES and during not in not_run:
        not_finished.setdefault(during, f"interrupted by {exc.signal_name}")
    for phase in PHASES[:-1]:  # the teardown still runs after the first signal, or says why not
        if phases.seconds[phase] is None and phase not in not_run:
            not_run[phase] = f"interrupted by {first['signal']} during {first['phase']}"


def check_inputs(manifest: Any, environ: dict[str, str]) -> None:
    """The deploy inputs from the environment, checked as the deploy will check them (UsageError)."""
    from concert_platform.inputs import resolve_inputs

    resolve_inputs(
        manifest.inputs_for(manifest.stacks), flags={}, file_values={}, environ=environ, interactive=False
    )


def _claim(target: Target, run_id: str, adopt: bool) -> Any:
    """Refuse (UsageError, nothing changed) an environment that already has stacks, unless adopted."""
    from concert_platform.ownership import claim_environment

    return claim_environment(target.reader, target.manifest, target.environment, run_id, adopt=adopt)


def _run_phases(
    target: Target,
    keep: bool,
    artifacts: Any,
    environ: dict[str, str],
    console: Any,
    phases: _Phases,
    ownership: Any,
    update: _UpdateRun | None = None,
) -> None:
    """Deploy (with post-deploy), verify, smoke, teardown on a started engine, into phases.report.
    With `update`, the deploy is the base revision's followed by the update to `manifest`.
    An interruption before the teardown still ends in the teardown (unless kept); a second one
    during the teardown ends it, and the report says what may remain."""
    from contextlib import suppress

    from concert_platform.interrupt import Interrupted, hold, release

    engine, manifest, environment = target.engine, target.manifest, target.environment
    report = phases.report
    first: Any = None
    try:
        _deploy_verify_smoke(target, artifacts, environ, console, phases, ownership, update)
    except Interrupted as exc:
        hold()  # a second signal waits until the teardown has begun (released below)
        first = exc
        phases.stopping.set()  # the canaries, if still running, end at their next wait
        _record_interruption(report, phases, exc, during=phases.current or "deploy")
    except BaseException:  # never an engine stop under a phase still running beside
        phases.stopping.set()
        with suppress(BaseException):
            phases.join_beside()
        raise
    if keep and not engine.capabilities.ephemeral:
        phases.join_beside(during_current=True)  # the canaries remove what they made
        _account_for_beside(report, phases, first)
        if first is not None and not report.get("stacks"):
            report["stacks"] = _stack_rows(target, phases)
        report["teardown"] = {"clean": None, "kept": True, "remaining": [], "leftovers": []}
        report.setdefault("not_run", {})["teardown"] = "kept (--keep)"
        release()  # a signal held meanwhile ends the run here, its teardown already said (kept)
        return
    record: dict[str, Any] = {}
    try:
        # From here a signal is one during the teardown, even while the first one's message prints.
        phases.current = "teardown"
        release()
        if first is not None:
            if not report.get("stacks"):
                report["stacks"] = _stack_rows(target, phases)
            waiting = phases.running_beside()
            console.print(
                f"e2e: interrupted by {first.signal_name} during {report['interrupted']['phase']}; "
                + (f"waiting for the {', '.join(waiting)} to remove what they made, then " if waiting else "")
                + "tearing down what this run created (a second Ctrl-C stops the teardown too)",
                soft_wrap=True,
            )
        phases.join_beside(during_current=True)
        _account_for_beside(report, phases, first)
        torn_ok, teardown = phases.run(
            "teardown",
            lambda: teardown_environment(target, console, record, ownership=ownership),
        )
    except Interrupted as exc:
        _record_interruption(report, phases, exc, during="teardown")
        _account_for_beside(report, phases, first)
        report.setdefault("stacks", [])
        remain = may_remain(manifest, environment, record.get("inventory"))
        if phases.running_beside():
            remain.append(
                f"the engine canaries' throwaway resources (concert-canary-*-{environment}): they were "
                "still running when the run stopped"
            )
        report["teardown"] = {
            "clean": False,
            "interrupted": True,
            "remaining": [],
            "leftovers": [],
            "stack_failures": [],
            "may_remain": remain,
        }
        return
    report["teardown"] = (
        teardown
        if torn_ok
        else {
            "clean": False,
            "remaining": [],
            "leftovers": [],
            "stack_failures": [],
            "failed": report["errors"][-1]["reason"],
            "may_remain": may_remain(manifest, environment, record.get("inventory")),
        }
    )


def _deploy_verify_smoke(
    target: Target,
    artifacts: Any,
    environ: dict[str, str],
    console: Any,
    phases: _Phases,
    ownership: Any,
    update: _UpdateRun | None = None,
) -> None:
    from concert_platform.canaries import run_canaries
    from concert_platform.execution_roles import iam_section
    from concert_platform.ownership import run_tags
    from concert_platform.smoke import run_smoke, start_cold_starts
    from concert_platform.verify import verify_environment
    from concert_platform.workflow import deploy_environment

    engine, manifest, environment = target.engine, target.manifest, target.environment
    report = phases.report

    def deploy(revision: Any, phase: str, load_sample: bool, change_sets: Any = None) -> tuple[bool, Any]:
        done, deployed = phases.run(
            phase,
            lambda: deploy_environment(
                engine,
                revision,
                environment,
                console=console,
                load_sample=load_sample,
                environ=environ,
                interactive=False,
                confirm=lambda _q: True,
                artifacts=artifacts if revision is manifest else None,
                tags=run_tags(ownership.run_id, "e2e"),
                ownership=ownership,
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
    if not deployed_ok:
        report["stacks"] = _stack_rows(target, phases)
        report["not_run"] = dict.fromkeys(("post_deploy", "verify", "canaries", "smoke"), "the deploy failed")
        return
    # the functions' execution environments boot in their own processes while verify runs
    cold_starts = start_cold_starts(engine, manifest, environment)
    # the engine proves the guarantees the smoke run relies on (concert_platform.canaries), with
    # throwaway resources of its own, beside verify (which reads only the platform's): most of a
    # canary's time is a wait on the engine (a function that must time out), not work here
    phases.beside(
        "canaries",
        lambda: run_canaries(engine, environment, stop=phases.stopping),
        lambda found: report.update(canaries=found),
    )
    verified_ok, resources = phases.run("verify", lambda: verify_environment(engine, manifest, environment))
    if verified_ok:
        report["resources"] = resources
    phases.join_beside()  # the smoke flows start only on an engine the canaries proved

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
        # the canaries' expected denials, apart from the platform's own calls
        report["iam"]["canary_denied"] = report.get("canaries", {}).get("denied", [])


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


def may_remain(manifest: Any, environment: str, inventory: Any) -> list[str]:
    """After a teardown that did not finish: the environment's stacks, and what they had created."""
    names = [f"stack {manifest.stack_name(spec.key, environment)}" for spec in manifest.stacks]
    return names + [
        f"{item.type} {item.physical_id} ({item.stack}/{item.logical_id})" for item in inventory or []
    ]


def destroy_command(report: dict[str, Any], engine: Any) -> str:
    """The exact command that removes what this run left."""
    parts = ["concert-platform", "destroy", "--engine", report["engine"]]
    if engine.endpoint_url:
        parts += ["--endpoint-url", engine.endpoint_url]
    parts += ["--environment", report["environment"], "--region", report["region"], "--yes"]
    return " ".join(parts)


def what_was_left(report: dict[str, Any], engine: Any, manifest: Any) -> dict[str, Any]:
    """What this run leaves behind on its engine, and how to remove it; nothing on the embedded
    engine, whose state ends with this process."""
    teardown = report.get("teardown", {})
    if engine.capabilities.ephemeral:
        return {"items": [], "note": "the embedded engine's state ended with this process: nothing is left"}
    if teardown.get("clean") or (teardown.get("not_run") and not report.get("stacks")):
        return {"items": [], "note": "nothing is left"}
    items = teardown_remains(teardown)
    if teardown.get("kept"):
        items = [
            f"stack {s['name']}"
            for s in report.get("stacks", [])
            if s.get("status") not in (None, "not deployed")
        ]
    return {"items": items, "destroy": destroy_command(report, engine)}


def _stack_rows(target: Target, phases: _Phases) -> list[dict[str, Any]]:
    """After a failed or interrupted deploy: what each stack is now (best effort, for the report).
    The stack the deploy rejected says so (never the engine's CREATE_COMPLETE), with the time the
    deploy spent on it; stacks deployed before it keep their times; others have none."""
    error = phases.last_error
    done = {row["key"]: row for row in getattr(error, "completed", None) or []}
    failed_key = getattr(error, "stack_key", None)
    rows: list[dict[str, Any]] = []
    try:
        for key, name in target.stack_names().items():
            if key in done:
                rows.append(done[key])
                continue
            stack = target.describe(key)
            status = stack["StackStatus"] if stack else "not deployed"
            if key == failed_key:
                status = f"failed (engine: {status})"
            seconds = getattr(error, "stack_seconds", None) if key == failed_key else None
            rows.append({"key": key, "name": name, "status": status, "seconds": seconds})
    except Exception:  # the engine may be the thing that broke; the error is already reported
        return rows
    return rows


def teardown_environment(
    target: Target,
    console: Any,
    record: dict[str, Any] | None = None,
    *,
    ownership: Any = None,
) -> dict[str, Any]:
    """Record what exists, destroy, then prove each recorded resource gone through its service.
    `record["inventory"]` holds what was recorded, for a caller whose teardown is cut short.

    With `ownership`, only the stacks this run created (or adopted) are deleted; another run's
    stack that appeared meanwhile is left in place and named as a failure."""
    from concert_platform.teardown import (
        RETAINED_BY_DESIGN,
        confirm_gone,
        find_leftovers,
        outlived_their_stacks,
        record_inventory,
        remove_and_confirm,
    )
    from concert_platform.workflow import destroy_environment

    engine, manifest, environment = target.engine, target.manifest, target.environment
    problems: list[str] = []
    only: list[str] | None = None
    foreign: list[dict[str, str]] = []
    if ownership is not None:
        from concert_platform.ownership import split_owned

        only, foreign = split_owned(target.reader, manifest.keys, ownership)
        problems += [item["reason"] for item in foreign]
    try:
        inventory = [
            item
            for item in record_inventory(engine, manifest, environment)
            if only is None or item.stack in only
        ]
        if record is not None:
            record["inventory"] = inventory
    except Exception as exc:  # still destroy what can be destroyed; the run cannot be called clean
        inventory = []
        problems.append(f"could not record what the stacks created: {describe_exception(exc)}")
    destroyed = (
        destroy_environment(engine, manifest, environment, console=console, only=only, ownership=ownership)
        if only is None or only
        else {"failures": [], "stacks": []}
    )
    problems += destroyed["failures"]
    remaining, confirmed = confirm_gone(engine, inventory)
    deleted = {row["key"] for row in destroyed["stacks"] if row["status"] == "deleted"}
    survived = outlived_their_stacks(inventory, remaining, deleted)
    # the engine's stack deletion left these: remove what can be removed, then ask again
    remaining, confirmed, removed_directly, not_removed = remove_and_confirm(
        engine, inventory, remaining, confirmed
    )
    problems += [f"not removable: {line}" for line in not_removed]
    still = {(row["stack"], row["logical_id"]) for row in remaining}
    for row in survived:  # the engine's fault (or the template's), whatever the direct removal did
        row["detail"] = "survived its stack's DELETE_COMPLETE; " + (
            "still there after a direct removal"
            if (row["stack"], row["logical_id"]) in still
            else "removed directly afterwards"
        )
    from concert_platform.leftovers import load_recorded, merge, save_recorded, still_there

    # an earlier unclean teardown's record (an adopted environment) stays until a destroy proves it gone
    earlier = [item for item in load_recorded(engine, environment) if item not in inventory]
    kept = save_recorded(engine, environment, merge(still_there(inventory, remaining), earlier))
    recorded_names = {item.physical_id for item in inventory} | {item["name"] for item in foreign}
    found = [
        item for item in find_leftovers(engine, environment) if item.split(": ", 1)[-1] not in recorded_names
    ]
    # a kind this engine cannot list is noted, not failed: the recorded resources were each asked for
    unlisted = [item for item in found if ": could not list (" in item]
    leftovers = [item for item in found if item not in unlisted]
    return {
        "clean": not remaining and not leftovers and not problems and not survived,
        "recorded": len(inventory),
        "confirmed_gone": confirmed,
        "removed_directly": removed_directly,
        "remaining": remaining,
        "survived": survived,
        "retained": [
            {"stack": i.stack, "logical_id": i.logical_id, "type": i.type, "why": RETAINED_BY_DESIGN[i.type]}
            for i in inventory
            if i.type in RETAINED_BY_DESIGN
        ]
        + [
            {
                "stack": i.stack,
                "logical_id": i.logical_id,
                "type": i.type,
                "why": f"DeletionPolicy: {i.deletion_policy} in the template (removed directly by the teardown)",
            }
            for i in inventory
            if i.deletion_policy in ("Retain", "RetainExceptOnCreate") and i.type not in RETAINED_BY_DESIGN
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
    from concert_platform import canaries

    failures += canaries.failures(report.get("canaries"))
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
    survived = teardown.get("survived", [])
    outlived = {(row["stack"], row["logical_id"]) for row in survived}
    failures += [
        {
            "phase": "teardown",
            "check": f"{row['stack']}/{row['logical_id']} ({row['type']})",
            "reason": f"{row['physical_id']}: {row['detail']}",
        }
        for row in survived
        + [r for r in teardown.get("remaining", []) if (r["stack"], r["logical_id"]) not in outlived]
    ]
    failures += [
        {"phase": "teardown", "check": "leftover", "reason": item} for item in teardown.get("leftovers", [])
    ]
    if teardown.get("interrupted") and teardown.get("clean") is False:
        failures.append(
            {
                "phase": "teardown",
                "check": "interrupted",
                "reason": "stopped by a signal; may remain: " + "; ".join(teardown.get("may_remain", [])),
            }
        )
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
        handle_signals=True,
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
