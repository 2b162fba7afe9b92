"""Real faults planted in the embedded engine, deployed, and caught by verification by name.

Each fault is one the old count-and-default verifier let through: a workgroup whose answer
omits `publiclyAccessible` (false == the default) or that ignores EnhancedVpcRouting, alarms
that drop their Dimensions, tables whose TTL is left disabled (the attribute name still set),
and roles whose inline policy loses one action (same statement count)."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest
from moto import mock_aws
from moto.dynamodb.models.table import Table as DynamoTable
from moto.iam.models import Role
from test_embedded_lifecycle import small_artifacts
from test_stacks_on_moto import MockAwsEngine

from concert_platform.engines.moto_ext import cloudwatch, register, stack_lifecycle
from concert_platform.engines.moto_ext.redshift_serverless import models as redshift
from concert_platform.manifest import load_manifest
from concert_platform.verify import verify_environment
from concert_platform.workflow import deploy_environment

ENVIRONMENT = "ut-faults"


def _rewrite_properties(monkeypatch: pytest.MonkeyPatch, model: Any, rewrite: Any) -> None:
    """The engine's CloudFormation model of `model` creates from rewritten properties."""
    original = model.create_from_cloudformation_json.__func__

    def create(cls: Any, name: str, cloudformation_json: Any, *args: Any, **kwargs: Any) -> Any:
        changed = copy.deepcopy(cloudformation_json)
        rewrite(changed.setdefault("Properties", {}))
        return original(cls, name, changed, *args, **kwargs)

    monkeypatch.setattr(model, "create_from_cloudformation_json", classmethod(create))


def _drop_one_action(properties: dict[str, Any]) -> None:
    for policy in properties.get("Policies", [])[:1]:
        statement = policy["PolicyDocument"]["Statement"][0]
        if isinstance(statement["Action"], list) and len(statement["Action"]) > 1:
            statement["Action"] = statement["Action"][:-1]


def _disable_ttl(properties: dict[str, Any]) -> None:
    if "TimeToLiveSpecification" in properties:
        properties["TimeToLiveSpecification"]["Enabled"] = False


def _workgroup_answer_without_public_flag(self: Any) -> dict[str, Any]:
    answer = _ORIGINAL_WORKGROUP_ANSWER(self)
    answer.pop("publiclyAccessible")
    return answer


_ORIGINAL_WORKGROUP_ANSWER = redshift.Workgroup.to_dict


@pytest.fixture(scope="module")
def faulty_verification() -> Iterator[tuple[dict[str, Any], dict[str, dict[str, Any]]]]:
    register()
    stack_lifecycle.apply()
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setattr(redshift.Workgroup, "to_dict", _workgroup_answer_without_public_flag)
        _rewrite_properties(
            monkeypatch, redshift.WorkgroupResource, lambda p: p.pop("EnhancedVpcRouting", None)
        )
        _rewrite_properties(monkeypatch, cloudwatch.Alarm, lambda p: p.pop("Dimensions", None))
        _rewrite_properties(monkeypatch, DynamoTable, _disable_ttl)
        _rewrite_properties(monkeypatch, Role, _drop_one_action)
        with mock_aws():
            engine = MockAwsEngine("us-east-1")
            manifest = load_manifest()
            deploy_environment(
                engine,
                manifest,
                ENVIRONMENT,
                environ={"REDSHIFT_MASTER_PASSWORD": "Sup3rSecretPw"},
                interactive=False,
                artifacts=small_artifacts(),
            )
            result = verify_environment(engine, manifest, ENVIRONMENT)
            declared = {
                logical_id: resource
                for spec in manifest.stacks
                for logical_id, resource in manifest.load_template(spec.key)["Resources"].items()
            }
            yield result, declared


def _declaring(declared: dict[str, dict[str, Any]], resource_type: str, prop: str) -> set[str]:
    return {
        logical_id
        for logical_id, resource in declared.items()
        if resource["Type"] == resource_type and prop in resource.get("Properties", {})
    }


FAULTS = {
    "AWS::RedshiftServerless::Workgroup": [
        "PubliclyAccessible: the engine does not return it",
        "EnhancedVpcRouting: engine has false, template sets true",
    ],
    "AWS::CloudWatch::Alarm": ["Dimensions"],
    "AWS::DynamoDB::Table": ["TimeToLiveSpecification.Enabled: engine has false, template sets true"],
    "AWS::IAM::Role": ["].PolicyDocument.Statement"],
}


def test_exactly_the_resources_the_faults_touch_fail_each_naming_its_property(faulty_verification) -> None:
    """One test on one deployment (xdist would deploy once per worker for split tests)."""
    result, declared = faulty_verification
    multi_action_roles = {
        logical_id
        for logical_id in _declaring(declared, "AWS::IAM::Role", "Policies")
        if isinstance(
            declared[logical_id]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"][0]["Action"],
            list,
        )
    }
    expected = (
        {"RedshiftWorkgroup"}
        | _declaring(declared, "AWS::CloudWatch::Alarm", "Dimensions")
        | _declaring(declared, "AWS::DynamoDB::Table", "TimeToLiveSpecification")
        | multi_action_roles
    )
    assert {u["logical_id"] for u in result["unverified"]} == expected
    assert result["verified"] == result["declared"] - len(expected)
    for entry in result["unverified"]:
        for named in FAULTS[entry["type"]]:
            assert named in entry["reason"], (entry["logical_id"], named, entry["reason"])
