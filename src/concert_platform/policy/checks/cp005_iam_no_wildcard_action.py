"""CP005: IAM policies grant no wildcard action (`*` or `service:*`)"""

from __future__ import annotations

from collections.abc import Iterator

from concert_platform.policy.cfn import MISSING
from concert_platform.policy.iam import ADMIN_MANAGED_POLICIES, IAM_TYPES, allows, iam_statements, strings
from concert_platform.policy.model import Check, Template


class IamNoWildcardAction(Check):
    id = "CP005"
    practice = "IAM policies grant no wildcard action (`*` or `service:*`)"
    source = "Security Best Practices 5 (least privilege)"

    def scan(self, templates: list[Template]) -> Iterator[tuple[Template, str, str]]:
        for template in templates:
            values = template.values
            for lid, statement in iam_statements(template):
                if not allows(values, statement.value):
                    continue  # a Deny of everything is a guard rail, not a grant
                for key in ("Action", "NotAction"):
                    for action, branch in strings(values, statement.value.get(key, MISSING)):
                        if action == "*" or action.endswith(":*"):
                            what = "grants every action" if key == "Action" else "grants every other action"
                            yield (
                                template,
                                lid,
                                f"{key} {action!r} {what}{statement.where()}{branch.where()}; list the actions needed",
                            )
            for lid, resource in template.resources(*IAM_TYPES):
                arns = template.properties(resource).get("ManagedPolicyArns", MISSING)
                for arn, branch in strings(values, arns):
                    for name in ADMIN_MANAGED_POLICIES:
                        if arn.endswith(f":policy/{name}"):
                            yield template, lid, f"managed policy {name} grants every action{branch.where()}"
