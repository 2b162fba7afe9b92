"""Application Auto Scaling: scalable targets and target-tracking policies (production only)."""

from __future__ import annotations

from typing import Any

from concert_platform.verify._base import Field, Resource, Table, VerifyContext, first, register


def _target(ctx: VerifyContext, r: Resource) -> dict[str, Any]:
    # moto's physical id is "ResourceId|ScalableDimension|ServiceNamespace".
    resource_id, dimension, namespace = ([*r.physical_id.split("|"), "", "", ""])[:3]
    targets = ctx.client("application-autoscaling").describe_scalable_targets(
        ServiceNamespace=namespace or r.props.get("ServiceNamespace"),
        ResourceIds=[resource_id or r.props.get("ResourceId")],
    )["ScalableTargets"]
    return dict(
        first(
            targets,
            lambda t: (
                t["ResourceId"] == (resource_id or r.props.get("ResourceId"))
                and (not dimension or t["ScalableDimension"] == dimension)
            ),
            f"scalable target {r.physical_id}",
        )
    )


def _policy(ctx: VerifyContext, r: Resource) -> dict[str, Any]:
    namespace = str(r.props.get("ScalingTargetId", "")).split("|")[-1] or "dynamodb"
    policies = ctx.client("application-autoscaling").describe_scaling_policies(ServiceNamespace=namespace)[
        "ScalingPolicies"
    ]
    policy = dict(
        first(
            policies,
            lambda p: r.physical_id in (p["PolicyARN"], p["PolicyName"]),
            f"scaling policy {r.physical_id}",
        )
    )
    policy["ScalingTargetId"] = (
        f"{policy['ResourceId']}|{policy['ScalableDimension']}|{policy['ServiceNamespace']}"
    )
    return policy


register(
    Table(
        "AWS::ApplicationAutoScaling::ScalableTarget",
        _target,
        {
            "ServiceNamespace": Field("ServiceNamespace"),
            "ResourceId": Field("ResourceId"),
            "ScalableDimension": Field("ScalableDimension"),
            "MinCapacity": Field("MinCapacity"),
            "MaxCapacity": Field("MaxCapacity"),
        },
    ),
    Table(
        "AWS::ApplicationAutoScaling::ScalingPolicy",
        _policy,
        {
            "PolicyName": Field("PolicyName"),
            "PolicyType": Field("PolicyType"),
            # Write-only in the provider schema; the policy's target triple says it.
            "ScalingTargetId": Field("ScalingTargetId"),
            "TargetTrackingScalingPolicyConfiguration": Field("TargetTrackingScalingPolicyConfiguration"),
        },
    ),
)
