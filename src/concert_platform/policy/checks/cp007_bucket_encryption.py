"""CP007: Every S3 bucket has default encryption (AES256 or aws:kms)"""

from __future__ import annotations

from collections.abc import Iterator

from concert_platform.policy.cfn import MISSING, UNKNOWN
from concert_platform.policy.model import Check, Template

ALGORITHMS = frozenset({"AES256", "aws:kms", "aws:kms:dsse"})


class BucketEncryption(Check):
    id = "CP007"
    practice = "Every S3 bucket has default encryption (AES256 or aws:kms)"
    source = "Security Best Practices 2 (Enable Encryption)"

    def scan(self, templates: list[Template]) -> Iterator[tuple[Template, str, str]]:
        for template in templates:
            values = template.values
            for lid, bucket in template.resources("AWS::S3::Bucket"):
                configurations = values.get(
                    template.properties(bucket), "BucketEncryption", "ServerSideEncryptionConfiguration"
                )
                for configuration in configurations:
                    rules = values.items(configuration.value) if configuration.value is not UNKNOWN else []
                    algorithms = set()
                    for rule in rules:
                        for algorithm in values.get(
                            rule.value, "ServerSideEncryptionByDefault", "SSEAlgorithm"
                        ):
                            resolved = values.resolve(algorithm.value)
                            allowed = values.allowed(algorithm.value)
                            if resolved is UNKNOWN and allowed and set(map(str, allowed)) <= ALGORITHMS:
                                resolved = "aws:kms"  # whichever is chosen, it is an algorithm
                            if isinstance(resolved, str):
                                algorithms.add(resolved)
                            elif resolved is UNKNOWN:
                                algorithms.add("(deploy-time value)")
                    if configuration.value is UNKNOWN or algorithms & (ALGORITHMS | {"(deploy-time value)"}):
                        continue
                    reason = (
                        "no default encryption"
                        if configuration.value is MISSING or not algorithms
                        else (f"SSEAlgorithm {', '.join(sorted(algorithms))} is not AES256 or aws:kms")
                    )
                    yield template, lid, f"{reason}{configuration.where()}; set BucketEncryption with AES256"
