"""Kinesis: streams created or updated by CloudFormation get their StreamEncryption (moto drops it)."""

from __future__ import annotations

from typing import Any

from moto.kinesis import models as kinesis_models

from concert_platform.engines.moto_ext._base import after_cloudformation_create


def patch_stream_model() -> None:

    def encrypt(stream: Any, properties: dict[str, Any], account_id: str, region_name: str) -> None:
        encryption = properties.get("StreamEncryption")
        if encryption:
            kinesis_models.kinesis_backends[account_id][region_name].start_stream_encryption(
                stream_arn=None,
                stream_name=stream.stream_name,
                encryption_type=encryption["EncryptionType"],
                key_id=encryption["KeyId"],
            )

    after_cloudformation_create(kinesis_models.Stream, encrypt)
    original_update = kinesis_models.Stream.update_from_cloudformation_json.__func__  # type: ignore[attr-defined]

    def update(cls: Any, original_resource: Any, new_resource_name: str, cloudformation_json: Any,
               account_id: str, region_name: str) -> Any:  # fmt: skip
        updated = original_update(
            cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name
        )
        encryption = cloudformation_json.get("Properties", {}).get("StreamEncryption")
        if encryption and (updated.encryption_type, updated.key_id) != (
            encryption["EncryptionType"],
            encryption["KeyId"],
        ):
            encrypt(updated, cloudformation_json["Properties"], account_id, region_name)
        return updated

    kinesis_models.Stream.update_from_cloudformation_json = classmethod(update)  # type: ignore[assignment]
