"""The fault bed (issue 22, item 4): one deployment of the working tree per test worker, to which
each planted fault is applied as an update, and from which it is rolled back, instead of the whole
platform deployed, checked and destroyed again for each fault.

A fault run, `FaultBed.run(*plants)`:
1. a copy of the project with the plants (`copy_project`), its manifest and artifacts;
2. `engine.begin_run()`: every function's execution environment stopped (the next invocation is a
   cold start), the runtime's records, role sessions, IAM ledger and filter errors afresh;
3. every stack updated to the copy through change sets, in manifest order, as `e2e --base` updates
   a platform (a stack the fault does not touch is "no changes"); what each change set changed is
   in the report's `update`;
4. what `e2e` checks after its deploy: verify, the smoke flows, the IAM section; the verdict by the
   e2e's own `collect_failures`;
5. the rollback: every stack updated back to the working tree, then verified; the report's
   `rollback` says whether every declared resource verified again. A rollback that did not is
   this run's failure, and the next run deploys a fresh bed.

What it does not do, and where that is proven instead: the engine canaries run once, when the bed
is deployed (they prove the engine, not the platform); the teardown runs once, at the end of the
worker's session (proven clean there); a fault in `schema.sql` needs a fresh deploy (the warehouse
keeps its tables through an update), and an engine fault needs an engine of its own: those run a
whole `e2e` (test_broken_warehouse, test_engine_faults).
"""

from __future__ import annotations

import itertools
import os
from pathlib import Path
from typing import Any

from tests.integration.conftest import LAYER_CACHE, PLANTED_PASSWORD, ROOT, Plant, copy_project

ENVIRON = {"REDSHIFT_MASTER_PASSWORD": PLANTED_PASSWORD}


def bed_environment() -> str:
    """`bed-gw0` for xdist's first worker, `bed` without xdist (an Environment slug)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    return f"bed-{worker}" if worker else "bed"


class FaultBed:
    def __init__(self, engine: Any, scratch: Path) -> None:
        self.engine, self.scratch = engine, scratch
        self.environment = bed_environment()
        self._copies = itertools.count(1)
        self.fresh = False  # a rollback that did not verify: the next run deploys afresh
        self.runs = 0

    # ---- the working tree's platform --------------------------------------------------------
    def _real(self) -> Any:
        from concert_platform.manifest import load_manifest

        return load_manifest(ROOT)

    def _deploy(self, manifest: Any, change_sets: dict[str, Any] | None, load_sample: bool) -> dict[str, Any]:
        from concert_platform.packaging import build_artifacts
        from concert_platform.workflow import deploy_environment

        return deploy_environment(
            self.engine,
            manifest,
            self.environment,
            environ=ENVIRON,
            interactive=False,
            artifacts=build_artifacts(manifest, cache_dir=LAYER_CACHE),
            load_sample=load_sample,
            change_sets=change_sets,
        )

    def deploy(self) -> dict[str, Any]:
        """The working tree with the sample data, and the engine canaries once; raises when either
        fails (no fault run on a bed that is not sound)."""
        from concert_platform import canaries

        real = self._real()
        deployed = self._deploy(real, None, load_sample=True)
        failed = [step for step in deployed["post_deploy"] if not step["ok"]]
        assert not failed, f"the fault bed's post-deploy steps failed: {failed}"
        proven = canaries.failures(canaries.run_canaries(self.engine, self.environment))
        assert not proven, f"the fault bed's engine canaries failed: {proven}"
        return deployed

    def destroy(self) -> dict[str, Any]:
        from concert_platform.workflow import destroy_environment

        return destroy_environment(self.engine, self._real(), self.environment)

    # ---- one fault ----------------------------------------------------------------------------
    def run(self, *plants: Plant) -> tuple[int, dict[str, Any]]:
        """Apply `plants` as an update, check as e2e does, roll back; (exit code as e2e's, report)."""
        from concert_platform.e2e import collect_failures, one_line_reason
        from concert_platform.errors import DeployError
        from concert_platform.execution_roles import iam_section
        from concert_platform.manifest import _load, load_manifest
        from concert_platform.smoke import run_smoke
        from concert_platform.verify import verify_environment

        if self.fresh:
            self.destroy()
            self.deploy()
            self.fresh = False
        self.runs += 1
        root = self.scratch / f"plant-{next(self._copies)}"
        edit = copy_project(root)
        for relative, old, new in plants:
            edit(relative, old, new)
        _load.cache_clear()
        planted = load_manifest(root)
        report: dict[str, Any] = {
            "environment": self.environment,
            "errors": [],
            "post_deploy": [],
            "resources": {"unverified": [], "cross_stack": []},
            "smoke": {"checks": [], "ran": False},
            "iam": None,
            "update": {},
        }
        self.engine.begin_run()
        change_sets: dict[str, Any] = {}
        try:
            updated = self._deploy(planted, change_sets, load_sample=False)
        except DeployError as exc:
            report["errors"].append({"phase": "update", "reason": str(exc)})
        else:
            report["post_deploy"] = updated["post_deploy"]
            report["resources"] = verify_environment(self.engine, planted, self.environment)
            report["smoke"] = run_smoke(self.engine, planted, self.environment)
            report["iam"] = iam_section(self.engine)
        report["update"] = {
            key: sorted(
                change["ResourceChange"]["LogicalResourceId"]
                for change in described.get("Changes", [])
                if "ResourceChange" in change
            )
            for key, described in change_sets.items()
        }
        report["failures"] = collect_failures(report)
        report["ok"] = not report["failures"]
        report["reason"] = one_line_reason(report["failures"])
        report["rollback"] = self._roll_back()
        if not report["rollback"]["clean"]:
            report["failures"].append(
                {"phase": "rollback", "check": "", "reason": "; ".join(report["rollback"]["unverified"])}
            )
            report["ok"] = False
        return (0 if report["ok"] else 1), report

    def _roll_back(self) -> dict[str, Any]:
        """Every stack updated back to the working tree, then every declared resource verified."""
        from concert_platform.errors import DeployError
        from concert_platform.verify import verify_environment

        real = self._real()
        self.engine.begin_run()
        try:
            self._deploy(real, {}, load_sample=False)
        except DeployError as exc:
            self.fresh = True
            return {"clean": False, "verified": 0, "unverified": [f"the update back failed: {exc}"]}
        resources = verify_environment(self.engine, real, self.environment)
        unverified = [
            f"{item['stack']}/{item['logical_id']}: {item['reason']}"
            for item in resources["unverified"]
            if not item.get("exempt")
        ]
        unverified += [
            f"{item['stack']} {item['name']}: {item['detail']}"
            for item in resources["cross_stack"]
            if not item["ok"]
        ]
        self.fresh = bool(unverified)
        return {"clean": not unverified, "verified": resources["verified"], "unverified": unverified}
