"""IAM statements of a template (roles, users, groups, policies, managed policies; not KMS key
policies), read through `Values` so that `Fn::If` branches and `AWS::NoValue` are followed."""

from __future__ import annotations

import fnmatch
import functools
import json
from collections.abc import Iterator
from importlib.resources import files
from typing import Any

from concert_platform.policy.cfn import MISSING, Branch, Values, intrinsic
from concert_platform.policy.model import Template

# Actions granted on Resource "*" in practice though IAM lists a resource type for them (Lambda's
# VPC and X-Ray access, metrics); every action IAM lists without a resource type is allowed too
# (`wildcard_resource_only`).
RESOURCE_WILDCARD_ACTIONS = frozenset(
    a.lower()
    for a in (
        "xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules", "xray:GetSamplingTargets",
        "cloudwatch:PutMetricData", "ec2:CreateNetworkInterface", "ec2:DescribeNetworkInterfaces",
        "ec2:DeleteNetworkInterface", "ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses",
        "ecr:GetAuthorizationToken", "redshift-data:DescribeStatement", "redshift-data:GetStatementResult",
        "logs:DescribeLogGroups", "s3:ListAllMyBuckets",
    )
)  # fmt: skip


@functools.cache
def _resource_types() -> dict[str, dict[str, bool]]:
    """service -> action -> whether IAM authorises it on a narrower resource than "*", from the
    IAM service reference cfn-lint ships (`cfnlint/data/AdditionalSpecs/Policies.json`)."""
    text = files("cfnlint.data.AdditionalSpecs").joinpath("Policies.json").read_text()
    return {
        service.lower(): {
            action.lower(): bool(spec.get("Resources")) for action, spec in entry["Actions"].items()
        }
        for service, entry in json.loads(text).items()
        if isinstance(entry, dict) and isinstance(entry.get("Actions"), dict)
    }


def wildcard_resource_only(action: str) -> bool:
    """True when every action `action` names (`service:Name`, `service:Describe*`) can only be
    granted on Resource "*": IAM lists no resource type for it, or it is on our list above. An
    unknown service or action is not (it may have one)."""
    lowered = action.lower()
    if lowered in RESOURCE_WILDCARD_ACTIONS:
        return True
    service, _, name = lowered.partition(":")
    known = _resource_types().get(service)
    if not known or not name or name == "*":
        return False
    matched = [narrow for candidate, narrow in known.items() if fnmatch.fnmatchcase(candidate, name)]
    return bool(matched) and not any(matched)


IAM_TYPES = (
    "AWS::IAM::Role",
    "AWS::IAM::Policy",
    "AWS::IAM::ManagedPolicy",
    "AWS::IAM::User",
    "AWS::IAM::Group",
)
# AWS managed policies that grant every action (or every action but IAM) on every resource.
ADMIN_MANAGED_POLICIES = ("AdministratorAccess", "PowerUserAccess")


def iam_statements(template: Template) -> Iterator[tuple[str, Branch]]:
    """(logical id, statement branch) for every statement any branch of the template can hold."""
    values = template.values
    for logical_id, resource in template.resources(*IAM_TYPES):
        properties = template.properties(resource)
        documents = [
            Branch(d.value, p.conditions + d.conditions)
            for p in values.items(properties.get("Policies", MISSING))
            for d in values.get(p.value, "PolicyDocument")
        ]
        documents += values.get(properties, "PolicyDocument")
        for document in documents:
            for statement_list in values.get(document.value, "Statement"):
                for statement in values.items(statement_list.value):
                    if isinstance(statement.value, dict):
                        yield (
                            logical_id,
                            Branch(
                                statement.value,
                                document.conditions + statement_list.conditions + statement.conditions,
                            ),
                        )


def strings(values: Values, node: Any) -> list[tuple[str, Branch]]:
    """Each string an Action/Resource-like list can hold, with its branch (Fn::Sub text kept)."""
    found = []
    for item in values.items(node):
        value = values.resolve(item.value)
        fn = intrinsic(item.value)
        if isinstance(value, str):
            found.append((value, item))
        elif fn and fn[0] == "Fn::Sub":
            template_text = fn[1][0] if isinstance(fn[1], list) and fn[1] else fn[1]
            if isinstance(template_text, str):
                found.append((template_text, item))
    return found


def allows(values: Values, statement: dict[str, Any]) -> bool:
    effect = values.resolve(statement.get("Effect", "Allow"))
    return not (isinstance(effect, str) and effect.lower() == "deny")
