"""Functions run as their execution roles: credentials from STS AssumeRole on the engine, once per
function and engine. Where the engine keeps an IAM ledger (`Capabilities.iam_ledger`), every call
made with them is authorised against the role and recorded (`engine.authorise_role_session`);
the run's IAM report (concert_platform.execution_roles) reads what is kept here.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field
from typing import Any

# What the Lambda service itself does with the function's role. The IAM report counts these as
# used (a run that never reaches the handler's code still uses them; Access Analyzer sees them in
# CloudTrail), and the embedded engine checks them against the role at deploy and at each cold
# start (engines/moto_ext/lambda_role.py).
LOG_ACTIONS = ("logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents")
#: what CreateFunction checks for a function with VpcConfig, in the order Lambda reports them
VPC_CHECKED_ACTIONS = (
    "ec2:CreateNetworkInterface",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DeleteNetworkInterface",
)
VPC_ACTIONS = (
    *VPC_CHECKED_ACTIONS,
    "ec2:DescribeSubnets",
    "ec2:AssignPrivateIpAddresses",
    "ec2:UnassignPrivateIpAddresses",
)
TRACING_ACTIONS = ("xray:PutTraceSegments", "xray:PutTelemetryRecords")
#: what an event source mapping's poller reads with the role, per source service
EVENT_SOURCE_ACTIONS = {
    "kinesis": (
        "kinesis:GetRecords",
        "kinesis:GetShardIterator",
        "kinesis:DescribeStream",
        "kinesis:ListShards",
    ),
    "dynamodb": (
        "dynamodb:GetRecords",
        "dynamodb:GetShardIterator",
        "dynamodb:DescribeStream",
        "dynamodb:ListStreams",
    ),
    "sqs": ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"),
}


@dataclass
class RoleRuns:
    """Which functions ran as which role on one engine, and what Lambda itself did with each role."""

    credentials: dict[str, dict[str, str]] = field(default_factory=dict)  # function -> env
    roles: dict[str, str] = field(default_factory=dict)  # function -> role ARN
    service_actions: dict[str, set[str]] = field(default_factory=dict)  # role ARN -> actions


_RUNS: weakref.WeakKeyDictionary[Any, RoleRuns] = weakref.WeakKeyDictionary()


def role_runs(engine: Any) -> RoleRuns | None:
    """What ran on the engine under its execution roles (None: no function has yet)."""
    return _RUNS.get(engine)


def forget_runs(engine: Any) -> None:
    """The next invocation of each function assumes its role afresh (a new run on the engine)."""
    _RUNS.pop(engine, None)


def function_credentials(engine: Any, function: str | dict[str, Any]) -> dict[str, str]:
    """Environment variables carrying the function's execution-role credentials (AssumeRole on the
    engine, once per function and engine); where the engine keeps an IAM ledger, calls made with
    them are authorised against the role and recorded.

    `function` is the function's name or its configuration as GetFunctionConfiguration returns it.
    """
    if engine not in _RUNS:
        _RUNS[engine] = RoleRuns()
    run = _RUNS[engine]
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
        engine.authorise_role_session(
            keys["AccessKeyId"], function_name, role_arn, assumed["AssumedRoleUser"]["Arn"]
        )
        run.roles[function_name] = role_arn
        actions = run.service_actions.setdefault(role_arn, set(LOG_ACTIONS))
        if (config.get("VpcConfig") or {}).get("SubnetIds"):
            actions.update(VPC_ACTIONS)
        if (config.get("TracingConfig") or {}).get("Mode") == "Active":
            actions.update(TRACING_ACTIONS)
        run.credentials[function_name] = {
            "AWS_ACCESS_KEY_ID": keys["AccessKeyId"],
            "AWS_SECRET_ACCESS_KEY": keys["SecretAccessKey"],
            "AWS_SESSION_TOKEN": keys["SessionToken"],
        }
    return dict(run.credentials[function_name])
