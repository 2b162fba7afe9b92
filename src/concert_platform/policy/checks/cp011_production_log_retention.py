"""CP011: In production, log groups keep logs for at least 365 days"""

from __future__ import annotations

from collections.abc import Iterator

from concert_platform.policy.cfn import as_int
from concert_platform.policy.model import Check, Template


class ProductionLogRetention(Check):
    id = "CP011"
    practice = "In production, log groups keep logs for at least 365 days"
    source = "Cost Optimization (retention is shorter only outside production)"

    def scan(self, templates: list[Template]) -> Iterator[tuple[Template, str, str]]:
        for template in templates:
            values = template.values
            # A template that does not tell production apart deploys the same value there.
            production = values.production_choice()
            for lid, group in template.resources("AWS::Logs::LogGroup"):
                for branch in values.get(template.properties(group), "RetentionInDays", choose=production):
                    days = as_int(values.resolve(branch.value))
                    if days is not None and days < 365:
                        yield (
                            template,
                            lid,
                            f"production retention is {days} days{branch.where()}; keep at least 365",
                        )
