"""What each service module says about a deployed resource's life after verification: whether it
still exists (its `PROBES`), how to delete it directly (its `REMOVERS`) and which of its names the
leftover scan lists (its `NAMES`). teardown.py holds the flow that uses them.

Every lookup picks the recorded resource by its id or name, never the first answer of a listing
(an engine may ignore a lookup's filter and answer with another environment's resources).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError


@dataclass
class Recorded:
    stack: str
    stack_name: str
    logical_id: str
    type: str
    physical_id: str
    properties: dict[str, Any] = field(default_factory=dict, repr=False)
    siblings: dict[str, str] = field(default_factory=dict, repr=False)  # logical id -> physical id
    deletion_policy: str = "Delete"  # the template's DeletionPolicy

    def row(self, detail: str) -> dict[str, str]:
        return {
            "stack": self.stack,
            "logical_id": self.logical_id,
            "type": self.type,
            "physical_id": self.physical_id,
            "detail": detail,
        }


Probe = Callable[[Any, Recorded], str | None]
"""Returns None when the resource still exists (or a note about why it counts as gone), raises
Gone or a not-found ClientError when it is gone."""

Remover = Callable[[Any, Recorded], Any]
"""Deletes one resource directly through its service (given the engine's client factory)."""

Namer = Callable[[Any], Iterable[str]]
"""Every name of one kind the service lists (given the engine's client factory)."""

_GONE_CODE = re.compile(r"NotFound|NoSuch|NonExistent|NotExist|Invalid.*\.NotFound|ResourceNotFound")


class Gone(Exception):
    """The service says the resource does not exist."""


def gone_error(exc: ClientError) -> bool:
    """A ClientError that says "not found", however the service spells it."""
    error = exc.response.get("Error", {})
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    message = str(error.get("Message", "")).lower()
    return (
        bool(_GONE_CODE.search(str(error.get("Code", ""))))
        or status == 404
        or "not found" in message
        or "does not exist" in message
    )


def first_or_gone(items: Iterable[Any]) -> Any:
    for item in items:
        return item
    raise Gone


def by_id_or_gone(items: Iterable[Any], key: str, value: Any) -> Any:
    """The item whose `key` is `value`, or Gone: never whatever the engine answered first (an
    engine may ignore a lookup's filter and answer with another environment's resources)."""
    return first_or_gone(item for item in items if item.get(key) == value)


def described(service: str, operation: str, ids_param: str, answer_key: str, key: str) -> Probe:
    """Exists while the service's answer to `operation` (asked for this id) holds this id."""

    def check(c: Any, r: Recorded) -> str | None:
        answer = getattr(c(service), operation)(**{ids_param: [r.physical_id]})
        by_id_or_gone(answer[answer_key], key, r.physical_id)
        return None

    return check


def policy_holder(kind: str, property_name: str, probe: Callable[[Any, str], Any]) -> Probe:
    """A policy resource exists while any of the resources it is attached to does."""

    def check(c: Any, r: Recorded) -> str | None:
        targets = r.properties.get(property_name)
        targets = targets if isinstance(targets, list) else [targets]
        alive = []
        for target in targets:
            if not isinstance(target, str) or not target:
                continue
            try:
                probe(c, target)
                alive.append(target)
            except ClientError as exc:
                if not gone_error(exc):
                    raise
        if not alive:
            raise Gone
        return None

    return check


def paginate(client: Any, operation: str, key: str, **kwargs: Any) -> Iterable[Any]:
    if client.can_paginate(operation):
        for page in client.get_paginator(operation).paginate(**kwargs):
            yield from page.get(key, [])
    else:
        yield from getattr(client, operation)(**kwargs).get(key, [])
