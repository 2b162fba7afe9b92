"""Several environments on one endpoint: each run sees, verifies and removes only its own.

One `concert-platform engine serve` in a child process; two environments deployed to it with
`deploy`, then `e2e` for a third, all through `--engine localstack --endpoint-url` (the way
per-PR environments share one emulator). The third's name is a prefix of one neighbour's and a
suffix of the other's, so a lookup that takes the first answer of a listing, or a name scan
that matches part of a name, picks a neighbour's resource. The e2e must pass, and afterwards
every resource of both neighbours must still be there."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.served_engine import served_engine

from concert_platform.engines import create_engine
from concert_platform.manifest import load_manifest
from concert_platform.teardown import RETAINED_BY_DESIGN, confirm_gone, record_inventory

pytestmark = [pytest.mark.integration, pytest.mark.own_engine]
ROOT = Path(__file__).resolve().parents[2]
REGION = "us-east-1"
THIRD = "sh-qa"
#: the third's name is a prefix of the first's and a suffix of the second's
NEIGHBOURS = ("sh-qa7", "x-sh-qa")


def cli(*args: str, endpoint: str, timeout: int = 900) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "REDSHIFT_MASTER_PASSWORD": "Sup3rSecretPw"}
    env.pop("CONCERT_ENGINE", None)
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "concert_platform.cli",
            *args,
            "--engine",
            "localstack",
            "--endpoint-url",
            endpoint,
        ],
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
        check=False,
    )


def said(completed: subprocess.CompletedProcess[str]) -> str:
    return " ".join((completed.stdout + completed.stderr).split())[-3000:]


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A served embedded engine of this module's own, on a free loopback port."""
    if os.environ.get("CONCERT_ENGINE") == "aws":
        pytest.skip("deploys three environments to a served embedded engine, never to AWS")
    with served_engine(tmp_path_factory.mktemp("engine") / "serve.log", cwd=ROOT) as served:
        yield served


def test_e2e_of_a_third_environment_passes_and_leaves_its_neighbours_whole(
    endpoint: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # this test brings its own endpoint: a LocalStack's settings in the environment (as
    # tools/localstack-run exports them for the layer) would disagree with it
    for name in ("AWS_ENDPOINT_URL", "LOCALSTACK_HOST", "LOCALSTACK_ENDPOINT", "USE_SSL"):
        monkeypatch.delenv(name, raising=False)
    manifest = load_manifest()
    with create_engine("localstack", REGION, endpoint) as engine:
        try:
            for environment in NEIGHBOURS:
                deployed = cli("deploy", "--environment", environment, "--yes", endpoint=endpoint)
                assert deployed.returncode == 0, f"deploy {environment}: {said(deployed)}"
            neighbours = {
                environment: record_inventory(engine, manifest, environment) for environment in NEIGHBOURS
            }
            assert all(neighbours.values())

            completed = cli(
                "e2e",
                "--environment",
                THIRD,
                "--json",
                "--reports-dir",
                str(tmp_path / "reports"),
                endpoint=endpoint,
            )
            assert completed.stdout.strip(), said(completed)
            report = json.loads(completed.stdout)
            failures = [f"{f['phase']} {f['check']}: {f['reason']}" for f in report["failures"]]
            assert completed.returncode == 0 and report["ok"], f"e2e {THIRD} beside {NEIGHBOURS}: {failures}"
            assert report["resources"]["verified"] == report["resources"]["declared"] > 0
            assert report["teardown"]["clean"] and report["teardown"]["leftovers"] == []

            cfn = engine.client("cloudformation")
            for environment, inventory in neighbours.items():
                for spec in manifest.stacks:
                    name = manifest.stack_name(spec.key, environment)
                    status = cfn.describe_stacks(StackName=name)["Stacks"][0]["StackStatus"]
                    assert status in ("CREATE_COMPLETE", "UPDATE_COMPLETE"), (
                        f"{name} is {status} after e2e {THIRD}"
                    )
                # every resource the neighbour's stacks created, asked for through its own service
                remaining, _ = confirm_gone(engine, inventory)
                there = {
                    (row["stack"], row["logical_id"]) for row in remaining if row["detail"] == "still exists"
                }
                gone = [
                    f"{i.stack}/{i.logical_id} {i.type} {i.physical_id}"
                    for i in inventory
                    if i.type not in RETAINED_BY_DESIGN and (i.stack, i.logical_id) not in there
                ]
                assert gone == [], f"e2e {THIRD} removed (or could not find) {environment}'s {gone}"
        finally:
            destroyed = [cli("destroy", "--environment", e, "--yes", endpoint=endpoint) for e in NEIGHBOURS]
    assert [said(d) for d in destroyed if d.returncode != 0] == []
