"""CP015: Every SNS topic is encrypted with KMS"""

from __future__ import annotations

from collections.abc import Iterator

from concert_platform.policy.cfn import MISSING
from concert_platform.policy.model import Check, Template


class SnsKms(Check):
    id = "CP015"
    practice = "Every SNS topic is encrypted with KMS"
    source = "Security Best Practices 2 (Enable Encryption)"

    def scan(self, templates: list[Template]) -> Iterator[tuple[Template, str, str]]:
        for template in templates:
            for lid, topic in template.resources("AWS::SNS::Topic"):
                for branch in template.values.get(template.properties(topic), "KmsMasterKeyId"):
                    if branch.value is MISSING or branch.value in ("", None):
                        yield template, lid, f"no KmsMasterKeyId{branch.where()}"
