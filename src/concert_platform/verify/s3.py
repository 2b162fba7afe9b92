"""S3: buckets (encryption, public access block, versioning, lifecycle, logging, ownership) and
bucket policies, each read back through its own S3 API and compared in the template's shape."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from concert_platform.verify._base import (
    Field,
    Resource,
    Table,
    VerifyContext,
    as_set,
    exact,
    policy,
    register,
)
from concert_platform.verify._lifecycle import (
    Namer,
    Probe,
    Recorded,
    Remover,
    policy_holder,
)


def _optional(call: Callable[[], Any]) -> Any:
    """A bucket setting that is not configured is absent from the answer (a mismatch if declared)."""
    try:
        return call()
    except ClientError:
        return None


def _bucket(ctx: VerifyContext, r: Resource) -> dict[str, Any]:
    s3, name = ctx.client("s3"), r.physical_id
    s3.head_bucket(Bucket=name)
    return {
        "Name": name,
        "Encryption": _optional(
            lambda: s3.get_bucket_encryption(Bucket=name)["ServerSideEncryptionConfiguration"]
        ),
        "PublicAccessBlock": _optional(
            lambda: s3.get_public_access_block(Bucket=name)["PublicAccessBlockConfiguration"]
        ),
        "Versioning": _optional(lambda: s3.get_bucket_versioning(Bucket=name)),
        "Lifecycle": _optional(lambda: s3.get_bucket_lifecycle_configuration(Bucket=name)["Rules"]),
        "Logging": _optional(lambda: s3.get_bucket_logging(Bucket=name).get("LoggingEnabled")),
        "Ownership": _optional(lambda: s3.get_bucket_ownership_controls(Bucket=name)["OwnershipControls"]),
    }


def _encryption(configuration: dict[str, Any]) -> dict[str, Any]:
    rules = []
    for rule in configuration["Rules"]:
        default = rule.get("ApplyServerSideEncryptionByDefault", {})
        shaped: dict[str, Any] = {
            "ServerSideEncryptionByDefault": {
                k: v
                for k, v in (
                    ("SSEAlgorithm", default.get("SSEAlgorithm")),
                    ("KMSMasterKeyID", default.get("KMSMasterKeyID")),
                )
                if v
            }
        }
        if "BucketKeyEnabled" in rule:
            shaped["BucketKeyEnabled"] = rule["BucketKeyEnabled"]
        rules.append(shaped)
    return {"ServerSideEncryptionConfiguration": rules}


def _transition(item: dict[str, Any], days_key: str) -> dict[str, Any]:
    return {"StorageClass": item.get("StorageClass"), "TransitionInDays": item.get(days_key)}


def _lifecycle_rule(rule: dict[str, Any]) -> dict[str, Any]:
    """A lifecycle rule as the S3 API returns it, in the template's words."""
    shaped: dict[str, Any] = {"Status": rule.get("Status")}
    if rule.get("ID"):
        shaped["Id"] = rule["ID"]
    prefix = rule.get("Prefix", rule.get("Filter", {}).get("Prefix"))
    if prefix:
        shaped["Prefix"] = prefix
    expiration = rule.get("Expiration", {})
    if "Days" in expiration:
        shaped["ExpirationInDays"] = expiration["Days"]
    if "ExpiredObjectDeleteMarker" in expiration:
        shaped["ExpiredObjectDeleteMarker"] = expiration["ExpiredObjectDeleteMarker"]
    if rule.get("Transitions"):
        shaped["Transitions"] = [_transition(t, "Days") for t in rule["Transitions"]]
    if rule.get("NoncurrentVersionExpiration"):
        shaped["NoncurrentVersionExpiration"] = {
            "NoncurrentDays": rule["NoncurrentVersionExpiration"].get("NoncurrentDays")
        }
        shaped["NoncurrentVersionExpirationInDays"] = rule["NoncurrentVersionExpiration"].get(
            "NoncurrentDays"
        )
    if rule.get("NoncurrentVersionTransitions"):
        shaped["NoncurrentVersionTransitions"] = [
            _transition(t, "NoncurrentDays") for t in rule["NoncurrentVersionTransitions"]
        ]
    if rule.get("AbortIncompleteMultipartUpload"):
        shaped["AbortIncompleteMultipartUpload"] = rule["AbortIncompleteMultipartUpload"]
    return shaped


def _lifecycle(rules: list[dict[str, Any]]) -> dict[str, Any]:
    return {"Rules": [_lifecycle_rule(rule) for rule in rules]}


def _logging(enabled: dict[str, Any]) -> dict[str, Any]:
    return {
        "DestinationBucketName": enabled.get("TargetBucket"),
        "LogFilePrefix": enabled.get("TargetPrefix"),
    }


def _lifecycle_rules(declared: Any, observed: Any) -> list[str]:
    """Rules by content, as a set (S3 keeps no order between rules); each rule's declared keys exact."""
    return as_set(declared, observed)


def _bucket_policy(ctx: VerifyContext, r: Resource) -> dict[str, Any]:
    # AWS's physical id of a bucket policy is its bucket's name; LocalStack's is a hash of the
    # policy document. The policy is read from the declared bucket either way, and a physical id
    # that names a bucket must name that one.
    bucket = r.props.get("Bucket") if isinstance(r.props.get("Bucket"), str) else r.physical_id
    return {
        "Bucket": bucket
        if r.physical_id in (bucket, "") or not _names_a_bucket(ctx, r.physical_id)
        else r.physical_id,
        "Policy": ctx.client("s3").get_bucket_policy(Bucket=bucket)["Policy"],
    }


def _names_a_bucket(ctx: VerifyContext, name: str) -> bool:
    try:
        ctx.client("s3").head_bucket(Bucket=name)
    except ClientError:
        return False
    return True


register(
    Table(
        "AWS::S3::Bucket",
        _bucket,
        {
            "BucketName": Field("Name"),
            "BucketEncryption": Field("Encryption", as_set, view=_encryption),
            "PublicAccessBlockConfiguration": Field("PublicAccessBlock"),
            "VersioningConfiguration": Field("Versioning", view=lambda v: {"Status": v["Status"]}),
            "LifecycleConfiguration": Field("Lifecycle", _lifecycle_rules, view=_lifecycle),
            "LoggingConfiguration": Field("Logging", view=_logging),
            "OwnershipControls": Field("Ownership", exact),
        },
        attributes={
            "Arn": lambda _c, p: f"arn:aws:s3:::{p}",
            "DomainName": lambda _c, p: f"{p}.s3.amazonaws.com",
        },
    ),
    Table(
        "AWS::S3::BucketPolicy",
        _bucket_policy,
        {"Bucket": Field("Bucket"), "PolicyDocument": Field("Policy", policy)},
    ),
)


# ---- teardown: proving each resource gone, removing what a stack deletion left --------------


def _empty_and_delete_bucket(c: Any, r: Recorded) -> Any:
    from concert_platform.deploy import empty_bucket_versions

    empty_bucket_versions(c("s3"), r.physical_id)
    return c("s3").delete_bucket(Bucket=r.physical_id)


#: type -> how to ask its service whether the resource still exists
PROBES: dict[str, Probe] = {
    "AWS::S3::Bucket": lambda c, r: c("s3").head_bucket(Bucket=r.physical_id) and None,
    "AWS::S3::BucketPolicy": policy_holder(
        "bucket", "Bucket", lambda c, b: c("s3").get_bucket_policy(Bucket=b)
    ),
}

#: type -> how to delete one directly, for what a stack deletion left behind
REMOVERS: dict[str, Remover] = {
    "AWS::S3::Bucket": _empty_and_delete_bucket,
    "AWS::S3::BucketPolicy": lambda c, r: c("s3").delete_bucket_policy(
        Bucket=str(r.properties.get("Bucket"))
    ),
}

#: what the name scan lists of this service: (kind, the names)
NAMES: tuple[tuple[str, Namer], ...] = (
    ("bucket", lambda c: (b["Name"] for b in c("s3").list_buckets().get("Buckets", []))),
)
