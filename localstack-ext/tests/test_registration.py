"""The extension's plugins are where LocalStack looks for them (run with LocalStack's interpreter)."""

from __future__ import annotations

from importlib.metadata import entry_points

import pytest

pytest.importorskip("localstack", reason="LocalStack is not installed in this interpreter")

SERVICES = {
    "cloudtrail:default", "glue:default", "application-autoscaling:default", "xray:default",
    "redshift-serverless:default", "redshift-data:default", "dynamodb:concert", "kinesis:concert",
}  # fmt: skip


def test_every_service_provider_is_registered_and_names_a_real_api() -> None:
    from localstack.aws.spec import load_service

    found = {
        e.name: e
        for e in entry_points(group="localstack.aws.provider")
        if e.value.startswith("concert_localstack_ext.")
    }
    assert set(found) == SERVICES
    for name, entry in found.items():
        spec = entry.load()  # the PluginSpec LocalStack's ServicePluginManager loads
        assert spec.name == name
        assert load_service(name.split(":")[0]).operation_names, name


def test_the_lambda_executor_is_registered() -> None:
    from localstack.services.lambda_.invocation.runtime_executor import (
        EXECUTOR_PLUGIN_MANAGER,
        RuntimeExecutor,
    )

    assert EXECUTOR_PLUGIN_MANAGER.exists("concert")
    executor = EXECUTOR_PLUGIN_MANAGER.load("concert").load()
    assert issubclass(executor, RuntimeExecutor) and executor.validate_environment()
