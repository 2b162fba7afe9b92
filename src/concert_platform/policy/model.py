"""Findings, check errors, skipped files and the base class of the platform's own checks."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, ClassVar

from concert_platform.policy.cfn import Values


@dataclass(frozen=True)
class Finding:
    check_id: str
    practice: str
    template: str  # path relative to the scanned directory, in POSIX form
    resource: str
    line: int
    message: str
    tool: str
    severity: str = "error"  # error, warning or note (SARIF levels)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Skip:
    check_id: str
    template: str
    resource: str
    reason: str
    tool: str


@dataclass(frozen=True)
class CheckError:
    """A check (or a whole tool) that raised: reported, never a traceback, never a finding."""

    check_id: str
    template: str
    resource: str
    message: str
    tool: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class SkippedFile:
    """A file under the scanned directory that is not a CloudFormation template."""

    path: str
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Template:
    path: Path
    name: str
    data: dict[str, Any]  # as the checks read it: SAM and Fn::ForEach already expanded
    lines: dict[str, int]  # logical id -> line of the resource in the source file
    # generated logical id (SAM, Fn::ForEach) -> the source resource it comes from
    origin: dict[str, str] = field(default_factory=dict)
    current_resource: str = "(template)"  # the resource a check is reading, for error reports

    @cached_property
    def values(self) -> Values:
        return Values(self.data)

    def resources(self, *types: str) -> Iterator[tuple[str, dict[str, Any]]]:
        resources = self.data.get("Resources")
        for logical_id, resource in (resources if isinstance(resources, dict) else {}).items():
            if isinstance(resource, dict) and (not types or resource.get("Type") in types):
                self.current_resource = str(logical_id)
                yield str(logical_id), resource
        self.current_resource = "(template)"

    def properties(self, resource: dict[str, Any]) -> dict[str, Any]:
        properties = resource.get("Properties")
        return properties if isinstance(properties, dict) else {}

    def source_of(self, logical_id: str) -> str:
        return self.origin.get(logical_id, logical_id)

    def line_of(self, logical_id: str) -> int:
        return self.lines.get(logical_id) or self.lines.get(self.source_of(logical_id)) or 1


class Check:
    """One practice, one check: metadata first, then `scan` yielding (template, resource, message)."""

    id: ClassVar[str] = ""
    practice: ClassVar[str] = ""
    source: ClassVar[str] = ""  # the deployment guide section the practice comes from
    scope: ClassVar[str] = "template"  # "template": one at a time; "set": all templates together

    def scan(self, templates: list[Template]) -> Iterator[tuple[Template, str, str]]:
        raise NotImplementedError


#: PropertyCheck.expected for "present and not empty", whatever the value
PRESENT: Any = object()


class PropertyCheck(Check):
    """A check of one property of one resource type, as checkov's BaseResourceValueCheck: the
    subclass says which type, which property path, what value it must have (or PRESENT), and the
    finding's text (`{where}` marks where the branch of a condition is named)."""

    resource_type: ClassVar[str] = ""
    path: ClassVar[tuple[str, ...]] = ()
    expected: ClassVar[Any] = PRESENT
    message: ClassVar[str] = ""

    def scan(self, templates: list[Template]) -> Iterator[tuple[Template, str, str]]:
        for template in templates:
            values = template.values
            for lid, resource in template.resources(self.resource_type):
                for branch in values.get(template.properties(resource), *self.path):
                    if self.fails(values, branch.value):
                        yield template, lid, self.message.format(where=branch.where())

    def fails(self, values: Any, value: Any) -> bool:
        from concert_platform.policy.cfn import MISSING, UNKNOWN

        if self.expected is PRESENT:
            return value is MISSING or value in ("", None)
        resolved = values.resolve(value)
        return resolved is not UNKNOWN and resolved != self.expected
