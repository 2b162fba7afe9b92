"""SQS: queues and queue policies."""

from __future__ import annotations

from typing import Any

from concert_platform.verify._base import Field, Resource, Table, VerifyContext, policy, register, same_id


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
