"""Teardown that proves itself.

Before destroy, `record_inventory` notes every physical resource the environment's stacks
created (stack, logical id, type, physical id, and the resolved properties needed to find it
again). After destroy, `confirm_gone` asks each resource's own service whether it still exists:
a resource is gone only when its service answers "not found" (or reports it deleted/pending
deletion). Whatever is still there, or could not be asked about, is reported.

`find_leftovers` is the second net: every service listed, anything whose whole name is one the
environment's stacks generate (catches what no stack declared, e.g. log groups a function created
at run time; never another environment's on a shared endpoint, whose name may contain this one's).
Every lookup picks the recorded resource by its id or name, never the first answer of a listing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from concert_platform.engines.base import Engine
from concert_platform.manifest import Manifest
from concert_platform.resolve import UNRESOLVED, Resolver

# ---- inventory ---------------------------------------------------------------------------------


@dataclass
class Recorded:
    stack: str
    stack_name: str
    logical_id: str
    type: str
    physical_id: str
    properties: dict[str, Any] = field(default_factory=dict, repr=False)
    siblings: dict[str, str] = field(default_factory=dict, repr=False)  # logical id -> physical id
    deletion_policy: str = "Delete"  # the template's DeletionPolicy

    def row(self, detail: str) -> dict[str, str]:
        return {
            "stack": self.stack,
            "logical_id": self.logical_id,
            "type": self.type,
            "physical_id": self.physical_id,
            "detail": detail,
        }


def _exports(engine: Engine) -> dict[str, str]:
    exports: dict[str, str] = {}
    for page in engine.client("cloudformation").get_paginator("list_exports").paginate():
        exports.update({e["Name"]: e["Value"] for e in page.get("Exports", [])})
    return exports


def _physical_id_getter(physical: Mapping[str, str]) -> Callable[[str, str], Any]:
    """GetAtt as the physical id: enough to find a resource again (APIs take the name for the ARN)."""
    return lambda logical, _attribute: physical.get(logical, UNRESOLVED)


def record_inventory(engine: Engine, manifest: Manifest, environment: str) -> list[Recorded]:
    """Every physical resource the environment's stacks report, in creation order."""
    cfn = engine.client("cloudformation")
    exports = _exports(engine)
    account = engine.client("sts").get_caller_identity()["Account"]
    recorded: list[Recorded] = []
    for spec in manifest.stacks:
        name = manifest.stack_name(spec.key, environment)
        try:
            stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
            summaries = [
                s
                for page in cfn.get_paginator("list_stack_resources").paginate(StackName=name)
                for s in page["StackResourceSummaries"]
            ]
        except ClientError:
            continue  # not deployed
        physical = {
            s["LogicalResourceId"]: s["PhysicalResourceId"]
            for s in summaries
            if s.get("LogicalResourceId") and s.get("PhysicalResourceId")
        }
        template = manifest.load_template(spec.key)
        resolver = Resolver(
            template,
            {p["ParameterKey"]: p.get("ParameterValue", "") for p in stack.get("Parameters", [])},
            {
                "AWS::Region": engine.region,
                "AWS::AccountId": account,
                "AWS::StackName": name,
                "AWS::StackId": stack["StackId"],
                "AWS::Partition": "aws",
                "AWS::URLSuffix": "amazonaws.com",
            },
            physical,
            exports,
            _physical_id_getter(physical),
        )
        declared = template.get("Resources", {})
        for logical_id, physical_id in physical.items():
            resource = declared.get(logical_id, {})
            try:
                properties = resolver.resolve(resource.get("Properties", {}))
            except Exception:  # a property we cannot resolve only limits how the resource is found
                properties = {}
            recorded.append(
                Recorded(
                    stack=spec.key,
                    stack_name=name,
                    logical_id=logical_id,
                    type=resource.get("Type")
                    or next(
                        (s["ResourceType"] for s in summaries if s.get("LogicalResourceId") == logical_id), ""
                    ),
                    physical_id=physical_id,
                    properties=properties if isinstance(properties, dict) else {},
                    siblings=physical,
                    deletion_policy=str(resource.get("DeletionPolicy", "Delete")),
                )
            )
    return recorded


# ---- asking each service ----------------------------------------------------------------------

_GONE_CODE = re.compile(r"NotFound|NoSuch|NonExistent|NotExist|Invalid.*\.NotFound|ResourceNotFound")


class Gone(Exception):
    """The service says the resource does not exist."""


def _gone_error(exc: ClientError) -> bool:
    error = exc.response.get("Error", {})
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    message = str(error.get("Message", "")).lower()
    return (
        bool(_GONE_CODE.search(str(error.get("Code", ""))))
        or status == 404
        or "not found" in message
        or "does not exist" in message
    )


def _first(items: Iterable[Any]) -> Any:
    for item in items:
        return item
    raise Gone


def _by_id(items: Iterable[Any], key: str, value: Any) -> Any:
    """The item whose `key` is `value`, or Gone: never whatever the engine answered first (an
    engine may ignore a lookup's filter and answer with another environment's resources)."""
    return _first(item for item in items if item.get(key) == value)


def _described(service: str, operation: str, ids_param: str, answer_key: str, key: str) -> Probe:
    """Exists while the service's answer to `operation` (asked for this id) holds this id."""

    def check(c: Any, r: Recorded) -> str | None:
        answer = getattr(c(service), operation)(**{ids_param: [r.physical_id]})
        _by_id(answer[answer_key], key, r.physical_id)
        return None

    return check


Probe = Callable[[Any, Recorded], str | None]
"""Returns None when the resource still exists (or a note about why it counts as gone), raises
Gone or a not-found ClientError when it is gone."""


def _nat(c: Any, r: Recorded) -> str | None:
    nat = _by_id(
        c("ec2").describe_nat_gateways(NatGatewayIds=[r.physical_id])["NatGateways"],
        "NatGatewayId",
        r.physical_id,
    )
    if nat.get("State") in ("deleted", "deleting"):
        raise Gone
    return None


def _endpoint(c: Any, r: Recorded) -> str | None:
    endpoint = _by_id(
        c("ec2").describe_vpc_endpoints(VpcEndpointIds=[r.physical_id])["VpcEndpoints"],
        "VpcEndpointId",
        r.physical_id,
    )
    if str(endpoint.get("State", "")).lower() in ("deleted", "deleting"):
        raise Gone
    return None


def _eip(c: Any, r: Recorded) -> str | None:
    _address(c, r.physical_id)
    return None


def _address(c: Any, physical_id: str) -> Any:
    """The Elastic IP whose allocation id or public address is `physical_id`."""
    allocation = physical_id.startswith("eipalloc-")
    answer = c("ec2").describe_addresses(**{"AllocationIds" if allocation else "PublicIps": [physical_id]})
    return _by_id(answer["Addresses"], "AllocationId" if allocation else "PublicIp", physical_id)


def _gateway_attachment(c: Any, r: Recorded) -> str | None:
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
    _first(attached)
    return None


def _route(c: Any, r: Recorded) -> str | None:
    table, _, destination = r.physical_id.partition("~")
    destination = destination or str(r.properties.get("DestinationCidrBlock", ""))
    tables = c("ec2").describe_route_tables(RouteTableIds=[table])["RouteTables"]
    routes = _by_id(tables, "RouteTableId", table).get("Routes", [])
    _first(x for x in routes if x.get("DestinationCidrBlock") == destination)
    return None


def _association(c: Any, r: Recorded) -> str | None:
    tables = c("ec2").describe_route_tables(
        Filters=[{"Name": "association.route-table-association-id", "Values": [r.physical_id]}]
    )["RouteTables"]
    _by_id((a for t in tables for a in t.get("Associations", [])), "RouteTableAssociationId", r.physical_id)
    return None


def _sg_rule(c: Any, r: Recorded) -> str | None:
    group = r.properties.get("GroupId")
    if r.physical_id.startswith("sgr-"):
        rules = c("ec2").describe_security_group_rules(SecurityGroupRuleIds=[r.physical_id])
        _by_id(rules["SecurityGroupRules"], "SecurityGroupRuleId", r.physical_id)
        return None
    if not isinstance(group, str):
        raise Gone
    # an id the engine made up: the rule exists while its group holds a rule of this shape
    found = _by_id(c("ec2").describe_security_groups(GroupIds=[group])["SecurityGroups"], "GroupId", group)
    permissions = found["IpPermissions" if r.type.endswith("Ingress") else "IpPermissionsEgress"]
    peer = r.properties.get("SourceSecurityGroupId") or r.properties.get("DestinationSecurityGroupId")
    cidr = r.properties.get("CidrIp")
    _first(
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


def _flow_log(c: Any, r: Recorded) -> str | None:
    _by_id(c("ec2").describe_flow_logs(FlowLogIds=[r.physical_id])["FlowLogs"], "FlowLogId", r.physical_id)
    return None


def _kms_key(c: Any, r: Recorded) -> str | None:
    state = c("kms").describe_key(KeyId=r.physical_id)["KeyMetadata"].get("KeyState")
    if state in ("PendingDeletion", "PendingReplicaDeletion"):
        raise Gone  # CloudFormation schedules key deletion; the key can no longer be used
    return None


def _kms_alias(c: Any, r: Recorded) -> str | None:
    aliases = [
        a for page in c("kms").get_paginator("list_aliases").paginate() for a in page.get("Aliases", [])
    ]
    _first(a for a in aliases if a["AliasName"] == r.physical_id)
    return None


def _policy_holder(kind: str, property_name: str, probe: Callable[[Any, str], Any]) -> Probe:
    """A policy resource exists while any of the resources it is attached to does."""

    def check(c: Any, r: Recorded) -> str | None:
        targets = r.properties.get(property_name)
        targets = targets if isinstance(targets, list) else [targets]
        alive = []
        for target in targets:
            if not isinstance(target, str) or not target:
                continue
            try:
                probe(c, target)
                alive.append(target)
            except ClientError as exc:
                if not _gone_error(exc):
                    raise
        if not alive:
            raise Gone
        return None

    return check


def _secret(c: Any, r: Recorded) -> str | None:
    if c("secretsmanager").describe_secret(SecretId=r.physical_id).get("DeletedDate"):
        raise Gone  # scheduled for deletion
    return None


def _layer_version(c: Any, r: Recorded) -> str | None:
    layer, _, version = r.physical_id.rpartition(":")  # arn:aws:lambda:<region>:<account>:layer:<name>:<n>
    c("lambda").get_layer_version(LayerName=layer, VersionNumber=int(version))
    return None


def _permission(c: Any, r: Recorded) -> str | None:
    function = r.properties.get("FunctionName")
    if not isinstance(function, str):
        raise Gone
    import json

    policy = json.loads(c("lambda").get_policy(FunctionName=function)["Policy"])
    _first(s for s in policy.get("Statement", []) if s.get("Sid") == r.physical_id)
    return None


def _scalable_target(c: Any, r: Recorded) -> str | None:
    namespace = str(r.properties.get("ServiceNamespace", "dynamodb"))
    resource_id = str(r.properties.get("ResourceId", r.physical_id.split("|")[0]))
    dimension = r.properties.get("ScalableDimension")
    targets = c("application-autoscaling").describe_scalable_targets(
        ServiceNamespace=namespace, ResourceIds=[resource_id]
    )["ScalableTargets"]
    _first(
        t
        for t in targets
        if t.get("ResourceId") == resource_id and dimension in (None, t.get("ScalableDimension"))
    )
    return None


def _scaling_policy(c: Any, r: Recorded) -> str | None:
    namespace = str(r.properties.get("ServiceNamespace", "dynamodb"))
    policies = c("application-autoscaling").describe_scaling_policies(ServiceNamespace=namespace)[
        "ScalingPolicies"
    ]
    _first(p for p in policies if r.physical_id in (p["PolicyARN"], p["PolicyName"]))
    return None


def _api_child(probe: Callable[[Any, str, Recorded], Any]) -> Probe:
    def check(c: Any, r: Recorded) -> str | None:
        api = r.properties.get("RestApiId")
        if not isinstance(api, str):
            raise Gone
        probe(c("apigateway"), api, r)
        return None

    return check


def _gateway_response(client: Any, api: str, r: Recorded) -> Any:
    # API Gateway answers every response type with its default; only a customised one is "there"
    response = client.get_gateway_response(restApiId=api, responseType=str(r.properties.get("ResponseType")))
    if response.get("defaultResponse", False):
        raise Gone
    return response


def _api_method(client: Any, api: str, r: Recorded) -> Any:
    _api, resource, verb = r.physical_id.rsplit("-", 2) if r.physical_id.count("-") >= 2 else ("", "", "")
    resource = resource or str(r.properties.get("ResourceId", ""))
    verb = verb or str(r.properties.get("HttpMethod", ""))
    return client.get_method(restApiId=api, resourceId=resource, httpMethod=verb)


def _usage_plan_key(c: Any, r: Recorded) -> str | None:
    key, _, plan = r.physical_id.partition(":")
    plan = plan or str(r.properties.get("UsagePlanId", ""))
    c("apigateway").get_usage_plan_key(usagePlanId=plan, keyId=key)
    return None


def _log_group(c: Any, r: Recorded) -> str | None:
    groups = c("logs").describe_log_groups(logGroupNamePrefix=r.physical_id)["logGroups"]
    _first(g for g in groups if g["logGroupName"] == r.physical_id)
    return None


def _metric_filter(c: Any, r: Recorded) -> str | None:
    group = r.properties.get("LogGroupName")
    kwargs = {"logGroupName": group} if isinstance(group, str) else {}
    filters = c("logs").describe_metric_filters(filterNamePrefix=r.physical_id, **kwargs)["metricFilters"]
    _first(f for f in filters if f["filterName"] == r.physical_id)
    return None


def _subscription_filter(c: Any, r: Recorded) -> str | None:
    group = r.properties.get("LogGroupName")
    if not isinstance(group, str):
        raise Gone
    filters = c("logs").describe_subscription_filters(logGroupName=group)["subscriptionFilters"]
    _first(f for f in filters if f["filterName"] == r.physical_id)
    return None


def _query_definition(c: Any, r: Recorded) -> str | None:
    found = c("logs").describe_query_definitions()["queryDefinitions"]
    _first(q for q in found if q["queryDefinitionId"] == r.physical_id)
    return None


def _sampling_rule(c: Any, r: Recorded) -> str | None:
    records = c("xray").get_sampling_rules()["SamplingRuleRecords"]
    _first(
        x
        for x in records
        if r.physical_id in (x["SamplingRule"].get("RuleARN"), x["SamplingRule"].get("RuleName"))
    )
    return None


def _alarm(c: Any, r: Recorded) -> str | None:
    _by_id(
        c("cloudwatch").describe_alarms(AlarmNames=[r.physical_id])["MetricAlarms"],
        "AlarmName",
        r.physical_id,
    )
    return None


#: type -> how to ask its service; every type the six templates use is here (a unit test says so)
PROBES: dict[str, Probe] = {
    "AWS::EC2::VPC": _described("ec2", "describe_vpcs", "VpcIds", "Vpcs", "VpcId"),
    "AWS::EC2::Subnet": _described("ec2", "describe_subnets", "SubnetIds", "Subnets", "SubnetId"),
    "AWS::EC2::InternetGateway": _described(
        "ec2", "describe_internet_gateways", "InternetGatewayIds", "InternetGateways", "InternetGatewayId"
    ),
    "AWS::EC2::VPCGatewayAttachment": _gateway_attachment,
    "AWS::EC2::EIP": _eip,
    "AWS::EC2::NatGateway": _nat,
    "AWS::EC2::RouteTable": _described(
        "ec2", "describe_route_tables", "RouteTableIds", "RouteTables", "RouteTableId"
    ),
    "AWS::EC2::Route": _route,
    "AWS::EC2::SubnetRouteTableAssociation": _association,
    "AWS::EC2::SecurityGroup": _described(
        "ec2", "describe_security_groups", "GroupIds", "SecurityGroups", "GroupId"
    ),
    "AWS::EC2::SecurityGroupEgress": _sg_rule,
    "AWS::EC2::SecurityGroupIngress": _sg_rule,
    "AWS::EC2::VPCEndpoint": _endpoint,
    "AWS::EC2::FlowLog": _flow_log,
    "AWS::KMS::Key": _kms_key,
    "AWS::KMS::Alias": _kms_alias,
    "AWS::S3::Bucket": lambda c, r: c("s3").head_bucket(Bucket=r.physical_id) and None,
    "AWS::S3::BucketPolicy": _policy_holder(
        "bucket", "Bucket", lambda c, b: c("s3").get_bucket_policy(Bucket=b)
    ),
    "AWS::Kinesis::Stream": lambda c, r: (
        c("kinesis").describe_stream_summary(StreamName=r.physical_id) and None
    ),
    "AWS::Glue::Database": lambda c, r: c("glue").get_database(Name=r.physical_id) and None,
    "AWS::IAM::Role": lambda c, r: c("iam").get_role(RoleName=r.physical_id) and None,
    "AWS::SecretsManager::Secret": _secret,
    "AWS::RedshiftServerless::Namespace": lambda c, r: (
        c("redshift-serverless").get_namespace(namespaceName=r.physical_id) and None
    ),
    "AWS::RedshiftServerless::Workgroup": lambda c, r: (
        c("redshift-serverless").get_workgroup(workgroupName=r.physical_id) and None
    ),
    "AWS::Lambda::Function": lambda c, r: c("lambda").get_function(FunctionName=r.physical_id) and None,
    "AWS::Lambda::LayerVersion": _layer_version,
    "AWS::Lambda::Permission": _permission,
    "AWS::DynamoDB::Table": lambda c, r: c("dynamodb").describe_table(TableName=r.physical_id) and None,
    "AWS::ApplicationAutoScaling::ScalableTarget": _scalable_target,
    "AWS::ApplicationAutoScaling::ScalingPolicy": _scaling_policy,
    "AWS::ApiGateway::RestApi": lambda c, r: c("apigateway").get_rest_api(restApiId=r.physical_id) and None,
    "AWS::ApiGateway::Resource": _api_child(
        lambda a, api, r: a.get_resource(restApiId=api, resourceId=r.physical_id)
    ),
    "AWS::ApiGateway::Method": _api_child(_api_method),
    "AWS::ApiGateway::Deployment": _api_child(
        lambda a, api, r: a.get_deployment(restApiId=api, deploymentId=r.physical_id)
    ),
    "AWS::ApiGateway::Stage": _api_child(
        lambda a, api, r: a.get_stage(restApiId=api, stageName=r.physical_id)
    ),
    "AWS::ApiGateway::ApiKey": lambda c, r: c("apigateway").get_api_key(apiKey=r.physical_id) and None,
    "AWS::ApiGateway::UsagePlan": lambda c, r: (
        c("apigateway").get_usage_plan(usagePlanId=r.physical_id) and None
    ),
    "AWS::ApiGateway::UsagePlanKey": _usage_plan_key,
    "AWS::ApiGateway::RequestValidator": _api_child(
        lambda a, api, r: a.get_request_validator(restApiId=api, requestValidatorId=r.physical_id)
    ),
    "AWS::ApiGateway::Model": _api_child(
        lambda a, api, r: a.get_model(restApiId=api, modelName=r.physical_id)
    ),
    "AWS::ApiGateway::GatewayResponse": _api_child(_gateway_response),
    "AWS::Events::Rule": lambda c, r: c("events").describe_rule(Name=r.physical_id.split("|")[-1]) and None,
    "AWS::SNS::Topic": lambda c, r: c("sns").get_topic_attributes(TopicArn=r.physical_id) and None,
    "AWS::SNS::Subscription": lambda c, r: (
        c("sns").get_subscription_attributes(SubscriptionArn=r.physical_id) and None
    ),
    "AWS::SNS::TopicPolicy": _policy_holder(
        "topic", "Topics", lambda c, t: c("sns").get_topic_attributes(TopicArn=t)
    ),
    "AWS::SQS::Queue": lambda c, r: c("sqs").get_queue_attributes(QueueUrl=r.physical_id) and None,
    "AWS::SQS::QueuePolicy": _policy_holder(
        "queue", "Queues", lambda c, q: c("sqs").get_queue_attributes(QueueUrl=q)
    ),
    "AWS::CloudWatch::Alarm": _alarm,
    "AWS::CloudWatch::Dashboard": lambda c, r: (
        c("cloudwatch").get_dashboard(DashboardName=r.physical_id) and None
    ),
    "AWS::Logs::LogGroup": _log_group,
    "AWS::Logs::MetricFilter": _metric_filter,
    "AWS::Logs::SubscriptionFilter": _subscription_filter,
    "AWS::Logs::QueryDefinition": _query_definition,
    "AWS::XRay::Group": lambda c, r: c("xray").get_group(GroupARN=r.physical_id) and None,
    "AWS::XRay::SamplingRule": _sampling_rule,
    "AWS::CloudTrail::Trail": lambda c, r: c("cloudtrail").get_trail(Name=r.physical_id) and None,
}

#: types that deleting a stack does not remove, on AWS either (with why); reported, never "remaining"
RETAINED_BY_DESIGN: dict[str, str] = {
    "AWS::ApiGateway::Account": "a region-wide API Gateway setting (the CloudWatch role); CloudFormation "
    "leaves it in place when the stack is deleted",
}


def outlived_their_stacks(
    recorded: Iterable[Recorded], remaining: list[dict[str, str]], deleted_stacks: set[str]
) -> list[dict[str, str]]:
    """What remains of a stack that reached DELETE_COMPLETE: on AWS a resource that outlives its
    stack is a template bug (a missing dependency) or an engine bug, and a leak either way; only
    the template's `DeletionPolicy: Retain` (and RETAINED_BY_DESIGN, never probed) keeps one."""
    kept = {
        (r.stack, r.logical_id) for r in recorded if r.deletion_policy in ("Retain", "RetainExceptOnCreate")
    }
    return [
        dict(row)
        for row in remaining
        if row["stack"] in deleted_stacks
        and (row["stack"], row["logical_id"]) not in kept
        and row["detail"] == "still exists"
    ]


def confirm_gone(engine: Engine, recorded: Iterable[Recorded]) -> tuple[list[dict[str, str]], int]:
    """(what remains, how many were confirmed gone): each resource asked through its own service."""
    remaining: list[dict[str, str]] = []
    confirmed = 0
    for item in recorded:
        if item.type in RETAINED_BY_DESIGN:
            continue
        probe = PROBES.get(item.type)
        if probe is None:
            remaining.append(item.row(f"no way to ask the service about {item.type}: not proven gone"))
            continue
        try:
            probe(engine.client, item)
        except Gone:
            confirmed += 1
            continue
        except ClientError as exc:
            if _gone_error(exc):
                confirmed += 1
                continue
            error = exc.response.get("Error", {})
            remaining.append(item.row(f"could not ask ({error.get('Code')}: {error.get('Message', '')})"))
            continue
        except BotoCoreError as exc:
            remaining.append(item.row(f"could not ask ({exc})"))
            continue
        remaining.append(item.row("still exists"))
    return remaining, confirmed


# ---- the name scan ----------------------------------------------------------------------------


_ACCOUNT, _REGION, _PARTITION = "\x01", "\x02", "\x03"  # stand-ins rendered, then made patterns
_STAND_INS = {
    _ACCOUNT: r"\d{12}",
    _REGION: r"[a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-\d",
    _PARTITION: r"aws(?:-[a-z-]+)?",
}


def _name_expressions(node: Any) -> Iterable[Any]:
    """Every Fn::Sub / Fn::Join in a template that mentions the Environment parameter."""
    if isinstance(node, dict):
        if len(node) == 1 and next(iter(node)) in ("Fn::Sub", "Fn::Join"):
            text = repr(node)
            if "${Environment}" in text or "'Ref': 'Environment'" in text:
                yield node
        for value in node.values():
            yield from _name_expressions(value)
    elif isinstance(node, list):
        for value in node:
            yield from _name_expressions(value)


def environment_names(manifest: Manifest, environment: str) -> list[str]:
    """Patterns of the whole names the manifest and templates give `environment`'s resources:
    its stack names and every name expression over ${Environment} (account, region and
    partition as patterns; an expression over a runtime value is left out)."""
    from concert_platform.naming import _render

    patterns = {re.escape(manifest.stack_name(spec.key, environment)) for spec in manifest.stacks}
    for spec in manifest.stacks:
        template = manifest.load_template(spec.key)
        params = {k: str(v.get("Default", "")) for k, v in template.get("Parameters", {}).items()}
        params.update(
            {
                "Environment": environment,
                "AWS::AccountId": _ACCOUNT,
                "AWS::Region": _REGION,
                "AWS::Partition": _PARTITION,
            }
        )
        for expression in _name_expressions(template):
            rendered = _render(expression, params)
            if rendered and not any(c.isspace() for c in rendered):  # names, not descriptions or bodies
                pattern = re.escape(rendered)
                for stand_in, replacement in _STAND_INS.items():
                    pattern = pattern.replace(stand_in, replacement)
                patterns.add(pattern)
        # names CloudFormation generates for a resource without one: <stack>-<logical id>-<suffix>
        stack = re.escape(manifest.stack_name(spec.key, environment))
        logical = "|".join(re.escape(name) for name in template.get("Resources", {}))
        if logical:
            patterns.add(rf"(?i:{stack}-(?:{logical})-[a-z0-9]+)")
    return sorted(patterns)


def environment_matcher(environment: str, manifest: Manifest | None = None) -> Callable[[str], bool]:
    """True for a whole name this environment's stacks generate (also a function's own log group
    under /aws/lambda/, and anything under a path segment that is the environment), never for a
    name that merely contains it: `qa` does not match `qa7`'s names, nor `qa7` those of `pr-qa7`."""
    from concert_platform.manifest import load_manifest

    names = "|".join(environment_names(manifest or load_manifest(), environment))
    pattern = re.compile(rf"(?:/aws/lambda/)?(?:{names})|(?:.*/)?{re.escape(environment)}/.*")
    return lambda name: bool(pattern.fullmatch(name))


def _paginate(client: Any, operation: str, key: str, **kwargs: Any) -> Iterable[Any]:
    if client.can_paginate(operation):
        for page in client.get_paginator(operation).paginate(**kwargs):
            yield from page.get(key, [])
    else:
        yield from getattr(client, operation)(**kwargs).get(key, [])


def _names(engine: Engine) -> Iterable[tuple[str, Callable[[], Iterable[str]]]]:
    c = engine.client
    yield (
        "stack",
        lambda: (
            s["StackName"]
            for s in _paginate(c("cloudformation"), "list_stacks", "StackSummaries")
            if s["StackStatus"] != "DELETE_COMPLETE"
        ),
    )
    yield "bucket", lambda: (b["Name"] for b in c("s3").list_buckets().get("Buckets", []))
    yield "table", lambda: _paginate(c("dynamodb"), "list_tables", "TableNames")
    yield "stream", lambda: _paginate(c("kinesis"), "list_streams", "StreamNames")
    yield (
        "function",
        lambda: (f["FunctionName"] for f in _paginate(c("lambda"), "list_functions", "Functions")),
    )
    yield "layer", lambda: (layer["LayerName"] for layer in _paginate(c("lambda"), "list_layers", "Layers"))
    yield (
        "log group",
        lambda: (g["logGroupName"] for g in _paginate(c("logs"), "describe_log_groups", "logGroups")),
    )
    yield (
        "topic",
        lambda: (t["TopicArn"].rsplit(":", 1)[1] for t in _paginate(c("sns"), "list_topics", "Topics")),
    )
    yield "queue", lambda: (u.rsplit("/", 1)[1] for u in c("sqs").list_queues().get("QueueUrls", []))
    yield "secret", lambda: (s["Name"] for s in _paginate(c("secretsmanager"), "list_secrets", "SecretList"))
    yield "rest api", lambda: (a["name"] for a in _paginate(c("apigateway"), "get_rest_apis", "items"))
    yield "role", lambda: (r["RoleName"] for r in _paginate(c("iam"), "list_roles", "Roles"))
    yield (
        "alarm",
        lambda: (a["AlarmName"] for a in _paginate(c("cloudwatch"), "describe_alarms", "MetricAlarms")),
    )
    yield (
        "dashboard",
        lambda: (
            d["DashboardName"] for d in _paginate(c("cloudwatch"), "list_dashboards", "DashboardEntries")
        ),
    )
    yield "rule", lambda: (r["Name"] for r in c("events").list_rules().get("Rules", []))
    yield "glue database", lambda: (d["Name"] for d in _paginate(c("glue"), "get_databases", "DatabaseList"))
    yield "trail", lambda: (t["Name"] for t in c("cloudtrail").list_trails().get("Trails", []))
    yield "x-ray group", lambda: (g["GroupName"] for g in c("xray").get_groups().get("Groups", []))
    yield (
        "redshift namespace",
        lambda: (
            n["namespaceName"] for n in c("redshift-serverless").list_namespaces().get("namespaces", [])
        ),
    )
    yield (
        "redshift workgroup",
        lambda: (
            w["workgroupName"] for w in c("redshift-serverless").list_workgroups().get("workgroups", [])
        ),
    )
    yield "kms alias", lambda: (a["AliasName"] for a in _paginate(c("kms"), "list_aliases", "Aliases"))


def find_leftovers(engine: Engine, environment: str, manifest: Manifest | None = None) -> list[str]:
    """`kind: name` for everything of this environment still present; unlistable kinds are reported too."""
    matches = environment_matcher(environment, manifest)
    leftovers = []
    for kind, lister in _names(engine):
        try:
            names = list(lister())
        except (ClientError, BotoCoreError) as exc:
            code = getattr(exc, "response", {}).get("Error", {}).get("Code", type(exc).__name__)
            optional = "redshift-serverless" in engine.capabilities.optional_services
            if optional and kind in ("redshift namespace", "redshift workgroup"):
                continue  # not offered by every emulator: verification already reports it
            leftovers.append(f"{kind}: could not list ({code})")
            continue
        leftovers.extend(f"{kind}: {name}" for name in names if matches(name))
    return leftovers


def describe_remaining(rows: Mapping[str, str]) -> str:
    return f"{rows['stack']}/{rows['logical_id']} {rows['type']} {rows['physical_id']}: {rows['detail']}"


# ---- removing what a failed stack deletion left ------------------------------------------------

Remover = Callable[[Any, Recorded], Any]


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


def _empty_and_delete_bucket(c: Any, r: Recorded) -> Any:
    from concert_platform.deploy import empty_bucket_versions

    empty_bucket_versions(c("s3"), r.physical_id)
    return c("s3").delete_bucket(Bucket=r.physical_id)


def _delete_layer_version(c: Any, r: Recorded) -> Any:
    layer, _, version = r.physical_id.rpartition(":")
    return c("lambda").delete_layer_version(LayerName=layer, VersionNumber=int(version))


def _api(r: Recorded) -> str:
    return str(r.properties.get("RestApiId", ""))


#: type -> how to delete one directly through its service, for what a stack deletion left behind
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
    "AWS::KMS::Key": lambda c, r: c("kms").schedule_key_deletion(KeyId=r.physical_id, PendingWindowInDays=7),
    "AWS::KMS::Alias": lambda c, r: c("kms").delete_alias(AliasName=r.physical_id),
    "AWS::S3::Bucket": _empty_and_delete_bucket,
    "AWS::S3::BucketPolicy": lambda c, r: c("s3").delete_bucket_policy(
        Bucket=str(r.properties.get("Bucket"))
    ),
    "AWS::Kinesis::Stream": lambda c, r: c("kinesis").delete_stream(
        StreamName=r.physical_id, EnforceConsumerDeletion=True
    ),
    "AWS::Glue::Database": lambda c, r: c("glue").delete_database(Name=r.physical_id),
    "AWS::SecretsManager::Secret": lambda c, r: c("secretsmanager").delete_secret(
        SecretId=r.physical_id, ForceDeleteWithoutRecovery=True
    ),
    "AWS::RedshiftServerless::Namespace": lambda c, r: c("redshift-serverless").delete_namespace(
        namespaceName=r.physical_id
    ),
    "AWS::RedshiftServerless::Workgroup": lambda c, r: c("redshift-serverless").delete_workgroup(
        workgroupName=r.physical_id
    ),
    "AWS::Lambda::Function": lambda c, r: c("lambda").delete_function(FunctionName=r.physical_id),
    "AWS::Lambda::LayerVersion": _delete_layer_version,
    "AWS::Lambda::Permission": lambda c, r: c("lambda").remove_permission(
        FunctionName=str(r.properties.get("FunctionName")), StatementId=r.physical_id
    ),
    "AWS::DynamoDB::Table": lambda c, r: c("dynamodb").delete_table(TableName=r.physical_id),
    "AWS::ApiGateway::RestApi": lambda c, r: c("apigateway").delete_rest_api(restApiId=r.physical_id),
    "AWS::ApiGateway::Resource": lambda c, r: c("apigateway").delete_resource(
        restApiId=_api(r), resourceId=r.physical_id
    ),
    "AWS::ApiGateway::Deployment": lambda c, r: c("apigateway").delete_deployment(
        restApiId=_api(r), deploymentId=r.physical_id
    ),
    "AWS::ApiGateway::Stage": lambda c, r: c("apigateway").delete_stage(
        restApiId=_api(r), stageName=r.physical_id
    ),
    "AWS::ApiGateway::ApiKey": lambda c, r: c("apigateway").delete_api_key(apiKey=r.physical_id),
    "AWS::ApiGateway::UsagePlan": lambda c, r: c("apigateway").delete_usage_plan(usagePlanId=r.physical_id),
    "AWS::ApiGateway::RequestValidator": lambda c, r: c("apigateway").delete_request_validator(
        restApiId=_api(r), requestValidatorId=r.physical_id
    ),
    "AWS::ApiGateway::Model": lambda c, r: c("apigateway").delete_model(
        restApiId=_api(r), modelName=r.physical_id
    ),
    "AWS::ApiGateway::GatewayResponse": lambda c, r: c("apigateway").delete_gateway_response(
        restApiId=_api(r), responseType=str(r.properties.get("ResponseType"))
    ),
    "AWS::Events::Rule": lambda c, r: c("events").delete_rule(Name=r.physical_id.split("|")[-1], Force=True),
    "AWS::SNS::Topic": lambda c, r: c("sns").delete_topic(TopicArn=r.physical_id),
    "AWS::SNS::Subscription": lambda c, r: c("sns").unsubscribe(SubscriptionArn=r.physical_id),
    "AWS::SQS::Queue": lambda c, r: c("sqs").delete_queue(QueueUrl=r.physical_id),
    "AWS::CloudWatch::Alarm": lambda c, r: c("cloudwatch").delete_alarms(AlarmNames=[r.physical_id]),
    "AWS::CloudWatch::Dashboard": lambda c, r: c("cloudwatch").delete_dashboards(
        DashboardNames=[r.physical_id]
    ),
    "AWS::Logs::LogGroup": lambda c, r: c("logs").delete_log_group(logGroupName=r.physical_id),
    "AWS::Logs::MetricFilter": lambda c, r: c("logs").delete_metric_filter(
        logGroupName=str(r.properties.get("LogGroupName")), filterName=r.physical_id
    ),
    "AWS::Logs::SubscriptionFilter": lambda c, r: c("logs").delete_subscription_filter(
        logGroupName=str(r.properties.get("LogGroupName")), filterName=r.physical_id
    ),
    "AWS::Logs::QueryDefinition": lambda c, r: c("logs").delete_query_definition(
        queryDefinitionId=r.physical_id
    ),
    "AWS::XRay::Group": lambda c, r: c("xray").delete_group(GroupARN=r.physical_id),
    "AWS::XRay::SamplingRule": lambda c, r: c("xray").delete_sampling_rule(RuleARN=r.physical_id),
    "AWS::CloudTrail::Trail": lambda c, r: c("cloudtrail").delete_trail(Name=r.physical_id),
}


def _delete_role(c: Any, r: Recorded) -> Any:
    iam = c("iam")
    for name in iam.list_role_policies(RoleName=r.physical_id).get("PolicyNames", []):
        iam.delete_role_policy(RoleName=r.physical_id, PolicyName=name)
    for policy in iam.list_attached_role_policies(RoleName=r.physical_id).get("AttachedPolicies", []):
        iam.detach_role_policy(RoleName=r.physical_id, PolicyArn=policy["PolicyArn"])
    return iam.delete_role(RoleName=r.physical_id)


def _deregister_target(c: Any, r: Recorded) -> Any:
    namespace = str(r.properties.get("ServiceNamespace", "dynamodb"))
    scaling = c("application-autoscaling")
    found = scaling.describe_scalable_targets(
        ServiceNamespace=namespace, ResourceIds=[str(r.properties.get("ResourceId"))]
    )["ScalableTargets"]
    for target in found:
        if target["ResourceId"] == r.properties.get("ResourceId") and target[
            "ScalableDimension"
        ] == r.properties.get("ScalableDimension", target["ScalableDimension"]):
            scaling.deregister_scalable_target(
                ServiceNamespace=namespace,
                ResourceId=target["ResourceId"],
                ScalableDimension=target["ScalableDimension"],
            )


def _delete_scaling_policy(c: Any, r: Recorded) -> Any:
    namespace = str(r.properties.get("ServiceNamespace", "dynamodb"))
    scaling = c("application-autoscaling")
    for policy in scaling.describe_scaling_policies(ServiceNamespace=namespace)["ScalingPolicies"]:
        if r.physical_id in (policy["PolicyARN"], policy["PolicyName"]):
            scaling.delete_scaling_policy(
                PolicyName=policy["PolicyName"],
                ServiceNamespace=namespace,
                ResourceId=policy["ResourceId"],
                ScalableDimension=policy["ScalableDimension"],
            )


def _remove_queue_policy(c: Any, r: Recorded) -> Any:
    queues = r.properties.get("Queues")
    for queue in queues if isinstance(queues, list) else []:
        c("sqs").set_queue_attributes(QueueUrl=str(queue), Attributes={"Policy": ""})


REMOVERS["AWS::IAM::Role"] = _delete_role
REMOVERS["AWS::ApplicationAutoScaling::ScalableTarget"] = _deregister_target
REMOVERS["AWS::ApplicationAutoScaling::ScalingPolicy"] = _delete_scaling_policy
REMOVERS["AWS::SQS::QueuePolicy"] = _remove_queue_policy


def remove_remaining(engine: Engine, recorded: list[Recorded], remaining: list[dict[str, str]]) -> list[str]:
    """Delete, through each service, what a failed stack deletion left; children before parents
    (reverse creation order, several passes for dependencies). Returns what could not be removed."""
    still = {(row["stack"], row["logical_id"]) for row in remaining}
    pending = [r for r in reversed(recorded) if (r.stack, r.logical_id) in still]
    errors: dict[tuple[str, str], str] = {}
    for _ in range(4):
        progress = False
        for item in list(pending):
            remover = REMOVERS.get(item.type)
            if remover is None:
                errors[(item.stack, item.logical_id)] = f"no way to delete {item.type} directly"
                continue
            try:
                remover(engine.client, item)
            except Gone:
                pass
            except ClientError as exc:
                if not _gone_error(exc):
                    error = exc.response.get("Error", {})
                    errors[(item.stack, item.logical_id)] = f"{error.get('Code')}: {error.get('Message', '')}"
                    continue
            except (BotoCoreError, ValueError, KeyError) as exc:
                errors[(item.stack, item.logical_id)] = f"{type(exc).__name__}: {exc}"
                continue
            pending.remove(item)
            errors.pop((item.stack, item.logical_id), None)
            progress = True
        if not pending or not progress:
            break
    return [
        f"{item.stack}/{item.logical_id} {item.type} {item.physical_id}: {errors.get((item.stack, item.logical_id), 'not removed')}"
        for item in pending
    ]
