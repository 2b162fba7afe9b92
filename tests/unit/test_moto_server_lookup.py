"""The embedded engine's moto server finds each request's backend once per host
(concert_platform.engines.moto_ext.server): the same answer as moto's own lookup, without moto's
directory listing and pattern scan on every request."""

from __future__ import annotations

import pytest
from moto import backends
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

import concert_platform.engines.moto_ext as moto_ext

HOSTS = (
    "dynamodb.us-east-1.amazonaws.com",
    "lambda.eu-west-1.amazonaws.com",
    "s3.amazonaws.com",
    "redshift-serverless.us-east-1.amazonaws.com",  # added by moto_ext.register()
    "redshift-data.us-east-1.amazonaws.com",
    "kinesis.us-east-1.amazonaws.com",
    "moto_api",
    "sts",  # a moto module name
)


def test_the_remembered_backend_is_the_one_moto_finds() -> None:
    moto_ext.register()
    patched = DomainDispatcherApplication.get_backend_for_host
    original = patched.__wrapped__  # type: ignore[attr-defined]
    app = DomainDispatcherApplication(create_backend_app)
    for host in HOSTS:
        expected = original(app, host)
        assert expected is not None, host
        assert patched(app, host) == expected, host
        assert patched(app, host) == expected, host  # remembered
    assert patched(app, None) is None


def test_each_host_is_looked_up_once_and_an_unknown_host_every_time(monkeypatch: pytest.MonkeyPatch) -> None:
    moto_ext.register()
    listed: list[int] = []
    real = backends.list_of_moto_modules

    def counting() -> object:
        listed.append(1)
        return real()

    monkeypatch.setattr(backends, "list_of_moto_modules", counting)
    app = DomainDispatcherApplication(create_backend_app)
    for _ in range(5):
        app.get_backend_for_host("dynamodb.us-east-1.amazonaws.com")
    assert len(listed) == 1
    for _ in range(3):
        assert app.get_backend_for_host("nothing.example.org") is None
    assert len(listed) == 4  # not remembered: moto looks (and says so) each time
