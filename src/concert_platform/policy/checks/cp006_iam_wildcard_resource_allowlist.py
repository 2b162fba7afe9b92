"""CP006: IAM policies use Resource `*` only for actions that have no narrower resource"""

from __future__ import annotations

from collections.abc import Iterator

from concert_platform.policy.cfn import MISSING
from concert_platform.policy.iam import allows, iam_statements, strings, wildcard_resource_only
from concert_platform.policy.model import Check, Template


class IamWildcardResourceAllowlist(Check):
    id = "CP006"
    practice = "IAM policies use Resource `*` only for actions that have no narrower resource"
    source = "Security Best Practices 5 (least privilege)"

    def scan(self, templates: list[Template]) -> Iterator[tuple[Template, str, str]]:
        for template in templates:
            values = template.values
            for lid, statement in iam_statements(template):
                if not allows(values, statement.value):
                    continue
                resources = strings(values, statement.value.get("Resource", MISSING))
                if not any(r == "*" for r, _ in resources):
                    continue
                actions = [a for a, _ in strings(values, statement.value.get("Action", MISSING))]
                narrowable = [a for a in actions if not wildcard_resource_only(a)]
                if narrowable:
                    yield (
                        template,
                        lid,
                        f"Resource '*' for {', '.join(narrowable)}{statement.where()}; scope these to ARNs",
                    )
