"""Secrets Manager: AWS::SecretsManager::Secret (Ref returns the ARN, as on AWS)."""

from __future__ import annotations

import json
import secrets
import string
from typing import Any

from moto.core.common_models import CloudFormationModel
from moto.secretsmanager import models as sm_models

from concert_platform.engines.moto_ext._base import EmulatedResource


def _generate(spec: dict[str, Any]) -> str:
    excluded = set(spec.get("ExcludeCharacters", ""))
    alphabet = [c for c in string.ascii_letters + string.digits + "!#$%&*+-=?^_" if c not in excluded]
    password = "".join(secrets.choice(alphabet) for _ in range(int(spec.get("PasswordLength", 32))))
    template = spec.get("SecretStringTemplate")
    if template:
        document = json.loads(template)
        document[spec.get("GenerateStringKey", "password")] = password
        return json.dumps(document)
    return password


class Secret(EmulatedResource, CloudFormationModel):
    CFN_TYPE = "AWS::SecretsManager::Secret"
    ATTRIBUTES = ("Id",)

    def __init__(self, arn: str) -> None:
        self.arn = arn
        self.Id = arn

    @property
    def physical_resource_id(self) -> str:
        return self.arn

    @classmethod
    def create(cls, properties: dict[str, Any], account_id: str, region_name: str, logical_id: str) -> Secret:
        value = properties.get("SecretString")
        if value is None and "GenerateSecretString" in properties:
            value = _generate(properties["GenerateSecretString"])
        created = sm_models.secretsmanager_backends[account_id][region_name].create_secret(
            name=properties.get("Name") or f"{logical_id}-{secrets.token_hex(6)}",
            secret_string=value,
            secret_binary=None,
            description=properties.get("Description"),
            tags=properties.get("Tags", []),
            kms_key_id=properties.get("KmsKeyId"),
            client_request_token=None,
            replica_regions=[],
            force_overwrite=False,
        )
        return cls(json.loads(created)["ARN"] if isinstance(created, str) else created["ARN"])

    def remove(self, account_id: str, region_name: str) -> None:
        sm_models.secretsmanager_backends[account_id][region_name].delete_secret(
            self.arn, recovery_window_in_days=None, force_delete_without_recovery=True
        )
