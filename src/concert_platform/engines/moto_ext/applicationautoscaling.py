"""Application Auto Scaling: ScalableTarget and ScalingPolicy (production DynamoDB capacity)."""

from __future__ import annotations

from typing import Any

from moto.applicationautoscaling import models as aas_models
from moto.core.common_models import CloudFormationModel

from concert_platform.engines.moto_ext._base import EmulatedResource


def _backend(account_id: str, region_name: str) -> Any:
    return aas_models.applicationautoscaling_backends[account_id][region_name]


class ScalableTarget(EmulatedResource, CloudFormationModel):
    CFN_TYPE = "AWS::ApplicationAutoScaling::ScalableTarget"

    def __init__(self, namespace: str, resource_id: str, dimension: str) -> None:
        self.namespace = namespace
        self.resource_id = resource_id
        self.dimension = dimension

    @property
    def physical_resource_id(self) -> str:
        return f"{self.resource_id}|{self.dimension}|{self.namespace}"

    @classmethod
    def create(
        cls, properties: dict[str, Any], account_id: str, region_name: str, logical_id: str
    ) -> ScalableTarget:
        _backend(account_id, region_name).register_scalable_target(
            properties["ServiceNamespace"], properties["ResourceId"], properties["ScalableDimension"],
            int(properties["MinCapacity"]), int(properties["MaxCapacity"]), properties.get("RoleARN", ""), None,
        )  # fmt: skip
        return cls(properties["ServiceNamespace"], properties["ResourceId"], properties["ScalableDimension"])

    def remove(self, account_id: str, region_name: str) -> None:
        _backend(account_id, region_name).deregister_scalable_target(
            self.namespace, self.resource_id, self.dimension
        )


class ScalingPolicy(EmulatedResource, CloudFormationModel):
    CFN_TYPE = "AWS::ApplicationAutoScaling::ScalingPolicy"

    def __init__(self, name: str, namespace: str, resource_id: str, dimension: str) -> None:
        self.name = name
        self.namespace = namespace
        self.resource_id = resource_id
        self.dimension = dimension

    @property
    def physical_resource_id(self) -> str:
        return self.name

    @classmethod
    def create(
        cls, properties: dict[str, Any], account_id: str, region_name: str, logical_id: str
    ) -> ScalingPolicy:
        resource_id, dimension, namespace = properties["ScalingTargetId"].split("|")
        config = properties.get("TargetTrackingScalingPolicyConfiguration", {})
        _backend(account_id, region_name).put_scaling_policy(
            properties["PolicyName"], namespace, resource_id, dimension,
            config, properties.get("PolicyType"),  # the body is the configuration itself, as on the wire
        )  # fmt: skip
        return cls(properties["PolicyName"], namespace, resource_id, dimension)

    def remove(self, account_id: str, region_name: str) -> None:
        _backend(account_id, region_name).delete_scaling_policy(
            self.name, self.namespace, self.resource_id, self.dimension
        )
