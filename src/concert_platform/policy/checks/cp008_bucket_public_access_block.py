"""CP008: Every S3 bucket blocks all public access"""

from __future__ import annotations

from collections.abc import Iterator

from concert_platform.policy.cfn import is_true
from concert_platform.policy.model import Check, Template


class BucketPublicAccessBlock(Check):
    id = "CP008"
    practice = "Every S3 bucket blocks all public access"
    source = "Security Best Practices 2; S3 bucket hardening"

    def scan(self, templates: list[Template]) -> Iterator[tuple[Template, str, str]]:
        flags = ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets")
        for template in templates:
            for lid, bucket in template.resources("AWS::S3::Bucket"):
                block = bucket.get("Properties", {}).get("PublicAccessBlockConfiguration", {})
                missing = [f for f in flags if not is_true(block.get(f))]
                if missing:
                    yield template, lid, f"public access not fully blocked: {', '.join(missing)} not true"
