"""KMS: the platform key and its alias."""

from __future__ import annotations

from typing import Any

from concert_platform.verify._base import (
    Field,
    Resource,
    Table,
    Unusable,
    VerifyContext,
    first,
    policy,
    register,
    same_id,
)


def _key(ctx: VerifyContext, r: Resource) -> dict[str, Any]:
    kms = ctx.client("kms")
    metadata = dict(kms.describe_key(KeyId=r.physical_id)["KeyMetadata"])
    if metadata.get("KeyState") != "Enabled":
        raise Unusable(f"key {r.physical_id} is {metadata.get('KeyState')}")
    metadata["KeyRotationEnabled"] = kms.get_key_rotation_status(KeyId=r.physical_id)["KeyRotationEnabled"]
    metadata["Policy"] = kms.get_key_policy(KeyId=r.physical_id, PolicyName="default")["Policy"]
    return metadata


def _alias(ctx: VerifyContext, r: Resource) -> dict[str, Any]:
    aliases = ctx.client("kms").list_aliases()["Aliases"]
    return dict(first(aliases, lambda a: a["AliasName"] == r.physical_id, f"alias {r.physical_id}"))


register(
    Table(
        "AWS::KMS::Key",
        _key,
        {
            "Description": Field("Description"),
            "EnableKeyRotation": Field("KeyRotationEnabled"),
            "KeyPolicy": Field("Policy", policy),
        },
        attributes={"Arn": lambda c, p: c.client("kms").describe_key(KeyId=p)["KeyMetadata"]["Arn"]},
    ),
    Table(
        "AWS::KMS::Alias",
        _alias,
        {"AliasName": Field("AliasName"), "TargetKeyId": Field("TargetKeyId", same_id)},
    ),
)
