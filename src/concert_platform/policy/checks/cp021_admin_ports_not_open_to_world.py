"""CP021: SSH (22) and RDP (3389) are never open to the whole internet"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator

from concert_platform.policy.ingress import ingress_rules, port_range
from concert_platform.policy.model import Check, Template

ADMIN_PORTS = {22: "SSH", 3389: "RDP"}


def whole_internet(cidr: str | None) -> bool:
    """0.0.0.0/0, ::/0, and any other /0 (192.168.1.0/0 is the whole internet too)."""
    try:
        return cidr is not None and ipaddress.ip_network(cidr, strict=False).prefixlen == 0
    except ValueError:
        return False


class AdminPortsNotOpenToWorld(Check):
    id = "CP021"
    practice = "SSH (22) and RDP (3389) are never open to the whole internet"
    source = "Security Best Practices 1 (restrict network access)"

    def scan(self, templates: list[Template]) -> Iterator[tuple[Template, str, str]]:
        for template in templates:
            for rule in ingress_rules(template):
                ports = port_range(template, rule.rule)
                if ports is None or not whole_internet(rule.cidr):
                    continue
                for port, name in ADMIN_PORTS.items():
                    if ports[0] <= port <= ports[1]:
                        yield template, rule.logical_id, f"{name} ({port}) is open to {rule.cidr}{rule.where}"
