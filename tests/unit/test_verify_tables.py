"""The verification tables against a deliberately wrong engine: for every resource type the six
templates use, every declared property the table compares is dropped from, then altered in, the
engine's real answer (and so is each value the template declares inside it, one at a time), and
verification must fail naming that property.

The platform is deployed once on moto (`mock_aws`) as `production` with an alert email, so the
conditional resources (auto scaling, reserved concurrency, email subscriptions) exist too.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from moto import mock_aws
from test_embedded_lifecycle import small_artifacts
from test_stacks_on_moto import MockAwsEngine

from concert_platform.engines.moto_ext import register, stack_lifecycle
from concert_platform.manifest import load_manifest
from concert_platform.resolve import contains_unresolved
from concert_platform.verify import (
    TABLES,
    Resource,
    VerifyContext,
    check,
    describe_resource,
    verify_environment,
)
from concert_platform.verify._base import Field, Table, lookup, normalise_scalar
from concert_platform.verify._run import make_resolver
from concert_platform.verify._stack import read_exports, read_stack
from concert_platform.workflow import deploy_environment

ENVIRONMENT = "production"


@dataclass
class Described:
    resource: Resource
    observed: dict[str, Any]


def template_types() -> set[str]:
    manifest = load_manifest()
    return {
        resource["Type"]
        for stack in manifest.stacks
        for resource in manifest.load_template(stack.key).get("Resources", {}).values()
    }


@pytest.fixture(scope="module")
def deployed() -> Iterator[tuple[MockAwsEngine, dict[str, list[Described]]]]:
    register()
    stack_lifecycle.apply()
    with mock_aws():
        engine = MockAwsEngine("us-east-1")
        manifest = load_manifest()
        deploy_environment(
            engine,
            manifest,
            ENVIRONMENT,
            environ={"REDSHIFT_MASTER_PASSWORD": "Sup3rSecretPw", "ALERT_EMAIL": "ops@example.com"},
            interactive=False,
            artifacts=small_artifacts(),
        )
        exports = read_exports(engine)
        account = engine.client("sts").get_caller_identity()["Account"]
        by_type: dict[str, list[Described]] = {}
        for spec in manifest.stacks:
            state = read_stack(engine, manifest, spec.key, ENVIRONMENT)
            assert state is not None
            ctx = VerifyContext(engine=engine, region=engine.region, account=account)
            ctx.resolver = make_resolver(engine, state, exports, ctx)
            for logical_id, declared in state.template["Resources"].items():
                if not ctx.resolver.resource_enabled(declared):
                    continue
                props = ctx.resolver.resolve(declared.get("Properties", {}))
                resource = Resource(
                    spec.key, logical_id, declared["Type"], state.physical_ids[logical_id], props
                )
                by_type.setdefault(resource.type, []).append(
                    Described(resource, describe_resource(ctx, resource))
                )
        yield engine, by_type


def _perturb(value: Any) -> Any:
    """A wrong version of every leaf of `value` (numbers moved, flags flipped, strings changed)."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int | float):
        return value + 1
    if isinstance(value, str):
        try:
            return str(int(value) + 1)
        except ValueError:
            return f"wrong-{value}-wrong"
    if isinstance(value, list):
        return [_perturb(item) for item in value] if value else ["wrong"]
    if isinstance(value, dict):
        return {key: _perturb(item) for key, item in value.items()} if value else {"wrong": "wrong"}
    return "wrong"


def _mutated(observed: dict[str, Any], path: str, how: str) -> dict[str, Any]:
    answer = copy.deepcopy(observed)
    *parents, last = path.split(".")
    node = answer
    for key in parents:
        node = node[key]
    if how == "drop":
        del node[last]
    else:
        node[last] = _perturb(node[last])
    return answer


def _leaves(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _leaves(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _leaves(value, (*path, index))
    else:
        yield path, node


def _mutated_leaf(
    observed: dict[str, Any], field_path: str, leaf: tuple[Any, ...], how: str
) -> dict[str, Any]:
    answer = copy.deepcopy(observed)
    node: Any = lookup(answer, field_path)
    for key in leaf[:-1]:
        node = node[key]
    if how == "drop":
        del node[leaf[-1]]
    else:
        node[leaf[-1]] = _perturb(node[leaf[-1]])
    return answer


def _missed_mutations(table: Table, item: Described) -> list[str]:
    """Every compared property of one resource, dropped then altered in the engine's answer, and
    inside it every value the template declares (a TTL's attribute name, one action of one
    statement, one alarm dimension), dropped then altered on its own: what was not caught."""
    missed = []
    baseline = check(table, item.resource, item.observed)
    if not baseline.verified:
        return [f"{item.resource.logical_id}: the unmutated answer does not verify: {baseline.mismatches}"]
    for prop in baseline.compared:
        path = table.fields[prop].path
        answers = [(f"{how} {path}", _mutated(item.observed, path, how)) for how in ("drop", "alter")]
        declared = {
            normalise_scalar(v) for _, v in _leaves(item.resource.props[prop]) if not isinstance(v, bool)
        }
        for leaf, value in _leaves(lookup(item.observed, path)):
            if leaf and not isinstance(value, bool) and normalise_scalar(value) in declared:
                answers += [
                    (f"{how} {path}{list(leaf)}", _mutated_leaf(item.observed, path, leaf, how))
                    for how in ("drop", "alter")
                ]
        for what, answer in answers:
            outcome = check(table, item.resource, answer)
            if outcome.verified or not any(m.startswith(prop) for m in outcome.mismatches):
                missed.append(f"{item.resource.logical_id}: {what} ({prop}): {outcome.mismatches}")
    return missed


def test_every_declared_property_of_every_type_is_caught_when_dropped_or_altered(deployed) -> None:
    """One test on one deployment (xdist would deploy once per worker for split tests)."""
    engine, by_type = deployed
    types = template_types()
    assert types - set(TABLES) == set(), "types without a verification table"
    assert types - set(by_type) == set(), "types this test did not deploy, so cannot mutate"

    result = verify_environment(engine, load_manifest(), ENVIRONMENT)
    assert result["unverified"] == []
    assert result["verified"] == result["declared"] == sum(len(items) for items in by_type.values())
    for detail in result["details"]:
        # Nothing is waved through: each property not compared names a provider-schema reason.
        for prop, reason in detail["not_comparable"].items():
            assert "write-only in the provider schema" in reason, (detail["logical_id"], prop, reason)

    missed = {
        resource_type: [
            miss for item in by_type[resource_type] for miss in _missed_mutations(TABLES[resource_type], item)
        ]
        for resource_type in sorted(types)
    }
    assert {t: m for t, m in missed.items() if m} == {}
    compared = {
        t: sum(len(check(TABLES[t], i.resource, i.observed).compared) for i in by_type[t]) for t in types
    }
    assert all(compared.values()), (
        f"types with no compared property: {[t for t, n in compared.items() if not n]}"
    )


# ---- the engine's rules, on hand-made answers --------------------------------------------------
WORKGROUP = TABLES["AWS::RedshiftServerless::Workgroup"]


def _workgroup(**props: Any) -> Resource:
    return Resource("storage", "RedshiftWorkgroup", WORKGROUP.type, "concert-x", props)


def test_a_field_the_engine_does_not_return_is_a_mismatch_not_a_default() -> None:
    # PubliclyAccessible: false used to pass when the engine said nothing (false == default).
    outcome = check(WORKGROUP, _workgroup(PubliclyAccessible=False), {"workgroupName": "concert-x"})
    assert outcome.mismatches == ["PubliclyAccessible: the engine does not return it (publiclyAccessible)"]


def test_a_declared_property_without_a_rule_is_a_mismatch() -> None:
    outcome = check(WORKGROUP, _workgroup(MaxCapacity=512), {"workgroupName": "concert-x"})
    assert outcome.mismatches == ["MaxCapacity: no verification rule for this declared property"]


def test_write_only_properties_come_from_the_provider_schema() -> None:
    table = TABLES["AWS::RedshiftServerless::Namespace"]
    outcome = check(table, Resource("s", "N", table.type, "n", {"AdminUserPassword": "x"}), {})
    assert outcome.verified
    assert "write-only" in outcome.not_comparable["AdminUserPassword"]


def test_write_only_answers_are_kept_per_cfn_lint_version_and_read_back_without_cfn_lint(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first lookup asks cfn-lint and keeps the answer in the cache file; a later process
    (the in-memory caches cleared) answers from the file without importing cfn-lint; a type the
    file lacks still comes from cfn-lint."""
    import json
    import sys

    from concert_platform import provider_schemas
    from concert_platform.verify import _base

    cache_file = tmp_path / "provider-schemas-cfn-lint-test.json"
    monkeypatch.setattr(provider_schemas, "cache_file", lambda: cache_file)

    def fresh_process() -> None:
        provider_schemas.clear_caches()

    fresh_process()
    assert "AdminUserPassword" in _base.write_only("AWS::RedshiftServerless::Namespace")
    assert json.loads(cache_file.read_text())["AWS::RedshiftServerless::Namespace"]
    fresh_process()
    with monkeypatch.context() as blocked:
        blocked.setitem(sys.modules, "cfnlint.schema", None)  # importing it would raise
        assert "AdminUserPassword" in _base.write_only("AWS::RedshiftServerless::Namespace")
        with pytest.raises(ImportError):
            _base.write_only("AWS::SecretsManager::Secret")  # not in the file: cfn-lint is asked
    fresh_process()
    assert _base.write_only("AWS::Not::AType") == ()
    assert json.loads(cache_file.read_text())["AWS::Not::AType"] == {"createOnly": [], "writeOnly": []}
    fresh_process()


def test_an_unresolvable_template_value_is_reported_not_compared() -> None:
    from concert_platform.resolve import UNRESOLVED

    outcome = check(WORKGROUP, _workgroup(NamespaceName=UNRESOLVED), {"namespaceName": "anything"})
    assert outcome.verified and outcome.compared == []
    assert "cannot be resolved" in outcome.not_comparable["NamespaceName"]
    assert contains_unresolved([UNRESOLVED])


POLICY = Table(
    "Test::Policy",
    lambda _c, _r: {},
    {"PolicyDocument": Field("Policy", TABLES["AWS::S3::BucketPolicy"].fields["PolicyDocument"].compare)},
)
DOCUMENT: dict[str, Any] = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "A",
            "Effect": "Allow",
            "Principal": "*",
            "Action": ["s3:GetObject", "s3:PutObject"],
            "Resource": "arn:aws:s3:::b/*",
        },
        {
            "Sid": "B",
            "Effect": "Deny",
            "Principal": {"AWS": "*"},
            "Action": "s3:*",
            "Resource": ["arn:aws:s3:::b"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        },
    ],
}


def _policy_check(observed: Any) -> list[str]:
    return check(
        POLICY, Resource("s", "P", "Test::Policy", "p", {"PolicyDocument": DOCUMENT}), {"Policy": observed}
    ).mismatches


def test_policy_documents_compare_by_content() -> None:
    import json

    same = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "B",
                "Effect": "Deny",
                "Principal": {"AWS": ["*"]},
                "Action": ["s3:*"],
                "Resource": "arn:aws:s3:::b",
                "Condition": {"Bool": {"aws:SecureTransport": False}},
            },
            {
                "Sid": "A",
                "Effect": "Allow",
                "Principal": {"AWS": "*"},
                "Action": ["s3:PutObject", "s3:GetObject"],
                "Resource": ["arn:aws:s3:::b/*"],
            },
        ],
    }
    assert _policy_check(json.dumps(same)) == []  # JSON text, reordered, one-or-many forms
    fewer_actions = copy.deepcopy(DOCUMENT)
    fewer_actions["Statement"][0]["Action"] = ["s3:GetObject"]
    assert [m.split(":")[0] for m in _policy_check(fewer_actions)] == ["PolicyDocument.Statement 'A'"]
    extra = copy.deepcopy(DOCUMENT)
    extra["Statement"].append(
        {"Effect": "Allow", "Principal": "*", "Action": "s3:DeleteObject", "Resource": "*"}
    )
    assert [m.split(" {")[0] for m in _policy_check(extra)] == [
        "PolicyDocument.Statement: the engine holds an undeclared statement"
    ]


def test_lists_are_sets_only_where_aws_keeps_no_order() -> None:
    table = TABLES["AWS::DynamoDB::Table"]
    keys = [{"AttributeName": "a", "KeyType": "HASH"}, {"AttributeName": "b", "KeyType": "RANGE"}]
    resource = Resource(
        "c",
        "T",
        table.type,
        "t",
        {"KeySchema": keys, "AttributeDefinitions": [{"AttributeName": "a"}, {"AttributeName": "b"}]},
    )
    swapped = {
        "KeySchema": keys[::-1],
        "AttributeDefinitions": [{"AttributeName": "b"}, {"AttributeName": "a"}],
    }
    outcome = check(table, resource, swapped)
    assert outcome.compared == ["AttributeDefinitions"]  # a set: order is free
    assert outcome.mismatches and all(
        m.startswith("KeySchema[") for m in outcome.mismatches
    )  # order is HASH, RANGE


def test_a_secret_is_compared_by_keys_and_never_shown() -> None:
    table = TABLES["AWS::SecretsManager::Secret"]
    declared = Resource(
        "s", "S", table.type, "arn", {"SecretString": '{"username": "admin", "password": "****"}'}
    )
    assert check(
        table, declared, {"SecretString": '{"username": "admin", "password": "Hunter2Hunter2"}'}
    ).verified
    for observed, named in (
        ('{"username": "root", "password": "Hunter2Hunter2"}', "SecretString.username"),
        ('{"username": "admin", "password": ""}', "SecretString.password"),
        ('{"username": "admin"}', "SecretString.password"),
        ('{"username": "admin", "password": "Hunter2Hunter2", "token": "t0p"}', "SecretString.token"),
        ("Hunter2Hunter2", "SecretString"),
    ):
        mismatches = check(table, declared, {"SecretString": observed}).mismatches
        assert mismatches and all(m.startswith(named) for m in mismatches), mismatches
        assert not any(secret in m for m in mismatches for secret in ("Hunter2", "root", "t0p")), mismatches


def test_an_undeclared_environment_variable_is_a_mismatch() -> None:
    table = TABLES["AWS::Lambda::Function"]
    declared = Resource("c", "F", table.type, "f", {"Environment": {"Variables": {"A": "1"}}})
    assert check(table, declared, {"Environment": {"Variables": {"A": "1"}}}).verified
    outcome = check(table, declared, {"Environment": {"Variables": {"A": "1", "DEBUG": "true"}}})
    assert outcome.mismatches == ["Environment.Variables.DEBUG: the engine sets an undeclared variable"]


def test_every_declared_property_of_the_templates_has_a_rule_or_a_schema_reason() -> None:
    from concert_platform.verify._base import _write_only_reason

    manifest = load_manifest()
    without = [
        f"{stack.key}/{logical_id} {resource['Type']}.{prop}"
        for stack in manifest.stacks
        for logical_id, resource in manifest.load_template(stack.key)["Resources"].items()
        for prop, value in resource.get("Properties", {}).items()
        if prop not in TABLES[resource["Type"]].fields
        and prop not in TABLES[resource["Type"]].not_comparable
        and not _write_only_reason(resource["Type"], prop, value)
    ]
    assert without == []


def test_a_resource_the_engine_cannot_show_is_unverified_with_the_reason() -> None:
    from botocore.exceptions import ClientError, ParamValidationError

    from concert_platform.verify import verify_resource
    from concert_platform.verify._base import NotFound, Unusable

    def raising(exc: Exception) -> Table:
        def describe(_ctx: VerifyContext, _r: Resource) -> dict[str, Any]:
            raise exc

        return Table("Test::Thing", describe, {})

    class Resolved:
        def resolve(self, node: Any) -> Any:
            return node

    ctx = VerifyContext(engine=None, region="us-east-1", account="123456789012", resolver=Resolved())  # type: ignore[arg-type]
    declared = {"Type": "Test::Thing", "Properties": {}}
    assert verify_resource(ctx, "s", "Thing", declared, None)[0] == (
        "the engine reports no physical resource: it was not created"
    )
    assert verify_resource(ctx, "s", "Thing", declared, "id")[0] == "no verification table for Test::Thing"
    not_found = ClientError({"Error": {"Code": "NotFound", "Message": "no such thing"}}, "DescribeThing")
    for exc, reason in (
        (not_found, "not found through the DescribeThing API (NotFound: no such thing)"),
        (NotFound("thing id"), "not found: thing id"),
        (Unusable("key id is PendingDeletion"), "key id is PendingDeletion"),
        (
            IndexError("list index out of range"),
            "the engine's answer lacks what verification reads (IndexError: list index out of range)",
        ),
        (
            ParamValidationError(report="restApiId is None"),
            "cannot ask the engine for it (ParamValidationError: Parameter validation failed:\nrestApiId is None)",
        ),
    ):
        TABLES["Test::Thing"] = raising(exc)
        try:
            assert verify_resource(ctx, "s", "Thing", declared, "id")[0] == reason
        finally:
            del TABLES["Test::Thing"]
