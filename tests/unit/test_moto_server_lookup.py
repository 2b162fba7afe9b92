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


# --- the other lookups moto repeats (moto_ext/server.py) -------------------------------------------


def test_a_held_account_is_answered_without_motos_lock_and_a_reset_still_clears() -> None:
    from moto.core.base_backend import BackendDict
    from moto.sqs.models import sqs_backends

    moto_ext.register()
    assert getattr(BackendDict.__getitem__, "__wrapped__", None) is not None
    first = sqs_backends["111122223333"]
    assert sqs_backends["111122223333"] is first  # the same account's backends, from the dict
    assert sqs_backends in BackendDict._instances  # registered for reset on first access
    first["us-east-1"].create_queue("q")
    BackendDict.reset()
    again = sqs_backends["111122223333"]  # created afresh (moto's path), registered again
    assert again is not first and sqs_backends in BackendDict._instances
    assert again["us-east-1"].queues == {}


def test_a_response_classs_method_names_are_listed_once_per_shape_of_the_class() -> None:
    import moto.core.responses as responses

    moto_ext.register()
    listed = responses.method_names_from_class
    original = listed.__wrapped__  # type: ignore[attr-defined]

    class Response(responses.BaseResponse):
        def describe_things(self) -> str:
            return ""

    assert listed(Response) == original(Response)
    assert listed(Response) is listed(Response)  # remembered
    Response.list_things = lambda self: ""  # type: ignore[attr-defined]  # added later: listed again
    assert "list_things" in listed(Response) and listed(Response) == original(Response)


def test_moto_loads_its_service_models_through_one_loader() -> None:
    import moto.core.utils as utils
    from botocore.session import Session

    moto_ext.register()
    assert utils.create_loader() is utils.create_loader()
    expected = {name.replace("-", ""): name for name in Session().get_available_services()}
    for package in ("cognitoidp", "redshiftdata", "s3", "dynamodb", "nosuchservice"):
        assert utils.service_name_from_moto_package_name(package) == expected.get(package, package)
