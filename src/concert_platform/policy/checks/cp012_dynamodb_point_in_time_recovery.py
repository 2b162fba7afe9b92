"""CP012: Every DynamoDB table has point-in-time recovery"""

from __future__ import annotations

from collections.abc import Iterator

from concert_platform.policy.cfn import UNKNOWN, as_bool
from concert_platform.policy.model import Check, Template


class DynamoDbPointInTimeRecovery(Check):
    id = "CP012"
    practice = "Every DynamoDB table has point-in-time recovery"
    source = "Production Environment (data must survive); Security Best Practices"

    def scan(self, templates: list[Template]) -> Iterator[tuple[Template, str, str]]:
        for template in templates:
            values = template.values
            production = values.production_choice()  # outside production it may be off
            for lid, table in template.resources("AWS::DynamoDB::Table"):
                for branch in values.get(
                    template.properties(table),
                    "PointInTimeRecoverySpecification",
                    "PointInTimeRecoveryEnabled",
                    choose=production,
                ):
                    resolved = values.resolve(branch.value)
                    if resolved is not UNKNOWN and as_bool(resolved) is not True:
                        scope = " in production" if production else ""
                        yield template, lid, f"point-in-time recovery is off{scope}{branch.where()}"
