"""The update gate (issue 22): `e2e --base REF` deploys a git revision and updates it to the working
tree; each update CloudFormation refuses, and each risky one the review blocks, is planted once.

A copy of the project is made a git repository (the base commit); a test plants its change in the
copy's working tree. One run goes through the whole `e2e --base` (a handler-only change, which
passes). The planted faults share one deployment of the base revision on one engine: each is
applied as an update of the one stack it touches, reviewed, then put back, as the gate does it
but without deploying the platform again for each."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.integration.conftest import Edit, copy_project

from concert_platform.engines.embedded import EmbeddedEngine
from concert_platform.errors import DeployError
from concert_platform.manifest import load_manifest
from concert_platform.update_gate import write_as_a_user
from concert_platform.update_review import build_review, load_acknowledgements, markdown, snapshot
from concert_platform.workflow import deploy_environment

pytestmark = [pytest.mark.integration, pytest.mark.own_engine]

ENVIRON = {"REDSHIFT_MASTER_PASSWORD": "Sup3rSecretPw"}
ENVIRONMENT = "upd"


def git(root: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        check=True,
        capture_output=True,
    )


def git_project(destination: Path) -> Edit:
    """A copy of the project as a git repository whose HEAD is the base revision."""
    edit = copy_project(destination)
    (destination / ".gitignore").write_text("build/\n")
    git(destination, "init", "-q")
    git(destination, "add", "-A")
    git(destination, "commit", "-qm", "base")
    return edit


def test_a_handler_only_change_passes_with_one_function_whose_code_changed(tmp_path: Path) -> None:
    """`e2e --base HEAD~1` where HEAD edits one handler: every stack updates, nothing is replaced,
    the data written before is all there after, and the review says which function's code changed."""
    from concert_platform.e2e import run_e2e

    root = tmp_path / "project"
    edit = git_project(root)
    edit(
        "handlers/health_check.py",
        '"""',
        '"""Health check (edited by the update-gate test). ',
    )
    git(root, "commit", "-qam", "edit one handler")
    report = run_e2e(
        "embedded", "upd-handler", "us-east-1", None, False, manifest=load_manifest(root), base="HEAD~1"
    )
    assert report["ok"], report["reason"]
    review = report["update_review"]
    compute = next(row for row in review["stacks"] if row["key"] == "compute")
    assert not any(row["replaced"] or row["removed"] or row["added"] for row in review["stacks"])
    changed = [e for e in compute["modified"] if e["code"].startswith("its handler")]
    assert [e["code"] for e in changed] == ["its handler handlers/health_check.py changed"]
    assert all(
        e["properties"] == ["Code"] for e in compute["modified"] if e["type"] == "AWS::Lambda::Function"
    )
    assert review["blocking"] == 0 and review["data"] and not any(d["lost"] for d in review["data"])
    assert set(report["phases"]) >= {"deploy", "update", "verify", "smoke", "teardown"}


class Based:
    """The base revision deployed once, with the sample data and a user's writes."""

    def __init__(self, root: Path, edit: Edit, engine: EmbeddedEngine) -> None:
        self.root, self.edit, self.engine = root, edit, engine
        self.manifest = load_manifest(root)

    def update(self, stack: str) -> tuple[str | None, dict[str, Any]]:
        """Update `stack` to the working tree as the gate does; (the refusal, the review)."""
        before = snapshot(self.engine, self.manifest, ENVIRONMENT)
        change_sets: dict[str, Any] = {}
        refusal = None
        try:
            deploy_environment(
                self.engine, self.manifest, ENVIRONMENT, only=[stack], environ=ENVIRON,
                interactive=False, change_sets=change_sets,
            )  # fmt: skip
        except DeployError as exc:
            refusal = str(exc)
        after = snapshot(self.engine, self.manifest, ENVIRONMENT)
        acknowledgements = load_acknowledgements(self.root)
        review = build_review(
            change_sets, before, after, acknowledgements, self.manifest, self.root,
            [refusal] if refusal else [], "HEAD",
        )  # fmt: skip
        markdown(review, ENVIRONMENT)  # renders whatever the review holds
        return refusal, review

    def put_back(self, stack: str) -> None:
        git(self.root, "checkout", "-q", "--", ".")
        git(self.root, "clean", "-qfd", "-e", "build")
        deploy_environment(
            self.engine, self.manifest, ENVIRONMENT, only=[stack], environ=ENVIRON, interactive=False
        )


@pytest.fixture(scope="module")
def based(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Based]:
    root = tmp_path_factory.mktemp("update-gate") / "project"
    edit = git_project(root)
    with EmbeddedEngine("us-east-1") as engine:
        manifest = load_manifest(root)
        deploy_environment(
            engine, manifest, ENVIRONMENT, load_sample=True, environ=ENVIRON, interactive=False
        )
        write_as_a_user(engine, manifest, ENVIRONMENT)
        yield Based(root, edit, engine)


def blocking(review: dict[str, Any]) -> list[tuple[str, str]]:
    return [(f["rule"], f["logical_id"]) for f in review["findings"] if not f["acknowledged"]]


def test_a_renamed_table_is_refused_because_its_export_is_in_use_and_blocked_as_a_replacement(
    based: Based,
) -> None:
    based.edit(
        "templates/04-chatbot-infrastructure.yaml",
        "TableName: !Sub 'concert-user-preferences-${Environment}'",
        "TableName: !Sub 'concert-user-prefs-${Environment}'",
    )
    refusal, review = based.update("chatbot")
    based.put_back("chatbot")
    assert (
        refusal
        and (
            f"Export concert-platform-chatbot-{ENVIRONMENT}-UserPreferencesTableName cannot be updated as it is in use by "
            f"concert-platform-monitoring-{ENVIRONMENT}"
        )
        in refusal
    )
    assert ("stateful-replacement", "UserPreferencesTable") in blocking(review)
    assert not any(d["lost"] for d in review["data"])  # rolled back: the table and its items are still there


def test_a_change_to_the_shared_layer_updates_every_stack_that_uses_it(based: Based) -> None:
    """The shared layer is a new LayerVersion on every change of its code (Content is create-only).
    Its ARN reached the chatbot and logging stacks through an export, which CloudFormation refuses
    to change while imported ("Export ... cannot be updated as it is in use"): no change to the
    layer could ever have been deployed as an update. The manifest now hands the ARN over as a
    parameter from the compute stack's output, so each stack takes the new version in turn."""
    based.edit(
        "handlers/shared/concert_shared/conversations.py",
        '"""',
        '"""Conversation history (edited by the update-gate test). ',
    )
    reviews, refusals = {}, {}
    before, after = layers_in_use(based), None
    try:
        for stack in ("compute", "chatbot", "logging"):
            refusals[stack], reviews[stack] = based.update(stack)
            if refusals[stack]:
                break
        after = layers_in_use(based)
    finally:
        for stack in ("compute", "chatbot", "logging"):
            based.put_back(stack)
    assert not any(refusals.values()), refusals
    compute = next(row for row in reviews["compute"]["stacks"] if row["key"] == "compute")
    assert [e["logical_id"] for e in compute["replaced"]] == ["SharedDependenciesLayer"]
    assert not blocking(reviews["compute"])
    for stack in ("chatbot", "logging"):
        row = next(row for row in reviews[stack]["stacks"] if row["key"] == stack)
        assert not row["replaced"] and not row["removed"], row
        layered = [e for e in row["modified"] if e["type"] == "AWS::Lambda::Function"]
        assert layered and all("Layers" in e["properties"] for e in layered), row["modified"]
    # every function of both stacks runs on the version compute now exports, a new one
    assert after is not None and after["output"] != before["output"]
    assert set(after["functions"].values()) == {after["output"]}, after


def layers_in_use(based: Based) -> dict[str, Any]:
    """Compute's SharedLayerArn output, and the layer each chatbot and logging function runs on."""
    cloudformation, lambda_client = based.engine.client("cloudformation"), based.engine.client("lambda")
    (stack,) = cloudformation.describe_stacks(StackName=f"concert-platform-compute-{ENVIRONMENT}")["Stacks"]
    output = next(o["OutputValue"] for o in stack["Outputs"] if o["OutputKey"] == "SharedLayerArn")
    functions = {}
    for key in ("chatbot", "logging"):
        resources = cloudformation.describe_stack_resources(StackName=f"concert-platform-{key}-{ENVIRONMENT}")
        for resource in resources["StackResources"]:
            if resource["ResourceType"] == "AWS::Lambda::Function":
                name = resource["PhysicalResourceId"]
                config = lambda_client.get_function_configuration(FunctionName=name)
                functions[name] = next(layer["Arn"] for layer in config["Layers"] if "shared" in layer["Arn"])
    return {"output": output, "functions": functions}


def test_a_key_schema_change_is_refused_as_a_custom_named_replacement(based: Based) -> None:
    path = "templates/04-chatbot-infrastructure.yaml"
    based.edit(
        path, "- {AttributeName: session_id, AttributeType: S}", "- {AttributeName: sid, AttributeType: S}"
    )
    based.edit(path, "- {AttributeName: session_id, KeyType: HASH}", "- {AttributeName: sid, KeyType: HASH}")
    refusal, review = based.update("chatbot")
    based.put_back("chatbot")
    assert (
        refusal
        and (
            "SessionStateTable (AWS::DynamoDB::Table): CloudFormation cannot update a stack when a custom-named "
            f"resource requires replacing. Rename concert-session-state-{ENVIRONMENT} and update the stack again."
        )
        in refusal
    )
    assert ("stateful-replacement", "SessionStateTable") in blocking(review)


def test_a_custom_named_role_replacement_is_refused(based: Based) -> None:
    based.edit(
        "templates/06-tracing-logging.yaml",
        "RoleName: !Sub 'concert-error-processor-${Environment}-${AWS::Region}'",
        "RoleName: !Sub 'concert-error-processor-${Environment}-${AWS::Region}'\n      Path: /concert/",
    )
    refusal, _review = based.update("logging")
    based.put_back("logging")
    assert (
        refusal
        and (
            "ErrorProcessorRole (AWS::IAM::Role): CloudFormation cannot update a stack when a custom-named resource "
            f"requires replacing. Rename concert-error-processor-{ENVIRONMENT}-us-east-1 and update the stack again."
        )
        in refusal
    )


def test_a_removed_export_still_imported_is_refused(based: Based) -> None:
    based.edit(
        "templates/02-storage-processing.yaml",
        "    Value: !GetAtt PlatformKey.Arn\n    Export: {Name: !Sub '${AWS::StackName}-PlatformKeyArn'}",
        "    Value: !GetAtt PlatformKey.Arn",
    )
    refusal, review = based.update("storage")
    based.put_back("storage")
    assert (
        refusal
        and f"Export concert-platform-storage-{ENVIRONMENT}-PlatformKeyArn cannot be deleted as it is in use by"
        in refusal
    )
    assert ("update-refused", f"concert-platform-storage-{ENVIRONMENT}-PlatformKeyArn") in blocking(review)


def test_a_new_encryption_key_on_a_stream_is_blocked(based: Based) -> None:
    path = "templates/02-storage-processing.yaml"
    based.edit(
        path,
        "  ConcertEventsStream:\n",
        "  StreamKey:\n    Type: AWS::KMS::Key\n    Properties:\n      Description: stream key\n"
        "      KeyPolicy:\n        Version: '2012-10-17'\n        Statement:\n          - Sid: Admin\n"
        "            Effect: Allow\n            Principal: {AWS: !Sub 'arn:aws:iam::${AWS::AccountId}:root'}\n"
        "            Action: 'kms:*'\n            Resource: '*'\n\n  ConcertEventsStream:\n",
    )
    based.edit(
        path,
        "StreamEncryption: {EncryptionType: KMS, KeyId: !Ref PlatformKey}",
        "StreamEncryption: {EncryptionType: KMS, KeyId: !Ref StreamKey}",
    )
    refusal, review = based.update("storage")
    based.put_back("storage")
    assert refusal is None
    assert ("stateful-rekey", "ConcertEventsStream") in blocking(review)
    rekey = next(f for f in review["findings"] if f["rule"] == "stateful-rekey")
    assert "StreamEncryption" in rekey["message"]


def test_a_widened_iam_action_is_blocked_naming_the_role(based: Based) -> None:
    based.edit(
        "templates/06-tracing-logging.yaml",
        "Action: [dynamodb:GetItem, dynamodb:PutItem, dynamodb:UpdateItem]",
        "Action: [dynamodb:GetItem, dynamodb:PutItem, dynamodb:UpdateItem, dynamodb:DeleteTable]",
    )
    refusal, review = based.update("logging")
    based.put_back("logging")
    assert refusal is None
    assert ("iam-widened", "ErrorProcessorRole") in blocking(review)
    (role,) = [r for r in review["iam"] if r["logical_id"] == "ErrorProcessorRole"]
    assert role["actions_added"] == ["dynamodb:DeleteTable"] and not role["actions_removed"]


def test_an_acknowledged_replacement_passes_and_the_review_says_so(based: Based) -> None:
    based.edit(
        "templates/06-tracing-logging.yaml",
        "LogGroupName: !Sub '/aws-glue/jobs/concert-platform-${Environment}'",
        "LogGroupName: !Sub '/aws-glue/jobs/concert-platform-v2-${Environment}'",
    )
    refusal, review = based.update("logging")
    assert refusal is None
    assert ("stateful-replacement", "GlueJobLogGroup") in blocking(review)  # not acknowledged yet: blocks
    based.put_back("logging")
    based.edit(
        "templates/06-tracing-logging.yaml",
        "LogGroupName: !Sub '/aws-glue/jobs/concert-platform-${Environment}'",
        "LogGroupName: !Sub '/aws-glue/jobs/concert-platform-v2-${Environment}'",
    )
    (based.root / "update-acknowledgements.yaml").write_text(
        "acknowledgements:\n  - logical_id: GlueJobLogGroup\n    reason: the Glue jobs log under a new prefix; old logs expire\n"
    )
    refusal, review = based.update("logging")
    based.put_back("logging")
    assert refusal is None and review["blocking"] == 0
    (finding,) = [f for f in review["findings"] if f["logical_id"] == "GlueJobLogGroup"]
    assert finding["acknowledged"] == "the Glue jobs log under a new prefix; old logs expire"
    assert "acknowledged" in markdown(review, ENVIRONMENT)
