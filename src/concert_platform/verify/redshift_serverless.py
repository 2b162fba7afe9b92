"""Redshift Serverless: the namespace and the workgroup."""

from __future__ import annotations

from typing import Any

from concert_platform.verify._base import (
    Field,
    Resource,
    Table,
    Unusable,
    VerifyContext,
    as_set,
    register,
    same_id,
)
from concert_platform.verify._lifecycle import (
    Namer,
    Probe,
    Remover,
)


def _namespace(ctx: VerifyContext, r: Resource) -> dict[str, Any]:
    namespace = dict(
        ctx.client("redshift-serverless").get_namespace(namespaceName=r.physical_id)["namespace"]
    )
    if "adminUserPassword" in namespace:
        raise Unusable("the namespace returns its admin password: a real service never does")
    return namespace


def _workgroup(ctx: VerifyContext, r: Resource) -> dict[str, Any]:
    return dict(ctx.client("redshift-serverless").get_workgroup(workgroupName=r.physical_id)["workgroup"])


register(
    Table(
        "AWS::RedshiftServerless::Namespace",
        _namespace,
        {
            "NamespaceName": Field("namespaceName"),
            "AdminUsername": Field("adminUsername"),
            "DbName": Field("dbName"),
            "KmsKeyId": Field("kmsKeyId", same_id),
            "DefaultIamRoleArn": Field("defaultIamRoleArn"),
            "IamRoles": Field("iamRoles", as_set),
            "LogExports": Field("logExports", as_set),
        },
    ),
    Table(
        "AWS::RedshiftServerless::Workgroup",
        _workgroup,
        {
            "WorkgroupName": Field("workgroupName"),
            "NamespaceName": Field("namespaceName"),
            "BaseCapacity": Field("baseCapacity"),
            "PubliclyAccessible": Field("publiclyAccessible"),
            "EnhancedVpcRouting": Field("enhancedVpcRouting"),
            # Write-only in the provider schema, yet GetWorkgroup returns both: compared.
            "SubnetIds": Field("subnetIds", as_set),
            "SecurityGroupIds": Field("securityGroupIds", as_set),
        },
    ),
)


# ---- teardown: proving each resource gone, removing what a stack deletion left --------------


#: type -> how to ask its service whether the resource still exists
PROBES: dict[str, Probe] = {
    "AWS::RedshiftServerless::Namespace": lambda c, r: (
        c("redshift-serverless").get_namespace(namespaceName=r.physical_id) and None
    ),
    "AWS::RedshiftServerless::Workgroup": lambda c, r: (
        c("redshift-serverless").get_workgroup(workgroupName=r.physical_id) and None
    ),
}

#: type -> how to delete one directly, for what a stack deletion left behind
REMOVERS: dict[str, Remover] = {
    "AWS::RedshiftServerless::Namespace": lambda c, r: c("redshift-serverless").delete_namespace(
        namespaceName=r.physical_id
    ),
    "AWS::RedshiftServerless::Workgroup": lambda c, r: c("redshift-serverless").delete_workgroup(
        workgroupName=r.physical_id
    ),
}

#: what the name scan lists of this service: (kind, the names)
NAMES: tuple[tuple[str, Namer], ...] = (
    (
        "redshift namespace",
        lambda c: (
            n["namespaceName"] for n in c("redshift-serverless").list_namespaces().get("namespaces", [])
        ),
    ),
    (
        "redshift workgroup",
        lambda c: (
            w["workgroupName"] for w in c("redshift-serverless").list_workgroups().get("workgroups", [])
        ),
    ),
)
