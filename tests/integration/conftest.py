"""The integration layer asks the project's pytest plugin (concert_platform.pytest_plugin,
registered as a `pytest11` entry point) for one deployed platform per session: engine from
--concert-engine or CONCERT_ENGINE (default embedded), destroyed at the end and proven gone.

The planted-fault tests share one way to copy the project and plant a mistake in the copy
(`project_copy`), one layer cache (`LAYER_CACHE`), and one way to run what the mistake must break:
`run_e2e` (the command, in this process) or `deploy_planted` (the deploy alone, on the session's
engine); `planted_e2e` is the three steps in one call.

A test marked `own_engine` runs an engine of its own (a fresh embedded one, or `engine serve`) and
never the session's, so its outcome does not depend on CONCERT_ENGINE. Where the session's engine
is an external endpoint (LocalStack, a served engine, AWS), such tests would only repeat what
`tox -e integration` ran: they are deselected, and the report header says so and why."""

from __future__ import annotations

import contextlib
import json
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from concert_platform.manifest import _load
from concert_platform.packaging import default_cache_dir

ROOT = Path(__file__).resolve().parents[2]
#: the layer builds, shared by the real tree and every copy (keyed by their inputs: never stale)
LAYER_CACHE = default_cache_dir(ROOT)
#: the deploy inputs a planted run needs (an ephemeral engine: any valid password)
PLANTED_PASSWORD = "Sup3rSecretPw"
#: what a deploy and an e2e run read from the project (the manifest's CONCERT_PLATFORM_HOME)
PROJECT_FILES = ("stacks.yaml", "templates", "handlers", "src/concert_platform/sql/schema.sql", "docs/api.md")

Edit = Callable[[str, str, str], None]


#: how many tests marked own_engine this session deselected (printed in the terminal summary)
OWN_ENGINE_DESELECTED = pytest.StashKey[int]()


def _session_engine(config: pytest.Config) -> str:
    from concert_platform.pytest_plugin import engine_name

    return engine_name(config)


def pytest_report_header(config: pytest.Config) -> str | None:
    engine = _session_engine(config)
    if engine == "embedded":
        return None
    return (
        f"session engine {engine}: tests marked own_engine are deselected (each runs an engine of its "
        "own, never this one; they run in tox -e integration)"
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if _session_engine(config) == "embedded":
        return
    kept = [item for item in items if item.get_closest_marker("own_engine") is None]
    deselected = len(items) - len(kept)
    if deselected:
        config.hook.pytest_deselected(items=[item for item in items if item not in kept])
        items[:] = kept
    config.stash[OWN_ENGINE_DESELECTED] = deselected
    if hasattr(config, "workeroutput"):  # an xdist worker: the controller prints the count
        config.workeroutput["own_engine_deselected"] = deselected


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    """xdist's controller: each worker collected the same tests, so each says the same count."""
    count = getattr(node, "workeroutput", {}).get("own_engine_deselected")
    if count is not None:
        node.config.stash[OWN_ENGINE_DESELECTED] = count


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    count = config.stash.get(OWN_ENGINE_DESELECTED, 0)
    if count:
        terminalreporter.write_line(
            f"own_engine: {count} tests not run on the {_session_engine(config)} engine (deselected): each "
            "runs an engine of its own, never the session's; they run in tox -e integration"
        )


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
    LAYER_CACHE.mkdir(parents=True, exist_ok=True)
    (destination / "build").mkdir(exist_ok=True)
    (destination / "build" / "layer-cache").symlink_to(LAYER_CACHE)

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
    monkeypatch.setenv("REDSHIFT_MASTER_PASSWORD", PLANTED_PASSWORD)
    _load.cache_clear()
    yield edit
    _load.cache_clear()


def run_e2e(
    environment: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> tuple[int, dict[str, Any]]:
    """`concert-platform e2e --json` on a fresh embedded engine, in this process, against the
    project the manifest reads (a `project_copy`); its exit code and its JSON report. The reports
    go to tmp_path/reports."""
    from concert_platform.cli import main

    code = main(
        [
            "e2e",
            "--engine",
            "embedded",
            "--environment",
            environment,
            "--json",
            "--reports-dir",
            str(tmp_path / "reports"),
        ]
    )
    out = capsys.readouterr().out
    return code, json.loads(out[out.index("{") :])


def failing_checks(report: dict[str, Any]) -> dict[str, str]:
    """The e2e report's failed smoke checks: name -> detail."""
    return {c["name"]: c["detail"] for c in report["smoke"]["checks"] if not c["ok"]}


def only_smoke_failures(report: dict[str, Any]) -> set[str]:
    """The names of the failed smoke checks, once the report says nothing else failed (a fault on
    the bed asserts the exact set: what an earlier plant left behind would show here)."""
    assert {f["phase"] for f in report["failures"]} == {"smoke"}, report["failures"]
    return set(failing_checks(report))


Plant = tuple[str, str, str]  # (relative path, old text, new text)


@pytest.fixture
def planted_e2e(
    project_copy: Edit, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> Callable[..., tuple[int, dict[str, Any]]]:
    """`planted_e2e(environment, *plants)`: plant each (path, old, new) in a copy of the project,
    then run e2e against it (`run_e2e`)."""

    def plant_and_run(environment: str, *plants: Plant) -> tuple[int, dict[str, Any]]:
        for relative, old, new in plants:
            project_copy(relative, old, new)
        return run_e2e(environment, tmp_path, capsys)

    return plant_and_run


def deploy_planted(engine: Any, environment: str) -> Any:
    """Deploy the project the manifest reads (a `project_copy`) with the sample data to `engine`,
    building the layers through LAYER_CACHE; the manifest it deployed. A DeployError propagates."""
    from concert_platform.manifest import load_manifest
    from concert_platform.packaging import build_artifacts
    from concert_platform.workflow import deploy_environment

    manifest = load_manifest()
    deploy_environment(
        engine,
        manifest,
        environment,
        environ={"REDSHIFT_MASTER_PASSWORD": PLANTED_PASSWORD},
        interactive=False,
        artifacts=build_artifacts(manifest, cache_dir=LAYER_CACHE),
        load_sample=True,
    )
    return manifest


@pytest.fixture(scope="session")
def fault_bed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One deployment of the working tree per worker, on an embedded engine in the worker's process,
    to which planted faults are applied as updates and rolled back (tests/integration/fault_bed.py)."""
    from tests.integration.fault_bed import FaultBed

    from concert_platform.engines.embedded import EmbeddedEngine
    from concert_platform.engines.moto_ext import lambda_runtime

    with EmbeddedEngine("us-east-1") as engine:
        lambda_runtime.unbind(engine)  # it takes the deliveries only while it works (FaultBed._bound)
        bed = FaultBed(engine, tmp_path_factory.mktemp("fault-bed"))
        try:
            bed.deploy()
        except BaseException:
            with contextlib.suppress(Exception):  # the deploy's own failure is the one to report
                bed.destroy()  # a bed that is not sound is not left in the process's moto state
            raise
        yield bed
        destroyed = bed.destroy()
        assert not destroyed.get("failures"), f"the fault bed's teardown failed: {destroyed['failures']}"
        from concert_platform.teardown import find_leftovers

        left = find_leftovers(engine, bed.environment, bed._real())
        assert not left, f"the fault bed's teardown left: {left}"


@pytest.fixture
def planted_update(fault_bed: Any) -> Callable[..., tuple[int, dict[str, Any]]]:
    """`planted_update(*plants)`: each (path, old, new) planted in a copy of the project, applied
    to the worker's fault bed as an update, checked as e2e checks, rolled back; (exit code, report).
    The report's `environment` is the bed's (names in its messages end with it)."""
    return fault_bed.run  # type: ignore[no-any-return]


@pytest.fixture(scope="session")
def manifest(concert_manifest: Any) -> Any:
    return concert_manifest


@pytest.fixture(scope="session")
def engine(concert_engine: Any) -> Any:
    return concert_engine


@pytest.fixture(scope="session")
def deployment(concert_deployment: Any) -> Any:
    return concert_deployment
