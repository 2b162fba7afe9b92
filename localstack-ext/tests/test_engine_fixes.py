"""The fixes to LocalStack's own code that are not resource providers: the missing export, the
failed integration's header and the alarm evaluation route (LocalStack's interpreter; no
LocalStack needs to run)."""

from __future__ import annotations

from importlib.metadata import entry_points
from typing import Any

import pytest

pytest.importorskip("localstack", reason="LocalStack is not installed in this interpreter")


def test_a_lambda_error_payload_names_the_function_and_its_error() -> None:
    from concert_localstack_ext.apigateway_responses import describe_function_failure

    arn = "arn:aws:lambda:us-east-1:000000000000:function:concert-api-health-check-dev"
    payload = b'{"errorType": "Sandbox.Timedout", "errorMessage": "Task timed out after 2.00 seconds"}'
    assert describe_function_failure(arn, payload) == (
        "concert-api-health-check-dev failed with Sandbox.Timedout: Task timed out after 2.00 seconds"
    )
    multiline = b'{"errorMessage": "line one\\nline two \\u2013 ' + b"x" * 600 + b'"}'
    described = describe_function_failure(arn, multiline) or ""
    assert (
        "\n" not in described
        and len(described) == 500
        and "failed with Unhandled: line one line two" in described
    )
    described.encode("latin-1")  # a header value
    assert describe_function_failure(arn, b'{"statusCode": 200}') is None  # a malformed proxy answer
    assert describe_function_failure(arn, b"not json") is None


def test_the_patches_are_registered_and_apply_once() -> None:
    from concert_localstack_ext.apigateway_responses import patch_proxy_integration_failures
    from concert_localstack_ext.cfn.import_value import patch_import_value

    hooks = {e.name for e in entry_points(group="localstack.hooks.on_infra_start")}
    assert {"concert_missing_export", "concert_alarm_evaluation_route", "concert_gateway_responses"} <= hooks
    assert patch_import_value() and not patch_import_value()
    assert patch_proxy_integration_failures() and not patch_proxy_integration_failures()
    from concert_localstack_ext.health import health_document

    document = health_document()
    assert "names_failed_functions" in document["capabilities"] and document["alarm_evaluation"] is True


def test_single_and_multi_value_headers_merge_as_api_gateway_documents() -> None:
    from concert_localstack_ext.apigateway_responses import merge_lambda_response_headers

    both = {
        "headers": {"Access-Control-Allow-Origin": "*", "X-Correlation-Id": "c1"},
        "multiValueHeaders": {"access-control-allow-origin": ["*"], "Set-Cookie": ["a=1", "b=2"]},
    }
    assert merge_lambda_response_headers(both) == {
        "X-Correlation-Id": "c1",
        "access-control-allow-origin": ["*"],  # the same pair in both: the multi-value list only
        "Set-Cookie": ["a=1", "b=2"],
    }
    differing = {"headers": {"Vary": "Origin"}, "multiValueHeaders": {"Vary": ["Accept"]}}
    assert merge_lambda_response_headers(differing) == {"Vary": ["Accept", "Origin"]}
    assert merge_lambda_response_headers({"headers": {"A": "1"}}) == {"A": "1"}


# --- shipped providers that drop declared properties (cfn/shipped_fixes.py) ----------------------
# Each runs LocalStack's own provider class against moto (EC2) or a recording client, invoked as
# LocalStack's executor does: again with its returned model and context while IN_PROGRESS.


class _Recorder:
    """A service client that records each call's arguments and answers `answers[method]`."""

    def __init__(self, answers: dict[str, Any]) -> None:
        self.calls: dict[str, dict[str, Any]] = {}
        self._answers = answers

    def __getattr__(self, name: str) -> Any:
        def call(**kwargs: Any) -> Any:
            self.calls[name] = kwargs
            return self._answers.get(name, {})

        return call


def _run_create(provider_cls: Any, model: dict[str, Any], **clients: Any) -> dict[str, Any]:
    from types import SimpleNamespace

    from concert_localstack_ext.cfn.shipped_fixes import apply_fixes

    apply_fixes()
    request = SimpleNamespace(
        desired_state=model,
        custom_context={},
        aws_client_factory=SimpleNamespace(**clients),
        stack_name="stack",
        stack_id="arn:aws:cloudformation:us-east-1:000000000000:stack/stack/1",
        logical_resource_id="Resource",
        region_name="us-east-1",
        account_id="000000000000",
        previous_state=None,
    )
    for _ in range(10):
        event = provider_cls().create(request)
        status = str(getattr(event.status, "name", event.status))
        assert status != "FAILED", event.message
        if status == "SUCCESS":
            return dict(event.resource_model)
        request.desired_state = event.resource_model
        request.custom_context = {**request.custom_context, **event.custom_context}
    raise AssertionError("still IN_PROGRESS")


@pytest.fixture
def ec2() -> Any:
    import boto3
    from moto import mock_aws

    with mock_aws():
        yield boto3.client(
            "ec2",
            region_name="us-east-1",
            aws_access_key_id="test",
            aws_secret_access_key="test",  # noqa: S106 - moto's
        )


def test_vpc_dns_hostnames_are_applied_as_declared(ec2: Any) -> None:
    # the provider's first invocation returns the VPC read back (EnableDnsHostnames false) and is
    # invoked again with it: the declared value must be what is applied
    from localstack.services.ec2.resource_providers.aws_ec2_vpc import EC2VPCProvider

    model = _run_create(
        EC2VPCProvider,
        {"CidrBlock": "10.0.0.0/16", "EnableDnsSupport": True, "EnableDnsHostnames": True},
        ec2=ec2,
    )
    answer = ec2.describe_vpc_attribute(VpcId=model["VpcId"], Attribute="enableDnsHostnames")
    assert answer["EnableDnsHostnames"]["Value"] is True and model["EnableDnsHostnames"] is True


def test_security_group_rules_are_created_with_their_descriptions(ec2: Any) -> None:
    from localstack.services.ec2.resource_providers.aws_ec2_securitygroup import EC2SecurityGroupProvider

    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    peer = ec2.create_security_group(GroupName="peer", Description="peer", VpcId=vpc)["GroupId"]
    model = _run_create(
        EC2SecurityGroupProvider,
        {
            "GroupDescription": "group",
            "VpcId": vpc,
            "SecurityGroupIngress": [
                {
                    "Description": "https in",
                    "IpProtocol": "tcp",
                    "FromPort": 443,
                    "ToPort": 443,
                    "CidrIp": "10.0.0.0/16",
                }
            ],
            "SecurityGroupEgress": [
                {
                    "Description": "to the peer",
                    "IpProtocol": "tcp",
                    "FromPort": 5439,
                    "ToPort": 5439,
                    "DestinationSecurityGroupId": peer,
                }
            ],
        },
        ec2=ec2,
    )
    group = ec2.describe_security_groups(GroupIds=[model["GroupId"]])["SecurityGroups"][0]
    assert group["IpPermissions"][0]["IpRanges"] == [{"CidrIp": "10.0.0.0/16", "Description": "https in"}]
    assert [p["UserIdGroupPairs"][0]["GroupId"] for p in group["IpPermissionsEgress"]] == [peer]
    assert group["IpPermissionsEgress"][0]["UserIdGroupPairs"][0]["Description"] == "to the peer"


def test_a_rule_naming_a_group_keeps_its_description_in_describe_security_group_rules(ec2: Any) -> None:
    from concert_localstack_ext.cfn.shipped_fixes import apply_fixes

    apply_fixes()
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    group = ec2.create_security_group(GroupName="a", Description="a", VpcId=vpc)["GroupId"]
    peer = ec2.create_security_group(GroupName="b", Description="b", VpcId=vpc)["GroupId"]
    answer = ec2.authorize_security_group_ingress(
        GroupId=group,
        IpPermissions=[
            {
                "IpProtocol": "tcp",
                "FromPort": 5439,
                "ToPort": 5439,
                "UserIdGroupPairs": [{"GroupId": peer, "Description": "from b"}],
            }
        ],
    )
    rule_id = answer["SecurityGroupRules"][0]["SecurityGroupRuleId"]
    rules = ec2.describe_security_group_rules(SecurityGroupRuleIds=[rule_id])["SecurityGroupRules"]
    assert rules[0]["Description"] == "from b" and rules[0]["ReferencedGroupInfo"]["GroupId"] == peer


def test_routes_get_their_declared_target(ec2: Any) -> None:
    from localstack.services.ec2.resource_providers.aws_ec2_route import EC2RouteProvider

    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    gateway = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(VpcId=vpc, InternetGatewayId=gateway)
    table = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    _run_create(
        EC2RouteProvider,
        {"RouteTableId": table, "DestinationCidrBlock": "0.0.0.0/0", "GatewayId": gateway},
        ec2=ec2,
    )
    routes = ec2.describe_route_tables(RouteTableIds=[table])["RouteTables"][0]["Routes"]
    assert [r.get("GatewayId") for r in routes if r.get("DestinationCidrBlock") == "0.0.0.0/0"] == [gateway]


def test_nat_gateways_are_tagged(ec2: Any) -> None:
    from localstack.services.ec2.resource_providers.aws_ec2_natgateway import EC2NatGatewayProvider

    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.0.0/24")["Subnet"]["SubnetId"]
    allocation = ec2.allocate_address(Domain="vpc")["AllocationId"]
    tags = [{"Key": "Name", "Value": "concert-nat"}]
    model = _run_create(
        EC2NatGatewayProvider, {"SubnetId": subnet, "AllocationId": allocation, "Tags": tags}, ec2=ec2
    )
    found = ec2.describe_nat_gateways(NatGatewayIds=[model["NatGatewayId"]])["NatGateways"][0]
    assert found["Tags"] == tags


def test_lambda_permissions_pass_source_account() -> None:
    from localstack.services.lambda_.resource_providers.aws_lambda_permission import LambdaPermissionProvider

    lambda_ = _Recorder({"add_permission": {"Statement": '{"Sid": "s1"}'}})
    _run_create(
        LambdaPermissionProvider,
        {
            "FunctionName": "f",
            "Action": "lambda:InvokeFunction",
            "Principal": "s3.amazonaws.com",
            "SourceArn": "arn:aws:s3:::bucket",
            "SourceAccount": "000000000000",
        },
        lambda_=lambda_,
    )
    assert lambda_.calls["add_permission"]["SourceAccount"] == "000000000000"
    assert lambda_.calls["add_permission"]["SourceArn"] == "arn:aws:s3:::bucket"


def test_api_gateway_models_pass_their_description() -> None:
    from localstack.services.apigateway.resource_providers.aws_apigateway_model import ApiGatewayModelProvider

    apigateway = _Recorder({})
    _run_create(
        ApiGatewayModelProvider,
        {"RestApiId": "api1", "Name": "Concert", "Description": "a concert", "Schema": {"type": "object"}},
        apigateway=apigateway,
    )
    assert apigateway.calls["create_model"]["description"] == "a concert"
    assert apigateway.calls["create_model"]["name"] == "Concert"


def test_lambda_functions_pass_their_kms_key() -> None:
    from localstack.services.lambda_.resource_providers.aws_lambda_function import LambdaFunctionProvider

    arn = "arn:aws:lambda:us-east-1:000000000000:function:f"
    configuration = {
        "FunctionArn": arn,
        "Version": "$LATEST",
        "State": "Active",
        "LastUpdateStatus": "Successful",
    }
    lambda_ = _Recorder({"create_function": configuration, "get_function": {"Configuration": configuration}})
    key = "arn:aws:kms:us-east-1:000000000000:key/k1"
    _run_create(
        LambdaFunctionProvider,
        {
            "FunctionName": "f",
            "Runtime": "python3.12",
            "Handler": "app.handler",
            "Role": "arn:aws:iam::000000000000:role/r",
            "Code": {"ZipFile": "def handler(e, c):\n    return 1\n"},
            "KmsKeyArn": key,
        },
        lambda_=lambda_,
    )
    assert lambda_.calls["create_function"]["KMSKeyArn"] == key


def test_a_declared_vpc_endpoint_policy_is_answered_as_declared(ec2: Any) -> None:
    # LocalStack's DescribeVpcEndpoints strips Version from every policy; a declared one is put
    # back from what moto stored, the default one (none declared) stays as LocalStack answers it,
    # and a declared policy that reads exactly like moto's default is still a declared one
    import json

    from concert_localstack_ext.cfn.shipped_fixes import apply_fixes, restore_declared_policies
    from moto.ec2.models import ec2_backends
    from moto.ec2.models.vpcs import VPCEndPoint

    apply_fixes()
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    declared = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "*"}],
    }
    ids = {}
    for name, service, policy in (
        ("declared", "s3", json.dumps(declared)),
        ("none", "dynamodb", None),
        ("like-the-default", "sqs", json.dumps(VPCEndPoint.DEFAULT_POLICY)),
    ):
        extra = {"PolicyDocument": policy} if policy else {}
        ids[name] = ec2.create_vpc_endpoint(
            VpcId=vpc, ServiceName=f"com.amazonaws.us-east-1.{service}", **extra
        )["VpcEndpoint"]["VpcEndpointId"]
    answered = ec2.describe_vpc_endpoints()["VpcEndpoints"]
    for endpoint in answered:  # as LocalStack's provider answers them
        policy = json.loads(endpoint["PolicyDocument"])
        policy.pop("Version", None)
        endpoint["PolicyDocument"] = json.dumps(policy)
    models = ec2_backends["123456789012"]["us-east-1"].vpc_end_points
    marked = {
        e["VpcEndpointId"]: models[e["VpcEndpointId"]].policy_document
        for e in answered
        if getattr(models[e["VpcEndpointId"]], "_concert_declared_policy", False)
    }
    assert set(marked) == {ids["declared"], ids["like-the-default"]}
    assert restore_declared_policies(answered, marked) == 2
    by_id = {e["VpcEndpointId"]: json.loads(e["PolicyDocument"]) for e in answered}
    assert by_id[ids["declared"]] == declared
    assert by_id[ids["like-the-default"]] == VPCEndPoint.DEFAULT_POLICY  # its Version kept
    assert "Version" not in by_id[ids["none"]]
    assert restore_declared_policies(answered, marked) == 0
    ec2.modify_vpc_endpoint(VpcEndpointId=ids["none"], PolicyDocument=json.dumps(declared))
    assert getattr(models[ids["none"]], "_concert_declared_policy", False)  # declared later


def test_describe_vpc_endpoints_stays_a_localstack_handler_once_patched() -> None:
    from concert_localstack_ext.cfn.shipped_fixes import apply_fixes
    from localstack.services.ec2.provider import Ec2Provider

    assert "_patch_vpc_endpoint_policy" in apply_fixes()
    method = Ec2Provider.describe_vpc_endpoints
    assert (method.operation, method.expand_parameters, method.pass_context) == (
        "DescribeVpcEndpoints",
        False,
        True,
    )


def test_describe_vpc_endpoints_through_localstacks_dispatch_answers_the_declared_policy() -> None:
    # the wrapper itself, as LocalStack's skeleton dispatches it: moto's state read under the
    # request's own account and region
    import json

    from concert_localstack_ext.cfn.shipped_fixes import apply_fixes
    from localstack.aws.forwarder import create_aws_request_context
    from localstack.aws.skeleton import create_dispatch_table
    from localstack.services.ec2.provider import Ec2Provider
    from localstack.services.moto import call_moto

    apply_fixes()
    account, region = "000000000042", "eu-west-1"

    def context(action: str, parameters: dict[str, Any]) -> Any:
        ctx = create_aws_request_context("ec2", action, parameters=parameters, region=region)
        ctx.account_id = account
        ctx.request.headers.add("x-moto-account-id", account)
        return ctx

    declared = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "*"}],
    }
    vpc = call_moto(context("CreateVpc", {"CidrBlock": "10.0.0.0/16"}))["Vpc"]["VpcId"]
    with_policy = call_moto(
        context(
            "CreateVpcEndpoint",
            {
                "VpcId": vpc,
                "ServiceName": f"com.amazonaws.{region}.s3",
                "PolicyDocument": json.dumps(declared),
            },
        )
    )["VpcEndpoint"]["VpcEndpointId"]
    without = call_moto(
        context("CreateVpcEndpoint", {"VpcId": vpc, "ServiceName": f"com.amazonaws.{region}.dynamodb"})
    )["VpcEndpoint"]["VpcEndpointId"]
    table = create_dispatch_table(Ec2Provider())
    answered = table["DescribeVpcEndpoints"](context("DescribeVpcEndpoints", {}), {})
    by_id = {e["VpcEndpointId"]: json.loads(e["PolicyDocument"]) for e in answered["VpcEndpoints"]}
    assert by_id[with_policy] == declared
    assert "Version" not in by_id[without]  # LocalStack's answer for a default policy, kept
