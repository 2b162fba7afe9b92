"""SNS: topics, topic policies and subscriptions."""

from __future__ import annotations

from typing import Any

from concert_platform.verify._base import (
    Field,
    Resource,
    Table,
    VerifyContext,
    first,
    policy,
    register,
    same_id,
)
from concert_platform.verify._lifecycle import (
    Namer,
    Probe,
    Remover,
    paginate,
    policy_holder,
)


def _topic(ctx: VerifyContext, r: Resource) -> dict[str, Any]:
    attributes = dict(ctx.client("sns").get_topic_attributes(TopicArn=r.physical_id)["Attributes"])
    attributes["TopicName"] = attributes.get("TopicArn", "").rsplit(":", 1)[-1]
    return attributes


def _topic_policy(ctx: VerifyContext, r: Resource) -> dict[str, Any]:
    """One policy on several topics: the answer holds each declared topic's policy."""
    sns = ctx.client("sns")
    policies = {
        topic: sns.get_topic_attributes(TopicArn=topic)["Attributes"].get("Policy")
        for topic in r.props.get("Topics", [])
    }
    return {"Topics": [t for t, text in policies.items() if text], "Policies": policies}


def _policies(declared: Any, observed: dict[str, Any]) -> list[str]:
    problems = []
    for topic, document in observed.items():
        problems += (
            [f" on {topic}{p}" for p in policy(declared, document)] if document else [f" on {topic}: not set"]
        )
    return problems


def _subscription(ctx: VerifyContext, r: Resource) -> dict[str, Any]:
    topic = r.props.get("TopicArn")
    subscriptions = ctx.client("sns").list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    return dict(
        first(
            subscriptions,
            lambda s: s["SubscriptionArn"] == r.physical_id,
            f"subscription {r.physical_id} on {topic}",
        )
    )


register(
    Table(
        "AWS::SNS::Topic",
        _topic,
        {
            "TopicName": Field("TopicName"),
            "DisplayName": Field("DisplayName"),
            "KmsMasterKeyId": Field("KmsMasterKeyId", same_id),
        },
        attributes={"TopicArn": lambda _c, p: p, "TopicName": lambda _c, p: p.rsplit(":", 1)[-1]},
    ),
    Table(
        "AWS::SNS::TopicPolicy",
        _topic_policy,
        {"Topics": Field("Topics"), "PolicyDocument": Field("Policies", _policies)},
    ),
    Table(
        "AWS::SNS::Subscription",
        _subscription,
        {"TopicArn": Field("TopicArn"), "Protocol": Field("Protocol"), "Endpoint": Field("Endpoint")},
    ),
)


# ---- teardown: proving each resource gone, removing what a stack deletion left --------------


#: type -> how to ask its service whether the resource still exists
PROBES: dict[str, Probe] = {
    "AWS::SNS::Topic": lambda c, r: c("sns").get_topic_attributes(TopicArn=r.physical_id) and None,
    "AWS::SNS::Subscription": lambda c, r: (
        c("sns").get_subscription_attributes(SubscriptionArn=r.physical_id) and None
    ),
    "AWS::SNS::TopicPolicy": policy_holder(
        "topic", "Topics", lambda c, t: c("sns").get_topic_attributes(TopicArn=t)
    ),
}

#: type -> how to delete one directly, for what a stack deletion left behind
REMOVERS: dict[str, Remover] = {
    "AWS::SNS::Topic": lambda c, r: c("sns").delete_topic(TopicArn=r.physical_id),
    "AWS::SNS::Subscription": lambda c, r: c("sns").unsubscribe(SubscriptionArn=r.physical_id),
}

#: what the name scan lists of this service: (kind, the names)
NAMES: tuple[tuple[str, Namer], ...] = (
    (
        "topic",
        lambda c: (t["TopicArn"].rsplit(":", 1)[1] for t in paginate(c("sns"), "list_topics", "Topics")),
    ),
)

#: types with no remover of their own, and why
NO_REMOVER: dict[str, str] = {"AWS::SNS::TopicPolicy": "removed with its topic"}
