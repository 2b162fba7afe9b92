"""Run cfn-lint, checkov and our checks over a directory of CloudFormation templates."""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from concert_platform.errors import UsageError
from concert_platform.manifest import load_cfn_yaml
from concert_platform.policy.checks import all_checks
from concert_platform.policy.model import Finding, Skip, Template

TEMPLATE_SUFFIXES = (".yaml", ".yml", ".json", ".template")


@dataclass
class PolicyReport:
    templates: list[str]
    checks_run: int = 0
    findings: list[Finding] = field(default_factory=list)
    skipped: list[Skip] = field(default_factory=list)

    @property
    def failed(self) -> int:
        return len(self.findings)

    def as_dict(self) -> dict[str, Any]:
        return {
            "templates": self.templates,
            "checks_run": self.checks_run,
            "failed": self.failed,
            "skipped": [s.__dict__ for s in self.skipped],
            "findings": [f.as_dict() for f in self.findings],
        }


def _resource_lines(text: str) -> dict[str, int]:
    """Line (1-based) of each parameter, resource and output logical id, in YAML or JSON.

    cfn-lint's decoder keeps the position of every key; a template it cannot decode gets no
    lines (findings then point at line 1) rather than failing the run."""
    from cfnlint.decode import decode_str

    try:
        decoded, _errors = decode_str(text)
    except Exception:  # cfn-lint itself reports undecodable templates
        return {}
    lines: dict[str, int] = {}
    for section in ("Parameters", "Outputs", "Resources"):  # a resource wins a name clash
        block = decoded.get(section) if isinstance(decoded, dict) else None
        for key in block if isinstance(block, dict) else ():
            mark = getattr(key, "start_mark", None)
            if mark is not None:
                lines[str(key)] = mark.line + 1
    return lines


def load_templates(directory: Path) -> list[Template]:
    if not directory.exists():
        raise UsageError(f"template directory {directory} does not exist")
    paths = (
        [directory]
        if directory.is_file()
        else sorted(p for p in directory.iterdir() if p.suffix in TEMPLATE_SUFFIXES and p.is_file())
    )
    if not paths:
        raise UsageError(f"no CloudFormation templates (*.yaml, *.yml, *.json, *.template) in {directory}")
    templates = []
    for path in paths:
        text = path.read_text(errors="replace")
        try:
            data = load_cfn_yaml(text)
        except (yaml.YAMLError, UsageError) as exc:
            raise UsageError(
                f"{path} is not a CloudFormation template: it does not parse as YAML or JSON ({str(exc).splitlines()[0]})"
            ) from None
        if not isinstance(data.get("Resources"), dict) or not data["Resources"]:
            raise UsageError(f"{path} is not a CloudFormation template: it has no Resources section")
        templates.append(Template(path=path, name=path.name, data=data, lines=_resource_lines(text)))
    return templates


def _metadata_skips(template: Template) -> list[Skip]:
    skips = []
    for logical_id, resource in template.resources():
        metadata = resource.get("Metadata", {}) if isinstance(resource, dict) else {}
        for item in (metadata.get("checkov", {}) or {}).get("skip", []) or []:
            skips.append(
                Skip(item.get("id", ""), template.name, logical_id, item.get("comment", ""), "checkov")
            )
        for rule in ((metadata.get("cfn-lint", {}) or {}).get("config", {}) or {}).get(
            "ignore_checks", []
        ) or []:
            skips.append(Skip(rule, template.name, logical_id, "see the comment in the template", "cfn-lint"))
    return skips


def run_cfn_lint(templates: list[Template], report: PolicyReport) -> None:
    from cfnlint.api import lint_file

    for template in templates:
        for match in lint_file(template.path):
            rule_id = match.rule.id
            if rule_id.startswith("I"):
                continue  # informational
            path = getattr(match, "path", None) or []
            resource = path[1] if len(path) > 1 and path[0] == "Resources" else "(template)"
            report.findings.append(
                Finding(
                    rule_id,
                    match.rule.shortdesc,
                    template.name,
                    str(resource),
                    match.linenumber,
                    match.message,
                    "cfn-lint",
                )
            )
    report.checks_run += 1


def run_checkov(directory: Path, templates: list[Template], report: PolicyReport) -> None:
    os.environ.setdefault("BC_SKIP_MAPPING", "TRUE")  # no network: do not fetch guideline mappings
    os.environ.setdefault("CHECKOV_RUN_SCA_PACKAGE_SCAN_V2", "false")
    logging.getLogger("checkov").setLevel(logging.ERROR)
    from checkov.cloudformation.runner import Runner
    from checkov.runner_filter import RunnerFilter

    names = {t.name for t in templates}
    root = directory if directory.is_dir() else directory.parent
    result = Runner().run(root_folder=str(root), runner_filter=RunnerFilter(framework=["cloudformation"]))
    results = result if isinstance(result, list) else [result]
    checks = {c.check_id for r in results for c in r.passed_checks + r.failed_checks + r.skipped_checks}
    report.checks_run += len(checks)
    for failed in (c for r in results for c in r.failed_checks):
        name = Path(failed.file_path).name
        if name not in names:
            continue
        report.findings.append(
            Finding(
                failed.check_id,
                failed.check_name,
                name,
                failed.resource.split(".", 1)[-1],
                failed.file_line_range[0],
                failed.check_name,
                "checkov",
            )
        )


def run_own_checks(templates: list[Template], report: PolicyReport) -> None:
    checks = all_checks()
    report.checks_run += len(checks)
    skipped = {(s.template, s.resource, s.check_id) for s in report.skipped}
    for check in checks:
        for template, resource, message in check.scan(templates):
            if (template.name, resource, check.id) in skipped:
                continue
            report.findings.append(
                Finding(
                    check.id,
                    check.practice,
                    template.name,
                    resource,
                    template.lines.get(resource, 1),
                    message,
                    "concert-platform",
                )
            )


def run_policy(
    directory: Path, tools: tuple[str, ...] = ("cfn-lint", "checkov", "concert-platform")
) -> PolicyReport:
    templates = load_templates(directory)
    report = PolicyReport(templates=[t.name for t in templates])
    for template in templates:
        report.skipped.extend(_metadata_skips(template))
    if "cfn-lint" in tools:
        run_cfn_lint(templates, report)
    if "checkov" in tools:
        run_checkov(directory, templates, report)
    if "concert-platform" in tools:
        run_own_checks(templates, report)
    report.findings.sort(key=lambda f: (f.template, f.line, f.check_id))
    return report


def to_json(report: PolicyReport) -> str:
    return json.dumps(report.as_dict(), indent=2)
