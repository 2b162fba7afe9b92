"""SQS: queues and queue policies."""

from __future__ import annotations

from typing import Any

from concert_platform.verify._base import Field, Resource, Table, VerifyContext, policy, register, same_id
from concert_platform.verify._lifecycle import (
    Namer,
    Probe,
    Recorded,
    Remover,
    policy_holder,
)


def _queue(ctx: VerifyContext, r: Resource) -> dict[str, Any]:
    attributes = dict(
        ctx.client("sqs").get_queue_attributes(QueueUrl=r.physical_id, AttributeNames=["All"])["Attributes"]
    )
    attributes["QueueName"] = attributes.get("QueueArn", "").rsplit(":", 1)[-1]
    return attributes


def _queue_policy(ctx: VerifyContext, r: Resource) -> dict[str, Any]:
    sqs = ctx.client("sqs")
    policies = {
        queue: sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["Policy"])["Attributes"].get("Policy")
        for queue in r.props.get("Queues", [])
    }
    return {"Queues": [q for q, text in policies.items() if text], "Policies": policies}


def _policies(declared: Any, observed: dict[str, Any]) -> list[str]:
    problems = []
    for queue, document in observed.items():
        problems += (
            [f" on {queue}{p}" for p in policy(declared, document)] if document else [f" on {queue}: not set"]
        )
    return problems


register(
    Table(
        "AWS::SQS::Queue",
        _queue,
        {
            "QueueName": Field("QueueName"),
            "MessageRetentionPeriod": Field("MessageRetentionPeriod"),
            "VisibilityTimeout": Field("VisibilityTimeout"),
            "KmsMasterKeyId": Field("KmsMasterKeyId", same_id),
        },
        attributes={
            "Arn": lambda c, p: c.client("sqs").get_queue_attributes(QueueUrl=p, AttributeNames=["QueueArn"])[
                "Attributes"
            ]["QueueArn"],
            "QueueName": lambda _c, p: p.rsplit("/", 1)[-1],
        },
    ),
    Table(
        "AWS::SQS::QueuePolicy",
        _queue_policy,
        {"Queues": Field("Queues"), "PolicyDocument": Field("Policies", _policies)},
    ),
)


# ---- teardown: proving each resource gone, removing what a stack deletion left --------------


def _remove_queue_policy(c: Any, r: Recorded) -> Any:
    queues = r.properties.get("Queues")
    for queue in queues if isinstance(queues, list) else []:
        c("sqs").set_queue_attributes(QueueUrl=str(queue), Attributes={"Policy": ""})


#: type -> how to ask its service whether the resource still exists
PROBES: dict[str, Probe] = {
    "AWS::SQS::Queue": lambda c, r: c("sqs").get_queue_attributes(QueueUrl=r.physical_id) and None,
    "AWS::SQS::QueuePolicy": policy_holder(
        "queue", "Queues", lambda c, q: c("sqs").get_queue_attributes(QueueUrl=q)
    ),
}

#: type -> how to delete one directly, for what a stack deletion left behind
REMOVERS: dict[str, Remover] = {
    "AWS::SQS::Queue": lambda c, r: c("sqs").delete_queue(QueueUrl=r.physical_id),
    "AWS::SQS::QueuePolicy": _remove_queue_policy,
}

#: what the name scan lists of this service: (kind, the names)
NAMES: tuple[tuple[str, Namer], ...] = (
    ("queue", lambda c: (u.rsplit("/", 1)[1] for u in c("sqs").list_queues().get("QueueUrls", []))),
)
