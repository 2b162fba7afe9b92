"""IAM roles: trust policy, inline policies by content, attached managed policies."""

from __future__ import annotations

from typing import Any

from concert_platform.verify._base import Field, Resource, Table, VerifyContext, as_set, policy, register


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
