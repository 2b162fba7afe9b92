"""CloudWatch Logs filter patterns: the subset our templates use, evaluated like CloudWatch does.

Supported: JSON patterns `{ $.a.b = "text" }`, `!=`, numeric `= != < <= > >=`, string wildcards
(`"ERR*"`, `"*"` meaning "present"), `EXISTS`/`NOT EXISTS`, `IS NULL`, `&&`, `||` and
parentheses; the empty pattern (matches everything); and plain term patterns (`ERROR`,
`"exact phrase"`, `-term` to exclude). Anything else raises ValueError so a template cannot
silently use a pattern nobody evaluated.
"""

from __future__ import annotations

import fnmatch
import json
import re
import shlex
from collections.abc import Callable
from typing import Any

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<lparen>\() | (?P<rparen>\)) | (?P<and>&&) | (?P<or>\|\|) |
        (?P<selector>\$(?:\.[A-Za-z0-9_\-]+|\[\d+\])+) |
        (?P<op>!=|<=|>=|=|<|>) |
        (?P<string>"(?:[^"\\]|\\.)*") |
        (?P<number>-?\d+(?:\.\d+)?) |
        (?P<word>NOT\s+EXISTS|EXISTS|IS\s+NULL|IS\s+TRUE|IS\s+FALSE|[A-Za-z_*][A-Za-z0-9_*\-.]*)
    )""",
    re.VERBOSE,
)
_MISSING = object()


def _tokens(text: str) -> list[tuple[str, str]]:
    tokens, position = [], 0
    while position < len(text):
        if text[position:].strip() == "":
            break
        match = _TOKEN.match(text, position)
        if not match:
            raise ValueError(f"unsupported filter pattern near {text[position:]!r}")
        kind = match.lastgroup or ""
        tokens.append((kind, match.group(kind)))
        position = match.end()
    return tokens


def _select(document: Any, selector: str) -> Any:
    value = document
    for part in re.findall(r"\.([A-Za-z0-9_\-]+)|\[(\d+)\]", selector):
        key, index = part
        if key:
            if not isinstance(value, dict) or key not in value:
                return _MISSING
            value = value[key]
        else:
            if not isinstance(value, list) or int(index) >= len(value):
                return _MISSING
            value = value[int(index)]
    return value


def _compare(value: Any, op: str, literal_kind: str, literal: str) -> bool:
    if value is _MISSING:
        return False
    if literal_kind == "number":
        if isinstance(value, bool) or not isinstance(value, int | float):
            return False
        number = float(literal)
        return {
            "=": value == number,
            "!=": value != number,
            "<": value < number,
            "<=": value <= number,
            ">": value > number,
            ">=": value >= number,
        }[op]
    text = json.loads(literal) if literal_kind == "string" else literal
    if not isinstance(value, str):
        value = json.dumps(value) if not isinstance(value, int | float) else str(value)
    matched = fnmatch.fnmatchcase(value, text) if "*" in text else value == text
    if op == "=":
        return matched
    if op == "!=":
        return not matched
    raise ValueError(f"operator {op} needs a number")


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]]) -> None:
        self.tokens = tokens
        self.index = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def take(self, kind: str) -> str:
        token = self.peek()
        if token is None or token[0] != kind:
            raise ValueError(f"expected {kind} in filter pattern, found {token}")
        self.index += 1
        return token[1]

    def expression(self) -> Callable[[Any], bool]:
        left = self.conjunction()
        while self.peek() and self.peek()[0] == "or":  # type: ignore[index]
            self.take("or")
            right = self.conjunction()
            left = (lambda a, b: lambda d: a(d) or b(d))(left, right)
        return left

    def conjunction(self) -> Callable[[Any], bool]:
        left = self.term()
        while self.peek() and self.peek()[0] == "and":  # type: ignore[index]
            self.take("and")
            right = self.term()
            left = (lambda a, b: lambda d: a(d) and b(d))(left, right)
        return left

    def term(self) -> Callable[[Any], bool]:
        token = self.peek()
        if token and token[0] == "lparen":
            self.take("lparen")
            inner = self.expression()
            self.take("rparen")
            return inner
        selector = self.take("selector")
        token = self.peek()
        if token and token[0] == "word":
            word = " ".join(self.take("word").split()).upper()
            checks: dict[str, Callable[[Any], bool]] = {
                "EXISTS": lambda v: v is not _MISSING,
                "NOT EXISTS": lambda v: v is _MISSING,
                "IS NULL": lambda v: v is None,
                "IS TRUE": lambda v: v is True,
                "IS FALSE": lambda v: v is False,
            }
            if word not in checks:
                raise ValueError(f"unsupported keyword {word} in filter pattern")
            check = checks[word]
            return lambda document: check(_select(document, selector))
        op = self.take("op")
        kind, literal = self.peek() or ("", "")
        if kind not in ("string", "number", "word"):
            raise ValueError(f"expected a value after {selector} {op}")
        self.index += 1
        return lambda document: _compare(_select(document, selector), op, kind, literal)


def compile_pattern(pattern: str) -> Callable[[str], bool]:
    """A predicate telling whether a log message matches `pattern`."""
    text = pattern.strip()
    if not text:
        return lambda _message: True
    if text.startswith("{"):
        if not text.endswith("}"):
            raise ValueError(f"unbalanced JSON filter pattern {pattern!r}")
        parser = _Parser(_tokens(text[1:-1]))
        predicate = parser.expression()
        if parser.peek() is not None:
            raise ValueError(f"unexpected {parser.peek()} in filter pattern {pattern!r}")

        def match_json(message: str) -> bool:
            try:
                document = json.loads(message)
            except ValueError:
                return False
            return isinstance(document, dict) and predicate(document)

        return match_json
    if text.startswith("["):
        raise ValueError(f"space-delimited filter patterns are not supported: {pattern!r}")
    terms = shlex.split(text)

    def match_terms(message: str) -> bool:
        for term in terms:
            if term.startswith("-"):
                if term[1:] in message:
                    return False
            elif term not in message:
                return False
        return True

    return match_terms


def matches(pattern: str, message: str) -> bool:
    return compile_pattern(pattern)(message)
