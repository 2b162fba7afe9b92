"""The six templates against the deployment guide and docs/conventions.md (the contract)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from concert_platform.manifest import load_manifest

ROOT = Path(__file__).resolve().parents[2]

# What the guide's "Resources Created" lists require of each stack, as resource types.
GUIDE_RESOURCES: dict[str, dict[str, int]] = {
    "networking": {
        "AWS::EC2::VPC": 1,
        "AWS::EC2::Subnet": 4,
        "AWS::EC2::InternetGateway": 1,
        "AWS::EC2::NatGateway": 1,
        "AWS::EC2::EIP": 1,
        "AWS::EC2::RouteTable": 2,
        "AWS::EC2::SubnetRouteTableAssociation": 4,
        "AWS::EC2::SecurityGroup": 3,
        "AWS::EC2::VPCEndpoint": 1,
    },
    "storage": {
        "AWS::S3::Bucket": 4,
        "AWS::Kinesis::Stream": 3,
        "AWS::Glue::Database": 1,
        "AWS::IAM::Role": 2,
        "AWS::RedshiftServerless::Namespace": 1,
        "AWS::RedshiftServerless::Workgroup": 1,
        "AWS::SecretsManager::Secret": 1,
    },
    "compute": {
        "AWS::IAM::Role": 2,
        "AWS::Lambda::Function": 5,
        "AWS::Lambda::LayerVersion": 1,
        "AWS::DynamoDB::Table": 1,
        "AWS::ApiGateway::RestApi": 1,
        "AWS::ApiGateway::Resource": 5,
        "AWS::ApiGateway::Method": 5,
        "AWS::ApiGateway::Deployment": 1,
        "AWS::ApiGateway::Stage": 1,
        "AWS::Lambda::Permission": 5,
    },
    "chatbot": {
        "AWS::DynamoDB::Table": 2,
        "AWS::Lambda::Function": 2,
        "AWS::Events::Rule": 2,
        "AWS::SNS::Topic": 1,
        "AWS::CloudWatch::Alarm": 1,
    },
    "monitoring": {"AWS::SNS::Topic": 2, "AWS::CloudWatch::Alarm": 10, "AWS::CloudWatch::Dashboard": 4},
    "logging": {
        "AWS::Logs::LogGroup": 3,
        "AWS::Logs::MetricFilter": 3,
        "AWS::Logs::QueryDefinition": 4,
        "AWS::XRay::SamplingRule": 1,
        "AWS::XRay::Group": 1,
        "AWS::Lambda::LayerVersion": 1,
        "AWS::Lambda::Function": 1,
        "AWS::Logs::SubscriptionFilter": 1,
        "AWS::CloudTrail::Trail": 1,
    },
}
GUIDE_PARAMETERS: dict[str, dict[str, Any]] = {
    "networking": {
        "Environment": "development",
        "VpcCidr": "10.0.0.0/16",
        "PublicSubnet1Cidr": "10.0.1.0/24",
        "PublicSubnet2Cidr": "10.0.2.0/24",
        "PrivateSubnet1Cidr": "10.0.10.0/24",
        "PrivateSubnet2Cidr": "10.0.11.0/24",
    },
    "storage": {
        "Environment": "development",
        "NetworkStackName": None,
        "RedshiftMasterUsername": "admin",
        "RedshiftMasterPassword": None,
        "RedshiftNodeType": "ra3.xlplus",
    },
    "compute": {
        "Environment": "development",
        "NetworkStackName": None,
        "StorageStackName": None,
        "BedrockAgentId": "",
        "BedrockAgentAliasId": "",
    },
    "chatbot": {
        "Environment": "development",
        "NetworkStackName": None,
        "ComputeStackName": None,
        "BedrockAgentId": "",
        "BedrockAgentAliasId": "",
    },
    "monitoring": {
        "Environment": "development",
        "ComputeStackName": None,
        "StorageStackName": None,
        "AlertEmail": "",
    },
    "logging": {"Environment": "development", "ComputeStackName": None, "LogRetentionDays": 7},
}


def templates() -> dict[str, dict[str, Any]]:
    manifest = load_manifest()
    return {spec.key: manifest.load_template(spec.key) for spec in manifest.stacks}


def contract_exports() -> dict[str, list[str]]:
    """The export table of docs/conventions.md, the contract between stacks."""
    text = (ROOT / "docs" / "conventions.md").read_text()
    exports = {}
    for key in GUIDE_RESOURCES:
        match = re.search(rf"^\| {key} \| (.+) \|$", text, re.MULTILINE)
        assert match, f"docs/conventions.md has no export row for {key}"
        exports[key] = [name.strip() for name in match.group(1).split(",")]
    return exports


@pytest.mark.parametrize("key", list(GUIDE_RESOURCES))
def test_each_stack_holds_what_the_guide_lists(key: str) -> None:
    resources = templates()[key]["Resources"].values()
    counts: dict[str, int] = {}
    for resource in resources:
        counts[resource["Type"]] = counts.get(resource["Type"], 0) + 1
    missing = {t: n for t, n in GUIDE_RESOURCES[key].items() if counts.get(t, 0) < n}
    assert not missing, f"{key}: fewer resources than the guide lists: {missing}"


@pytest.mark.parametrize("key", list(GUIDE_PARAMETERS))
def test_each_stack_takes_the_guides_parameters_with_its_defaults(key: str) -> None:
    parameters = templates()[key]["Parameters"]
    for name, default in GUIDE_PARAMETERS[key].items():
        assert name in parameters, f"{key} lacks parameter {name}"
        if default is not None:
            assert str(parameters[name].get("Default")) == str(default), f"{key}.{name} default"


@pytest.mark.parametrize("key", list(GUIDE_RESOURCES))
def test_exports_match_the_contract(key: str) -> None:
    outputs = templates()[key]["Outputs"]
    for name in contract_exports()[key]:
        assert name in outputs, f"{key} does not output {name}"
        assert outputs[name]["Export"]["Name"] == {"Fn::Sub": "${AWS::StackName}-" + name}


def test_every_import_names_an_export_of_the_stack_it_points_to() -> None:
    manifest = load_manifest()
    all_templates = templates()
    for spec in manifest.stacks:
        text = json.dumps(all_templates[spec.key])
        for parameter, export in re.findall(r'"Fn::ImportValue": \{"Fn::Sub": "\$\{(\w+)\}-(\w+)"\}', text):
            source = spec.parameters[parameter]
            assert source.kind == "stack", f"{spec.key}: {parameter} is not wired to a stack"
            assert export in all_templates[source.name]["Outputs"], (
                f"{spec.key} imports {source.name}'s missing {export}"
            )


def test_every_output_source_names_an_output_of_the_stack_it_points_to() -> None:
    """`output: KEY.Name` in stacks.yaml is read from the deployed stack at deploy time: a name its
    template does not declare would surface only then, as a refused deploy."""
    manifest = load_manifest()
    all_templates = templates()
    sources = [
        (spec.key, parameter, source)
        for spec in manifest.stacks
        for parameter, source in spec.parameters.items()
        if source.kind == "output"
    ]
    assert sources, "no output source in stacks.yaml: this test checks nothing"
    for key, parameter, source in sources:
        upstream, output = source.output_of
        assert output in all_templates[upstream]["Outputs"], (
            f"{key}.{parameter}: {upstream} has no output {output}"
        )
        assert parameter in all_templates[key]["Parameters"], f"{key} declares no parameter {parameter}"


def test_redshift_password_is_noecho_without_default_and_never_leaves_the_secret() -> None:
    storage = templates()["storage"]
    password = storage["Parameters"]["RedshiftMasterPassword"]
    assert password["NoEcho"] is True and "Default" not in password and password["MinLength"] == 8
    for key, template in templates().items():
        outputs = json.dumps(template.get("Outputs", {}))
        assert "RedshiftMasterPassword" not in outputs, f"{key} outputs the password"
        for name, parameter in template.get("Parameters", {}).items():
            if re.search(r"password|secret", name, re.IGNORECASE):
                assert parameter.get("NoEcho") is True and "Default" not in parameter, f"{key}.{name}"
    uses = [r for r in storage["Resources"].values() if "RedshiftMasterPassword" in json.dumps(r)]
    assert [r["Type"] for r in uses] == ["AWS::SecretsManager::Secret"], (
        "only the secret may hold the password"
    )
    namespace = storage["Resources"]["RedshiftNamespace"]["Properties"]["AdminUserPassword"]
    assert "{{resolve:secretsmanager:" in json.dumps(namespace)


def test_redshift_is_reachable_only_from_lambda_and_not_public() -> None:
    network = templates()["networking"]["Resources"]
    rules = [r["Properties"] for r in network.values() if r["Type"] == "AWS::EC2::SecurityGroupIngress"]
    rules += [
        rule
        for r in network.values()
        if r["Type"] == "AWS::EC2::SecurityGroup"
        for rule in r["Properties"].get("SecurityGroupIngress", [])
    ]
    redshift = [r for r in rules if str(r.get("FromPort")) == "5439"]
    assert redshift and all(
        r.get("SourceSecurityGroupId") == {"Ref": "LambdaSecurityGroup"} and "CidrIp" not in r
        for r in redshift
    )
    workgroup = templates()["storage"]["Resources"]["RedshiftWorkgroup"]["Properties"]
    assert workgroup["PubliclyAccessible"] is False


def test_functions_point_at_the_conventions_handlers() -> None:
    expected = {
        "chatbot.handler",
        "venue_popularity.handler",
        "ticket_prediction.handler",
        "recommendations.handler",
        "health_check.handler",
        "chatbot_maintenance.handler",
        "conversation_analytics.handler",
        "error_processor.handler",
    }
    handlers = {
        r["Properties"]["Handler"]
        for t in templates().values()
        for r in t["Resources"].values()
        if r["Type"] == "AWS::Lambda::Function"
    }
    assert handlers == expected


def test_every_handler_string_resolves_to_a_real_function() -> None:
    import importlib
    import inspect

    for template in templates().values():
        for name, resource in template["Resources"].items():
            if resource["Type"] != "AWS::Lambda::Function":
                continue
            module_name, attribute = resource["Properties"]["Handler"].rsplit(".", 1)
            module = importlib.import_module(module_name)
            function = getattr(module, attribute, None)
            assert callable(function), f"{name}: {module_name}.{attribute} is not a function"
            assert len(inspect.signature(function).parameters) == 2, (
                f"{name}: a handler takes (event, context)"
            )
