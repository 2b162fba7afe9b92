"""CP001: Redshift's port 5439 is open only to the Lambda security group, never to an address range"""

from __future__ import annotations

from collections.abc import Iterator

from concert_platform.policy.cfn import as_list
from concert_platform.policy.model import Check, Template


class RedshiftPortFromLambdaOnly(Check):
    id = "CP001"
    practice = "Redshift's port 5439 is open only to the Lambda security group, never to an address range"
    source = "Troubleshooting > Redshift Connection Issues; Security Best Practices 1"

    def scan(self, templates: list[Template]) -> Iterator[tuple[Template, str, str]]:
        for template in templates:
            rules = [
                (lid, r.get("Properties", {}))
                for lid, r in template.resources("AWS::EC2::SecurityGroupIngress")
            ]
            for lid, group in template.resources("AWS::EC2::SecurityGroup"):
                rules += [
                    (lid, rule)
                    for rule in as_list(group.get("Properties", {}).get("SecurityGroupIngress", []))
                ]
            for lid, rule in rules:
                if not isinstance(rule, dict):
                    continue
                low, high = rule.get("FromPort", 0), rule.get("ToPort", 65535)
                covers = str(rule.get("IpProtocol")) == "-1" or (
                    isinstance(low, int) and isinstance(high, int) and low <= 5439 <= high
                )
                if covers and ("CidrIp" in rule or "CidrIpv6" in rule):
                    yield (
                        template,
                        lid,
                        f"port 5439 is open to {rule.get('CidrIp') or rule.get('CidrIpv6')}; allow only SourceSecurityGroupId of the Lambda security group",
                    )
