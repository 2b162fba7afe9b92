"""Kinesis: streams created by CloudFormation get their StreamEncryption (moto drops it)."""

from __future__ import annotations

from typing import Any

from moto.kinesis import models as kinesis_models


def patch_stream_model() -> None:
    stream_cls = kinesis_models.Stream
    original = stream_cls.create_from_cloudformation_json.__func__  # type: ignore[attr-defined]

    def create_from_cloudformation_json(
        cls: Any,
        resource_name: str,
        cloudformation_json: Any,
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> Any:
        stream = original(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)
        encryption = cloudformation_json.get("Properties", {}).get("StreamEncryption")
        if encryption:
            kinesis_models.kinesis_backends[account_id][region_name].start_stream_encryption(
                stream_arn=None,
                stream_name=stream.stream_name,
                encryption_type=encryption["EncryptionType"],
                key_id=encryption["KeyId"],
            )
        return stream

    stream_cls.create_from_cloudformation_json = classmethod(create_from_cloudformation_json)  # type: ignore[assignment]
