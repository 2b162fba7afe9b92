"""CP003: The Redshift admin password comes only from a NoEcho parameter without default or a Secrets Manager dynamic reference"""

from __future__ import annotations

from collections.abc import Iterator

from concert_platform.policy.cfn import MISSING, as_bool, intrinsic, text
from concert_platform.policy.model import Check, Template


class RedshiftPasswordSource(Check):
    id = "CP003"
    practice = "The Redshift admin password comes only from a NoEcho parameter without default or a Secrets Manager dynamic reference"
    source = "Security Best Practices 3 (Use Secrets Manager)"

    def scan(self, templates: list[Template]) -> Iterator[tuple[Template, str, str]]:
        for template in templates:
            parameters = template.values.parameters
            for lid, resource in template.resources(
                "AWS::RedshiftServerless::Namespace", "AWS::Redshift::Cluster"
            ):
                properties = template.properties(resource)
                for key in ("AdminUserPassword", "MasterUserPassword"):
                    for branch in template.values.branches(properties.get(key, MISSING)):
                        value, where = branch.value, branch.where()
                        if value is MISSING or "{{resolve:secretsmanager:" in text(value):
                            continue
                        fn = intrinsic(value)
                        if fn and fn[0] == "Ref" and isinstance(fn[1], str):
                            parameter = parameters.get(fn[1])
                            parameter = parameter if isinstance(parameter, dict) else {}
                            if as_bool(parameter.get("NoEcho")) is True and "Default" not in parameter:
                                continue
                            yield (
                                template,
                                lid,
                                f"{key} uses parameter {fn[1]} without NoEcho or with a default{where}",
                            )
                        elif fn:
                            continue  # GetAtt, ImportValue, Sub of a secret...: not a literal
                        else:
                            yield (
                                template,
                                lid,
                                f"{key} is a literal{where}; use a NoEcho parameter or a Secrets Manager dynamic reference",
                            )
