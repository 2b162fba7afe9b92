"""What Lambda itself does with a function's execution role, checked against the role's policies
with the engine's IAM evaluator (access_control.evaluate), as Lambda checks it:

| what Lambda does as the role | actions | when AWS notices a gap |
| --- | --- | --- |
| writes the function's logs | logs:CreateLogGroup (only when the group is missing), CreateLogStream, PutLogEvents on /aws/lambda/NAME | never: the logs go missing |
| manages the ENIs of a VPC function | ec2:CreateNetworkInterface, DescribeNetworkInterfaces, DeleteNetworkInterface | CreateFunction / UpdateFunctionConfiguration |
| sends traces (TracingConfig Active) | xray:PutTraceSegments, PutTelemetryRecords | never: the traces go missing |
| decrypts the environment (KmsKeyArn) | kms:Decrypt on the key | the first invoke (KMSAccessDeniedException) |
| sends failed events to the dead-letter target | sqs:SendMessage / sns:Publish on it | CreateFunction / UpdateFunctionConfiguration |
| polls an event source mapping | kinesis/dynamodb stream reads, sqs:ReceiveMessage/DeleteMessage/GetQueueAttributes | CreateEventSourceMapping |

KMS: Lambda decrypts through a grant it creates for the role (with the deployer's permissions), so
the role's own policies need not allow kms:Decrypt; only an explicit deny (key policy or the
role's) fails the decrypt, and that is what is checked.

The deploy-time checks raise Lambda's InvalidParameterValueException (moto_ext.awslambda); the
cold-start checks (`role_gaps`, through `EmbeddedEngine.lambda_role_gaps`) are reported by the
local Lambda runtime: a gap that fails on AWS fails the cold start, the others are listed as
failures of the run's runtime check (on AWS they fail nothing and lose the logs or traces).
The actions come from engines/function_roles.py, which the IAM report counts as used.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from moto.awslambda.exceptions import InvalidParameterValueException

import concert_platform.engines.moto_ext.access_control as access_control
from concert_platform.engines.function_roles import (
    EVENT_SOURCE_ACTIONS,
    LOG_ACTIONS,
    TRACING_ACTIONS,
    VPC_CHECKED_ACTIONS,
)

#: refused at CreateFunction/UpdateFunctionConfiguration/CreateEventSourceMapping
REFUSED = "InvalidParameterValueException"
#: the invocation fails
KMS_DENIED = "KMSAccessDeniedException"
#: nothing fails on AWS; what the role cannot do is lost
LOST = ""


@dataclass(frozen=True)
class Need:
    purpose: str  # what Lambda does, as a phrase: "write the function's logs"
    action: str
    resource: str
    error_type: str  # REFUSED, KMS_DENIED or LOST
    message: str = ""  # Lambda's message where it refuses or fails
    resource_policy: dict[str, Any] | None = None
    key_policy: dict[str, Any] | None = None  # set for the KMS decrypt


@dataclass(frozen=True)
class RoleGap:
    function: str
    role: str
    purpose: str
    action: str
    resource: str
    reason: str
    error_type: str
    message: str

    def describe(self) -> str:
        """One line naming function, action, resource and what it costs."""
        line = (
            f"{self.function}: Lambda cannot {self.purpose} as its execution role {self.role}: "
            f"{self.action} on {self.resource} is not allowed ({self.reason})"
        )
        if self.error_type == LOST:
            return line + "; on AWS this fails nothing and they go missing"
        return f"{line}; Lambda answers {self.error_type}: {self.message}"


def _partition(arn: str) -> str:
    return arn.split(":")[1] if arn.count(":") >= 5 else "aws"


def _arn(region: str, account: str, service: str, resource: str, partition: str = "aws") -> str:
    return f"arn:{partition}:{service}:{region}:{account}:{resource}"


def _log_group_exists(account: str, region: str, name: str) -> bool:
    from moto.logs.models import logs_backends

    return name in logs_backends[account][region].groups


def function_needs(
    account: str, region: str, config: dict[str, Any], log_stream: str | None = None
) -> list[Need]:
    """What Lambda does as the role for a function configured as `config` (GetFunctionConfiguration's shape)."""
    name = str(config["FunctionName"])
    partition = _partition(str(config.get("Role", "")))
    group = f"/aws/lambda/{name}"
    group_arn = _arn(region, account, "logs", f"log-group:{group}", partition)
    stream_arn = f"{group_arn}:log-stream:{log_stream or '*'}"
    logs = "write the function's logs"
    needs = [
        Need(logs, action, f"{group_arn}:*" if action == "logs:CreateLogGroup" else stream_arn, LOST)
        for action in LOG_ACTIONS
        if action != "logs:CreateLogGroup" or not _log_group_exists(account, region, group)
    ]
    if (config.get("VpcConfig") or {}).get("SubnetIds"):
        needs += [
            Need(
                "manage the network interfaces of a VPC function",
                action,
                "*",
                REFUSED,
                "The provided execution role does not have permissions to call "
                f"{action.split(':')[1]} on EC2",
            )
            for action in VPC_CHECKED_ACTIONS
        ]
    if (config.get("TracingConfig") or {}).get("Mode") == "Active":
        needs += [Need("send the function's traces", action, "*", LOST) for action in TRACING_ACTIONS]
    key = _customer_key(account, region, config)
    if key is not None:
        needs.append(
            Need(
                "decrypt the function's environment variables",
                "kms:Decrypt",
                key.arn,
                KMS_DENIED,
                "Lambda was unable to decrypt the environment variables because KMS access was denied. "
                "Please check the function's KMS key settings.",
                key_policy=access_control._json_doc(key.policy) or {},
            )
        )
    target = (config.get("DeadLetterConfig") or {}).get("TargetArn")
    if target:
        needs.append(_dead_letter_need(account, region, str(target)))
    return needs


def _customer_key(account: str, region: str, config: dict[str, Any]) -> Any:
    """The customer managed key encrypting the function's environment, if there is one."""
    key_arn = config.get("KMSKeyArn")
    if not key_arn or not (config.get("Environment") or {}).get("Variables"):
        return None
    from moto.kms.models import kms_backends

    try:
        key = kms_backends[account][region].describe_key(str(key_arn))
    except Exception:  # a key that is gone: KMS itself answers that at decrypt
        return None
    return None if getattr(key, "key_manager", "CUSTOMER") == "AWS" else key


def _dead_letter_need(account: str, region: str, target: str) -> Need:
    purpose = "send failed events to the function's dead-letter target"
    if target.split(":")[2] == "sns":
        from moto.sns.models import sns_backends

        topic = sns_backends[account][region].topics.get(target)
        policy = access_control._json_doc(getattr(topic, "_policy_json", None))
        message = "The provided execution role does not have permissions to call Publish on SNS"
        return Need(purpose, "sns:Publish", target, REFUSED, message, resource_policy=policy)
    from moto.sqs.models import sqs_backends

    queue = next((q for q in sqs_backends[account][region].queues.values() if q.queue_arn == target), None)
    policy = access_control._json_doc(getattr(queue, "policy", None))
    message = "The provided execution role does not have permissions to call SendMessage on SQS"
    return Need(purpose, "sqs:SendMessage", target, REFUSED, message, resource_policy=policy)


def mapping_needs(source_arn: str) -> list[Need]:
    """What an event source mapping's poller reads as the role, with Lambda's refusal."""
    service = source_arn.split(":")[2] if source_arn.count(":") >= 5 else ""
    actions = EVENT_SOURCE_ACTIONS.get(service, ())
    purpose = f"poll the event source {source_arn}"
    if service == "sqs":
        return [
            Need(
                purpose,
                action,
                source_arn,
                REFUSED,
                f"The provided execution role does not have permissions to call {action.split(':')[1]} on SQS",
            )
            for action in actions
        ]
    listed = ", ".join(a.split(":")[1] for a in actions[:-1]) + f", and {actions[-1].split(':')[1]}"
    message = (
        f"Cannot access stream {source_arn}. Please ensure the role can perform the {listed} "
        "Actions on your stream in IAM."
    )
    return [Need(purpose, action, source_arn, REFUSED, message) for action in actions]


def _identity(account: str, role_arn: str) -> list[dict[str, Any]]:
    try:
        return access_control.identity_policies_of(role_arn.rsplit("/", 1)[-1], account, _partition(role_arn))
    except Exception:  # no such role: it grants nothing
        return []


def evaluate_needs(
    account: str, region: str, function: str, role_arn: str, needs: list[Need]
) -> list[RoleGap]:
    identity = _identity(account, role_arn)
    context = {
        "aws:SecureTransport": "true",
        "aws:PrincipalArn": role_arn,
        "aws:PrincipalAccount": account,
        "aws:PrincipalType": "AssumedRole",
        "aws:RequestedRegion": region,
    }
    gaps = []
    for need in needs:
        if need.key_policy is not None:
            kms_context = {
                **context,
                "kms:CallerAccount": account,
                "kms:EncryptionContext:LambdaFunctionName": function,
            }
            verdict = access_control.evaluate_kms(
                need.action, need.resource, kms_context, identity, need.key_policy, (role_arn,), account
            )
            # Lambda's grant allows the decrypt; only an explicit deny overrides a grant
            denied = not verdict.allowed and verdict.reason.startswith("with an explicit deny")
        else:
            verdict = access_control.evaluate(
                need.action, need.resource, context, identity, need.resource_policy, (role_arn,)
            )
            denied = not verdict.allowed
        if denied:
            gaps.append(
                RoleGap(
                    function,
                    role_arn,
                    need.purpose,
                    need.action,
                    need.resource,
                    verdict.reason,
                    need.error_type,
                    need.message,
                )
            )
    return gaps


def _mappings_of(account: str, region: str, function_arn: str) -> list[str]:
    from moto.awslambda.models import lambda_backends

    backend = lambda_backends[account][region]
    return [
        esm.event_source_arn
        for esm in backend._event_source_mappings.values()
        if getattr(esm, "function_arn", None) == function_arn
    ]


def role_gaps(
    account: str, region: str, config: dict[str, Any], log_stream: str | None = None
) -> list[RoleGap]:
    """At a cold start: everything Lambda does as the role that the role does not allow now."""
    needs = function_needs(account, region, config, log_stream)
    for source in _mappings_of(account, region, str(config.get("FunctionArn", ""))):
        needs += mapping_needs(source)
    return evaluate_needs(account, region, str(config["FunctionName"]), str(config.get("Role", "")), needs)


def refuse_at_deploy(account: str, region: str, config: dict[str, Any]) -> None:
    """CreateFunction/UpdateFunctionConfiguration: Lambda's refusal for the first gap it checks."""
    needs = [n for n in function_needs(account, region, config) if n.error_type == REFUSED]
    gaps = evaluate_needs(account, region, str(config["FunctionName"]), str(config.get("Role", "")), needs)
    if gaps:
        raise InvalidParameterValueException(gaps[0].message)


def refuse_mapping(account: str, region: str, function: str, role_arn: str, source_arn: str) -> None:
    """CreateEventSourceMapping: Lambda's refusal when the role cannot poll the source."""
    gaps = evaluate_needs(account, region, function, role_arn, mapping_needs(source_arn))
    if gaps:
        raise InvalidParameterValueException(gaps[0].message)
