"""An external emulator endpoint (LocalStack, or `concert-platform engine serve`), reached the way
localstack-client and awslocal reach it.

The endpoint is, in order: --endpoint-url; AWS_ENDPOINT_URL; LOCALSTACK_HOST (host:port, with
USE_SSL choosing https); LOCALSTACK_ENDPOINT (this project's older variable); localhost:4566.
Clients come from localstack-client's session (its credentials and per-service endpoint map);
a service it does not map (Redshift Serverless) gets a plain boto3 client on the same endpoint.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any, ClassVar
from urllib.parse import urlparse

import boto3
from localstack_client import config as localstack_config
from localstack_client import session as localstack_session

from concert_platform.engines.base import (
    _CLIENT_CONFIG,
    DECLARABLE_CAPABILITIES,
    Capabilities,
    DeployedCode,
    Engine,
)
from concert_platform.engines.localstack_gaps import KNOWN_LOCALSTACK_GAPS
from concert_platform.errors import UsageError

DEFAULT_ENDPOINT = "http://localhost:4566"


def resolve_endpoint(explicit: str | None = None) -> str:
    if explicit:
        return explicit
    if os.environ.get("AWS_ENDPOINT_URL", "").strip() or os.environ.get("LOCALSTACK_HOST"):
        return str(localstack_config.get_service_endpoint("edge"))
    return os.environ.get("LOCALSTACK_ENDPOINT") or DEFAULT_ENDPOINT


#: LocalStack's community edition: no Redshift Data API that runs SQL, no Redshift Serverless, IAM
#: not enforced (ENFORCE_IAM is a Pro feature); the extension declares what it adds
LOCALSTACK_CAPABILITIES = Capabilities(
    optional_services=frozenset({"redshift-serverless"}), enforces_iam=False
)


class LocalStackEngine(Engine):
    name = "localstack"
    capabilities = LOCALSTACK_CAPABILITIES
    # LocalStack's free tier has no Redshift Serverless provider (a Pro feature).
    unverifiable_types: ClassVar[dict[str, str]] = {
        "AWS::RedshiftServerless::Namespace": "LocalStack community has no Redshift Serverless API",
        "AWS::RedshiftServerless::Workgroup": "LocalStack community has no Redshift Serverless API",
    }

    canary_exemptions: ClassVar[dict[str, str]] = {
        "iam": "LocalStack community does not enforce IAM (ENFORCE_IAM is a Pro feature); the "
        "report's iam section says enforced: false",
        "kms": "LocalStack community does not enforce KMS key policies (ENFORCE_IAM is a Pro feature)",
        "sql": "LocalStack community has no Redshift Data API",
    }

    def __init__(self, region: str, endpoint_url: str | None = None) -> None:
        super().__init__(region, resolve_endpoint(endpoint_url))
        self._localstack: localstack_session.Session | None = None

    def _make_session(self) -> boto3.session.Session:
        # for the services localstack-client does not map
        return boto3.session.Session(
            aws_access_key_id="test",
            aws_secret_access_key="test",  # noqa: S106 - emulator credentials
            region_name=self.region,
        )

    def localstack_session(self) -> localstack_session.Session:
        if self._localstack is None:
            parsed = urlparse(self.endpoint_url or DEFAULT_ENDPOINT)
            session = localstack_session.Session(
                aws_access_key_id="test",
                aws_secret_access_key="test",  # noqa: S106 - emulator credentials
                region_name=self.region,
                localstack_host=f"{parsed.hostname}:{parsed.port or (443 if parsed.scheme == 'https' else 80)}",
            )
            mapped = localstack_config.get_service_endpoint(
                "cloudformation", localstack_host=f"{parsed.hostname}:{parsed.port}"
            )
            if mapped and mapped.rstrip("/") != (self.endpoint_url or "").rstrip("/"):
                raise UsageError(
                    f"the endpoint {self.endpoint_url} disagrees with localstack-client's settings "
                    f"({mapped}, from AWS_ENDPOINT_URL, LOCALSTACK_HOST or USE_SSL): unset them or pass the same URL"
                )
            self._localstack = session
        return self._localstack

    def _new_client(self, service: str) -> Any:
        if localstack_config.get_service_endpoint(service) is None:
            return super()._new_client(service)
        return self.localstack_session().client(service, config=_CLIENT_CONFIG)

    def start(self) -> None:
        super().start()
        self.localstack_session()  # a conflicting setting is a usage error before anything runs
        health = _concert_health(self.endpoint_url or DEFAULT_ENDPOINT)
        self.served_embedded = health.get("engine") == "embedded"
        self.extension = health.get("extension") if health.get("engine") == "localstack" else None
        if self.extension:
            # this project's extension serves Redshift Serverless (and the Data API): its
            # resources can be read back; IAM and KMS policies are still not enforced
            self.unverifiable_types = {}  # type: ignore[misc]
            self.known_gaps = KNOWN_LOCALSTACK_GAPS  # type: ignore[misc]
            self.lambda_executor = str(health.get("lambda_executor") or "docker")
            self.alarm_evaluation = health.get("alarm_evaluation") is True
        if self.served_embedded:
            from concert_platform.engines.embedded import SERVED_CAPABILITIES

            # `concert-platform engine serve`: every type is emulated, Lambda runs no code
            self.unverifiable_types = {}  # type: ignore[misc]
            self.capabilities = SERVED_CAPABILITIES
            self.canary_exemptions = SERVED_CANARY_EXEMPTIONS  # type: ignore[misc]
        self.capabilities = declared_capabilities(self.capabilities, health)
        if self.capabilities.has_warehouse and "sql" in self.canary_exemptions:
            self.canary_exemptions = {  # type: ignore[misc]
                k: v for k, v in self.canary_exemptions.items() if k != "sql"
            }

    def evaluate_alarms_now(self, alarm: str | None = None) -> bool:
        """LocalStack evaluates each alarm once per period from its creation; with the extension,
        `POST /_concert/alarms/evaluate` runs that same evaluation now, of `alarm` alone (every
        alarm of the region when None). True only when the
        extension answers that it evaluated `alarm` (any alarm when None); False without it, when
        the request fails, or when `alarm` was not among those evaluated (another account or
        region, an alarm LocalStack does not schedule): the caller then waits for the schedule."""
        if not getattr(self, "alarm_evaluation", False):
            return False
        import json
        import urllib.error
        import urllib.request

        request = urllib.request.Request(  # noqa: S310 - http(s) checked by require_reachable
            f"{(self.endpoint_url or DEFAULT_ENDPOINT).rstrip('/')}/_concert/alarms/evaluate",
            # only the named alarm: on a shared LocalStack, others' alarms keep their own schedule
            data=json.dumps({"region": self.region, **({"alarms": [alarm]} if alarm else {})}).encode(),
            method="POST",
            headers={"content-type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - as above
                if response.status != 200:
                    return False
                evaluated = json.loads(response.read() or b"{}").get("evaluated", [])
        except (urllib.error.URLError, OSError, ValueError, AttributeError):
            return False
        return alarm is None or alarm in evaluated

    def function_path(self) -> str:
        if getattr(self, "served_embedded", False):
            return super().function_path()
        executor = getattr(self, "lambda_executor", None)
        return f"LocalStack's Lambda (runtime executor: {executor or 'LocalStack default'})"

    def version(self) -> str | None:
        """The version the endpoint's health route reports (LocalStack's and `engine serve`'s)."""
        document = _health(self.endpoint_url or DEFAULT_ENDPOINT, "/_localstack/health") or {}
        if not document.get("version"):
            return None
        if document.get("engine") == "embedded":  # `engine serve` says what it is in its version
            return str(document["version"])
        edition = f" ({document['edition']})" if document.get("edition") else ""
        return f"LocalStack {document['version']}{edition}"
        return None

    def describe(self) -> dict[str, Any]:
        return {
            **super().describe(),
            "served_embedded": getattr(self, "served_embedded", False),
            "extension": getattr(self, "extension", None),
        }

    def api_base_url(self, api_id: str, stage: str, deployed_url: str) -> str:
        # LocalStack serves a REST API stage under its own endpoint, not at the stack's invoke URL
        return f"{self.endpoint_url}/restapis/{api_id}/{stage}/_user_request_"

    def deployed_code(self) -> DeployedCode:
        if not self.served_embedded:
            return super().deployed_code()
        from concert_platform.engines.embedded import ServedCode

        return ServedCode(str(self.endpoint_url))


def declared_capabilities(capabilities: Capabilities, health: dict[str, Any]) -> Capabilities:
    """`capabilities` plus what the endpoint's health document declares in its "capabilities"
    list (only DECLARABLE_CAPABILITIES count): how the served embedded engine, or LocalStack with
    this project's extension (a Redshift Data API on DuckDB), says its warehouse runs SQL."""
    declared = health.get("capabilities")
    names = (
        [name for name in declared if name in DECLARABLE_CAPABILITIES] if isinstance(declared, list) else []
    )
    flags: dict[str, Any] = dict.fromkeys(names, True)
    return dataclasses.replace(capabilities, **flags) if flags else capabilities


#: what `engine serve`, in another process, cannot be held to from this one
SERVED_CANARY_EXEMPTIONS = {
    "iam": "the served engine enforces IAM for the sessions registered in its own process, not for "
    "this tool's (the report's iam section says enforced: false)",
    "kms": "the served engine enforces KMS key policies for the sessions registered in its own "
    "process, not for this tool's",
    "alarm": "the served engine evaluates alarms when its own clock moves; this tool cannot ask it to",
}


def _concert_health(endpoint: str) -> dict[str, Any]:
    """The endpoint's `/_concert/health` document ({} where it has none: plain LocalStack)."""
    import json
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(f"{endpoint.rstrip('/')}/_concert/health", timeout=3) as response:  # noqa: S310 - http(s) checked by require_reachable
            document = json.loads(response.read())
    except (urllib.error.URLError, OSError, ValueError):
        return {}
    return document if isinstance(document, dict) else {}


def _health(endpoint: str, path: str) -> dict[str, Any] | None:
    """The endpoint's health document at `path`, or None when it answers none."""
    import json
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(f"{endpoint.rstrip('/')}{path}", timeout=3) as response:  # noqa: S310 - http(s) checked by require_reachable
            document = json.loads(response.read())
    except (urllib.error.URLError, OSError, ValueError):
        return None
    return document if isinstance(document, dict) else None
