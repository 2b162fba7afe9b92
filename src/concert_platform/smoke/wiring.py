"""Every deployed function's environment names resources that exist, and its layers exist."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from concert_platform.engines.base import Engine
from concert_platform.smoke.platform import FlowResult, Platform

_WIRE_PROBES: tuple[tuple[str, str, Callable[[Engine, str], Any]], ...] = (
    ("_TABLE", "DynamoDB table", lambda e, v: e.client("dynamodb").describe_table(TableName=v)),
    ("_BUCKET", "S3 bucket", lambda e, v: e.client("s3").head_bucket(Bucket=v)),
    ("_TOPIC_ARN", "SNS topic", lambda e, v: e.client("sns").get_topic_attributes(TopicArn=v)),
    ("_STREAM", "Kinesis stream", lambda e, v: e.client("kinesis").describe_stream_summary(StreamName=v)),
    (
        "REDSHIFT_WORKGROUP",
        "Redshift workgroup",
        lambda e, v: e.client("redshift-serverless").get_workgroup(workgroupName=v),
    ),
    ("_SECRET_ARN", "secret", lambda e, v: e.client("secretsmanager").describe_secret(SecretId=v)),
)


def wiring_checks(platform: Platform) -> list[FlowResult]:
    """Every function's environment names resources that exist, and its layers exist."""
    checks: list[FlowResult] = []
    for stack, output in platform.function_outputs:
        name = platform.outputs.get(stack, {}).get(output)
        if not name:
            checks.append(
                FlowResult(f"wiring {stack}.{output}", False, f"the {stack} stack has no {output} output")
            )
            continue
        config = platform.engine.client("lambda").get_function_configuration(FunctionName=name)
        broken = []
        for variable, value in sorted(config.get("Environment", {}).get("Variables", {}).items()):
            probe = next(
                ((kind, call) for suffix, kind, call in _WIRE_PROBES if variable.endswith(suffix)), None
            )
            if probe is None or not value:
                continue
            try:
                probe[1](platform.engine, value)
            except ClientError as exc:
                broken.append(
                    f"{variable}={value}: no such {probe[0]} ({exc.response.get('Error', {}).get('Code')})"
                )
        for layer in config.get("Layers", []):
            try:
                layer_name, version = layer["Arn"].split(":")[-2:]
                platform.engine.client("lambda").get_layer_version(
                    LayerName=layer_name, VersionNumber=int(version)
                )
            except ClientError:
                broken.append(f"layer {layer['Arn']} does not exist")
        checks.append(
            FlowResult(f"wiring {name}", not broken, "; ".join(broken) or "every referenced resource exists")
        )
    return checks
