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
from concert_platform.verify._lifecycle import (
    Gone,
    Namer,
    Probe,
    Recorded,
    Remover,
    first_or_gone,
    paginate,
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


# ---- teardown: proving each resource gone, removing what a stack deletion left --------------


def _probe_kms_key(c: Any, r: Recorded) -> str | None:
    state = c("kms").describe_key(KeyId=r.physical_id)["KeyMetadata"].get("KeyState")
    if state in ("PendingDeletion", "PendingReplicaDeletion"):
        raise Gone  # CloudFormation schedules key deletion; the key can no longer be used
    return None


def _probe_kms_alias(c: Any, r: Recorded) -> str | None:
    aliases = [
        a for page in c("kms").get_paginator("list_aliases").paginate() for a in page.get("Aliases", [])
    ]
    first_or_gone(a for a in aliases if a["AliasName"] == r.physical_id)
    return None


#: type -> how to ask its service whether the resource still exists
PROBES: dict[str, Probe] = {
    "AWS::KMS::Key": _probe_kms_key,
    "AWS::KMS::Alias": _probe_kms_alias,
}

#: type -> how to delete one directly, for what a stack deletion left behind
REMOVERS: dict[str, Remover] = {
    "AWS::KMS::Key": lambda c, r: c("kms").schedule_key_deletion(KeyId=r.physical_id, PendingWindowInDays=7),
    "AWS::KMS::Alias": lambda c, r: c("kms").delete_alias(AliasName=r.physical_id),
}

#: what the name scan lists of this service: (kind, the names)
NAMES: tuple[tuple[str, Namer], ...] = (
    ("kms alias", lambda c: (a["AliasName"] for a in paginate(c("kms"), "list_aliases", "Aliases"))),
)
