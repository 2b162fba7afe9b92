"""Run cfn-lint, checkov and our checks over a directory (or one file) of CloudFormation templates.

One problem never hides the others: a check (or a tool) that raises becomes a reported check
error naming the check, template and resource, and the remaining checks still run."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from concert_platform.errors import UsageError
from concert_platform.policy.checks import all_checks
from concert_platform.policy.loading import LoadedTemplates, is_template, iter_loaded
from concert_platform.policy.model import CheckError, Finding, Skip, SkippedFile, Template
from concert_platform.policy.transforms import TransformError, expand

TOOLS = ("cfn-lint", "checkov", "concert-platform")
PARSE_CHECK = ("CP000", "The template parses as YAML or JSON")
TRANSFORM_CHECK = ("CP000", "The template's transform (SAM, Fn::ForEach) expands")


@dataclass
class PolicyReport:
    templates: list[str]
    root: str = "."
    checks_run: int = 0
    findings: list[Finding] = field(default_factory=list)
    skipped: list[Skip] = field(default_factory=list)
    errors: list[CheckError] = field(default_factory=list)
    skipped_files: list[SkippedFile] = field(default_factory=list)

    @property
    def failed(self) -> int:
        return len(self.findings)

    @property
    def exit_code(self) -> int:
        """3 when a check could not run (its result is unknown), else 1 on findings, else 0."""
        return 3 if self.errors else 1 if self.findings else 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "templates": self.templates,
            "checks_run": self.checks_run,
            "failed": self.failed,
            "skipped": [s.__dict__ for s in self.skipped],
            "findings": [f.as_dict() for f in self.findings],
            "errors": [e.as_dict() for e in self.errors],
            "skipped_files": [s.as_dict() for s in self.skipped_files],
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


def load_templates(target: Path) -> LoadedTemplates:
    """Every template under `target`, expanded for our checks; other files noted, not fatal."""
    loaded: LoadedTemplates | None = None
    single = target.is_file()
    for path, name, text, data in iter_loaded(target):
        if loaded is None:
            loaded = LoadedTemplates(root=path.parent if single else target)
        if isinstance(data, Exception):
            looks_like_template = "Resources" in text or "AWSTemplateFormatVersion" in text
            if single and not looks_like_template:
                raise UsageError(f"{target} is not a CloudFormation template: {data}")
            if looks_like_template:
                loaded.unparsed.append((name, _line_of(str(data)), f"does not parse: {data}"))
            else:
                loaded.skipped_files.append(SkippedFile(name, f"not a template: does not parse ({data})"))
            continue
        if not is_template(data):
            if single:
                raise UsageError(
                    f"{target} is not a CloudFormation template: it has no AWSTemplateFormatVersion and no Resources"
                )
            loaded.skipped_files.append(
                SkippedFile(name, "not a template: no AWSTemplateFormatVersion and no Resources")
            )
            continue
        resources = data.get("Resources")
        if isinstance(resources, dict) and len(resources) > 500:
            raise UsageError(
                f"{name} declares {len(resources)} resources; CloudFormation accepts at most 500 per template"
            )
        template = Template(path=path, name=name, data=data, lines=_resource_lines(text))
        try:
            template.data, template.origin = expand(data, name)
        except TransformError as exc:
            loaded.unparsed.append((name, 1, f"transform failed: {exc}"))
            template.data = {k: v for k, v in data.items() if k != "Resources"}
        loaded.templates.append(template)
    if loaded is None or not (loaded.templates or loaded.unparsed):
        why = ""
        if loaded is not None and loaded.skipped_files:
            first, more = loaded.skipped_files[0], len(loaded.skipped_files) - 1
            reason = first.reason.removeprefix("not a template: ")
            why = f": {first.path} is not a CloudFormation template ({reason})" + (
                f", nor {'is' if more == 1 else 'are'} {more} other file{'' if more == 1 else 's'}"
                if more
                else ""
            )
        raise UsageError(f"no CloudFormation templates (*.yaml, *.yml, *.json, *.template) in {target}{why}")
    return loaded


def _line_of(message: str) -> int:
    if message.startswith("line "):
        number = message[5:].split(":", 1)[0]
        if number.isdigit():
            return int(number)
    return 1


def _metadata_skips(template: Template) -> list[Skip]:
    skips = []
    for logical_id, resource in template.resources():
        metadata = resource.get("Metadata", {})
        metadata = metadata if isinstance(metadata, dict) else {}
        checkov = metadata.get("checkov", {})
        for item in (checkov.get("skip", []) if isinstance(checkov, dict) else []) or []:
            if isinstance(item, dict):
                skips.append(
                    Skip(
                        str(item.get("id", "")),
                        template.name,
                        logical_id,
                        str(item.get("comment", "")),
                        "checkov",
                    )
                )
        cfn_lint = metadata.get("cfn-lint", {})
        config = cfn_lint.get("config", {}) if isinstance(cfn_lint, dict) else {}
        for rule in (config.get("ignore_checks", []) if isinstance(config, dict) else []) or []:
            skips.append(
                Skip(str(rule), template.name, logical_id, "see the comment in the template", "cfn-lint")
            )
    return skips


def _by_path(templates: list[Template]) -> dict[str, Template]:
    return {os.path.realpath(t.path): t for t in templates}


def _cfn_lint_severity(rule_id: str) -> str:
    return {"E": "error", "W": "warning"}.get(rule_id[:1], "note")


#: what one tool run over a set of templates gives: its findings, and the ids of the checks it ran
ToolRun = tuple[list[Finding], set[str]]


def run_isolating(
    tool: str, templates: list[Template], run_set: Callable[[list[Template]], ToolRun], report: PolicyReport
) -> None:
    """Run `tool` once over every template; when that run fails, run it again file by file (only
    then) to find the template(s) that break it. The tool's error is reported against those files
    alone; every other file's findings are kept."""
    if not templates:
        return
    try:
        findings, checks = run_set(templates)
    except Exception as exc:  # a crash inside the tool must not abort the other tools
        if len(templates) == 1:
            report.errors.append(CheckError(tool, templates[0].name, "(template)", _one_line(exc), tool))
            return
        findings, checks = [], set()
        for template in templates:
            try:
                one_findings, one_checks = run_set([template])
            except Exception as one_exc:  # this file breaks the tool: its result alone is unknown
                report.errors.append(CheckError(tool, template.name, "(template)", _one_line(one_exc), tool))
                continue
            findings += one_findings
            checks |= one_checks
    report.findings.extend(findings)
    report.checks_run += len(checks)


def run_cfn_lint(templates: list[Template], report: PolicyReport) -> None:
    """cfn-lint once over every template: one runner, its rules loaded once."""
    run_isolating("cfn-lint", templates, _cfn_lint_over, report)


def _cfn_lint_over(templates: list[Template]) -> ToolRun:
    from cfnlint.config import ConfigMixIn
    from cfnlint.runner import Runner

    by_path = _by_path(templates)
    runner = Runner(ConfigMixIn([], templates=[str(t.path) for t in templates]))
    findings = []
    for match in list(runner.run()):
        rule_id = match.rule.id
        if rule_id.startswith("I"):
            continue  # informational
        template = by_path.get(os.path.realpath(str(match.filename)))
        if template is None:
            continue
        path = getattr(match, "path", None) or []
        resource = path[1] if len(path) > 1 and path[0] == "Resources" else "(template)"
        findings.append(
            Finding(
                rule_id,
                match.rule.shortdesc,
                template.name,
                str(resource),
                match.linenumber,
                match.message,
                "cfn-lint",
                _cfn_lint_severity(rule_id),
            )
        )
    return findings, {"cfn-lint"}


CHECKOV_SEVERITY = {"CRITICAL": "error", "HIGH": "error", "MEDIUM": "warning", "LOW": "note", "INFO": "note"}


def run_checkov(templates: list[Template], report: PolicyReport) -> None:
    """checkov over exactly the templates we read (never their whole folder)."""
    run_isolating("checkov", templates, _checkov_over, report)


def _checkov_over(templates: list[Template]) -> ToolRun:
    os.environ.setdefault("BC_SKIP_MAPPING", "TRUE")  # no network: do not fetch guideline mappings
    os.environ.setdefault("CHECKOV_RUN_SCA_PACKAGE_SCAN_V2", "false")
    logging.getLogger("checkov").setLevel(logging.ERROR)
    from checkov.cloudformation.runner import Runner
    from checkov.runner_filter import RunnerFilter

    by_path = _by_path(templates)
    root_logger = logging.getLogger()
    level = root_logger.level
    root_logger.setLevel(logging.ERROR)  # checkov warns on the root logger about templates it half-reads
    try:
        result = Runner().run(
            root_folder=None,
            files=[str(t.path) for t in templates],
            runner_filter=RunnerFilter(framework=["cloudformation"]),
        )
    finally:
        root_logger.setLevel(level)
    results = result if isinstance(result, list) else [result]
    checks = {c.check_id for r in results for c in r.passed_checks + r.failed_checks + r.skipped_checks}
    findings = []
    for failed in (c for r in results for c in r.failed_checks):
        template = by_path.get(os.path.realpath(failed.file_abs_path or failed.file_path))
        if template is None:
            continue
        severity = getattr(failed.severity, "name", None) if failed.severity else None
        findings.append(
            Finding(
                failed.check_id,
                failed.check_name,
                template.name,
                failed.resource.split(".", 1)[-1],
                failed.file_line_range[0],
                failed.check_name,
                "checkov",
                CHECKOV_SEVERITY.get(str(severity), "error"),
            )
        )
    return findings, checks


def _one_line(exc: BaseException) -> str:
    message = str(exc).splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


def run_own_checks(templates: list[Template], report: PolicyReport) -> None:
    checks = all_checks()
    report.checks_run += len(checks)
    skipped = {(s.template, s.resource, s.check_id) for s in report.skipped}
    for check in checks:
        batches = [templates] if check.scope == "set" else [[t] for t in templates]
        for batch in batches:
            produced = None
            while True:
                try:
                    produced = produced or iter(check.scan(batch))
                    template, resource, message = next(produced)
                except StopIteration:
                    break
                except Exception as exc:  # reported with where it happened; the other checks go on
                    where = batch[0] if len(batch) == 1 else None
                    report.errors.append(
                        CheckError(
                            check.id,
                            where.name if where else "(template set)",
                            where.current_resource if where else "(template set)",
                            _one_line(exc),
                            "concert-platform",
                        )
                    )
                    break
                source = template.source_of(resource)
                if (template.name, source, check.id) in skipped:
                    continue
                if source != resource:
                    message = f"{message} (in {resource}, generated from {source})"
                report.findings.append(
                    Finding(
                        check.id,
                        check.practice,
                        "(template set)" if resource == "(template set)" else template.name,
                        source,
                        template.line_of(resource),
                        message,
                        "concert-platform",
                    )
                )


def run_policy(target: Path, tools: tuple[str, ...] = TOOLS) -> PolicyReport:
    loaded = load_templates(target)
    templates = loaded.templates
    report = PolicyReport(
        templates=sorted({t.name for t in templates} | {name for name, _, _ in loaded.unparsed}),
        root=str(loaded.root),
        skipped_files=loaded.skipped_files,
    )
    for name, line, reason in loaded.unparsed:
        check_id, practice = PARSE_CHECK if reason.startswith("does not parse") else TRANSFORM_CHECK
        report.findings.append(
            Finding(check_id, practice, name, "(template)", line, reason, "concert-platform")
        )
    readable = [t for t in templates if t.name not in {name for name, _, _ in loaded.unparsed}]
    for template in templates:
        report.skipped.extend(_metadata_skips(template))
    if "cfn-lint" in tools:
        run_cfn_lint(templates, report)
    if "checkov" in tools:
        run_checkov(templates, report)
    if "concert-platform" in tools:
        run_own_checks(readable, report)
    report.findings.sort(key=lambda f: (f.template, f.line, f.check_id, f.resource, f.message))
    return report


def to_json(report: PolicyReport) -> str:
    return json.dumps(report.as_dict(), indent=2)
