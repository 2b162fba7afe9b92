"""Lambda: physical ids for Permission and LayerVersion (moto reports none, so nothing could
verify them), and permissions that carry a statement id and are removed with their stack."""

from __future__ import annotations

import json
import uuid
from typing import Any

from moto.awslambda import models as lambda_models


def patch_models() -> None:
    permission_cls = lambda_models.Permission

    def create_from_cloudformation_json(
        cls: Any,
        resource_name: str,
        cloudformation_json: Any,
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> Any:
        properties = dict(cloudformation_json["Properties"])
        statement_id = (
            properties.get("StatementId")
            or f"{kwargs.get('LogicalId', 'permission')}-{uuid.uuid4().hex[:12]}"
        )
        properties["StatementId"] = statement_id
        backend = lambda_models.lambda_backends[account_id][region_name]
        backend.get_function(properties["FunctionName"]).policy.add_statement(raw=json.dumps(properties))
        permission = cls(region=region_name)
        permission.statement_id = statement_id
        permission.function_name = properties["FunctionName"]
        permission.account_id = account_id
        return permission

    def delete(self: Any, account_id: str, region_name: str) -> None:
        backend = lambda_models.lambda_backends[account_id][region_name]
        try:
            backend.remove_permission(self.function_name, self.statement_id)
        except Exception:
            return

    permission_cls.create_from_cloudformation_json = classmethod(create_from_cloudformation_json)  # type: ignore[assignment]
    permission_cls.physical_resource_id = property(lambda self: getattr(self, "statement_id", ""))  # type: ignore[attr-defined]
    permission_cls.delete = delete  # type: ignore[attr-defined]
    lambda_models.LayerVersion.physical_resource_id = property(lambda self: self.arn)  # type: ignore[attr-defined]

    def delete_layer_version(self: Any, account_id: str, region_name: str) -> None:
        # moto's model has no delete: the version outlived its stack
        backend = lambda_models.lambda_backends[account_id][region_name]
        try:
            backend.get_layer_version(self.name, str(self.version))
        except Exception:
            return  # already gone
        backend.delete_layer_version(self.name, str(self.version))

    lambda_models.LayerVersion.delete = delete_layer_version  # type: ignore[attr-defined]

    function_cls = lambda_models.LambdaFunction
    original_function = function_cls.create_from_cloudformation_json.__func__  # type: ignore[attr-defined]

    def create_function(
        cls: Any,
        resource_name: str,
        cloudformation_json: Any,
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> Any:
        # moto's model drops TracingConfig, Layers, KmsKeyArn, DeadLetterConfig and Architectures.
        function = original_function(
            cls, resource_name, cloudformation_json, account_id, region_name, **kwargs
        )
        properties = cloudformation_json.get("Properties", {})
        if properties.get("TracingConfig"):
            function.tracing_config = dict(properties["TracingConfig"])
        if properties.get("Layers"):
            function.layers = function._get_layers_data(list(properties["Layers"]))
        if properties.get("KmsKeyArn"):
            function.kms_key_arn = properties["KmsKeyArn"]
        if properties.get("DeadLetterConfig"):
            function.dead_letter_config = dict(properties["DeadLetterConfig"])
        if properties.get("Architectures"):
            function.architectures = list(properties["Architectures"])
        return function

    function_cls.create_from_cloudformation_json = classmethod(create_function)  # type: ignore[assignment]
