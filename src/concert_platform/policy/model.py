"""Findings and the base class of the platform's own checks."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, ClassVar


@dataclass(frozen=True)
class Finding:
    check_id: str
    practice: str
    template: str
    resource: str
    line: int
    message: str
    tool: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Skip:
    check_id: str
    template: str
    resource: str
    reason: str
    tool: str


@dataclass
class Template:
    path: Path
    name: str
    data: dict[str, Any]
    lines: dict[str, int]  # logical id -> line of the resource

    def resources(self, *types: str) -> Iterator[tuple[str, dict[str, Any]]]:
        for logical_id, resource in self.data.get("Resources", {}).items():
            if isinstance(resource, dict) and (not types or resource.get("Type") in types):
                yield logical_id, resource


class Check:
    """One practice, one check: metadata first, then `scan` yielding (template, resource, message)."""

    id: ClassVar[str] = ""
    practice: ClassVar[str] = ""
    source: ClassVar[str] = ""  # the deployment guide section the practice comes from
    scope: ClassVar[str] = "template"  # "template": one at a time; "set": all templates together

    def scan(self, templates: list[Template]) -> Iterator[tuple[Template, str, str]]:
        raise NotImplementedError
