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
