"""Resolve a deployed template's intrinsic functions against what the engine reports.

Used by verification to learn what a property *should* be (the bucket name, the table name in
an environment variable, the retention in days) and by cross-stack checks. Anything that
cannot be resolved from parameters, pseudo parameters, physical ids, exports, mappings and
conditions becomes UNRESOLVED and is not compared.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any


class _Unresolved:
    def __repr__(self) -> str:
        return "UNRESOLVED"

    def __bool__(self) -> bool:
        return False


UNRESOLVED: Any = _Unresolved()
NO_VALUE: Any = object()  # AWS::NoValue: the property is absent


def contains_unresolved(value: Any) -> bool:
    if value is UNRESOLVED:
        return True
    if isinstance(value, dict):
        return any(contains_unresolved(v) for v in value.values())
    if isinstance(value, list):
        return any(contains_unresolved(v) for v in value)
    return False


class Resolver:
    def __init__(
        self,
        template: Mapping[str, Any],
        parameters: Mapping[str, str],
        pseudo: Mapping[str, str],
        physical_ids: Mapping[str, str],
        exports: Mapping[str, str],
        get_att: Callable[[str, str], Any] | None = None,
        azs: list[str] | None = None,
    ) -> None:
        self.template = template
        self.parameters = dict(parameters)
        self.pseudo = dict(pseudo)
        self.physical_ids = physical_ids
        self.exports = exports
        self._get_att = get_att or (lambda _logical, _attr: UNRESOLVED)
        self.azs = azs or []
        self._conditions: dict[str, bool] = {}
        self.unresolved_imports: list[str] = []

    # ---- conditions ------------------------------------------------------------------------
    def condition(self, name: str) -> bool:
        if name not in self._conditions:
            self._conditions[name] = bool(self.resolve(self.template.get("Conditions", {})[name]))
        return self._conditions[name]

    def resource_enabled(self, resource: Mapping[str, Any]) -> bool:
        condition = resource.get("Condition")
        return True if condition is None else self.condition(condition)

    # ---- values ----------------------------------------------------------------------------
    def ref(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in self.pseudo:
            return self.pseudo[name]
        if name in self.parameters:
            value = self.parameters[name]
            declared = self.template.get("Parameters", {}).get(name, {})
            if (
                str(declared.get("Type", "")).startswith("List<")
                or declared.get("Type") == "CommaDelimitedList"
            ):
                return value.split(",") if value else []
            return value
        if name in self.physical_ids:
            return self.physical_ids[name]
        return UNRESOLVED

    def resolve(self, node: Any) -> Any:
        if isinstance(node, list):
            items = [self.resolve(item) for item in node]
            return [item for item in items if item is not NO_VALUE]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            ((key, arg),) = node.items()
            handler = _FUNCTIONS.get(key)
            if handler is not None:
                return handler(self, arg)
        resolved = {k: self.resolve(v) for k, v in node.items()}
        return {k: v for k, v in resolved.items() if v is not NO_VALUE}


def _sub(resolver: Resolver, arg: Any) -> Any:
    text, local = (arg, {}) if isinstance(arg, str) else (arg[0], resolver.resolve(arg[1]))
    unresolved = False

    def replace(match: re.Match[str]) -> str:
        nonlocal unresolved
        name = match.group(1)
        if name.startswith("!"):
            return "${" + name[1:] + "}"
        if name in local:
            value = local[name]
        elif "." in name:
            logical, attr = name.split(".", 1)
            value = resolver._get_att(logical, attr)
        else:
            value = resolver.ref(name)
        if value is UNRESOLVED or value is NO_VALUE:
            unresolved = True
            return ""
        return str(value)

    out = re.sub(r"\$\{([^}]+)\}", replace, text)
    return UNRESOLVED if unresolved else out


def _join(resolver: Resolver, arg: Any) -> Any:
    delimiter, values = arg[0], resolver.resolve(arg[1])
    if values is UNRESOLVED or not isinstance(values, list) or any(contains_unresolved(v) for v in values):
        return UNRESOLVED
    return str(delimiter).join(str(v) for v in values)


def _select(resolver: Resolver, arg: Any) -> Any:
    index, values = resolver.resolve(arg[0]), resolver.resolve(arg[1])
    if index is UNRESOLVED or not isinstance(values, list):
        return UNRESOLVED
    try:
        return values[int(index)]
    except (IndexError, ValueError):
        return UNRESOLVED


def _split(resolver: Resolver, arg: Any) -> Any:
    source = resolver.resolve(arg[1])
    return UNRESOLVED if source is UNRESOLVED else str(source).split(arg[0])


def _import(resolver: Resolver, arg: Any) -> Any:
    name = resolver.resolve(arg)
    if name is UNRESOLVED:
        return UNRESOLVED
    if name not in resolver.exports:
        resolver.unresolved_imports.append(str(name))
        return UNRESOLVED
    return resolver.exports[name]


def _if(resolver: Resolver, arg: Any) -> Any:
    return resolver.resolve(arg[1] if resolver.condition(arg[0]) else arg[2])


def _equals(resolver: Resolver, arg: Any) -> Any:
    left, right = resolver.resolve(arg[0]), resolver.resolve(arg[1])
    return str(left) == str(right)


def _find_in_map(resolver: Resolver, arg: Any) -> Any:
    keys = [resolver.resolve(a) for a in arg]
    if any(k is UNRESOLVED for k in keys):
        return UNRESOLVED
    try:
        return resolver.template["Mappings"][keys[0]][keys[1]][keys[2]]
    except KeyError:
        return UNRESOLVED


def _get_att(resolver: Resolver, arg: Any) -> Any:
    logical, attr = arg.split(".", 1) if isinstance(arg, str) else arg
    return resolver._get_att(logical, resolver.resolve(attr))


_FUNCTIONS: dict[str, Callable[[Resolver, Any], Any]] = {
    "Ref": lambda r, a: r.ref(a),
    "Fn::Sub": _sub,
    "Fn::Join": _join,
    "Fn::Select": _select,
    "Fn::Split": _split,
    "Fn::ImportValue": _import,
    "Fn::If": _if,
    "Fn::Equals": _equals,
    "Fn::Not": lambda r, a: not r.resolve(a[0]),
    "Fn::And": lambda r, a: all(r.resolve(x) for x in a),
    "Fn::Or": lambda r, a: any(r.resolve(x) for x in a),
    "Condition": lambda r, a: r.condition(a),
    "Fn::FindInMap": _find_in_map,
    "Fn::GetAtt": _get_att,
    "Fn::GetAZs": lambda r, _a: list(r.azs) or UNRESOLVED,
    "Fn::Base64": lambda r, a: r.resolve(a),
}
