"""Application Auto Scaling: scalable targets and target-tracking policies (production only)."""

from __future__ import annotations

from typing import Any

from concert_platform.verify._base import Field, Resource, Table, VerifyContext, first, register
from concert_platform.verify._lifecycle import (
    Namer,
    Probe,
    Recorded,
    Remover,
    first_or_gone,
)


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


# ---- teardown: proving each resource gone, removing what a stack deletion left --------------


def _probe_scalable_target(c: Any, r: Recorded) -> str | None:
    namespace = str(r.properties.get("ServiceNamespace", "dynamodb"))
    resource_id = str(r.properties.get("ResourceId", r.physical_id.split("|")[0]))
    dimension = r.properties.get("ScalableDimension")
    targets = c("application-autoscaling").describe_scalable_targets(
        ServiceNamespace=namespace, ResourceIds=[resource_id]
    )["ScalableTargets"]
    first_or_gone(
        t
        for t in targets
        if t.get("ResourceId") == resource_id and dimension in (None, t.get("ScalableDimension"))
    )
    return None


def _probe_scaling_policy(c: Any, r: Recorded) -> str | None:
    namespace = str(r.properties.get("ServiceNamespace", "dynamodb"))
    policies = c("application-autoscaling").describe_scaling_policies(ServiceNamespace=namespace)[
        "ScalingPolicies"
    ]
    first_or_gone(p for p in policies if r.physical_id in (p["PolicyARN"], p["PolicyName"]))
    return None


def _deregister_target(c: Any, r: Recorded) -> Any:
    namespace = str(r.properties.get("ServiceNamespace", "dynamodb"))
    scaling = c("application-autoscaling")
    found = scaling.describe_scalable_targets(
        ServiceNamespace=namespace, ResourceIds=[str(r.properties.get("ResourceId"))]
    )["ScalableTargets"]
    for target in found:
        if target["ResourceId"] == r.properties.get("ResourceId") and target[
            "ScalableDimension"
        ] == r.properties.get("ScalableDimension", target["ScalableDimension"]):
            scaling.deregister_scalable_target(
                ServiceNamespace=namespace,
                ResourceId=target["ResourceId"],
                ScalableDimension=target["ScalableDimension"],
            )


def _delete_scaling_policy(c: Any, r: Recorded) -> Any:
    namespace = str(r.properties.get("ServiceNamespace", "dynamodb"))
    scaling = c("application-autoscaling")
    for policy in scaling.describe_scaling_policies(ServiceNamespace=namespace)["ScalingPolicies"]:
        if r.physical_id in (policy["PolicyARN"], policy["PolicyName"]):
            scaling.delete_scaling_policy(
                PolicyName=policy["PolicyName"],
                ServiceNamespace=namespace,
                ResourceId=policy["ResourceId"],
                ScalableDimension=policy["ScalableDimension"],
            )


#: type -> how to ask its service whether the resource still exists
PROBES: dict[str, Probe] = {
    "AWS::ApplicationAutoScaling::ScalableTarget": _probe_scalable_target,
    "AWS::ApplicationAutoScaling::ScalingPolicy": _probe_scaling_policy,
}

#: type -> how to delete one directly, for what a stack deletion left behind
REMOVERS: dict[str, Remover] = {
    "AWS::ApplicationAutoScaling::ScalableTarget": _deregister_target,
    "AWS::ApplicationAutoScaling::ScalingPolicy": _delete_scaling_policy,
}

#: what the name scan lists of this service: (kind, the names)
NAMES: tuple[tuple[str, Namer], ...] = ()
