"""Every AWS::Lambda::Function in templates/ is exercised by the smoke run: the functions the
run's wiring, runtime and cold-start checks (and the post-deploy tracing check) visit are the
ones the templates' outputs name (`Manifest.function_outputs`); a function no output names, or a
template no stack of the manifest deploys, would be silently skipped, so it is named here."""

from __future__ import annotations

import shutil
from pathlib import Path

from concert_platform.manifest import MANIFEST_FILE, Manifest, load_cfn_yaml, load_manifest
from concert_platform.smoke.platform import deployed_functions

ROOT = Path(__file__).resolve().parents[2]


def unexercised_functions(manifest: Manifest) -> list[str]:
    """'template: logical id' of every Lambda function in templates/ the smoke run would skip."""
    exercised = set(manifest.function_outputs())
    stack_of = {spec.template: spec.key for spec in manifest.stacks}
    missed = []
    for path in sorted((manifest.root / "templates").glob("*.y*ml")):
        template = load_cfn_yaml(path.read_text())
        outputs = template.get("Outputs") or {}
        for logical, resource in (template.get("Resources") or {}).items():
            if resource.get("Type") != "AWS::Lambda::Function":
                continue
            stack = stack_of.get(path.name)
            if stack is None:
                missed.append(f"{path.name}: {logical} (no stack of {MANIFEST_FILE} deploys this template)")
                continue
            naming = [key for key, out in outputs.items() if out.get("Value") == {"Ref": logical}]
            if not any((stack, key) in exercised for key in naming):
                missed.append(
                    f"{path.name}: {logical} (no output of the {stack} stack names it: add `Value: !Ref {logical}`)"
                )
    return missed


def test_every_template_function_is_exercised_by_the_smoke_run() -> None:
    manifest = load_manifest(ROOT)
    assert unexercised_functions(manifest) == []
    assert len(manifest.function_outputs()) == 8  # the eight handlers in handlers/


def test_the_smoke_run_visits_the_functions_the_outputs_name_in_deploy_order() -> None:
    manifest = load_manifest(ROOT)
    outputs = {
        "logging": {"ErrorProcessorFunctionName": "errors-fn", "ErrorProcessorFunctionArn": "arn:errors"},
        "compute": {"ChatbotFunctionName": "chat-fn", "ApiId": "api"},
    }
    assert deployed_functions(outputs, manifest.function_outputs()) == ["chat-fn", "errors-fn"]


def _copy_project(tmp_path: Path) -> Path:
    shutil.copy(ROOT / MANIFEST_FILE, tmp_path / MANIFEST_FILE)
    shutil.copytree(ROOT / "templates", tmp_path / "templates")
    return tmp_path


PLANTED = """
  PlantedAuditFunction:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: python3.12
      Handler: audit.handler
      Role: !GetAtt ChatbotMaintenanceRole.Arn
      Code: {ZipFile: "def handler(event, context): return None"}
"""


def test_a_planted_template_function_no_output_names_is_named(tmp_path: Path) -> None:
    root = _copy_project(tmp_path)
    template = root / "templates" / "04-chatbot-infrastructure.yaml"
    text = template.read_text()
    template.write_text(text.replace("\nResources:\n", "\nResources:" + PLANTED, 1))
    assert "PlantedAuditFunction" in template.read_text()
    assert unexercised_functions(load_manifest(root)) == [
        "04-chatbot-infrastructure.yaml: PlantedAuditFunction (no output of the chatbot stack names it: "
        "add `Value: !Ref PlantedAuditFunction`)"
    ]


def test_a_planted_function_with_a_name_output_is_exercised(tmp_path: Path) -> None:
    root = _copy_project(tmp_path)
    template = root / "templates" / "04-chatbot-infrastructure.yaml"
    text = template.read_text().replace("\nResources:\n", "\nResources:" + PLANTED, 1)
    text = text.replace(
        "\nOutputs:\n", "\nOutputs:\n  PlantedAuditFunctionName:\n    Value: !Ref PlantedAuditFunction\n", 1
    )
    template.write_text(text)
    manifest = load_manifest(root)
    assert unexercised_functions(manifest) == []
    assert ("chatbot", "PlantedAuditFunctionName") in manifest.function_outputs()


def test_a_template_no_stack_deploys_is_named(tmp_path: Path) -> None:
    root = _copy_project(tmp_path)
    shutil.copy(root / "templates" / "06-tracing-logging.yaml", root / "templates" / "07-extra.yaml")
    assert unexercised_functions(load_manifest(root)) == [
        f"07-extra.yaml: ErrorProcessorFunction (no stack of {MANIFEST_FILE} deploys this template)"
    ]
