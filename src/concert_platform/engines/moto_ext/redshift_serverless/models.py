"""Redshift Serverless state: namespaces and workgroups, plus their CloudFormation models."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from moto.core.base_backend import BackendDict, BaseBackend
from moto.core.common_models import BaseModel, CloudFormationModel
from moto.core.exceptions import JsonRESTError

from concert_platform.engines.moto_ext._base import EmulatedResource, as_bool


class ResourceNotFoundException(JsonRESTError):
    code = 400

    def __init__(self, message: str) -> None:
        super().__init__("ResourceNotFoundException", message)


class ConflictException(JsonRESTError):
    code = 400

    def __init__(self, message: str) -> None:
        super().__init__("ConflictException", message)


def _now() -> str:
    return datetime.now(UTC).isoformat()


class Namespace(BaseModel):
    def __init__(self, backend: RedshiftServerlessBackend, name: str, params: dict[str, Any]) -> None:
        self.name = name
        self.namespace_id = str(uuid.uuid4())
        self.arn = f"arn:aws:redshift-serverless:{backend.region_name}:{backend.account_id}:namespace/{self.namespace_id}"
        self.admin_username = params.get("adminUsername", "admin")
        self.db_name = params.get("dbName", "dev")
        self.kms_key_id = params.get("kmsKeyId")
        self.default_iam_role_arn = params.get("defaultIamRoleArn")
        self.iam_roles = list(params.get("iamRoles", []))
        self.log_exports = list(params.get("logExports", []))
        self.created = _now()
        # The admin password is deliberately not kept: nothing may read it back.

    def to_dict(self) -> dict[str, Any]:
        return {
            "namespaceName": self.name,
            "namespaceId": self.namespace_id,
            "namespaceArn": self.arn,
            "adminUsername": self.admin_username,
            "dbName": self.db_name,
            "kmsKeyId": self.kms_key_id,
            "defaultIamRoleArn": self.default_iam_role_arn,
            "iamRoles": self.iam_roles,
            "logExports": self.log_exports,
            "status": "AVAILABLE",
            "creationDate": self.created,
        }


class Workgroup(BaseModel):
    def __init__(self, backend: RedshiftServerlessBackend, name: str, params: dict[str, Any]) -> None:
        self.name = name
        self.workgroup_id = str(uuid.uuid4())
        self.arn = f"arn:aws:redshift-serverless:{backend.region_name}:{backend.account_id}:workgroup/{self.workgroup_id}"
        self.namespace_name = params["namespaceName"]
        self.base_capacity = int(params.get("baseCapacity", 128))
        self.subnet_ids = list(params.get("subnetIds", []))
        self.security_group_ids = list(params.get("securityGroupIds", []))
        self.publicly_accessible = as_bool(params.get("publiclyAccessible", False))
        self.enhanced_vpc_routing = as_bool(params.get("enhancedVpcRouting", False))
        self.port = int(params.get("port", 5439))
        self.address = f"{name}.{backend.account_id}.{backend.region_name}.redshift-serverless.amazonaws.com"
        self.created = _now()

    def to_dict(self) -> dict[str, Any]:
        return {
            "workgroupName": self.name,
            "workgroupId": self.workgroup_id,
            "workgroupArn": self.arn,
            "namespaceName": self.namespace_name,
            "baseCapacity": self.base_capacity,
            "subnetIds": self.subnet_ids,
            "securityGroupIds": self.security_group_ids,
            "publiclyAccessible": self.publicly_accessible,
            "enhancedVpcRouting": self.enhanced_vpc_routing,
            "endpoint": {"address": self.address, "port": self.port, "vpcEndpoints": []},
            "port": self.port,
            "status": "AVAILABLE",
            "creationDate": self.created,
        }


class RedshiftServerlessBackend(BaseBackend):
    def __init__(self, region_name: str, account_id: str) -> None:
        super().__init__(region_name, account_id)
        self.namespaces: dict[str, Namespace] = {}
        self.workgroups: dict[str, Workgroup] = {}

    def create_namespace(self, name: str, params: dict[str, Any]) -> Namespace:
        if name in self.namespaces:
            raise ConflictException(f"Namespace {name} already exists")
        self.namespaces[name] = Namespace(self, name, params)
        return self.namespaces[name]

    def get_namespace(self, name: str) -> Namespace:
        if name not in self.namespaces:
            raise ResourceNotFoundException(f"Namespace {name} not found")
        return self.namespaces[name]

    def update_namespace(self, name: str, params: dict[str, Any]) -> Namespace:
        namespace = self.get_namespace(name)
        for key, attribute in (
            ("kmsKeyId", "kms_key_id"),
            ("defaultIamRoleArn", "default_iam_role_arn"),
            ("adminUsername", "admin_username"),
        ):
            if key in params:
                setattr(namespace, attribute, params[key])
        for key, attribute in (("iamRoles", "iam_roles"), ("logExports", "log_exports")):
            if key in params:
                setattr(namespace, attribute, list(params[key]))
        return namespace

    def delete_namespace(self, name: str) -> Namespace:
        namespace = self.get_namespace(name)
        if any(w.namespace_name == name for w in self.workgroups.values()):
            raise ConflictException(f"Namespace {name} still has a workgroup; delete the workgroup first")
        return self.namespaces.pop(name, namespace)

    def create_workgroup(self, name: str, params: dict[str, Any]) -> Workgroup:
        if name in self.workgroups:
            raise ConflictException(f"Workgroup {name} already exists")
        self.get_namespace(params["namespaceName"])
        self.workgroups[name] = Workgroup(self, name, params)
        return self.workgroups[name]

    def get_workgroup(self, name: str) -> Workgroup:
        if name not in self.workgroups:
            raise ResourceNotFoundException(f"Workgroup {name} not found")
        return self.workgroups[name]

    def update_workgroup(self, name: str, params: dict[str, Any]) -> Workgroup:
        workgroup = self.get_workgroup(name)
        if "baseCapacity" in params:
            workgroup.base_capacity = int(params["baseCapacity"])
        if "publiclyAccessible" in params:
            workgroup.publicly_accessible = as_bool(params["publiclyAccessible"])
        if "enhancedVpcRouting" in params:
            workgroup.enhanced_vpc_routing = as_bool(params["enhancedVpcRouting"])
        for key, attribute in (("subnetIds", "subnet_ids"), ("securityGroupIds", "security_group_ids")):
            if key in params:
                setattr(workgroup, attribute, list(params[key]))
        return workgroup

    def delete_workgroup(self, name: str) -> Workgroup:
        return self.workgroups.pop(name, self.get_workgroup(name))


redshiftserverless_backends = BackendDict(RedshiftServerlessBackend, "redshift-serverless")


def _api_params(properties: dict[str, Any], mapping: dict[str, str]) -> dict[str, Any]:
    return {api: properties[cfn] for cfn, api in mapping.items() if cfn in properties}


class NamespaceResource(EmulatedResource, CloudFormationModel):
    CFN_TYPE = "AWS::RedshiftServerless::Namespace"
    NAME_PROPERTY = "NamespaceName"

    def __init__(self, name: str) -> None:
        self.name = name

    @staticmethod
    def cloudformation_name_type() -> str:
        return "NamespaceName"

    @property
    def physical_resource_id(self) -> str:
        return self.name

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr.startswith("Namespace")

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        return {"NamespaceName": self.name}.get(attribute_name.split(".")[-1], self.name)

    @classmethod
    def create(
        cls, properties: dict[str, Any], account_id: str, region_name: str, logical_id: str
    ) -> NamespaceResource:
        params = _api_params(
            properties,
            {
                "AdminUsername": "adminUsername",
                "DbName": "dbName",
                "KmsKeyId": "kmsKeyId",
                "DefaultIamRoleArn": "defaultIamRoleArn",
                "IamRoles": "iamRoles",
                "LogExports": "logExports",
            },
        )
        redshiftserverless_backends[account_id][region_name].create_namespace(
            properties["NamespaceName"], params
        )
        return cls(properties["NamespaceName"])

    def remove(self, account_id: str, region_name: str) -> None:
        backend = redshiftserverless_backends[account_id][region_name]
        if self.name in backend.namespaces:
            backend.delete_namespace(self.name)


class WorkgroupResource(EmulatedResource, CloudFormationModel):
    CFN_TYPE = "AWS::RedshiftServerless::Workgroup"
    NAME_PROPERTY = "WorkgroupName"

    def __init__(self, name: str) -> None:
        self.name = name

    @staticmethod
    def cloudformation_name_type() -> str:
        return "WorkgroupName"

    @property
    def physical_resource_id(self) -> str:
        return self.name

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr.startswith("Workgroup")

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        return self.name

    @classmethod
    def create(
        cls, properties: dict[str, Any], account_id: str, region_name: str, logical_id: str
    ) -> WorkgroupResource:
        params = _api_params(
            properties,
            {
                "NamespaceName": "namespaceName",
                "BaseCapacity": "baseCapacity",
                "SubnetIds": "subnetIds",
                "SecurityGroupIds": "securityGroupIds",
                "PubliclyAccessible": "publiclyAccessible",
                "EnhancedVpcRouting": "enhancedVpcRouting",
                "Port": "port",
            },
        )
        redshiftserverless_backends[account_id][region_name].create_workgroup(
            properties["WorkgroupName"], params
        )
        return cls(properties["WorkgroupName"])

    def remove(self, account_id: str, region_name: str) -> None:
        backend = redshiftserverless_backends[account_id][region_name]
        if self.name in backend.workgroups:
            backend.delete_workgroup(self.name)
