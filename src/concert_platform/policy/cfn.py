"""One reader for CloudFormation property values, the way our checks need them.

Every check reads properties through `Values`: it follows `Fn::If` into both branches (each
branch remembers the conditions it depends on), drops `AWS::NoValue`, resolves `Ref` to a
parameter's default and `Fn::FindInMap` with literal keys, and reads YAML booleans and numbers
written as strings. What cannot be known before deployment (`Fn::GetAtt`, `Fn::ImportValue`, a
parameter without a default...) comes back as `UNKNOWN`, never as a dict a check would trip on.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


class _Unknown:
    def __repr__(self) -> str:
        return "UNKNOWN"


MISSING: Any = _Missing()  # the key is absent, or the value is `Ref: AWS::NoValue`
UNKNOWN: Any = _Unknown()  # a value only known at deploy time

PRODUCTION_LIKE = re.compile(r"^(prod|production|prd|live)$", re.IGNORECASE)
NON_PRODUCTION_LIKE = re.compile(
    r"^(dev|develop|development|test|testing|qa|stage|staging|sandbox|sbx|demo|local)$", re.IGNORECASE
)


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def text(value: Any) -> str:
    return json.dumps(value, default=str)


def intrinsic(value: Any) -> tuple[str, Any] | None:
    """(`Ref` or `Fn::X`, argument) when value is an intrinsic function, else None."""
    if isinstance(value, dict) and len(value) == 1:
        (key, argument), *_ = value.items()
        if key == "Ref" or (isinstance(key, str) and key.startswith("Fn::")):
            return key, argument
    return None


@dataclass(frozen=True)
class Branch:
    """One possible value, with the conditions (name, holds) under which it is the value."""

    value: Any
    conditions: tuple[tuple[str, bool], ...] = ()

    def where(self) -> str:
        if not self.conditions:
            return ""
        return " (when " + " and ".join(f"{n} is {str(h).lower()}" for n, h in self.conditions) + ")"


class Values:
    """Intrinsic-aware reading of one template's values."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data
        parameters = data.get("Parameters")
        self.parameters: dict[str, Any] = parameters if isinstance(parameters, dict) else {}
        conditions = data.get("Conditions")
        self.conditions: dict[str, Any] = conditions if isinstance(conditions, dict) else {}
        mappings = data.get("Mappings")
        self.mappings: dict[str, Any] = mappings if isinstance(mappings, dict) else {}

    # -- branches -------------------------------------------------------------------------

    def branches(self, value: Any, choose: dict[str, bool] | None = None) -> list[Branch]:
        """Every value `value` can take: `Fn::If` expanded (both branches unless `choose` fixes
        a condition), `AWS::NoValue` as MISSING."""
        return list(self._branches(value, (), choose or {}, 0))

    def _branches(
        self, value: Any, conditions: tuple[tuple[str, bool], ...], choose: dict[str, bool], depth: int
    ) -> Iterator[Branch]:
        fn = intrinsic(value)
        if fn and fn[0] == "Fn::If" and isinstance(fn[1], list) and len(fn[1]) == 3 and depth < 20:
            name, when_true, when_false = fn[1]
            name = name if isinstance(name, str) else text(name)
            for holds, branch in ((True, when_true), (False, when_false)):
                if choose.get(name, holds) == holds:
                    yield from self._branches(branch, (*conditions, (name, holds)), choose, depth + 1)
        elif fn == ("Ref", "AWS::NoValue"):
            yield Branch(MISSING, conditions)
        else:
            yield Branch(value, conditions)

    def get(self, node: Any, *keys: str, choose: dict[str, bool] | None = None) -> list[Branch]:
        """The values at `node[key1][key2]...`, following `Fn::If` at every level."""
        current = self.branches(node, choose)
        for key in keys:
            following: list[Branch] = []
            for branch in current:
                if branch.value is UNKNOWN or intrinsic(branch.value):
                    child = UNKNOWN  # a whole block from a parameter or an import: deploy-time
                elif isinstance(branch.value, dict):
                    child = branch.value.get(key, MISSING)
                else:
                    child = MISSING
                for sub in self.branches(child, choose):
                    following.append(Branch(sub.value, branch.conditions + sub.conditions))
            current = following
        return current

    def items(self, node: Any, choose: dict[str, bool] | None = None) -> list[Branch]:
        """The elements of a list property: the list or any item may be an `Fn::If`; NoValue
        items are dropped; a scalar counts as a one-item list."""
        found: list[Branch] = []
        for branch in self.branches(node, choose):
            if branch.value is MISSING:
                continue
            for item in as_list(branch.value):
                for sub in self.branches(item, choose):
                    if sub.value is not MISSING:
                        found.append(Branch(sub.value, branch.conditions + sub.conditions))
        return found

    # -- scalars --------------------------------------------------------------------------

    def resolve(self, value: Any, depth: int = 0) -> Any:
        """A scalar's value: parameter defaults and literal map look-ups followed; UNKNOWN when
        it depends on the deployment; MISSING stays MISSING."""
        if value is MISSING or value is UNKNOWN or depth > 10:
            return value if depth <= 10 else UNKNOWN
        fn = intrinsic(value)
        if fn is None:
            return value
        name, argument = fn
        if name == "Ref" and isinstance(argument, str):
            parameter = self.parameters.get(argument)
            if isinstance(parameter, dict) and "Default" in parameter:
                return self.resolve(parameter["Default"], depth + 1)
            return UNKNOWN
        if name == "Fn::FindInMap" and isinstance(argument, list) and len(argument) >= 3:
            keys = [self.resolve(k, depth + 1) for k in argument[:3]]
            if all(isinstance(k, str) for k in keys):
                found: Any = self.mappings
                for key in keys:
                    found = found.get(key, MISSING) if isinstance(found, dict) else MISSING
                if found is not MISSING:
                    return self.resolve(found, depth + 1)
            return UNKNOWN
        return UNKNOWN  # Fn::Sub, Fn::GetAtt, Fn::ImportValue, Fn::Join...: known at deploy time

    def scalars(self, value: Any, choose: dict[str, bool] | None = None) -> list[Branch]:
        """Each branch of `value`, resolved to a scalar (or UNKNOWN / MISSING)."""
        return [Branch(self.resolve(b.value), b.conditions) for b in self.branches(value, choose)]

    def allowed(self, value: Any) -> list[Any] | None:
        """The AllowedValues of the parameter `value` refers to, if it is such a reference."""
        fn = intrinsic(value)
        if fn and fn[0] == "Ref" and isinstance(fn[1], str):
            parameter = self.parameters.get(fn[1])
            if isinstance(parameter, dict) and isinstance(parameter.get("AllowedValues"), list):
                return list(parameter["AllowedValues"])
        return None

    # -- conditions -----------------------------------------------------------------------

    def production_polarity(self, condition: str, depth: int = 0) -> bool | None:
        """True when the condition holds in production, False when it holds only outside it,
        None when it is not about the environment: whatever the condition and parameter are named,
        a comparison with a production-like value (prod, production...) decides."""
        return self._polarity(self.conditions.get(condition), depth)

    def _polarity(self, expression: Any, depth: int) -> bool | None:
        fn = intrinsic(expression)
        if fn is None or depth > 20:
            return None
        name, argument = fn
        if name == "Fn::Equals" and isinstance(argument, list) and len(argument) == 2:
            literals = [a for a in argument if isinstance(a, str)]
            if any(PRODUCTION_LIKE.match(a) for a in literals):
                return True
            if any(NON_PRODUCTION_LIKE.match(a) for a in literals):
                return False
            return None
        if name == "Fn::Not" and isinstance(argument, list) and len(argument) == 1:
            inner = self._polarity(argument[0], depth + 1)
            return None if inner is None else not inner
        if name == "Condition" and isinstance(argument, str):
            return self.production_polarity(argument, depth + 1)
        if name in ("Fn::And", "Fn::Or") and isinstance(argument, list):
            polarities = [self._polarity(a, depth + 1) for a in argument]
            # And: one part that holds only in production makes the whole hold only in production.
            if name == "Fn::And" and True in polarities:
                return True
            if name == "Fn::Or" and polarities and all(p is True for p in polarities):
                return True
            if name == "Fn::Or" and polarities and all(p is False for p in polarities):
                return False
        return None

    def production_choice(self) -> dict[str, bool]:
        """For `branches(choose=...)`: every condition fixed to what it is in production."""
        choice = {}
        for name in self.conditions:
            polarity = self.production_polarity(name)
            if polarity is not None:
                choice[name] = polarity
        return choice


def as_bool(value: Any) -> bool | None:
    """A resolved scalar as a boolean (YAML true/false, "true"/"false" strings), else None."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return None


def as_int(value: Any) -> int | None:
    """A resolved scalar as an integer (numbers written as strings too), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            return None
    return None


def is_true(value: Any) -> bool:
    return as_bool(value) is True
