"""One session deploys the six stacks (engine from CONCERT_ENGINE, default embedded), loads the
sample data, and destroys everything at the end, also when a test fails."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from typing import Any

import pytest

from concert_platform.e2e import ephemeral_password
from concert_platform.engines import create_engine
from concert_platform.manifest import load_manifest
from concert_platform.teardown import find_leftovers
from concert_platform.workflow import deploy_environment, destroy_environment

ENGINE = os.environ.get("CONCERT_ENGINE", "embedded")
REGION = os.environ.get("AWS_DEFAULT_REGION", "us-east-1")


class Deployment:
    def __init__(
        self, engine: Any, manifest: Any, environment: str, report: dict[str, Any], seconds: float
    ) -> None:
        self.engine = engine
        self.manifest = manifest
        self.environment = environment
        self.report = report
        self.deploy_seconds = seconds


@pytest.fixture(scope="session")
def manifest() -> Any:
    return load_manifest()


@pytest.fixture(scope="session")
def engine() -> Iterator[Any]:
    engine = create_engine(ENGINE, REGION)
    engine.start()
    yield engine
    engine.stop()


@pytest.fixture(scope="session")
def deployment(engine: Any, manifest: Any) -> Iterator[Deployment]:
    environment = f"it-{int(time.time()) % 100000}"
    environ = dict(os.environ)
    environ.setdefault("REDSHIFT_MASTER_PASSWORD", ephemeral_password())
    started = time.monotonic()
    try:
        report = deploy_environment(
            engine,
            manifest,
            environment,
            load_sample=True,
            environ=environ,
            interactive=False,
            confirm=lambda _q: True,
        )
        yield Deployment(engine, manifest, environment, report, time.monotonic() - started)
    finally:
        destroy_environment(engine, manifest, environment)
        leftovers = find_leftovers(engine, environment)
        print(f"\nteardown of {environment}: {leftovers if leftovers else 'clean'}")
