"""IAM roles: trust policy, inline policies by content, attached managed policies."""

from __future__ import annotations

from typing import Any

from concert_platform.verify._base import Field, Resource, Table, VerifyContext, as_set, policy, register
from concert_platform.verify._lifecycle import (
    Namer,
    Probe,
    Recorded,
    Remover,
    paginate,
)


def _role(ctx: VerifyContext, r: Resource) -> dict[str, Any]:
    iam = ctx.client("iam")
    role = dict(iam.get_role(RoleName=r.physical_id)["Role"])
    role["Policies"] = [
        {
            "PolicyName": name,
            "PolicyDocument": iam.get_role_policy(RoleName=r.physical_id, PolicyName=name)["PolicyDocument"],
        }
        for page in iam.get_paginator("list_role_policies").paginate(RoleName=r.physical_id)
        for name in page["PolicyNames"]
    ]
    role["ManagedPolicyArns"] = [
        p["PolicyArn"]
        for page in iam.get_paginator("list_attached_role_policies").paginate(RoleName=r.physical_id)
        for p in page["AttachedPolicies"]
    ]
    return role


def inline_policies(declared: Any, observed: Any) -> list[str]:
    """Inline policies by name, each document by content; no undeclared inline policy."""
    wanted = {p.get("PolicyName"): p.get("PolicyDocument") for p in declared}
    actual = {p.get("PolicyName"): p.get("PolicyDocument") for p in observed}
    problems = [f"[{name}]: the engine does not return it" for name in wanted if name not in actual]
    for name, document in wanted.items():
        if name in actual:
            problems += [f"[{name}].PolicyDocument{p}" for p in policy(document, actual[name])]
    problems += [
        f"[{name}]: the engine holds an undeclared inline policy" for name in actual if name not in wanted
    ]
    return problems


register(
    Table(
        "AWS::IAM::Role",
        _role,
        {
            "RoleName": Field("RoleName"),
            "AssumeRolePolicyDocument": Field("AssumeRolePolicyDocument", policy),
            "Policies": Field("Policies", inline_policies),
            "ManagedPolicyArns": Field("ManagedPolicyArns", as_set),
            "Description": Field("Description"),
            "Path": Field("Path"),
            "MaxSessionDuration": Field("MaxSessionDuration"),
        },
        attributes={"Arn": lambda c, p: c.client("iam").get_role(RoleName=p)["Role"]["Arn"]},
    ),
)


# ---- teardown: proving each resource gone, removing what a stack deletion left --------------


def _delete_role(c: Any, r: Recorded) -> Any:
    iam = c("iam")
    for name in iam.list_role_policies(RoleName=r.physical_id).get("PolicyNames", []):
        iam.delete_role_policy(RoleName=r.physical_id, PolicyName=name)
    for attached in iam.list_attached_role_policies(RoleName=r.physical_id).get("AttachedPolicies", []):
        iam.detach_role_policy(RoleName=r.physical_id, PolicyArn=attached["PolicyArn"])
    return iam.delete_role(RoleName=r.physical_id)


#: type -> how to ask its service whether the resource still exists
PROBES: dict[str, Probe] = {
    "AWS::IAM::Role": lambda c, r: c("iam").get_role(RoleName=r.physical_id) and None,
}

#: type -> how to delete one directly, for what a stack deletion left behind
REMOVERS: dict[str, Remover] = {
    "AWS::IAM::Role": _delete_role,
}

#: what the name scan lists of this service: (kind, the names)
NAMES: tuple[tuple[str, Namer], ...] = (
    ("role", lambda c: (r["RoleName"] for r in paginate(c("iam"), "list_roles", "Roles"))),
)
