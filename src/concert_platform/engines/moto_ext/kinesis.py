"""Kinesis: streams created by CloudFormation get their StreamEncryption (moto drops it)."""

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
