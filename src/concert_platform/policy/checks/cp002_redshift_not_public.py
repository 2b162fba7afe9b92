"""CP002: Redshift is not publicly accessible"""

from __future__ import annotations

from collections.abc import Iterator

from concert_platform.policy.cfn import is_true
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
                if is_true(resource.get("Properties", {}).get("PubliclyAccessible", False)):
                    yield (
                        template,
                        lid,
                        "PubliclyAccessible is true; keep Redshift private and reach it from the Lambda security group",
                    )
