"""Policy report formats: text (rich), JUnit XML, SARIF 2.1.0."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

from rich.console import Console
from rich.table import Table

from concert_platform.policy.runner import PolicyReport


def print_text(report: PolicyReport, console: Console) -> None:
    if report.findings:
        table = Table("check", "practice", "template", "resource", "line", "message", title="policy findings")
        for f in report.findings:
            table.add_row(f.check_id, f.practice, f.template, f.resource, str(f.line), f.message)
        console.print(table)
    for skip in report.skipped:
        console.print(
            f"[yellow]skipped[/yellow] {skip.tool} {skip.check_id} on {skip.template}/{skip.resource}: {skip.reason}",
            soft_wrap=True,
        )
    verdict = "[red]FAILED[/red]" if report.failed else "[green]passed[/green]"
    console.print(
        f"{verdict}: {len(report.templates)} templates, {report.checks_run} checks, {report.failed} findings, {len(report.skipped)} skips in Metadata"
    )


def junit(report: PolicyReport) -> str:
    suite = ET.Element(
        "testsuite",
        name="concert-platform policy",
        tests=str(max(1, report.failed)),
        failures=str(report.failed),
        skipped=str(len(report.skipped)),
    )
    for f in report.findings:
        case = ET.SubElement(
            suite, "testcase", classname=f"policy.{f.template}", name=f"{f.check_id} {f.resource}"
        )
        ET.SubElement(case, "failure", message=f.message).text = f"{f.practice} ({f.template}:{f.line})"
    for s in report.skipped:
        case = ET.SubElement(
            suite, "testcase", classname=f"policy.{s.template}", name=f"{s.check_id} {s.resource}"
        )
        ET.SubElement(case, "skipped", message=s.reason)
    if not report.findings:
        ET.SubElement(
            suite,
            "testcase",
            classname="policy",
            name=f"{len(report.templates)} templates pass {report.checks_run} checks",
        )
    return ET.tostring(suite, encoding="unicode")


def sarif(report: PolicyReport) -> str:
    rules = {f.check_id: f.practice for f in report.findings}
    return json.dumps(
        {
            "version": "2.1.0",
            "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
            "runs": [
                {
                    "tool": {
                        "driver": {
                            "name": "concert-platform policy",
                            "rules": [
                                {"id": i, "shortDescription": {"text": p}} for i, p in sorted(rules.items())
                            ],
                        }
                    },
                    "results": [
                        {
                            "ruleId": f.check_id,
                            "level": "error",
                            "message": {"text": f"{f.resource}: {f.message}"},
                            "locations": [
                                {
                                    "physicalLocation": {
                                        "artifactLocation": {"uri": f.template},
                                        "region": {"startLine": max(1, f.line)},
                                    }
                                }
                            ],
                        }
                        for f in report.findings
                    ],
                }
            ],
        },
        indent=2,
    )
