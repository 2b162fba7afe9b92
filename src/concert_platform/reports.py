"""Run reports a reviewer can attach to a pull request: JSON, JUnit XML, Markdown, terminal summary.

All four read the same `failures` list the verdict comes from, so no report can say PASSED
while a check of any phase failed. They are written whatever happened, also after a failed
deploy (missing sections are empty, never absent).
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from concert_platform.execution_roles import junit_cases, markdown_lines, summary_lines


def _teardown_word(teardown: dict[str, Any]) -> str:
    if teardown.get("kept"):
        return "kept"
    if teardown.get("not_run"):
        return "not run (the engine never started)"
    return "clean" if teardown.get("clean") else "NOT CLEAN"


#: stack statuses of a deploy that succeeded (a failed deploy's rows say ROLLBACK_COMPLETE, not deployed, ...)
DEPLOYED = frozenset({"created", "updated", "no changes", "replaced"})


def _cases(report: dict[str, Any]) -> list[tuple[str, list[tuple[str, str | None]]]]:
    """(suite, [(case, failure or None)]): every check of every phase, passed or failed."""
    failed_by_phase: dict[str, list[tuple[str, str | None]]] = {}
    for failure in report["failures"]:
        name = failure["check"] or f"{failure['phase']} phase"
        failed_by_phase.setdefault(failure["phase"], []).append((name, failure["reason"]))
    resources = report["resources"]
    smoke = report["smoke"]
    teardown = report.get("teardown", {})
    passed: dict[str, list[tuple[str, str | None]]] = {
        "deploy": [(f"{s['key']} {s['status']}", None) for s in report["stacks"] if s["status"] in DEPLOYED],
        "post_deploy": [(p["name"], None) for p in report["post_deploy"] if p["ok"] and not p.get("skipped")],
        "verify": [(f"{resources['verified']} of {resources['declared']} declared resources verified", None)]
        if resources.get("declared")
        else [],
        "cross_stack": [
            (f"{c['stack']} {c['name']}", None) for c in resources.get("cross_stack", []) if c["ok"]
        ],
        "smoke": [(c["name"], None) for c in smoke["checks"] if c["ok"] and not c.get("skipped")],
        "teardown": [
            (
                f"{teardown.get('confirmed_gone', 0)} of {teardown.get('recorded', 0)} recorded resources gone",
                None,
            )
        ]
        if teardown.get("clean")
        else [],
    }
    passed["iam"] = [case for case in junit_cases(report.get("iam")) if case[1] is None]
    phases: tuple[str, ...] = ("deploy", "post_deploy", "verify", "cross_stack", "smoke", "iam", "teardown")
    if "update" in report["phases"]:  # e2e --base: the update and its review are suites too
        review = report.get("update_review") or {}
        passed["update_review"] = [
            (f"{f['stack']}/{f['logical_id']} {f['rule']} acknowledged: {f['acknowledged']}", None)
            for f in review.get("findings", [])
            if f["acknowledged"]
        ]
        passed["update_review"] += [
            (f"{d['key']} {d['kind']} kept", None) for d in review.get("data", []) if not d["lost"]
        ]
        phases = ("deploy", "update", "update_review", *phases[1:])
    return [(phase, passed.get(phase, []) + failed_by_phase.get(phase, [])) for phase in phases]


def junit_xml(report: dict[str, Any]) -> str:
    suites = ET.Element("testsuites", name=f"concert-platform e2e ({report['engine']})")
    for suite_name, cases in _cases(report):
        failures = sum(1 for _, failure in cases if failure)
        seconds = report["phases"].get(suite_name)
        suite = ET.SubElement(
            suites,
            "testsuite",
            name=suite_name,
            tests=str(len(cases)),
            failures=str(failures),
            time=f"{seconds or 0:.3f}",
        )
        for case_name, failure in cases:
            case = ET.SubElement(suite, "testcase", classname=f"e2e.{suite_name}", name=case_name)
            if failure:
                ET.SubElement(case, "failure", message=failure[:500]).text = failure
        # checks not run on this engine and steps not taken by choice, with the reason
        skipped = [c for c in _skippable(report, suite_name) if c.get("skipped")]
        for check in skipped:
            case = ET.SubElement(suite, "testcase", classname=f"e2e.{suite_name}", name=check["name"])
            ET.SubElement(case, "skipped", message=check["detail"][:500])
        if suite_name in ("smoke", "post_deploy"):
            suite.set("skipped", str(len(skipped)))
            suite.set("tests", str(len(cases) + len(skipped)))
    return ET.tostring(suites, encoding="unicode")


def _skippable(report: dict[str, Any], phase: str) -> list[dict[str, Any]]:
    """The rows of a phase that can be skipped: smoke checks and post-deployment steps."""
    if phase == "smoke":
        return list(report["smoke"]["checks"])
    if phase == "post_deploy":
        return list(report["post_deploy"])
    return []


def _result_word(row: dict[str, Any]) -> str:
    return "skipped" if row.get("skipped") else "pass" if row["ok"] else "FAIL"


def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def markdown(report: dict[str, Any]) -> str:
    res = report["resources"]
    smoke = report["smoke"]
    teardown = report["teardown"]
    phases = ", ".join(
        f"{name} {seconds:.1f}s" for name, seconds in report["phases"].items() if seconds is not None
    )
    lines = [
        f"# Concert Platform e2e: {'PASSED' if report['ok'] else 'FAILED'}",
        "",
        f"- engine: `{report['engine']}`, environment: `{report['environment']}`, {report['seconds']:.1f}s ({phases})",
        *(
            [
                f"- update from `{report['base']['ref']}` ({report['base']['commit'][:12]}): "
                + (
                    f"{report['update_review']['blocking']} blocking, {report['update_review']['acknowledged']} "
                    f"acknowledged, {sum(d['lost'] for d in report['update_review']['data'])} data counts lost "
                    f"(update-review-{report['environment']}.md)"
                    if report.get("update_review")
                    else "no review (the update could not be reviewed)"
                )
            ]
            if report.get("base")
            else []
        ),
        f"- resources: {res['verified']} of {res['declared']} verified",
        f"- smoke: {smoke['passed']} passed, {smoke['failed']} failed"
        + (f", {smoke['skipped']} skipped" if smoke.get("skipped") else ""),
        f"- teardown: {_teardown_word(teardown)}"
        + (
            f" ({teardown['removed_directly']} removed directly after the stack deletion left them)"
            if teardown.get("removed_directly")
            else ""
        )
        + (f"; not listable here: {', '.join(teardown['unlisted'])}" if teardown.get("unlisted") else ""),
    ]
    if report.get("reason"):
        lines += ["", "## Reason", "", f"```\n{report['reason']}\n```"]
    if report["failures"]:
        lines += ["", "## Failures", "", "| phase | check | reason |", "| --- | --- | --- |"]
        lines += [
            f"| {f['phase']} | {_cell(f['check'] or '-')} | {_cell(f['reason'])} |"
            for f in report["failures"]
        ]
    lines += ["", "## Stacks", "", "| stack | name | status | seconds |", "| --- | --- | --- | --- |"]
    lines += [f"| {s['key']} | `{s['name']}` | {s['status']} | {s['seconds']} |" for s in report["stacks"]]
    if report["post_deploy"]:
        lines += ["", "## Post-deployment steps", "", "| step | result | detail |", "| --- | --- | --- |"]
        lines += [
            f"| {p['name']} | {_result_word(p)} | {_cell(p['detail'])} |" for p in report["post_deploy"]
        ]
    exempt = [u for u in res["unverified"] if u.get("exempt")]
    if exempt:
        lines += ["", "## Exempt (engine capability list)", "", "| stack | resource | type | reason |"]
        lines += ["| --- | --- | --- | --- |"]
        lines += [
            f"| {u['stack']} | {u['logical_id']} | {u['type']} | {_cell(u['reason'])} |" for u in exempt
        ]
    details = res.get("details") or []
    if details:
        compared = sum(len(d["compared"]) for d in details)
        lines += [
            "",
            "## Verification by declared property",
            "",
            f"{compared} declared properties compared with what the services return; a resource is "
            "verified only when each declared property was compared and matched, or cannot be "
            "compared for the reason given.",
            "",
            "| resource | type | verified | compared | not comparable (why) |",
            "| --- | --- | --- | --- | --- |",
        ]
        lines += [
            f"| {d['stack']}/{d['logical_id']} | {d['type']} | {'yes' if d['verified'] else 'NO'} "
            f"| {_cell(', '.join(d['compared']) or '-')} "
            f"| {_cell('; '.join(f'{k}: {v}' for k, v in d['not_comparable'].items()) or '-')} |"
            for d in details
        ]
    if smoke["checks"]:
        lines += ["", "## Smoke checks", "", "| check | result | detail |", "| --- | --- | --- |"]
        lines += [f"| {c['name']} | {_result_word(c)} | {_cell(c['detail'])} |" for c in smoke["checks"]]
    lines += markdown_lines(report.get("iam"))
    if teardown.get("remaining"):
        lines += [
            "",
            "## Still there after destroy",
            "",
            "| stack | resource | type | physical id | detail |",
        ]
        lines += ["| --- | --- | --- | --- | --- |"]
        lines += [
            f"| {r['stack']} | {r['logical_id']} | {r['type']} | `{r['physical_id']}` | {_cell(r['detail'])} |"
            for r in teardown["remaining"]
        ]
    return "\n".join(lines) + "\n"


def write_reports(report: dict[str, Any], directory: Path) -> list[Path]:
    """The JSON, JUnit XML and Markdown reports; returns their paths."""
    directory.mkdir(parents=True, exist_ok=True)
    stem = f"e2e-{report['engine']}-{report['environment']}"
    json_path = directory / f"{stem}.json"
    xml_path = directory / f"{stem}.xml"
    md_path = directory / f"{stem}.md"
    json_path.write_text(json.dumps(report, indent=2, default=str) + "\n")
    xml_path.write_text(junit_xml(report))
    md_path.write_text(markdown(report))
    return [json_path, xml_path, md_path]


def print_summary(report: dict[str, Any], paths: list[Path]) -> None:
    console = Console(highlight=False)
    table = Table("stack", "status", "seconds", title=f"e2e on {report['engine']} ({report['environment']})")
    for stack in report["stacks"]:
        table.add_row(stack["name"], stack["status"], f"{stack['seconds']:.2f}")
    console.print(table)
    res = report["resources"]
    console.print(f"resources: {res['verified']} of {res['declared']} declared resources verified")
    for item in res["unverified"]:
        if item.get("exempt"):
            console.print(
                f"  [yellow]exempt[/yellow] {item['stack']}/{item['logical_id']} {item['type']}: {item['reason']}",
                soft_wrap=True,
            )
    smoke = report["smoke"]
    skipped = f", {smoke['skipped']} skipped" if smoke.get("skipped") else ""
    console.print(f"smoke: {smoke['passed']} passed, {smoke['failed']} failed{skipped}")
    for check in (c for c in smoke["checks"] if c.get("skipped")):
        console.print(f"  [yellow]skipped[/yellow] {check['name']}: {check['detail']}", soft_wrap=True)
    for step in (p for p in report["post_deploy"] if p.get("skipped")):
        console.print(
            f"post-deploy [yellow]skipped[/yellow] {step['name']}: {step['detail']}", soft_wrap=True
        )
    for line in summary_lines(report.get("iam"))[:1]:  # the denials are listed with the failures
        console.print(line, soft_wrap=True)
    teardown = report["teardown"]
    word = _teardown_word(teardown)
    if teardown.get("clean"):
        retained = teardown.get("retained", [])
        kept = f"; retained by design: {', '.join(r['logical_id'] for r in retained)}" if retained else ""
        word += f" ({teardown.get('confirmed_gone', 0)} of {teardown.get('recorded', 0)} recorded resources confirmed gone{kept})"
        if teardown.get("removed_directly"):
            word += f"; {teardown['removed_directly']} of them removed directly after the stack deletion left them"
        if teardown.get("unlisted"):
            word += f"; not listable on this engine (only recorded ids were asked for): {', '.join(teardown['unlisted'])}"
    console.print(f"teardown: {word}")
    for failure in report["failures"]:
        where = f"{failure['phase']}: {failure['check']}" if failure["check"] else failure["phase"]
        console.print(f"  [red]FAIL[/red] {where}: {failure['reason']}", soft_wrap=True)
    console.print(f"reports: {', '.join(str(p) for p in paths)}", soft_wrap=True)
    phases = ", ".join(f"{k} {v:.1f}s" for k, v in report["phases"].items() if v is not None)
    if report["ok"]:
        console.print(f"[green]PASSED[/green] in {report['seconds']:.1f}s ({phases})")
    else:
        console.print(f"[red]FAILED[/red]: {report['reason']}", soft_wrap=True)
