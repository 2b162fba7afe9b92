"""CloudWatch metric math, the part alarms use: evaluated per evaluation period.

Each query id names a series: one value per period, None where the period has no data.
Supported: numbers, ids, `+ - * /`, unary minus, parentheses, comparisons (`> >= < <= == !=`,
giving 1 or 0), `AND`/`OR`, `IF(cond, a, b)`, `FILL(series, value)`, and the array functions
`MAX MIN SUM AVG` over `[a, b, ...]`. As in CloudWatch, arithmetic on a period where an operand
has no data gives no data; the array functions use the members that have data. Anything else
raises ValueError naming the expression, so an alarm cannot silently evaluate an expression
nobody implemented.
"""

from __future__ import annotations

import re
from collections.abc import Callable

Series = list[float | None]

_TOKEN = re.compile(
    r"\s*(?:(?P<number>\d+(?:\.\d+)?)|(?P<name>[A-Za-z_][A-Za-z0-9_]*)|"
    r"(?P<op>>=|<=|==|!=|[-+*/(),<>\[\]]))"
)


def _tokens(expression: str) -> list[tuple[str, str]]:
    tokens, position = [], 0
    text = expression.rstrip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if not match:
            raise ValueError(f"unsupported metric math near {text[position:]!r} in {expression!r}")
        kind = match.lastgroup or ""
        tokens.append((kind, match.group(kind)))
        position = match.end()
    return tokens


def _binary(op: str, a: float | None, b: float | None) -> float | None:
    if a is None or b is None:
        return None
    if op == "/":
        return None if b == 0 else a / b
    operations: dict[str, Callable[[float, float], float]] = {
        "+": lambda x, y: x + y,
        "-": lambda x, y: x - y,
        "*": lambda x, y: x * y,
        ">": lambda x, y: float(x > y),
        ">=": lambda x, y: float(x >= y),
        "<": lambda x, y: float(x < y),
        "<=": lambda x, y: float(x <= y),
        "==": lambda x, y: float(x == y),
        "!=": lambda x, y: float(x != y),
        "AND": lambda x, y: float(bool(x) and bool(y)),
        "OR": lambda x, y: float(bool(x) or bool(y)),
    }
    return operations[op](a, b)


_ARRAY_FUNCTIONS: dict[str, Callable[[list[float]], float]] = {
    "MAX": max,
    "MIN": min,
    "SUM": sum,
    "AVG": lambda values: sum(values) / len(values),
}


class _Evaluator:
    def __init__(self, expression: str, series: dict[str, Series], length: int) -> None:
        self.expression = expression
        self.tokens = _tokens(expression)
        self.series = series
        self.length = length
        self.index = 0

    def fail(self, what: str) -> ValueError:
        return ValueError(f"{what} in metric math {self.expression!r}")

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def take(self, value: str | None = None) -> tuple[str, str]:
        token = self.peek()
        if token is None or (value is not None and token[1].upper() != value):
            raise self.fail(f"expected {value or 'more'}, found {token[1] if token else 'the end'}")
        self.index += 1
        return token

    def run(self) -> Series:
        result = self.logical()
        if self.peek() is not None:
            raise self.fail(f"unexpected {self.peek()[1]!r}")  # type: ignore[index]
        return result

    def _fold(self, next_level: Callable[[], Series], operators: tuple[str, ...]) -> Series:
        left = next_level()
        while (token := self.peek()) and token[1].upper() in operators:
            op = self.take()[1].upper()
            right = next_level()
            left = [_binary(op, a, b) for a, b in zip(left, right, strict=True)]
        return left

    def logical(self) -> Series:
        return self._fold(self.comparison, ("AND", "OR"))

    def comparison(self) -> Series:
        return self._fold(self.additive, (">", ">=", "<", "<=", "==", "!="))

    def additive(self) -> Series:
        return self._fold(self.multiplicative, ("+", "-"))

    def multiplicative(self) -> Series:
        return self._fold(self.unary, ("*", "/"))

    def unary(self) -> Series:
        token = self.peek()
        if token and token[1] == "-":
            self.take()
            return [None if v is None else -v for v in self.unary()]
        return self.primary()

    def primary(self) -> Series:
        kind, value = self.take()
        if kind == "number":
            return [float(value)] * self.length
        if value == "(":
            inner = self.logical()
            self.take(")")
            return inner
        if kind != "name":
            raise self.fail(f"unexpected {value!r}")
        upper = value.upper()
        if (token := self.peek()) and token[1] == "(":
            return self.call(upper)
        if value not in self.series:
            raise self.fail(f"unknown id {value!r}")
        return self.series[value]

    def call(self, function: str) -> Series:
        self.take("(")
        if function in _ARRAY_FUNCTIONS:
            self.take("[")
            members = [self.logical()]
            while self.peek() and self.peek()[1] == ",":  # type: ignore[index]
                self.take(",")
                members.append(self.logical())
            self.take("]")
            self.take(")")
            combine = _ARRAY_FUNCTIONS[function]
            out: Series = []
            for period in range(self.length):
                present = [m[period] for m in members if m[period] is not None]
                out.append(combine(present) if present else None)
            return out
        arguments = [self.logical()]
        while self.peek() and self.peek()[1] == ",":  # type: ignore[index]
            self.take(",")
            arguments.append(self.logical())
        self.take(")")
        if function == "IF" and len(arguments) in (2, 3):
            condition, then = arguments[0], arguments[1]
            otherwise = arguments[2] if len(arguments) == 3 else [None] * self.length
            return [
                None if c is None else (t if c else o)
                for c, t, o in zip(condition, then, otherwise, strict=True)
            ]
        if function == "FILL" and len(arguments) == 2:
            return [f if v is None else v for v, f in zip(arguments[0], arguments[1], strict=True)]
        raise self.fail(f"unsupported function {function}")


def evaluate(expression: str, series: dict[str, Series], length: int) -> Series:
    """The expression's value in each of `length` periods (None where it has no data)."""
    return _Evaluator(expression, series, length).run()
