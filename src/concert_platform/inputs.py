"""Deploy inputs (Redshift password, alert email, Bedrock ids...): flags, environment, file, prompt.

Secrets are never printed or logged; without a terminal a missing required value is an error,
never a prompt that waits forever.
"""

from __future__ import annotations

import getpass
import json
import os
import re
import sys
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import yaml

from concert_platform.errors import UsageError
from concert_platform.manifest import InputSpec, Manifest

# Redshift's password rules, checked here so a bad password fails before anything is created:
# printable ASCII (33-126) other than / @ " ' \ (so no space, tab, newline or non-ASCII either).
_REDSHIFT_FORBIDDEN = set("/@\"' \\")
# A parameters file holds a handful of short values; anything larger is not one.
MAX_PARAMETERS_FILE_BYTES = 64 * 1024
_KEY_ON_LINE = re.compile(r"^\s*-?\s*[\"']?([A-Za-z][A-Za-z0-9_]{0,127})[\"']?\s*:")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_BEDROCK_ID = re.compile(r"^[0-9a-zA-Z]{10}$")
_RETENTION_DAYS = {
    1,
    3,
    5,
    7,
    14,
    30,
    60,
    90,
    120,
    150,
    180,
    365,
    400,
    545,
    731,
    1096,
    1827,
    2192,
    2557,
    2922,
    3288,
    3653,
}


def _validate_password(value: str) -> str | None:
    if len(value) < 8 or len(value) > 64:
        return "must be 8 to 64 characters long"
    if not (re.search(r"[A-Z]", value) and re.search(r"[a-z]", value) and re.search(r"[0-9]", value)):
        return "needs at least one uppercase letter, one lowercase letter and one digit"
    if _REDSHIFT_FORBIDDEN & set(value) or any(not 33 <= ord(char) <= 126 for char in value):
        return "must use printable ASCII only, without / @ \" ' \\ or any whitespace"
    return None


def _validate_username(value: str) -> str | None:
    if not re.match(r"^[a-z][a-z0-9_]{0,62}$", value):
        return "must start with a lowercase letter and use lowercase letters, digits and underscores (max 63)"
    return None


def _validate_email(value: str) -> str | None:
    return None if not value or _EMAIL.match(value) else "is not an email address"


def _validate_bedrock_id(value: str) -> str | None:
    return None if not value or _BEDROCK_ID.match(value) else "must be 10 letters or digits (or empty)"


def _validate_retention(value: str) -> str | None:
    if value.isdigit() and int(value) in _RETENTION_DAYS:
        return None
    return f"must be one of CloudWatch Logs' retention values: {', '.join(map(str, sorted(_RETENTION_DAYS)))}"


VALIDATORS: dict[str, Callable[[str], str | None]] = {
    "redshift_master_password": _validate_password,
    "redshift_master_username": _validate_username,
    "alert_email": _validate_email,
    "bedrock_agent_id": _validate_bedrock_id,
    "bedrock_agent_alias_id": _validate_bedrock_id,
    "log_retention_days": _validate_retention,
}


def read_text_argument(path: Path, what: str, limit: int) -> str:
    """The text of a file named on the command line, or a one-line UsageError saying why not."""
    if path.is_dir():
        raise UsageError(f"{what} {path} is a directory, not a file")
    if not path.is_file():
        raise UsageError(f"{what} {path} does not exist")
    try:
        size = path.stat().st_size
        if size > limit:
            raise UsageError(f"{what} {path} is {size} bytes; the limit is {limit}")
        data = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"{what} {path} cannot be read ({exc.strerror or type(exc).__name__})") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UsageError(f"{what} {path} is not UTF-8 text (a binary file?)") from None


def check_output_directory(path: Path, what: str) -> None:
    """Create `path` if needed and prove a file can be written there, before a long run starts
    (a report that cannot be written after the run is a lost report)."""
    if path.exists() and not path.is_dir():
        raise UsageError(f"{what} {path} is a file, not a directory")
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as exc:
        raise UsageError(f"{what} {path} cannot be written ({exc.strerror or type(exc).__name__})") from None


def _yaml_error_location(exc: yaml.YAMLError, text: str, known: set[str]) -> str:
    """'line N (key K)' for a YAML error, never the line itself: it may hold a secret. K is named
    only when it is a known input name (a mistyped line may start with the password itself)."""
    mark = getattr(exc, "context_mark", None) or getattr(exc, "problem_mark", None)
    if mark is None:
        return "somewhere"
    lines = text.splitlines()
    line = min(mark.line, len(lines) - 1) if lines else 0
    while line > 0 and not lines[line].strip():  # an error at the end points past the last line
        line -= 1
    key = _KEY_ON_LINE.match(lines[line]) if lines else None
    return f"line {line + 1}" + (f" (key {key.group(1)})" if key and key.group(1) in known else "")


def read_parameters_file(path: Path, manifest: Manifest) -> dict[str, str]:
    """Input values from a JSON/YAML file: {input_name|ParameterKey: value} or the AWS CLI list form.

    Errors name the file, the line and the key, never a value: the file holds the password."""
    text = read_text_argument(path, "parameters file", MAX_PARAMETERS_FILE_BYTES)
    by_parameter = {param: name for name in manifest.inputs for param in manifest.parameter_for_input(name)}
    known = set(manifest.inputs) | set(by_parameter) | {"ParameterKey", "ParameterValue"}
    try:
        data: Any = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        problem = getattr(exc, "problem", None) or "syntax error"
        where = _yaml_error_location(exc, text, known)
        raise UsageError(f"parameters file {path} is not valid JSON or YAML: {problem} at {where}") from None
    except RecursionError:
        raise UsageError(f"parameters file {path} nests too deeply to be a parameters file") from None
    if isinstance(data, list):
        try:
            data = {item["ParameterKey"]: item["ParameterValue"] for item in data}
        except (TypeError, KeyError):
            raise UsageError(
                f"parameters file {path}: a list must hold {{ParameterKey, ParameterValue}} items"
            ) from None
    if not isinstance(data, dict):
        raise UsageError(f"parameters file {path} must be a mapping of names to values")
    values: dict[str, str] = {}
    for key, value in data.items():
        name = key if key in manifest.inputs else by_parameter.get(key)
        if name is None:
            names = ", ".join(sorted(set(manifest.inputs) | set(by_parameter)))
            shown = repr(key) if isinstance(key, str) and len(key) <= 64 else "(a long or non-text name)"
            raise UsageError(f"parameters file {path}: unknown name {shown}; known names: {names}")
        if isinstance(value, list | dict | set):
            raise UsageError(f"parameters file {path}: {key} must be a single value, not a list or mapping")
        values[name] = "" if value is None else str(value)
        check = VALIDATORS.get(name)
        problem = check(values[name]) if check and values[name] else None
        if problem:
            shown = "the value" if manifest.inputs[name].secret else repr(values[name])
            raise UsageError(f"parameters file {path}: {key}: {shown} {problem}")
    return values


def resolve_inputs(
    specs: list[InputSpec],
    *,
    flags: Mapping[str, str | None],
    file_values: Mapping[str, str],
    skip_required: set[str] = frozenset(),  # type: ignore[assignment]
    environ: Mapping[str, str] = os.environ,
    interactive: bool | None = None,
    ask: Callable[[str], str] = input,
    ask_secret: Callable[[str], str] = getpass.getpass,
) -> dict[str, str]:
    """Resolve every input: flag, then environment variable, then parameters file, then prompt."""
    if interactive is None:
        interactive = sys.stdin.isatty()
    values: dict[str, str] = {}
    for spec in specs:
        value = flags.get(spec.name)
        origin = "flag"
        if value is None and spec.env in environ:
            value, origin = environ[spec.env], f"environment variable {spec.env}"
        if value is None and spec.name in file_values:
            value, origin = file_values[spec.name], "parameters file"
        if value is None and spec.required and spec.name in skip_required:
            continue  # the stack exists: CloudFormation keeps the previous value
        if value is None and spec.prompt and interactive:
            value = (ask_secret if spec.secret else ask)(f"{spec.prompt}: ").strip()
            origin = "prompt"
            if not value and not spec.required:
                value = None
        if value is None:
            if spec.required:
                raise UsageError(
                    f"{spec.name.replace('_', ' ')} is required and no terminal is attached to ask for it: "
                    f"set {spec.env} or put {spec.name} in --parameters-file"
                )
            value = spec.default or ""
            origin = "default"
        check = VALIDATORS.get(spec.name)
        problem = check(value) if check else None
        if problem:
            shown = "the value" if spec.secret else repr(value)
            raise UsageError(f"{spec.name.replace('_', ' ')} from {origin}: {shown} {problem}")
        values[spec.name] = value
    return values


def redact(text: str, secrets: list[str]) -> str:
    """Remove secret values from text that may be shown to a person or written to a log."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "********")
    return text


def as_json_safe(values: Mapping[str, str], specs: Mapping[str, InputSpec]) -> str:
    return json.dumps({k: ("********" if specs[k].secret else v) for k, v in values.items()})
