"""CP005: IAM policies grant no wildcard action (`*` or `service:*`)"""

from __future__ import annotations

from collections.abc import Iterator

from concert_platform.policy.cfn import as_list
from concert_platform.policy.iam import iam_statements
from concert_platform.policy.model import Check, Template


class IamNoWildcardAction(Check):
    id = "CP005"
    practice = "IAM policies grant no wildcard action (`*` or `service:*`)"
    source = "Security Best Practices 5 (least privilege)"

    def scan(self, templates: list[Template]) -> Iterator[tuple[Template, str, str]]:
        for template in templates:
            for lid, statement in iam_statements(template):
                for key in ("Action", "NotAction"):
                    for action in as_list(statement.get(key, [])):
                        if isinstance(action, str) and (action == "*" or action.endswith(":*")):
                            yield (
                                template,
                                lid,
                                f"{key} {action!r} grants every action; list the actions needed",
                            )
