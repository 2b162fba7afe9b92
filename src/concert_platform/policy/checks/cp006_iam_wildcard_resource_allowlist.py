"""CP006: IAM policies use Resource `*` only for actions that have no narrower resource"""

from __future__ import annotations

from collections.abc import Iterator

from concert_platform.policy.cfn import as_list
from concert_platform.policy.iam import RESOURCE_WILDCARD_ACTIONS, iam_statements
from concert_platform.policy.model import Check, Template


class IamWildcardResourceAllowlist(Check):
    id = "CP006"
    practice = "IAM policies use Resource `*` only for actions that have no narrower resource"
    source = "Security Best Practices 5 (least privilege)"

    def scan(self, templates: list[Template]) -> Iterator[tuple[Template, str, str]]:
        for template in templates:
            for lid, statement in iam_statements(template):
                if statement.get("Effect", "Allow") != "Allow" or "*" not in as_list(
                    statement.get("Resource", [])
                ):
                    continue
                actions = [a for a in as_list(statement.get("Action", [])) if isinstance(a, str)]
                narrowable = [a for a in actions if a.lower() not in RESOURCE_WILDCARD_ACTIONS]
                if narrowable:
                    yield template, lid, f"Resource '*' for {', '.join(narrowable)}; scope these to ARNs"
