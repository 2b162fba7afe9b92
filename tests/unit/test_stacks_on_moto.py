"""The six templates deploy in manifest order on moto (`mock_aws`, no server), and every
`Fn::ImportValue` resolves to an export an earlier stack of the same environment published."""

from __future__ import annotations

import re
from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws
from test_embedded_lifecycle import small_artifacts

from concert_platform.engines.base import Engine
from concert_platform.engines.moto_ext import register, stack_lifecycle
from concert_platform.manifest import load_cfn_yaml, load_manifest
from concert_platform.workflow import deploy_environment

ENVIRONMENT = "ut-moto"


class MockAwsEngine(Engine):
    """The tool's engine interface over moto's in-process mock (no HTTP server)."""

    name = "embedded"

    def _make_session(self) -> boto3.session.Session:
        return boto3.session.Session(
            aws_access_key_id="testing", aws_secret_access_key="testing", region_name=self.region
        )


@pytest.fixture(scope="module")
def deployed() -> Iterator[tuple[MockAwsEngine, dict]]:
    register()
    stack_lifecycle.apply()
    with mock_aws():
        engine = MockAwsEngine("us-east-1")
        report = deploy_environment(
            engine,
            load_manifest(),
            ENVIRONMENT,
            environ={"REDSHIFT_MASTER_PASSWORD": "Sup3rSecretPw"},
            interactive=False,
            artifacts=small_artifacts(),
        )
        yield engine, report


def test_the_six_stacks_are_created_in_manifest_order(deployed: tuple[MockAwsEngine, dict]) -> None:
    engine, report = deployed
    manifest = load_manifest()
    assert [s["name"] for s in report["stacks"]] == [
        manifest.stack_name(s.key, ENVIRONMENT) for s in manifest.stacks
    ]
    assert {s["status"] for s in report["stacks"]} == {"created"}
    cfn = engine.client("cloudformation")
    for stack in manifest.stacks:
        described = cfn.describe_stacks(StackName=manifest.stack_name(stack.key, ENVIRONMENT))["Stacks"][0]
        assert described["StackStatus"] == "CREATE_COMPLETE"


def _imports(node: object) -> Iterator[str]:
    if isinstance(node, dict):
        if "Fn::ImportValue" in node:
            value = node["Fn::ImportValue"]
            yield value["Fn::Sub"] if isinstance(value, dict) else value
        for child in node.values():
            yield from _imports(child)
    elif isinstance(node, list):
        for child in node:
            yield from _imports(child)


def test_every_import_resolves_to_an_earlier_stacks_export(deployed: tuple[MockAwsEngine, dict]) -> None:
    engine, _ = deployed
    manifest = load_manifest()
    cfn = engine.client("cloudformation")
    exports = {e["Name"]: e for e in cfn.list_exports()["Exports"]}
    position = {
        cfn.describe_stacks(StackName=manifest.stack_name(s.key, ENVIRONMENT))["Stacks"][0]["StackId"]: i
        for i, s in enumerate(manifest.stacks)
    }
    checked = 0
    for index, stack in enumerate(manifest.stacks):
        described = cfn.describe_stacks(StackName=manifest.stack_name(stack.key, ENVIRONMENT))["Stacks"][0]
        parameters = {p["ParameterKey"]: p["ParameterValue"] for p in described.get("Parameters", [])}
        template = load_cfn_yaml((manifest.root / "templates" / stack.template).read_text())
        for expression in _imports(template["Resources"]):
            name = re.sub(r"\$\{(\w+)\}", lambda m, values=parameters: values[m.group(1)], expression)
            assert name in exports, f"{stack.key} imports {name}, which no stack exports"
            assert position[exports[name]["ExportingStackId"]] < index, (
                f"{stack.key} imports {name} from a later stack"
            )
            checked += 1
    assert checked > 50  # the templates are wired through many imports, not a handful
