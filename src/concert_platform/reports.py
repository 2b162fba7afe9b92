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

from rich.table import Table
from rich.text import Text

from concert_platform import canaries
from concert_platform.execution_roles import junit_cases, markdown_lines, summary_lines
from concert_platform.outcome import teardown_remains


def _teardown_word(teardown: dict[str, Any]) -> str:
    """One phrase for the teardown; `NOT CLEAN` always names what remains (or may remain)."""
    if teardown.get("kept"):
        return "kept (--keep)"
    if teardown.get("not_run"):
        return "not run (the engine never started)" if not teardown.get("interrupted") else "not run"
    if teardown.get("clean"):
        return "clean"
    remains = teardown_remains(teardown)
    if teardown.get("interrupted"):
        return "NOT CLEAN (interrupted); may remain: " + "; ".join(remains)
    if teardown.get("failed"):
        return f"NOT CLEAN (the teardown failed: {teardown['failed']}); may remain: " + "; ".join(remains)
    return "NOT CLEAN; remains: " + ("; ".join(remains) or "(nothing named: a bug in the teardown report)")


def verdict_word(report: dict[str, Any]) -> str:
    verdict = report.get("verdict") or ("passed" if report["ok"] else "failed")
    return str(verdict).upper()


def run_line(report: dict[str, Any]) -> str:
    """When, with what tool, against which engine version."""
    engine_version = report.get("engine_version") or "not reported"
    return (
        f"run: {report.get('started_at', '?')} to {report.get('finished_at', '?')} (UTC), "
        f"concert-platform {report.get('tool_version', '?')}, engine {report['engine']} version {engine_version}"
    )


#: report sections checked within a phase of the run
_PHASE_OF = {"cross_stack": "verify", "iam": "smoke"}


def _not_run(report: dict[str, Any], phase: str) -> str | None:
    """`not run: why` for a phase (or a section checked within it) that never ran, `not finished:
    why` for one a signal cut short; None when it ran to its end."""
    phase = _PHASE_OF.get(phase, phase)
    if phase in (report.get("not_finished") or {}):
        return f"not finished: {report['not_finished'][phase]}"
    reason = (report.get("not_run") or {}).get(phase)
    return f"not run: {reason}" if reason else None


def _resources_line(report: dict[str, Any]) -> str:
    reason = _not_run(report, "verify")
    if reason:
        return f"resources: {reason}"
    res = report["resources"]
    line = f"resources: {res['verified']} of {res['declared']} declared resources verified"
    if res.get("known_gaps"):
        line += (
            f"; {res['known_gaps']} with known engine gaps only (declared properties the engine "
            "accepts and does not apply): not a full verification"
        )
    return line


def _smoke_line(report: dict[str, Any]) -> str:
    reason = _not_run(report, "smoke")
    if reason:
        return f"smoke: {reason}"
    smoke = report["smoke"]
    skipped = f", {smoke['skipped']} skipped" if smoke.get("skipped") else ""
    path = f" (functions run by {smoke['function_path']})" if smoke.get("function_path") else ""
    return f"smoke: {smoke['passed']} passed, {smoke['failed']} failed{skipped}{path}"


def _seconds(value: Any) -> str:
    return "-" if value is None else f"{float(value):.2f}"


def interruption_lines(report: dict[str, Any]) -> list[str]:
    """What a stopped run says: the signal, the phase, what was left and how to remove it."""
    lines = []
    interrupted = report.get("interrupted")
    if interrupted:
        again = f" ({interrupted['again']} as well)" if interrupted.get("again") else ""
        lines.append(f"interrupted: {interrupted['signal']} during {interrupted['phase']}{again}")
    left = report.get("left") or {}
    if left.get("items"):
        lines.append(f"left on the engine ({len(left['items'])}): " + "; ".join(left["items"]))
        lines.append(f"remove it with: {left['destroy']}")
    elif interrupted and left.get("note"):
        lines.append(left["note"])
    return lines


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
    # case names never carry counts or statuses: CI keeps a case's history by its name
    passed: dict[str, list[tuple[str, str | None]]] = {
        "deploy": [(s["key"], None) for s in report["stacks"] if s["status"] in DEPLOYED],
        "post_deploy": [(p["name"], None) for p in report["post_deploy"] if p["ok"] and not p.get("skipped")],
        "verify": [("declared resources verified", None)] if resources.get("declared") else [],
        "cross_stack": [
            (f"{c['stack']} {c['name']}", None) for c in resources.get("cross_stack", []) if c["ok"]
        ],
        "smoke": [(c["name"], None) for c in smoke["checks"] if c["ok"] and not c.get("skipped")],
        "teardown": [("recorded resources gone", None)] if teardown.get("clean") else [],
    }
    passed["iam"] = [case for case in junit_cases(report.get("iam")) if case[1] is None]
    passed["canaries"] = [
        (name, None)
        for name, failure, skip in canaries.junit_cases(report.get("canaries"))
        if not (failure or skip)
    ]
    phases: tuple[str, ...] = (
        "deploy",
        "post_deploy",
        "verify",
        "cross_stack",
        "canaries",
        "smoke",
        "iam",
        "teardown",
    )
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


def _case_properties(report: dict[str, Any], suite: str, case: str) -> dict[str, str]:
    """The counts and statuses a passed case's name leaves out."""
    resources, teardown = report["resources"], report.get("teardown", {})
    if suite == "deploy":
        row = next((s for s in report["stacks"] if s["key"] == case), None)
        return {"status": str(row["status"]), "seconds": str(row["seconds"])} if row else {}
    if suite == "verify" and case == "declared resources verified":
        return {"verified": str(resources["verified"]), "declared": str(resources["declared"])}
    if suite == "teardown" and case == "recorded resources gone":
        return {
            "confirmed_gone": str(teardown.get("confirmed_gone", 0)),
            "recorded": str(teardown.get("recorded", 0)),
        }
    return {}


def junit_xml(report: dict[str, Any]) -> str:
    suites = ET.Element(
        "testsuites",
        name=f"concert-platform e2e ({report['engine']})",
        timestamp=str(report.get("started_at", "")),
    )
    run_properties = {
        "verdict": str(report.get("verdict") or ("passed" if report["ok"] else "failed")),
        "tool_version": str(report.get("tool_version")),
        "engine_version": str(report.get("engine_version") or "not reported"),
        "started_at": str(report.get("started_at")),
        "finished_at": str(report.get("finished_at")),
    }
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
            timestamp=str(report.get("started_at", "")),
        )
        properties = ET.SubElement(suite, "properties")
        for key, value in run_properties.items():
            ET.SubElement(properties, "property", name=key, value=value)
        for case_name, failure in cases:
            case = ET.SubElement(suite, "testcase", classname=f"e2e.{suite_name}", name=case_name)
            counts = _case_properties(report, suite_name, case_name) if not failure else {}
            if counts:
                case_properties = ET.SubElement(case, "properties")
                for key, value in counts.items():
                    ET.SubElement(case_properties, "property", name=key, value=value)
            if failure:
                ET.SubElement(case, "failure", message=failure[:500]).text = failure
        # checks not run on this engine and steps not taken by choice, with the reason
        skipped = [c for c in _skippable(report, suite_name) if c.get("skipped")]
        for check in skipped:
            case = ET.SubElement(suite, "testcase", classname=f"e2e.{suite_name}", name=check["name"])
            ET.SubElement(case, "skipped", message=check["detail"][:500])
        reason = _not_run(report, suite_name)
        if reason and not cases:  # a phase that never ran is one skipped case, never a pass
            case = ET.SubElement(suite, "testcase", classname=f"e2e.{suite_name}", name=f"{suite_name} phase")
            ET.SubElement(case, "skipped", message=reason)
            skipped.append({"name": f"{suite_name} phase"})
        if skipped or suite_name in ("smoke", "post_deploy", "canaries"):
            suite.set("skipped", str(len(skipped)))
            suite.set("tests", str(len(cases) + len(skipped)))
    return ET.tostring(suites, encoding="unicode")


def _skippable(report: dict[str, Any], phase: str) -> list[dict[str, Any]]:
    """The rows of a phase that can be skipped: smoke checks and post-deployment steps."""
    if phase == "smoke":
        return list(report["smoke"]["checks"])
    if phase == "post_deploy":
        return list(report["post_deploy"])
    if phase == "canaries":  # a canary whose guarantee the engine declares it lacks
        return [
            {"name": name, "detail": skip, "skipped": True}
            for name, _failure, skip in canaries.junit_cases(report.get("canaries"))
            if skip
        ]
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
        f"# Concert Platform e2e: {verdict_word(report)}",
        "",
        f"- engine: `{report['engine']}`, environment: `{report['environment']}`, {report['seconds']:.1f}s ({phases})",
        f"- {run_line(report)}",
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
        f"- {_resources_line(report)}",
        *[f"- {line}" for line in [canaries.summary_line(report.get("canaries"))] if line],
        f"- {_smoke_line(report)}",
        f"- teardown: {_teardown_word(teardown)}"
        + (
            f" ({teardown['removed_directly']} removed directly after the stack deletion left them)"
            if teardown.get("removed_directly")
            else ""
        )
        + (f"; not listable here: {', '.join(teardown['unlisted'])}" if teardown.get("unlisted") else ""),
    ]
    if report.get("post_deploy") == [] and _not_run(report, "post_deploy"):
        lines.insert(4, f"- post-deploy: {_not_run(report, 'post_deploy')}")
    lines += [f"- {line}" for line in interruption_lines(report)]
    if report.get("reason"):
        lines += ["", "## Reason", "", f"```\n{report['reason']}\n```"]
    if report["failures"]:
        lines += ["", "## Failures", "", "| phase | check | reason |", "| --- | --- | --- |"]
        lines += [
            f"| {f['phase']} | {_cell(f['check'] or '-')} | {_cell(f['reason'])} |"
            for f in report["failures"]
        ]
    lines += ["", "## Stacks", "", "| stack | name | status | seconds |", "| --- | --- | --- | --- |"]
    lines += [
        f"| {s['key']} | `{s['name']}` | {s['status']} | {_seconds(s['seconds'])} |" for s in report["stacks"]
    ]
    if report["post_deploy"]:
        lines += ["", "## Post-deployment steps", "", "| step | result | detail |", "| --- | --- | --- |"]
        lines += [
            f"| {p['name']} | {_result_word(p)} | {_cell(p['detail'])} |" for p in report["post_deploy"]
        ]
    gaps = [u for u in res["unverified"] if u.get("known_gap")]
    if gaps:
        lines += [
            "",
            "## Known engine gaps (not verified, not failed: not a full verification)",
            "",
            "| stack | resource | type | reason |",
        ]
        lines += ["| --- | --- | --- | --- |"]
        lines += [f"| {u['stack']} | {u['logical_id']} | {u['type']} | {_cell(u['reason'])} |" for u in gaps]
    exempt = [u for u in res["unverified"] if u.get("exempt") and not u.get("known_gap")]
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
    lines += canaries.markdown_lines(report.get("canaries"))
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
    from concert_platform.console import output_console

    console = output_console()
    table = Table("stack", "status", "seconds", title=f"e2e on {report['engine']} ({report['environment']})")
    for stack in report["stacks"]:
        table.add_row(Text(stack["name"]), Text(str(stack["status"])), _seconds(stack["seconds"]))
    console.print(table)
    console.print(run_line(report), soft_wrap=True)
    res = report["resources"]
    console.print(_resources_line(report), soft_wrap=True)
    for item in res["unverified"]:
        if item.get("known_gap"):
            console.print(
                f"  [yellow]known engine gap[/yellow] {item['stack']}/{item['logical_id']} {item['type']}: {item['reason']}",
                soft_wrap=True,
            )
        elif item.get("exempt"):
            console.print(
                f"  [yellow]exempt[/yellow] {item['stack']}/{item['logical_id']} {item['type']}: {item['reason']}",
                soft_wrap=True,
            )
    canary_line = canaries.summary_line(report.get("canaries"))
    if canary_line:
        console.print(canary_line)
    for line in canaries.console_lines(report.get("canaries")):
        console.print(line, soft_wrap=True)
    smoke = report["smoke"]
    console.print(_smoke_line(report), soft_wrap=True)
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
    console.print(f"teardown: {word}", soft_wrap=True)
    for failure in report["failures"]:
        where = f"{failure['phase']}: {failure['check']}" if failure["check"] else failure["phase"]
        console.print(f"  [red]FAIL[/red] {where}: {failure['reason']}", soft_wrap=True)
    for line in interruption_lines(report):
        console.print(line, soft_wrap=True)
    console.print(f"reports: {', '.join(str(p) for p in paths)}", soft_wrap=True)
    phases = ", ".join(f"{k} {v:.1f}s" for k, v in report["phases"].items() if v is not None)
    if report["ok"]:
        console.print(f"[green]PASSED[/green] in {report['seconds']:.1f}s ({phases})")
    elif report.get("verdict") == "interrupted":
        console.print(f"[red]INTERRUPTED[/red]: {report['reason']}", soft_wrap=True)
    else:
        console.print(f"[red]FAILED[/red]: {report['reason']}", soft_wrap=True)
