"""One `prepare_target()` for the CLI's commands, `e2e` and the pytest plugin: the same region
default, the same checks, the same one-line refusal."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from concert_platform.cli import build_parser, main
from concert_platform.target import Target, prepare_target

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parents[2]

REGION_CASES = [
    ({"AWS_REGION": "eu-west-2", "AWS_DEFAULT_REGION": "ap-south-1"}, "eu-west-2"),
    ({"AWS_DEFAULT_REGION": "ap-south-1"}, "ap-south-1"),
    ({}, "us-east-1"),
]


def _set_region_variables(monkeypatch: pytest.MonkeyPatch, variables: dict[str, str]) -> None:
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(name, raising=False)
    for name, value in variables.items():
        monkeypatch.setenv(name, value)


@pytest.mark.parametrize(("variables", "expected"), REGION_CASES)
def test_cli_and_e2e_pick_the_same_region_from_the_same_variables(
    monkeypatch: pytest.MonkeyPatch, variables: dict[str, str], expected: str
) -> None:
    _set_region_variables(monkeypatch, variables)
    assert build_parser().parse_args(["status"]).region == expected
    assert build_parser().parse_args(["e2e"]).region == expected
    # run_e2e(region=None) and every other caller without a region: prepare_target's default
    assert prepare_target("embedded", "unit", None).region == expected


@pytest.mark.parametrize(("variables", "expected"), REGION_CASES)
def test_the_plugin_picks_the_same_region_from_the_same_variables(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, variables: dict[str, str], expected: str
) -> None:
    _set_region_variables(monkeypatch, variables)
    monkeypatch.setenv("CONCERT_PLATFORM_HOME", str(ROOT))
    pytester.makepyfile(
        "def test_region(concert_target):\n"
        f"    assert concert_target.region == {expected!r}, concert_target.region\n"
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


def test_a_target_names_its_stacks_without_an_engine() -> None:
    target = prepare_target("embedded", "unit", "us-east-1")
    assert isinstance(target, Target)
    names = target.stack_names()
    assert list(names) == list(target.manifest.keys)
    assert all("unit" in name for name in names.values())


@pytest.fixture
def project_without_a_template(tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    """A copy of the platform with one template file removed (the fault both entry points must name)."""
    copy = tmp_path / "platform"
    copy.mkdir()
    shutil.copy(ROOT / "stacks.yaml", copy / "stacks.yaml")
    shutil.copytree(ROOT / "templates", copy / "templates")
    shutil.copytree(ROOT / "handlers", copy / "handlers", ignore=shutil.ignore_patterns("__pycache__"))
    missing = copy / "templates" / "03-compute-application.yaml"
    missing.unlink()
    yield copy, missing
    # `main([... "--project", copy])` in this process chose the copy for every later test: forget it
    from concert_platform.manifest import _load, use_project

    use_project(None)
    _load.cache_clear()


def _error_line(capsys: pytest.CaptureFixture[str]) -> str:
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(lines) == 1, lines  # one line, no traceback
    return lines[0]


def test_e2e_refuses_a_missing_template_with_the_same_line_as_the_cli(
    project_without_a_template: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    copy, missing = project_without_a_template
    assert main(["status", "--project", str(copy), "-e", "unit"]) == 2
    status_line = _error_line(capsys)
    assert main(["e2e", "--project", str(copy), "-e", "unit", "--reports-dir", str(copy / "r")]) == 2
    e2e_line = _error_line(capsys)
    assert e2e_line == status_line
    assert str(missing) in e2e_line and "stack compute is missing" in e2e_line


def test_the_plugin_refuses_a_missing_template_in_one_line(
    project_without_a_template: tuple[Path, Path], pytester: pytest.Pytester
) -> None:
    copy, missing = project_without_a_template
    pytester.makepyfile("def test_uses_the_platform(concert_deployment):\n    pass\n")
    result = pytester.runpytest_subprocess("--concert-project", str(copy), "-p", "no:cacheprovider")
    assert result.ret == 4
    result.stdout.fnmatch_lines([f"*concert target: template {missing} for stack compute is missing*"])
    assert "Traceback" not in result.stdout.str() and "def concert_target" not in result.stdout.str()


def test_the_plugins_outputs_are_a_copy_and_can_be_read_again() -> None:
    """One test editing `outputs()` changes nothing for the next; `refresh_outputs()` reads again."""
    from concert_platform.pytest_plugin import Deployment
    from concert_platform.target import Target

    reads: list[int] = []

    class Reader:
        def all_outputs(self) -> dict[str, dict[str, str]]:
            reads.append(1)
            return {"compute": {"ApiId": f"api-{len(reads)}"}}

    target = Target(engine=None, manifest=None, environment="unit")  # type: ignore[arg-type]
    target._operator = Reader()  # type: ignore[assignment]
    deployment = Deployment(target=target, report={}, deploy_seconds=0.0)
    deployment.outputs()["compute"]["ApiId"] = "edited by a test"
    assert deployment.outputs()["compute"]["ApiId"] == "api-1" and len(reads) == 1
    deployment.refresh_outputs()
    assert deployment.output("compute", "ApiId") == "api-2"
