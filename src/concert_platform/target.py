"""The deployed environment a command works on: an engine, the manifest and an environment slug,
checked the same way by every entry point (the CLI's commands, `e2e`, the pytest plugin)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from concert_platform.deploy import StackOperator
    from concert_platform.engines import Engine
    from concert_platform.manifest import Manifest


class Target:
    """One environment on one engine. Stack names come from the manifest; the outputs are read
    once and kept (`refresh_outputs()` forgets them after the stacks change)."""

    def __init__(self, engine: Engine, manifest: Manifest, environment: str) -> None:
        self.engine = engine
        self.manifest = manifest
        self.environment = environment
        self._operator: StackOperator | None = None
        self._outputs: dict[str, dict[str, str]] | None = None

    def __repr__(self) -> str:
        return f"Target({self.environment!r} on {self.engine.name} in {self.engine.region})"

    @property
    def region(self) -> str:
        return self.engine.region

    @property
    def reader(self) -> StackOperator:
        """A StackOperator for reading (names, descriptions, outputs); made on first use, once the
        engine has started (it opens a CloudFormation client)."""
        if self._operator is None:
            from concert_platform.deploy import StackOperator

            self._operator = StackOperator(self.engine, self.manifest, self.environment)
        return self._operator

    def stack_name(self, key: str) -> str:
        return self.manifest.stack_name(key, self.environment)

    def stack_names(self) -> dict[str, str]:
        """Stack key -> stack name, in the manifest's deploy order."""
        return {spec.key: self.stack_name(spec.key) for spec in self.manifest.stacks}

    def describe(self, key: str) -> dict[str, Any] | None:
        """The stack as DescribeStacks answers now (never cached), None when it does not exist."""
        return self.reader.describe(self.stack_name(key))

    def outputs(self) -> dict[str, dict[str, str]]:
        """Every stack's outputs by stack key, read on first use and kept."""
        if self._outputs is None:
            self._outputs = self.reader.all_outputs()
        return self._outputs

    def refresh_outputs(self) -> None:
        self._outputs = None


def prepare_target(
    engine_name: str,
    environment: str,
    region: str | None = None,
    endpoint_url: str | None = None,
    *,
    manifest: Manifest | None = None,
    only: list[str] | None = None,
    before_engine: Callable[[Manifest], None] | None = None,
) -> Target:
    """Validate everything before an engine exists (the environment slug, the region, the selected
    stacks' template files, the names the environment generates: naming.validate_target; a
    UsageError with one line), then create the engine (not started). Without `region` the same
    default as every entry point: AWS_REGION, then AWS_DEFAULT_REGION, then us-east-1.
    `before_engine` is an entry point's own refusal (e2e: a protected environment, missing deploy
    inputs), run after these checks and before the engine is created."""
    from concert_platform.engines import create_engine, default_region
    from concert_platform.manifest import load_manifest
    from concert_platform.naming import validate_target

    manifest = manifest or load_manifest()
    region = region or default_region()
    validate_target(manifest, environment, region, only)
    if before_engine is not None:
        before_engine(manifest)
    return Target(create_engine(engine_name, region, endpoint_url), manifest, environment)
