"""Helpers for reading CloudFormation values the way our checks need them."""

from __future__ import annotations

import json
from typing import Any


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def is_true(value: Any) -> bool:
    return value is True or str(value).lower() == "true"


def text(value: Any) -> str:
    return json.dumps(value, default=str)


def production_conditions(template: dict[str, Any]) -> set[str]:
    """Conditions that hold exactly when Environment is production."""
    names = set()
    for name, expression in template.get("Conditions", {}).items():
        if isinstance(expression, dict) and "Fn::Equals" in expression:
            left, right = expression["Fn::Equals"]
            if {"Ref": "Environment"} in (left, right) and "production" in (left, right):
                names.add(name)
    return names


def production_value(template: dict[str, Any], value: Any) -> Any:
    """The value a property takes in production: the true branch of Fn::If on a production condition."""
    if isinstance(value, dict) and "Fn::If" in value:
        condition, when_true, when_false = value["Fn::If"]
        return when_true if condition in production_conditions(template) else when_false
    return value
