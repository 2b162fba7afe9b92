"""S3: AWS::S3::BucketPolicy, the bucket properties moto's own model drops, and the refusal to
delete a non-empty bucket (moto silently keeps the bucket and reports the stack deleted)."""

from __future__ import annotations

import json
from typing import Any

from moto.core.common_models import CloudFormationModel
from moto.s3 import models as s3_models
from moto.s3.exceptions import BucketNotEmpty
from moto.utilities.utils import get_partition

from concert_platform.engines.moto_ext._base import EmulatedResource, after_cloudformation_create, as_bool


def _backend(account_id: str, region_name: str) -> Any:
    return s3_models.s3_backends[account_id][get_partition(region_name)]


class BucketPolicy(EmulatedResource, CloudFormationModel):
    CFN_TYPE = "AWS::S3::BucketPolicy"

    def __init__(self, bucket: str) -> None:
        self.bucket = bucket

    @property
    def physical_resource_id(self) -> str:
        return self.bucket

    @classmethod
    def create(
        cls, properties: dict[str, Any], account_id: str, region_name: str, logical_id: str
    ) -> BucketPolicy:
        document = properties["PolicyDocument"]
        text = document if isinstance(document, str) else json.dumps(document)
        _backend(account_id, region_name).put_bucket_policy(properties["Bucket"], text.encode())
        return cls(properties["Bucket"])

    def remove(self, account_id: str, region_name: str) -> None:
        backend = _backend(account_id, region_name)
        if self.bucket in backend.buckets:
            backend.delete_bucket_policy(self.bucket)


def _lifecycle_rule(rule: dict[str, Any]) -> dict[str, Any]:
    """A CloudFormation LifecycleConfiguration rule in the shape moto's S3 API parser produces."""
    api: dict[str, Any] = {
        "ID": rule.get("Id"),
        "Status": rule.get("Status", "Enabled"),
        "Filter": {"Prefix": rule.get("Prefix", "")},
    }
    if "ExpirationInDays" in rule:
        api["Expiration"] = {"Days": rule["ExpirationInDays"]}
    transitions = list(rule.get("Transitions", []))
    if "Transition" in rule:
        transitions.append(rule["Transition"])
    if transitions:
        api["Transition"] = [
            {"Days": t.get("TransitionInDays"), "StorageClass": t["StorageClass"]} for t in transitions
        ]
    if "NoncurrentVersionExpiration" in rule:
        api["NoncurrentVersionExpiration"] = {
            "NoncurrentDays": rule["NoncurrentVersionExpiration"]["NoncurrentDays"]
        }
    elif "NoncurrentVersionExpirationInDays" in rule:
        api["NoncurrentVersionExpiration"] = {"NoncurrentDays": rule["NoncurrentVersionExpirationInDays"]}
    if "AbortIncompleteMultipartUpload" in rule:
        api["AbortIncompleteMultipartUpload"] = rule["AbortIncompleteMultipartUpload"]
    return api


def apply_bucket_properties(
    bucket_name: str, properties: dict[str, Any], account_id: str, region_name: str
) -> None:
    backend = _backend(account_id, region_name)
    versioning = properties.get("VersioningConfiguration", {}).get("Status")
    if versioning:
        backend.put_bucket_versioning(bucket_name, versioning)
    block = properties.get("PublicAccessBlockConfiguration")
    if block:
        backend.put_public_access_block(bucket_name, {k: as_bool(v) for k, v in block.items()})
    rules = properties.get("LifecycleConfiguration", {}).get("Rules")
    if rules:
        backend.put_bucket_lifecycle_configuration(bucket_name, [_lifecycle_rule(r) for r in rules])
    logging_config = properties.get("LoggingConfiguration")
    if logging_config and logging_config.get("DestinationBucketName"):
        backend.put_bucket_logging(
            bucket_name,
            {
                "TargetBucket": logging_config["DestinationBucketName"],
                "TargetPrefix": logging_config.get("LogFilePrefix", ""),
            },
        )
    ownership = properties.get("OwnershipControls", {}).get("Rules")
    if ownership:
        backend.put_bucket_ownership_controls(bucket_name, ownership[0].get("ObjectOwnership"))


def _log_delivery_allowed(target_bucket: Any, target_prefix: str | None) -> bool:
    """moto's check reads Principal as a dict and crashes on `Principal: "*"` (a Deny statement)."""
    if not target_bucket.policy:
        return False
    allowed = {
        f"arn:{target_bucket.partition}:s3:::{target_bucket.name}/{target_prefix or ''}*",
        f"arn:{target_bucket.partition}:s3:::{target_bucket.name}/*",
        f"arn:{target_bucket.partition}:s3:::{target_bucket.name}",
    }
    for statement in json.loads(target_bucket.policy.decode())["Statement"]:
        principal = statement.get("Principal")
        services = principal.get("Service") if isinstance(principal, dict) else None
        services = [services] if isinstance(services, str) else (services or [])
        actions = statement.get("Action", [])
        actions = [actions] if isinstance(actions, str) else actions
        resources = statement.get("Resource", [])
        resources = [resources] if isinstance(resources, str) else resources
        if (
            statement.get("Effect") == "Allow"
            and s3_models.LOGGING_SERVICE_PRINCIPAL in services
            and "s3:PutObject" in actions
            and allowed & set(resources)
        ):
            return True
    return False


# The embedded engine's loopback endpoint stands in for S3's TLS endpoints: clients of the real
# service always arrive over TLS, so policies are evaluated as for a TLS request.
REQUEST_CONTEXT = {"aws:SecureTransport": "true"}


def _condition_holds(condition: dict[str, Any], context: dict[str, str]) -> bool:
    """IAM condition evaluation for the operators bucket policies use; a missing key never matches."""
    import fnmatch

    for operator, pairs in condition.items():
        base = operator.replace("IfExists", "")
        for key, expected in pairs.items():
            if key not in context:
                if operator.endswith("IfExists"):
                    continue
                return False
            actual = context[key]
            wanted = [str(v) for v in (expected if isinstance(expected, list) else [expected])]
            if base == "Bool" or base in ("StringEquals", "ArnEquals"):
                ok = actual.lower() in [w.lower() for w in wanted] if base == "Bool" else actual in wanted
            elif base in ("StringLike", "ArnLike"):
                ok = any(fnmatch.fnmatchcase(actual, w) for w in wanted)
            elif base in ("StringNotEquals", "ArnNotEquals"):
                ok = actual not in wanted
            else:
                return False  # an operator we cannot evaluate: the statement does not apply
            if not ok:
                return False
    return True


def _bucket_permission(self: Any, action: str, resource: str) -> Any:
    """Bucket-policy evaluation where a statement whose condition does not hold does not apply.

    moto's own evaluation returns DENIED for any statement whose condition it cannot verify,
    so a TLS-only Deny (`aws:SecureTransport` false) denies every request."""
    from moto.iam.access_control import IAMPolicyStatement, PermissionResult

    if self.policy is None:
        return PermissionResult.NEUTRAL
    statements = json.loads(self.policy.decode())["Statement"]
    permitted = False
    for raw in statements if isinstance(statements, list) else [statements]:
        statement = IAMPolicyStatement(raw)
        concerned = (
            not statement._check_element_matches("NotAction", action)
            if "NotAction" in raw
            else statement._check_element_matches("Action", action)
        )
        if not concerned or statement.is_unknown_principal(raw.get("Principal")):
            continue
        if raw.get("Condition") and not _condition_holds(raw["Condition"], REQUEST_CONTEXT):
            continue
        if raw.get("Resource") and not statement._check_element_matches("Resource", resource):
            continue
        if raw.get("Effect") == "Deny":
            return PermissionResult.DENIED
        permitted = True
    return PermissionResult.PERMITTED if permitted else PermissionResult.NEUTRAL


def patch_bucket_model() -> None:
    bucket_cls = s3_models.FakeBucket
    bucket_cls.get_permission = _bucket_permission
    bucket_cls._log_permissions_enabled_policy = staticmethod(_log_delivery_allowed)
    after_cloudformation_create(
        bucket_cls,
        lambda bucket, properties, account_id, region_name: apply_bucket_properties(
            bucket.name, properties, account_id, region_name
        ),
    )
    original_update = bucket_cls.update_from_cloudformation_json.__func__  # type: ignore[attr-defined]

    def update_from_cloudformation_json(
        cls: Any,
        original_resource: Any,
        new_resource_name: str,
        cloudformation_json: Any,
        account_id: str,
        region_name: str,
    ) -> Any:
        bucket = original_update(
            cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name
        )
        apply_bucket_properties(
            bucket.name, cloudformation_json.get("Properties", {}), account_id, region_name
        )
        return bucket

    def delete_from_cloudformation_json(
        cls: Any, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str
    ) -> None:
        backend = _backend(account_id, region_name)
        bucket = backend.buckets.get(resource_name)
        if bucket is not None and (dict.items(bucket.keys) or bucket.multiparts):
            raise BucketNotEmpty(
                resource_name
            )  # what CloudFormation reports for a bucket that still holds objects
        backend.delete_bucket(resource_name)

    bucket_cls.update_from_cloudformation_json = classmethod(update_from_cloudformation_json)  # type: ignore[assignment]
    bucket_cls.delete_from_cloudformation_json = classmethod(delete_from_cloudformation_json)  # type: ignore[assignment]
