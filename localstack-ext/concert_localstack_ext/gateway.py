"""LocalStack's default (twisted) gateway listens on GATEWAY_LISTEN's host, not on every interface.

LocalStack 4.13.1's `TwistedRuntimeServer.register` binds IPv4 with
`TCP4ServerEndpoint(reactor, port)` and no interface (its own comment: "TODO: interface = host?"),
so `GATEWAY_LISTEN=127.0.0.1:4599` listens on 0.0.0.0:4599. Its other gateway, hypercorn, binds
the host but answers every S3 PutObject that botocore sends (with `Expect: 100-continue`) by
closing the connection after LocalStack has stored the object (seen here: "Connection was closed
before we received a valid response"), which breaks the deploy's code upload.

This `on_infra_start` hook (it runs before the gateway is registered) gives the twisted server an
endpoint factory that passes the host GATEWAY_LISTEN names for that port; nothing else changes.
"""

from __future__ import annotations

import logging
from typing import Any

from localstack.runtime import hooks

LOG = logging.getLogger(__name__)


class _BoundEndpoints:
    """`twisted.internet.endpoints` with TCP4ServerEndpoint bound to GATEWAY_LISTEN's host per port."""

    def __init__(self, endpoints: Any, hosts: dict[int, str]) -> None:
        self._endpoints = endpoints
        self._hosts = hosts

    def TCP4ServerEndpoint(
        self, reactor: Any, port: int, backlog: int = 50, interface: str = ""
    ) -> Any:
        host = interface or self._hosts.get(port, "")
        return self._endpoints.TCP4ServerEndpoint(reactor, port, backlog=backlog, interface=host)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._endpoints, name)


def bind_twisted_gateway_to_listen_hosts() -> bool:
    from localstack import config
    from localstack.runtime.server import twisted as twisted_server

    if isinstance(twisted_server.endpoints, _BoundEndpoints):
        return False
    hosts = {
        hp.port: hp.host
        for hp in config.GATEWAY_LISTEN
        if hp.host not in ("", "0.0.0.0") and not config.is_ipv6_address(hp.host)  # noqa: S104
    }
    if not hosts:
        return False
    twisted_server.endpoints = _BoundEndpoints(twisted_server.endpoints, hosts)
    LOG.info("concert-localstack-ext: the twisted gateway binds %s", sorted(hosts.items()))
    return True


@hooks.on_infra_start(priority=90)
def concert_gateway_loopback() -> None:
    bind_twisted_gateway_to_listen_hosts()
