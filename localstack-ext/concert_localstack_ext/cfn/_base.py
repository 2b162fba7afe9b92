"""What every provider here shares: a schema builder and the few ProgressEvent shapes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from localstack.services.cloudformation.resource_provider import (
    OperationStatus,
    ProgressEvent,
    ResourceProvider,
    ResourceRequest,
)

__all__ = [
    "ExtensionProvider",
    "ResourceRequest",
    "done",
    "failed",
    "is_not_found",
    "schema",
    "tags_dict",
    "tags_list",
]


def schema(
    type_name: str,
    primary: list[str],
    *,
    create_only: Sequence[str] = (),
    read_only: Sequence[str] = (),
    write_only: Sequence[str] = (),
) -> dict[str, Any]:
    """The parts of a CloudFormation provider schema LocalStack reads: the physical id
    (``primaryIdentifier``) and which properties force a replacement (``createOnlyProperties``)."""

    def paths(names: Sequence[str]) -> list[str]:
        return [f"/properties/{n}" for n in names]

    return {
        "typeName": type_name,
        "primaryIdentifier": paths(primary),
        "createOnlyProperties": paths(create_only),
        "readOnlyProperties": paths(read_only),
        "writeOnlyProperties": paths(write_only),
    }


def done(model: dict, request: ResourceRequest | None = None) -> ProgressEvent:
    return ProgressEvent(
        status=OperationStatus.SUCCESS,
        resource_model=model,
        custom_context=request.custom_context if request else {},
    )


def failed(message: str, model: dict | None = None) -> ProgressEvent:
    return ProgressEvent(status=OperationStatus.FAILED, resource_model=model or {}, message=message)


def tags_list(tags: list[dict] | None) -> list[dict]:
    return [{"Key": t["Key"], "Value": str(t["Value"])} for t in tags or []]


def tags_dict(tags: list[dict] | None) -> dict[str, str]:
    return {t["Key"]: str(t["Value"]) for t in tags or []}


def is_not_found(error: Exception) -> bool:
    """A ClientError whose code says the resource is already gone (delete is idempotent)."""
    code = getattr(error, "response", {}).get("Error", {}).get("Code", "")
    return (
        "NotFound" in code
        or code.endswith(".NotFound")
        or code
        in {
            "ResourceNotFoundException",
            "EntityNotFoundException",
            "TrailNotFoundException",
            "ObjectNotFoundException",
        }
    )


class ExtensionProvider(ResourceProvider[dict]):
    """Base of this extension's providers. ``read`` answers the model from the service (subclasses
    implement ``describe``); ``update`` defaults to delete-free property updates done by subclasses."""

    TYPE: str
    SCHEMA: dict[str, Any]

    def describe(self, request: ResourceRequest) -> dict | None:
        raise NotImplementedError

    def read(self, request: ResourceRequest) -> ProgressEvent:
        found = self.describe(request)
        if found is None:
            return failed(f"{self.TYPE} {request.desired_state!r} not found")
        return done(found, request)
