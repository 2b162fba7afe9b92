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

    def version(self) -> str | None:
        """What the engine says it is, for the reports; None where it reports no version."""
        return None

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
