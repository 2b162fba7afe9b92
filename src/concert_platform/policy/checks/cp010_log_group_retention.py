"""CP010: Every log group has a retention period"""

from __future__ import annotations

from collections.abc import Iterator

from concert_platform.policy.cfn import MISSING
from concert_platform.policy.model import Check, Template


class LogGroupRetention(Check):
    id = "CP010"
    practice = "Every log group has a retention period"
    source = "Cost Optimization (shorter log retention); Tracing & Logging stack"

    def scan(self, templates: list[Template]) -> Iterator[tuple[Template, str, str]]:
        for template in templates:
            for lid, group in template.resources("AWS::Logs::LogGroup"):
                for branch in template.values.get(template.properties(group), "RetentionInDays"):
                    if branch.value is MISSING:
                        yield template, lid, f"no RetentionInDays{branch.where()}: logs would be kept forever"
