"""Resource verification: every resource the six templates declare, asked back from its service.

A stack that reaches CREATE_COMPLETE on an emulator may have created nothing. For each declared
resource (whose Condition holds) we ask the resource's own service API that it exists with the
key properties the template set. A type with no verifier, or that the engine cannot show, is
reported as unverified with the reason; only the engine's capability list can exempt it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from concert_platform.engines.base import Engine
from concert_platform.manifest import Manifest
from concert_platform.resolve import UNRESOLVED, Resolver, contains_unresolved


@dataclass
class Resource:
    stack: str  # stack key
    logical_id: str
    type: str
    physical_id: str
    props: dict[str, Any]  # template properties, resolved where possible


@dataclass
class VerifyContext:
    engine: Engine
    region: str
    account: str
    resolver: Resolver
    resources: dict[str, Resource] = field(default_factory=dict)

    def client(self, service: str) -> Any:
        return self.engine.client(service)


Verifier = Callable[[VerifyContext, Resource], list[str]]
VERIFIERS: dict[str, Verifier] = {}


def verifies(*types: str) -> Callable[[Verifier], Verifier]:
    def register(func: Verifier) -> Verifier:
        for resource_type in types:
            VERIFIERS[resource_type] = func
        return func

    return register


def expect(problems: list[str], what: str, actual: Any, expected: Any) -> None:
    """Record a mismatch unless the expected value could not be resolved from the template."""
    if expected is None or contains_unresolved(expected):
        return
    if _normalise(actual) != _normalise(expected):
        problems.append(f"{what}: engine has {actual!r}, template sets {expected!r}")


def _normalise(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return str(int(value)) if float(value).is_integer() else str(value)
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    if isinstance(value, list):
        return sorted((_normalise(v) for v in value), key=str)
    if isinstance(value, dict):
        return {k: _normalise(v) for k, v in value.items()}
    return value


def _error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


# ---- networking -------------------------------------------------------------------------------
@verifies("AWS::EC2::VPC")
def _vpc(ctx: VerifyContext, r: Resource) -> list[str]:
    ec2 = ctx.client("ec2")
    vpc = ec2.describe_vpcs(VpcIds=[r.physical_id])["Vpcs"][0]
    problems: list[str] = []
    expect(problems, "CidrBlock", vpc["CidrBlock"], r.props.get("CidrBlock"))
    for prop, attribute, key in (
        ("EnableDnsSupport", "enableDnsSupport", "EnableDnsSupport"),
        ("EnableDnsHostnames", "enableDnsHostnames", "EnableDnsHostnames"),
    ):
        if prop in r.props:
            actual = ec2.describe_vpc_attribute(VpcId=r.physical_id, Attribute=attribute)[key]["Value"]
            expect(problems, prop, actual, r.props[prop])
    return problems


@verifies("AWS::EC2::Subnet")
def _subnet(ctx: VerifyContext, r: Resource) -> list[str]:
    subnet = ctx.client("ec2").describe_subnets(SubnetIds=[r.physical_id])["Subnets"][0]
    problems: list[str] = []
    expect(problems, "CidrBlock", subnet["CidrBlock"], r.props.get("CidrBlock"))
    expect(problems, "VpcId", subnet["VpcId"], r.props.get("VpcId"))
    expect(problems, "AvailabilityZone", subnet["AvailabilityZone"], r.props.get("AvailabilityZone"))
    expect(
        problems,
        "MapPublicIpOnLaunch",
        subnet.get("MapPublicIpOnLaunch", False),
        r.props.get("MapPublicIpOnLaunch"),
    )
    return problems


@verifies("AWS::EC2::InternetGateway")
def _igw(ctx: VerifyContext, r: Resource) -> list[str]:
    ctx.client("ec2").describe_internet_gateways(InternetGatewayIds=[r.physical_id])
    return []


@verifies("AWS::EC2::VPCGatewayAttachment")
def _igw_attachment(ctx: VerifyContext, r: Resource) -> list[str]:
    gateway_id, vpc_id = r.props.get("InternetGatewayId"), r.props.get("VpcId")
    if contains_unresolved([gateway_id, vpc_id]):
        return ["cannot resolve the gateway or VPC id from the template"]
    gateway = ctx.client("ec2").describe_internet_gateways(InternetGatewayIds=[gateway_id])[
        "InternetGateways"
    ][0]
    attached = {a["VpcId"] for a in gateway.get("Attachments", [])}
    return [] if vpc_id in attached else [f"{gateway_id} is not attached to {vpc_id}"]


@verifies("AWS::EC2::EIP")
def _eip(ctx: VerifyContext, r: Resource) -> list[str]:
    addresses = ctx.client("ec2").describe_addresses()["Addresses"]
    known = {a.get("PublicIp") for a in addresses} | {a.get("AllocationId") for a in addresses}
    return [] if r.physical_id in known else ["no such Elastic IP"]


@verifies("AWS::EC2::NatGateway")
def _nat(ctx: VerifyContext, r: Resource) -> list[str]:
    gateway = ctx.client("ec2").describe_nat_gateways(NatGatewayIds=[r.physical_id])["NatGateways"][0]
    problems: list[str] = []
    expect(problems, "SubnetId", gateway["SubnetId"], r.props.get("SubnetId"))
    if gateway.get("State") not in ("available", "pending"):
        problems.append(f"state {gateway.get('State')}")
    return problems


@verifies("AWS::EC2::RouteTable")
def _route_table(ctx: VerifyContext, r: Resource) -> list[str]:
    table = ctx.client("ec2").describe_route_tables(RouteTableIds=[r.physical_id])["RouteTables"][0]
    problems: list[str] = []
    expect(problems, "VpcId", table["VpcId"], r.props.get("VpcId"))
    return problems


@verifies("AWS::EC2::Route")
def _route(ctx: VerifyContext, r: Resource) -> list[str]:
    table_id = r.props.get("RouteTableId")
    if table_id is UNRESOLVED:
        return ["cannot resolve RouteTableId"]
    table = ctx.client("ec2").describe_route_tables(RouteTableIds=[table_id])["RouteTables"][0]
    for route in table.get("Routes", []):
        if route.get("DestinationCidrBlock") == r.props.get("DestinationCidrBlock"):
            target = r.props.get("NatGatewayId") or r.props.get("GatewayId")
            actual = route.get("NatGatewayId") or route.get("GatewayId")
            problems: list[str] = []
            expect(problems, "target", actual, target)
            return problems
    return [f"no route to {r.props.get('DestinationCidrBlock')} in {table_id}"]


@verifies("AWS::EC2::SubnetRouteTableAssociation")
def _association(ctx: VerifyContext, r: Resource) -> list[str]:
    table_id, subnet_id = r.props.get("RouteTableId"), r.props.get("SubnetId")
    table = ctx.client("ec2").describe_route_tables(RouteTableIds=[table_id])["RouteTables"][0]
    subnets = {a.get("SubnetId") for a in table.get("Associations", [])}
    return [] if subnet_id in subnets else [f"{subnet_id} is not associated with {table_id}"]


def _rule_matches(rule: Mapping[str, Any], wanted: Mapping[str, Any]) -> bool:
    if str(rule.get("IpProtocol")) != str(wanted.get("IpProtocol")):
        return False
    if "FromPort" in wanted and str(rule.get("FromPort")) != str(wanted.get("FromPort")):
        return False
    if "ToPort" in wanted and str(rule.get("ToPort")) != str(wanted.get("ToPort")):
        return False
    cidr = wanted.get("CidrIp")
    if cidr is not None and cidr is not UNRESOLVED:
        return cidr in {x["CidrIp"] for x in rule.get("IpRanges", [])}
    group = wanted.get("SourceSecurityGroupId") or wanted.get("DestinationSecurityGroupId")
    if group is not None and group is not UNRESOLVED:
        return group in {x["GroupId"] for x in rule.get("UserIdGroupPairs", [])}
    return True


def _check_rules(
    actual: list[Mapping[str, Any]], wanted: list[Mapping[str, Any]], direction: str
) -> list[str]:
    return [
        f"{direction} rule {dict(w)} missing"
        for w in wanted
        if not contains_unresolved(w) and not any(_rule_matches(a, w) for a in actual)
    ]


@verifies("AWS::EC2::SecurityGroup")
def _security_group(ctx: VerifyContext, r: Resource) -> list[str]:
    group = ctx.client("ec2").describe_security_groups(GroupIds=[r.physical_id])["SecurityGroups"][0]
    problems: list[str] = []
    expect(problems, "VpcId", group.get("VpcId"), r.props.get("VpcId"))
    problems += _check_rules(
        group.get("IpPermissions", []), r.props.get("SecurityGroupIngress", []), "ingress"
    )
    problems += _check_rules(
        group.get("IpPermissionsEgress", []), r.props.get("SecurityGroupEgress", []), "egress"
    )
    return problems


@verifies("AWS::EC2::SecurityGroupIngress", "AWS::EC2::SecurityGroupEgress")
def _security_group_rule(ctx: VerifyContext, r: Resource) -> list[str]:
    group_id = r.props.get("GroupId")
    if group_id is UNRESOLVED:
        return ["cannot resolve GroupId"]
    group = ctx.client("ec2").describe_security_groups(GroupIds=[group_id])["SecurityGroups"][0]
    ingress = r.type.endswith("Ingress")
    actual = group.get("IpPermissions" if ingress else "IpPermissionsEgress", [])
    return _check_rules(actual, [r.props], "ingress" if ingress else "egress")


@verifies("AWS::EC2::VPCEndpoint")
def _vpc_endpoint(ctx: VerifyContext, r: Resource) -> list[str]:
    endpoint = ctx.client("ec2").describe_vpc_endpoints(VpcEndpointIds=[r.physical_id])["VpcEndpoints"][0]
    problems: list[str] = []
    expect(problems, "ServiceName", endpoint["ServiceName"], r.props.get("ServiceName"))
    expect(problems, "VpcId", endpoint["VpcId"], r.props.get("VpcId"))
    if r.props.get("RouteTableIds"):
        expect(problems, "RouteTableIds", endpoint.get("RouteTableIds", []), r.props.get("RouteTableIds"))
    return problems


@verifies("AWS::EC2::FlowLog")
def _flow_log(ctx: VerifyContext, r: Resource) -> list[str]:
    logs = ctx.client("ec2").describe_flow_logs(FlowLogIds=[r.physical_id])["FlowLogs"]
    if not logs:
        return ["no such flow log"]
    problems: list[str] = []
    expect(problems, "ResourceId", logs[0].get("ResourceId"), r.props.get("ResourceId"))
    expect(problems, "TrafficType", logs[0].get("TrafficType"), r.props.get("TrafficType"))
    return problems


# ---- storage ----------------------------------------------------------------------------------
@verifies("AWS::KMS::Key")
def _kms_key(ctx: VerifyContext, r: Resource) -> list[str]:
    kms = ctx.client("kms")
    metadata = kms.describe_key(KeyId=r.physical_id)["KeyMetadata"]
    problems: list[str] = []
    if metadata.get("KeyState") != "Enabled":
        problems.append(f"key state {metadata.get('KeyState')}")
    if r.props.get("EnableKeyRotation") is not None:
        expect(
            problems,
            "EnableKeyRotation",
            kms.get_key_rotation_status(KeyId=r.physical_id)["KeyRotationEnabled"],
            r.props["EnableKeyRotation"],
        )
    return problems


@verifies("AWS::KMS::Alias")
def _kms_alias(ctx: VerifyContext, r: Resource) -> list[str]:
    aliases = {a["AliasName"]: a for a in ctx.client("kms").list_aliases()["Aliases"]}
    name = r.props.get("AliasName", r.physical_id)
    return [] if name in aliases else [f"alias {name} not found"]


@verifies("AWS::S3::Bucket")
def _bucket(ctx: VerifyContext, r: Resource) -> list[str]:
    s3 = ctx.client("s3")
    s3.head_bucket(Bucket=r.physical_id)
    problems: list[str] = []
    wanted_sse = r.props.get("BucketEncryption", {}).get("ServerSideEncryptionConfiguration", [])
    if wanted_sse:
        try:
            rules = s3.get_bucket_encryption(Bucket=r.physical_id)["ServerSideEncryptionConfiguration"][
                "Rules"
            ]
            actual = rules[0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"]
        except ClientError:
            actual = None
        expect(
            problems,
            "SSEAlgorithm",
            actual,
            wanted_sse[0].get("ServerSideEncryptionByDefault", {}).get("SSEAlgorithm"),
        )
    wanted_block = r.props.get("PublicAccessBlockConfiguration")
    if wanted_block:
        try:
            actual_block = s3.get_public_access_block(Bucket=r.physical_id)["PublicAccessBlockConfiguration"]
        except ClientError:
            actual_block = {}
        for key, value in wanted_block.items():
            expect(problems, f"PublicAccessBlock.{key}", actual_block.get(key), value)
    wanted_versioning = r.props.get("VersioningConfiguration", {}).get("Status")
    if wanted_versioning:
        expect(
            problems,
            "Versioning",
            s3.get_bucket_versioning(Bucket=r.physical_id).get("Status"),
            wanted_versioning,
        )
    wanted_rules = r.props.get("LifecycleConfiguration", {}).get("Rules")
    if wanted_rules:
        try:
            actual_rules = s3.get_bucket_lifecycle_configuration(Bucket=r.physical_id)["Rules"]
        except ClientError:
            actual_rules = []
        expect(problems, "lifecycle rule count", len(actual_rules), len(wanted_rules))
    wanted_logging = r.props.get("LoggingConfiguration", {}).get("DestinationBucketName")
    if wanted_logging:
        actual_logging = (
            s3.get_bucket_logging(Bucket=r.physical_id).get("LoggingEnabled", {}).get("TargetBucket")
        )
        expect(problems, "access logging target", actual_logging, wanted_logging)
    return problems


@verifies("AWS::S3::BucketPolicy")
def _bucket_policy(ctx: VerifyContext, r: Resource) -> list[str]:
    bucket = r.props.get("Bucket")
    if bucket is UNRESOLVED:
        return ["cannot resolve Bucket"]
    policy = json.loads(ctx.client("s3").get_bucket_policy(Bucket=bucket)["Policy"])
    wanted = r.props.get("PolicyDocument", {}).get("Statement", [])
    problems: list[str] = []
    expect(problems, "statement count", len(policy.get("Statement", [])), len(wanted))
    if "aws:SecureTransport" in json.dumps(wanted) and "aws:SecureTransport" not in json.dumps(policy):
        problems.append("the TLS-only (aws:SecureTransport) statement is missing")
    return problems


@verifies("AWS::Kinesis::Stream")
def _stream(ctx: VerifyContext, r: Resource) -> list[str]:
    summary = ctx.client("kinesis").describe_stream_summary(StreamName=r.physical_id)[
        "StreamDescriptionSummary"
    ]
    problems: list[str] = []
    expect(problems, "ShardCount", summary.get("OpenShardCount"), r.props.get("ShardCount"))
    expect(
        problems,
        "RetentionPeriodHours",
        summary.get("RetentionPeriodHours"),
        r.props.get("RetentionPeriodHours"),
    )
    wanted = r.props.get("StreamEncryption", {})
    if wanted:
        expect(problems, "EncryptionType", summary.get("EncryptionType"), wanted.get("EncryptionType"))
    return problems


@verifies("AWS::Glue::Database")
def _glue_database(ctx: VerifyContext, r: Resource) -> list[str]:
    database = ctx.client("glue").get_database(Name=r.physical_id)["Database"]
    problems: list[str] = []
    expect(problems, "Name", database["Name"], r.props.get("DatabaseInput", {}).get("Name"))
    return problems


@verifies("AWS::IAM::Role")
def _role(ctx: VerifyContext, r: Resource) -> list[str]:
    iam = ctx.client("iam")
    role = iam.get_role(RoleName=r.physical_id)["Role"]
    problems: list[str] = []
    wanted_services = _principals(r.props.get("AssumeRolePolicyDocument", {}))
    actual_doc = role.get("AssumeRolePolicyDocument", {})
    if isinstance(actual_doc, str):
        actual_doc = json.loads(actual_doc)
    expect(problems, "trusted services", sorted(_principals(actual_doc)), sorted(wanted_services))
    inline = set(iam.list_role_policies(RoleName=r.physical_id)["PolicyNames"])
    for policy in r.props.get("Policies", []):
        if policy.get("PolicyName") not in inline:
            problems.append(f"inline policy {policy.get('PolicyName')} missing")
    attached = {
        p["PolicyArn"] for p in iam.list_attached_role_policies(RoleName=r.physical_id)["AttachedPolicies"]
    }
    for arn in r.props.get("ManagedPolicyArns", []):
        if arn is not UNRESOLVED and arn not in attached:
            problems.append(f"managed policy {arn} not attached")
    return problems


def _principals(document: Mapping[str, Any]) -> set[str]:
    services: set[str] = set()
    for statement in document.get("Statement", []):
        service = statement.get("Principal", {}).get("Service", [])
        services.update([service] if isinstance(service, str) else service)
    return services


@verifies("AWS::IAM::ManagedPolicy")
def _managed_policy(ctx: VerifyContext, r: Resource) -> list[str]:
    ctx.client("iam").get_policy(PolicyArn=r.physical_id)
    return []


@verifies("AWS::SecretsManager::Secret")
def _secret(ctx: VerifyContext, r: Resource) -> list[str]:
    sm = ctx.client("secretsmanager")
    described = sm.describe_secret(SecretId=r.physical_id)
    problems: list[str] = []
    expect(problems, "KmsKeyId", described.get("KmsKeyId"), r.props.get("KmsKeyId"))
    value = sm.get_secret_value(SecretId=r.physical_id).get("SecretString", "")
    try:
        keys = set(json.loads(value))
    except ValueError:
        keys = set()
    if r.props.get("SecretString") is not None and not {"username", "password"} <= keys:
        problems.append("the secret holds no username/password pair")
    return problems


@verifies("AWS::RedshiftServerless::Namespace")
def _namespace(ctx: VerifyContext, r: Resource) -> list[str]:
    name = r.props.get("NamespaceName", r.physical_id)
    namespace = ctx.client("redshift-serverless").get_namespace(namespaceName=name)["namespace"]
    problems: list[str] = []
    expect(problems, "dbName", namespace.get("dbName"), r.props.get("DbName"))
    expect(problems, "adminUsername", namespace.get("adminUsername"), r.props.get("AdminUsername"))
    expect(problems, "kmsKeyId", namespace.get("kmsKeyId"), r.props.get("KmsKeyId"))
    if "adminUserPassword" in namespace:
        problems.append("the namespace returns its admin password")
    return problems


@verifies("AWS::RedshiftServerless::Workgroup")
def _workgroup(ctx: VerifyContext, r: Resource) -> list[str]:
    name = r.props.get("WorkgroupName", r.physical_id)
    workgroup = ctx.client("redshift-serverless").get_workgroup(workgroupName=name)["workgroup"]
    problems: list[str] = []
    expect(problems, "namespaceName", workgroup.get("namespaceName"), r.props.get("NamespaceName"))
    expect(
        problems,
        "publiclyAccessible",
        workgroup.get("publiclyAccessible", False),
        r.props.get("PubliclyAccessible", False),
    )
    expect(problems, "subnetIds", workgroup.get("subnetIds"), r.props.get("SubnetIds"))
    expect(problems, "securityGroupIds", workgroup.get("securityGroupIds"), r.props.get("SecurityGroupIds"))
    expect(problems, "baseCapacity", workgroup.get("baseCapacity"), r.props.get("BaseCapacity"))
    return problems


# ---- compute ----------------------------------------------------------------------------------
@verifies("AWS::Lambda::Function")
def _function(ctx: VerifyContext, r: Resource) -> list[str]:
    config = ctx.client("lambda").get_function_configuration(FunctionName=r.physical_id)
    problems: list[str] = []
    for prop, key in (
        ("Runtime", "Runtime"),
        ("Handler", "Handler"),
        ("Role", "Role"),
        ("Timeout", "Timeout"),
        ("MemorySize", "MemorySize"),
    ):
        expect(problems, prop, config.get(key), r.props.get(prop))
    wanted_env = r.props.get("Environment", {}).get("Variables", {})
    actual_env = config.get("Environment", {}).get("Variables", {})
    for name, value in wanted_env.items():
        if name not in actual_env:
            problems.append(f"environment variable {name} missing")
        else:
            expect(problems, f"environment variable {name}", actual_env[name], value)
    expect(
        problems,
        "TracingConfig.Mode",
        config.get("TracingConfig", {}).get("Mode"),
        r.props.get("TracingConfig", {}).get("Mode"),
    )
    vpc = r.props.get("VpcConfig")
    if vpc:
        actual_vpc = config.get("VpcConfig", {})
        expect(problems, "VpcConfig.SubnetIds", actual_vpc.get("SubnetIds"), vpc.get("SubnetIds"))
        expect(
            problems,
            "VpcConfig.SecurityGroupIds",
            actual_vpc.get("SecurityGroupIds"),
            vpc.get("SecurityGroupIds"),
        )
    if r.props.get("Layers"):
        expect(
            problems, "Layers", [layer["Arn"] for layer in config.get("Layers", [])], r.props.get("Layers")
        )
    expect(problems, "KMSKeyArn", config.get("KMSKeyArn"), r.props.get("KmsKeyArn"))
    return problems


@verifies("AWS::Lambda::LayerVersion")
def _layer(ctx: VerifyContext, r: Resource) -> list[str]:
    name, version = r.physical_id.split(":")[-2:]
    layer = ctx.client("lambda").get_layer_version(LayerName=name, VersionNumber=int(version))
    problems: list[str] = []
    if r.props.get("CompatibleRuntimes"):
        expect(
            problems, "CompatibleRuntimes", layer.get("CompatibleRuntimes"), r.props.get("CompatibleRuntimes")
        )
    return problems


@verifies("AWS::Lambda::Permission")
def _permission(ctx: VerifyContext, r: Resource) -> list[str]:
    function = r.props.get("FunctionName")
    if function is UNRESOLVED:
        return ["cannot resolve FunctionName"]
    try:
        policy = json.loads(ctx.client("lambda").get_policy(FunctionName=function)["Policy"])
    except ClientError as exc:
        return [f"function {function} has no resource policy ({_error_code(exc)})"]
    principal = r.props.get("Principal")
    for statement in policy.get("Statement", []):
        actual_principal = statement.get("Principal", {})
        service = actual_principal.get("Service") if isinstance(actual_principal, dict) else actual_principal
        if service == principal:
            source = r.props.get("SourceArn")
            actual_source = statement.get("Condition", {}).get("ArnLike", {}).get("AWS:SourceArn")
            if source is None or source is UNRESOLVED or actual_source == source:
                return []
    return [f"no statement lets {principal} invoke {function} from {r.props.get('SourceArn')}"]


@verifies("AWS::DynamoDB::Table")
def _table(ctx: VerifyContext, r: Resource) -> list[str]:
    dynamodb = ctx.client("dynamodb")
    table = dynamodb.describe_table(TableName=r.physical_id)["Table"]
    problems: list[str] = []
    expect(problems, "KeySchema", table["KeySchema"], r.props.get("KeySchema"))
    billing = table.get("BillingModeSummary", {}).get("BillingMode", "PROVISIONED")
    expect(problems, "BillingMode", billing, r.props.get("BillingMode", "PROVISIONED"))
    if r.props.get("SSESpecification", {}).get("SSEEnabled") in (True, "true", "True"):
        sse = table.get("SSEDescription", {})
        if sse.get("Status") not in ("ENABLED", "ENABLING"):
            problems.append("server-side encryption is not enabled")
        expect(problems, "SSEType", sse.get("SSEType"), r.props["SSESpecification"].get("SSEType"))
    ttl = r.props.get("TimeToLiveSpecification")
    if ttl:
        actual = dynamodb.describe_time_to_live(TableName=r.physical_id)["TimeToLiveDescription"]
        expect(problems, "TTL attribute", actual.get("AttributeName"), ttl.get("AttributeName"))
    pitr = r.props.get("PointInTimeRecoverySpecification", {}).get("PointInTimeRecoveryEnabled")
    if pitr is not None:
        backups = dynamodb.describe_continuous_backups(TableName=r.physical_id)[
            "ContinuousBackupsDescription"
        ]
        status = backups.get("PointInTimeRecoveryDescription", {}).get("PointInTimeRecoveryStatus")
        expect(problems, "PointInTimeRecovery", status == "ENABLED", pitr)
    return problems


@verifies("AWS::ApplicationAutoScaling::ScalableTarget")
def _scalable_target(ctx: VerifyContext, r: Resource) -> list[str]:
    targets = ctx.client("application-autoscaling").describe_scalable_targets(
        ServiceNamespace=r.props.get("ServiceNamespace", "dynamodb"), ResourceIds=[r.props.get("ResourceId")]
    )["ScalableTargets"]
    return [] if targets else [f"no scalable target for {r.props.get('ResourceId')}"]


@verifies("AWS::ApplicationAutoScaling::ScalingPolicy")
def _scaling_policy(ctx: VerifyContext, r: Resource) -> list[str]:
    policies = ctx.client("application-autoscaling").describe_scaling_policies(
        ServiceNamespace=r.props.get("ServiceNamespace", "dynamodb")
    )["ScalingPolicies"]
    return (
        []
        if any(p["PolicyName"] == r.props.get("PolicyName") for p in policies)
        else ["no such scaling policy"]
    )


# ---- API Gateway ------------------------------------------------------------------------------
@verifies("AWS::ApiGateway::RestApi")
def _rest_api(ctx: VerifyContext, r: Resource) -> list[str]:
    api = ctx.client("apigateway").get_rest_api(restApiId=r.physical_id)
    problems: list[str] = []
    expect(problems, "Name", api.get("name"), r.props.get("Name"))
    return problems


@verifies("AWS::ApiGateway::Resource")
def _api_resource(ctx: VerifyContext, r: Resource) -> list[str]:
    resource = ctx.client("apigateway").get_resource(
        restApiId=r.props.get("RestApiId"), resourceId=r.physical_id
    )
    problems: list[str] = []
    expect(problems, "PathPart", resource.get("pathPart"), r.props.get("PathPart"))
    return problems


@verifies("AWS::ApiGateway::Method")
def _api_method(ctx: VerifyContext, r: Resource) -> list[str]:
    method = ctx.client("apigateway").get_method(
        restApiId=r.props.get("RestApiId"),
        resourceId=r.props.get("ResourceId"),
        httpMethod=r.props.get("HttpMethod"),
    )
    problems: list[str] = []
    expect(
        problems, "ApiKeyRequired", method.get("apiKeyRequired", False), r.props.get("ApiKeyRequired", False)
    )
    expect(problems, "AuthorizationType", method.get("authorizationType"), r.props.get("AuthorizationType"))
    integration = r.props.get("Integration", {})
    actual = method.get("methodIntegration", {})
    expect(problems, "Integration.Type", actual.get("type"), integration.get("Type"))
    expect(problems, "Integration.Uri", actual.get("uri"), integration.get("Uri"))
    expect(
        problems, "RequestValidatorId", method.get("requestValidatorId"), r.props.get("RequestValidatorId")
    )
    expect(problems, "RequestModels", method.get("requestModels"), r.props.get("RequestModels"))
    return problems


@verifies("AWS::ApiGateway::Deployment")
def _api_deployment(ctx: VerifyContext, r: Resource) -> list[str]:
    ctx.client("apigateway").get_deployment(restApiId=r.props.get("RestApiId"), deploymentId=r.physical_id)
    return []


@verifies("AWS::ApiGateway::Stage")
def _api_stage(ctx: VerifyContext, r: Resource) -> list[str]:
    stage = ctx.client("apigateway").get_stage(
        restApiId=r.props.get("RestApiId"), stageName=r.props.get("StageName", r.physical_id)
    )
    problems: list[str] = []
    expect(problems, "DeploymentId", stage.get("deploymentId"), r.props.get("DeploymentId"))
    expect(
        problems, "TracingEnabled", stage.get("tracingEnabled", False), r.props.get("TracingEnabled", False)
    )
    wanted_logs = r.props.get("AccessLogSetting", {})
    if wanted_logs:
        actual_logs = stage.get("accessLogSettings", {})
        # A log group's GetAtt Arn ends in ":*"; API Gateway stores the group ARN either way.
        wanted_arn = wanted_logs.get("DestinationArn")
        expect(
            problems,
            "AccessLogSetting.DestinationArn",
            str(actual_logs.get("destinationArn", "")).removesuffix(":*"),
            wanted_arn.removesuffix(":*") if isinstance(wanted_arn, str) else wanted_arn,
        )
        if not actual_logs.get("format"):
            problems.append("access log format not set")
    return problems


@verifies("AWS::ApiGateway::Account")
def _api_account(ctx: VerifyContext, r: Resource) -> list[str]:
    account = ctx.client("apigateway").get_account()
    problems: list[str] = []
    expect(problems, "CloudWatchRoleArn", account.get("cloudwatchRoleArn"), r.props.get("CloudWatchRoleArn"))
    return problems


@verifies("AWS::ApiGateway::ApiKey")
def _api_key(ctx: VerifyContext, r: Resource) -> list[str]:
    key = ctx.client("apigateway").get_api_key(apiKey=r.physical_id)
    problems: list[str] = []
    expect(problems, "Enabled", key.get("enabled", False), r.props.get("Enabled", False))
    return problems


@verifies("AWS::ApiGateway::UsagePlan")
def _usage_plan(ctx: VerifyContext, r: Resource) -> list[str]:
    plan = ctx.client("apigateway").get_usage_plan(usagePlanId=r.physical_id)
    problems: list[str] = []
    wanted = r.props.get("Throttle", {})
    for key, api_key in (("RateLimit", "rateLimit"), ("BurstLimit", "burstLimit")):
        expect(problems, f"Throttle.{key}", plan.get("throttle", {}).get(api_key), wanted.get(key))
    wanted_stages = [(s.get("ApiId"), s.get("Stage")) for s in r.props.get("ApiStages", [])]
    actual_stages = [(s.get("apiId"), s.get("stage")) for s in plan.get("apiStages", [])]
    expect(problems, "ApiStages", actual_stages, wanted_stages)
    return problems


@verifies("AWS::ApiGateway::UsagePlanKey")
def _usage_plan_key(ctx: VerifyContext, r: Resource) -> list[str]:
    ctx.client("apigateway").get_usage_plan_key(
        usagePlanId=r.props.get("UsagePlanId"), keyId=r.props.get("KeyId")
    )
    return []


@verifies("AWS::ApiGateway::RequestValidator")
def _request_validator(ctx: VerifyContext, r: Resource) -> list[str]:
    validator = ctx.client("apigateway").get_request_validator(
        restApiId=r.props.get("RestApiId"), requestValidatorId=r.physical_id
    )
    problems: list[str] = []
    expect(
        problems,
        "ValidateRequestBody",
        validator.get("validateRequestBody", False),
        r.props.get("ValidateRequestBody", False),
    )
    return problems


@verifies("AWS::ApiGateway::Model")
def _api_model(ctx: VerifyContext, r: Resource) -> list[str]:
    model = ctx.client("apigateway").get_model(restApiId=r.props.get("RestApiId"), modelName=r.physical_id)
    problems: list[str] = []
    expect(problems, "ContentType", model.get("contentType"), r.props.get("ContentType"))
    wanted = r.props.get("Schema")
    if isinstance(wanted, dict) and not contains_unresolved(wanted):
        actual = model.get("schema")
        if (json.loads(actual) if isinstance(actual, str) else actual) != wanted:
            problems.append("Schema: the engine's schema differs from the template's")
    return problems


@verifies("AWS::ApiGateway::GatewayResponse")
def _gateway_response(ctx: VerifyContext, r: Resource) -> list[str]:
    response = ctx.client("apigateway").get_gateway_response(
        restApiId=r.props.get("RestApiId"), responseType=r.props.get("ResponseType")
    )
    problems: list[str] = []
    expect(problems, "StatusCode", response.get("statusCode"), r.props.get("StatusCode"))
    expect(problems, "ResponseTemplates", response.get("responseTemplates"), r.props.get("ResponseTemplates"))
    return problems


# ---- events, messaging ------------------------------------------------------------------------
@verifies("AWS::Events::Rule")
def _rule(ctx: VerifyContext, r: Resource) -> list[str]:
    events = ctx.client("events")
    name = r.physical_id.split("|")[-1]
    rule = events.describe_rule(Name=name)
    problems: list[str] = []
    expect(problems, "ScheduleExpression", rule.get("ScheduleExpression"), r.props.get("ScheduleExpression"))
    expect(problems, "State", rule.get("State"), r.props.get("State"))
    actual_targets = {t["Arn"] for t in events.list_targets_by_rule(Rule=name)["Targets"]}
    for target in r.props.get("Targets", []):
        if target.get("Arn") is not UNRESOLVED and target.get("Arn") not in actual_targets:
            problems.append(f"target {target.get('Arn')} missing")
    return problems


@verifies("AWS::SNS::Topic")
def _topic(ctx: VerifyContext, r: Resource) -> list[str]:
    attributes = ctx.client("sns").get_topic_attributes(TopicArn=r.physical_id)["Attributes"]
    problems: list[str] = []
    expect(problems, "KmsMasterKeyId", attributes.get("KmsMasterKeyId"), r.props.get("KmsMasterKeyId"))
    return problems


@verifies("AWS::SNS::TopicPolicy")
def _topic_policy(ctx: VerifyContext, r: Resource) -> list[str]:
    problems: list[str] = []
    for topic in r.props.get("Topics", []):
        if topic is UNRESOLVED:
            continue
        policy = json.loads(
            ctx.client("sns").get_topic_attributes(TopicArn=topic)["Attributes"].get("Policy", "{}")
        )
        wanted = r.props.get("PolicyDocument", {}).get("Statement", [])
        expect(problems, f"{topic} statement count", len(policy.get("Statement", [])), len(wanted))
    return problems


@verifies("AWS::SNS::Subscription")
def _subscription(ctx: VerifyContext, r: Resource) -> list[str]:
    topic = r.props.get("TopicArn")
    subscriptions = ctx.client("sns").list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    wanted = (r.props.get("Protocol"), r.props.get("Endpoint"))
    return (
        []
        if any((s["Protocol"], s["Endpoint"]) == wanted for s in subscriptions)
        else [f"no {wanted[0]} subscription for {wanted[1]}"]
    )


@verifies("AWS::SQS::Queue")
def _queue(ctx: VerifyContext, r: Resource) -> list[str]:
    attributes = ctx.client("sqs").get_queue_attributes(QueueUrl=r.physical_id, AttributeNames=["All"])[
        "Attributes"
    ]
    problems: list[str] = []
    expect(problems, "KmsMasterKeyId", attributes.get("KmsMasterKeyId"), r.props.get("KmsMasterKeyId"))
    expect(
        problems,
        "MessageRetentionPeriod",
        attributes.get("MessageRetentionPeriod"),
        r.props.get("MessageRetentionPeriod"),
    )
    return problems


@verifies("AWS::SQS::QueuePolicy")
def _queue_policy(ctx: VerifyContext, r: Resource) -> list[str]:
    problems: list[str] = []
    for queue in r.props.get("Queues", []):
        if queue is UNRESOLVED:
            continue
        text = (
            ctx.client("sqs")
            .get_queue_attributes(QueueUrl=queue, AttributeNames=["Policy"])["Attributes"]
            .get("Policy", "{}")
        )
        wanted = r.props.get("PolicyDocument", {}).get("Statement", [])
        expect(
            problems,
            f"{queue} statement count",
            len(json.loads(text or "{}").get("Statement", [])),
            len(wanted),
        )
    return problems


# ---- monitoring -------------------------------------------------------------------------------
@verifies("AWS::CloudWatch::Alarm")
def _alarm(ctx: VerifyContext, r: Resource) -> list[str]:
    alarms = ctx.client("cloudwatch").describe_alarms(AlarmNames=[r.physical_id])["MetricAlarms"]
    if not alarms:
        return ["no such alarm"]
    alarm = alarms[0]
    problems: list[str] = []
    for prop, key in (
        ("MetricName", "MetricName"),
        ("Namespace", "Namespace"),
        ("Threshold", "Threshold"),
        ("ComparisonOperator", "ComparisonOperator"),
        ("EvaluationPeriods", "EvaluationPeriods"),
        ("TreatMissingData", "TreatMissingData"),
    ):
        expect(problems, prop, alarm.get(key), r.props.get(prop))
    expect(problems, "AlarmActions", alarm.get("AlarmActions", []), r.props.get("AlarmActions"))
    if r.props.get("Metrics"):
        expect(problems, "metric math queries", len(alarm.get("Metrics", [])), len(r.props["Metrics"]))
    return problems


@verifies("AWS::CloudWatch::Dashboard")
def _dashboard(ctx: VerifyContext, r: Resource) -> list[str]:
    body = json.loads(ctx.client("cloudwatch").get_dashboard(DashboardName=r.physical_id)["DashboardBody"])
    return [] if body.get("widgets") else ["the dashboard has no widgets"]


@verifies("AWS::Logs::LogGroup")
def _log_group(ctx: VerifyContext, r: Resource) -> list[str]:
    groups = ctx.client("logs").describe_log_groups(logGroupNamePrefix=r.physical_id)["logGroups"]
    group = next((g for g in groups if g["logGroupName"] == r.physical_id), None)
    if group is None:
        return ["no such log group"]
    problems: list[str] = []
    expect(problems, "RetentionInDays", group.get("retentionInDays"), r.props.get("RetentionInDays"))
    expect(problems, "KmsKeyId", group.get("kmsKeyId"), r.props.get("KmsKeyId"))
    return problems


@verifies("AWS::Logs::MetricFilter")
def _metric_filter(ctx: VerifyContext, r: Resource) -> list[str]:
    group = r.props.get("LogGroupName")
    filters = ctx.client("logs").describe_metric_filters(logGroupName=group)["metricFilters"]
    wanted_pattern = r.props.get("FilterPattern")
    wanted_metric = r.props.get("MetricTransformations", [{}])[0].get("MetricName")
    for item in filters:
        if item.get("filterPattern") == wanted_pattern and any(
            t.get("metricName") == wanted_metric for t in item.get("metricTransformations", [])
        ):
            return []
    return [f"no filter {wanted_pattern!r} -> {wanted_metric} on {group}"]


@verifies("AWS::Logs::SubscriptionFilter")
def _subscription_filter(ctx: VerifyContext, r: Resource) -> list[str]:
    group = r.props.get("LogGroupName")
    filters = ctx.client("logs").describe_subscription_filters(logGroupName=group)["subscriptionFilters"]
    for item in filters:
        if item.get("filterPattern") == r.props.get("FilterPattern") and (
            r.props.get("DestinationArn") is UNRESOLVED
            or item.get("destinationArn") == r.props.get("DestinationArn")
        ):
            return []
    return [f"no subscription {r.props.get('FilterPattern')!r} -> {r.props.get('DestinationArn')} on {group}"]


@verifies("AWS::Logs::QueryDefinition")
def _query_definition(ctx: VerifyContext, r: Resource) -> list[str]:
    definitions = ctx.client("logs").describe_query_definitions(
        queryDefinitionNamePrefix=r.props.get("Name", "")
    )["queryDefinitions"]
    for item in definitions:
        if item.get("name") == r.props.get("Name"):
            problems: list[str] = []
            expect(problems, "QueryString", item.get("queryString"), r.props.get("QueryString"))
            expect(problems, "LogGroupNames", item.get("logGroupNames", []), r.props.get("LogGroupNames", []))
            return problems
    return [f"no query definition named {r.props.get('Name')}"]


@verifies("AWS::XRay::Group")
def _xray_group(ctx: VerifyContext, r: Resource) -> list[str]:
    group = ctx.client("xray").get_group(GroupName=r.props.get("GroupName"))["Group"]
    problems: list[str] = []
    expect(problems, "FilterExpression", group.get("FilterExpression"), r.props.get("FilterExpression"))
    return problems


@verifies("AWS::XRay::SamplingRule")
def _sampling_rule(ctx: VerifyContext, r: Resource) -> list[str]:
    wanted = r.props.get("SamplingRule", {})
    rules = ctx.client("xray").get_sampling_rules()["SamplingRuleRecords"]
    for record in rules:
        rule = record["SamplingRule"]
        if rule.get("RuleName") == wanted.get("RuleName"):
            problems: list[str] = []
            expect(problems, "FixedRate", rule.get("FixedRate"), wanted.get("FixedRate"))
            expect(problems, "ReservoirSize", rule.get("ReservoirSize"), wanted.get("ReservoirSize"))
            return problems
    return [f"no sampling rule {wanted.get('RuleName')}"]


@verifies("AWS::CloudTrail::Trail")
def _trail(ctx: VerifyContext, r: Resource) -> list[str]:
    trails = ctx.client("cloudtrail").describe_trails(trailNameList=[r.physical_id])["trailList"]
    if not trails:
        return ["no such trail"]
    trail = trails[0]
    problems: list[str] = []
    expect(problems, "S3BucketName", trail.get("S3BucketName"), r.props.get("S3BucketName"))
    expect(
        problems,
        "IsMultiRegionTrail",
        trail.get("IsMultiRegionTrail", False),
        r.props.get("IsMultiRegionTrail"),
    )
    expect(
        problems,
        "LogFileValidationEnabled",
        trail.get("LogFileValidationEnabled", False),
        r.props.get("EnableLogFileValidation"),
    )
    expect(problems, "KmsKeyId", trail.get("KmsKeyId"), r.props.get("KMSKeyId"))
    status = ctx.client("cloudtrail").get_trail_status(Name=r.physical_id)
    expect(problems, "IsLogging", status.get("IsLogging", False), r.props.get("IsLogging"))
    return problems


# ---- GetAtt through the services ----------------------------------------------------------------
def _arn(ctx: VerifyContext, service: str, resource: str) -> str:
    return f"arn:aws:{service}:{ctx.region}:{ctx.account}:{resource}"


_ATTRIBUTES: dict[tuple[str, str], Callable[[VerifyContext, str], Any]] = {
    ("AWS::IAM::Role", "Arn"): lambda c, p: c.client("iam").get_role(RoleName=p)["Role"]["Arn"],
    ("AWS::Lambda::Function", "Arn"): lambda c, p: c.client("lambda").get_function_configuration(
        FunctionName=p
    )["FunctionArn"],
    ("AWS::SQS::Queue", "Arn"): lambda c, p: c.client("sqs").get_queue_attributes(
        QueueUrl=p, AttributeNames=["QueueArn"]
    )["Attributes"]["QueueArn"],
    ("AWS::KMS::Key", "Arn"): lambda c, p: c.client("kms").describe_key(KeyId=p)["KeyMetadata"]["Arn"],
    ("AWS::DynamoDB::Table", "Arn"): lambda c, p: c.client("dynamodb").describe_table(TableName=p)["Table"][
        "TableArn"
    ],
    ("AWS::Kinesis::Stream", "Arn"): lambda c, p: c.client("kinesis").describe_stream_summary(StreamName=p)[
        "StreamDescriptionSummary"
    ]["StreamARN"],
    ("AWS::Logs::LogGroup", "Arn"): lambda c, p: _arn(c, "logs", f"log-group:{p}:*"),
    ("AWS::S3::Bucket", "Arn"): lambda _c, p: f"arn:aws:s3:::{p}",
    ("AWS::SNS::Topic", "TopicArn"): lambda _c, p: p,
    ("AWS::SNS::Topic", "TopicName"): lambda _c, p: p.rsplit(":", 1)[-1],
    ("AWS::ApiGateway::RestApi", "RootResourceId"): lambda c, p: c.client("apigateway").get_rest_api(
        restApiId=p
    )["rootResourceId"],
    ("AWS::Events::Rule", "Arn"): lambda c, p: c.client("events").describe_rule(Name=p.split("|")[-1])["Arn"],
    ("AWS::EC2::SecurityGroup", "GroupId"): lambda _c, p: p,
    ("AWS::EC2::VPC", "CidrBlock"): lambda c, p: c.client("ec2").describe_vpcs(VpcIds=[p])["Vpcs"][0][
        "CidrBlock"
    ],
    ("AWS::EC2::EIP", "AllocationId"): lambda c, p: next(
        (
            a["AllocationId"]
            for a in c.client("ec2").describe_addresses()["Addresses"]
            if p in (a.get("PublicIp"), a.get("AllocationId"))
        ),
        UNRESOLVED,
    ),
    ("AWS::XRay::Group", "GroupARN"): lambda _c, p: p,
    ("AWS::SecretsManager::Secret", "Id"): lambda _c, p: p,
}


def _attribute_getter(
    ctx: VerifyContext, template: Mapping[str, Any], physical_ids: Mapping[str, str]
) -> Callable[[str, str], Any]:
    cache: dict[tuple[str, str], Any] = {}

    def get_att(logical: str, attribute: str) -> Any:
        key = (logical, attribute)
        if key not in cache:
            resource_type = template.get("Resources", {}).get(logical, {}).get("Type", "")
            getter = _ATTRIBUTES.get((resource_type, attribute))
            physical = physical_ids.get(logical)
            try:
                cache[key] = getter(ctx, physical) if getter and physical else UNRESOLVED
            except (ClientError, KeyError, IndexError):
                cache[key] = UNRESOLVED
        return cache[key]

    return get_att


# ---- the run ----------------------------------------------------------------------------------
@dataclass
class StackState:
    key: str
    name: str
    template: dict[str, Any]
    parameters: dict[str, str]
    outputs: dict[str, str]
    physical_ids: dict[str, str]
    stack_id: str


def _stack_state(engine: Engine, manifest: Manifest, key: str, environment: str) -> StackState | None:
    cfn = engine.client("cloudformation")
    name = manifest.stack_name(key, environment)
    try:
        stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
    except ClientError:
        return None
    physical: dict[str, str] = {}
    for page in cfn.get_paginator("list_stack_resources").paginate(StackName=name):
        for summary in page["StackResourceSummaries"]:
            if summary.get("LogicalResourceId") and summary.get("PhysicalResourceId"):
                physical[summary["LogicalResourceId"]] = summary["PhysicalResourceId"]
    return StackState(
        key=key,
        name=name,
        template=manifest.load_template(key),
        parameters={p["ParameterKey"]: p.get("ParameterValue", "") for p in stack.get("Parameters", [])},
        outputs={o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])},
        physical_ids=physical,
        stack_id=stack["StackId"],
    )


def _exports(engine: Engine) -> dict[str, str]:
    exports: dict[str, str] = {}
    for page in engine.client("cloudformation").get_paginator("list_exports").paginate():
        exports.update({e["Name"]: e["Value"] for e in page["Exports"]})
    return exports


def _availability_zones(engine: Engine) -> list[str]:
    zones = engine.client("ec2").describe_availability_zones()["AvailabilityZones"]
    return sorted(z["ZoneName"] for z in zones)


def verify_environment(engine: Engine, manifest: Manifest, environment: str) -> dict[str, Any]:
    """Verify every declared resource of every stack; returns the report's `resources` section."""
    exports = _exports(engine)
    azs = _availability_zones(engine)
    account = engine.client("sts").get_caller_identity()["Account"]
    declared = 0
    verified = 0
    unverified: list[dict[str, Any]] = []
    cross_stack: list[dict[str, Any]] = []
    for spec in manifest.stacks:
        state = _stack_state(engine, manifest, spec.key, environment)
        if state is None:
            declared += len(manifest.load_template(spec.key).get("Resources", {}))
            unverified.append(
                {
                    "stack": spec.key,
                    "logical_id": "*",
                    "type": "AWS::CloudFormation::Stack",
                    "reason": "stack is not deployed",
                    "exempt": False,
                }
            )
            continue
        pseudo = {
            "AWS::Region": engine.region,
            "AWS::AccountId": account,
            "AWS::StackName": state.name,
            "AWS::StackId": state.stack_id,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
        }
        ctx = VerifyContext(engine=engine, region=engine.region, account=account, resolver=None)  # type: ignore[arg-type]
        resolver = Resolver(
            state.template,
            state.parameters,
            pseudo,
            state.physical_ids,
            exports,
            _attribute_getter(ctx, state.template, state.physical_ids),
            azs,
        )
        ctx.resolver = resolver
        for logical_id, resource in state.template.get("Resources", {}).items():
            if not resolver.resource_enabled(resource):
                continue
            declared += 1
            resource_type = resource.get("Type", "")
            problem = _verify_one(ctx, spec.key, logical_id, resource, state.physical_ids.get(logical_id))
            if problem is None:
                verified += 1
                continue
            exempt_reason = engine.unverifiable_types.get(resource_type)
            unverified.append(
                {
                    "stack": spec.key,
                    "logical_id": logical_id,
                    "type": resource_type,
                    "reason": f"{problem} (engine: {exempt_reason})" if exempt_reason else problem,
                    "exempt": bool(exempt_reason),
                }
            )
        cross_stack.extend(check_cross_stack(state, resolver, exports))
    return {"declared": declared, "verified": verified, "unverified": unverified, "cross_stack": cross_stack}


def _verify_one(
    ctx: VerifyContext, stack: str, logical_id: str, resource: Mapping[str, Any], physical_id: str | None
) -> str | None:
    """None when verified, else why not."""
    resource_type = resource.get("Type", "")
    if not physical_id:
        return "the engine reports no physical resource: it was not created"
    verifier = VERIFIERS.get(resource_type)
    if verifier is None:
        return f"no verifier for {resource_type}"
    props = ctx.resolver.resolve(resource.get("Properties", {}))
    item = Resource(stack, logical_id, resource_type, physical_id, props if isinstance(props, dict) else {})
    try:
        problems = verifier(ctx, item)
    except ClientError as exc:
        return f"not found through the {exc.operation_name} API ({_error_code(exc)}: {exc.response.get('Error', {}).get('Message', '')})"
    except (KeyError, IndexError, TypeError, ValueError) as exc:
        return f"the engine's answer lacks what the template set ({type(exc).__name__}: {exc})"
    return "; ".join(problems) if problems else None


def check_cross_stack(
    state: StackState, resolver: Resolver, exports: Mapping[str, str]
) -> list[dict[str, Any]]:
    """Every Fn::ImportValue resolves to an export; every export is present with a well-formed value."""
    checks: list[dict[str, Any]] = []
    resolver.unresolved_imports.clear()
    resolver.resolve(state.template.get("Resources", {}))
    resolver.resolve(state.template.get("Outputs", {}))
    for missing in sorted(set(resolver.unresolved_imports)):
        checks.append(
            {
                "stack": state.key,
                "name": f"import {missing}",
                "ok": False,
                "detail": "no stack exports this name",
            }
        )
    for key, output in state.template.get("Outputs", {}).items():
        if "Condition" in output and not resolver.condition(output["Condition"]):
            continue
        value = state.outputs.get(key)
        problem = output_problem(key, value)
        export = resolver.resolve(output.get("Export", {}).get("Name")) if output.get("Export") else None
        if export and not contains_unresolved(export) and exports.get(export) != value:
            problem = problem or f"export {export} is {exports.get(export)!r}, output is {value!r}"
        checks.append(
            {
                "stack": state.key,
                "name": f"output {key}",
                "ok": problem is None,
                "detail": problem or str(value),
            }
        )
    return checks


def output_problem(key: str, value: str | None) -> str | None:
    """Outputs are well formed: ARNs parse, ids look like ids, URLs are https URLs."""
    if value is None or value == "":
        return "missing"
    if key.endswith("Arn") and not (value.startswith("arn:") and len(value.split(":")) >= 6):
        return f"{value!r} is not an ARN"
    if key.endswith("Url") and not value.startswith("https://"):
        return f"{value!r} is not an https URL"
    if key.endswith(("SubnetId", "VpcId", "SecurityGroupId", "NatGatewayId")) and "-" not in value:
        return f"{value!r} is not an EC2 id"
    return None
