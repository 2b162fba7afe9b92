"""CP012: Every DynamoDB table has point-in-time recovery"""

from __future__ import annotations

from collections.abc import Iterator

from concert_platform.policy.cfn import is_true, production_value
from concert_platform.policy.model import Check, Template


class DynamoDbPointInTimeRecovery(Check):
    id = "CP012"
    practice = "Every DynamoDB table has point-in-time recovery"
    source = "Production Environment (data must survive); Security Best Practices"

    def scan(self, templates: list[Template]) -> Iterator[tuple[Template, str, str]]:
        for template in templates:
            for lid, table in template.resources("AWS::DynamoDB::Table"):
                spec = table.get("Properties", {}).get("PointInTimeRecoverySpecification", {})
                if not is_true(production_value(template.data, spec.get("PointInTimeRecoveryEnabled"))):
                    yield template, lid, "point-in-time recovery is off (in production)"
