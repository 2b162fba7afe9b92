"""Every mutation in the catalogue is killed by the check it names; the clean templates are not."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from concert_platform.manifest import load_cfn_yaml
from concert_platform.policy.model import Template
from concert_platform.policy.runner import PolicyReport, run_own_checks, run_policy
from tests.policy.mutations import CATALOGUE, Mutation, apply

ROOT = Path(__file__).resolve().parents[2]


def own_findings(mutation: Mutation | None) -> set[tuple[str, str]]:
    templates = []
    for path in sorted((ROOT / "templates").glob("*.yaml")):
        data = load_cfn_yaml(path.read_text())
        if mutation and path.name == mutation.template:
            data = apply(data, mutation)
        templates.append(Template(path=path, name=path.name, data=data, lines={}))
    report = PolicyReport(templates=[t.name for t in templates])
    run_own_checks(templates, report)
    return {(f.check_id, f.template) for f in report.findings}


def test_catalogue_is_large_and_covers_every_own_check() -> None:
    from concert_platform.policy.checks import all_checks

    assert len(CATALOGUE) >= 30
    assert {c.id for c in all_checks()} <= {m.kills for m in CATALOGUE}


def test_clean_templates_trigger_none_of_our_checks() -> None:
    assert own_findings(None) == set()


@pytest.mark.parametrize("mutation", CATALOGUE, ids=lambda m: m.name)
def test_mutation_is_killed_by_its_check(mutation: Mutation) -> None:
    found = {check for check, _ in own_findings(mutation)}
    assert mutation.kills in found, (
        f"{mutation.name}: expected {mutation.kills}, got {sorted(found) or 'nothing'}"
    )


@pytest.mark.parametrize("name", ["Redshift made public", "raw bucket loses encryption"])
def test_full_layer_fails_a_mutated_template_set(tmp_path: Path, name: str) -> None:
    mutation = next(m for m in CATALOGUE if m.name == name)
    for path in (ROOT / "templates").glob("*.yaml"):
        data = load_cfn_yaml(path.read_text())
        if path.name == mutation.template:
            data = apply(data, mutation)
        (tmp_path / path.name.replace(".yaml", ".json")).write_text(json.dumps(data))
    report = run_policy(tmp_path)
    assert mutation.kills in {f.check_id for f in report.findings}
