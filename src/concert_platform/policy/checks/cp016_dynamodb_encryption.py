"""CP016: Every DynamoDB table is encrypted with a customer-managed KMS key"""

from __future__ import annotations

from collections.abc import Iterator

from concert_platform.policy.cfn import is_true
from concert_platform.policy.model import Check, Template


class DynamoDbEncryption(Check):
    id = "CP016"
    practice = "Every DynamoDB table is encrypted with a customer-managed KMS key"
    source = "Security Best Practices 2 (Enable Encryption)"

    def scan(self, templates: list[Template]) -> Iterator[tuple[Template, str, str]]:
        for template in templates:
            for lid, table in template.resources("AWS::DynamoDB::Table"):
                sse = table.get("Properties", {}).get("SSESpecification", {})
                if not is_true(sse.get("SSEEnabled")) or not sse.get("KMSMasterKeyId"):
                    yield (
                        template,
                        lid,
                        "SSESpecification does not enable KMS encryption with the platform key",
                    )
