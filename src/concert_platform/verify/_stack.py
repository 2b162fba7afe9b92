"""The one reader of a deployed stack, shared by verification and teardown: its parameters,
outputs, physical ids and resource types as the engine reports them, the region's exports, and
the pseudo parameters a template's values resolve against."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from concert_platform.engines.base import Engine
from concert_platform.manifest import Manifest


@dataclass
class StackState:
    key: str
    name: str
    template: dict[str, Any]
    parameters: dict[str, str]
    outputs: dict[str, str]
    physical_ids: dict[str, str]
    stack_id: str
    reported_types: dict[str, str] = field(default_factory=dict)  # logical id -> the engine's type


def read_stack(engine: Engine, manifest: Manifest, key: str, environment: str) -> StackState | None:
    """The stack `key` of `environment` as deployed, or None when it is not deployed."""
    cfn = engine.client("cloudformation")
    name = manifest.stack_name(key, environment)
    try:
        stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
        summaries = [
            s
            for page in cfn.get_paginator("list_stack_resources").paginate(StackName=name)
            for s in page["StackResourceSummaries"]
        ]
    except ClientError:
        return None
    physical: dict[str, str] = {}
    types: dict[str, str] = {}
    for summary in summaries:
        if summary.get("LogicalResourceId") and summary.get("PhysicalResourceId"):
            physical[summary["LogicalResourceId"]] = summary["PhysicalResourceId"]
        if summary.get("LogicalResourceId") and summary.get("ResourceType"):
            types.setdefault(summary["LogicalResourceId"], summary["ResourceType"])
    return StackState(
        key=key,
        name=name,
        template=manifest.load_template(key),
        parameters={p["ParameterKey"]: p.get("ParameterValue", "") for p in stack.get("Parameters", [])},
        outputs={o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])},
        physical_ids=physical,
        stack_id=stack["StackId"],
        reported_types=types,
    )


def read_exports(engine: Engine) -> dict[str, str]:
    exports: dict[str, str] = {}
    for page in engine.client("cloudformation").get_paginator("list_exports").paginate():
        exports.update({e["Name"]: e["Value"] for e in page.get("Exports", [])})
    return exports


def pseudo_parameters(region: str, account: str, state: StackState) -> dict[str, str]:
    return {
        "AWS::Region": region,
        "AWS::AccountId": account,
        "AWS::StackName": state.name,
        "AWS::StackId": state.stack_id,
        "AWS::Partition": "aws",
        "AWS::URLSuffix": "amazonaws.com",
    }
