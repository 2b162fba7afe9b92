"""Installed use (issue 20 item 5): the wheel carries the platform it tests, so after an install
of the built wheel into a fresh virtual environment (uv here; pip installs the same wheel), `concert-platform e2e` and a
test using the `concert_deployment` fixture pass from a directory that is no checkout. It builds
the wheel and installs it with its dependencies into a new environment with uv, from the cache
the tox environments' own installs (tox-uv) filled: with pip, from an empty pip cache, this test
took 146 s of a 450 s integration layer."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.own_engine]

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "tests" / "integration" / "test_plugin_example.py"


def _run(
    command: list[str], cwd: Path, env: dict[str, str], timeout: float
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=timeout
    )


def _tail(result: subprocess.CompletedProcess[str]) -> str:
    return f"exit {result.returncode}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"


def test_the_built_wheel_runs_e2e_and_the_plugin_outside_a_checkout(tmp_path: Path) -> None:
    env = {
        key: value
        for key, value in os.environ.items()
        if key
        not in ("CONCERT_PLATFORM_HOME", "PYTHONPATH", "VIRTUAL_ENV", "AWS_ENDPOINT_URL", "CONCERT_ENGINE")
    }
    # the checkout's layer cache (keyed by its inputs) spares rebuilding the layers' dependencies
    env["CONCERT_PLATFORM_CACHE"] = str(ROOT / "build" / "layer-cache")
    from uv import find_uv_bin  # the test extra's; imported here, so collecting never needs it

    uv = find_uv_bin()
    dist = tmp_path / "dist"
    built = _run([uv, "build", "--wheel", "--quiet", "--out-dir", str(dist), str(ROOT)], tmp_path, env, 900)
    assert built.returncode == 0, _tail(built)
    (wheel,) = dist.glob("concert_platform-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for carried in (
        "concert_platform/_platform/stacks.yaml",
        "concert_platform/_platform/templates/03-compute-application.yaml",
        "concert_platform/_platform/handlers/health_check.py",
        "concert_platform/_platform/handlers/shared/requirements.txt",
        "concert_platform/sql/schema.sql",
    ):
        assert carried in names, f"the wheel does not carry {carried}"

    venv = tmp_path / "venv"
    # --seed: pip too, as a user's `python -m venv` has (the layer builder vendors with it)
    created = _run(
        [uv, "venv", "--quiet", "--seed", "--python", sys.executable, str(venv)], tmp_path, env, 300
    )
    assert created.returncode == 0, _tail(created)
    python, tool = venv / "bin" / "python", venv / "bin" / "concert-platform"
    installed = _run(
        [uv, "pip", "install", "--quiet", "--python", str(python), str(wheel), "pytest"], tmp_path, env, 1800
    )
    assert installed.returncode == 0, _tail(installed)

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    where = _run(
        [str(python), "-c", "from concert_platform.manifest import project_root; print(project_root())"],
        elsewhere,
        env,
        120,
    )
    assert where.returncode == 0, _tail(where)
    assert Path(where.stdout.strip()).is_relative_to(venv), (
        f"not the installed copy: {where.stdout} (a checkout containing the current directory comes "
        "first: keep --basetemp outside any checkout)"
    )

    e2e = _run(
        [str(tool), "e2e", "--environment", "e2e-wheel", "--reports-dir", str(elsewhere / "reports")],
        elsewhere,
        env,
        1800,
    )
    assert e2e.returncode == 0, _tail(e2e)
    assert "Traceback" not in e2e.stdout + e2e.stderr

    shutil.copy(EXAMPLE, elsewhere / EXAMPLE.name)
    plugin = _run(
        [str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider", EXAMPLE.name],
        elsewhere,
        env,
        1800,
    )
    assert plugin.returncode == 0, _tail(plugin)
    assert " passed" in plugin.stdout and "failed" not in plugin.stdout
