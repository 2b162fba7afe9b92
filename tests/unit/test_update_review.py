"""The update gate's pieces that need no engine: `--base REF` refused in one line before anything
starts, the base exported from git without touching the working tree, the acknowledgements file,
and the review built from change sets and snapshots (the blocking rules, data loss, IAM)."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from concert_platform.cli import main
from concert_platform.errors import UsageError
from concert_platform.manifest import load_manifest
from concert_platform.update_gate import export_base
from concert_platform.update_review import build_review, load_acknowledgements, markdown, sarif


def git(root: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        check=True,
        capture_output=True,
    )
    return done.stdout.decode()


def test_a_base_git_does_not_know_is_one_line_and_exit_2_before_any_engine_starts(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from concert_platform.engines import embedded

    monkeypatch.setattr(embedded.EmbeddedEngine, "start", lambda _self: pytest.fail("the engine started"))
    code = main(["e2e", "--base", "no-such-branch-xyz", "--environment", "basebad"])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert len(err.splitlines()) == 1
    assert "--base no-such-branch-xyz: no such commit" in err


def test_the_base_is_exported_from_git_without_touching_the_working_tree(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    (root / "templates").mkdir(parents=True)
    (root / "stacks.yaml").write_text("base: 1\n")
    (root / "templates" / "a.yaml").write_text("old\n")
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "base")
    (root / "templates" / "a.yaml").write_text("new, uncommitted\n")
    base = export_base("HEAD", root)
    try:
        assert (base.root / "templates" / "a.yaml").read_text() == "old\n"
        assert (base.root / "stacks.yaml").read_text() == "base: 1\n"
        assert (root / "templates" / "a.yaml").read_text() == "new, uncommitted\n"
        assert git(root, "status", "--porcelain").strip() == "M templates/a.yaml"
        assert (base.root / "build" / "layer-cache").is_symlink()
    finally:
        base.remove()
    assert not base.root.exists()
    assert base.root.parent.exists()  # only the export goes: never the temporary directory holding it
    with pytest.raises(UsageError, match="no such commit"):
        export_base("HEAD~5", root)


@pytest.mark.parametrize(
    "text, problem",
    [
        ("acknowledgements: nope\n", "expected `acknowledgements:`"),
        ("acknowledgements:\n  - logical_id: X\n", "entry 1 needs `logical_id` and a non-empty `reason`"),
        ("acknowledgements: [\n", "not YAML"),
    ],
)
def test_a_malformed_acknowledgements_file_is_a_usage_error(tmp_path: Path, text: str, problem: str) -> None:
    (tmp_path / "update-acknowledgements.yaml").write_text(text)
    with pytest.raises(UsageError, match=problem.replace("`", ".").replace("[", r"\[")):
        load_acknowledgements(tmp_path)


def change(
    action: str, logical_id: str, resource_type: str, replacement: str = "", **props: str
) -> dict[str, Any]:
    details = [
        {"Target": {"Attribute": "Properties", "Name": name, "RequiresRecreation": recreation}}
        for name, recreation in props.items()
    ]
    row: dict[str, Any] = {
        "Action": action,
        "LogicalResourceId": logical_id,
        "ResourceType": resource_type,
        "Details": details,
    }
    if replacement:
        row["Replacement"] = replacement
    return {"ResourceChange": row}


def state(items: int, grants: list[str]) -> dict[str, Any]:
    return {
        "data": {"compute/ConversationHistoryTable": {"kind": "items", "count": items}},
        "iam": {"compute/LambdaExecutionRole": {"role": "r", "grants": grants}},
    }


def review_of(changes: list[dict[str, Any]], before: Any, after: Any, acks: Any = None) -> dict[str, Any]:
    manifest = load_manifest()
    return build_review(
        {"compute": {"Changes": changes}}, before, after, acks or {}, manifest, manifest.root, [], "HEAD~1"
    )


def test_stateful_replacements_removals_and_rekeys_block_unless_acknowledged() -> None:
    changes = [
        change("Modify", "ConversationHistoryTable", "AWS::DynamoDB::Table", "True", KeySchema="Always"),
        change("Remove", "OldBucket", "AWS::S3::Bucket"),
        change("Modify", "Stream", "AWS::Kinesis::Stream", "False", StreamEncryption="Never"),
        change("Modify", "Topic", "AWS::SNS::Topic", "True", TopicName="Always"),  # not stateful
        change("Add", "NewQueue", "AWS::SQS::Queue"),
    ]
    same = state(4, ["dynamodb:GetItem\t*"])
    review = review_of(changes, same, same)
    assert [(f["rule"], f["logical_id"]) for f in review["findings"]] == [
        ("stateful-replacement", "ConversationHistoryTable"),
        ("stateful-removal", "OldBucket"),
        ("stateful-rekey", "Stream"),
    ]
    assert review["blocking"] == 3
    (compute,) = [row for row in review["stacks"] if row["key"] == "compute"]
    assert [len(compute[k]) for k in ("added", "modified", "replaced", "removed")] == [1, 1, 2, 1]
    acks = {"ConversationHistoryTable": {"reason": "re-keyed on purpose", "stack": ""}}
    acknowledged = review_of(changes, same, same, acks)
    assert acknowledged["blocking"] == 2
    assert "re-keyed on purpose" in markdown(acknowledged, "e2e")
    from tests.policy.sarif_validation import sarif_errors

    log = sarif(acknowledged, load_manifest().root)
    assert sarif_errors(log) == []  # SARIF 2.1.0, and what code scanning reads
    results = log["runs"][0]["results"]
    assert [r["ruleId"] for r in results] == ["UPD001", "UPD002", "UPD003"]
    assert results[0]["suppressions"][0]["justification"] == "re-keyed on purpose"
    assert results[0]["locations"][0]["physicalLocation"]["region"]["startLine"] > 1


def test_data_lost_across_the_update_blocks_and_cannot_be_acknowledged() -> None:
    acks = {"ConversationHistoryTable": {"reason": "no", "stack": ""}}
    review = review_of([], state(4, []), state(0, []), acks)
    (lost,) = review["data"]
    assert (lost["before"], lost["after"], lost["lost"]) == (4, 0, True)
    (finding,) = review["findings"]
    assert (finding["rule"], finding["acknowledged"]) == ("data-loss", None)
    assert review_of([], state(4, []), state(5, []))["findings"] == []


def test_the_iam_difference_per_role_and_a_widened_role_blocks() -> None:
    before = state(1, ["dynamodb:GetItem\tarn:t", "s3:GetObject\tarn:b"])
    after = state(1, ["dynamodb:GetItem\tarn:t", "dynamodb:DeleteTable\tarn:t"])
    review = review_of([], before, after)
    (role,) = review["iam"]
    assert role["actions_added"] == ["dynamodb:DeleteTable"]
    assert role["actions_removed"] == ["s3:GetObject"]
    assert role["resources_removed"] == ["arn:b"] and role["resources_added"] == []
    assert [(f["rule"], f["logical_id"]) for f in review["findings"]] == [
        ("iam-widened", "LambdaExecutionRole")
    ]
    narrowed = review_of([], before, state(1, ["dynamodb:GetItem\tarn:t"]))
    assert narrowed["findings"] == [] and narrowed["iam"][0]["actions_removed"] == ["s3:GetObject"]
