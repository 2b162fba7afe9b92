"""The whole policy layer over a folder of templates nobody tuned it for: every fixture under
tests/policy/fixtures (the false-positive and miss cases, compliant and not, in YAML and JSON, SAM
and Fn::ForEach, and two third-party-style templates with known problems): never a crash or a check
error, nothing of ours on the compliant forms, and SARIF that validates against the SARIF 2.1.0
shape GitHub code scanning reads. A hypothesis property puts intrinsics in every property position
our checks read and asserts no check raises.

AWS's own sample templates were the first choice for this corpus; they are not committed here (this
project vendors no files fetched from other repositories), so the fixtures stand in for them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from concert_platform.cli import main
from concert_platform.policy.checks import all_checks
from concert_platform.policy.model import Template
from concert_platform.policy.runner import PolicyReport, run_own_checks

CORPUS = Path(__file__).parent / "fixtures"
SCHEMA = json.loads((Path(__file__).parent / "sarif" / "sarif-2.1.0-subset.schema.json").read_text())


@pytest.fixture(scope="module")
def sarif_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, dict[str, Any], dict[str, Any]]:
    out = tmp_path_factory.mktemp("corpus")
    code = main(["policy", "--templates", str(CORPUS), "--format", "sarif", "--output", str(out / "r.sarif")])
    json_code = main(
        ["policy", "--templates", str(CORPUS), "--format", "json", "--output", str(out / "r.json")]
    )
    assert json_code == code
    return code, json.loads((out / "r.sarif").read_text()), json.loads((out / "r.json").read_text())


def test_corpus_runs_without_crash_or_check_error(sarif_run: tuple[int, dict, dict]) -> None:
    code, _, report = sarif_run
    assert code == 1  # the noncompliant forms and the third-party-style templates have findings
    assert report["errors"] == []
    fixtures = sorted(p for p in CORPUS.rglob("*") if p.suffix in (".yaml", ".json"))
    assert len(report["templates"]) == len(fixtures) >= 20


def test_corpus_each_case_is_found_in_its_noncompliant_form_only(sarif_run: tuple[int, dict, dict]) -> None:
    """In a whole-folder run (not file by file), cases/cpNNN-*.compliant.* get no CPNNN finding and
    cases/cpNNN-*.noncompliant.* do."""
    _, _, report = sarif_run
    found = {(f["check_id"], f["template"]) for f in report["findings"] if f["tool"] == "concert-platform"}
    cases = sorted(p.relative_to(CORPUS).as_posix() for p in (CORPUS / "cases").glob("cp*.*"))
    assert cases
    for case in cases:
        check = case.split("/")[-1].split("-")[0].upper()
        if ".noncompliant." in case:
            assert (check, case) in found, f"{check} missed in {case}"
        else:
            assert (check, case) not in found, f"{check} reported on the compliant {case}"


def test_corpus_sarif_validates_against_the_2_1_0_shape(sarif_run: tuple[int, dict, dict]) -> None:
    _, sarif, report = sarif_run
    jsonschema.Draft4Validator(SCHEMA).validate(sarif)
    run = sarif["runs"][0]
    assert len(run["results"]) == report["failed"]
    uris = {
        loc["physicalLocation"]["artifactLocation"]["uri"]
        for r in run["results"]
        for loc in r.get("locations", [])
    }
    assert "cases/cp007-sse-ref.noncompliant.yaml" in uris  # relative to the scanned folder
    assert run["originalUriBaseIds"]["SRCROOT"]["uri"].endswith("/tests/policy/fixtures/")
    assert "error" in {r["level"] for r in run["results"]}
    for rule in run["tool"]["driver"]["rules"]:
        assert rule["shortDescription"]["text"] and rule["helpUri"]
        assert float(rule["properties"]["security-severity"]) > 0


def test_the_shape_schema_refuses_what_code_scanning_cannot_read() -> None:
    """The schema is ours: it must fail an absolute URI, a bad level and a result without ruleId."""
    log = {
        "version": "2.1.0",
        "runs": [
            {
                "tool": {"driver": {"name": "x", "rules": [{"id": "R1"}]}},
                "results": [
                    {
                        "ruleId": "R1",
                        "level": "error",
                        "message": {"text": "m"},
                        "locations": [{"physicalLocation": {"artifactLocation": {"uri": "a/b.yaml"}}}],
                    }
                ],
            }
        ],
    }
    jsonschema.Draft4Validator(SCHEMA).validate(log)
    result = log["runs"][0]["results"][0]
    for broken in (
        {**result, "level": "fatal"},
        {k: v for k, v in result.items() if k != "ruleId"},
        {**result, "locations": [{"physicalLocation": {"artifactLocation": {"uri": "/abs/b.yaml"}}}]},
    ):
        bad = {**log, "runs": [{**log["runs"][0], "results": [broken]}]}
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.Draft4Validator(SCHEMA).validate(bad)


# -- a property: intrinsics anywhere our checks read must never make a check raise ---------------

INTRINSICS = st.sampled_from(
    [
        {"Ref": "Param"},
        {"Ref": "AWS::NoValue"},
        {"Ref": "Missing"},
        {"Fn::GetAtt": ["Other", "Arn"]},
        {"Fn::Sub": "${AWS::StackName}-x"},
        {"Fn::ImportValue": "shared"},
        {"Fn::FindInMap": ["Map", "Key", "Value"]},
        {"Fn::If": ["IsProd", "true", {"Ref": "AWS::NoValue"}]},
        {"Fn::If": ["IsProd", [1, "2"], {"a": 1}]},
        {"Fn::Join": ["", ["a", {"Ref": "Param"}]]},
        {"Fn::If": ["Unknown"]},
        "true",
        "false",
        "5439",
        "-1",
        "0.0.0.0/0",
        None,
        [],
        {},
        17,
    ]
)

PROPERTIES: dict[str, list[tuple[str, ...]]] = {
    "AWS::S3::Bucket": [
        ("BucketEncryption",),
        ("BucketEncryption", "ServerSideEncryptionConfiguration"),
        ("PublicAccessBlockConfiguration",),
        ("PublicAccessBlockConfiguration", "BlockPublicAcls"),
        ("VersioningConfiguration", "Status"),
        ("BucketName",),
    ],
    "AWS::S3::BucketPolicy": [("Bucket",), ("PolicyDocument",), ("PolicyDocument", "Statement")],
    "AWS::EC2::SecurityGroup": [("SecurityGroupIngress",), ("GroupName",)],
    "AWS::EC2::SecurityGroupIngress": [
        ("FromPort",),
        ("ToPort",),
        ("IpProtocol",),
        ("CidrIp",),
        ("GroupId",),
    ],
    "AWS::IAM::Role": [("Policies",), ("ManagedPolicyArns",)],
    "AWS::IAM::Policy": [("PolicyDocument",), ("PolicyDocument", "Statement")],
    "AWS::Logs::LogGroup": [("RetentionInDays",)],
    "AWS::DynamoDB::Table": [
        ("PointInTimeRecoverySpecification",),
        ("PointInTimeRecoverySpecification", "PointInTimeRecoveryEnabled"),
        ("SSESpecification",),
        ("SSESpecification", "SSEEnabled"),
    ],
    "AWS::Lambda::Function": [("TracingConfig",), ("TracingConfig", "Mode")],
    "AWS::Kinesis::Stream": [("StreamEncryption",), ("StreamEncryption", "EncryptionType")],
    "AWS::SNS::Topic": [("KmsMasterKeyId",)],
    "AWS::EC2::VPCEndpoint": [("ServiceName",)],
    "AWS::ApiGateway::Stage": [
        ("TracingEnabled",),
        ("AccessLogSetting",),
        ("AccessLogSetting", "DestinationArn"),
    ],
    "AWS::ApiGateway::Deployment": [("StageName",), ("StageDescription",)],
    "AWS::Redshift::Cluster": [("PubliclyAccessible",), ("MasterUserPassword",), ("VpcSecurityGroupIds",)],
    "AWS::RedshiftServerless::Namespace": [("AdminUserPassword",)],
    "AWS::RedshiftServerless::Workgroup": [("PubliclyAccessible",), ("SecurityGroupIds",)],
    "AWS::IAM::ManagedPolicy": [("PolicyDocument", "Statement"), ("ManagedPolicyArns",)],
    "AWS::CloudTrail::Trail": [("IsLogging",), ("IsMultiRegionTrail",), ("EnableLogFileValidation",)],
}
POSITIONS = [(kind, path) for kind, paths in PROPERTIES.items() for path in paths]


def _set(properties: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    node = properties
    for key in path[:-1]:
        child = node.get(key)
        node[key] = child = child if isinstance(child, dict) else {}
        node = child
    node[path[-1]] = value


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(POSITIONS), INTRINSICS), min_size=1, max_size=12))
def test_no_check_raises_on_intrinsics_in_any_position(
    placements: list[tuple[tuple[str, tuple], Any]],
) -> None:
    resources: dict[str, Any] = {}
    for index, ((kind, path), value) in enumerate(placements):
        properties: dict[str, Any] = {}
        _set(properties, path, value)
        resources[f"R{index}"] = {"Type": kind, "Properties": properties}
    data = {
        "Parameters": {
            "Param": {"Type": "String", "Default": "x"},
            "DbPassword": {"Type": "String", "NoEcho": placements[0][1]},
        },
        "Outputs": {"Leak": {"Value": placements[-1][1]}},
        "Conditions": {"IsProd": {"Fn::Equals": [{"Ref": "Param"}, "prod"]}},
        "Mappings": {"Map": {"Key": {"Value": "AES256"}}},
        "Resources": resources,
    }
    template = Template(path=Path("generated.yaml"), name="generated.yaml", data=data, lines={})
    report = PolicyReport(templates=[template.name])
    run_own_checks([template], report)
    assert report.errors == [], report.errors
    assert report.checks_run == len(all_checks())
