"""Templates as cfn-lint and checkov read them (subfolders, relative names, JSON with tabs, files
that are not templates), CloudFormation's limits and hostile YAML refused before any tool runs,
check errors reported with exit 3, and JUnit/SARIF shaped for their consumers."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from concert_platform.cli import main
from concert_platform.policy import runner
from concert_platform.policy.checks.cp007_bucket_encryption import BucketEncryption
from concert_platform.policy.formats import junit, sarif
from concert_platform.policy.model import Finding
from concert_platform.policy.runner import PolicyReport, run_policy
from tests.policy.sarif_validation import sarif_errors

PLAIN_BUCKET = "Resources:\n  Plain:\n    Type: AWS::S3::Bucket\n"
QUIET = "Resources:\n  Wait:\n    Type: AWS::CloudFormation::WaitConditionHandle\n"


def own(target: Path) -> PolicyReport:
    return run_policy(target, tools=("concert-platform",))


def test_subfolders_are_scanned_and_named_relative_to_the_directory(tmp_path: Path) -> None:
    (tmp_path / "a" / "deep").mkdir(parents=True)
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "deep" / "stack.yaml").write_text(PLAIN_BUCKET)
    (tmp_path / "b" / "stack.yaml").write_text(QUIET)
    report = own(tmp_path)  # the directory itself holds only subfolders
    assert report.templates == ["a/deep/stack.yaml", "b/stack.yaml"]
    assert {f.template for f in report.findings if f.check_id == "CP007"} == {"a/deep/stack.yaml"}


def test_checkov_findings_land_on_the_right_file_when_base_names_repeat(tmp_path: Path) -> None:
    for folder, body in (("open", PLAIN_BUCKET), ("closed", QUIET)):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "template.yaml").write_text(body)
    report = run_policy(tmp_path, tools=("checkov",))
    assert report.findings and {f.template for f in report.findings} == {"open/template.yaml"}


def test_tab_indented_json_is_a_template(tmp_path: Path) -> None:
    (tmp_path / "tabs.json").write_text(
        '{\n\t"Resources": {\n\t\t"Plain": {\n\t\t\t"Type": "AWS::S3::Bucket"\n\t\t}\n\t}\n}\n'
    )
    report = own(tmp_path)
    assert report.templates == ["tabs.json"] and "CP007" in {f.check_id for f in report.findings}


def test_files_that_are_not_templates_are_skipped_with_a_note(tmp_path: Path) -> None:
    (tmp_path / "stack.yaml").write_text(QUIET)
    (tmp_path / "package.json").write_text('{"name": "frontend", "version": "1.0.0"}')
    (tmp_path / "notes.yaml").write_text("- just\n- a list\n")
    (tmp_path / "binary.json").write_bytes(b"\xff\xfe\x00garbage")
    report = own(tmp_path)
    assert report.templates == ["stack.yaml"]
    assert {s.path for s in report.skipped_files} == {"package.json", "notes.yaml", "binary.json"}
    assert all(s.reason.startswith("not a template") for s in report.skipped_files)


def test_a_template_that_does_not_parse_is_a_finding_not_an_abort(tmp_path: Path) -> None:
    (tmp_path / "good.yaml").write_text(QUIET)
    (tmp_path / "broken.yaml").write_text("Resources:\n  Bad: [unclosed\n")
    report = own(tmp_path)
    assert report.templates == ["broken.yaml", "good.yaml"]
    assert [(f.check_id, f.template, f.line) for f in report.findings if f.template != "(template set)"] == [
        ("CP000", "broken.yaml", 3)
    ]


def test_a_check_that_raises_is_reported_and_the_others_still_run(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def explode(self: BucketEncryption, templates: list) -> object:
        for template in templates:
            for _lid, _bucket in template.resources("AWS::S3::Bucket"):
                raise TypeError("unhashable type: 'dict'")
        return iter(())

    monkeypatch.setattr(BucketEncryption, "scan", explode)
    (tmp_path / "stack.yaml").write_text(PLAIN_BUCKET)
    monkeypatch.setattr(runner, "TOOLS", ("concert-platform",))
    monkeypatch.setattr(runner.run_policy, "__defaults__", (("concert-platform",),))
    code = main(["policy", "--templates", str(tmp_path), "--format", "json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 3
    assert report["errors"] == [
        {
            "check_id": "CP007",
            "template": "stack.yaml",
            "resource": "Plain",
            "message": "TypeError: unhashable type: 'dict'",
            "tool": "concert-platform",
        }
    ]
    assert {"CP008", "CP020"} <= {f["check_id"] for f in report["findings"]}  # the others ran


def test_alias_bomb_is_refused_before_any_tool_reads_it(tmp_path: Path) -> None:
    lines = ["a: &a [x, x, x, x, x, x, x, x, x]"]
    lines += [f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]" for i in range(8)]
    bomb = "\n".join(lines) + "\nResources:\n  B:\n    Type: AWS::S3::Bucket\n    Properties: {Tags: *i}\n"
    (tmp_path / "bomb.yaml").write_text(bomb)
    assert len(bomb.encode()) < 700
    done = subprocess.run(
        [sys.executable, "-c", "import sys; from concert_platform.cli import main; sys.exit(main(sys.argv[1:]))",
         "policy", "--templates", str(tmp_path / "bomb.yaml")],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert "alias" in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_templates_over_cloudformation_limits_are_refused_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    big = tmp_path / "big"
    big.mkdir()
    (big / "huge.yaml").write_text(PLAIN_BUCKET + "# " + "x" * 1_000_000 + "\n")
    assert main(["policy", "--templates", str(big)]) == 2
    assert "at most 1,000,000 bytes" in capsys.readouterr().err
    many = tmp_path / "many"
    many.mkdir()
    (many / "many.yaml").write_text(
        "Resources:\n" + "".join(f"  Q{i}:\n    Type: AWS::SQS::Queue\n" for i in range(501))
    )
    assert main(["policy", "--templates", str(many)]) == 2
    err = capsys.readouterr().err
    assert "501 resources" in err and "at most 500" in err and len(err.strip().splitlines()) == 1


def test_one_file_is_scanned_alone_by_every_tool(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from checkov.cloudformation.runner import Runner

    seen: list[tuple[object, object]] = []
    original = Runner.run

    def spy(self: Runner, root_folder: object, *args: object, **kwargs: object) -> object:
        seen.append((root_folder, kwargs.get("files")))
        return original(self, root_folder, *args, **kwargs)

    monkeypatch.setattr(Runner, "run", spy)
    (tmp_path / "one.yaml").write_text(QUIET)
    (tmp_path / "other.yaml").write_text(PLAIN_BUCKET)
    report = run_policy(tmp_path / "one.yaml", tools=("checkov",))
    assert report.templates == ["one.yaml"]
    assert seen == [(None, [str(tmp_path / "one.yaml")])]


def test_output_into_a_missing_folder_is_refused_before_the_run(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def must_not_run(*_: object, **__: object) -> None:
        raise AssertionError("the run started before the output path was checked")

    monkeypatch.setattr(runner, "run_policy", must_not_run)
    code = main(["policy", "--format", "sarif", "--output", str(tmp_path / "missing" / "r.sarif")])
    err = capsys.readouterr().err
    assert code == 2 and "does not exist" in err and len(err.strip().splitlines()) == 1


def _report() -> PolicyReport:
    report = PolicyReport(templates=["nested/a.yaml"], root="/src/infra")
    report.findings = [
        Finding("W3005", "Obsolete DependsOn", "nested/a.yaml", "Fn", 4, "m1", "cfn-lint", "warning"),
        Finding("CP007", "encryption", "nested/a.yaml", "Bucket", 9, "m2", "concert-platform"),
        Finding("CP007", "encryption", "nested/a.yaml", "Bucket", 9, "m3", "concert-platform"),
        Finding("CP017", "trail", "(template set)", "(template set)", 1, "m4", "concert-platform"),
    ]
    report.skipped = [runner.Skip("CKV_AWS_18", "nested/a.yaml", "Bucket", "the log bucket", "checkov")]
    return report


def test_sarif_uris_are_relative_with_a_base_and_levels_follow_severity() -> None:
    document = json.loads(sarif(_report()))
    assert sarif_errors(document) == []  # the OASIS 2.1.0 schema, then what code scanning needs
    run = document["runs"][0]
    assert run["originalUriBaseIds"]["SRCROOT"]["uri"] == "file:///src/infra/"
    location = run["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert location == {"uri": "nested/a.yaml", "uriBaseId": "SRCROOT"}
    assert [r["level"] for r in run["results"]] == ["warning", "error", "error", "error"]
    rules = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
    assert rules["W3005"]["helpUri"].startswith("https://github.com/aws-cloudformation/cfn-lint")
    assert "docs/policy.md#cp007" in rules["CP007"]["help"]["text"] and "helpUri" not in rules["CP007"]
    assert rules["W3005"]["properties"]["security-severity"] == "5.0"


def test_junit_counts_every_case_and_names_are_unique() -> None:
    suite = ET.fromstring(junit(_report()))  # noqa: S314 - our own output
    cases = suite.findall("testcase")
    assert int(suite.get("tests", "0")) == len(cases) == 5
    assert (suite.get("failures"), suite.get("skipped"), suite.get("errors")) == ("4", "1", "0")
    names = [(c.get("classname"), c.get("name")) for c in cases]
    assert len(set(names)) == len(names)


@pytest.mark.parametrize(
    ("name", "body"),
    [
        ("deep.yaml", "Resources: " + "[" * 500 + "]" * 500 + "\n"),
        ("deep.json", '{"Resources": ' + "[" * 2000 + "]" * 2000 + "}"),
    ],
    ids=["yaml", "json"],
)
def test_nesting_beyond_the_limit_is_refused_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, body: str
) -> None:
    (tmp_path / name).write_text(body)
    assert main(["policy", "--templates", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "nests deeper than 200 levels" in err and len(err.strip().splitlines()) == 1


def test_cfn_lint_runs_once_over_all_templates(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import cfnlint.runner

    runners: list[list[str]] = []
    original = cfnlint.runner.Runner.__init__

    def spy(self: cfnlint.runner.Runner, config: object) -> None:
        runners.append(list(getattr(config, "templates", [])))
        original(self, config)

    monkeypatch.setattr(cfnlint.runner.Runner, "__init__", spy)
    for name in ("a.yaml", "b.yaml", "c.yaml"):
        (tmp_path / name).write_text(QUIET)
    report = run_policy(tmp_path, tools=("cfn-lint",))
    assert report.templates == ["a.yaml", "b.yaml", "c.yaml"] and report.errors == []
    assert len(runners) == 1 and len(runners[0]) == 3
