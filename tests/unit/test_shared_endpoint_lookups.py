"""Lookups scoped to their own environment on an endpoint that serves several.

Every test creates the same kind of resource twice, another environment's first, and asks for
ours. The engine is one that ignores a lookup's filter and answers with every environment's
resources (as moto's DescribeTrails does with `trailNameList`): verification, teardown's probes
and removers, and the smoke run's listings must pick ours by id or name, or say it is absent,
never take the first answer."""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from concert_platform.teardown import REMOVERS, Recorded, confirm_gone, environment_matcher
from concert_platform.verify._base import TABLES, NotFound, Resource, Unusable, VerifyContext

REGION = "us-east-1"
FILTERS = ("Ids", "IdList", "Names", "NameList", "Filters", "PublicIps")


class AnswersEveryEnvironment:
    """A client whose describe/list calls drop the lookup's filter: the whole account comes back."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._client, name)
        if not name.startswith(("describe_", "list_")):
            return attribute

        def unfiltered(**kwargs: Any) -> Any:
            return attribute(**{k: v for k, v in kwargs.items() if not k.endswith(FILTERS)})

        return unfiltered


def shared(service: str) -> Any:
    return AnswersEveryEnvironment(boto3.client(service, region_name=REGION))


# ---- two of a kind: (theirs, ours), each (physical id, properties) ----------------------------
Made = tuple[str, dict[str, Any]]


def _vpc(ec2: Any, n: int) -> Made:
    return ec2.create_vpc(CidrBlock=f"10.{n}.0.0/16")["Vpc"]["VpcId"], {}


def _subnet(ec2: Any, n: int) -> Made:
    vpc, _ = _vpc(ec2, n)
    return ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.{n}.1.0/24")["Subnet"]["SubnetId"], {}


def _internet_gateway(ec2: Any, _n: int) -> Made:
    return ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"], {}


def _route_table(ec2: Any, n: int) -> Made:
    vpc, _ = _vpc(ec2, n)
    return ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"], {}


def _association(ec2: Any, n: int) -> Made:
    vpc, _ = _vpc(ec2, n)
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.{n}.1.0/24")["Subnet"]["SubnetId"]
    table = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    association = ec2.associate_route_table(RouteTableId=table, SubnetId=subnet)["AssociationId"]
    return association, {"RouteTableId": table, "SubnetId": subnet}


def _security_group(ec2: Any, n: int) -> Made:
    vpc, _ = _vpc(ec2, n)
    return ec2.create_security_group(GroupName=f"g{n}", Description="g", VpcId=vpc)["GroupId"], {}


def _egress_rule(ec2: Any, n: int) -> Made:
    group, _ = _security_group(ec2, n)
    permission = {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}
    rules = ec2.authorize_security_group_egress(GroupId=group, IpPermissions=[permission])
    properties = {
        "GroupId": group,
        "IpProtocol": "tcp",
        "FromPort": 443,
        "ToPort": 443,
        "CidrIp": "0.0.0.0/0",
    }
    return rules["SecurityGroupRules"][0]["SecurityGroupRuleId"], properties


def _nat_gateway(ec2: Any, n: int) -> Made:
    subnet, _ = _subnet(ec2, n)
    allocation = ec2.allocate_address(Domain="vpc")["AllocationId"]
    return ec2.create_nat_gateway(SubnetId=subnet, AllocationId=allocation)["NatGateway"]["NatGatewayId"], {}


def _vpc_endpoint(ec2: Any, n: int) -> Made:
    vpc, _ = _vpc(ec2, n)
    endpoint = ec2.create_vpc_endpoint(
        VpcId=vpc, ServiceName=f"com.amazonaws.{REGION}.s3", VpcEndpointType="Gateway"
    )
    return endpoint["VpcEndpoint"]["VpcEndpointId"], {}


def _flow_log(ec2: Any, n: int) -> Made:
    vpc, _ = _vpc(ec2, n)
    created = ec2.create_flow_logs(
        ResourceIds=[vpc],
        ResourceType="VPC",
        TrafficType="ALL",
        LogDestinationType="cloud-watch-logs",
        LogGroupName=f"/flow/{n}",
        DeliverLogsPermissionArn="arn:aws:iam::123456789012:role/flow",
    )
    return created["FlowLogIds"][0], {}


def _address(ec2: Any, _n: int) -> Made:
    return ec2.allocate_address(Domain="vpc")["PublicIp"], {}


def _alarm(_ec2: Any, n: int) -> Made:
    name = f"concert-chatbot-errors-env{n}"
    boto3.client("cloudwatch", region_name=REGION).put_metric_alarm(
        AlarmName=name,
        MetricName="Errors",
        Namespace="AWS/Lambda",
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=1,
        ComparisonOperator="GreaterThanThreshold",
    )
    return name, {}


def _scalable_target(_ec2: Any, n: int) -> Made:
    resource_id = f"table/concert-conversation-history-env{n}"
    dimension = "dynamodb:table:ReadCapacityUnits"
    boto3.client("application-autoscaling", region_name=REGION).register_scalable_target(
        ServiceNamespace="dynamodb",
        ResourceId=resource_id,
        ScalableDimension=dimension,
        MinCapacity=1,
        MaxCapacity=5,
    )
    properties = {"ServiceNamespace": "dynamodb", "ResourceId": resource_id, "ScalableDimension": dimension}
    return f"{resource_id}|{dimension}|dynamodb", properties


def _trail(_ec2: Any, n: int) -> Made:
    boto3.client("s3", region_name=REGION).create_bucket(Bucket=f"audit-env{n}")
    name = f"concert-platform-env{n}"
    boto3.client("cloudtrail", region_name=REGION).create_trail(Name=name, S3BucketName=f"audit-env{n}")
    return name, {}


# type -> (how to make one, the describe answer's key holding its id, how to delete ours)
KINDS: dict[str, tuple[Callable[[Any, int], Made], str, Callable[[Any, str, dict[str, Any]], Any]]] = {
    "AWS::EC2::VPC": (_vpc, "VpcId", lambda ec2, i, _p: ec2.delete_vpc(VpcId=i)),
    "AWS::EC2::Subnet": (_subnet, "SubnetId", lambda ec2, i, _p: ec2.delete_subnet(SubnetId=i)),
    "AWS::EC2::InternetGateway": (
        _internet_gateway,
        "InternetGatewayId",
        lambda ec2, i, _p: ec2.delete_internet_gateway(InternetGatewayId=i),
    ),
    "AWS::EC2::RouteTable": (
        _route_table,
        "RouteTableId",
        lambda ec2, i, _p: ec2.delete_route_table(RouteTableId=i),
    ),
    "AWS::EC2::SubnetRouteTableAssociation": (
        _association,
        "RouteTableAssociationId",
        lambda ec2, i, _p: ec2.disassociate_route_table(AssociationId=i),
    ),
    "AWS::EC2::SecurityGroup": (
        _security_group,
        "GroupId",
        lambda ec2, i, _p: ec2.delete_security_group(GroupId=i),
    ),
    "AWS::EC2::SecurityGroupEgress": (
        _egress_rule,
        "GroupId",  # the verifier answers in the template's shape; its group names it
        lambda ec2, i, p: ec2.revoke_security_group_egress(GroupId=p["GroupId"], SecurityGroupRuleIds=[i]),
    ),
    "AWS::EC2::NatGateway": (
        _nat_gateway,
        "NatGatewayId",
        lambda ec2, i, _p: ec2.delete_nat_gateway(NatGatewayId=i),
    ),
    "AWS::EC2::VPCEndpoint": (
        _vpc_endpoint,
        "VpcEndpointId",
        lambda ec2, i, _p: ec2.delete_vpc_endpoints(VpcEndpointIds=[i]),
    ),
    "AWS::EC2::FlowLog": (_flow_log, "FlowLogId", lambda ec2, i, _p: ec2.delete_flow_logs(FlowLogIds=[i])),
    "AWS::EC2::EIP": (_address, "PublicIp", lambda ec2, i, _p: ec2.release_address(PublicIp=i)),
    "AWS::CloudWatch::Alarm": (
        _alarm,
        "AlarmName",
        lambda _ec2, i, _p: boto3.client("cloudwatch", region_name=REGION).delete_alarms(AlarmNames=[i]),
    ),
    "AWS::ApplicationAutoScaling::ScalableTarget": (
        _scalable_target,
        "ResourceId",
        lambda _ec2, _i, p: boto3.client(
            "application-autoscaling", region_name=REGION
        ).deregister_scalable_target(
            ServiceNamespace="dynamodb", ResourceId=p["ResourceId"], ScalableDimension=p["ScalableDimension"]
        ),
    ),
    "AWS::CloudTrail::Trail": (
        _trail,
        "Name",
        lambda _ec2, i, _p: boto3.client("cloudtrail", region_name=REGION).delete_trail(Name=i),
    ),
}


def two_of(kind: str) -> tuple[Made, Made]:
    make = KINDS[kind][0]
    ec2 = boto3.client("ec2", region_name=REGION)
    theirs = make(ec2, 1)  # created first: the first answer of every unfiltered listing
    ours = make(ec2, 2)
    return theirs, ours


def expected(kind: str, physical_id: str, properties: dict[str, Any]) -> str:
    if kind == "AWS::EC2::SecurityGroupEgress":
        return str(properties["GroupId"])
    if kind == "AWS::ApplicationAutoScaling::ScalableTarget":
        return str(properties["ResourceId"])
    return physical_id


def describe(kind: str, physical_id: str, properties: dict[str, Any], client: Any = shared) -> dict[str, Any]:
    ctx = VerifyContext(engine=SimpleNamespace(client=client), region=REGION, account="123456789012")  # type: ignore[arg-type]
    answer: dict[str, Any] = TABLES[kind].describe(ctx, Resource("s", "Ours", kind, physical_id, properties))
    return answer


@pytest.mark.parametrize("kind", list(KINDS))
def test_verification_describes_this_environments_resource_not_the_first_answered(
    aws: None, kind: str
) -> None:
    (their_id, theirs), (our_id, ours) = two_of(kind)
    key = KINDS[kind][1]
    assert expected(kind, their_id, theirs) != expected(kind, our_id, ours)
    observed = describe(kind, our_id, ours)
    assert observed[key] == expected(kind, our_id, ours), (
        f"{kind}: verification described {observed[key]!r}, another environment's, instead of {our_id!r}"
    )


@pytest.mark.parametrize("kind", [k for k in KINDS if k != "AWS::EC2::SecurityGroupEgress"])
def test_verification_finds_nothing_when_only_another_environments_exists(aws: None, kind: str) -> None:
    (_their_id, _theirs), (our_id, ours) = two_of(kind)
    KINDS[kind][2](boto3.client("ec2", region_name=REGION), our_id, ours)
    try:
        observed = describe(kind, our_id, ours)
    except (NotFound, Unusable, ClientError):
        return
    key = KINDS[kind][1]
    pytest.fail(f"{kind}: ours is deleted, yet verification described {observed.get(key)!r}")


def recorded(kind: str, physical_id: str, properties: dict[str, Any]) -> Recorded:
    return Recorded("s", "s-stack", "Ours", kind, physical_id, properties)


ENGINE = SimpleNamespace(client=shared)


@pytest.mark.parametrize("kind", list(KINDS))
def test_teardown_proves_ours_gone_while_another_environments_remains(aws: None, kind: str) -> None:
    (_their_id, _theirs), (our_id, ours) = two_of(kind)
    item = recorded(kind, our_id, ours)
    remaining, _ = confirm_gone(ENGINE, [item])  # type: ignore[arg-type]
    assert [row["detail"] for row in remaining] == ["still exists"], remaining
    KINDS[kind][2](boto3.client("ec2", region_name=REGION), our_id, ours)
    remaining, confirmed = confirm_gone(ENGINE, [item])  # type: ignore[arg-type]
    assert remaining == [] and confirmed == 1, (
        f"{kind}: ours is deleted, yet teardown took another environment's for it: {remaining}"
    )


@pytest.mark.parametrize("kind", ["AWS::EC2::EIP", "AWS::ApplicationAutoScaling::ScalableTarget"])
def test_teardown_removes_ours_and_leaves_another_environments(aws: None, kind: str) -> None:
    (their_id, theirs), (our_id, ours) = two_of(kind)
    REMOVERS[kind](shared, recorded(kind, our_id, ours))
    remaining, _ = confirm_gone(ENGINE, [recorded(kind, our_id, ours)])  # type: ignore[arg-type]
    assert remaining == [], f"our {kind} {our_id} was not removed: {remaining}"
    remaining, _ = confirm_gone(ENGINE, [recorded(kind, their_id, theirs)])  # type: ignore[arg-type]
    assert remaining, f"removing our {kind} {our_id} removed another environment's {their_id}"


def test_moto_answers_every_trail_whatever_trail_name_list_says(aws: None) -> None:
    """Why the trail lookup is scoped even on the embedded engine, through the real client."""
    (their_id, _), (our_id, ours) = two_of("AWS::CloudTrail::Trail")
    cloudtrail = boto3.client("cloudtrail", region_name=REGION)
    assert cloudtrail.describe_trails(trailNameList=[our_id])["trailList"][0]["Name"] == their_id
    plain = describe("AWS::CloudTrail::Trail", our_id, ours, lambda s: boto3.client(s, region_name=REGION))
    assert plain["Name"] == our_id, f"the verifier took trail {plain['Name']!r} for {our_id!r}"


# ---- the name scan: whole names only ----------------------------------------------------------


@pytest.mark.parametrize(
    ("environment", "theirs"),
    [
        ("qa", "qa7"),  # a prefix of another environment
        ("qa7", "pr-qa7"),  # a suffix of another environment
        ("pr", "pr-qa7"),
        ("sh-qa", "x-sh-qa"),
        ("dev", "dev-vpc-1"),  # a logical id and a short word after this one's stack name
    ],
)
def test_the_name_scan_matches_no_name_of_another_environment(environment: str, theirs: str) -> None:
    from concert_platform.manifest import load_manifest
    from concert_platform.naming import generated_names

    manifest = load_manifest()
    matches = environment_matcher(environment, manifest)
    others = [n.value for n in generated_names(manifest, theirs)]
    others += [manifest.stack_name(spec.key, theirs) for spec in manifest.stacks]
    others += [
        f"/aws/lambda/concert-api-chatbot-{theirs}",
        f"concert-platform-chatbot-{theirs}-ChatbotDeadLetterQueue-AB12CD34EF56",
    ]
    assert others
    taken = [name for name in others if matches(name)]
    assert taken == [], f"the scan for {environment!r} takes {theirs!r}'s names: {taken}"
    # a stage is found through its API, never by a name scan: its name is the bare environment
    ours = [n.value for n in generated_names(manifest, environment) if n.prop != "StageName"]
    assert ours and all(matches(name) for name in ours), [n for n in ours if not matches(n)]


def test_the_name_scan_takes_the_platforms_own_paths_for_the_environment_and_no_other_teams() -> None:
    from concert_platform.manifest import load_manifest

    matches = environment_matcher("dev", load_manifest())
    assert matches("concert-platform/dev/redshift-admin")
    assert matches("/concert-platform/dev/created-at-run-time")
    assert matches("concert-platform-networking-dev-FlowLogRole-AB12CD34EF56")
    for theirs in ("/their-app/dev/db-password", "team/dev/anything", "dev/x", "concert-platform/dev2/x"):
        assert not matches(theirs), theirs


# ---- the smoke run's listings -----------------------------------------------------------------


def test_the_alarm_flows_see_only_this_environments_alarms(aws: None) -> None:
    from concert_platform.smoke.alarms import _alarms, _state

    (theirs, _), (ours, _) = two_of("AWS::CloudWatch::Alarm")
    platform = SimpleNamespace(
        engine=SimpleNamespace(client=lambda s: boto3.client(s, region_name=REGION)),
        own=lambda resource_type: {ours} if resource_type == "AWS::CloudWatch::Alarm" else set(),
    )
    names = [a["AlarmName"] for a in _alarms(platform, lambda _a: True)]  # type: ignore[arg-type]
    assert names == [ours], f"the alarm flows would drive another environment's alarm: {names}"
    platform.engine = SimpleNamespace(client=shared)
    boto3.client("cloudwatch", region_name=REGION).delete_alarms(AlarmNames=[ours])
    assert _state(platform, ours) == "DELETED", "the state of another environment's alarm was read for ours"  # type: ignore[arg-type]
    assert theirs


def test_the_last_failed_statement_named_is_this_environments() -> None:
    from concert_platform.smoke import last_failed_statement

    statements = [  # newest first, as ListStatements answers
        {
            "Id": "theirs",
            "SecretArn": "arn:aws:secretsmanager:us-east-1:1:secret:concert-platform/nc1/redshift-admin",
        },
        {
            "Id": "ours",
            "SecretArn": "arn:aws:secretsmanager:us-east-1:1:secret:concert-platform/qa7/redshift-admin",
        },
    ]

    class DataApi:
        def get_paginator(self, _name: str) -> Any:
            return SimpleNamespace(paginate=lambda **_kwargs: [{"Statements": statements}])

        def list_statements(self, MaxResults: int = 100, **_kwargs: Any) -> dict[str, Any]:
            return {"Statements": statements[:MaxResults]}

        def describe_statement(self, Id: str) -> dict[str, Any]:
            return {"QueryString": f"SELECT {Id}", "Error": f"{Id} broke"}

    platform = SimpleNamespace(
        engine=SimpleNamespace(client=lambda _s: DataApi()),
        out=lambda _stack, _key: statements[1]["SecretArn"],
    )
    assert "ours broke" in last_failed_statement(platform)  # type: ignore[arg-type]
    statements.pop()
    assert last_failed_statement(platform) == "", "another environment's failure was named as ours"  # type: ignore[arg-type]


def test_the_leftover_scan_takes_only_this_environments_own_stacks(aws: None) -> None:
    """`dev-vpc-12345678`'s stack name has the shape of a name generated in `dev`'s networking
    stack (logical id Vpc, an 8-character suffix): stacks are matched by their exact names."""
    from concert_platform.engines.aws import AwsEngine
    from concert_platform.manifest import load_manifest
    from concert_platform.teardown import find_leftovers

    manifest = load_manifest()
    theirs = manifest.stack_name(manifest.stacks[0].key, "dev-vpc-12345678")
    ours = manifest.stack_name(manifest.stacks[0].key, "dev")
    assert environment_matcher("dev", manifest)(theirs), "the shape this test is about no longer matches"
    body = '{"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}}'
    cfn = boto3.client("cloudformation", region_name="us-east-1")
    for name in (theirs, ours):
        cfn.create_stack(StackName=name, TemplateBody=body)
    found = find_leftovers(AwsEngine("us-east-1"), "dev", manifest)
    assert f"stack: {ours}" in found
    assert not [item for item in found if theirs in item], found
