"""pytest plugin (entry point `pytest11`): a deployed Concert Data Platform as a fixture.

    def test_health(concert_deployment):
        response = concert_deployment.call_api("GET", "/health")
        assert response.status == 200

The fixture's API (docs/pytest-plugin.md; tests/integration/test_plugin_example.py runs the
example there): `outputs()`, `output(stack, key)`, `call_api(method, path, ...)`,
`invoke(stack, function_output, event)`, `client(service)`, and `engine`, `manifest`,
`environment`, `report`.

Options: --concert-engine (default $CONCERT_ENGINE, else embedded), --concert-environment
(default it-<random>), --concert-keep (leave the stacks deployed; not for the embedded engine,
which lives only as long as the test session), --concert-project (the platform to deploy; default
as the command's --project: $CONCERT_PLATFORM_HOME, a checkout containing the current directory,
the copy installed with the package), --concert-base REF (deploy that git revision, write
data, then update it to the working tree: the update a merge makes; a blocking finding of the
update review fails the session). The endpoint of an external engine comes from
--concert-endpoint-url, else AWS_ENDPOINT_URL / LOCALSTACK_HOST (localstack-client conventions).

One session deploys the six stacks with the sample data, and at the end destroys them and proves
every created resource gone through its own service; a teardown that leaves anything behind is
an error of the session, with the resources named.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    from concert_platform.engines import ENGINE_NAMES

    group = parser.getgroup("concert", "Concert Data Platform deployment")
    group.addoption(
        "--concert-engine",
        choices=ENGINE_NAMES,
        default=None,
        help="engine to deploy to (default: $CONCERT_ENGINE, else embedded)",
    )
    group.addoption(
        "--concert-environment", default=None, help="environment slug to deploy (default: it-<random>)"
    )
    group.addoption(
        "--concert-keep",
        action="store_true",
        default=False,
        help="leave the deployment in place after the session (not for the embedded engine)",
    )
    group.addoption("--concert-endpoint-url", default=None, help="endpoint of an external engine")
    group.addoption(
        "--concert-project",
        default=None,
        metavar="DIR",
        help="the platform to deploy (default: $CONCERT_PLATFORM_HOME, a checkout containing the "
        "current directory, else the copy installed with the package)",
    )
    group.addoption(
        "--concert-region",
        default=None,
        help="region (default: $AWS_REGION, else $AWS_DEFAULT_REGION, else us-east-1)",
    )
    group.addoption(
        "--concert-base",
        default=None,
        metavar="REF",
        help="deploy git revision REF first, write data, then update it to the working tree "
        "(the update a merge makes); a blocking finding of the update review fails the session",
    )


@dataclass
class Deployment:
    """What the session deployed: the target (engine, manifest, environment) and the deploy report."""

    target: Any  # concert_platform.target.Target
    report: dict[str, Any]
    deploy_seconds: float
    teardown: dict[str, Any] = field(default_factory=dict)
    _platform: Any = field(default=None, repr=False)
    #: with --concert-base: the update review (concert_platform.update_review)
    update_review: dict[str, Any] | None = None

    @property
    def engine(self) -> Any:
        return self.target.engine

    @property
    def manifest(self) -> Any:
        return self.target.manifest

    @property
    def environment(self) -> str:
        return str(self.target.environment)

    def outputs(self) -> dict[str, dict[str, str]]:
        """Every stack's outputs, by stack key (`{"compute": {"ApiEndpointUrl": ...}, ...}`); read
        once from the deployed stacks and kept for the session (`refresh_outputs()` after a test
        changes a stack). A copy: a test that edits it changes nothing for the next one."""
        return {stack: dict(values) for stack, values in self.target.outputs().items()}

    def refresh_outputs(self) -> None:
        """Read the outputs again on next use (after a test updated a stack)."""
        self.target.refresh_outputs()

    def output(self, stack: str, key: str) -> str:
        """One output; LookupError naming it when the stack has none."""
        value = self.outputs().get(stack, {}).get(key)
        if not value:
            raise LookupError(f"the {stack} stack of {self.environment} has no {key} output")
        return value

    def client(self, service: str) -> Any:
        """A boto3 client for the engine (its endpoint, region and credentials)."""
        return self.engine.client(service)

    def _reach(self) -> Any:
        if self._platform is None:
            from concert_platform.smoke import Platform

            self._platform = Platform(self.engine, self.manifest, self.environment)
        return self._platform

    def call_api(
        self,
        method: str,
        path: str,
        body: Any = None,
        query: dict[str, str] | None = None,
        *,
        raw_body: str | None = None,
        with_key: bool = True,
    ) -> Any:
        """A request to the deployed REST API stage, with the deployed API key unless
        `with_key=False`; `body` is sent as JSON. Returns `.status`, `.headers` (lower-case
        names) and `.body` (parsed JSON, else text), and `.error` (why a 5xx, when the engine
        can tell). On an engine whose Lambda runs no code the request enters the stage in this
        process and the function runs in the local runtime; elsewhere it is an HTTPS call."""
        return self._reach().call_api(method, path, body, query, raw_body=raw_body, with_key=with_key)

    def invoke(self, stack: str, function_output: str, event: dict[str, Any]) -> dict[str, Any]:
        """Invoke the function a stack output names (e.g. `("compute", "HealthCheckFunctionName")`)
        with `event`; returns its result, RuntimeError with Lambda's error when it fails."""
        return dict(self._reach().invoke(stack, function_output, event))


def engine_name(config: pytest.Config) -> str:
    """The session's engine: --concert-engine, else $CONCERT_ENGINE, else embedded."""
    return str(config.getoption("concert_engine", None) or os.environ.get("CONCERT_ENGINE") or "embedded")


@pytest.fixture(scope="session")
def concert_engine_name(pytestconfig: pytest.Config) -> str:
    return engine_name(pytestconfig)


@pytest.fixture(scope="session")
def concert_manifest(pytestconfig: pytest.Config) -> Any:
    from concert_platform.errors import UsageError
    from concert_platform.manifest import load_manifest, project_root, use_project

    try:
        project = pytestconfig.getoption("concert_project")
        if project:
            use_project(Path(project))
        return load_manifest(project_root())
    except UsageError as exc:  # no platform to deploy: one line, not a traceback
        raise pytest.UsageError(str(exc)) from None


@pytest.fixture(scope="session")
def concert_target(pytestconfig: pytest.Config, concert_engine_name: str, concert_manifest: Any) -> Any:
    """The environment the session deploys, checked as the CLI and e2e check theirs
    (target.prepare_target), before any engine starts; its engine is not started here."""
    from concert_platform.errors import UsageError
    from concert_platform.target import prepare_target

    environment = pytestconfig.getoption("concert_environment") or f"it-{secrets.token_hex(3)}"
    try:
        return prepare_target(
            concert_engine_name,
            environment,
            pytestconfig.getoption("concert_region"),
            pytestconfig.getoption("concert_endpoint_url"),
            manifest=concert_manifest,
        )
    except UsageError as exc:  # one line, not a traceback; 4 is pytest's own usage-error status
        pytest.exit(f"concert target: {exc}", returncode=4)


@pytest.fixture(scope="session")
def concert_engine(concert_engine_name: str, concert_target: Any) -> Iterator[Any]:
    from concert_platform.errors import ConcertPlatformError

    engine = concert_target.engine
    try:
        engine.start()
    except ConcertPlatformError as exc:
        pytest.exit(f"concert engine {concert_engine_name}: {exc}", returncode=2)
    yield engine
    engine.stop()


@pytest.fixture(scope="session")
def concert_deployment(
    pytestconfig: pytest.Config, concert_engine: Any, concert_target: Any
) -> Iterator[Deployment]:
    import time

    from concert_platform.e2e import ephemeral_password, teardown_environment
    from concert_platform.errors import UsageError
    from concert_platform.outcome import describe_exception
    from concert_platform.ownership import claim_environment, new_run_id, run_tags
    from concert_platform.workflow import deploy_environment

    concert_manifest, environment = concert_target.manifest, concert_target.environment
    run_id = new_run_id("pytest")
    try:  # an existing or protected environment is refused before anything changes
        ownership = claim_environment(
            concert_target.reader, concert_manifest, environment, run_id, adopt=False
        )
    except UsageError as exc:
        raise pytest.UsageError(str(exc)) from None
    keep = bool(pytestconfig.getoption("concert_keep"))
    if keep and concert_engine.capabilities.ephemeral:
        raise pytest.UsageError(
            f"--concert-keep: the {concert_engine.name} engine ends with the test session"
        )
    environ = dict(os.environ)
    environ.setdefault("REDSHIFT_MASTER_PASSWORD", ephemeral_password())
    started = time.monotonic()
    deployment: Deployment | None = None
    failure = ""
    base_ref = pytestconfig.getoption("concert_base")
    base = None
    if base_ref:
        from concert_platform.update_gate import export_base
        from concert_platform.update_review import load_acknowledgements

        try:
            acknowledgements = load_acknowledgements(concert_manifest.root)
            base = export_base(base_ref, concert_manifest.root)
        except UsageError as exc:
            raise pytest.UsageError(str(exc)) from None

    def deploy(manifest: Any, change_sets: Any = None) -> dict[str, Any]:
        return deploy_environment(
            concert_engine,
            manifest,
            environment,
            load_sample=change_sets is None,
            environ=environ,
            interactive=False,
            confirm=lambda _q: True,
            tags=run_tags(run_id, "pytest"),
            ownership=ownership,
            change_sets=change_sets,
        )

    review = None
    try:
        if base is None:
            report = deploy(concert_manifest)
        else:
            review, report = _deploy_and_update(concert_engine, concert_manifest, environment, base, deploy)
        deployment = Deployment(concert_target, report, time.monotonic() - started)
        if review is not None:
            from concert_platform.update_review import build_review

            deployment.update_review = build_review(
                review["change_sets"], review["before"], review["after"], acknowledgements,
                concert_manifest, base.root, [], f"{base.ref} ({base.commit[:12]})",  # type: ignore[union-attr]
            )  # fmt: skip
            blocking = [f for f in deployment.update_review["findings"] if not f["acknowledged"]]
            if blocking:
                failure = "the update review blocks: " + "; ".join(
                    f"{f['id']} {f['stack']}/{f['logical_id']}: {f['message']}" for f in blocking
                )
                deployment = None
    except Exception as exc:  # the tests that asked for it fail with one line; teardown still runs
        failure = describe_exception(exc)
    finally:
        if base is not None:
            base.remove()
    try:
        if deployment is None:
            pytest.fail(f"deploying {environment} on {concert_engine.name} failed: {failure}", pytrace=False)
        yield deployment
    finally:
        if not keep:
            teardown = teardown_environment(concert_target, None, ownership=ownership)
            if deployment is not None:
                deployment.teardown = teardown
            if not teardown["clean"]:
                rows = (
                    [
                        f"{r['stack']}/{r['logical_id']} {r['type']} {r['physical_id']}: {r['detail']}"
                        for r in teardown.get("survived", []) + teardown["remaining"]
                    ]
                    + teardown["leftovers"]
                    + teardown["stack_failures"]
                )
                pytest.fail(f"teardown of {environment} is not clean: {'; '.join(rows)}", pytrace=False)


def _deploy_and_update(
    engine: Any, manifest: Any, environment: str, base: Any, deploy: Any
) -> tuple[dict[str, Any], dict[str, Any]]:
    """--concert-base: the base revision with the sample data and a user's writes, then the update
    to `manifest`; what the review needs, and the update's deploy report."""
    from concert_platform.manifest import load_manifest
    from concert_platform.update_gate import write_as_a_user
    from concert_platform.update_review import snapshot

    base_manifest = load_manifest(base.root)
    deploy(base_manifest)
    write_as_a_user(engine, base_manifest, environment)
    before = snapshot(engine, base_manifest, environment)
    change_sets: dict[str, Any] = {}
    report = deploy(manifest, change_sets)
    after = snapshot(engine, manifest, environment)
    return {"change_sets": change_sets, "before": before, "after": after}, report
