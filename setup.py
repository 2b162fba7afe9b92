"""The wheel carries the platform it tests: stacks.yaml, templates/ and handlers/ are copied from
this checkout into the package as `concert_platform/_platform/` when the wheel is built (one
source of truth: nothing is committed twice). Everything else is in pyproject.toml."""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
#: what a deploy reads from the project besides the package (the SQL schema is package data)
#: docs/api.md too: the smoke run's hostile and failure flows read the documented routes and errors
PLATFORM_FILES = ("stacks.yaml", "templates", "handlers", "docs/api.md")


class BuildWithPlatform(build_py):
    """build_py, then the platform's files into the built package (not for an editable install,
    whose package finds the checkout itself)."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        target = Path(self.build_lib) / "concert_platform" / "_platform"
        shutil.rmtree(target, ignore_errors=True)
        for relative in PLATFORM_FILES:
            source = ROOT / relative
            if not source.exists():
                raise SystemExit(f"cannot build the wheel: {source} is missing")
            if source.is_dir():
                shutil.copytree(
                    source, target / relative, ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
                )
            else:
                (target / relative).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, target / relative)


setup(cmdclass={"build_py": BuildWithPlatform})
