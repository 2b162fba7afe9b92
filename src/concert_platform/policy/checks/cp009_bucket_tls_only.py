"""CP009: Every S3 bucket has a policy denying requests without TLS"""

from __future__ import annotations

from collections.abc import Iterator

from concert_platform.policy.cfn import as_list, text
from concert_platform.policy.model import Check, Template


class BucketTlsOnly(Check):
    id = "CP009"
    practice = "Every S3 bucket has a policy denying requests without TLS"
    source = "Security Best Practices 2 (encryption in transit)"

    def scan(self, templates: list[Template]) -> Iterator[tuple[Template, str, str]]:
        for template in templates:
            protected = set()
            for _, policy in template.resources("AWS::S3::BucketPolicy"):
                properties = policy.get("Properties", {})
                for statement in as_list(properties.get("PolicyDocument", {}).get("Statement", [])):
                    if (
                        isinstance(statement, dict)
                        and statement.get("Effect") == "Deny"
                        and "aws:SecureTransport" in text(statement.get("Condition", {}))
                        and '"false"' in text(statement.get("Condition", {}))
                    ):
                        bucket = properties.get("Bucket")
                        if isinstance(bucket, dict) and "Ref" in bucket:
                            protected.add(bucket["Ref"])
            for lid, _ in template.resources("AWS::S3::Bucket"):
                if lid not in protected:
                    yield template, lid, "no bucket policy denies aws:SecureTransport false"
