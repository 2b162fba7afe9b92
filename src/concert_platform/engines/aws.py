"""Real AWS through the normal credential chain (env vars, profiles, SSO, instance roles)."""

from __future__ import annotations

from typing import ClassVar

from botocore.exceptions import BotoCoreError, ClientError

from concert_platform.engines.base import Capabilities, Engine
from concert_platform.errors import UsageError


class AwsEngine(Engine):
    name = "aws"
    capabilities = Capabilities(
        has_warehouse=True,
        poll_seconds=5.0,
        # Redshift Serverless is not offered in every region
        optional_services=frozenset({"redshift-serverless"}),
    )
    canary_exemptions: ClassVar[dict[str, str]] = {
        "sql": "a throwaway Redshift Serverless workgroup takes minutes to create and is billed "
        "while it exists; the warehouse canary is not run on AWS",
    }

    def start(self) -> None:
        super().start()
        try:
            self.client("sts").get_caller_identity()
        except (BotoCoreError, ClientError) as exc:
            raise UsageError(
                f"no usable AWS credentials for region {self.region}: {exc}; configure them "
                "(aws configure, AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY)"
            ) from None
