"""EC2: the VPC, its subnets, gateways, routes, security groups, endpoints and flow log."""

from __future__ import annotations

from typing import Any

from concert_platform.resolve import UNRESOLVED
from concert_platform.verify._base import (
    Field,
    NotFound,
    Resource,
    Table,
    Unusable,
    VerifyContext,
    as_set,
    by_id,
    first,
    member,
    policy,
    register,
    subset,
)
from concert_platform.verify._lifecycle import (
    Gone,
    Namer,
    Probe,
    Recorded,
    Remover,
    by_id_or_gone,
    described,
    first_or_gone,
)

TAGS = Field("Tags", subset)  # CloudFormation adds its own aws:cloudformation:* tags


def _vpc(ctx: VerifyContext, r: Resource) -> dict[str, Any]:
    ec2 = ctx.client("ec2")
    vpc = dict(by_id(ec2.describe_vpcs(VpcIds=[r.physical_id])["Vpcs"], "VpcId", r.physical_id, "VPC"))
    for attribute, key in (
        ("enableDnsSupport", "EnableDnsSupport"),
        ("enableDnsHostnames", "EnableDnsHostnames"),
    ):
        vpc[key] = ec2.describe_vpc_attribute(VpcId=r.physical_id, Attribute=attribute)[key]["Value"]
    return vpc


def _subnet(ctx: VerifyContext, r: Resource) -> dict[str, Any]:
    subnets = ctx.client("ec2").describe_subnets(SubnetIds=[r.physical_id])["Subnets"]
    return dict(by_id(subnets, "SubnetId", r.physical_id, "subnet"))


def _gateway(ctx: VerifyContext, gateway_id: str) -> dict[str, Any]:
    gateways = ctx.client("ec2").describe_internet_gateways(InternetGatewayIds=[gateway_id])
    return dict(by_id(gateways["InternetGateways"], "InternetGatewayId", gateway_id, "internet gateway"))


def _internet_gateway(ctx: VerifyContext, r: Resource) -> dict[str, Any]:
    return _gateway(ctx, r.physical_id)


def _gateway_attachment(ctx: VerifyContext, r: Resource) -> dict[str, Any]:
    # The attachment has no id of its own: read the declared gateway's attachments.
    gateway = _gateway(ctx, str(r.props.get("InternetGatewayId")))
    gateway["AttachedVpcIds"] = [
        a["VpcId"] for a in gateway.get("Attachments", []) if a.get("State") in ("available", "attached")
    ]
    return gateway


def _eip(ctx: VerifyContext, r: Resource) -> dict[str, Any]:
    addresses = ctx.client("ec2").describe_addresses()["Addresses"]
    return dict(
        first(
            addresses,
            lambda a: r.physical_id in (a.get("PublicIp"), a.get("AllocationId")),
            f"Elastic IP {r.physical_id}",
        )
    )


def _nat_gateway(ctx: VerifyContext, r: Resource) -> dict[str, Any]:
    gateways = ctx.client("ec2").describe_nat_gateways(NatGatewayIds=[r.physical_id])["NatGateways"]
    gateway = dict(by_id(gateways, "NatGatewayId", r.physical_id, "NAT gateway"))
    if gateway.get("State") not in ("available", "pending"):
        raise Unusable(f"NAT gateway {r.physical_id} is {gateway.get('State')}")
    return gateway


def _table(ctx: VerifyContext, table_id: str) -> dict[str, Any]:
    tables = ctx.client("ec2").describe_route_tables(RouteTableIds=[table_id])["RouteTables"]
    return dict(by_id(tables, "RouteTableId", table_id, "route table"))


def _route_table(ctx: VerifyContext, r: Resource) -> dict[str, Any]:
    return _table(ctx, r.physical_id)


def _route(ctx: VerifyContext, r: Resource) -> dict[str, Any]:
    # moto's physical id is "<route table id>~<destination>"
    table_id, _, destination = r.physical_id.partition("~")
    if not destination:
        table_id, destination = str(r.props.get("RouteTableId")), str(r.props.get("DestinationCidrBlock"))
    table = _table(ctx, table_id)
    route = first(
        table.get("Routes", []),
        lambda x: x.get("DestinationCidrBlock") == destination,
        f"route to {destination} in {table_id}",
    )
    return {**route, "RouteTableId": table["RouteTableId"]}


def _association(ctx: VerifyContext, r: Resource) -> dict[str, Any]:
    tables = ctx.client("ec2").describe_route_tables(
        Filters=[{"Name": "association.route-table-association-id", "Values": [r.physical_id]}]
    )["RouteTables"]
    associations = [a for table in tables for a in table.get("Associations", [])]
    return dict(by_id(associations, "RouteTableAssociationId", r.physical_id, "route table association"))


def _flatten_rules(permissions: list[dict[str, Any]], peer_key: str) -> list[dict[str, Any]]:
    """IpPermissions in the template's shape: one rule per CIDR range or peer group."""
    rules: list[dict[str, Any]] = []
    for permission in permissions:
        base: dict[str, Any] = {
            k: permission[k] for k in ("IpProtocol", "FromPort", "ToPort") if k in permission
        }
        for ip_range in permission.get("IpRanges", []):
            rules.append({**base, "CidrIp": ip_range["CidrIp"], **_description(ip_range)})
        for pair in permission.get("UserIdGroupPairs", []):
            rules.append({**base, peer_key: pair["GroupId"], **_description(pair)})
    return rules


def _description(item: dict[str, Any]) -> dict[str, Any]:
    return {"Description": item["Description"]} if item.get("Description") else {}


def _security_group(ctx: VerifyContext, r: Resource) -> dict[str, Any]:
    groups = ctx.client("ec2").describe_security_groups(GroupIds=[r.physical_id])["SecurityGroups"]
    group = dict(by_id(groups, "GroupId", r.physical_id, "security group"))
    group["IngressRules"] = _flatten_rules(group.get("IpPermissions", []), "SourceSecurityGroupId")
    group["EgressRules"] = _flatten_rules(group.get("IpPermissionsEgress", []), "DestinationSecurityGroupId")
    return group


def _rule_shape(rule: dict[str, Any], peer_key: str) -> dict[str, Any]:
    shaped = {
        k: rule[k]
        for k in ("GroupId", "IpProtocol", "FromPort", "ToPort", "Description")
        if rule.get(k) is not None
    }
    if rule.get("CidrIpv4"):
        shaped["CidrIp"] = rule["CidrIpv4"]
    if rule.get("ReferencedGroupInfo", {}).get("GroupId"):
        shaped[peer_key] = rule["ReferencedGroupInfo"]["GroupId"]
    return shaped


def _security_group_rule(ctx: VerifyContext, r: Resource) -> dict[str, Any]:
    """A standalone rule: by its rule id when the engine gives one, else the group's rule to the declared peer."""
    egress = r.type.endswith("Egress")
    peer_key = "DestinationSecurityGroupId" if egress else "SourceSecurityGroupId"
    ec2 = ctx.client("ec2")
    if r.physical_id.startswith("sgr-"):
        rules = ec2.describe_security_group_rules(SecurityGroupRuleIds=[r.physical_id])["SecurityGroupRules"]
        return _rule_shape(
            by_id(rules, "SecurityGroupRuleId", r.physical_id, "security group rule"), peer_key
        )
    group_id = r.props.get("GroupId")
    if group_id is UNRESOLVED:
        raise NotFound("the rule's GroupId cannot be resolved")
    rules = ec2.describe_security_group_rules(Filters=[{"Name": "group-id", "Values": [group_id]}])[
        "SecurityGroupRules"
    ]
    shaped = [
        _rule_shape(x, peer_key)
        for x in rules
        if x.get("GroupId") == group_id and bool(x.get("IsEgress")) == egress
    ]
    peer: dict[str, Any] = {k: r.props[k] for k in ("CidrIp", peer_key) if k in r.props}
    candidates = [x for x in shaped if all(x.get(k) == v for k, v in peer.items())]
    # Several rules to the same peer: the one on the declared ports.
    candidates.sort(
        key=lambda x: (x.get("FromPort") != r.props.get("FromPort"), x.get("ToPort") != r.props.get("ToPort"))
    )
    return first(
        candidates, lambda _x: True, f"{'egress' if egress else 'ingress'} rule of {group_id} to {peer}"
    )


def _vpc_endpoint(ctx: VerifyContext, r: Resource) -> dict[str, Any]:
    endpoints = ctx.client("ec2").describe_vpc_endpoints(VpcEndpointIds=[r.physical_id])["VpcEndpoints"]
    endpoint = dict(by_id(endpoints, "VpcEndpointId", r.physical_id, "VPC endpoint"))
    if str(endpoint.get("State", "")).lower() in ("deleted", "deleting", "failed", "rejected"):
        raise Unusable(f"VPC endpoint {r.physical_id} is {endpoint.get('State')}")
    return endpoint


def _flow_log(ctx: VerifyContext, r: Resource) -> dict[str, Any]:
    logs = ctx.client("ec2").describe_flow_logs(FlowLogIds=[r.physical_id])["FlowLogs"]
    return dict(by_id(logs, "FlowLogId", r.physical_id, "flow log"))


_RESOURCE_TYPES = {
    "vpc-": "VPC",
    "subnet-": "Subnet",
    "eni-": "NetworkInterface",
    "tgw-attach-": "TransitGatewayAttachment",
}


def _flow_log_resource_type(resource_id: str) -> str:
    """DescribeFlowLogs does not return ResourceType; the resource id's prefix says it."""
    return next(
        (kind for prefix, kind in _RESOURCE_TYPES.items() if resource_id.startswith(prefix)), resource_id
    )


register(
    Table(
        "AWS::EC2::VPC",
        _vpc,
        {
            "CidrBlock": Field("CidrBlock"),
            "EnableDnsSupport": Field("EnableDnsSupport"),
            "EnableDnsHostnames": Field("EnableDnsHostnames"),
            "Tags": TAGS,
        },
        attributes={
            "CidrBlock": lambda c, p: by_id(
                c.client("ec2").describe_vpcs(VpcIds=[p])["Vpcs"], "VpcId", p, "VPC"
            )["CidrBlock"]
        },
    ),
    Table(
        "AWS::EC2::Subnet",
        _subnet,
        {
            "VpcId": Field("VpcId"),
            "CidrBlock": Field("CidrBlock"),
            "AvailabilityZone": Field("AvailabilityZone"),
            "MapPublicIpOnLaunch": Field("MapPublicIpOnLaunch"),
            "Tags": TAGS,
        },
    ),
    Table("AWS::EC2::InternetGateway", _internet_gateway, {"Tags": TAGS}),
    Table(
        "AWS::EC2::VPCGatewayAttachment",
        _gateway_attachment,
        {"InternetGatewayId": Field("InternetGatewayId"), "VpcId": Field("AttachedVpcIds", member)},
    ),
    Table(
        "AWS::EC2::EIP",
        _eip,
        {"Domain": Field("Domain"), "Tags": TAGS},
        attributes={"AllocationId": lambda c, p: _eip(c, Resource("", "", "", p, {}))["AllocationId"]},
    ),
    Table(
        "AWS::EC2::NatGateway",
        _nat_gateway,
        {
            "SubnetId": Field("SubnetId"),
            "AllocationId": Field("NatGatewayAddresses", view=lambda items: items[0]["AllocationId"]),
            "Tags": TAGS,
        },
    ),
    Table("AWS::EC2::RouteTable", _route_table, {"VpcId": Field("VpcId"), "Tags": TAGS}),
    Table(
        "AWS::EC2::Route",
        _route,
        {
            "RouteTableId": Field("RouteTableId"),
            "DestinationCidrBlock": Field("DestinationCidrBlock"),
            "GatewayId": Field("GatewayId"),
            "NatGatewayId": Field("NatGatewayId"),
        },
    ),
    Table(
        "AWS::EC2::SubnetRouteTableAssociation",
        _association,
        {"RouteTableId": Field("RouteTableId"), "SubnetId": Field("SubnetId")},
    ),
    Table(
        "AWS::EC2::SecurityGroup",
        _security_group,
        {
            "GroupDescription": Field("Description"),
            "VpcId": Field("VpcId"),
            # Standalone SecurityGroupIngress/Egress resources add rules to the same group.
            "SecurityGroupIngress": Field("IngressRules", subset),
            "SecurityGroupEgress": Field("EgressRules", subset),
            "Tags": TAGS,
        },
        attributes={"GroupId": lambda _c, p: p},
    ),
    *(
        Table(
            rule_type,
            _security_group_rule,
            {
                "GroupId": Field("GroupId"),
                "Description": Field("Description"),
                "IpProtocol": Field("IpProtocol"),
                "FromPort": Field("FromPort"),
                "ToPort": Field("ToPort"),
                "CidrIp": Field("CidrIp"),
                "SourceSecurityGroupId": Field("SourceSecurityGroupId"),
                "DestinationSecurityGroupId": Field("DestinationSecurityGroupId"),
            },
        )
        for rule_type in ("AWS::EC2::SecurityGroupIngress", "AWS::EC2::SecurityGroupEgress")
    ),
    Table(
        "AWS::EC2::VPCEndpoint",
        _vpc_endpoint,
        {
            "VpcId": Field("VpcId"),
            "ServiceName": Field("ServiceName"),
            "VpcEndpointType": Field("VpcEndpointType"),
            "RouteTableIds": Field("RouteTableIds", as_set),
            "PolicyDocument": Field("PolicyDocument", policy),
        },
    ),
    Table(
        "AWS::EC2::FlowLog",
        _flow_log,
        {
            "ResourceId": Field("ResourceId"),
            "ResourceType": Field("ResourceId", view=_flow_log_resource_type),
            "TrafficType": Field("TrafficType"),
            "LogDestinationType": Field("LogDestinationType"),
            "LogGroupName": Field("LogGroupName"),
            "DeliverLogsPermissionArn": Field("DeliverLogsPermissionArn"),
        },
    ),
)


# ---- teardown: proving each resource gone, removing what a stack deletion left --------------


def _probe_nat(c: Any, r: Recorded) -> str | None:
    nat = by_id_or_gone(
        c("ec2").describe_nat_gateways(NatGatewayIds=[r.physical_id])["NatGateways"],
        "NatGatewayId",
        r.physical_id,
    )
    if nat.get("State") in ("deleted", "deleting"):
        raise Gone
    return None


def _probe_endpoint(c: Any, r: Recorded) -> str | None:
    endpoint = by_id_or_gone(
        c("ec2").describe_vpc_endpoints(VpcEndpointIds=[r.physical_id])["VpcEndpoints"],
        "VpcEndpointId",
        r.physical_id,
    )
    if str(endpoint.get("State", "")).lower() in ("deleted", "deleting"):
        raise Gone
    return None


def _probe_eip(c: Any, r: Recorded) -> str | None:
    _address(c, r.physical_id)
    return None


def _probe_gateway_attachment(c: Any, r: Recorded) -> str | None:
    gateway = r.properties.get("InternetGatewayId")
    vpc = r.properties.get("VpcId") or r.physical_id
    if not isinstance(gateway, str):
        raise Gone
    found = c("ec2").describe_internet_gateways(
        Filters=[{"Name": "internet-gateway-id", "Values": [gateway]}]
    )["InternetGateways"]
    attached = [
        a
        for g in found
        if g.get("InternetGatewayId") == gateway
        for a in g.get("Attachments", [])
        if a.get("VpcId") == vpc
    ]
    first_or_gone(attached)
    return None


def _probe_route(c: Any, r: Recorded) -> str | None:
    table, _, destination = r.physical_id.partition("~")
    destination = destination or str(r.properties.get("DestinationCidrBlock", ""))
    tables = c("ec2").describe_route_tables(RouteTableIds=[table])["RouteTables"]
    routes = by_id_or_gone(tables, "RouteTableId", table).get("Routes", [])
    first_or_gone(x for x in routes if x.get("DestinationCidrBlock") == destination)
    return None


def _probe_association(c: Any, r: Recorded) -> str | None:
    tables = c("ec2").describe_route_tables(
        Filters=[{"Name": "association.route-table-association-id", "Values": [r.physical_id]}]
    )["RouteTables"]
    by_id_or_gone(
        (a for t in tables for a in t.get("Associations", [])), "RouteTableAssociationId", r.physical_id
    )
    return None


def _probe_sg_rule(c: Any, r: Recorded) -> str | None:
    group = r.properties.get("GroupId")
    if r.physical_id.startswith("sgr-"):
        rules = c("ec2").describe_security_group_rules(SecurityGroupRuleIds=[r.physical_id])
        by_id_or_gone(rules["SecurityGroupRules"], "SecurityGroupRuleId", r.physical_id)
        return None
    if not isinstance(group, str):
        raise Gone
    # an id the engine made up: the rule exists while its group holds a rule of this shape
    found = by_id_or_gone(
        c("ec2").describe_security_groups(GroupIds=[group])["SecurityGroups"], "GroupId", group
    )
    permissions = found["IpPermissions" if r.type.endswith("Ingress") else "IpPermissionsEgress"]
    peer = r.properties.get("SourceSecurityGroupId") or r.properties.get("DestinationSecurityGroupId")
    cidr = r.properties.get("CidrIp")
    first_or_gone(
        p
        for p in permissions
        if str(p.get("IpProtocol")) == str(r.properties.get("IpProtocol"))
        and str(p.get("FromPort", "")) == str(r.properties.get("FromPort", ""))
        and str(p.get("ToPort", "")) == str(r.properties.get("ToPort", ""))
        and (
            (peer and any(g.get("GroupId") == peer for g in p.get("UserIdGroupPairs", [])))
            or (cidr and any(x.get("CidrIp") == cidr for x in p.get("IpRanges", [])))
        )
    )
    return None


def _probe_flow_log(c: Any, r: Recorded) -> str | None:
    by_id_or_gone(
        c("ec2").describe_flow_logs(FlowLogIds=[r.physical_id])["FlowLogs"], "FlowLogId", r.physical_id
    )
    return None


def _detach_gateway(c: Any, r: Recorded) -> Any:
    return c("ec2").detach_internet_gateway(
        InternetGatewayId=str(r.properties.get("InternetGatewayId")), VpcId=str(r.properties.get("VpcId"))
    )


def _release_address(c: Any, r: Recorded) -> Any:
    if r.physical_id.startswith("eipalloc-"):
        return c("ec2").release_address(AllocationId=r.physical_id)
    address = _address(c, r.physical_id)
    if address.get("AssociationId"):
        c("ec2").disassociate_address(AssociationId=address["AssociationId"])
    if address.get("AllocationId"):
        return c("ec2").release_address(AllocationId=address["AllocationId"])
    return c("ec2").release_address(PublicIp=r.physical_id)


def _delete_route(c: Any, r: Recorded) -> Any:
    table, _, destination = r.physical_id.partition("~")
    return c("ec2").delete_route(
        RouteTableId=table, DestinationCidrBlock=destination or str(r.properties.get("DestinationCidrBlock"))
    )


def _address(c: Any, physical_id: str) -> Any:
    """The Elastic IP whose allocation id or public address is `physical_id`."""
    allocation = physical_id.startswith("eipalloc-")
    answer = c("ec2").describe_addresses(**{"AllocationIds" if allocation else "PublicIps": [physical_id]})
    return by_id_or_gone(answer["Addresses"], "AllocationId" if allocation else "PublicIp", physical_id)


#: type -> how to ask its service whether the resource still exists
PROBES: dict[str, Probe] = {
    "AWS::EC2::VPC": described("ec2", "describe_vpcs", "VpcIds", "Vpcs", "VpcId"),
    "AWS::EC2::Subnet": described("ec2", "describe_subnets", "SubnetIds", "Subnets", "SubnetId"),
    "AWS::EC2::InternetGateway": described(
        "ec2", "describe_internet_gateways", "InternetGatewayIds", "InternetGateways", "InternetGatewayId"
    ),
    "AWS::EC2::VPCGatewayAttachment": _probe_gateway_attachment,
    "AWS::EC2::EIP": _probe_eip,
    "AWS::EC2::NatGateway": _probe_nat,
    "AWS::EC2::RouteTable": described(
        "ec2", "describe_route_tables", "RouteTableIds", "RouteTables", "RouteTableId"
    ),
    "AWS::EC2::Route": _probe_route,
    "AWS::EC2::SubnetRouteTableAssociation": _probe_association,
    "AWS::EC2::SecurityGroup": described(
        "ec2", "describe_security_groups", "GroupIds", "SecurityGroups", "GroupId"
    ),
    "AWS::EC2::SecurityGroupEgress": _probe_sg_rule,
    "AWS::EC2::SecurityGroupIngress": _probe_sg_rule,
    "AWS::EC2::VPCEndpoint": _probe_endpoint,
    "AWS::EC2::FlowLog": _probe_flow_log,
}

#: type -> how to delete one directly, for what a stack deletion left behind
REMOVERS: dict[str, Remover] = {
    "AWS::EC2::VPC": lambda c, r: c("ec2").delete_vpc(VpcId=r.physical_id),
    "AWS::EC2::Subnet": lambda c, r: c("ec2").delete_subnet(SubnetId=r.physical_id),
    "AWS::EC2::InternetGateway": lambda c, r: c("ec2").delete_internet_gateway(
        InternetGatewayId=r.physical_id
    ),
    "AWS::EC2::VPCGatewayAttachment": _detach_gateway,
    "AWS::EC2::EIP": _release_address,
    "AWS::EC2::NatGateway": lambda c, r: c("ec2").delete_nat_gateway(NatGatewayId=r.physical_id),
    "AWS::EC2::RouteTable": lambda c, r: c("ec2").delete_route_table(RouteTableId=r.physical_id),
    "AWS::EC2::Route": _delete_route,
    "AWS::EC2::SubnetRouteTableAssociation": lambda c, r: c("ec2").disassociate_route_table(
        AssociationId=r.physical_id
    ),
    "AWS::EC2::SecurityGroup": lambda c, r: c("ec2").delete_security_group(GroupId=r.physical_id),
    "AWS::EC2::SecurityGroupEgress": lambda c, r: c("ec2").revoke_security_group_egress(
        GroupId=str(r.properties.get("GroupId")), SecurityGroupRuleIds=[r.physical_id]
    ),
    "AWS::EC2::SecurityGroupIngress": lambda c, r: c("ec2").revoke_security_group_ingress(
        GroupId=str(r.properties.get("GroupId")), SecurityGroupRuleIds=[r.physical_id]
    ),
    "AWS::EC2::VPCEndpoint": lambda c, r: c("ec2").delete_vpc_endpoints(VpcEndpointIds=[r.physical_id]),
    "AWS::EC2::FlowLog": lambda c, r: c("ec2").delete_flow_logs(FlowLogIds=[r.physical_id]),
}

#: what the name scan lists of this service: (kind, the names)
NAMES: tuple[tuple[str, Namer], ...] = ()
