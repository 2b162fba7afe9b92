"""CloudTrail on moto, with its bucket check asking LocalStack's S3.

moto's Trail checks that its bucket exists in moto's own S3 backend; in LocalStack, buckets live
in LocalStack's S3 provider, which moto never sees, so every CreateTrail failed with
S3BucketDoesNotExistException. The check is replaced by one against LocalStack's S3 store
(bucket names are global, as on AWS)."""

from __future__ import annotations

from typing import Any


def bucket_exists(account_id: str, bucket_name: str) -> bool:
    from localstack.constants import AWS_REGION_US_EAST_1
    from localstack.services.s3.models import s3_stores

    return bucket_name in s3_stores[account_id][AWS_REGION_US_EAST_1].global_bucket_map


def use_localstack_s3() -> None:
    from moto.cloudtrail import models

    def check_bucket_exists(trail: Any) -> None:
        if not bucket_exists(trail.account_id, trail.bucket_name):
            raise models.S3BucketDoesNotExistException(f"S3 bucket {trail.bucket_name} does not exist!")

    models.Trail.check_bucket_exists = check_bucket_exists
