"""Security group ingress rules of a template (inline and standalone), read through `Values`:
rules inside `Fn::If` list items, ports written as strings, `-1` for every protocol."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from concert_platform.policy.cfn import MISSING, UNKNOWN, as_int, intrinsic
from concert_platform.policy.model import Template

REDSHIFT_TYPES = ("AWS::Redshift::Cluster", "AWS::RedshiftServerless::Workgroup")


@dataclass(frozen=True)
class IngressRule:
    logical_id: str  # the resource that declares the rule
    group: str | None  # logical id of the security group the rule opens
    rule: dict[str, Any]
    cidr: str | None  # the address range, when the rule is from one
    where: str  # the Fn::If conditions the rule depends on, for messages


def ingress_rules(template: Template) -> Iterator[IngressRule]:
    values = template.values
    for lid, resource in template.resources("AWS::EC2::SecurityGroupIngress"):
        for branch in values.branches(template.properties(resource)):
            if isinstance(branch.value, dict):
                group = _group_id(branch.value.get("GroupId"))
                yield _rule(template, lid, group, branch.value, branch.where())
    for lid, resource in template.resources("AWS::EC2::SecurityGroup"):
        for item in values.items(template.properties(resource).get("SecurityGroupIngress", MISSING)):
            if isinstance(item.value, dict):
                yield _rule(template, lid, lid, item.value, item.where())


def _rule(template: Template, lid: str, group: str | None, rule: dict[str, Any], where: str) -> IngressRule:
    cidr = None
    for key in ("CidrIp", "CidrIpv6"):
        value = template.values.resolve(rule.get(key, MISSING))
        if isinstance(value, str):
            cidr = value
        elif value is UNKNOWN:
            cidr = cidr or "a deploy-time address range"
    return IngressRule(lid, group, rule, cidr, where)


def _group_id(value: Any) -> str | None:
    fn = intrinsic(value)
    if fn and fn[0] == "Ref" and isinstance(fn[1], str):
        return fn[1]
    if fn and fn[0] == "Fn::GetAtt":
        target = fn[1] if isinstance(fn[1], list) else str(fn[1]).split(".")
        return str(target[0]) if target else None
    return None


def port_range(template: Template, rule: dict[str, Any]) -> tuple[int, int] | None:
    """(from, to) the rule opens; (0, 65535) for every protocol or port; None when unknown."""
    values = template.values
    protocol = values.resolve(rule.get("IpProtocol", MISSING))
    if str(protocol) in ("-1", "all"):
        return (0, 65535)
    low = as_int(values.resolve(rule.get("FromPort", MISSING)))
    high = as_int(values.resolve(rule.get("ToPort", MISSING)))
    if low is None or high is None:
        return None
    if low == -1 or high == -1:
        return (0, 65535)
    return (low, high)


def redshift_groups(template: Template) -> set[str]:
    """Security groups that guard Redshift: attached to a Redshift resource of the template, or
    named for it (when Redshift is in another stack)."""
    guarding = set()
    for _lid, resource in template.resources(*REDSHIFT_TYPES):
        properties = template.properties(resource)
        for key in ("VpcSecurityGroupIds", "SecurityGroupIds"):
            for item in template.values.items(properties.get(key, MISSING)):
                group = _group_id(item.value)
                if group:
                    guarding.add(group)
    for lid, resource in template.resources("AWS::EC2::SecurityGroup"):
        properties = template.properties(resource)
        named = " ".join(
            str(v) for v in (lid, properties.get("GroupName"), properties.get("GroupDescription")) if v
        )
        if re.search(r"redshift|warehouse", named, re.IGNORECASE):
            guarding.add(lid)
    return guarding
