"""The service plugins (entry points of `localstack.aws.provider` in pyproject.toml).

Services community LocalStack lacks are registered as `<service>:default`, so they load without
any setting. DynamoDB and Kinesis, which community has (on helper servers that need downloads),
are registered as `<service>:concert` and chosen with PROVIDER_OVERRIDE_DYNAMODB=concert and
PROVIDER_OVERRIDE_KINESIS=concert.
"""

from __future__ import annotations

from typing import Any

from localstack.services.plugins import Service, aws_provider

from concert_localstack_ext.services.moto_backed import moto_backed_service


@aws_provider(api="cloudtrail")
def cloudtrail() -> Service:
    from concert_localstack_ext.services.cloudtrail import use_localstack_s3

    use_localstack_s3()

    def backends() -> list[Any]:
        from moto.cloudtrail.models import cloudtrail_backends

        return [cloudtrail_backends]

    return moto_backed_service("cloudtrail", backends)


@aws_provider(api="glue")
def glue() -> Service:
    def backends() -> list[Any]:
        from moto.glue.models import glue_backends

        return [glue_backends]

    return moto_backed_service("glue", backends)


@aws_provider(api="application-autoscaling")
def application_autoscaling() -> Service:
    def backends() -> list[Any]:
        from moto.applicationautoscaling.models import applicationautoscaling_backends

        return [applicationautoscaling_backends]

    return moto_backed_service("application-autoscaling", backends)


@aws_provider(api="xray")
def xray() -> Service:
    # moto's X-Ray keeps traces only; the project's moto extension adds groups and sampling rules
    # (CreateGroup, GetGroup, GetGroups, DeleteGroup, CreateSamplingRule, GetSamplingRules,
    # DeleteSamplingRule) to the same backend and URL map, and services/xray.py their updates.
    from concert_localstack_ext.services import xray as xray_updates

    xray_updates.patch_wire()

    def backends() -> list[Any]:
        from moto.xray.models import xray_backends

        return [xray_backends]

    return moto_backed_service("xray", backends)


@aws_provider(api="redshift-serverless")
def redshift_serverless() -> Service:
    from concert_platform.engines.moto_ext import _register_redshift_serverless

    _register_redshift_serverless()

    def backends() -> list[Any]:
        from concert_platform.engines.moto_ext.redshift_serverless import redshiftserverless_backends

        return [redshiftserverless_backends]

    return moto_backed_service("redshift-serverless", backends)


@aws_provider(api="redshift-data")
def redshift_data() -> Service:
    # Replaces moto's canned `redshiftdata` with the project's Data API on DuckDB, which finds
    # workgroups in the Redshift Serverless backend above and clusters in moto's Redshift.
    from concert_platform.engines.moto_ext import _register_redshift_serverless, redshift_data

    _register_redshift_serverless()
    redshift_data.install()

    def backends() -> list[Any]:
        return [redshift_data.redshiftdata_backends]

    return moto_backed_service("redshift-data", backends)


@aws_provider(api="dynamodb", name="concert")
def dynamodb() -> Service:
    def backends() -> list[Any]:
        from moto.dynamodb.models import dynamodb_backends

        return [dynamodb_backends]

    return moto_backed_service("dynamodb", backends)


@aws_provider(api="kinesis", name="concert")
def kinesis() -> Service:
    def backends() -> list[Any]:
        from moto.kinesis.models import kinesis_backends

        return [kinesis_backends]

    return moto_backed_service("kinesis", backends)
