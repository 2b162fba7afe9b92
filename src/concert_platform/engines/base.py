"""What every engine offers: boto3 clients for one region and endpoint, and a capability list."""

from __future__ import annotations

import socket
import threading
from collections.abc import Mapping
from types import TracebackType
from typing import Any, ClassVar
from urllib.parse import urlparse

import boto3
from botocore.config import Config

from concert_platform.errors import UsageError

_CLIENT_CONFIG = Config(retries={"max_attempts": 3, "mode": "standard"}, connect_timeout=5, read_timeout=60)


class Engine:
    name = "engine"
    #: resource type -> why this engine cannot show such a resource back (verification exemptions)
    unverifiable_types: ClassVar[Mapping[str, str]] = {}
    #: False where Lambda cannot run code (moto without Docker): the smoke run calls handlers in-process
    runs_function_code: bool = True
    #: engine guarantee (concert_platform.canaries.GUARANTEES) -> why this engine cannot be held to
    #: it; its canaries then report skip with that reason. Empty: held to every guarantee, as AWS.
    canary_exemptions: ClassVar[Mapping[str, str]] = {}

    def __init__(self, region: str, endpoint_url: str | None = None) -> None:
        self.region = region
        self.endpoint_url = endpoint_url
        self._session: boto3.session.Session | None = None
        self._clients: dict[str, Any] = {}
        # boto3 sessions are not thread-safe; clients are. Several threads ask for clients at once
        # (the Lambda runtime's cold starts run beside verification), so creation is serialised.
        self._client_lock = threading.RLock()

    # Engines that need credentials of their own (emulators) override this.
    def _make_session(self) -> boto3.session.Session:
        return boto3.session.Session(region_name=self.region)

    @property
    def session(self) -> boto3.session.Session:
        if self._session is None:
            self._session = self._make_session()
        return self._session

    def client(self, service: str) -> Any:
        client = self._clients.get(service)
        if client is None:
            with self._client_lock:
                client = self._clients.get(service)
                if client is None:
                    client = self._clients[service] = self._new_client(service)
        return client

    def _new_client(self, service: str) -> Any:
        return self.session.client(
            service,
            endpoint_url=self.endpoint_url,
            config=_CLIENT_CONFIG,  # type: ignore[call-overload]
        )

    def start(self) -> None:
        """Make the engine reachable; raise UsageError (exit 2) when it is not."""
        if self.endpoint_url:
            require_reachable(self.endpoint_url)

    def stop(self) -> None:
        self._clients.clear()

    # ---- what the engine canaries (concert_platform.canaries) ask of an engine ------------------
    def canary_exemption(self, guarantee: str) -> str | None:
        """Why this engine cannot be held to `guarantee` (the canary reports skip), or None."""
        return self.canary_exemptions.get(guarantee)

    def client_as(self, service: str, credentials: Mapping[str, str]) -> Any:
        """A client of this engine signed with other credentials (STS AssumeRole's keys)."""
        with self._client_lock:  # the session is shared and not thread-safe
            return self.session.client(
                service,  # type: ignore[call-overload]
                endpoint_url=self.endpoint_url,
                aws_access_key_id=credentials["AccessKeyId"],
                aws_secret_access_key=credentials["SecretAccessKey"],
                aws_session_token=credentials["SessionToken"],
                config=_CLIENT_CONFIG,
            )

    def act_as(self, access_key_id: str, label: str, role_arn: str, session_arn: str) -> None:
        """Calls signed with these assumed-role keys are authorised as IAM would. Engines that
        enforce IAM themselves (AWS) need nothing; an emulator that enforces it per session does."""

    def evaluate_alarms_now(self) -> bool:
        """Evaluate every metric alarm now where the engine can be asked to; False where alarms
        are evaluated on the engine's own schedule (AWS: each period), so a caller waits."""
        return False

    def breaks_guarantee(self, guarantee: str) -> bool:
        """TEST-ONLY: whether a test switched one of the engine's guarantees off (only the embedded
        engine has such a switch; see engines/moto_ext/faults.py)."""
        return False

    def describe(self) -> dict[str, Any]:
        return {"engine": self.name, "region": self.region, "endpoint_url": self.endpoint_url}

    def __enter__(self) -> Engine:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def require_reachable(endpoint_url: str, timeout: float = 3.0) -> None:
    parsed = urlparse(endpoint_url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise UsageError(f"invalid endpoint URL {endpoint_url!r}: use http(s)://host:port")
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        with socket.create_connection((parsed.hostname, port), timeout=timeout):
            pass
    except OSError as exc:
        raise UsageError(
            f"endpoint {endpoint_url} is unreachable ({exc.strerror or exc}); start the engine "
            "(for LocalStack: docker compose -f docker-compose.localstack.yml up -d) or fix --endpoint-url"
        ) from None
