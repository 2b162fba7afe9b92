"""Tests of the LocalStack extension. They run with LocalStack's own interpreter (the extension
is installed only there), e.g. ``build/localstack/venv/bin/python -m pytest localstack-ext/tests``.

Live tests need a running LocalStack with this extension installed: set ``CONCERT_LOCALSTACK_URL``
(for example http://127.0.0.1:4577); without it they are skipped, saying so.
"""

from __future__ import annotations

import os
from typing import Any

import pytest

LOCALSTACK_URL = os.environ.get("CONCERT_LOCALSTACK_URL", "")


@pytest.fixture(scope="session")
def localstack_url() -> str:
    if not LOCALSTACK_URL:
        pytest.skip("CONCERT_LOCALSTACK_URL is not set: no LocalStack with the extension to test against")
    import urllib.request

    try:
        urllib.request.urlopen(f"{LOCALSTACK_URL}/_localstack/health", timeout=5).close()  # noqa: S310
    except OSError as exc:
        pytest.fail(f"CONCERT_LOCALSTACK_URL={LOCALSTACK_URL} does not answer: {exc}")
    return LOCALSTACK_URL


@pytest.fixture(scope="session")
def aws(localstack_url: str) -> Any:
    import boto3

    session = boto3.session.Session(
        aws_access_key_id="test",
        aws_secret_access_key="test",  # noqa: S106 - LocalStack's fixed test credentials
        region_name="us-east-1",
    )

    def client(service: str) -> Any:
        return session.client(service, endpoint_url=localstack_url)

    return client
