"""CP014: Every Kinesis stream is encrypted with KMS"""

from __future__ import annotations

from collections.abc import Iterator

from concert_platform.policy.cfn import UNKNOWN
from concert_platform.policy.model import Check, Template


class KinesisEncryption(Check):
    id = "CP014"
    practice = "Every Kinesis stream is encrypted with KMS"
    source = "Security Best Practices 2 (Enable Encryption)"

    def scan(self, templates: list[Template]) -> Iterator[tuple[Template, str, str]]:
        for template in templates:
            values = template.values
            for lid, stream in template.resources("AWS::Kinesis::Stream"):
                for branch in values.get(template.properties(stream), "StreamEncryption", "EncryptionType"):
                    kind = values.resolve(branch.value)
                    if kind is not UNKNOWN and kind != "KMS":
                        yield template, lid, f"no KMS StreamEncryption{branch.where()}"
