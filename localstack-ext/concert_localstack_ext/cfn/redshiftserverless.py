"""Redshift Serverless: AWS::RedshiftServerless::Namespace and ::Workgroup through the Redshift
Serverless API (community LocalStack has none; this project's Redshift Serverless service
provider, in the same distribution, answers it)."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from ._base import ExtensionProvider, ResourceRequest, done, is_not_found, schema, tags_list


def _pascal(value: Any) -> Any:
    """The API answers camelCase; CloudFormation's attributes (Namespace.NamespaceArn,
    Workgroup.Endpoint.Address) are PascalCase."""
    if isinstance(value, dict):
        return {k[:1].upper() + k[1:]: _pascal(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_pascal(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


_NAMESPACE_PARAMS = {
    "AdminUsername": "adminUsername",
    "AdminUserPassword": "adminUserPassword",
    "DbName": "dbName",
    "DefaultIamRoleArn": "defaultIamRoleArn",
    "IamRoles": "iamRoles",
    "KmsKeyId": "kmsKeyId",
    "LogExports": "logExports",
}
_NAMESPACE_UPDATABLE = {
    "AdminUsername",
    "AdminUserPassword",
    "DefaultIamRoleArn",
    "IamRoles",
    "KmsKeyId",
    "LogExports",
}


class NamespaceProvider(ExtensionProvider):
    """CreateNamespace / GetNamespace / UpdateNamespace / DeleteNamespace. Ref is the namespace
    name; GetAtt Namespace.* answers the namespace as the API describes it."""

    TYPE = "AWS::RedshiftServerless::Namespace"
    SCHEMA = schema(
        TYPE,
        ["NamespaceName"],
        create_only=["NamespaceName", "DbName", "Tags"],
        read_only=["Namespace"],
        write_only=["AdminUserPassword"],
    )

    @staticmethod
    def _params(model: dict, keys: set[str] | None = None) -> dict[str, Any]:
        return {
            param: model[prop]
            for prop, param in _NAMESPACE_PARAMS.items()
            if model.get(prop) not in (None, "", []) and (keys is None or prop in keys)
        }

    def create(self, request: ResourceRequest):
        model = request.desired_state
        params = self._params(model)
        if model.get("Tags"):
            params["tags"] = [{"key": t["Key"], "value": t["Value"]} for t in tags_list(model["Tags"])]
        response = request.aws_client_factory.redshift_serverless.create_namespace(
            namespaceName=model["NamespaceName"], **params
        )
        model["Namespace"] = _pascal(response["namespace"])
        return done(model, request)

    def describe(self, request: ResourceRequest):
        model = request.desired_state
        try:
            found = request.aws_client_factory.redshift_serverless.get_namespace(
                namespaceName=model["NamespaceName"]
            )["namespace"]
        except ClientError as e:
            if is_not_found(e):
                return None
            raise
        return {**model, "Namespace": _pascal(found)}

    def update(self, request: ResourceRequest):
        previous = request.previous_state or {}
        model = {**request.desired_state, "NamespaceName": previous["NamespaceName"]}
        changed = {
            prop
            for prop in _NAMESPACE_UPDATABLE
            if model.get(prop) != previous.get(prop) and model.get(prop) not in (None, "", [])
        }
        if "AdminUserPassword" in changed or "AdminUsername" in changed:
            changed |= {"AdminUserPassword", "AdminUsername"}  # the API wants them together
        client = request.aws_client_factory.redshift_serverless
        if changed:
            response = client.update_namespace(
                namespaceName=model["NamespaceName"], **self._params(model, changed)
            )
            model["Namespace"] = _pascal(response["namespace"])
        else:
            model["Namespace"] = previous.get("Namespace")
        return done(model, request)

    def delete(self, request: ResourceRequest):
        model = request.desired_state
        try:
            request.aws_client_factory.redshift_serverless.delete_namespace(
                namespaceName=model["NamespaceName"]
            )
        except ClientError as e:
            if not is_not_found(e):
                raise
        return done(model, request)


_WORKGROUP_PARAMS = {
    "BaseCapacity": "baseCapacity",
    "MaxCapacity": "maxCapacity",
    "EnhancedVpcRouting": "enhancedVpcRouting",
    "PubliclyAccessible": "publiclyAccessible",
    "SecurityGroupIds": "securityGroupIds",
    "SubnetIds": "subnetIds",
    "ConfigParameters": "configParameters",
    "Port": "port",
}
_WORKGROUP_INTS = {"BaseCapacity", "MaxCapacity", "Port"}
_WORKGROUP_BOOLS = {"EnhancedVpcRouting", "PubliclyAccessible"}


def _workgroup_params(model: dict, keys: set[str] | None = None) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for prop, param in _WORKGROUP_PARAMS.items():
        if model.get(prop) in (None, "", []) or (keys is not None and prop not in keys):
            continue
        value = model[prop]
        if prop in _WORKGROUP_INTS:
            value = int(value)
        elif prop in _WORKGROUP_BOOLS and not isinstance(value, bool):
            value = str(value).lower() == "true"
        elif prop == "ConfigParameters":
            value = [
                {"parameterKey": p["ParameterKey"], "parameterValue": str(p["ParameterValue"])} for p in value
            ]
        params[param] = value
    return params


class WorkgroupProvider(ExtensionProvider):
    """CreateWorkgroup / GetWorkgroup / UpdateWorkgroup (capacity, routing, access, network,
    parameters) / DeleteWorkgroup. Ref is the workgroup name; GetAtt Workgroup.* (for example
    Workgroup.Endpoint.Address) answers the workgroup as the API describes it."""

    TYPE = "AWS::RedshiftServerless::Workgroup"
    SCHEMA = schema(
        TYPE,
        ["WorkgroupName"],
        create_only=["WorkgroupName", "NamespaceName"],
        read_only=["Workgroup"],
    )

    def create(self, request: ResourceRequest):
        model = request.desired_state
        params = _workgroup_params(model)
        if model.get("Tags"):
            params["tags"] = [{"key": t["Key"], "value": t["Value"]} for t in tags_list(model["Tags"])]
        response = request.aws_client_factory.redshift_serverless.create_workgroup(
            workgroupName=model["WorkgroupName"], namespaceName=model["NamespaceName"], **params
        )
        model["Workgroup"] = _pascal(response["workgroup"])
        return done(model, request)

    def describe(self, request: ResourceRequest):
        model = request.desired_state
        try:
            found = request.aws_client_factory.redshift_serverless.get_workgroup(
                workgroupName=model["WorkgroupName"]
            )["workgroup"]
        except ClientError as e:
            if is_not_found(e):
                return None
            raise
        return {**model, "Workgroup": _pascal(found)}

    def update(self, request: ResourceRequest):
        previous = request.previous_state or {}
        model = {**request.desired_state, "WorkgroupName": previous["WorkgroupName"]}
        changed = {p for p in _WORKGROUP_PARAMS if model.get(p) != previous.get(p)}
        client = request.aws_client_factory.redshift_serverless
        params = _workgroup_params(model, changed)
        if params:
            response = client.update_workgroup(workgroupName=model["WorkgroupName"], **params)
            model["Workgroup"] = _pascal(response["workgroup"])
        else:
            model["Workgroup"] = previous.get("Workgroup")
        return done(model, request)

    def delete(self, request: ResourceRequest):
        model = request.desired_state
        try:
            request.aws_client_factory.redshift_serverless.delete_workgroup(
                workgroupName=model["WorkgroupName"]
            )
        except ClientError as e:
            if not is_not_found(e):
                raise
        return done(model, request)
