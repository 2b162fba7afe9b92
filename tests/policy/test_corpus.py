"""The whole policy layer over folders of templates nobody tuned it for, in one run each:

- **The third-party corpus** (tests/policy/corpus/): 31 AWS Quick Start, public and SAM templates
  that cfn-lint ships as test fixtures in its pinned, hash-checked PyPI sdist, extracted at test
  time into the gitignored tests/policy/corpus/templates/ (tests/policy/corpus_templates.py; no
  network: the test fails and says what to do). `concert-platform policy --templates
  tests/policy/corpus --format sarif` exits 0 or 1 with nothing on stderr, no check errors, SARIF
  valid against the OASIS 2.1.0 schema and what code scanning needs, and our checks' findings on
  each template equal to tests/policy/corpus/expected.json (reviewed by hand: a new false positive
  or a lost finding names the template and the check; the templates listed with no check get
  nothing of ours).
- **Our fixtures** (tests/policy/fixtures/: each false-positive and miss case, compliant and not,
  YAML and JSON, SAM and Fn::ForEach, and two third-party-style templates with known problems):
  no check error, each case found in its non-compliant form only, SARIF valid the same way.

The SARIF schemas are shown to refuse planted faults, and a hypothesis property puts intrinsics in
every property position our checks read and asserts no check raises."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from concert_platform.cli import main
from concert_platform.policy.checks import all_checks
from concert_platform.policy.model import Template
from concert_platform.policy.runner import PolicyReport, run_own_checks
from tests.policy import corpus_templates
from tests.policy.sarif_validation import code_scanning_errors, oasis_errors, sarif_errors

FIXTURES = Path(__file__).parent / "fixtures"
CORPUS = corpus_templates.CORPUS
TEMPLATE_SET = "(template set)"


# -- the third-party corpus ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def corpus_sarif(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The Done-when command, as a user runs it: a separate process over tests/policy/corpus."""
    problem = None
    try:
        corpus_templates.populate()
    except corpus_templates.CorpusUnavailable as exc:
        problem = str(exc)
    if problem:  # a failure, never a skip: the corpus is part of the gate
        pytest.fail(f"policy corpus unavailable: {problem}", pytrace=False)
    output = tmp_path_factory.mktemp("corpus") / "corpus.sarif"
    command = [str(Path(sys.executable).parent / "concert-platform"), "policy", "--templates", str(CORPUS)]
    result = subprocess.run(
        [*command, "--format", "sarif", "--output", str(output)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode in (0, 1), f"exit {result.returncode}: {result.stderr.strip()[-2000:]}"
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout, result.stderr[-2000:]
    log: dict[str, Any] = json.loads(output.read_text())
    return log


def our_findings(log: dict[str, Any]) -> dict[str, set[str]]:
    """template (relative to the scanned folder) -> our check ids found on it, from a SARIF log."""
    run = log["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    found: dict[str, set[str]] = defaultdict(set)
    for result in run["results"]:
        if rules[result["ruleIndex"]]["properties"]["tool"] != "concert-platform":
            continue
        uris = [loc["physicalLocation"]["artifactLocation"]["uri"] for loc in result.get("locations", [])]
        for uri in uris or [TEMPLATE_SET]:
            found[uri].add(result["ruleId"])
    return found


def test_corpus_runs_with_no_check_error_and_reads_every_template(corpus_sarif: dict[str, Any]) -> None:
    invocation = corpus_sarif["runs"][0]["invocations"][0]
    notifications = [n["message"]["text"] for n in invocation["toolExecutionNotifications"]]
    errors = [n["message"]["text"] for n in invocation["toolExecutionNotifications"] if n["level"] == "error"]
    assert errors == [] and invocation["executionSuccessful"], errors
    # expected.json and README.md are ours, not templates: noted and skipped, never an abort
    assert notifications == [
        "not scanned: expected.json: not a template: no AWSTemplateFormatVersion and no Resources"
    ]


def test_corpus_sarif_is_valid_sarif_2_1_0_for_code_scanning(corpus_sarif: dict[str, Any]) -> None:
    assert sarif_errors(corpus_sarif) == []
    base = corpus_sarif["runs"][0]["originalUriBaseIds"]["SRCROOT"]["uri"]
    assert base.endswith("/tests/policy/corpus/")


def test_corpus_findings_of_our_checks_are_the_reviewed_ones(corpus_sarif: dict[str, Any]) -> None:
    """Per template, the set of our check ids equals expected.json: a new finding (a false positive
    until reviewed) or a lost one (a miss) turns this red and names both."""
    expected = {
        t: set(checks) for t, checks in json.loads(corpus_templates.EXPECTED.read_text())["expected"].items()
    }
    found = our_findings(corpus_sarif)
    scanned = {
        f"templates/{p.relative_to(corpus_templates.TEMPLATES).as_posix()}"
        for p in corpus_templates.TEMPLATES.rglob("*")
        if p.suffix in corpus_templates.SUFFIXES
    }
    assert scanned == set(expected), f"templates not in expected.json: {sorted(scanned ^ set(expected))}"
    problems = []
    for template in sorted(set(expected) | set(found)):
        new = found.get(template, set()) - expected.get(template, set())
        lost = expected.get(template, set()) - found.get(template, set())
        problems += [
            f"{template}: {c} is new (a false positive of ours, or review and add it)" for c in sorted(new)
        ]
        problems += [f"{template}: {c} is no longer found (a miss)" for c in sorted(lost)]
    assert problems == [], "\n".join(problems)
    compliant = sorted(t for t, checks in expected.items() if not checks)
    assert len(compliant) >= 5 and not any(found.get(t) for t in compliant)


def test_corpus_download_failure_is_one_line_saying_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No network (an index nobody listens on) and an empty cache: a clear error, not a skip."""
    monkeypatch.setenv("PIP_INDEX_URL", "http://127.0.0.1:9/simple")
    monkeypatch.setenv("PIP_RETRIES", "0")
    monkeypatch.setenv("PIP_TIMEOUT", "2")
    monkeypatch.setenv("PIP_CACHE_DIR", str(tmp_path / "pip-cache"))
    with pytest.raises(corpus_templates.CorpusUnavailable) as raised:
        corpus_templates.download(tmp_path / "artifact-cache")
    message = str(raised.value)
    assert "\n" not in message and "could not download cfn-lint==1.58.0" in message
    assert "python -m tests.policy.corpus_templates" in message


def test_corpus_sdist_with_other_bytes_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A local index serving a file of the pinned name with other bytes: refused on its sha256."""
    links = tmp_path / "links"
    links.mkdir()
    spec = corpus_templates.source()
    (links / spec["sdist"]).write_bytes(b"not the release")
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(links))
    monkeypatch.setenv("PIP_CACHE_DIR", str(tmp_path / "pip-cache"))
    with pytest.raises(corpus_templates.CorpusUnavailable, match="does not match the sha256"):
        corpus_templates.download(tmp_path / "artifact-cache")
    assert not (tmp_path / "artifact-cache" / "sdists" / spec["sdist"]).exists()


# -- our fixtures, as one folder -----------------------------------------------------------------


@pytest.fixture(scope="module")
def sarif_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, dict[str, Any], dict[str, Any]]:
    out = tmp_path_factory.mktemp("fixtures")
    code = main(
        ["policy", "--templates", str(FIXTURES), "--format", "sarif", "--output", str(out / "r.sarif")]
    )
    json_code = main(
        ["policy", "--templates", str(FIXTURES), "--format", "json", "--output", str(out / "r.json")]
    )
    assert json_code == code
    return code, json.loads((out / "r.sarif").read_text()), json.loads((out / "r.json").read_text())


def test_fixtures_run_without_crash_or_check_error(sarif_run: tuple[int, dict, dict]) -> None:
    code, _, report = sarif_run
    assert code == 1  # the noncompliant forms and the third-party-style templates have findings
    assert report["errors"] == []
    fixtures = sorted(p for p in FIXTURES.rglob("*") if p.suffix in (".yaml", ".json"))
    assert len(report["templates"]) == len(fixtures) >= 20


def test_fixtures_each_case_is_found_in_its_noncompliant_form_only(sarif_run: tuple[int, dict, dict]) -> None:
    """In a whole-folder run (not file by file), cases/cpNNN-*.compliant.* get no CPNNN finding and
    cases/cpNNN-*.noncompliant.* do."""
    _, _, report = sarif_run
    found = {(f["check_id"], f["template"]) for f in report["findings"] if f["tool"] == "concert-platform"}
    cases = sorted(p.relative_to(FIXTURES).as_posix() for p in (FIXTURES / "cases").glob("cp*.*"))
    assert cases
    for case in cases:
        check = case.split("/")[-1].split("-")[0].upper()
        if ".noncompliant." in case:
            assert (check, case) in found, f"{check} missed in {case}"
        else:
            assert (check, case) not in found, f"{check} reported on the compliant {case}"


def test_fixtures_sarif_is_valid_sarif_2_1_0_for_code_scanning(sarif_run: tuple[int, dict, dict]) -> None:
    _, sarif, report = sarif_run
    assert sarif_errors(sarif) == []
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
        assert rule["shortDescription"]["text"] and (rule.get("helpUri") or rule["help"]["text"])
        assert float(rule["properties"]["security-severity"]) > 0


# -- the schemas refuse planted faults -----------------------------------------------------------

VALID_LOG: dict[str, Any] = {
    "version": "2.1.0",
    "runs": [
        {
            "tool": {
                "driver": {
                    "name": "x",
                    "rules": [
                        {
                            "id": "R1",
                            "shortDescription": {"text": "a rule"},
                            "helpUri": "https://example.com/r1",
                            "properties": {"security-severity": "7.5"},
                        }
                    ],
                }
            },
            "originalUriBaseIds": {"SRCROOT": {"uri": "file:///src/"}},
            "results": [
                {
                    "ruleId": "R1",
                    "ruleIndex": 0,
                    "level": "error",
                    "message": {"text": "m"},
                    "locations": [
                        {
                            "physicalLocation": {
                                "artifactLocation": {"uri": "a/b.yaml", "uriBaseId": "SRCROOT"},
                                "region": {"startLine": 3},
                            }
                        }
                    ],
                }
            ],
        }
    ],
}


def _planted(path: list[Any], value: Any = None, delete: bool = False) -> dict[str, Any]:
    log = json.loads(json.dumps(VALID_LOG))
    node = log
    for key in path[:-1]:
        node = node[key]
    if delete:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return log


RESULT = ["runs", 0, "results", 0]
RULE = ["runs", 0, "tool", "driver", "rules", 0]


def test_the_valid_log_passes_both_schemas() -> None:
    assert sarif_errors(VALID_LOG) == []


@pytest.mark.parametrize(
    ("fault", "log"),
    [
        ("a level SARIF does not have", _planted([*RESULT, "level"], "fatal")),
        ("a result without its message", _planted([*RESULT, "message"], delete=True)),
        ("a run without its tool", _planted(["runs", 0, "tool"], delete=True)),
        ("another SARIF version", _planted(["version"], "2.0.0")),
        (
            "a line number 0",
            _planted([*RESULT, "locations", 0, "physicalLocation", "region", "startLine"], 0),
        ),
        (
            "a relative helpUri (SARIF wants an absolute URI)",
            _planted([*RULE, "helpUri"], "docs/policy.md#cp007"),
        ),
    ],
)
def test_the_oasis_schema_refuses(fault: str, log: dict[str, Any]) -> None:
    assert oasis_errors(log), f"the OASIS schema accepted {fault}"


@pytest.mark.parametrize(
    ("fault", "log"),
    [
        ("a result without ruleId", _planted([*RESULT, "ruleId"], delete=True)),
        (
            "an absolute artifact path",
            _planted([*RESULT, "locations", 0, "physicalLocation", "artifactLocation", "uri"], "/abs/b.yaml"),
        ),
        (
            "a file: artifact URI",
            _planted(
                [*RESULT, "locations", 0, "physicalLocation", "artifactLocation", "uri"], "file:///abs/b.yaml"
            ),
        ),
        (
            "a base URI without its final slash",
            _planted(["runs", 0, "originalUriBaseIds", "SRCROOT", "uri"], "file:///src"),
        ),
        ("a rule without help", _planted([*RULE, "helpUri"], delete=True)),
        ("a non-numeric security-severity", _planted([*RULE, "properties", "security-severity"], "high")),
    ],
)
def test_the_code_scanning_schema_refuses_what_the_oasis_schema_allows(
    fault: str, log: dict[str, Any]
) -> None:
    assert oasis_errors(log) == [], f"the OASIS schema already refuses {fault}: drop it from ours"
    assert code_scanning_errors(log), f"the code-scanning schema accepted {fault}"


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
