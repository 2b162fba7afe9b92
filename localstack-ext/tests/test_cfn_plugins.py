"""The CloudFormation providers are where LocalStack looks for them, load as LocalStack loads
them, and the Python 3.11 fixes do what they say (LocalStack's interpreter; no LocalStack needs
to run)."""

from __future__ import annotations

import hashlib
import sys
import uuid
from importlib.metadata import entry_points

import pytest

pytest.importorskip("localstack", reason="LocalStack is not installed in this interpreter")

GROUP = "localstack.cloudformation.resource_providers"


def test_every_provider_loads_through_localstacks_own_loader() -> None:
    from concert_localstack_ext.cfn.plugins import PROVIDERS
    from localstack.services.cloudformation.resource_provider import ResourceProviderExecutor

    ours = {e.name for e in entry_points(group=GROUP) if e.value.startswith("concert_localstack_ext.")}
    assert ours == set(PROVIDERS)
    for kind in PROVIDERS:
        provider = ResourceProviderExecutor.try_load_resource_provider(kind)
        assert provider is not None, kind
        assert type(provider).__module__.startswith("concert_localstack_ext.cfn."), kind
        assert kind == provider.TYPE
        primary = provider.SCHEMA["primaryIdentifier"]
        assert primary and all(p.startswith("/properties/") for p in primary), kind


def test_a_disabled_provider_is_not_loaded(monkeypatch: pytest.MonkeyPatch) -> None:
    from concert_localstack_ext.cfn.plugins import DISABLE_ENV
    from plux import PluginDisabled, PluginManager

    monkeypatch.setenv(DISABLE_ENV, "AWS::EC2::EIP, AWS::Glue::Database")
    manager = PluginManager(GROUP)
    for kind in ("AWS::EC2::EIP", "AWS::Glue::Database"):
        with pytest.raises(PluginDisabled):
            manager.load(kind)
    assert manager.load("AWS::EC2::FlowLog").factory is not None


def test_uuid5_takes_bytes_as_python_312_does() -> None:
    from concert_localstack_ext.cfn.py311_compat import uuid5

    namespace = uuid.UUID("6ba7b810-9dad-11d1-80b4-00c04fd430c8")
    assert uuid5(namespace, "concert") == uuid.uuid5(namespace, "concert")
    digest = hashlib.sha1(namespace.bytes + b"\x00\xffkey", usedforsecurity=False).digest()
    assert uuid5(namespace, b"\x00\xffkey") == uuid.UUID(bytes=digest[:16], version=5)


def test_kms_creates_keys_after_the_fix() -> None:
    from concert_localstack_ext.cfn.py311_compat import patch_kms_uuid5
    from localstack.services.kms.models import KmsKey

    applied = patch_kms_uuid5()
    assert applied == (sys.version_info < (3, 12))
    key = KmsKey({"Description": "test"}, "000000000000", "us-east-1")
    assert len(key.metadata["CurrentKeyMaterialId"]) == 64


def test_localstack_packages_import_after_the_fix() -> None:
    from concert_localstack_ext.cfn.py311_compat import load_packages_api_with_postponed_annotations

    load_packages_api_with_postponed_annotations()
    from localstack.packages import PackageInstaller
    from localstack.services.lambda_.invocation import docker_runtime_executor

    assert PackageInstaller.__init__.__annotations__["install_lock"] == "Lock | None" or sys.version_info >= (
        3,
        13,
    )
    assert docker_runtime_executor.DockerRuntimeExecutor
