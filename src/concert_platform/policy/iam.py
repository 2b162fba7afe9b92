"""IAM statements of a template (roles, policies, managed policies; not KMS key policies)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from concert_platform.policy.cfn import as_list
from concert_platform.policy.model import Template

# Actions AWS authorises only on Resource "*" (no resource-level permissions).
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


def iam_statements(template: Template) -> Iterator[tuple[str, dict[str, Any]]]:
    for logical_id, resource in template.resources(
        "AWS::IAM::Role", "AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"
    ):
        properties = resource.get("Properties", {})
        documents = [
            p.get("PolicyDocument", {})
            for p in as_list(properties.get("Policies", []))
            if isinstance(p, dict)
        ]
        if "PolicyDocument" in properties:
            documents.append(properties["PolicyDocument"])
        for document in documents:
            for statement in as_list(document.get("Statement", []) if isinstance(document, dict) else []):
                if isinstance(statement, dict):
                    yield logical_id, statement
