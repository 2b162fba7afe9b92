"""CloudTrail: AWS::CloudTrail::Trail."""

from __future__ import annotations

from typing import Any

from moto.cloudtrail import models as ct_models
from moto.core.common_models import CloudFormationModel

from concert_platform.engines.moto_ext._base import EmulatedResource, as_bool


class Trail(EmulatedResource, CloudFormationModel):
    CFN_TYPE = "AWS::CloudTrail::Trail"
    NAME_PROPERTY = "TrailName"
    ATTRIBUTES = ("Arn",)

    def __init__(self, name: str, arn: str) -> None:
        self.name = name
        self.Arn = arn

    @staticmethod
    def cloudformation_name_type() -> str:
        return "TrailName"

    @property
    def physical_resource_id(self) -> str:
        return self.name

    @classmethod
    def create(cls, properties: dict[str, Any], account_id: str, region_name: str, logical_id: str) -> Trail:
        backend = ct_models.cloudtrail_backends[account_id][region_name]
        trail = backend.create_trail(
            name=properties["TrailName"],
            bucket_name=properties["S3BucketName"],
            s3_key_prefix=properties.get("S3KeyPrefix"),
            sns_topic_name=properties.get("SnsTopicName"),
            is_global=as_bool(properties.get("IncludeGlobalServiceEvents", True)),
            is_multi_region=as_bool(properties.get("IsMultiRegionTrail", False)),
            log_validation=as_bool(properties.get("EnableLogFileValidation", False)),
            is_org_trail=as_bool(properties.get("IsOrganizationTrail", False)),
            cw_log_group_arn=properties.get("CloudWatchLogsLogGroupArn"),
            cw_role_arn=properties.get("CloudWatchLogsRoleArn"),
            kms_key_id=properties.get("KMSKeyId"),
            tags_list=properties.get("Tags", []),
        )
        if as_bool(properties.get("IsLogging", False)):
            backend.start_logging(trail.trail_name)
        return cls(trail.trail_name, trail.arn)

    def remove(self, account_id: str, region_name: str) -> None:
        backend = ct_models.cloudtrail_backends[account_id][region_name]
        if self.name in backend.trails:
            backend.delete_trail(self.name)
