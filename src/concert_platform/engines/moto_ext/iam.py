"""IAM: roles created by CloudFormation get their ManagedPolicyArns attached (moto ignores them), and an
update applies the template's inline and managed policies (moto's update keeps the old ones).

AWS-managed policies exist only when moto loads them (MOTO_IAM_LOAD_MANAGED_POLICIES, set by
register()); attaching one that does not exist fails the resource, as on AWS."""

from __future__ import annotations

import json
from typing import Any

from moto.iam import models as iam_models
from moto.utilities.utils import get_partition

from concert_platform.engines.moto_ext._base import after_cloudformation_create


def patch_role_model() -> None:
    role_cls = iam_models.Role

    def attach_policies(role: Any, properties: dict[str, Any], account_id: str, region_name: str) -> None:
        backend = iam_models.iam_backends[account_id][get_partition(region_name)]
        # moto keeps inline policies given as template objects as objects and answers
        # GetRolePolicy with their Python repr; AWS keeps (and returns) JSON text.
        for policy in properties.get("Policies", []):
            document = policy["PolicyDocument"]
            role.put_policy(
                policy["PolicyName"], document if isinstance(document, str) else json.dumps(document)
            )
        for arn in properties.get("ManagedPolicyArns", []):
            backend.attach_role_policy(arn, role.name)

    original_delete = role_cls.delete_from_cloudformation_json.__func__  # type: ignore[attr-defined]

    def delete_from_cloudformation_json(
        cls: Any, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str
    ) -> None:
        # CloudFormation detaches the managed policies it attached before deleting the role.
        backend = iam_models.iam_backends[account_id][get_partition(region_name)]
        for role in backend.roles.values():
            if role.name == resource_name:
                for arn in list(role.managed_policies):
                    backend.detach_role_policy(arn, role.name)
        original_delete(cls, resource_name, cloudformation_json, account_id, region_name)

    after_cloudformation_create(role_cls, attach_policies)
    original_update = role_cls.update_from_cloudformation_json.__func__  # type: ignore[attr-defined]

    def update_from_cloudformation_json(
        cls: Any, original_resource: Any, new_resource_name: str, cloudformation_json: Any,
        account_id: str, region_name: str,
    ) -> Any:  # fmt: skip
        role = original_update(
            cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name
        )
        properties = cloudformation_json.get("Properties", {})
        backend = iam_models.iam_backends[account_id][get_partition(region_name)]
        wanted = {policy["PolicyName"] for policy in properties.get("Policies", [])}
        for name in [name for name in role.policies if name not in wanted]:
            role.delete_policy(name)
        for arn in [
            arn for arn in role.managed_policies if arn not in properties.get("ManagedPolicyArns", [])
        ]:
            backend.detach_role_policy(arn, role.name)
        attach_policies(
            role,
            {**properties, "ManagedPolicyArns": [
                arn for arn in properties.get("ManagedPolicyArns", []) if arn not in role.managed_policies
            ]},
            account_id,
            region_name,
        )  # fmt: skip
        return role

    role_cls.update_from_cloudformation_json = classmethod(update_from_cloudformation_json)  # type: ignore[assignment]
    role_cls.delete_from_cloudformation_json = classmethod(delete_from_cloudformation_json)  # type: ignore[assignment]
