"""CP020: Every S3 bucket is versioned so data survives overwrites and deletes"""

from __future__ import annotations

from collections.abc import Iterator

from concert_platform.policy.cfn import UNKNOWN
from concert_platform.policy.model import Check, Template


class BucketVersioning(Check):
    id = "CP020"
    practice = "Every S3 bucket is versioned so data survives overwrites and deletes"
    source = "Security Best Practices 4 (MFA Delete needs versioning); Stack Deletion"

    def scan(self, templates: list[Template]) -> Iterator[tuple[Template, str, str]]:
        for template in templates:
            values = template.values
            for lid, bucket in template.resources("AWS::S3::Bucket"):
                for branch in values.get(template.properties(bucket), "VersioningConfiguration", "Status"):
                    status = values.resolve(branch.value)
                    if status is not UNKNOWN and status != "Enabled":
                        yield template, lid, f"versioning is not Enabled{branch.where()}"
