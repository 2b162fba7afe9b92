"""The integration layer asks the project's pytest plugin (concert_platform.pytest_plugin,
registered as a `pytest11` entry point) for one deployed platform per session: engine from
--concert-engine or CONCERT_ENGINE (default embedded), destroyed at the end and proven gone."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture(scope="session")
def manifest(concert_manifest: Any) -> Any:
    return concert_manifest


@pytest.fixture(scope="session")
def engine(concert_engine: Any) -> Any:
    return concert_engine


@pytest.fixture(scope="session")
def deployment(concert_deployment: Any) -> Any:
    return concert_deployment
