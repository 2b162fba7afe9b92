"""Find and read templates the way cfn-lint and checkov read them, within CloudFormation's limits.

A directory is searched recursively (hidden folders and dependency folders left out); each file
is named by its path relative to the scanned directory. `.json` files are read as JSON first (JSON
allows tabs, YAML does not), everything else as YAML. A file that is neither a template nor
parses is skipped with a note; a file over CloudFormation's limits (1 MB body, 500 resources) or
whose YAML aliases expand without bound is refused before any tool reads it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from concert_platform.errors import UsageError
from concert_platform.manifest import load_cfn_yaml
from concert_platform.policy.model import SkippedFile, Template

TEMPLATE_SUFFIXES = (".yaml", ".yml", ".json", ".template")
MAX_TEMPLATE_BYTES = 1_000_000  # CloudFormation's template body limit (cfn-lint uses the same)
MAX_RESOURCES = 500  # CloudFormation's resources-per-template limit
MAX_ALIAS_NODES = 10_000  # nodes YAML aliases may add when expanded (a "billion laughs" adds billions)
MAX_NESTING = 200  # deeper YAML/JSON nesting would exhaust the parsers' recursion
IGNORED_FOLDERS = frozenset({"node_modules", "__pycache__", "venv", "cdk.out"})


@dataclass
class LoadedTemplates:
    root: Path  # the directory names are relative to
    templates: list[Template] = field(default_factory=list)
    unparsed: list[tuple[str, int, str]] = field(default_factory=list)  # (name, line, reason)
    skipped_files: list[SkippedFile] = field(default_factory=list)


def candidate_files(target: Path) -> tuple[Path, list[Path]]:
    """(root the names are relative to, files to read)."""
    if not target.exists():
        raise UsageError(f"template directory {target} does not exist")
    if target.is_file():
        return target.parent, [target]
    if not target.is_dir():
        raise UsageError(f"{target} is neither a file nor a directory")
    files = sorted(
        path
        for path in target.rglob("*")
        if path.suffix.lower() in TEMPLATE_SUFFIXES
        and path.is_file()
        and not any(
            part.startswith(".") or part in IGNORED_FOLDERS for part in path.relative_to(target).parts[:-1]
        )
    )
    return target, files


def check_yaml_expansion(text: str, name: str) -> None:
    """Refuse YAML whose aliases expand to more than MAX_ALIAS_NODES nodes, or that nests deeper
    than MAX_NESTING, reading parser events only (nothing is built, so this is linear)."""
    anchors: dict[str, int] = {}
    counts = [0]
    anchored: list[str | None] = []
    added = 0
    for event in yaml.parse(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
        if isinstance(event, yaml.CollectionStartEvent):
            counts.append(1)
            anchored.append(event.anchor)
            if len(counts) > MAX_NESTING:
                raise UsageError(f"{name} nests deeper than {MAX_NESTING} levels; refusing to read it")
        elif isinstance(event, yaml.CollectionEndEvent):
            size = counts.pop()
            anchor = anchored.pop()
            if anchor:
                anchors[anchor] = size
            counts[-1] += size
        elif isinstance(event, yaml.ScalarEvent):
            counts[-1] += 1
            if event.anchor:
                anchors[event.anchor] = 1
        elif isinstance(event, yaml.AliasEvent):
            size = anchors.get(event.anchor or "", 1)
            counts[-1] += size
            added += size
            if added > MAX_ALIAS_NODES:
                raise UsageError(
                    f"{name}: YAML aliases expand to more than {MAX_ALIAS_NODES:,} nodes (an alias bomb?); refusing to read it"
                )


def _json_depth_ok(text: str) -> bool:
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
            if deepest > MAX_NESTING:
                return False
        elif char in "]}":
            depth -= 1
    return True


def parse_template(text: str, name: str, suffix: str) -> Any:
    """The document as plain long-form data; UsageError for limits, ValueError when it does not parse."""
    if suffix == ".json" or text.lstrip().startswith("{"):
        if not _json_depth_ok(text):
            raise UsageError(f"{name} nests deeper than {MAX_NESTING} levels; refusing to read it")
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            if suffix == ".json":
                raise ValueError(f"line {exc.lineno}: {exc.msg}") from None
    try:
        check_yaml_expansion(text, name)
        return load_cfn_yaml(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}: " if mark else ""
        raise ValueError(f"{where}{exc.problem or exc.context}") from None
    except yaml.YAMLError as exc:
        raise ValueError(str(exc).splitlines()[0]) from None
    except UsageError as exc:
        if "not a mapping" in str(exc):
            return None
        raise


def is_template(data: Any) -> bool:
    return isinstance(data, dict) and ("AWSTemplateFormatVersion" in data or "Resources" in data)


def iter_loaded(target: Path) -> Iterator[tuple[Path, str, str, Any | Exception]]:
    """(path, relative name, text, data or the parse error) for every candidate file."""
    root, files = candidate_files(target)
    for path in files:
        name = path.relative_to(root).as_posix()
        size = path.stat().st_size
        if size > MAX_TEMPLATE_BYTES:
            raise UsageError(
                f"{name} is {size:,} bytes; CloudFormation accepts templates of at most {MAX_TEMPLATE_BYTES:,} bytes"
            )
        try:
            text = path.read_bytes().decode("utf-8-sig")
        except UnicodeDecodeError:
            yield path, name, "", ValueError("not UTF-8 text")
            continue
        try:
            yield path, name, text, parse_template(text, name, path.suffix.lower())
        except ValueError as exc:
            yield path, name, text, exc
        except RecursionError:
            raise UsageError(f"{name} nests too deeply to read") from None
