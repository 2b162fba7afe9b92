"""Secrets Manager. SecretString is write-only in the provider schema, yet GetSecretValue returns
it: it is compared as JSON keys, with values compared only where the template's value is known
(a NoEcho parameter reads back as "****"), and no value ever appears in a message."""

from __future__ import annotations

import json
from typing import Any

from concert_platform.verify._base import Field, Resource, Table, VerifyContext, register, same_id
from concert_platform.verify._lifecycle import (
    Gone,
    Namer,
    Probe,
    Recorded,
    Remover,
    paginate,
)

NO_ECHO = "****"  # what DescribeStacks answers for a NoEcho parameter


def _secret(ctx: VerifyContext, r: Resource) -> dict[str, Any]:
    client = ctx.client("secretsmanager")
    described = dict(client.describe_secret(SecretId=r.physical_id))
    described["SecretString"] = client.get_secret_value(SecretId=r.physical_id).get("SecretString")
    return described


def _secret_string(declared: Any, observed: Any) -> list[str]:
    """Same JSON keys; each value equal where the template's is known, non-empty where masked."""
    try:
        wanted = json.loads(declared)
    except (TypeError, ValueError):
        return [] if declared == observed else [": the engine's value differs (not shown: it is a secret)"]
    try:
        actual = json.loads(observed)
    except (TypeError, ValueError):
        return [": the engine's value is not the declared JSON object (not shown: it is a secret)"]
    if not isinstance(wanted, dict) or not isinstance(actual, dict):
        return [": the engine's value differs (not shown: it is a secret)"]
    problems = [f".{key}: the engine does not hold it" for key in wanted if key not in actual]
    problems += [f".{key}: the engine holds an undeclared key" for key in actual if key not in wanted]
    for key, value in wanted.items():
        if key in actual and (not actual[key] if value == NO_ECHO else actual[key] != value):
            problems.append(f".{key}: the engine's value differs (not shown: it is a secret)")
    return problems


register(
    Table(
        "AWS::SecretsManager::Secret",
        _secret,
        {
            "Name": Field("Name"),
            "Description": Field("Description"),
            "KmsKeyId": Field("KmsKeyId", same_id),
            "SecretString": Field("SecretString", _secret_string),
        },
        attributes={"Id": lambda _c, p: p},
    )
)


# ---- teardown: proving each resource gone, removing what a stack deletion left --------------


def _probe_secret(c: Any, r: Recorded) -> str | None:
    if c("secretsmanager").describe_secret(SecretId=r.physical_id).get("DeletedDate"):
        raise Gone  # scheduled for deletion
    return None


#: type -> how to ask its service whether the resource still exists
PROBES: dict[str, Probe] = {
    "AWS::SecretsManager::Secret": _probe_secret,
}

#: type -> how to delete one directly, for what a stack deletion left behind
REMOVERS: dict[str, Remover] = {
    "AWS::SecretsManager::Secret": lambda c, r: c("secretsmanager").delete_secret(
        SecretId=r.physical_id, ForceDeleteWithoutRecovery=True
    ),
}

#: what the name scan lists of this service: (kind, the names)
NAMES: tuple[tuple[str, Namer], ...] = (
    ("secret", lambda c: (s["Name"] for s in paginate(c("secretsmanager"), "list_secrets", "SecretList"))),
)
