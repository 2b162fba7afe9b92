"""How the embedded engine is reached: this process's own clients hand requests straight to moto
(no loopback HTTP), the served endpoint reaches the very same backends, a request moto does not
serve is refused (never sent on to AWS), a configured AWS_ENDPOINT_URL is ignored, and clients are
created once however many threads ask. moto's template parsing on libyaml gives moto's data."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
import urllib3.util.connection
import yaml

from concert_platform.engines.embedded import EmbeddedEngine
from concert_platform.errors import UsageError
from concert_platform.manifest import load_manifest


@pytest.fixture(scope="module")
def engine() -> Iterator[EmbeddedEngine]:
    running = EmbeddedEngine("us-east-1")
    with running:
        yield running


def test_own_clients_open_no_socket_and_share_the_served_backends(
    engine: EmbeddedEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    served = boto3.client(
        "sqs",
        region_name="us-east-1",
        endpoint_url=engine.endpoint_url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    url = served.create_queue(QueueName="made-over-http")["QueueUrl"]
    own = engine.client("sqs")

    def no_socket(*_args: Any, **_kwargs: Any) -> None:
        raise AssertionError("the engine's own client opened a connection")

    monkeypatch.setattr(socket, "create_connection", no_socket)
    monkeypatch.setattr(urllib3.util.connection, "create_connection", no_socket)  # botocore's way
    own.send_message(QueueUrl=url, MessageBody="in-process")
    assert (
        own.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])["Attributes"][
            "ApproximateNumberOfMessages"
        ]
        == "1"
    )
    monkeypatch.undo()
    assert served.receive_message(QueueUrl=url)["Messages"][0]["Body"] == "in-process"


def test_a_request_moto_does_not_serve_is_answered_here_never_sent_to_aws(
    engine: EmbeddedEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The clients' URLs are AWS's; a call to a service moto lacks fails on the engine (moto's
    "not yet implemented", or our refusal where no pattern matches), and no connection is made."""
    from botocore.exceptions import ClientError

    client = engine.client("braket")

    def no_socket(*_args: Any, **_kwargs: Any) -> None:
        raise AssertionError("a request left the process")

    monkeypatch.setattr(socket, "create_connection", no_socket)
    monkeypatch.setattr(urllib3.util.connection, "create_connection", no_socket)
    with pytest.raises((ClientError, UsageError)):
        client.search_devices(filters=[])


def test_the_dispatch_hook_refuses_what_no_moto_pattern_matches() -> None:
    from botocore.awsrequest import AWSPreparedRequest
    from botocore.compat import HTTPHeaders

    from concert_platform.engines.embedded import _dispatch_in_process

    request = AWSPreparedRequest("GET", "https://example.invalid/thing?x=1", HTTPHeaders(), b"", False)
    with pytest.raises(UsageError, match=r"the embedded engine serves no GET https://example.invalid/thing$"):
        _dispatch_in_process(request)


def test_a_configured_endpoint_url_does_not_redirect_the_engines_clients(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    with EmbeddedEngine("us-east-1") as fresh:
        assert fresh.client("sts").get_caller_identity()["Account"]


def test_clients_are_created_once_however_many_threads_ask(engine: EmbeddedEngine) -> None:
    got: list[Any] = []
    barrier = threading.Barrier(8)

    def ask() -> None:
        barrier.wait()
        got.append(engine.client("kinesis"))

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(got) == 8 and len({id(client) for client in got}) == 1


def test_moto_parses_our_templates_on_libyaml_as_it_does_itself() -> None:
    from moto.cloudformation.utils import yaml_tag_constructor

    from concert_platform.engines.moto_ext.stack_lifecycle import _parse_template

    class MotosOwn(yaml.Loader):
        pass

    MotosOwn.add_multi_constructor("", yaml_tag_constructor)
    manifest = load_manifest()
    for spec in manifest.stacks:
        text = manifest.template_path(spec.key).read_text()
        assert _parse_template(text) == yaml.load(text, Loader=MotosOwn), spec.template  # noqa: S506
    assert _parse_template('{"Resources": {}}') == {"Resources": {}}


@pytest.mark.parametrize(
    "variable", ["AWS_USE_FIPS_ENDPOINT", "AWS_USE_DUALSTACK_ENDPOINT"], ids=["fips", "dualstack"]
)
def test_fips_or_dual_stack_settings_do_not_lead_the_engines_clients_astray(
    variable: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(variable, "true")
    with EmbeddedEngine("us-east-1") as fresh:
        assert fresh.client("sts").get_caller_identity()["Account"]
        assert isinstance(fresh.client("cloudformation").list_stacks()["StackSummaries"], list)
        queue = fresh.client("sqs").create_queue(QueueName=f"reached-{variable.lower()}")["QueueUrl"]
        assert queue in fresh.client("sqs").list_queues()["QueueUrls"]


def test_a_handler_that_fails_answers_500_retried_then_a_client_error_as_over_http(
    engine: EmbeddedEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Over the port, the web framework turns a handler's exception into a 500, which botocore
    retries and then raises as a ClientError; the in-process path must do the same, not hand a
    bare Python exception to callers that handle ClientError."""
    from botocore.exceptions import ClientError
    from moto.sqs.responses import SQSResponse

    original = SQSResponse.list_queues
    calls = {"n": 0}

    def flaky(self: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("a race in the emulator")
        return original(self)

    monkeypatch.setattr(SQSResponse, "list_queues", flaky)
    engine.client("sqs").list_queues()  # the retry succeeds
    assert calls["n"] == 2

    def broken(self: Any) -> Any:
        raise RuntimeError("always broken")

    monkeypatch.setattr(SQSResponse, "list_queues", broken)
    with pytest.raises(ClientError) as caught:
        engine.client("sqs").list_queues()
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
