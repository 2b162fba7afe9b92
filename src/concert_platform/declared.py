"""What a stack declared against what the engine says it created.

An engine can report a stack CREATE_COMPLETE while silently creating nothing for types it does
not support (raw moto; LocalStack's community edition "deploys them as fallback"). Checked right
after each stack completes, so the run stops there with the engine, stack, logical ids and types
named, instead of failing later on a missing output with a misleading message.
"""

from __future__ import annotations

from botocore.exceptions import ClientError

from concert_platform.engines.base import Engine
from concert_platform.manifest import Manifest
from concert_platform.resolve import Resolver

# Physical ids an engine answers for a resource it did not create. LocalStack's community
# edition marks a type it has no CloudFormation provider for CREATE_COMPLETE with the physical id
# "unknown" (its MOCKED_REFERENCE); anything that refers to it then gets "unknown" too.
PLACEHOLDER_PHYSICAL_IDS = frozenset({"unknown"})


def missing_declared(engine: Engine, manifest: Manifest, key: str, name: str) -> list[str]:
    """One phrase per declared (condition-enabled) resource or output the engine does not show."""
    cfn = engine.client("cloudformation")
    try:
        stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
        summaries = [
            s
            for page in cfn.get_paginator("list_stack_resources").paginate(StackName=name)
            for s in page["StackResourceSummaries"]
        ]
    except ClientError as exc:
        return [f"the stack cannot be described ({exc.response.get('Error', {}).get('Code')})"]
    template = manifest.load_template(key)
    present = {
        s["LogicalResourceId"]
        for s in summaries
        if s.get("LogicalResourceId") and s.get("PhysicalResourceId")
    }
    placeholders = {
        s["LogicalResourceId"]: s["PhysicalResourceId"]
        for s in summaries
        if s.get("LogicalResourceId") in present and s["PhysicalResourceId"] in PLACEHOLDER_PHYSICAL_IDS
    }
    # conditions only depend on parameters and pseudo parameters here
    resolver = Resolver(
        template,
        {p["ParameterKey"]: p.get("ParameterValue", "") for p in stack.get("Parameters", [])},
        {"AWS::Region": engine.region, "AWS::StackName": name, "AWS::Partition": "aws"},
        {},
        {},
    )
    problems = []
    for logical_id, resource in template.get("Resources", {}).items():
        if not resolver.resource_enabled(resource):
            continue
        kind = resource.get("Type", "?")
        if logical_id not in present:
            problems.append(f"declared resource {logical_id} ({kind}) does not exist")
        elif logical_id in placeholders:
            problems.append(
                f"declared resource {logical_id} ({kind}) was not created: the engine reports the "
                f"placeholder physical id {placeholders[logical_id]!r} (it has no provider for {kind})"
            )
    outputs = {o["OutputKey"] for o in stack.get("Outputs", []) if o.get("OutputValue")}
    problems += [
        f"declared output {output_key} is missing"
        for output_key, output in template.get("Outputs", {}).items()
        if resolver.resource_enabled(output) and output_key not in outputs
    ]
    return problems


def require_declared(engine: Engine, manifest: Manifest, key: str, name: str, status: str) -> str | None:
    """None when every declared resource and output exists, else the one-line complaint."""
    problems = missing_declared(engine, manifest, key, name)
    if not problems:
        return None
    # every item, never "and N more": the reports carry this line whole
    return (
        f"engine {engine.name} reported stack {name} {status}, but {len(problems)} declared "
        f"item(s) are not there: {'; '.join(problems)}"
    )
