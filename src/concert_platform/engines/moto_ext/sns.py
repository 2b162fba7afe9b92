"""SNS: AWS::SNS::Subscription and AWS::SNS::TopicPolicy, and delivery to every subscriber.

moto delivers to SQS and HTTP subscribers; a lambda subscriber it would run in Docker and an
email subscriber it drops. Here a lambda subscriber runs through moto_ext.lambda_runtime with the
event SNS sends, and an email (or email-json) delivery is kept as a recorded delivery. Every
delivery, whatever the protocol, is kept in DELIVERIES: {"topic", "protocol", "endpoint",
"subject", "message", "ok", "error"}."""

from __future__ import annotations

import json
import uuid
from typing import Any

from moto.core.common_models import CloudFormationModel
from moto.sns import models as sns_models

from concert_platform.engines.moto_ext._base import EmulatedResource


def _backend(account_id: str, region_name: str) -> Any:
    return sns_models.sns_backends[account_id][region_name]


class Subscription(EmulatedResource, CloudFormationModel):
    CFN_TYPE = "AWS::SNS::Subscription"

    def __init__(self, arn: str) -> None:
        self.arn = arn

    @property
    def physical_resource_id(self) -> str:
        return self.arn

    @classmethod
    def create(
        cls, properties: dict[str, Any], account_id: str, region_name: str, logical_id: str
    ) -> Subscription:
        subscription = _backend(account_id, region_name).subscribe(
            properties["TopicArn"], properties["Endpoint"], properties["Protocol"]
        )
        if properties.get("FilterPolicy"):
            subscription.attributes["FilterPolicy"] = json.dumps(properties["FilterPolicy"])
        if properties.get("RawMessageDelivery") is not None:
            subscription.attributes["RawMessageDelivery"] = str(properties["RawMessageDelivery"]).lower()
        return cls(subscription.arn)

    def remove(self, account_id: str, region_name: str) -> None:
        backend = _backend(account_id, region_name)
        if self.arn in backend.subscriptions:
            backend.unsubscribe(self.arn)


class TopicPolicy(EmulatedResource, CloudFormationModel):
    CFN_TYPE = "AWS::SNS::TopicPolicy"

    def __init__(self, previous: dict[str, str], logical_id: str) -> None:
        self.previous = previous  # topic ARN -> the policy it had before, restored on delete
        self.logical_id = logical_id

    @property
    def physical_resource_id(self) -> str:
        return self.logical_id

    @classmethod
    def create(
        cls, properties: dict[str, Any], account_id: str, region_name: str, logical_id: str
    ) -> TopicPolicy:
        document = properties["PolicyDocument"]
        text = document if isinstance(document, str) else json.dumps(document)
        backend = _backend(account_id, region_name)
        previous = {}
        for topic in properties["Topics"]:
            previous[topic] = backend.get_topic(topic).policy
            backend.set_topic_attribute(topic, "policy", text)
        return cls(previous, logical_id)

    def remove(self, account_id: str, region_name: str) -> None:
        backend = _backend(account_id, region_name)
        for topic, policy in self.previous.items():
            if topic in backend.topics:
                backend.set_topic_attribute(topic, "policy", policy)


#: every message a topic delivered to a subscriber (see the module docstring)
DELIVERIES: list[dict[str, Any]] = []


def sns_event(subscription: Any, message: str, message_id: str, subject: str | None) -> dict[str, Any]:
    """The event SNS sends a subscribed function."""
    from concert_platform.engines.moto_ext.clock import CLOCK

    return {
        "Records": [
            {
                "EventSource": "aws:sns",
                "EventVersion": "1.0",
                "EventSubscriptionArn": subscription.arn,
                "Sns": {
                    "Type": "Notification",
                    "MessageId": message_id or str(uuid.uuid4()),
                    "TopicArn": subscription.topic.arn,
                    "Subject": subject,
                    "Message": message,
                    "Timestamp": CLOCK.now_datetime().isoformat(timespec="milliseconds") + "Z",
                    "SignatureVersion": "1",
                    "MessageAttributes": {},
                },
            }
        ]
    }


def patch_delivery() -> None:
    subscription_cls = sns_models.Subscription
    original = subscription_cls.publish

    def publish(
        self: Any,
        message: str,
        message_id: str,
        subject: str | None = None,
        message_attributes: dict[str, Any] | None = None,
        group_id: str | None = None,
        deduplication_id: str | None = None,
        message_structure: str | None = None,
    ) -> None:
        record = {
            "topic": self.topic.arn,
            "protocol": self.protocol,
            "endpoint": self.endpoint,
            "subject": subject,
            "message": message,
            "ok": True,
            "error": "",
        }
        if self.protocol not in ("lambda", "email", "email-json"):
            matcher = self._filter_policy_matcher
            if matcher is not None and not matcher.matches(message_attributes, message):
                return
            try:
                original(
                    self,
                    message,
                    message_id,
                    subject=subject,
                    message_attributes=message_attributes,
                    group_id=group_id,
                    deduplication_id=deduplication_id,
                    message_structure=message_structure,
                )
            except Exception as exc:
                record.update(ok=False, error=f"{type(exc).__name__}: {exc}")
            DELIVERIES.append(record)
            return
        if self._filter_policy_matcher is not None and not self._filter_policy_matcher.matches(
            message_attributes, message
        ):
            return
        if message_structure == "json":
            message = self._parse_message_structure(message, self.protocol)
            record["message"] = message
        if self.protocol == "lambda":
            from concert_platform.engines.moto_ext.lambda_runtime import run_function

            arn = self.endpoint.split(":")
            outcome = run_function(
                self.endpoint,
                sns_event(self, message, message_id, subject),
                arn[4],
                arn[3],
                source="sns",
                topic=self.topic.arn,
            )
            record.update(ok="errorType" not in outcome, error=outcome.get("errorMessage", ""))
        DELIVERIES.append(record)

    subscription_cls.publish = publish


def deliveries_to(endpoint: str) -> list[dict[str, Any]]:
    return [d for d in DELIVERIES if d["endpoint"] == endpoint]
