"""SQS: AWS::SQS::QueuePolicy."""

from __future__ import annotations

import json
from typing import Any

from moto.core.common_models import CloudFormationModel
from moto.sqs import models as sqs_models

from concert_platform.engines.moto_ext._base import EmulatedResource


class QueuePolicy(EmulatedResource, CloudFormationModel):
    CFN_TYPE = "AWS::SQS::QueuePolicy"

    def __init__(self, queues: list[str], logical_id: str) -> None:
        self.queues = queues
        self.logical_id = logical_id

    @property
    def physical_resource_id(self) -> str:
        return self.logical_id

    @staticmethod
    def _name(queue_url: str) -> str:
        return queue_url.rstrip("/").rsplit("/", 1)[-1]

    @classmethod
    def create(
        cls, properties: dict[str, Any], account_id: str, region_name: str, logical_id: str
    ) -> QueuePolicy:
        document = properties["PolicyDocument"]
        text = document if isinstance(document, str) else json.dumps(document)
        backend = sqs_models.sqs_backends[account_id][region_name]
        for queue in properties["Queues"]:
            backend.set_queue_attributes(cls._name(queue), {"Policy": text})
        return cls(list(properties["Queues"]), logical_id)

    def remove(self, account_id: str, region_name: str) -> None:
        backend = sqs_models.sqs_backends[account_id][region_name]
        for queue in self.queues:
            if self._name(queue) in backend.queues:
                backend.set_queue_attributes(self._name(queue), {"Policy": ""})
