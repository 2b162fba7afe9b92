"""CP009: Every S3 bucket has a policy denying requests without TLS"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from concert_platform.policy.cfn import MISSING, UNKNOWN, Values, as_bool, as_list, intrinsic
from concert_platform.policy.model import Check, Template


def denies_insecure_transport(values: Values, statement: Any) -> bool:
    if not isinstance(statement, dict):
        return False
    effect = values.resolve(statement.get("Effect"))
    condition = statement.get("Condition")
    if not (isinstance(effect, str) and effect.lower() == "deny") or not isinstance(condition, dict):
        return False
    for block in condition.values():
        for key, value in block.items() if isinstance(block, dict) else ():
            if str(key).lower() == "aws:securetransport" and any(
                as_bool(values.resolve(v)) is False for v in as_list(value)
            ):
                return True
    return False


def policy_buckets(template: Template, bucket_ref: Any) -> set[str]:
    """Logical ids of the template's buckets a BucketPolicy's `Bucket` names: a Ref, a `!Sub
    ${Bucket}`, or the same name expression (literal, Sub, parameter) as the bucket's BucketName."""
    values = template.values
    buckets = dict(template.resources("AWS::S3::Bucket"))
    found = set()
    for branch in values.branches(bucket_ref):
        value = branch.value
        fn = intrinsic(value)
        if fn and fn[0] == "Ref" and fn[1] in buckets:
            found.add(str(fn[1]))
            continue
        if fn and fn[0] == "Fn::Sub" and isinstance(fn[1], str):
            named = re.fullmatch(r"\$\{([\w:]+)\}", fn[1])
            if named and named.group(1) in buckets:
                found.add(named.group(1))
                continue
        resolved = values.resolve(value)
        for lid, bucket in buckets.items():
            for name in values.branches(template.properties(bucket).get("BucketName", MISSING)):
                if name.value is MISSING:
                    continue
                if name.value == value or (
                    isinstance(resolved, str)
                    and resolved is not UNKNOWN
                    and values.resolve(name.value) == resolved
                ):
                    found.add(lid)
    return found


class BucketTlsOnly(Check):
    id = "CP009"
    practice = "Every S3 bucket has a policy denying requests without TLS"
    source = "Security Best Practices 2 (encryption in transit)"

    def scan(self, templates: list[Template]) -> Iterator[tuple[Template, str, str]]:
        for template in templates:
            values = template.values
            protected: set[str] = set()
            for _, policy in template.resources("AWS::S3::BucketPolicy"):
                properties = template.properties(policy)
                statements = [
                    s
                    for doc in values.get(properties, "PolicyDocument", "Statement")
                    for s in values.items(doc.value)
                ]
                if any(denies_insecure_transport(values, s.value) for s in statements):
                    protected |= policy_buckets(template, properties.get("Bucket", MISSING))
            for lid, _ in template.resources("AWS::S3::Bucket"):
                if lid not in protected:
                    yield template, lid, "no bucket policy denies aws:SecureTransport false"
