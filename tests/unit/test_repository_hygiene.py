"""Workflows pinned, images tagged, the compose file valid, and CI running what tox runs."""

from __future__ import annotations

import configparser
import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))


def test_every_action_is_pinned_to_a_commit() -> None:
    uses = [
        line.split("uses:", 1)[1].strip()
        for path in WORKFLOWS
        for line in path.read_text().splitlines()
        if "uses:" in line
    ]
    assert uses, "no actions found"
    for reference in uses:
        assert re.match(r"^[\w.-]+/[\w.-]+@[0-9a-f]{40}\s+#\s*v\d", reference), (
            f"not pinned to a SHA with its version: {reference}"
        )


def test_no_image_is_latest_or_untagged() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.localstack.yml").read_text())
    for name, service in compose["services"].items():
        image = re.sub(r"\$\{\w+:-([^}]+)\}", r"\1", service["image"])
        assert ":" in image and not image.endswith(":latest"), f"{name}: {service['image']}"
    for path in WORKFLOWS:
        assert ":latest" not in path.read_text()


def test_compose_file_follows_the_compose_specification() -> None:
    from check_jsonschema.cli.main_command import main as check_jsonschema

    result = check_jsonschema(
        ["--builtin-schema", "vendor.compose-spec", str(ROOT / "docker-compose.localstack.yml")],
        standalone_mode=False,
    )
    assert result in (0, None), "docker-compose.localstack.yml does not follow the Compose specification"


def test_pull_request_workflow_runs_every_gating_tox_environment() -> None:
    tox = configparser.ConfigParser()
    tox.read(ROOT / "tox.ini")
    gated = {env.strip() for env in tox["tox"]["env_list"].split(",")}
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "pull-request.yml").read_text())
    layers = set(workflow["jobs"]["gate"]["strategy"]["matrix"]["layer"])
    assert layers == gated
    assert "localstack-e2e" in workflow["jobs"]
