"""The LocalStack extension covers every resource type our templates use that community
LocalStack lacks: each listed type has an entry point in localstack-ext/pyproject.toml that names
a plugin class for that type, and the plugin's provider class exists and declares the type.

Read as text (the extension imports LocalStack, which is not installed in this environment)."""

from __future__ import annotations

import ast
import re
import tomllib
from pathlib import Path

import pytest

from concert_platform.manifest import load_manifest

ROOT = Path(__file__).resolve().parents[2]
EXT = ROOT / "localstack-ext"
GROUP = "localstack.cloudformation.resource_providers"
PLUGINS = EXT / "concert_localstack_ext" / "cfn" / "plugins.py"


def community_gaps() -> list[str]:
    lines = (EXT / "localstack-community-gaps.txt").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def template_types() -> set[str]:
    manifest = load_manifest(ROOT)
    return {
        resource["Type"]
        for spec in manifest.stacks
        for resource in manifest.load_template(spec.key).get("Resources", {}).values()
    }


def plugin_classes() -> dict[str, str]:
    """Plugin class name -> the type it is made for (``X = _plugin_class("AWS::...")``)."""
    tree = ast.parse(PLUGINS.read_text())
    found: dict[str, str] = {}
    for node in tree.body:
        if (
            isinstance(node, ast.Assign)
            and isinstance(node.value, ast.Call)
            and getattr(node.value.func, "id", "") == "_plugin_class"
        ):
            target = node.targets[0]
            argument = node.value.args[0]
            if isinstance(target, ast.Name) and isinstance(argument, ast.Constant):
                found[target.id] = str(argument.value)
    return found


def provider_targets() -> dict[str, str]:
    """``PROVIDERS`` in plugins.py: type -> "module:Class"."""
    tree = ast.parse(PLUGINS.read_text())
    for node in tree.body:
        if isinstance(node, ast.AnnAssign) and getattr(node.target, "id", "") == "PROVIDERS":
            value = ast.literal_eval(node.value)  # type: ignore[arg-type]
            return dict(value)
    raise AssertionError("plugins.py has no PROVIDERS table")


def coverage_problems(pyproject_text: str, gaps: list[str], used: set[str]) -> list[str]:
    """One sentence per way the extension fails to cover a type community LocalStack lacks."""
    entry_points: dict[str, str] = (
        tomllib.loads(pyproject_text).get("project", {}).get("entry-points", {}).get(GROUP, {})
    )
    classes = plugin_classes()
    problems = [
        f"{kind} is used by a template and missing from community LocalStack, but "
        f"localstack-ext/pyproject.toml has no [{GROUP}] entry point for it"
        for kind in gaps
        if kind in used and kind not in entry_points
    ]
    for kind, value in entry_points.items():
        module, _, name = value.partition(":")
        if module != "concert_localstack_ext.cfn.plugins" or classes.get(name) != kind:
            problems.append(f"entry point {kind} = {value} does not name the plugin class made for {kind}")
    return problems


def test_every_type_community_localstack_lacks_has_an_entry_point() -> None:
    problems = coverage_problems((EXT / "pyproject.toml").read_text(), community_gaps(), template_types())
    assert problems == []


def test_the_gap_list_names_only_types_the_templates_use() -> None:
    stale = set(community_gaps()) - template_types()
    assert stale == set(), f"no template uses {sorted(stale)}: drop them from localstack-community-gaps.txt"


def test_each_plugin_names_a_provider_class_that_declares_its_type() -> None:
    targets = provider_targets()
    assert set(targets) == set(plugin_classes().values())
    for kind, target in targets.items():
        module, _, cls = target.partition(":")
        source = (EXT / "concert_localstack_ext" / "cfn" / f"{module}.py").read_text()
        body = re.search(rf"^class {cls}\(.*?(?=^class |\Z)", source, re.S | re.M)
        assert body, f"{kind}: no class {cls} in cfn/{module}.py"
        assert f'TYPE = "{kind}"' in body.group(0), f"{kind}: {cls} declares another TYPE"


@pytest.mark.parametrize("removed", ["AWS::EC2::EIP", "AWS::RedshiftServerless::Workgroup"])
def test_a_removed_entry_point_is_named(removed: str) -> None:
    text = (EXT / "pyproject.toml").read_text()
    mutated = "\n".join(line for line in text.splitlines() if not line.startswith(f'"{removed}" ='))
    assert mutated != text
    problems = coverage_problems(mutated, community_gaps(), template_types())
    assert problems == [
        f"{removed} is used by a template and missing from community LocalStack, but "
        f"localstack-ext/pyproject.toml has no [{GROUP}] entry point for it"
    ]


def test_an_entry_point_pointing_at_another_types_plugin_is_named() -> None:
    text = (EXT / "pyproject.toml").read_text()
    mutated = text.replace(
        '"AWS::EC2::FlowLog" = "concert_localstack_ext.cfn.plugins:EC2FlowLogPlugin"',
        '"AWS::EC2::FlowLog" = "concert_localstack_ext.cfn.plugins:EC2EIPPlugin"',
    )
    assert mutated != text
    assert coverage_problems(mutated, community_gaps(), template_types()) == [
        "entry point AWS::EC2::FlowLog = concert_localstack_ext.cfn.plugins:EC2EIPPlugin "
        "does not name the plugin class made for AWS::EC2::FlowLog"
    ]
