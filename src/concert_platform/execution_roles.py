"""Functions run as their execution roles: credentials from STS AssumeRole on the engine, and the
run's IAM section (denied calls, granted actions no flow used).

On the embedded engine every call made with those credentials is authorised by
`engines.moto_ext.access_control` and recorded in the engine's ledger; this module turns the ledger
into the report's `iam: {denied: [...], unused: [...]}` section, the way IAM Access Analyzer reports
unused access: per role, the granted actions no call used.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field
from typing import Any

from concert_platform.engines.moto_ext.access_control import (
    Ledger,
    Session,
    action_matches,
    enforce_session,
    identity_policies_of,
)

# Actions the Lambda service itself performs with the function's role for its configuration, so a
# run that never reaches the handler's code still uses them (Access Analyzer sees them in CloudTrail).
_LAMBDA_SERVICE_ACTIONS = ("logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents")
_VPC_ACTIONS = (
    "ec2:CreateNetworkInterface",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeSubnets",
    "ec2:DeleteNetworkInterface",
    "ec2:AssignPrivateIpAddresses",
    "ec2:UnassignPrivateIpAddresses",
)
_TRACING_ACTIONS = ("xray:PutTraceSegments", "xray:PutTelemetryRecords")


@dataclass
class _Run:
    ledger: Ledger = field(default_factory=Ledger)
    credentials: dict[str, dict[str, str]] = field(default_factory=dict)  # function -> env
    roles: dict[str, str] = field(default_factory=dict)  # function -> role ARN
    service_actions: dict[str, set[str]] = field(default_factory=dict)  # role ARN -> actions


_RUNS: weakref.WeakKeyDictionary[Any, _Run] = weakref.WeakKeyDictionary()


def _run(engine: Any) -> _Run:
    if engine not in _RUNS:
        _RUNS[engine] = _Run()
    return _RUNS[engine]


def function_credentials(engine: Any, function: str | dict[str, Any]) -> dict[str, str]:
    """Environment variables carrying the function's execution-role credentials (AssumeRole on the
    engine, once per function and engine); on the embedded engine, calls made with them are
    authorised against the role and recorded.

    `function` is the function's name or its configuration as GetFunctionConfiguration returns it.
    """
    run = _run(engine)
    function_name = function if isinstance(function, str) else str(function["FunctionName"])
    if function_name not in run.credentials:
        config = (
            engine.client("lambda").get_function_configuration(FunctionName=function_name)
            if isinstance(function, str)
            else function
        )
        role_arn = config["Role"]
        assumed = engine.client("sts").assume_role(RoleArn=role_arn, RoleSessionName=function_name[:64])
        keys = assumed["Credentials"]
        if engine.name == "embedded":
            session = Session(function_name, role_arn, assumed["AssumedRoleUser"]["Arn"], run.ledger)
            enforce_session(keys["AccessKeyId"], session)
        run.roles[function_name] = role_arn
        actions = run.service_actions.setdefault(role_arn, set(_LAMBDA_SERVICE_ACTIONS))
        if (config.get("VpcConfig") or {}).get("SubnetIds"):
            actions.update(_VPC_ACTIONS)
        if (config.get("TracingConfig") or {}).get("Mode") == "Active":
            actions.update(_TRACING_ACTIONS)
        run.credentials[function_name] = {
            "AWS_ACCESS_KEY_ID": keys["AccessKeyId"],
            "AWS_SECRET_ACCESS_KEY": keys["SecretAccessKey"],
            "AWS_SESSION_TOKEN": keys["SessionToken"],
        }
    return dict(run.credentials[function_name])


def forget_function(engine: Any, function_name: str) -> None:
    """Leave a function out of the run's IAM section (an engine canary's throwaway function,
    whose role is gone before the section is written)."""
    run = _run(engine)
    run.roles.pop(function_name, None)
    run.credentials.pop(function_name, None)


def granted_actions(role_arn: str) -> list[str]:
    """The Action patterns of the role's Allow statements, inline and attached policies alike."""
    account = role_arn.split(":")[4]
    partition = role_arn.split(":")[1]
    actions: list[str] = []
    for document in identity_policies_of(role_arn.rsplit("/", 1)[-1], account, partition):
        statements = document.get("Statement", [])
        for statement in statements if isinstance(statements, list) else [statements]:
            if statement.get("Effect") != "Allow" or "Action" not in statement:
                continue
            value = statement["Action"]
            actions += value if isinstance(value, list) else [value]
    return sorted(set(actions), key=str.lower)


def iam_section(engine: Any) -> dict[str, Any]:
    """`{enforced, denied: [{function, role, action, resource, reason}], unused: [{role, functions, actions}]}`."""
    if engine.name != "embedded":  # elsewhere the functions run in Lambda, under AWS's own IAM
        return {"enforced": False, "denied": [], "unused": []}
    run = _RUNS.get(engine)
    if run is None or not run.roles:  # no function ran with its role: nothing was authorised
        return {"enforced": True, "denied": [], "unused": [], "not_run": True}
    denied = [
        {
            "function": d.function,
            "role": d.role,
            "action": d.action,
            "resource": d.resource,
            "reason": d.reason,
            **({"needed_by": d.via} if d.via else {}),
        }
        for d in run.ledger.denied()
    ]
    unused = []
    for role_arn in sorted(set(run.roles.values())):
        used = {action for action, _resource in run.ledger.used(role_arn)} | run.service_actions[role_arn]
        idle = [p for p in granted_actions(role_arn) if not any(action_matches(p, a) for a in used)]
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
