"""CP011: In production, log groups keep logs for at least 365 days"""

from __future__ import annotations

from collections.abc import Iterator

from concert_platform.policy.cfn import production_value
from concert_platform.policy.model import Check, Template


class ProductionLogRetention(Check):
    id = "CP011"
    practice = "In production, log groups keep logs for at least 365 days"
    source = "Cost Optimization (retention is shorter only outside production)"

    def scan(self, templates: list[Template]) -> Iterator[tuple[Template, str, str]]:
        for template in templates:
            for lid, group in template.resources("AWS::Logs::LogGroup"):
                value = production_value(template.data, group.get("Properties", {}).get("RetentionInDays"))
                if isinstance(value, dict) and "Ref" in value:
                    value = template.data.get("Parameters", {}).get(value["Ref"], {}).get("Default")
                try:
                    days = int(value)
                except (TypeError, ValueError):
                    continue
                if days < 365:
                    yield template, lid, f"production retention is {days} days; keep at least 365"
