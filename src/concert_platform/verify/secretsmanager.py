"""Secrets Manager. SecretString is write-only in the provider schema (and here comes from a
NoEcho parameter the stack never shows), so it is reported as not comparable."""

from __future__ import annotations

from typing import Any

from concert_platform.verify._base import Field, Resource, Table, VerifyContext, register, same_id


def _secret(ctx: VerifyContext, r: Resource) -> dict[str, Any]:
    return dict(ctx.client("secretsmanager").describe_secret(SecretId=r.physical_id))


register(
    Table(
        "AWS::SecretsManager::Secret",
        _secret,
        {
            "Name": Field("Name"),
            "Description": Field("Description"),
            "KmsKeyId": Field("KmsKeyId", same_id),
        },
        attributes={"Id": lambda _c, p: p},
    )
)
