"""Policy report formats: text (rich), JUnit XML, SARIF 2.1.0."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from concert_platform.policy.runner import PolicyReport

CFN_LINT_RULES = "https://github.com/aws-cloudformation/cfn-lint/blob/main/docs/rules.md"
CHECKOV_POLICIES = "https://www.checkov.io/5.Policy%20Index/cloudformation.html"
# SARIF's helpUri must be an absolute URI (the OASIS schema's format "uri"); our checks' docs live in
# the repository that holds this tool, whose address the tool does not know, so they get `help` text.
OUR_DOCS = "docs/policy.md"
SECURITY_SEVERITY = {"error": "7.5", "warning": "5.0", "note": "2.0"}


def print_text(report: PolicyReport, console: Console) -> None:
    if report.findings:
        table = Table("check", "practice", "template", "resource", "line", "message", title="policy findings")
        for f in report.findings:
            table.add_row(f.check_id, f.practice, f.template, f.resource, str(f.line), f.message)
        console.print(table)
    for skip in report.skipped:
        console.print(
            f"[yellow]skipped[/yellow] {skip.tool} {skip.check_id} on {skip.template}/{skip.resource}: {escape(skip.reason)}",
            soft_wrap=True,
        )
    for skipped in report.skipped_files:
        console.print(
            f"[yellow]not scanned[/yellow] {skipped.path}: {escape(skipped.reason)}", soft_wrap=True
        )
    for error in report.errors:
        console.print(
            f"[red]check error[/red] {error.tool} {error.check_id} on {error.template}/{error.resource}: {escape(error.message)}",
            soft_wrap=True,
        )
    if report.errors:
        verdict = "[red]ERROR[/red]"
    else:
        verdict = "[red]FAILED[/red]" if report.failed else "[green]passed[/green]"
    console.print(
        f"{verdict}: {len(report.templates)} templates, {report.checks_run} checks, {report.failed} findings, "
        f"{len(report.errors)} check errors, {len(report.skipped)} skips in Metadata, "
        f"{len(report.skipped_files)} files not templates"
    )


def junit(report: PolicyReport) -> str:
    """One test case per finding, skip and check error (plus one passing case when nothing
    failed); names are unique, and `tests` counts every case."""
    suite = ET.Element("testsuite", name="concert-platform policy")
    names: Counter[tuple[str, str]] = Counter()

    def case(classname: str, name: str) -> ET.Element:
        names[(classname, name)] += 1
        count = names[(classname, name)]
        unique = name if count == 1 else f"{name} #{count}"
        return ET.SubElement(suite, "testcase", classname=classname, name=unique)

    for f in report.findings:
        element = case(f"policy.{f.template}", f"{f.check_id} {f.resource}")
        ET.SubElement(
            element, "failure", message=f.message, type=f.severity
        ).text = f"{f.practice} ({f.template}:{f.line}, {f.tool})"
    for s in report.skipped:
        element = case(f"policy.{s.template}", f"{s.check_id} {s.resource}")
        ET.SubElement(element, "skipped", message=s.reason)
    for e in report.errors:
        element = case(f"policy.{e.template}", f"{e.check_id} {e.resource} (check error)")
        ET.SubElement(element, "error", message=e.message, type=e.tool)
    if not report.findings and not report.errors:
        case("policy", f"{len(report.templates)} templates pass {report.checks_run} checks")
    cases = suite.findall("testcase")
    suite.set("tests", str(len(cases)))
    suite.set("failures", str(report.failed))
    suite.set("errors", str(len(report.errors)))
    suite.set("skipped", str(len(report.skipped)))
    return ET.tostring(suite, encoding="unicode")


def _help(tool: str, check_id: str, practice: str) -> dict[str, Any]:
    """`helpUri` for cfn-lint's and checkov's rules; `help` naming the docs/policy.md anchor for ours."""
    if tool == "cfn-lint":
        return {"helpUri": f"{CFN_LINT_RULES}#rules-{check_id[:1]}"}
    if tool == "checkov":
        return {"helpUri": CHECKOV_POLICIES}
    anchor = f"{OUR_DOCS}#{check_id.lower()}"
    return {
        "help": {
            "text": f"{practice}. See {anchor} in the concert-platform repository.",
            "markdown": f"{practice}. See [{anchor}]({anchor}) in the concert-platform repository.",
        }
    }


def sarif(report: PolicyReport) -> str:
    """SARIF 2.1.0: URIs relative to the scanned directory (base id SRCROOT), levels from each
    tool's severity, rules with help links and GitHub's `security-severity`."""
    rules: dict[str, dict[str, Any]] = {}
    for f in report.findings:
        rule = rules.setdefault(
            f.check_id,
            {
                "id": f.check_id,
                "name": f.check_id,
                "shortDescription": {"text": f.practice},
                **_help(f.tool, f.check_id, f.practice),
                "defaultConfiguration": {"level": f.severity},
                "properties": {"tool": f.tool, "security-severity": SECURITY_SEVERITY[f.severity]},
            },
        )
        if SECURITY_SEVERITY[f.severity] > rule["properties"]["security-severity"]:
            rule["properties"]["security-severity"] = SECURITY_SEVERITY[f.severity]
    ordered = sorted(rules)
    results = []
    for f in report.findings:
        result: dict[str, Any] = {
            "ruleId": f.check_id,
            "ruleIndex": ordered.index(f.check_id),
            "level": f.severity,
            "message": {"text": f"{f.resource}: {f.message}"},
        }
        if f.template != "(template set)":
            result["locations"] = [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": f.template, "uriBaseId": "SRCROOT"},
                        "region": {"startLine": max(1, f.line)},
                    },
                    "logicalLocations": [{"name": f.resource, "kind": "resource"}],
                }
            ]
        results.append(result)
    notifications = [
        {
            "level": "error",
            "message": {"text": f"{e.tool} {e.check_id} on {e.template}/{e.resource}: {e.message}"},
            "descriptor": {"id": e.check_id},
        }
        for e in report.errors
    ] + [
        {"level": "note", "message": {"text": f"not scanned: {s.path}: {s.reason}"}}
        for s in report.skipped_files
    ]
    root = Path(report.root).resolve().as_uri().rstrip("/") + "/"
    return json.dumps(
        {
            "version": "2.1.0",
            "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
            "runs": [
                {
                    "tool": {
                        "driver": {
                            "name": "concert-platform policy",
                            "rules": [rules[i] for i in ordered],
                        }
                    },
                    "originalUriBaseIds": {"SRCROOT": {"uri": root}},
                    "invocations": [
                        {
                            "executionSuccessful": not report.errors,
                            "toolExecutionNotifications": notifications,
                        }
                    ],
                    "results": results,
                }
            ],
        },
        indent=2,
    )
