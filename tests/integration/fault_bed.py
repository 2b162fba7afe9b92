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
5. the rollback: every stack updated back to the working tree, then verified, then every alarm's
   window let pass on the engine's clock; the report's `rollback` says whether every declared
   resource verified again and no alarm of the bed is left in ALARM. A rollback short of that is
   this run's failure, and the next run deploys a fresh bed.

What it does not do, and where that is proven instead: the engine canaries run once, when the bed
is deployed (they prove the engine, not the platform); the teardown runs once, at the end of the
worker's session (proven clean there); a fault in `schema.sql` needs a fresh deploy (the warehouse
keeps its tables through an update), an engine fault needs an engine of its own, and a fault that
writes data or metrics that outlive it (items without their TTL attribute, a metric published
under another name) would leave them to the next fault run: those run a whole `e2e`
(test_broken_warehouse, test_engine_faults, test_broken_contracts).

The bed is an embedded engine in the worker's process, beside the pytest plugin's session engine
and the fresh engines of whole-e2e tests: moto's backends are the process's, so the bed's stacks
are apart from the others by their environment name (`bed-gw0`), as environments sharing one
LocalStack are. An engine that stops leaves the warehouse databases and the Lambda deliveries to
the engines still running (engines/embedded.py, moto_ext/lambda_runtime.py), and the bed's engine
takes the Lambda invocations only while the bed works (`lambda_runtime.bound`), so the session
engine's stay in its own runtime and IAM ledger between the bed's runs. After each rollback, time
passes as it would: every alarm's window on the engine's clock, and the items whose TTL is past
deleted, as DynamoDB does in time (the error processor's alert windows expire 10 minutes on). What a plant leaves
behind that the rollback's verify does not see shows as a failing check of a later fault run:
each test on the bed asserts the exact set of checks that fail, so such a leak turns it red.
"""

from __future__ import annotations

import itertools
import os
import time
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
        with self._bound():
            return self._deploy_bed()

    def _deploy_bed(self) -> dict[str, Any]:
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

    def _bound(self) -> Any:
        """The bed's engine takes the Lambda deliveries only while the bed works: between its runs,
        the invocations of the plugin's session engine (beside it in this process) stay that
        engine's (its runtime, its IAM ledger)."""
        from concert_platform.engines.moto_ext import lambda_runtime

        return lambda_runtime.bound(self.engine)

    def destroy(self) -> dict[str, Any]:
        with self._bound():
            return self._destroy_bed()

    def _destroy_bed(self) -> dict[str, Any]:
        """The bed's stacks deleted, as e2e's teardown does after settling the engine: begin_run
        waits for the log subscription deliveries and stops every function's environment, so
        nothing still running writes into a bucket emptied for its stack's deletion."""
        from concert_platform.workflow import destroy_environment

        self.engine.begin_run()
        return destroy_environment(self.engine, self._real(), self.environment)

    # ---- one fault ----------------------------------------------------------------------------
    def run(self, *plants: Plant) -> tuple[int, dict[str, Any]]:
        """Apply `plants` as an update, check as e2e does, roll back; (exit code as e2e's, report)."""
        with self._bound():
            return self._run(*plants)

    def _run(self, *plants: Plant) -> tuple[int, dict[str, Any]]:
        from concert_platform.e2e import collect_failures, one_line_reason
        from concert_platform.errors import DeployError
        from concert_platform.execution_roles import iam_section
        from concert_platform.manifest import _load, load_manifest
        from concert_platform.smoke import run_smoke
        from concert_platform.verify import verify_environment

        if self.fresh:
            destroyed = self._destroy_bed()
            assert not destroyed.get("failures"), f"the fault bed's teardown failed: {destroyed['failures']}"
            self._deploy_bed()
        self.fresh = True  # until a rollback proves the bed sound again, whatever this run raises
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
        change_sets: dict[str, Any] = {}
        try:
            self.engine.begin_run()
            updated = self._deploy(planted, change_sets, load_sample=False)
        except DeployError as exc:
            report["errors"].append({"phase": "update", "reason": str(exc)})
        else:
            report["post_deploy"] = updated["post_deploy"]
            report["resources"] = verify_environment(self.engine, planted, self.environment)
            report["smoke"] = run_smoke(self.engine, planted, self.environment)
            report["iam"] = iam_section(self.engine)
        finally:  # whatever the run raised, the bed is put back (or marked for a fresh deploy)
            report["rollback"] = self._roll_back()
        report["update"] = {
            key: sorted(
                change["ResourceChange"]["LogicalResourceId"]
                for change in described.get("Changes", [])
                if "ResourceChange" in change
            )
            for key, described in change_sets.items()
        }
        report["failures"] = collect_failures(report)
        if not report["rollback"]["clean"]:
            report["failures"].append(
                {"phase": "rollback", "check": "", "reason": "; ".join(report["rollback"]["unverified"])}
            )
        report["ok"] = not report["failures"]
        report["reason"] = one_line_reason(report["failures"])
        return (0 if report["ok"] else 1), report

    def _settle_alarms(self) -> list[str]:
        """After the rollback, every alarm's window goes by on the engine's clock, as time passes
        after a real deploy; then none of the bed's alarms may be in ALARM. An alarm the plant
        drove, or one the update pointed back at data published under the plant, would otherwise
        meet the next fault run in ALARM ("already in ALARM before the flow")."""
        cloudwatch = self.engine.client("cloudwatch")

        def ours() -> list[dict[str, Any]]:
            pages = cloudwatch.get_paginator("describe_alarms").paginate()
            suffix = f"-{self.environment}"
            return [a for page in pages for a in page["MetricAlarms"] if a["AlarmName"].endswith(suffix)]

        def window(alarm: dict[str, Any]) -> int:
            periods = [int(alarm.get("Period") or 0)]
            periods += [
                int(q["MetricStat"]["Period"]) for q in alarm.get("Metrics", []) if q.get("MetricStat")
            ]
            return max(periods) * int(alarm.get("EvaluationPeriods") or 1)

        alarms = ours()
        if not alarms:
            return ["the bed has no alarms: its monitoring stack is not what the working tree declares"]
        self.engine.advance_clock(max(window(a) for a in alarms) + 1)
        self.engine.evaluate_alarms()
        return [
            f"alarm {a['AlarmName']} still in ALARM after the rollback"
            for a in ours()
            if a["StateValue"] == "ALARM"
        ]

    def _expire_items(self) -> None:
        """What DynamoDB's TTL does in time, done now: the bed's items whose TTL attribute is past
        are deleted (moto never expires them). The error processor's alert windows, for one, expire
        10 minutes after each run; on a bed that lives longer, the next run's TTL contract would
        find them "already past". An item a plant writes with a past TTL is that run's finding
        (the contract runs in the run), not the next one's."""
        dynamodb = self.engine.client("dynamodb")
        now = time.time()
        for table in dynamodb.list_tables()["TableNames"]:
            if not table.endswith(f"-{self.environment}"):
                continue
            ttl = dynamodb.describe_time_to_live(TableName=table)["TimeToLiveDescription"]
            if ttl.get("TimeToLiveStatus") not in ("ENABLED", "ENABLING"):
                continue
            keys = [
                k["AttributeName"] for k in dynamodb.describe_table(TableName=table)["Table"]["KeySchema"]
            ]
            for page in dynamodb.get_paginator("scan").paginate(TableName=table):
                for item in page["Items"]:
                    value = item.get(ttl["AttributeName"], {}).get("N")
                    if value is not None and float(value) <= now:
                        dynamodb.delete_item(TableName=table, Key={k: item[k] for k in keys})

    def _roll_back(self) -> dict[str, Any]:
        """Every stack updated back to the working tree, every declared resource verified, and the
        bed's alarms settled (`_settle_alarms`); anything short of that marks the bed for a fresh
        deploy before the next run."""
        from concert_platform.verify import verify_environment

        try:
            real = self._real()
            self.engine.begin_run()
            self._deploy(real, {}, load_sample=False)
            resources = verify_environment(self.engine, real, self.environment)
        except Exception as exc:
            self.fresh = True
            return {"clean": False, "verified": 0, "unverified": [f"the update back failed: {exc}"]}
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
        try:
            unverified += self._settle_alarms()
            self._expire_items()
        except Exception as exc:
            unverified.append(f"the bed's alarms and items could not be settled: {exc}")
        self.fresh = bool(unverified)
        return {"clean": not unverified, "verified": resources["verified"], "unverified": unverified}
