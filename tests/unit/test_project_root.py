"""Which platform the tool deploys (docs/deploy.md, "Which platform, which engine"): --project,
then $CONCERT_PLATFORM_HOME, then a checkout containing the current directory, then the copy
installed with the tool; each refused in one line when it holds no platform."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from concert_platform import manifest as manifest_module
from concert_platform.cli import main
from concert_platform.errors import UsageError
from concert_platform.manifest import _load, project_root, use_project
from concert_platform.packaging import default_cache_dir

ROOT = Path(__file__).resolve().parents[2]


def platform_copy(directory: Path) -> Path:
    directory.mkdir(parents=True)
    shutil.copy(ROOT / "stacks.yaml", directory / "stacks.yaml")
    shutil.copytree(ROOT / "templates", directory / "templates")
    return directory.resolve()


@pytest.fixture(autouse=True)
def clean_state(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("CONCERT_PLATFORM_HOME", raising=False)
    monkeypatch.delenv("CONCERT_PLATFORM_CACHE", raising=False)
    use_project(None)
    _load.cache_clear()
    yield
    use_project(None)
    _load.cache_clear()


def test_the_order_is_option_then_variable_then_checkout_then_installed_copy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    explicit, variable, checkout, bundled = (
        platform_copy(tmp_path / name) for name in ("explicit", "variable", "checkout", "bundled")
    )
    monkeypatch.setattr(manifest_module, "BUNDLED_ROOT", bundled)
    (checkout / "docs" / "deeper").mkdir(parents=True)
    monkeypatch.chdir(checkout / "docs" / "deeper")
    monkeypatch.setenv("CONCERT_PLATFORM_HOME", str(variable))
    use_project(explicit)
    assert project_root() == explicit
    use_project(None)
    assert project_root() == variable
    monkeypatch.delenv("CONCERT_PLATFORM_HOME")
    assert project_root() == checkout  # a parent of the current directory
    monkeypatch.chdir(tmp_path)
    assert project_root() == bundled


def test_the_installed_copy_keeps_its_cache_outside_site_packages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bundled = platform_copy(tmp_path / "site-packages" / "concert_platform" / "_platform")
    monkeypatch.setattr(manifest_module, "BUNDLED_ROOT", bundled)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert default_cache_dir(bundled) == tmp_path / "cache" / "concert-platform" / "layer-cache"
    assert default_cache_dir(ROOT) == ROOT / "build" / "layer-cache"
    monkeypatch.setenv("CONCERT_PLATFORM_CACHE", str(tmp_path / "shared"))
    assert default_cache_dir(bundled) == tmp_path / "shared"


@pytest.mark.parametrize("command", [["graph"], ["policy"], ["status"], ["deploy"], ["e2e"]])
def test_project_option_without_a_platform_is_one_line_exit_2(
    command: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main([*command, "--project", str(tmp_path)])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert f"--project {tmp_path}: " in err and "holds no stacks.yaml" in err
    assert len(err.splitlines()) == 1


def test_variable_without_a_platform_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONCERT_PLATFORM_HOME", str(tmp_path))
    with pytest.raises(UsageError, match=r"CONCERT_PLATFORM_HOME: .* holds no stacks\.yaml"):
        project_root()


def test_project_option_chooses_what_graph_reads(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    copy = platform_copy(tmp_path / "copy")
    text = (copy / "stacks.yaml").read_text().replace("- key: logging", "- key: journal", 1)
    assert "key: journal" in text, "stacks.yaml no longer has a logging stack; update this test"
    (copy / "stacks.yaml").write_text(text.replace("stack: logging", "stack: journal"))
    assert main(["graph", "--project", str(copy)]) == 0
    assert "journal" in capsys.readouterr().out
