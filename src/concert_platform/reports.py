"""Run reports a reviewer can attach to a pull request: terminal summary, JUnit XML, Markdown."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from concert_platform.execution_roles import junit_cases, markdown_lines, summary_lines


def junit_xml(report: dict[str, Any]) -> str:
    suites = ET.Element("testsuites", name=f"concert-platform e2e ({report['engine']})")
    groups: list[tuple[str, list[tuple[str, str | None]]]] = [
        (
            "stacks",
            [
                (f"{s['key']} {s['status']}", None if s["status"] != "failed" else s["status"])
                for s in report["stacks"]
            ],
        ),
        (
            "resources",
            [
                (f"{u['stack']}/{u['logical_id']} ({u['type']})", None if u.get("exempt") else u["reason"])
                for u in report["resources"]["unverified"]
            ]
            + [
                (
                    f"{report['resources']['verified']} of {report['resources']['declared']} resources verified",
                    None,
                )
            ],
        ),
        ("smoke", [(c["name"], None if c["ok"] else c["detail"]) for c in report["smoke"]["checks"]]),
        (
            "teardown",
            [
                (
                    "no leftovers",
                    None
                    if report["teardown"].get("clean") is not False
                    else "; ".join(report["teardown"]["leftovers"]),
                )
            ],
        ),
    ]
    if junit_cases(report.get("iam")):
        groups.append(("iam", junit_cases(report.get("iam"))))
    if "error" in report:
        groups.append(("run", [("deploy", report["error"])]))
    for suite_name, cases in groups:
        failures = sum(1 for _, failure in cases if failure)
        suite = ET.SubElement(
            suites, "testsuite", name=suite_name, tests=str(len(cases)), failures=str(failures)
        )
        for case_name, failure in cases:
            case = ET.SubElement(suite, "testcase", classname=f"e2e.{suite_name}", name=case_name)
            if failure:
                ET.SubElement(case, "failure", message=failure[:500]).text = failure
    return ET.tostring(suites, encoding="unicode")


def markdown(report: dict[str, Any]) -> str:
    res = report["resources"]
    smoke = report["smoke"]
    teardown = report["teardown"]
    lines = [
        f"# Concert Platform e2e: {'PASSED' if report['ok'] else 'FAILED'}",
        "",
        f"- engine: `{report['engine']}`, environment: `{report['environment']}`, {report['seconds']:.1f}s",
        f"- resources: {res['verified']} of {res['declared']} verified",
        f"- smoke: {smoke['passed']} passed, {smoke['failed']} failed",
        f"- teardown: {'clean' if teardown.get('clean') else 'kept' if teardown.get('kept') else 'LEFTOVERS'}",
    ]
    if "error" in report:
        lines += ["", "## Error", "", f"```\n{report['error']}\n```"]
    lines += ["", "## Stacks", "", "| stack | name | status | seconds |", "| --- | --- | --- | --- |"]
    lines += [f"| {s['key']} | `{s['name']}` | {s['status']} | {s['seconds']} |" for s in report["stacks"]]
    if res["unverified"]:
        lines += [
            "",
            "## Not verified",
            "",
            "| stack | resource | type | exempt | reason |",
            "| --- | --- | --- | --- | --- |",
        ]
        lines += [
            f"| {u['stack']} | {u['logical_id']} | {u['type']} | {'yes' if u.get('exempt') else 'NO'} | {u['reason']} |"
            for u in res["unverified"]
        ]
    lines += ["", "## Smoke checks", "", "| check | result | detail |", "| --- | --- | --- |"]
    lines += [f"| {c['name']} | {'pass' if c['ok'] else 'FAIL'} | {c['detail']} |" for c in smoke["checks"]]
    lines += markdown_lines(report.get("iam"))
    if teardown.get("leftovers"):
        lines += ["", "## Leftovers", ""] + [f"- {item}" for item in teardown["leftovers"]]
    return "\n".join(lines) + "\n"


def write_reports(report: dict[str, Any], directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    stem = f"e2e-{report['engine']}-{report['environment']}"
    xml_path = directory / f"{stem}.xml"
    md_path = directory / f"{stem}.md"
    xml_path.write_text(junit_xml(report))
    md_path.write_text(markdown(report))
    return [xml_path, md_path]


def print_summary(report: dict[str, Any], paths: list[Path]) -> None:
    console = Console(highlight=False)
    table = Table("stack", "status", "seconds", title=f"e2e on {report['engine']} ({report['environment']})")
    for stack in report["stacks"]:
        table.add_row(stack["name"], stack["status"], f"{stack['seconds']:.2f}")
    console.print(table)
    res = report["resources"]
    console.print(f"resources: {res['verified']} of {res['declared']} declared resources verified")
    for item in res["unverified"]:
        tag = "[yellow]exempt[/yellow]" if item.get("exempt") else "[red]UNVERIFIED[/red]"
        console.print(
            f"  {tag} {item['stack']}/{item['logical_id']} {item['type']}: {item['reason']}", soft_wrap=True
        )
    smoke = report["smoke"]
    console.print(f"smoke: {smoke['passed']} passed, {smoke['failed']} failed")
    for check in smoke["checks"]:
        if not check["ok"]:
            console.print(f"  [red]FAIL[/red] {check['name']}: {check['detail']}", soft_wrap=True)
    for line in summary_lines(report.get("iam")):
        console.print(line, soft_wrap=True)
    teardown = report["teardown"]
    console.print(f"teardown: {'clean' if teardown.get('clean') else teardown}")
    if "error" in report:
        console.print(f"[red]error:[/red] {report['error']}", soft_wrap=True)
    console.print(f"reports: {', '.join(str(p) for p in paths)}")
    verdict = "[green]PASSED[/green]" if report["ok"] else "[red]FAILED[/red]"
    console.print(f"{verdict} in {report['seconds']:.1f}s")
