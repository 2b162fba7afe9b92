"""The plugin classes LocalStack's plux finds (entry-point group
``localstack.cloudformation.resource_providers``; the entry-point name is the resource type).

A plugin imports its provider only in ``load()``, as LocalStack's own ``*_plugin.py`` modules do.
``CONCERT_LOCALSTACK_EXT_DISABLE`` (comma-separated resource types) switches single providers
off, which is how a test shows what LocalStack does without one (the type is then unsupported).
"""

from __future__ import annotations

import importlib
import os

from localstack.services.cloudformation.resource_provider import (
    CloudFormationResourceProviderPlugin,
    ResourceProvider,
)

DISABLE_ENV = "CONCERT_LOCALSTACK_EXT_DISABLE"

# type -> "module:class" inside this package. The single list of what the extension provides;
# pyproject.toml's entry points name the plugin classes below, and a unit test holds the two equal.
PROVIDERS: dict[str, str] = {
    "AWS::EC2::EIP": "ec2:EIPProvider",
    "AWS::EC2::FlowLog": "ec2:FlowLogProvider",
    "AWS::EC2::SecurityGroupIngress": "ec2:SecurityGroupIngressProvider",
    "AWS::EC2::SecurityGroupEgress": "ec2:SecurityGroupEgressProvider",
    "AWS::Logs::MetricFilter": "logs:MetricFilterProvider",
    "AWS::Logs::QueryDefinition": "logs:QueryDefinitionProvider",
    "AWS::CloudWatch::Dashboard": "cloudwatch:DashboardProvider",
    "AWS::CloudTrail::Trail": "cloudtrail:TrailProvider",
    "AWS::Glue::Database": "glue:DatabaseProvider",
    "AWS::XRay::Group": "xray:GroupProvider",
    "AWS::XRay::SamplingRule": "xray:SamplingRuleProvider",
    "AWS::ApplicationAutoScaling::ScalableTarget": "applicationautoscaling:ScalableTargetProvider",
    "AWS::ApplicationAutoScaling::ScalingPolicy": "applicationautoscaling:ScalingPolicyProvider",
    "AWS::RedshiftServerless::Namespace": "redshiftserverless:NamespaceProvider",
    "AWS::RedshiftServerless::Workgroup": "redshiftserverless:WorkgroupProvider",
}


def disabled_types() -> set[str]:
    return {t.strip() for t in os.environ.get(DISABLE_ENV, "").split(",") if t.strip()}


def load_provider_class(target: str) -> type[ResourceProvider]:
    module, _, cls = target.partition(":")
    provider: type[ResourceProvider] = getattr(importlib.import_module(f"{__package__}.{module}"), cls)
    return provider


class _ExtensionPlugin(CloudFormationResourceProviderPlugin):
    name: str

    def __init__(self) -> None:
        self.factory: type[ResourceProvider] | None = None

    def should_load(self) -> bool:
        return self.name not in disabled_types()

    def load(self) -> None:
        self.factory = load_provider_class(PROVIDERS[self.name])


def _plugin_class(type_name: str) -> type[_ExtensionPlugin]:
    class_name = type_name.replace("AWS::", "").replace("::", "") + "Plugin"
    return type(class_name, (_ExtensionPlugin,), {"name": type_name, "__module__": __name__})


EC2EIPPlugin = _plugin_class("AWS::EC2::EIP")
EC2FlowLogPlugin = _plugin_class("AWS::EC2::FlowLog")
EC2SecurityGroupIngressPlugin = _plugin_class("AWS::EC2::SecurityGroupIngress")
EC2SecurityGroupEgressPlugin = _plugin_class("AWS::EC2::SecurityGroupEgress")
LogsMetricFilterPlugin = _plugin_class("AWS::Logs::MetricFilter")
LogsQueryDefinitionPlugin = _plugin_class("AWS::Logs::QueryDefinition")
CloudWatchDashboardPlugin = _plugin_class("AWS::CloudWatch::Dashboard")
CloudTrailTrailPlugin = _plugin_class("AWS::CloudTrail::Trail")
GlueDatabasePlugin = _plugin_class("AWS::Glue::Database")
XRayGroupPlugin = _plugin_class("AWS::XRay::Group")
XRaySamplingRulePlugin = _plugin_class("AWS::XRay::SamplingRule")
ApplicationAutoScalingScalableTargetPlugin = _plugin_class("AWS::ApplicationAutoScaling::ScalableTarget")
ApplicationAutoScalingScalingPolicyPlugin = _plugin_class("AWS::ApplicationAutoScaling::ScalingPolicy")
RedshiftServerlessNamespacePlugin = _plugin_class("AWS::RedshiftServerless::Namespace")
RedshiftServerlessWorkgroupPlugin = _plugin_class("AWS::RedshiftServerless::Workgroup")
