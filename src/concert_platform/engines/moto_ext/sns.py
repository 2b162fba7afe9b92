"""SNS: AWS::SNS::Subscription and AWS::SNS::TopicPolicy."""

from __future__ import annotations

import json
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
