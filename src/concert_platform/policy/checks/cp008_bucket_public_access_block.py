"""CP008: Every S3 bucket blocks all public access"""

from __future__ import annotations

from collections.abc import Iterator

from concert_platform.policy.cfn import UNKNOWN, as_bool
from concert_platform.policy.model import Check, Template

FLAGS = ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets")


class BucketPublicAccessBlock(Check):
    id = "CP008"
    practice = "Every S3 bucket blocks all public access"
    source = "Security Best Practices 2; S3 bucket hardening"

    def scan(self, templates: list[Template]) -> Iterator[tuple[Template, str, str]]:
        for template in templates:
            values = template.values
            for lid, bucket in template.resources("AWS::S3::Bucket"):
                missing: dict[str, list[str]] = {}
                for flag in FLAGS:
                    for branch in values.get(
                        template.properties(bucket), "PublicAccessBlockConfiguration", flag
                    ):
                        resolved = values.resolve(branch.value)
                        if resolved is not UNKNOWN and as_bool(resolved) is not True:
                            missing.setdefault(branch.where(), []).append(flag)
                for where, flags in missing.items():
                    yield (
                        template,
                        lid,
                        f"public access not fully blocked{where}: {', '.join(flags)} not true",
                    )
