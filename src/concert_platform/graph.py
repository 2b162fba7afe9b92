"""`concert-platform graph`: the stack dependency graph (stacks, exports, imports) as Mermaid.

Generated from the templates and the manifest, never written by hand: an edge exists because
a template imports another stack's export, or because the manifest hands an earlier stack's
output to a parameter (`output: KEY.Name`, labelled "(parameter)").
"""

from __future__ import annotations

import argparse
import re
from collections import defaultdict
from pathlib import Path
from typing import Any

from concert_platform.manifest import Manifest, load_manifest

_IMPORT = re.compile(r"^\$\{(\w+)\}-(\w+)$")
_EXPORT = re.compile(r"^\$\{AWS::StackName\}-(\w+)$")


def _walk(node: Any) -> Any:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def exports_of(template: dict[str, Any]) -> list[str]:
    names = []
    for output in template.get("Outputs", {}).values():
        export = output.get("Export", {}).get("Name")
        sub = export.get("Fn::Sub") if isinstance(export, dict) else None
        match = _EXPORT.match(sub) if isinstance(sub, str) else None
        if match:
            names.append(match.group(1))
    return names


def imports_of(template: dict[str, Any]) -> list[tuple[str, str]]:
    """(stack-name parameter, export key) for every Fn::ImportValue of the `${XStackName}-Key` form."""
    found = set()
    for node in _walk(template):
        value = node.get("Fn::ImportValue")
        sub = value.get("Fn::Sub") if isinstance(value, dict) else None
        match = _IMPORT.match(sub) if isinstance(sub, str) else None
        if match:
            found.add((match.group(1), match.group(2)))
    return sorted(found)


def dependency_edges(manifest: Manifest) -> dict[tuple[str, str], list[str]]:
    """(exporting stack key, importing stack key) -> export keys imported."""
    edges: dict[tuple[str, str], list[str]] = defaultdict(list)
    for spec in manifest.stacks:
        template = manifest.load_template(spec.key)
        for parameter, export in imports_of(template):
            source = spec.parameters.get(parameter)
            if source is None or source.kind != "stack":
                raise ValueError(
                    f"{spec.template}: import via {parameter} which stacks.yaml does not wire to a stack"
                )
            edges[(source.name, spec.key)].append(export)
        for source in spec.parameters.values():
            if source.kind == "output":
                upstream, output = source.output_of
                edges[(upstream, spec.key)].append(f"{output} (parameter)")
    return dict(edges)


def render_mermaid(manifest: Manifest) -> str:
    lines = ["flowchart LR"]
    for index, spec in enumerate(manifest.stacks, start=1):
        count = len(exports_of(manifest.load_template(spec.key)))
        name = manifest.name_pattern.format(key=spec.key, environment="ENV")
        lines.append(
            f'    {spec.key}["{index}. {spec.title}<br/><small>{name}</small><br/><small>{count} exports</small>"]'
        )
    for (source, target), exports in sorted(dependency_edges(manifest).items(), key=lambda item: item[0]):
        label = ", ".join(sorted(exports))
        lines.append(f'    {source} -- "{label}" --> {target}')
    return "\n".join(lines) + "\n"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--output", "-o", type=Path, help="write the Mermaid text to this file (default: stdout)"
    )


def run(args: argparse.Namespace) -> int:
    text = render_mermaid(load_manifest())
    if args.output:
        args.output.write_text(text)
    else:
        print(text, end="")
    return 0
