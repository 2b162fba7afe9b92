"""Engines the tool deploys to: embedded (moto in-process), localstack, aws.

Nothing outside this package knows which engine it runs on beyond an endpoint URL and the
engine's capabilities (`Engine.capabilities`; `unverifiable_types`: resource types it cannot
show back, each with a reason). What the harness asks beyond AWS's APIs (the clock, alarm
evaluation, the IAM ledger, the local Lambda runtime) is an `Engine` method, "not supported"
unless the engine's capabilities say otherwise. This package imports nothing of the tool above
it (docs/architecture.md, "Layers").
"""

from __future__ import annotations

from concert_platform.engines.base import Capabilities, Engine
from concert_platform.engines.region import default_region
from concert_platform.errors import UsageError

#: every engine's name, in the order the parsers offer them (the first is the default)
ENGINE_NAMES = ("embedded", "localstack", "aws")


def create_engine(name: str, region: str, endpoint_url: str | None = None) -> Engine:
    if name == "embedded":
        from concert_platform.engines.embedded import EmbeddedEngine

        return EmbeddedEngine(region=region)
    if name == "localstack":
        from concert_platform.engines.localstack import LocalStackEngine

        return LocalStackEngine(region=region, endpoint_url=endpoint_url)
    if name == "aws":
        from concert_platform.engines.aws import AwsEngine

        return AwsEngine(region=region, endpoint_url=endpoint_url)
    raise UsageError(f"unknown engine {name!r}; choose one of: {', '.join(ENGINE_NAMES)}")


__all__ = ["ENGINE_NAMES", "Capabilities", "Engine", "create_engine", "default_region"]
