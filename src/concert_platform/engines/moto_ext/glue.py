"""Glue: AWS::Glue::Database."""

from __future__ import annotations

from typing import Any

from moto.core.common_models import CloudFormationModel
from moto.glue import models as glue_models

from concert_platform.engines.moto_ext._base import EmulatedResource


class Database(EmulatedResource, CloudFormationModel):
    CFN_TYPE = "AWS::Glue::Database"

    def __init__(self, name: str) -> None:
        self.name = name

    @property
    def physical_resource_id(self) -> str:
        return self.name

    @classmethod
    def create(
        cls, properties: dict[str, Any], account_id: str, region_name: str, logical_id: str
    ) -> Database:
        database_input = dict(properties["DatabaseInput"])
        glue_models.glue_backends[account_id][region_name].create_database(
            database_input["Name"], database_input
        )
        return cls(database_input["Name"])

    def remove(self, account_id: str, region_name: str) -> None:
        glue_models.glue_backends[account_id][region_name].delete_database(self.name)
