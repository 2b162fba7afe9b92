"""CP002: Redshift is not publicly accessible"""

from __future__ import annotations

from collections.abc import Iterator

from concert_platform.policy.cfn import as_bool
from concert_platform.policy.model import Check, Template


class RedshiftNotPublic(Check):
    id = "CP002"
    practice = "Redshift is not publicly accessible"
    source = "Troubleshooting > Redshift Connection Issues; Security Best Practices 1"

    def scan(self, templates: list[Template]) -> Iterator[tuple[Template, str, str]]:
        for template in templates:
            for lid, resource in template.resources(
                "AWS::RedshiftServerless::Workgroup", "AWS::Redshift::Cluster"
            ):
                for branch in template.values.scalars(
                    template.properties(resource).get("PubliclyAccessible")
                ):
                    if as_bool(branch.value) is True:
                        yield (
                            template,
                            lid,
                            f"PubliclyAccessible is true{branch.where()}; keep Redshift private and reach it from the Lambda security group",
                        )
