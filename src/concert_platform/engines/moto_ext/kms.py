"""KMS: keys created by CloudFormation keep their key policy as JSON text.

moto stores the template's KeyPolicy object as-is; DescribeKey then fails parsing it (HTTP 500)."""

from __future__ import annotations

import json
from typing import Any

from moto.kms import models as kms_models


def patch_key_model() -> None:
    key_cls = kms_models.Key
    original = key_cls.create_from_cloudformation_json.__func__  # type: ignore[attr-defined]

    def create_from_cloudformation_json(
        cls: Any,
        resource_name: str,
        cloudformation_json: Any,
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> Any:
        properties = cloudformation_json.get("Properties", {})
        if isinstance(properties.get("KeyPolicy"), dict):
            cloudformation_json = {
                **cloudformation_json,
                "Properties": {**properties, "KeyPolicy": json.dumps(properties["KeyPolicy"])},
            }
        return original(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)

    key_cls.create_from_cloudformation_json = classmethod(create_from_cloudformation_json)  # type: ignore[assignment]
