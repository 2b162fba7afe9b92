"""Issue 20, item 1, as it was reproduced: on a served engine (what a shared LocalStack or an AWS
account is to the tool), `deploy --environment production --yes` and then `e2e --environment
production` deleted all six stacks. Now e2e exits 2 with one line and changes nothing, for a
protected environment and for any environment it did not create."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.served_engine import served_engine

pytestmark = [pytest.mark.integration, pytest.mark.own_engine]

CLI = [sys.executable, "-m", "concert_platform.cli"]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with served_engine(tmp_path_factory.mktemp("serve") / "serve.log") as endpoint:
        yield endpoint


def _cli(endpoint: str, *argv: str, reports: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "REDSHIFT_MASTER_PASSWORD": "Sup3rSecretPw", "CONCERT_ENGINE": "localstack"}
    env.pop("AWS_ENDPOINT_URL", None)
    command = [*CLI, *argv, "--engine", "localstack", "--endpoint-url", endpoint]
    if reports is not None:
        command += ["--reports-dir", str(reports)]
    return subprocess.run(
        command, capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL, timeout=600
    )


def _stacks(endpoint: str, environment: str) -> dict[str, tuple[str, str]]:
    shown = _cli(endpoint, "status", "--environment", environment, "--json")
    assert shown.returncode == 0, shown.stderr
    rows = json.loads(shown.stdout)
    rows = rows["stacks"] if isinstance(rows, dict) else rows
    return {
        row["name"]: (row["status"], str(row.get("last_updated") or row.get("updated") or "")) for row in rows
    }


@pytest.mark.parametrize("environment", ["production", "own7"])
def test_e2e_refuses_an_environment_it_did_not_create(served: str, environment: str, tmp_path: Path) -> None:
    deployed = _cli(served, "deploy", "--environment", environment, "--yes", "--only", "networking")
    assert deployed.returncode == 0, deployed.stderr[-2000:]
    before = _stacks(served, environment)
    assert any(status == "CREATE_COMPLETE" for status, _ in before.values())

    refused = _cli(served, "e2e", "--environment", environment, reports=tmp_path)
    assert refused.returncode == 2, refused.stderr[-2000:]
    line = refused.stderr.strip()
    assert len(line.splitlines()) == 1
    assert ("protected" in line) if environment == "production" else ("already exists" in line)
    assert _stacks(served, environment) == before  # nothing deleted, nothing updated
    assert not list(tmp_path.iterdir())  # no report claims a run that did not happen

    destroyed = _cli(served, "destroy", "--environment", environment, "--yes", "--only", "networking")
    assert destroyed.returncode == 0, destroyed.stderr[-2000:]
