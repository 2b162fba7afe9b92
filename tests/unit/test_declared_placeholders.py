"""The deploy-time check of what a stack declared: a resource the engine reports with the
placeholder physical id `unknown` (LocalStack community's answer for a type it has no provider
for) counts as not created, and the complaint names its logical id and type."""

from __future__ import annotations

from typing import Any

import pytest

from concert_platform.declared import missing_declared, require_declared
from concert_platform.engines.base import Engine
from concert_platform.manifest import load_manifest


class _Paginator:
    def __init__(self, summaries: list[dict[str, Any]]) -> None:
        self.summaries = summaries

    def paginate(self, **_: Any) -> list[dict[str, Any]]:
        return [{"StackResourceSummaries": self.summaries}]


class _CloudFormation:
    """Answers DescribeStacks and ListStackResources as an engine would after a CREATE_COMPLETE."""

    def __init__(self, template: dict[str, Any], physical_ids: dict[str, str]) -> None:
        self.template = template
        self.physical_ids = physical_ids

    def describe_stacks(self, StackName: str) -> dict[str, Any]:
        return {
            "Stacks": [
                {
                    "StackName": StackName,
                    "Parameters": [{"ParameterKey": "Environment", "ParameterValue": "unit"}],
                    "Outputs": [
                        {"OutputKey": k, "OutputValue": "value"} for k in self.template.get("Outputs", {})
                    ],
                }
            ]
        }

    def get_paginator(self, _name: str) -> _Paginator:
        return _Paginator(
            [
                {
                    "LogicalResourceId": logical_id,
                    "ResourceType": resource["Type"],
                    "PhysicalResourceId": self.physical_ids.get(logical_id, f"id-{logical_id.lower()}"),
                }
                for logical_id, resource in self.template["Resources"].items()
            ]
        )


class _Engine(Engine):
    name = "localstack"

    def __init__(self, cfn: _CloudFormation) -> None:
        super().__init__("us-east-1")
        self.cfn = cfn

    def client(self, service: str) -> Any:
        assert service == "cloudformation"
        return self.cfn


@pytest.fixture
def networking() -> tuple[Any, dict[str, Any]]:
    manifest = load_manifest()
    return manifest, manifest.load_template("networking")


def test_every_resource_with_a_real_physical_id_passes(networking: tuple[Any, dict[str, Any]]) -> None:
    manifest, template = networking
    engine = _Engine(_CloudFormation(template, {}))
    assert missing_declared(engine, manifest, "networking", "stack-unit") == []


def test_a_placeholder_physical_id_fails_the_stack_naming_logical_id_and_type(
    networking: tuple[Any, dict[str, Any]],
) -> None:
    manifest, template = networking
    assert template["Resources"]["VpcFlowLog"]["Type"] == "AWS::EC2::FlowLog"
    assert template["Resources"]["LambdaHttpsEgress"]["Type"] == "AWS::EC2::SecurityGroupEgress"
    engine = _Engine(_CloudFormation(template, {"VpcFlowLog": "unknown", "LambdaHttpsEgress": "unknown"}))
    complaint = require_declared(engine, manifest, "networking", "stack-unit", "CREATE_COMPLETE")
    assert complaint is not None
    assert complaint.startswith("engine localstack reported stack stack-unit CREATE_COMPLETE, but 2 declared")
    assert (
        "declared resource VpcFlowLog (AWS::EC2::FlowLog) was not created: the engine reports the "
        "placeholder physical id 'unknown' (it has no provider for AWS::EC2::FlowLog)"
    ) in complaint
    assert "LambdaHttpsEgress (AWS::EC2::SecurityGroupEgress) was not created" in complaint


def test_a_physical_id_that_merely_contains_unknown_is_not_a_placeholder(
    networking: tuple[Any, dict[str, Any]],
) -> None:
    manifest, template = networking
    engine = _Engine(_CloudFormation(template, {"VpcFlowLog": "fl-unknown0123"}))
    assert missing_declared(engine, manifest, "networking", "stack-unit") == []
