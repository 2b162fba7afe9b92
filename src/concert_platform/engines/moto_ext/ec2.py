"""EC2: AWS::EC2::SecurityGroupEgress, and the inline SecurityGroupEgress rules moto's
SecurityGroup model ignores (keeping the default allow-all rule that AWS removes)."""

from __future__ import annotations

from typing import Any

from moto.core.common_models import CloudFormationModel
from moto.ec2 import models as ec2_models
from moto.ec2.models.security_groups import SecurityGroup

from concert_platform.engines.moto_ext._base import EmulatedResource, after_cloudformation_create


def _backend(account_id: str, region_name: str) -> Any:
    return ec2_models.ec2_backends[account_id][region_name]


def _authorize_egress(backend: Any, group_id: str, rule: dict[str, Any], vpc_id: str | None) -> None:
    destination = rule.get("DestinationSecurityGroupId")
    backend.authorize_security_group_egress(
        group_name_or_id=group_id,
        ip_protocol=str(rule["IpProtocol"]),
        from_port=rule.get("FromPort"),
        to_port=rule.get("ToPort"),
        ip_ranges=[{"CidrIp": rule["CidrIp"], "Description": rule.get("Description", "")}]
        if rule.get("CidrIp")
        else [],
        source_groups=[{"GroupId": destination, **_description(rule)}] if destination else [],
        vpc_id=vpc_id,
    )


def _description(rule: dict[str, Any]) -> dict[str, Any]:
    return {"Description": rule["Description"]} if rule.get("Description") else {}


def _describe_ingress(group: Any, declared: list[dict[str, Any]]) -> None:
    """moto's CloudFormation models drop ingress rule descriptions; put them where moto reads them."""
    for wanted in declared:
        if not wanted.get("Description"):
            continue
        for rule in group.ingress_rules:
            if (str(rule.from_port), str(rule.to_port)) != (
                str(wanted.get("FromPort")),
                str(wanted.get("ToPort")),
            ):
                continue
            if wanted.get("CidrIp") and rule.ip_range.get("CidrIp") == wanted["CidrIp"]:
                rule.ip_range["Description"] = wanted["Description"]
            if (
                wanted.get("SourceSecurityGroupId")
                and rule.source_group.get("GroupId") == wanted["SourceSecurityGroupId"]
            ):
                rule.source_group["Description"] = wanted["Description"]


class SecurityGroupEgress(EmulatedResource, CloudFormationModel):
    CFN_TYPE = "AWS::EC2::SecurityGroupEgress"

    def __init__(self, group_id: str, rule: dict[str, Any], rule_id: str) -> None:
        self.group_id = group_id
        self.rule = rule
        self.rule_id = rule_id

    @property
    def physical_resource_id(self) -> str:
        return self.rule_id

    @classmethod
    def create(
        cls, properties: dict[str, Any], account_id: str, region_name: str, logical_id: str
    ) -> SecurityGroupEgress:
        backend = _backend(account_id, region_name)
        group = backend.get_security_group_by_name_or_id(properties["GroupId"])
        rules_before = {r.id for r in group.egress_rules}
        _authorize_egress(backend, properties["GroupId"], properties, group.vpc_id)
        new = [r.id for r in group.egress_rules if r.id not in rules_before]
        return cls(
            properties["GroupId"], properties, new[0] if new else f"{properties['GroupId']}-{logical_id}"
        )

    def remove(self, account_id: str, region_name: str) -> None:
        backend = _backend(account_id, region_name)
        group = backend.get_security_group_by_name_or_id(self.group_id)
        if group is None:
            return
        destination = self.rule.get("DestinationSecurityGroupId")
        backend.revoke_security_group_egress(
            group_name_or_id=self.group_id,
            ip_protocol=str(self.rule["IpProtocol"]),
            from_port=self.rule.get("FromPort"),
            to_port=self.rule.get("ToPort"),
            ip_ranges=[{"CidrIp": self.rule["CidrIp"], "Description": self.rule.get("Description", "")}]
            if self.rule.get("CidrIp")
            else [],
            source_groups=[{"GroupId": destination, **_description(self.rule)}] if destination else [],
            vpc_id=group.vpc_id,
        )


def _ingress_physical_id(self: Any) -> str:
    props = self.properties
    source = props.get("SourceSecurityGroupId") or props.get("CidrIp") or ""
    return f"{self.security_group.id}-ingress-{props.get('IpProtocol')}-{props.get('FromPort')}-{props.get('ToPort')}-{source}"


def _revoke_ingress(self: Any, account_id: str, region_name: str) -> None:
    """moto's model has no delete: the rule outlived its stack (and kept its group referenced)."""
    backend = _backend(account_id, region_name)
    group = self.security_group
    if group.id not in backend.groups.get(group.vpc_id, {}):
        return
    props = self.properties
    source = {
        key: props[prop]
        for key, prop in (("GroupId", "SourceSecurityGroupId"), ("GroupName", "SourceSecurityGroupName"))
        if props.get(prop)
    }
    backend.revoke_security_group_ingress(
        group_name_or_id=group.id,
        ip_protocol=str(props.get("IpProtocol")),
        from_port=props.get("FromPort"),
        to_port=props.get("ToPort"),
        ip_ranges=[{"CidrIp": props["CidrIp"], "Description": props.get("Description")}]
        if props.get("CidrIp")
        else [],
        source_groups=[source] if source else [],
        vpc_id=group.vpc_id,
    )


def patch_security_group_model() -> None:
    from moto.ec2.models.security_groups import SecurityGroupIngress, SecurityGroupRule

    SecurityGroupIngress.physical_resource_id = property(_ingress_physical_id)  # type: ignore[attr-defined]
    # DescribeSecurityGroupRules reports a rule's description whether its peer is a CIDR or a group.
    SecurityGroupRule.description = property(  # type: ignore[assignment]
        lambda self: self.ip_range.get("Description") or self.source_group.get("Description")
    )
    after_cloudformation_create(
        SecurityGroupIngress,
        lambda ingress, properties, _account, _region: _describe_ingress(
            ingress.security_group, [properties]
        ),
    )
    SecurityGroupIngress.delete = _revoke_ingress  # type: ignore[attr-defined]

    def apply_rules(group: Any, properties: dict[str, Any], account_id: str, region_name: str) -> None:
        _describe_ingress(group, properties.get("SecurityGroupIngress", []))
        egress = properties.get("SecurityGroupEgress")
        if egress:
            backend = _backend(account_id, region_name)
            # As on AWS: explicit egress rules replace the default allow-all rule.
            for rule in list(group.egress_rules):
                if rule.ip_protocol == "-1":
                    group.egress_rules.remove(rule)
            for rule in egress:
                _authorize_egress(backend, group.id, rule, group.vpc_id)

    after_cloudformation_create(SecurityGroup, apply_rules)


def patch_vpc_and_association_models() -> None:
    """VPC DNS attributes are applied; subnet associations go through the route table (moto's
    CloudFormation model records them where DescribeRouteTables never looks)."""
    from moto.ec2.models.subnets import SubnetRouteTableAssociation
    from moto.ec2.models.vpcs import VPC

    def dns_attributes(vpc: Any, properties: dict[str, Any], account_id: str, region_name: str) -> None:
        backend = _backend(account_id, region_name)
        for prop, attribute in (
            ("EnableDnsSupport", "enable_dns_support"),
            ("EnableDnsHostnames", "enable_dns_hostnames"),
        ):
            if prop in properties:
                backend.modify_vpc_attribute(vpc.id, attribute, str(properties[prop]).lower() == "true")

    def create_association(
        cls: Any,
        resource_name: str,
        cloudformation_json: Any,
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> Any:
        properties = cloudformation_json["Properties"]
        association_id = _backend(account_id, region_name).associate_route_table(
            route_table_id=properties["RouteTableId"], subnet_id=properties["SubnetId"]
        )
        association = cls(properties["RouteTableId"], properties["SubnetId"])
        association.association_id = association_id
        return association

    def delete_association(self: Any, account_id: str, region_name: str) -> None:
        try:
            _backend(account_id, region_name).disassociate_route_table(self.association_id)
        except Exception:
            return

    after_cloudformation_create(VPC, dns_attributes)
    SubnetRouteTableAssociation.create_from_cloudformation_json = classmethod(create_association)  # type: ignore[assignment]
    SubnetRouteTableAssociation.physical_resource_id = property(
        lambda self: getattr(self, "association_id", self.route_table_id)
    )  # type: ignore[assignment]
    SubnetRouteTableAssociation.delete = delete_association  # type: ignore[attr-defined]


def patch_route_models() -> None:
    """moto's RouteTable and Route models cannot be deleted through CloudFormation, so the VPC
    that holds them can never be deleted either."""
    from moto.ec2.models.route_tables import Route, RouteTable

    def delete_route_table(self: Any, account_id: str, region_name: str) -> None:
        backend = _backend(account_id, region_name)
        if self.id in backend.route_tables:
            backend.delete_route_table(self.id)

    def delete_route(self: Any, account_id: str, region_name: str) -> None:
        backend = _backend(account_id, region_name)
        if self.route_table.id in backend.route_tables:
            backend.delete_route(self.route_table.id, self.destination_cidr_block)

    RouteTable.delete = delete_route_table  # type: ignore[attr-defined]
    Route.delete = delete_route  # type: ignore[attr-defined]


def patch_tagged_models() -> None:
    """moto's CloudFormation models of these types ignore Tags; CloudFormation applies them."""
    from moto.ec2.models.elastic_ip_addresses import ElasticAddress
    from moto.ec2.models.internet_gateways import InternetGateway
    from moto.ec2.models.nat_gateways import NatGateway
    from moto.ec2.models.route_tables import RouteTable

    for model in (ElasticAddress, InternetGateway, NatGateway, RouteTable):
        original = getattr(model.create_from_cloudformation_json, "__func__")  # noqa: B009

        def create(
            cls: Any,
            resource_name: str,
            cloudformation_json: Any,
            account_id: str,
            region_name: str,
            _original: Any = original,
            **kwargs: Any,
        ) -> Any:
            created = _original(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)
            tags = cloudformation_json.get("Properties", {}).get("Tags", [])
            if tags and getattr(created, "id", None):
                _backend(account_id, region_name).create_tags(
                    [created.id], {t["Key"]: t["Value"] for t in tags}
                )
            return created

        model.create_from_cloudformation_json = classmethod(create)  # type: ignore[assignment]


def patch_vpc_endpoint_model() -> None:
    """An endpoint policy given as a template object is kept as JSON text, as DescribeVpcEndpoints
    returns it (moto kept the object and answered its Python repr)."""
    import json

    from moto.ec2.models.vpcs import VPCEndPoint

    def policy_as_text(endpoint: Any, _properties: dict[str, Any], _account: str, _region: str) -> None:
        if isinstance(endpoint.policy_document, dict):
            endpoint.policy_document = json.dumps(endpoint.policy_document)

    after_cloudformation_create(VPCEndPoint, policy_as_text)


def patch_delete_models() -> None:
    """moto's models for these types have no delete, so its CloudFormation skipped them silently
    and a destroyed stack left them behind; each now goes through the EC2 backend as on AWS."""
    from moto.ec2.models.elastic_ip_addresses import ElasticAddress
    from moto.ec2.models.flow_logs import FlowLogs
    from moto.ec2.models.internet_gateways import InternetGateway
    from moto.ec2.models.nat_gateways import NatGateway
    from moto.ec2.models.vpcs import VPCEndPoint
    from moto.ec2.models.vpn_gateway import VPCGatewayAttachment

    def delete_nat_gateway(self: Any, account_id: str, region_name: str) -> None:
        backend = _backend(account_id, region_name)
        if self.id not in backend.nat_gateways or self.state == "deleted":
            return
        # AWS releases the gateway's network interface and its address association with it
        for eip in [a for a in backend.addresses if a.eni is self._eni]:
            backend.disassociate_address(address=eip.public_ip)
        backend.enis.pop(self._eni.id, None)
        backend.delete_nat_gateway(self.id)

    def delete_address(self: Any, account_id: str, region_name: str) -> None:
        backend = _backend(account_id, region_name)
        if self in backend.addresses:
            backend.release_address(address=self.public_ip)

    def delete_internet_gateway(self: Any, account_id: str, region_name: str) -> None:
        backend = _backend(account_id, region_name)
        if self.id in backend.internet_gateways:
            backend.delete_internet_gateway(self.id)  # DependencyViolation while still attached

    def delete_gateway_attachment(self: Any, account_id: str, region_name: str) -> None:
        backend = _backend(account_id, region_name)
        gateway = getattr(self, "gateway_id", None) or next(
            (g.id for g in backend.internet_gateways.values() if g.vpc and g.vpc.id == self.vpc_id), None
        )
        if gateway and gateway in backend.internet_gateways and backend.internet_gateways[gateway].vpc:
            backend.detach_internet_gateway(gateway, self.vpc_id)

    def delete_endpoint(self: Any, account_id: str, region_name: str) -> None:
        backend = _backend(account_id, region_name)
        # moto's stack deletion ignores dependencies: a route table may already be gone
        self.route_table_ids = [t for t in self.route_table_ids or [] if t in backend.route_tables]
        backend.delete_vpc_endpoints([self.id])

    def delete_flow_log(self: Any, account_id: str, region_name: str) -> None:
        backend = _backend(account_id, region_name)
        if self.id in backend.flow_logs:
            backend.delete_flow_logs([self.id])

    NatGateway.delete = delete_nat_gateway  # type: ignore[attr-defined]
    ElasticAddress.delete = delete_address  # type: ignore[attr-defined]
    InternetGateway.delete = delete_internet_gateway  # type: ignore[attr-defined]
    VPCGatewayAttachment.delete = delete_gateway_attachment  # type: ignore[attr-defined]
    VPCEndPoint.delete = delete_endpoint  # type: ignore[attr-defined]
    FlowLogs.delete = delete_flow_log  # type: ignore[attr-defined]
