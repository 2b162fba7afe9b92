"""CP016: Every DynamoDB table is encrypted with a customer-managed KMS key"""

from __future__ import annotations

from collections.abc import Iterator

from concert_platform.policy.cfn import MISSING, UNKNOWN, as_bool
from concert_platform.policy.model import Check, Template


class DynamoDbEncryption(Check):
    id = "CP016"
    practice = "Every DynamoDB table is encrypted with a customer-managed KMS key"
    source = "Security Best Practices 2 (Enable Encryption)"

    def scan(self, templates: list[Template]) -> Iterator[tuple[Template, str, str]]:
        for template in templates:
            values = template.values
            for lid, table in template.resources("AWS::DynamoDB::Table"):
                for sse in values.get(template.properties(table), "SSESpecification"):
                    if sse.value is UNKNOWN:
                        continue
                    enabled = [values.resolve(b.value) for b in values.get(sse.value, "SSEEnabled")]
                    keys = [b.value for b in values.get(sse.value, "KMSMasterKeyId")]
                    if any(e is not UNKNOWN and as_bool(e) is not True for e in enabled) or any(
                        k is MISSING or k == "" for k in keys
                    ):
                        yield (
                            template,
                            lid,
                            f"SSESpecification does not enable KMS encryption with a customer-managed key{sse.where()}",
                        )
