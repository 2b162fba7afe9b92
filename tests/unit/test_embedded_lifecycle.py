"""The six real stacks on the embedded engine: deploy, redeploy, destroy, for two environments at once."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from concert_platform.engines.embedded import EmbeddedEngine
from concert_platform.manifest import load_manifest
from concert_platform.packaging import Artifact, handlers_entries
from concert_platform.teardown import find_leftovers
from concert_platform.workflow import deploy_environment, destroy_environment

ENVIRONMENTS = ("ut-one", "ut-two")


def small_artifacts() -> dict[str, Artifact]:
    """The real handlers package; the layers without vendored dependencies (no network in unit tests)."""
    manifest = load_manifest()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, path in handlers_entries(manifest.root):
            archive.write(path, name)
    handlers = buffer.getvalue()
    layer = io.BytesIO()
    with zipfile.ZipFile(layer, "w") as archive:
        archive.writestr("python/README.txt", "unit-test layer")
    return {
        "handlers_package": Artifact("handlers_package", "functions/api-handlers-unit.zip", handlers),
        "shared_layer_package": Artifact("shared_layer_package", "layers/shared-unit.zip", layer.getvalue()),
        "xray_sdk_layer_package": Artifact(
            "xray_sdk_layer_package", "layers/xray-unit.zip", layer.getvalue()
        ),
    }


@pytest.fixture(scope="module")
def engine() -> Iterator[EmbeddedEngine]:
    with EmbeddedEngine("us-east-1") as running:
        yield running


def deploy(engine: EmbeddedEngine, environment: str) -> dict:
    return deploy_environment(
        engine,
        load_manifest(),
        environment,
        environ={"REDSHIFT_MASTER_PASSWORD": "Sup3rSecretPw"},
        interactive=False,
        artifacts=small_artifacts(),
    )


def test_two_environments_deploy_redeploy_and_destroy_cleanly(engine: EmbeddedEngine) -> None:
    manifest = load_manifest()
    for environment in ENVIRONMENTS:
        report = deploy(engine, environment)
        assert [s["status"] for s in report["stacks"]] == ["created"] * 6
        assert all(step["ok"] for step in report["post_deploy"]), report["post_deploy"]
    again = deploy(engine, ENVIRONMENTS[0])
    assert [s["status"] for s in again["stacks"]] == ["no changes"] * 6
    assert again["ok"] and again["post_deploy"] == [], "a redeploy without changes runs no post-deploy step"
    for environment in ENVIRONMENTS:
        assert find_leftovers(engine, environment), "resources should exist before destroy"
        destroy_environment(engine, manifest, environment)
        assert find_leftovers(engine, environment) == []


def test_environment_names_do_not_match_each_other() -> None:
    from concert_platform.teardown import environment_matcher

    matches = environment_matcher("pr-1")
    assert matches("concert-raw-data-pr-1-123456789012")
    assert matches("/aws/lambda/concert-api-chatbot-pr-1")
    assert matches("concert_data_pr_1")
    assert not matches("concert-raw-data-pr-12-123456789012")
    assert not matches("concert-events-pr-1-2")


def template_types() -> set[str]:
    manifest = load_manifest()
    return {
        resource["Type"]
        for spec in manifest.stacks
        for resource in manifest.load_template(spec.key).get("Resources", {}).values()
    }


def test_every_type_the_templates_use_can_be_proven_gone_and_removed_directly() -> None:
    from concert_platform.teardown import PROBES, REMOVERS, RETAINED_BY_DESIGN

    types = template_types()
    assert sorted(types - set(PROBES) - set(RETAINED_BY_DESIGN)) == []
    # removed with their parent: methods with their resource, keys with their plan, a policy with its topic
    with_parent = {"AWS::ApiGateway::Method", "AWS::ApiGateway::UsagePlanKey", "AWS::SNS::TopicPolicy"}
    assert sorted(types - set(REMOVERS) - set(RETAINED_BY_DESIGN) - with_parent) == []


def test_teardown_inventory_confirms_each_resource_gone_through_its_service(engine: EmbeddedEngine) -> None:
    from concert_platform.teardown import RETAINED_BY_DESIGN, confirm_gone, record_inventory

    manifest = load_manifest()
    deploy_environment(
        engine,
        manifest,
        "ut-inv",
        only=["networking"],
        environ={"REDSHIFT_MASTER_PASSWORD": "Sup3rSecretPw"},
        interactive=False,
        artifacts=small_artifacts(),
    )
    inventory = record_inventory(engine, manifest, "ut-inv")
    assert len(inventory) == len(manifest.load_template("networking")["Resources"])
    remaining, _ = confirm_gone(engine, inventory)
    assert len(remaining) == len([i for i in inventory if i.type not in RETAINED_BY_DESIGN])
    assert {r["detail"] for r in remaining} == {"still exists"}
    destroyed = destroy_environment(engine, manifest, "ut-inv", only=["networking"])
    assert destroyed["ok"], destroyed["failures"]
    remaining, confirmed = confirm_gone(engine, inventory)
    assert remaining == [] and confirmed == len(inventory)


def test_a_type_the_engine_cannot_delete_ends_the_stack_delete_failed_naming_it(
    engine: EmbeddedEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    from moto.ec2.models.flow_logs import FlowLogs

    manifest = load_manifest()
    deploy_environment(
        engine,
        manifest,
        "ut-stuck",
        only=["networking"],
        environ={"REDSHIFT_MASTER_PASSWORD": "Sup3rSecretPw"},
        interactive=False,
        artifacts=small_artifacts(),
    )
    delete = FlowLogs.delete  # type: ignore[attr-defined]
    monkeypatch.delattr(FlowLogs, "delete")  # as moto 5.2.5 ships it: no delete at all
    destroyed = destroy_environment(engine, manifest, "ut-stuck", only=["networking"])
    assert not destroyed["ok"]
    (failure,) = destroyed["failures"]
    assert "DELETE_FAILED" in failure and "VpcFlowLog (AWS::EC2::FlowLog)" in failure
    assert "cannot delete AWS::EC2::FlowLog" in failure
    monkeypatch.setattr(FlowLogs, "delete", delete, raising=False)
    again = destroy_environment(engine, manifest, "ut-stuck", only=["networking"])
    assert again["ok"], again["failures"]
    assert find_leftovers(engine, "ut-stuck") == []


def test_begin_run_starts_a_runs_records_afresh_on_what_is_deployed(
    engine: EmbeddedEngine, tmp_path: Path
) -> None:
    """The fault bed's new run: a fresh runtime (every function cold again), role sessions, IAM
    ledger and filter errors; without it a planted fault's init failure or denial of one run was
    still reported by the next (a second smoke run on one deployment failed its runtime check)."""
    from concert_platform.engines import function_roles
    from concert_platform.engines.moto_ext.logs import FILTER_ERRORS

    runtime, ledger = engine.function_runtime(tmp_path), engine.iam_ledger()
    function_roles._RUNS[engine] = function_roles.RoleRuns(roles={"f": "arn:aws:iam::123456789012:role/r"})
    FILTER_ERRORS.append({"logGroup": "g", "filterName": "f", "error": "planted"})
    try:
        engine.begin_run()
        assert engine.function_runtime(tmp_path) is not runtime
        assert engine.iam_ledger() is not ledger
        assert function_roles.role_runs(engine) is None
        assert engine.unevaluated_filters() == []
    finally:
        FILTER_ERRORS.clear()


def test_an_engine_that_stops_leaves_the_others_of_its_process_their_warehouse_and_deliveries(
    engine: EmbeddedEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """moto's backends are the process's: a second embedded engine that stops (a whole-e2e test's,
    beside the plugin's session engine or the fault bed) closed every warehouse database and left
    the Lambda deliveries unbound, so the engine still running lost its tables and its alerts."""
    from concert_platform.engines.moto_ext import lambda_runtime, redshift_data

    closed: list[bool] = []
    monkeypatch.setattr(redshift_data, "close_databases", lambda: closed.append(True))
    lambda_runtime.bind(engine)
    with EmbeddedEngine("us-east-1") as second:
        assert lambda_runtime.bound_engine() is second
    assert lambda_runtime.bound_engine() is engine
    assert closed == [], "the databases were closed while another engine still runs"
    # the fault bed's engine takes the deliveries only for the length of its work
    with EmbeddedEngine("us-east-1") as bed:
        lambda_runtime.unbind(bed)
        assert lambda_runtime.bound_engine() is engine
        with lambda_runtime.bound(bed):
            assert lambda_runtime.bound_engine() is bed
        assert lambda_runtime.bound_engine() is engine
