"""EC2: AWS::EC2::EIP, ::FlowLog, ::SecurityGroupIngress, ::SecurityGroupEgress.

All four call LocalStack's own EC2 API (its moto-backed provider) through the client factory
the CloudFormation engine hands to every provider, the way LocalStack's shipped EC2 providers do.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from ._base import (
    ExtensionProvider,
    ResourceRequest,
    done,
    failed,
    is_not_found,
    schema,
    tags_list,
)


def _update_tags(ec2: Any, resource_id: str, old: list[dict] | None, new: list[dict] | None) -> None:
    old_tags = {t["Key"]: t["Value"] for t in tags_list(old)}
    new_tags = {t["Key"]: t["Value"] for t in tags_list(new)}
    removed = [{"Key": k} for k in old_tags if k not in new_tags]
    changed = [{"Key": k, "Value": v} for k, v in new_tags.items() if old_tags.get(k) != v]
    if removed:
        ec2.delete_tags(Resources=[resource_id], Tags=removed)
    if changed:
        ec2.create_tags(Resources=[resource_id], Tags=changed)


class EIPProvider(ExtensionProvider):
    """AllocateAddress / DescribeAddresses / ReleaseAddress. Ref is the public IP (as in AWS);
    GetAtt AllocationId and PublicIp."""

    TYPE = "AWS::EC2::EIP"
    SCHEMA = schema(
        TYPE,
        ["PublicIp"],
        create_only=["Domain", "NetworkBorderGroup", "TransferAddress", "PublicIpv4Pool"],
        read_only=["PublicIp", "AllocationId"],
    )

    def create(self, request: ResourceRequest):
        model = request.desired_state
        ec2 = request.aws_client_factory.ec2
        params: dict[str, Any] = {"Domain": model.get("Domain") or "vpc"}
        if model.get("Tags"):
            params["TagSpecifications"] = [{"ResourceType": "elastic-ip", "Tags": tags_list(model["Tags"])}]
        response = ec2.allocate_address(**params)
        model["AllocationId"] = response["AllocationId"]
        model["PublicIp"] = response["PublicIp"]
        if model.get("InstanceId"):
            ec2.associate_address(AllocationId=model["AllocationId"], InstanceId=model["InstanceId"])
        return done(model, request)

    def describe(self, request: ResourceRequest):
        model = request.desired_state
        ec2 = request.aws_client_factory.ec2
        try:
            found = ec2.describe_addresses(AllocationIds=[model["AllocationId"]])["Addresses"]
        except ClientError as e:
            if is_not_found(e):
                return None
            raise
        if not found:
            return None
        address = found[0]
        return {
            **model,
            "AllocationId": address["AllocationId"],
            "PublicIp": address["PublicIp"],
            "Domain": address.get("Domain", "vpc"),
        }

    def update(self, request: ResourceRequest):
        model = {**(request.previous_state or {}), **request.desired_state}
        previous = request.previous_state or {}
        model["AllocationId"] = previous["AllocationId"]
        model["PublicIp"] = previous["PublicIp"]
        _update_tags(
            request.aws_client_factory.ec2,
            model["AllocationId"],
            previous.get("Tags"),
            request.desired_state.get("Tags"),
        )
        return done(model, request)

    def delete(self, request: ResourceRequest):
        model = request.desired_state
        try:
            request.aws_client_factory.ec2.release_address(AllocationId=model["AllocationId"])
        except ClientError as e:
            if not is_not_found(e):
                raise
        return done(model, request)


class FlowLogProvider(ExtensionProvider):
    """CreateFlowLogs / DescribeFlowLogs / DeleteFlowLogs. Every property but Tags is
    create-only, so an update only retags. Ref is the flow log id."""

    TYPE = "AWS::EC2::FlowLog"
    SCHEMA = schema(
        TYPE,
        ["Id"],
        create_only=[
            "DeliverLogsPermissionArn",
            "DeliverCrossAccountRole",
            "DestinationOptions",
            "LogDestination",
            "LogDestinationType",
            "LogFormat",
            "LogGroupName",
            "MaxAggregationInterval",
            "ResourceId",
            "ResourceType",
            "TrafficType",
        ],
        read_only=["Id"],
    )

    def create(self, request: ResourceRequest):
        model = request.desired_state
        ec2 = request.aws_client_factory.ec2
        params: dict[str, Any] = {
            "ResourceIds": [model["ResourceId"]],
            "ResourceType": model["ResourceType"],
        }
        for key in (
            "TrafficType",
            "LogDestinationType",
            "LogGroupName",
            "LogDestination",
            "DeliverLogsPermissionArn",
            "LogFormat",
            "MaxAggregationInterval",
        ):
            if model.get(key) not in (None, ""):
                params[key] = model[key]
        if model.get("Tags"):
            params["TagSpecifications"] = [{"ResourceType": "vpc-flow-log", "Tags": tags_list(model["Tags"])}]
        response = ec2.create_flow_logs(**params)
        if response.get("Unsuccessful") or not response.get("FlowLogIds"):
            reasons = [u.get("Error", {}).get("Message", "") for u in response.get("Unsuccessful", [])]
            return failed(f"CreateFlowLogs failed: {'; '.join(reasons) or 'no flow log id'}")
        model["Id"] = response["FlowLogIds"][0]
        return done(model, request)

    def describe(self, request: ResourceRequest):
        model = request.desired_state
        found = request.aws_client_factory.ec2.describe_flow_logs(FlowLogIds=[model["Id"]])
        if not found.get("FlowLogs"):
            return None
        flow = found["FlowLogs"][0]
        return {
            **model,
            "Id": flow["FlowLogId"],
            "ResourceId": flow.get("ResourceId", model.get("ResourceId")),
            "TrafficType": flow.get("TrafficType", model.get("TrafficType")),
            "LogDestinationType": flow.get("LogDestinationType", model.get("LogDestinationType")),
            "LogGroupName": flow.get("LogGroupName", model.get("LogGroupName")),
        }

    def update(self, request: ResourceRequest):
        previous = request.previous_state or {}
        model = {**request.desired_state, "Id": previous["Id"]}
        _update_tags(
            request.aws_client_factory.ec2,
            model["Id"],
            previous.get("Tags"),
            request.desired_state.get("Tags"),
        )
        return done(model, request)

    def delete(self, request: ResourceRequest):
        model = request.desired_state
        try:
            request.aws_client_factory.ec2.delete_flow_logs(FlowLogIds=[model["Id"]])
        except ClientError as e:
            if not is_not_found(e):
                raise
        return done(model, request)


# --- security group rules ------------------------------------------------------------------


def _permission(model: dict, direction: str) -> dict[str, Any]:
    """The one IpPermission a SecurityGroupIngress/Egress resource stands for."""
    permission: dict[str, Any] = {"IpProtocol": str(model["IpProtocol"])}
    if model.get("FromPort") is not None:
        permission["FromPort"] = int(model["FromPort"])
    if model.get("ToPort") is not None:
        permission["ToPort"] = int(model["ToPort"])
    description = {"Description": model["Description"]} if model.get("Description") else {}
    if model.get("CidrIp"):
        permission["IpRanges"] = [{"CidrIp": model["CidrIp"], **description}]
    if model.get("CidrIpv6"):
        permission["Ipv6Ranges"] = [{"CidrIpv6": model["CidrIpv6"], **description}]
    peer_key = "SourceSecurityGroupId" if direction == "ingress" else "DestinationSecurityGroupId"
    if model.get(peer_key):
        pair: dict[str, Any] = {"GroupId": model[peer_key], **description}
        if model.get("SourceSecurityGroupOwnerId"):
            pair["UserId"] = model["SourceSecurityGroupOwnerId"]
        permission["UserIdGroupPairs"] = [pair]
    elif direction == "ingress" and model.get("SourceSecurityGroupName"):
        permission["UserIdGroupPairs"] = [{"GroupName": model["SourceSecurityGroupName"], **description}]
    prefix_key = "SourcePrefixListId" if direction == "ingress" else "DestinationPrefixListId"
    if model.get(prefix_key):
        permission["PrefixListIds"] = [{"PrefixListId": model[prefix_key], **description}]
    return permission


def _group_id(ec2: Any, model: dict) -> str:
    if model.get("GroupId"):
        return str(model["GroupId"])
    groups = ec2.describe_security_groups(GroupNames=[model["GroupName"]])["SecurityGroups"]
    return str(groups[0]["GroupId"])


class _SecurityGroupRuleProvider(ExtensionProvider):
    """AuthorizeSecurityGroupIngress/Egress with one IpPermission; the rule id EC2 answers
    (SecurityGroupRules[0].SecurityGroupRuleId) is the physical id, as in AWS. Only Description
    can change in place (UpdateSecurityGroupRuleDescriptions*); everything else replaces."""

    DIRECTION = "ingress"

    def _call(self, ec2: Any, verb: str):
        return getattr(ec2, f"{verb}_security_group_{self.DIRECTION}")

    def create(self, request: ResourceRequest):
        model = request.desired_state
        ec2 = request.aws_client_factory.ec2
        group_id = _group_id(ec2, model)
        response = self._call(ec2, "authorize")(
            GroupId=group_id, IpPermissions=[_permission(model, self.DIRECTION)]
        )
        rules = response.get("SecurityGroupRules") or []
        if not rules:
            return failed(f"{self.TYPE}: EC2 answered no security group rule for {group_id}")
        model["Id"] = rules[0]["SecurityGroupRuleId"]
        model["GroupId"] = group_id
        return done(model, request)

    def describe(self, request: ResourceRequest):
        model = request.desired_state
        ec2 = request.aws_client_factory.ec2
        try:
            rules = ec2.describe_security_group_rules(SecurityGroupRuleIds=[model["Id"]])[
                "SecurityGroupRules"
            ]
        except ClientError as e:
            if is_not_found(e):
                return None
            raise
        if not rules:
            return None
        rule = rules[0]
        return {
            **model,
            "GroupId": rule["GroupId"],
            "IpProtocol": rule["IpProtocol"],
            "FromPort": rule.get("FromPort"),
            "ToPort": rule.get("ToPort"),
            "Description": rule.get("Description", model.get("Description")),
        }

    def update(self, request: ResourceRequest):
        previous = request.previous_state or {}
        model = {**request.desired_state, "Id": previous["Id"], "GroupId": previous["GroupId"]}
        if model.get("Description") != previous.get("Description"):
            ec2 = request.aws_client_factory.ec2
            getattr(ec2, f"update_security_group_rule_descriptions_{self.DIRECTION}")(
                GroupId=model["GroupId"], IpPermissions=[_permission(model, self.DIRECTION)]
            )
        return done(model, request)

    def delete(self, request: ResourceRequest):
        model = request.desired_state
        ec2 = request.aws_client_factory.ec2
        try:
            self._call(ec2, "revoke")(
                GroupId=model.get("GroupId") or _group_id(ec2, model),
                IpPermissions=[_permission(model, self.DIRECTION)],
            )
        except ClientError as e:
            if not is_not_found(e):
                raise
        return done(model, request)


_RULE_CREATE_ONLY = [
    "CidrIp",
    "CidrIpv6",
    "FromPort",
    "ToPort",
    "GroupId",
    "GroupName",
    "IpProtocol",
]


class SecurityGroupIngressProvider(_SecurityGroupRuleProvider):
    TYPE = "AWS::EC2::SecurityGroupIngress"
    DIRECTION = "ingress"
    SCHEMA = schema(
        TYPE,
        ["Id"],
        create_only=[
            *_RULE_CREATE_ONLY,
            "SourcePrefixListId",
            "SourceSecurityGroupId",
            "SourceSecurityGroupName",
            "SourceSecurityGroupOwnerId",
        ],
        read_only=["Id"],
    )


class SecurityGroupEgressProvider(_SecurityGroupRuleProvider):
    TYPE = "AWS::EC2::SecurityGroupEgress"
    DIRECTION = "egress"
    SCHEMA = schema(
        TYPE,
        ["Id"],
        create_only=[*_RULE_CREATE_ONLY, "DestinationPrefixListId", "DestinationSecurityGroupId"],
        read_only=["Id"],
    )
