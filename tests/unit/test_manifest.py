"""The stack manifest: the single source of order, names and wiring."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from concert_platform.errors import UsageError
from concert_platform.manifest import load_cfn_yaml, load_manifest, parse_manifest

GUIDE_ORDER = ("networking", "storage", "compute", "chatbot", "monitoring", "logging")


def test_order_and_names_follow_the_guide() -> None:
    manifest = load_manifest()
    assert manifest.keys == GUIDE_ORDER
    assert manifest.stack_name("networking", "development") == "concert-platform-networking-development"
    assert [manifest.stack(k).template[:2] for k in manifest.keys] == ["01", "02", "03", "04", "05", "06"]


def test_stack_parameters_point_only_at_earlier_stacks() -> None:
    manifest = load_manifest()
    for index, spec in enumerate(manifest.stacks):
        earlier = set(manifest.keys[:index])
        assert set(spec.upstream_keys()) <= earlier, spec.key


def test_resolve_parameters_wires_stack_names_inputs_and_artifacts() -> None:
    manifest = load_manifest()
    params = manifest.resolve_parameters(
        "compute",
        "pr-7",
        {"bedrock_agent_id": "", "bedrock_agent_alias_id": "", "log_retention_days": "7"},
        {"handlers_package": "functions/a.zip", "shared_layer_package": "layers/b.zip"},
    )
    values = {p["ParameterKey"]: p["ParameterValue"] for p in params}
    assert values["NetworkStackName"] == "concert-platform-networking-pr-7"
    assert values["StorageStackName"] == "concert-platform-storage-pr-7"
    assert values["HandlersS3Key"] == "functions/a.zip"
    with pytest.raises(UsageError, match="artifact"):
        manifest.resolve_parameters("compute", "pr-7", {}, {})


def test_an_output_source_takes_the_deployed_value_of_an_earlier_stacks_output() -> None:
    manifest = load_manifest()
    inputs = {"bedrock_agent_id": "", "bedrock_agent_alias_id": "", "log_retention_days": "7"}
    artifacts = {"handlers_package": "functions/a.zip"}
    arn = "arn:aws:lambda:us-east-1:123456789012:layer:concert-shared-dependencies-pr-7:4"
    asked: list[str] = []

    def outputs(key: str) -> dict[str, str]:
        asked.append(key)
        return {"SharedLayerArn": arn} if key == "compute" else {}

    params = manifest.resolve_parameters("chatbot", "pr-7", inputs, artifacts, outputs=outputs)
    assert {p["ParameterKey"]: p["ParameterValue"] for p in params}["SharedLayerArn"] == arn
    assert asked == ["compute"]
    assert "compute" in manifest.stack("chatbot").upstream_keys()
    with pytest.raises(
        UsageError, match=r"output SharedLayerArn of the compute stack .*deploy compute first"
    ):
        manifest.resolve_parameters("chatbot", "pr-7", inputs, artifacts, outputs=lambda _key: {})


def _manifest_data(**stack_overrides: object) -> dict:
    data = yaml.safe_load((load_manifest().root / "stacks.yaml").read_text())
    data["stacks"][1].update(stack_overrides)
    return data


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"parameters": {"NetworkStackName": {"stack": "compute"}}}, "not an earlier stack"),
        ({"parameters": {"X": {"input": "nope"}}}, "undeclared input"),
        ({"parameters": {"X": {"magic": 1}}}, "unknown source"),
        ({"parameters": {"X": {"output": "compute.SharedLayerArn"}}}, "KEY an earlier stack"),
        ({"parameters": {"X": {"output": "networking"}}}, "write KEY.OutputName"),
        ({"key": "networking"}, "duplicate stack key"),
    ],
)
def test_inconsistent_manifests_are_rejected(override: dict, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        parse_manifest(_manifest_data(**override), Path("."))


def test_select_keeps_deploy_order_and_rejects_unknown_keys() -> None:
    manifest = load_manifest()
    assert [s.key for s in manifest.select(["logging", "networking"])] == ["networking", "logging"]
    with pytest.raises(UsageError, match="unknown stack 'nope'"):
        manifest.select(["nope"])


def test_cfn_yaml_short_forms_become_long_forms() -> None:
    data = load_cfn_yaml("A: !Ref X\nB: !GetAtt R.Arn\nC: !Sub '${X}'\nD: !Select [0, !GetAZs '']\n")
    assert data == {
        "A": {"Ref": "X"},
        "B": {"Fn::GetAtt": ["R", "Arn"]},
        "C": {"Fn::Sub": "${X}"},
        "D": {"Fn::Select": [0, {"Fn::GetAZs": ""}]},
    }


def test_templates_parse_the_same_with_libyaml_as_with_the_pure_python_parser() -> None:
    """load_cfn_yaml uses libyaml's parser when PyYAML has it; the data must not change."""
    from concert_platform.manifest import _construct_cfn_tag

    class PurePython(yaml.SafeLoader):
        pass

    PurePython.add_multi_constructor("!", _construct_cfn_tag)
    manifest = load_manifest()
    for spec in manifest.stacks:
        text = manifest.template_path(spec.key).read_text()
        assert load_cfn_yaml(text) == yaml.load(text, Loader=PurePython), spec.template  # noqa: S506


def test_load_template_gives_a_fresh_copy_and_rereads_an_edited_file(tmp_path: Path) -> None:
    import shutil

    source = load_manifest().root
    shutil.copy(source / "stacks.yaml", tmp_path / "stacks.yaml")
    shutil.copytree(source / "templates", tmp_path / "templates")
    manifest = load_manifest(tmp_path)
    first = manifest.load_template("networking")
    first["Resources"].clear()  # a caller changing its copy changes nobody else's
    assert manifest.load_template("networking")["Resources"]
    path = manifest.template_path("networking")
    path.write_text(path.read_text().replace("Description: >-\n", "Description: >-\n  edited\n", 1))
    assert manifest.load_template("networking")["Description"].startswith("edited Concert Data Platform")
    # the same size, a later modification time: read again too
    import os

    before = path.stat()
    path.write_text(path.read_text().replace("  edited\n", "  EDITED\n", 1))
    assert path.stat().st_size == before.st_size
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns + 1_000_000_000))
    assert manifest.load_template("networking")["Description"].startswith("EDITED Concert Data Platform")
