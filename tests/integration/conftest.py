"""The integration layer asks the project's pytest plugin (concert_platform.pytest_plugin,
registered as a `pytest11` entry point) for one deployed platform per session: engine from
--concert-engine or CONCERT_ENGINE (default embedded), destroyed at the end and proven gone.

The planted-fault tests share one way to copy the project and plant a mistake in the copy."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from concert_platform.manifest import _load

ROOT = Path(__file__).resolve().parents[2]
#: what a deploy and an e2e run read from the project (the manifest's CONCERT_PLATFORM_HOME)
PROJECT_FILES = ("stacks.yaml", "templates", "handlers", "src/concert_platform/sql/schema.sql", "docs/api.md")

Edit = Callable[[str, str, str], None]


def copy_project(destination: Path) -> Edit:
    """Copy the project to `destination`, sharing the real tree's layer cache (keyed by its inputs,
    so nothing is rebuilt); the returned `edit(relative_path, old, new)` plants one mistake."""
    for relative in PROJECT_FILES:
        source, target = ROOT / relative, destination / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(source, target)
    (ROOT / "build" / "layer-cache").mkdir(parents=True, exist_ok=True)
    (destination / "build").mkdir(exist_ok=True)
    (destination / "build" / "layer-cache").symlink_to(ROOT / "build" / "layer-cache")

    def edit(relative: str, old: str, new: str) -> None:
        path = destination / relative
        text = path.read_text()
        assert old in text, f"{relative} no longer contains {old!r}; update this test"
        path.write_text(text.replace(old, new, 1))

    return edit


@pytest.fixture
def project_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Edit]:
    """A copy of the project that this process's manifest reads; the test plants one mistake."""
    edit = copy_project(tmp_path / "project")
    monkeypatch.setenv("CONCERT_PLATFORM_HOME", str(tmp_path / "project"))
    monkeypatch.setenv("REDSHIFT_MASTER_PASSWORD", "Sup3rSecretPw")
    _load.cache_clear()
    yield edit
    _load.cache_clear()


@pytest.fixture(scope="session")
def manifest(concert_manifest: Any) -> Any:
    return concert_manifest


@pytest.fixture(scope="session")
def engine(concert_engine: Any) -> Any:
    return concert_engine


@pytest.fixture(scope="session")
def deployment(concert_deployment: Any) -> Any:
    return concert_deployment
