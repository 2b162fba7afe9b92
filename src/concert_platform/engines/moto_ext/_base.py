"""What every model in this package shares: the CloudFormationModel boilerplate, written once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class EmulatedResource:
    """Mixin for a CloudFormation resource whose state lives in a real moto backend.

    Models list it before CloudFormationModel (`class X(EmulatedResource, CloudFormationModel)`):
    moto discovers models through CloudFormationModel.__subclasses__(), direct subclasses only.

    Subclasses set `CFN_TYPE` (and `NAME_PROPERTY` when the type has a physical-name property),
    implement `create(properties, account_id, region_name, logical_id)` returning the instance
    and `remove(account_id, region_name)`, and expose `physical_resource_id` and `ATTRIBUTES`.
    """

    CFN_TYPE = ""
    NAME_PROPERTY = ""
    ATTRIBUTES: tuple[str, ...] = ()

    @classmethod
    def cloudformation_type(cls) -> str:
        return cls.CFN_TYPE

    @staticmethod
    def cloudformation_name_type() -> str:
        return ""

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr in cls.ATTRIBUTES

    @classmethod
    def create_from_cloudformation_json(
        cls, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str, **kwargs: Any
    ) -> Any:
        properties = dict(cloudformation_json.get("Properties", {}))
        if cls.NAME_PROPERTY and not properties.get(cls.NAME_PROPERTY):
            properties[cls.NAME_PROPERTY] = resource_name
        return cls.create(properties, account_id, region_name, kwargs.get("LogicalId", ""))

    @classmethod
    def update_from_cloudformation_json(
        cls,
        original_resource: Any,
        new_resource_name: str,
        cloudformation_json: Any,
        account_id: str,
        region_name: str,
    ) -> Any:
        # Replacement semantics: remove the old resource, create the new one.
        original_resource.remove(account_id, region_name)
        return cls.create_from_cloudformation_json(
            new_resource_name, cloudformation_json, account_id, region_name
        )

    def delete(self, account_id: str, region_name: str) -> None:
        self.remove(account_id, region_name)

    @classmethod
    def create(cls, properties: dict[str, Any], account_id: str, region_name: str, logical_id: str) -> Any:
        raise NotImplementedError

    def remove(self, account_id: str, region_name: str) -> None:
        raise NotImplementedError

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        from moto.cloudformation.exceptions import UnformattedGetAttTemplateException

        if attribute_name in self.ATTRIBUTES:
            return getattr(self, attribute_name)
        raise UnformattedGetAttTemplateException()


def as_bool(value: Any) -> bool:
    return value is True or str(value).lower() == "true"


def after_cloudformation_create(
    model_cls: Any, then: Callable[[Any, dict[str, Any], str, str], None]
) -> None:
    """Wrap a moto model's create_from_cloudformation_json: once moto has created the resource,
    `then(resource, properties, account_id, region_name)` applies what moto's model drops."""
    original = model_cls.create_from_cloudformation_json.__func__

    def create(
        cls: Any,
        resource_name: str,
        cloudformation_json: Any,
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> Any:
        created = original(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)
        then(created, cloudformation_json.get("Properties", {}), account_id, region_name)
        return created

    model_cls.create_from_cloudformation_json = classmethod(create)
