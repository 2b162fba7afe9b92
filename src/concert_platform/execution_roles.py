"""The run's IAM section: denied calls, granted actions no flow used.

Functions run as their execution roles (credentials: `engines.function_roles.function_credentials`).
Where the engine keeps an IAM ledger (`Capabilities.iam_ledger`, the embedded engine), every call
made with those credentials is authorised and recorded; this module turns the ledger into the
report's `iam: {denied: [...], unused: [...]}` section, the way IAM Access Analyzer reports unused
access: per role, the granted actions no call used.
"""

from __future__ import annotations

from typing import Any

from concert_platform.engines.function_roles import function_credentials, role_runs

__all__ = [
    "denial_lines",
    "forget_function",
    "function_credentials",
    "iam_section",
    "junit_cases",
    "markdown_lines",
    "summary_lines",
]


def iam_section(engine: Any) -> dict[str, Any]:
    """`{enforced, denied: [{function, role, action, resource, reason}], unused: [{role, functions, actions}]}`."""
    if not engine.capabilities.iam_ledger:  # elsewhere the functions run in Lambda, under AWS's own IAM
        return {"enforced": False, "denied": [], "unused": []}
    run = role_runs(engine)
    if run is None or not run.roles:  # no function ran with its role: nothing was authorised
        return {"enforced": True, "denied": [], "unused": [], "not_run": True}
    ledger = engine.iam_ledger()
    denied = [
        {
            "function": d.function,
            "role": d.role,
            "action": d.action,
            "resource": d.resource,
            "reason": d.reason,
            **({"needed_by": d.via} if d.via else {}),
        }
        for d in ledger.denied()
    ]
    unused = []
    for role_arn in sorted(set(run.roles.values())):
        used = {action for action, _resource in ledger.used(role_arn)} | run.service_actions[role_arn]
        idle = engine.unused_grants(role_arn, used)
        if idle:
            functions = sorted(f for f, r in run.roles.items() if r == role_arn)
            unused.append({"role": role_arn, "functions": functions, "actions": idle})
    return {"enforced": True, "denied": denied, "unused": unused}


def denial_lines(section: dict[str, Any]) -> list[str]:
    """One line per denied call, naming function, action, resource and role."""
    return [
        f"{d['function']} was denied {d['action']} on {d['resource']} (role {d['role']})"
        + (f", needed by {d['needed_by']}" if d.get("needed_by") else "")
        for d in section.get("denied", [])
    ]


# ---- the report section (JSON is the dict itself; these render it for JUnit, Markdown, terminal) ----


def canary_lines(section: dict[str, Any] | None) -> list[str]:
    """The engine canaries' calls, denied as they had to be (apart from the platform's calls)."""
    return [
        f"{d['canary']}: {d['action']} on {d['resource']} denied, as expected"
        for d in (section or {}).get("canary_denied", [])
    ]


def junit_cases(section: dict[str, Any] | None) -> list[tuple[str, str | None]]:
    expected: list[tuple[str, str | None]] = [(line, None) for line in canary_lines(section)]
    if not section or not section.get("enforced") or section.get("not_run"):
        return expected
    cases: list[tuple[str, str | None]] = [
        (f"{d['function']} {d['action']} on {d['resource']}", f"{line}: {d.get('reason', '')}")
        for d, line in zip(section["denied"], denial_lines(section), strict=True)
    ]
    return (cases or [("no call of a function was denied", None)]) + expected


def markdown_lines(section: dict[str, Any] | None) -> list[str]:
    if not section:
        return []
    expected = canary_lines(section)
    canaries = (
        ["", "Denied as the engine canaries required (their own throwaway role; not failures):", ""]
        + [f"- {line}" for line in expected]
        if expected
        else []
    )
    if not section.get("enforced"):
        return ["", "## IAM", *canaries] if expected else []
    lines = ["", "## IAM", ""]
    if section.get("not_run"):
        return [
            *lines,
            "No function ran with its execution role in this run: no call was authorised.",
            *canaries,
        ]
    if section["denied"]:
        lines += ["| function | action | resource | role |", "| --- | --- | --- | --- |"]
        lines += [
            f"| {d['function']} | `{d['action']}` | `{d['resource']}` | `{d['role']}` |"
            for d in section["denied"]
        ]
    else:
        lines.append("No call of a function was denied.")
    if section["unused"]:
        lines += ["", "Granted but unused by any flow (reported, not failed):", ""]
        lines += [
            f"- `{u['role']}` ({', '.join(u['functions'])}): {', '.join(f'`{a}`' for a in u['actions'])}"
            for u in section["unused"]
        ]
    return lines + canaries


def summary_lines(section: dict[str, Any] | None) -> list[str]:
    if not section:
        return []
    expected = len(section.get("canary_denied", []))
    canaries = f" ({expected} engine-canary calls denied as expected, not counted)" if expected else ""
    if not section.get("enforced"):
        return (
            [f"iam: the functions' calls are not authorised by this tool here{canaries}"] if expected else []
        )
    if section.get("not_run"):
        return [f"iam: no function ran with its execution role; nothing was authorised{canaries}"]
    unused = sum(len(u["actions"]) for u in section["unused"])
    lines = [f"iam: {len(section['denied'])} denied, {unused} granted actions unused{canaries}"]
    return lines + [f"  DENIED {line}" for line in denial_lines(section)]


def forget_function(engine: Any, function_name: str) -> None:
    """Leave a function out of the run's IAM section (an engine canary's throwaway function,
    whose role is gone before the section is written)."""
    from concert_platform.engines.function_roles import role_runs

    run = role_runs(engine)
    if run is not None:
        run.roles.pop(function_name, None)
        run.credentials.pop(function_name, None)
