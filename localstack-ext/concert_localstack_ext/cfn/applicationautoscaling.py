"""Application Auto Scaling: AWS::ApplicationAutoScaling::ScalableTarget and ::ScalingPolicy
through the Application Auto Scaling API (community LocalStack has no such service; the
extension's service provider answers it)."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from ._base import ExtensionProvider, ResourceRequest, done, failed, is_not_found, schema


def _target_id(model: dict) -> str:
    """CloudFormation's id of a scalable target (what Ref answers and ScalingTargetId takes)."""
    return f"{model['ResourceId']}|{model['ScalableDimension']}|{model['ServiceNamespace']}"


class ScalableTargetProvider(ExtensionProvider):
    """RegisterScalableTarget creates and updates (capacities, role, suspended state) in place;
    DeregisterScalableTarget deletes. Ref is ``ResourceId|ScalableDimension|ServiceNamespace``."""

    TYPE = "AWS::ApplicationAutoScaling::ScalableTarget"
    SCHEMA = schema(
        TYPE,
        ["Id"],
        create_only=["ResourceId", "ScalableDimension", "ServiceNamespace"],
        read_only=["Id"],
    )

    def _register(self, request: ResourceRequest, model: dict) -> None:
        params: dict[str, Any] = {
            "ServiceNamespace": model["ServiceNamespace"],
            "ResourceId": model["ResourceId"],
            "ScalableDimension": model["ScalableDimension"],
            "MinCapacity": int(model["MinCapacity"]),
            "MaxCapacity": int(model["MaxCapacity"]),
        }
        if model.get("RoleARN"):
            params["RoleARN"] = model["RoleARN"]
        if model.get("SuspendedState"):
            params["SuspendedState"] = model["SuspendedState"]
        request.aws_client_factory.application_autoscaling.register_scalable_target(**params)

    def create(self, request: ResourceRequest):
        model = request.desired_state
        self._register(request, model)
        model["Id"] = _target_id(model)
        return done(model, request)

    def describe(self, request: ResourceRequest):
        model = request.desired_state
        found = request.aws_client_factory.application_autoscaling.describe_scalable_targets(
            ServiceNamespace=model["ServiceNamespace"],
            ResourceIds=[model["ResourceId"]],
            ScalableDimension=model["ScalableDimension"],
        )["ScalableTargets"]
        if not found:
            return None
        return {
            **model,
            "MinCapacity": found[0]["MinCapacity"],
            "MaxCapacity": found[0]["MaxCapacity"],
        }

    def update(self, request: ResourceRequest):
        model = {**request.desired_state, "Id": (request.previous_state or {}).get("Id")}
        self._register(request, model)
        model["Id"] = _target_id(model)
        return done(model, request)

    def delete(self, request: ResourceRequest):
        model = request.desired_state
        try:
            request.aws_client_factory.application_autoscaling.deregister_scalable_target(
                ServiceNamespace=model["ServiceNamespace"],
                ResourceId=model["ResourceId"],
                ScalableDimension=model["ScalableDimension"],
            )
        except ClientError as e:
            if not is_not_found(e):
                raise
        return done(model, request)


def _target_tracking(config: dict) -> dict[str, Any]:
    out = dict(config)
    out["TargetValue"] = float(out["TargetValue"])
    for key in ("ScaleInCooldown", "ScaleOutCooldown"):
        if key in out:
            out[key] = int(out[key])
    if "DisableScaleIn" in out and not isinstance(out["DisableScaleIn"], bool):
        out["DisableScaleIn"] = str(out["DisableScaleIn"]).lower() == "true"
    return out


class ScalingPolicyProvider(ExtensionProvider):
    """PutScalingPolicy creates and updates in place (the configuration); DeleteScalingPolicy.
    The target comes from ScalingTargetId (a ScalableTarget's Ref) or from ResourceId,
    ScalableDimension and ServiceNamespace. Ref and GetAtt Arn are the policy ARN."""

    TYPE = "AWS::ApplicationAutoScaling::ScalingPolicy"
    SCHEMA = schema(
        TYPE,
        ["Arn"],
        # ScalingTargetId is create-only in AWS's schema. It is left out here because LocalStack
        # counts a Ref to a target that was modified in place as a changed value, and would then
        # replace the policy: create the new one, then delete the old one -- which, with the same
        # name on the same target, is the new one. update() handles a real change of target.
        create_only=["PolicyName", "ResourceId", "ScalableDimension", "ServiceNamespace"],
        read_only=["Arn"],
    )

    @staticmethod
    def _target(model: dict) -> dict[str, str] | None:
        if model.get("ScalingTargetId"):
            parts = str(model["ScalingTargetId"]).split("|")
            if len(parts) != 3:
                return None
            resource_id, dimension, namespace = parts
        else:
            resource_id = model.get("ResourceId")
            dimension = model.get("ScalableDimension")
            namespace = model.get("ServiceNamespace")
            if not (resource_id and dimension and namespace):
                return None
        return {
            "ResourceId": resource_id,
            "ScalableDimension": dimension,
            "ServiceNamespace": namespace,
        }

    def _put(self, request: ResourceRequest, model: dict, target: dict[str, str]) -> str:
        params: dict[str, Any] = {
            "PolicyName": model["PolicyName"],
            "PolicyType": model["PolicyType"],
            **target,
        }
        if model.get("TargetTrackingScalingPolicyConfiguration"):
            params["TargetTrackingScalingPolicyConfiguration"] = _target_tracking(
                model["TargetTrackingScalingPolicyConfiguration"]
            )
        if model.get("StepScalingPolicyConfiguration"):
            params["StepScalingPolicyConfiguration"] = model["StepScalingPolicyConfiguration"]
        response = request.aws_client_factory.application_autoscaling.put_scaling_policy(**params)
        return str(response["PolicyARN"])

    def create(self, request: ResourceRequest):
        model = request.desired_state
        target = self._target(model)
        if target is None:
            return failed(
                f"{self.TYPE} {request.logical_resource_id}: give ScalingTargetId "
                "(resource|dimension|namespace) or ResourceId, ScalableDimension and ServiceNamespace"
            )
        model["Arn"] = self._put(request, model, target)
        return done(model, request)

    def describe(self, request: ResourceRequest):
        model = request.desired_state
        target = self._target(model) or {}
        found = request.aws_client_factory.application_autoscaling.describe_scaling_policies(
            ServiceNamespace=target["ServiceNamespace"], PolicyNames=[model["PolicyName"]]
        )["ScalingPolicies"]
        match = [p for p in found if p["PolicyARN"] == model["Arn"]]
        if not match:
            return None
        return {**model, "PolicyType": match[0]["PolicyType"]}

    def update(self, request: ResourceRequest):
        model = {**request.desired_state}
        target = self._target(model)
        if target is None:
            return failed(f"{self.TYPE} {request.logical_resource_id}: no scaling target")
        model["Arn"] = self._put(request, model, target)
        previous = request.previous_state or {}
        old_target = self._target(previous)
        if old_target and old_target != target:
            try:
                request.aws_client_factory.application_autoscaling.delete_scaling_policy(
                    PolicyName=previous["PolicyName"], **old_target
                )
            except ClientError as e:
                if not is_not_found(e):
                    raise
        return done(model, request)

    def delete(self, request: ResourceRequest):
        model = request.desired_state
        target = self._target(model)
        if target is None:
            return done(model, request)
        try:
            request.aws_client_factory.application_autoscaling.delete_scaling_policy(
                PolicyName=model["PolicyName"], **target
            )
        except ClientError as e:
            if not is_not_found(e):
                raise
        return done(model, request)
