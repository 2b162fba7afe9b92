"""CP020: Every S3 bucket is versioned so data survives overwrites and deletes"""

from __future__ import annotations

from collections.abc import Iterator

from concert_platform.policy.model import Check, Template


class BucketVersioning(Check):
    id = "CP020"
    practice = "Every S3 bucket is versioned so data survives overwrites and deletes"
    source = "Security Best Practices 4 (MFA Delete needs versioning); Stack Deletion"

    def scan(self, templates: list[Template]) -> Iterator[tuple[Template, str, str]]:
        for template in templates:
            for lid, bucket in template.resources("AWS::S3::Bucket"):
                if bucket.get("Properties", {}).get("VersioningConfiguration", {}).get("Status") != "Enabled":
                    yield template, lid, "versioning is not Enabled"
