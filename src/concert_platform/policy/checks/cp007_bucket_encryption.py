"""CP007: Every S3 bucket has default encryption (AES256 or aws:kms)"""

from __future__ import annotations

from collections.abc import Iterator

from concert_platform.policy.cfn import as_list
from concert_platform.policy.model import Check, Template


class BucketEncryption(Check):
    id = "CP007"
    practice = "Every S3 bucket has default encryption (AES256 or aws:kms)"
    source = "Security Best Practices 2 (Enable Encryption)"

    def scan(self, templates: list[Template]) -> Iterator[tuple[Template, str, str]]:
        for template in templates:
            for lid, bucket in template.resources("AWS::S3::Bucket"):
                rules = (
                    bucket.get("Properties", {})
                    .get("BucketEncryption", {})
                    .get("ServerSideEncryptionConfiguration", [])
                )
                algorithms = {
                    r.get("ServerSideEncryptionByDefault", {}).get("SSEAlgorithm")
                    for r in as_list(rules)
                    if isinstance(r, dict)
                }
                if not algorithms & {"AES256", "aws:kms", "aws:kms:dsse"}:
                    yield template, lid, "no default encryption; set BucketEncryption with AES256"
