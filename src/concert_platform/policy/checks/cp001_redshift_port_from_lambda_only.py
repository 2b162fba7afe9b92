"""CP001: Redshift's port 5439 is open only to the Lambda security group, never to an address range"""

from __future__ import annotations

from collections.abc import Iterator

from concert_platform.policy.ingress import ingress_rules, port_range, redshift_groups
from concert_platform.policy.model import Check, Template

REDSHIFT_PORT = 5439


class RedshiftPortFromLambdaOnly(Check):
    id = "CP001"
    practice = "Redshift's port 5439 is open only to the Lambda security group, never to an address range"
    source = "Troubleshooting > Redshift Connection Issues; Security Best Practices 1"

    def scan(self, templates: list[Template]) -> Iterator[tuple[Template, str, str]]:
        for template in templates:
            guarding = redshift_groups(template)
            for rule in ingress_rules(template):
                ports = port_range(template, rule.rule)
                if ports is None or not ports[0] <= REDSHIFT_PORT <= ports[1] or rule.cidr is None:
                    continue
                every_port = ports == (0, 65535)
                # An all-ports rule is about Redshift only on a group that guards Redshift.
                if every_port and rule.group not in guarding:
                    continue
                what = "every port, Redshift's 5439 included," if every_port else "port 5439"
                yield (
                    template,
                    rule.logical_id,
                    f"{what} is open to {rule.cidr}{rule.where}; allow only SourceSecurityGroupId of the Lambda security group",
                )
