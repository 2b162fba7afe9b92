"""A test run never takes over an environment it did not create (issue 20, item 1).

Before: `deploy --environment production --yes`, then `e2e --environment production` printed
"no changes", ran, and deleted all six stacks. Now e2e refuses a protected environment before
the engine starts, refuses an environment that already has stacks before anything changes
(unless --adopt), and teardown deletes only the stacks that carry this run's id or were adopted.
"""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from concert_platform.cli import main
from concert_platform.deploy import StackOperator
from concert_platform.engines.base import Engine
from concert_platform.errors import UsageError
from concert_platform.manifest import load_manifest, parse_manifest
from concert_platform.ownership import (
    RUN_TAG,
    Ownership,
    claim_environment,
    new_run_id,
    refuse_protected,
    split_owned,
)

_TEMPLATE = json.dumps({"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}})


def _create_stack(name: str, tags: dict[str, str]) -> None:
    boto3.client("cloudformation").create_stack(
        StackName=name, TemplateBody=_TEMPLATE, Tags=[{"Key": k, "Value": v} for k, v in tags.items()]
    )


def _stack_names() -> set[str]:
    return {s["StackName"] for s in boto3.client("cloudformation").describe_stacks()["Stacks"]}


@pytest.fixture
def operator(aws: None) -> StackOperator:
    return StackOperator(Engine("us-east-1"), load_manifest(), "qa1")


def test_an_environment_with_stacks_is_refused_and_left_as_it_was(operator: StackOperator) -> None:
    manifest = load_manifest()
    name = manifest.stack_name("networking", "qa1")
    _create_stack(name, {"concert-platform:created-by": "deploy"})
    with pytest.raises(UsageError) as caught:
        claim_environment(operator, manifest, "qa1", new_run_id("e2e"), adopt=False)
    message = str(caught.value)
    assert name in message and "CREATE_COMPLETE" in message
    assert "created by concert-platform deploy" in message
    assert "--adopt" in message and "\n" not in message
    assert _stack_names() == {name}


def test_adopting_names_what_was_adopted(operator: StackOperator) -> None:
    manifest = load_manifest()
    _create_stack(manifest.stack_name("networking", "qa1"), {RUN_TAG: "e2e-old"})
    ownership = claim_environment(operator, manifest, "qa1", "e2e-new", adopt=True)
    assert ownership.adopted == {"networking": "e2e-old"}
    owned, foreign = split_owned(operator, manifest.keys, ownership)
    assert "networking" in owned and foreign == []


def test_a_fresh_environment_is_claimed(operator: StackOperator) -> None:
    ownership = claim_environment(operator, load_manifest(), "qa1", "e2e-1", adopt=False)
    assert ownership.adopted == {}


def test_teardown_leaves_a_stack_another_run_created(operator: StackOperator) -> None:
    manifest = load_manifest()
    mine = manifest.stack_name("networking", "qa1")
    theirs = manifest.stack_name("storage", "qa1")
    untagged = manifest.stack_name("compute", "qa1")
    _create_stack(mine, {RUN_TAG: "e2e-mine"})
    _create_stack(theirs, {RUN_TAG: "e2e-theirs"})
    _create_stack(untagged, {})
    owned, foreign = split_owned(operator, manifest.keys, Ownership("e2e-mine"))
    assert "networking" in owned
    assert {item["key"] for item in foreign} == {"storage", "compute"}
    reasons = " ".join(item["reason"] for item in foreign)
    assert "e2e-theirs" in reasons and "(none)" in reasons and "left in place" in reasons


@pytest.mark.parametrize("environment", ["production", "prod-eu"])
def test_a_protected_environment_is_refused_on_every_engine(environment: str) -> None:
    data: dict[str, Any] = {
        "name_pattern": "p-{key}-{environment}",
        "protected_environments": ["production", "prod-eu"],
        "inputs": {},
        "artifacts": {"artifact_bucket_output": {"stack": "a", "output": "B"}},
        "stacks": [{"key": "a", "template": "a.yaml", "parameters": {}}],
    }
    manifest = parse_manifest(data, load_manifest().root)
    with pytest.raises(UsageError, match="protected"):
        refuse_protected(manifest, environment, "run e2e against")
    refuse_protected(manifest, "staging", "run e2e against")  # not protected: no error


def test_protected_environments_must_be_a_list_of_names() -> None:
    data: dict[str, Any] = {
        "name_pattern": "p-{key}-{environment}",
        "protected_environments": "production",
        "inputs": {},
        "artifacts": {"artifact_bucket_output": {"stack": "a", "output": "B"}},
        "stacks": [{"key": "a", "template": "a.yaml", "parameters": {}}],
    }
    with pytest.raises(UsageError, match="protected_environments must be a list"):
        parse_manifest(data, load_manifest().root)


@pytest.mark.parametrize("engine", ["embedded", "localstack", "aws"])
def test_e2e_against_production_exits_2_before_any_engine_starts(
    engine: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def must_not_start(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("an engine was created for a protected environment")

    monkeypatch.setattr("concert_platform.engines.create_engine", must_not_start)
    code = main(["e2e", "--engine", engine, "--environment", "production"])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert "protected" in err and len(err.splitlines()) == 1


def test_a_stack_that_appears_after_the_claim_is_neither_updated_nor_deleted(aws: None) -> None:
    """Review finding: ownership was checked at claim and teardown only; a stack created by
    someone else meanwhile was updated (its run tag overwritten) and then deleted."""
    from concert_platform.errors import DeployError

    manifest = load_manifest()
    ownership = Ownership("e2e-mine")
    operator = StackOperator(Engine("us-east-1"), manifest, "qa1", ownership=ownership)
    theirs = manifest.stack_name("networking", "qa1")
    _create_stack(theirs, {RUN_TAG: "e2e-theirs"})
    stack = operator.describe(theirs)
    with pytest.raises(DeployError, match=r"e2e-theirs.*refusing to update"):
        operator._require_owned("networking", theirs, stack, "update")
    with pytest.raises(DeployError, match="refusing to delete"):
        operator.destroy((manifest.stack("networking"),))
    assert _stack_names() == {theirs}
    # adopted, or created by this run: allowed
    StackOperator(Engine("us-east-1"), manifest, "qa1", ownership=Ownership("e2e-theirs")).destroy(
        (manifest.stack("networking"),)
    )
    assert boto3.client("cloudformation").describe_stacks()["Stacks"] == [] or all(
        s["StackStatus"] == "DELETE_COMPLETE"
        for s in boto3.client("cloudformation").describe_stacks()["Stacks"]
    )
