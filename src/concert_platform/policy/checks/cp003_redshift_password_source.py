"""CP003: The Redshift admin password comes only from a NoEcho parameter without default or a Secrets Manager dynamic reference"""

from __future__ import annotations

from collections.abc import Iterator

from concert_platform.policy.cfn import text
from concert_platform.policy.model import Check, Template


class RedshiftPasswordSource(Check):
    id = "CP003"
    practice = "The Redshift admin password comes only from a NoEcho parameter without default or a Secrets Manager dynamic reference"
    source = "Security Best Practices 3 (Use Secrets Manager)"

    def scan(self, templates: list[Template]) -> Iterator[tuple[Template, str, str]]:
        for template in templates:
            parameters = template.data.get("Parameters", {})
            for lid, resource in template.resources(
                "AWS::RedshiftServerless::Namespace", "AWS::Redshift::Cluster"
            ):
                properties = resource.get("Properties", {})
                for key in ("AdminUserPassword", "MasterUserPassword"):
                    if key not in properties:
                        continue
                    value = properties[key]
                    if "{{resolve:secretsmanager:" in text(value):
                        continue
                    if isinstance(value, dict) and "Ref" in value:
                        parameter = parameters.get(value["Ref"], {})
                        if parameter.get("NoEcho") in (True, "true") and "Default" not in parameter:
                            continue
                        yield (
                            template,
                            lid,
                            f"{key} uses parameter {value['Ref']} without NoEcho or with a default",
                        )
                        continue
                    yield (
                        template,
                        lid,
                        f"{key} is a literal; use a NoEcho parameter or a Secrets Manager dynamic reference",
                    )
