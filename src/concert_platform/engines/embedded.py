"""The embedded engine: moto's server in this process on a free loopback port, extended by moto_ext."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, ClassVar

import boto3

from concert_platform.engines.base import Engine

if TYPE_CHECKING:
    from moto.server import ThreadedMotoServer


class EmbeddedEngine(Engine):
    name = "embedded"
    unverifiable_types: ClassVar[dict[str, str]] = {}

    def __init__(self, region: str) -> None:
        super().__init__(region, endpoint_url=None)
        self._server: ThreadedMotoServer | None = None

    def _make_session(self) -> boto3.session.Session:
        return boto3.session.Session(
            aws_access_key_id="testing",
            aws_secret_access_key="testing",  # noqa: S106 - emulator credentials
            region_name=self.region,
        )

    def start(self) -> None:
        from moto.server import ThreadedMotoServer

        from concert_platform.engines import moto_ext

        moto_ext.register()
        # moto logs every skipped or emulated detail at INFO/WARNING; keep the tool's output readable
        logging.getLogger("moto").setLevel(logging.ERROR)
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        host, port = server.get_host_and_port()
        self._server = server
        self.endpoint_url = f"http://{host}:{port}"

    def stop(self) -> None:
        super().stop()
        if self._server is not None:
            self._server.stop()
            self._server = None
            from concert_platform.engines.moto_ext.redshift_data import close_databases

            close_databases()  # the warehouse's databases live as long as the engine
