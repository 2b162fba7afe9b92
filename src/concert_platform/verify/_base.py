"""The verification table engine: one declarative table per resource type, read by one checker.

A `Table` names how to describe a deployed resource through its own service (`describe`, which
returns the service's answer as a dict) and, for each property the templates can declare, the
`Field` of that answer that holds it and how to compare (`exact`, `as_set`, `subset`,
`policy`, `same_id`, ...). `check` compares every declared property of one resource:

- a property with a field is compared by content; a field the engine does not return is a
  mismatch, never a pass, and the problem names the property;
- a property the provider schema marks write-only, or that the table says no API returns, is
  "not comparable" with the reason;
- a declared property with neither is a mismatch ("no verification rule"), so a new property
  in a template cannot pass unseen.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from concert_platform.engines.base import Engine
from concert_platform.resolve import UNRESOLVED, Resolver, contains_unresolved

MISSING: Any = type("Missing", (), {"__repr__": lambda _self: "MISSING", "__bool__": lambda _self: False})()


@dataclass
class Resource:
    stack: str  # stack key
    logical_id: str
    type: str
    physical_id: str
    props: dict[str, Any]  # template properties, resolved where possible


@dataclass
class VerifyContext:
    engine: Engine
    region: str
    account: str
    resolver: Resolver | None = None
    resources: dict[str, Resource] = field(default_factory=dict)

    def client(self, service: str) -> Any:
        return self.engine.client(service)

    def arn(self, service: str, resource: str) -> str:
        return f"arn:aws:{service}:{self.region}:{self.account}:{resource}"


# ---- comparators: (declared, observed) -> the differences, each naming its sub-path ------------
Compare = Callable[[Any, Any], list[str]]


def normalise_scalar(value: Any) -> Any:
    """Template values are often strings where the service answers numbers or booleans."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return str(int(value)) if float(value).is_integer() else str(value)
    if isinstance(value, str):
        if value.lower() in ("true", "false"):
            return value.lower() == "true"
        try:
            number = float(value)
        except ValueError:
            return value
        return str(int(number)) if number.is_integer() else str(number)
    return value


def _show(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, default=str) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 160 else text[:157] + "..."


def _diff(declared: Any, observed: Any, where: str, unordered: bool) -> list[str]:
    """Differences between a declared value and the engine's; the engine may add keys, never drop."""
    if isinstance(declared, dict):
        if not isinstance(observed, dict):
            return [f"{where}: engine has {_show(observed)}, template sets {_show(declared)}"]
        problems: list[str] = []
        for key, value in declared.items():
            if key not in observed or observed[key] is None:
                problems.append(f"{where}.{key}: the engine does not return it")
            else:
                problems += _diff(value, observed[key], f"{where}.{key}", unordered)
        return problems
    if isinstance(declared, list):
        if not isinstance(observed, list):
            return [f"{where}: engine has {_show(observed)}, template sets {_show(declared)}"]
        if len(declared) != len(observed):
            return [f"{where}: engine has {_show(observed)}, template sets {_show(declared)}"]
        if not unordered:
            problems = []
            for index, (want, got) in enumerate(zip(declared, observed, strict=True)):
                problems += _diff(want, got, f"{where}[{index}]", unordered)
            return problems
        remaining = list(observed)
        for want in declared:
            match = next((got for got in remaining if not _diff(want, got, where, unordered)), MISSING)
            if match is MISSING:
                return [f"{where}: engine has {_show(observed)}, template sets {_show(declared)}"]
            remaining.remove(match)
        return []
    if normalise_scalar(declared) != normalise_scalar(observed):
        return [f"{where}: engine has {_show(observed)}, template sets {_show(declared)}"]
    return []


def exact(declared: Any, observed: Any) -> list[str]:
    """Same content; lists in order (KeySchema's HASH then RANGE, a function's layer order)."""
    return _diff(declared, observed, "", unordered=False)


def as_set(declared: Any, observed: Any) -> list[str]:
    """Same content; lists compared as sets at every depth (AWS does not keep their order)."""
    return _diff(declared, observed, "", unordered=True)


def subset(declared: Any, observed: Any) -> list[str]:
    """Every declared item is present; the engine may hold more (tags CloudFormation adds)."""
    if not isinstance(declared, list) or not isinstance(observed, list):
        return as_set(declared, observed)
    missing = [want for want in declared if not any(not as_set(want, got) for got in observed)]
    return [f": {_show(item)} missing" for item in missing]


def member(declared: Any, observed: Any) -> list[str]:
    """The declared value is one of the engine's (a VPC among a gateway's attachments)."""
    if not isinstance(observed, list) or normalise_scalar(declared) not in [
        normalise_scalar(o) for o in observed
    ]:
        return [f": {_show(declared)} not among {_show(observed)}"]
    return []


def _short_id(value: Any) -> Any:
    return value.rsplit(":", 1)[-1].rsplit("/", 1)[-1] if isinstance(value, str) else value


def same_id(declared: Any, observed: Any) -> list[str]:
    """An id and the ARN that ends in it name the same resource (KMS keys, layers, roles)."""
    if isinstance(declared, list):
        return as_set([_short_id(d) for d in declared], [_short_id(o) for o in observed or []])
    if _short_id(declared) != _short_id(observed):
        return [f": engine has {_show(observed)}, template sets {_show(declared)}"]
    return []


def json_document(declared: Any, observed: Any) -> list[str]:
    """JSON text on either side (dashboard bodies): compared parsed."""
    return exact(_parse_json(declared), _parse_json(observed))


def _parse_json(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def normalise_policy(document: Any) -> Any:
    """An IAM policy document as AWS treats it: JSON text parsed, one-or-many values as sorted lists."""
    document = _parse_json(document)
    if not isinstance(document, dict):
        return document
    statements = []
    for statement in _as_list(document.get("Statement", [])):
        if not isinstance(statement, dict):
            statements.append(statement)
            continue
        item: dict[str, Any] = {}
        for key, value in statement.items():
            if key in ("Action", "NotAction", "Resource", "NotResource"):
                item[key] = sorted({str(v) for v in _as_list(value)})
            elif key in ("Principal", "NotPrincipal"):
                principal = {"AWS": "*"} if value == "*" else value
                item[key] = {k: sorted({str(v) for v in _as_list(v_)}) for k, v_ in principal.items()}
            elif key == "Condition" and isinstance(value, dict):
                item[key] = {
                    op: {
                        k: sorted({str(normalise_scalar(v)) for v in _as_list(v_)}) for k, v_ in cond.items()
                    }
                    for op, cond in value.items()
                }
            else:
                item[key] = value
        statements.append(item)
    normalised = {k: v for k, v in document.items() if k not in ("Statement", "Id")}
    normalised["Statement"] = statements
    return normalised


def policy(declared: Any, observed: Any) -> list[str]:
    """Policy documents by content: statements as a set, each compared whole (no extra statement)."""
    want, got = normalise_policy(declared), normalise_policy(observed)
    if not isinstance(want, dict) or not isinstance(got, dict):
        return exact(want, got)
    problems = []
    if want.get("Version") != got.get("Version"):
        problems.append(f".Version: engine has {got.get('Version')!r}, template sets {want.get('Version')!r}")
    actual = {json.dumps(s, sort_keys=True): s for s in got["Statement"]}
    wanted = {json.dumps(s, sort_keys=True): s for s in want["Statement"]}
    extra = {text: s for text, s in actual.items() if text not in wanted}
    for text, statement in wanted.items():
        if text in actual:
            continue
        sid = statement.get("Sid") if isinstance(statement, dict) else None
        same_sid = next(
            (t for t, s in extra.items() if sid and isinstance(s, dict) and s.get("Sid") == sid), None
        )
        if same_sid is not None:
            problems.append(
                f".Statement {sid!r}: engine has {_show(extra.pop(same_sid))}, template sets {_show(statement)}"
            )
        else:
            problems.append(f".Statement: {_show(statement)} is missing")
    problems += [f".Statement: the engine holds an undeclared statement {_show(s)}" for s in extra.values()]
    return problems


# ---- the table --------------------------------------------------------------------------------
View = Callable[[Any], Any]


@dataclass(frozen=True)
class Field:
    """Where the describe answer holds a declared property, and how the two are compared.

    `path` is a key, or keys joined by dots, into the describe answer; `view` turns the service's
    shape into the template's (e.g. API Gateway's `methodSettings` map into `MethodSettings`).
    """

    path: str
    compare: Compare = exact
    view: View | None = None


@dataclass(frozen=True)
class Table:
    type: str
    #: the service's answer for one resource (several calls merged into one dict); raises
    #: ClientError when the resource does not exist
    describe: Callable[[VerifyContext, Resource], dict[str, Any]]
    fields: Mapping[str, Field]
    #: declared property -> why no API returns it (beyond the provider schema's write-only list)
    not_comparable: Mapping[str, str] = field(default_factory=dict)
    #: GetAtt attribute -> its value through the service (used to resolve the templates)
    attributes: Mapping[str, Callable[[VerifyContext, str], Any]] = field(default_factory=dict)


TABLES: dict[str, Table] = {}


def register(*tables: Table) -> None:
    for table in tables:
        TABLES[table.type] = table


def lookup(observed: Mapping[str, Any], path: str) -> Any:
    node: Any = observed
    for key in path.split("."):
        if not isinstance(node, Mapping) or key not in node or node[key] is None:
            return MISSING
        node = node[key]
    return node


def write_only(resource_type: str) -> tuple[str, ...]:
    """Write-only property paths (no read returns them), from the provider schemas cfn-lint ships
    (concert_platform.provider_schemas keeps the answers per cfn-lint version)."""
    from concert_platform import provider_schemas

    return provider_schemas.write_only(resource_type)


def _write_only_reason(resource_type: str, name: str, declared: Any) -> str | None:
    paths = write_only(resource_type)
    if name in paths:
        return "write-only in the provider schema: no read returns it"
    if isinstance(declared, dict) and declared:
        sub = [f"{name}/{key}" for key in declared]
        if all(path in paths for path in sub):
            return f"write-only in the provider schema ({', '.join(sub)}): no read returns it"
    return None


@dataclass
class Outcome:
    """One resource's verification: what was compared, what cannot be, and what differs."""

    compared: list[str] = field(default_factory=list)
    not_comparable: dict[str, str] = field(default_factory=dict)
    mismatches: list[str] = field(default_factory=list)

    @property
    def verified(self) -> bool:
        return not self.mismatches


def check(table: Table, resource: Resource, observed: Mapping[str, Any]) -> Outcome:
    """Compare every declared property of `resource` with the engine's answer `observed`."""
    outcome = Outcome()
    for name, declared in resource.props.items():
        row = table.fields.get(name)
        reason = (
            None
            if row
            else (table.not_comparable.get(name) or _write_only_reason(table.type, name, declared))
        )
        if row is None:
            if reason:
                outcome.not_comparable[name] = reason
            else:
                outcome.mismatches.append(f"{name}: no verification rule for this declared property")
            continue
        if contains_unresolved(declared):
            outcome.not_comparable[name] = (
                "the template's value cannot be resolved against the deployed stacks"
            )
            continue
        problems = compare_field(name, row, declared, observed)
        if problems:
            outcome.mismatches += problems
        else:
            outcome.compared.append(name)
    return outcome


def compare_field(name: str, row: Field, declared: Any, observed: Mapping[str, Any]) -> list[str]:
    value = lookup(observed, row.path)
    if value is MISSING:
        return [f"{name}: the engine does not return it ({row.path})"]
    if row.view is not None:
        try:
            value = row.view(value)
        except (KeyError, IndexError, TypeError, ValueError, AttributeError) as exc:
            return [f"{name}: the engine's {row.path} is unreadable ({type(exc).__name__}: {exc})"]
        if value is MISSING:
            return [f"{name}: the engine does not return it ({row.path})"]
    return [f"{name}{problem}" for problem in row.compare(declared, value)]


class NotFound(Exception):
    """The service answers, but not with the declared resource."""


class Unusable(Exception):
    """The resource exists but is not in a usable state (a key pending deletion, a failed NAT gateway)."""


def first(items: Iterable[Any], predicate: Callable[[Any], bool], what: str) -> Any:
    """The one item that matches, or NotFound naming what was looked for."""
    for item in items:
        if predicate(item):
            return item
    raise NotFound(what)


def by_id(items: Iterable[Any], key: str, value: Any, what: str) -> Any:
    """The item whose `key` is `value`, never simply the first answered: an engine may ignore a
    lookup's filter and answer with every environment's resources on a shared endpoint."""
    return first(items, lambda item: item.get(key) == value, f"{what} {value}")


def parse_policy_text(text: Any) -> Any:
    return json.loads(text) if isinstance(text, str) and text else text


__all__ = [
    "MISSING",
    "TABLES",
    "UNRESOLVED",
    "Field",
    "NotFound",
    "Outcome",
    "Resource",
    "Table",
    "Unusable",
    "VerifyContext",
    "as_set",
    "by_id",
    "check",
    "exact",
    "json_document",
    "member",
    "policy",
    "register",
    "same_id",
    "subset",
]
