"""LocalStack on LOCALSTACK_ENDPOINT or http://localhost:4566 (localstack-client/awslocal conventions)."""

from __future__ import annotations

import os
from typing import ClassVar

import boto3

from concert_platform.engines.base import Engine

DEFAULT_ENDPOINT = "http://localhost:4566"


class LocalStackEngine(Engine):
    name = "localstack"
    # LocalStack's free tier has no Redshift Serverless provider (a Pro feature).
    unverifiable_types: ClassVar[dict[str, str]] = {
        "AWS::RedshiftServerless::Namespace": "LocalStack community has no Redshift Serverless API",
        "AWS::RedshiftServerless::Workgroup": "LocalStack community has no Redshift Serverless API",
    }

    def __init__(self, region: str, endpoint_url: str | None = None) -> None:
        super().__init__(region, endpoint_url or os.environ.get("LOCALSTACK_ENDPOINT") or DEFAULT_ENDPOINT)

    def _make_session(self) -> boto3.session.Session:
        return boto3.session.Session(
            aws_access_key_id="test",
            aws_secret_access_key="test",  # noqa: S106 - emulator credentials
            region_name=self.region,
        )
