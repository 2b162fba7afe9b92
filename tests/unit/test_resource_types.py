"""Every resource type the templates use is known in one place: its service's module under
`concert_platform/verify/` holds its verification table, its existence probe and its remover (or
the reason it has none), and the modules are found by discovery, never by a hand-kept list."""

from __future__ import annotations

import types
from pathlib import Path

import pytest

from concert_platform import teardown, verify
from concert_platform.manifest import load_manifest
from concert_platform.verify import TABLES, service_modules


def template_types() -> set[str]:
    manifest = load_manifest()
    return {
        resource["Type"]
        for spec in manifest.stacks
        for resource in manifest.load_template(spec.key).get("Resources", {}).values()
    }


def missing_knowledge(
    resource_types: set[str], modules: list[types.ModuleType], tables: set[str]
) -> list[str]:
    """What a type the templates use lacks: a table, a probe, a remover or a reason for none."""
    probes = verify.merged("PROBES", modules)
    removers = verify.merged("REMOVERS", modules)
    no_remover = verify.merged("NO_REMOVER", modules)
    retained = verify.merged("RETAINED_BY_DESIGN", modules)
    problems = []
    for resource_type in sorted(resource_types):
        if resource_type not in tables:
            problems.append(f"{resource_type}: no verification table")
        if resource_type not in probes and resource_type not in retained:
            problems.append(f"{resource_type}: no probe (PROBES) and not RETAINED_BY_DESIGN")
        if (
            resource_type not in removers
            and resource_type not in no_remover
            and resource_type not in retained
        ):
            problems.append(f"{resource_type}: no remover (REMOVERS) and no reason in NO_REMOVER")
    for reasons in (no_remover, retained):
        problems += [f"{t}: an empty reason" for t, why in reasons.items() if not str(why).strip()]
    return problems


def test_every_type_the_templates_use_has_a_table_a_probe_and_a_remover_or_a_reason() -> None:
    assert missing_knowledge(template_types(), service_modules(), set(TABLES)) == []


def test_a_type_without_a_probe_or_remover_is_named() -> None:
    modules = service_modules()
    sns = next(m for m in modules if m.__name__.endswith(".sns"))
    planted = types.ModuleType(sns.__name__)
    planted.PROBES = {k: v for k, v in sns.PROBES.items() if k != "AWS::SNS::Topic"}  # type: ignore[attr-defined]
    planted.REMOVERS = {k: v for k, v in sns.REMOVERS.items() if k != "AWS::SNS::Subscription"}  # type: ignore[attr-defined]
    planted.NO_REMOVER = {"AWS::SNS::TopicPolicy": " "}  # type: ignore[attr-defined]
    others = [m for m in modules if m is not sns]
    assert missing_knowledge(template_types(), [*others, planted], set(TABLES) - {"AWS::SQS::Queue"}) == [
        "AWS::SNS::Subscription: no remover (REMOVERS) and no reason in NO_REMOVER",
        "AWS::SNS::Topic: no probe (PROBES) and not RETAINED_BY_DESIGN",
        "AWS::SQS::Queue: no verification table",
        "AWS::SNS::TopicPolicy: an empty reason",
    ]


def test_every_service_module_is_discovered_and_the_flow_uses_what_they_hold() -> None:
    package = Path(verify.__file__).parent
    files = sorted(p.stem for p in package.glob("*.py") if not p.stem.startswith("_"))
    assert [m.__name__.rsplit(".", 1)[1] for m in service_modules()] == files
    assert teardown.PROBES is verify.PROBES and teardown.REMOVERS is verify.REMOVERS
    assert set(verify.PROBES) == {t for m in service_modules() for t in getattr(m, "PROBES", {})}
    kinds = [kind for m in service_modules() for kind, _ in getattr(m, "NAMES", ())]
    assert [kind for kind, _ in verify.NAMES] == kinds and len(set(kinds)) == len(kinds)


def test_a_type_in_two_service_modules_is_refused() -> None:
    first, second = types.ModuleType("one"), types.ModuleType("two")
    first.PROBES = {"AWS::SNS::Topic": None}  # type: ignore[attr-defined]
    second.PROBES = {"AWS::SNS::Topic": None}  # type: ignore[attr-defined]
    with pytest.raises(RuntimeError, match=r"AWS::SNS::Topic has PROBES in two service modules \(two\)"):
        verify.merged("PROBES", [first, second])
