"""Up-front validation of environment slugs, regions and every physical name the templates generate."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

import boto3

from concert_platform.errors import UsageError
from concert_platform.manifest import Manifest

ENVIRONMENT_PATTERN = re.compile(r"^(?!.*--)[a-z][a-z0-9-]{0,18}[a-z0-9]$")
MAX_ENVIRONMENT_LENGTH = 20

# (resource type, name property) -> (max length, extra rule). Sources: each service's API limits.
NAME_LIMITS: dict[tuple[str, str], tuple[int, str]] = {
    ("AWS::S3::Bucket", "BucketName"): (63, "s3"),
    ("AWS::Lambda::Function", "FunctionName"): (64, ""),
    ("AWS::Lambda::LayerVersion", "LayerName"): (140, ""),
    ("AWS::IAM::Role", "RoleName"): (64, ""),
    ("AWS::DynamoDB::Table", "TableName"): (255, ""),
    ("AWS::SNS::Topic", "TopicName"): (256, ""),
    ("AWS::SQS::Queue", "QueueName"): (80, ""),
    ("AWS::Kinesis::Stream", "Name"): (128, ""),
    ("AWS::Events::Rule", "Name"): (64, ""),
    ("AWS::Logs::LogGroup", "LogGroupName"): (512, ""),
    ("AWS::CloudWatch::Alarm", "AlarmName"): (255, ""),
    ("AWS::CloudWatch::Dashboard", "DashboardName"): (255, ""),
    ("AWS::XRay::Group", "GroupName"): (32, ""),
    ("AWS::XRay::SamplingRule", "RuleName"): (32, ""),
    ("AWS::RedshiftServerless::Namespace", "NamespaceName"): (64, "lower"),
    ("AWS::RedshiftServerless::Workgroup", "WorkgroupName"): (64, "lower"),
    ("AWS::Glue::Database", "Name"): (255, "lower"),
    ("AWS::SecretsManager::Secret", "Name"): (512, ""),
    ("AWS::ApiGateway::RestApi", "Name"): (1024, ""),
    ("AWS::ApiGateway::Stage", "StageName"): (128, ""),
    ("AWS::CloudTrail::Trail", "TrailName"): (128, ""),
    ("AWS::KMS::Alias", "AliasName"): (256, ""),
    ("AWS::EC2::SecurityGroup", "GroupName"): (255, ""),
    ("AWS::Logs::QueryDefinition", "Name"): (255, ""),
}
_S3_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]*[a-z0-9]$")


def _longest_region() -> str:
    return max(known_regions(), key=len)


def _pseudo_worst_case() -> dict[str, str]:
    """The longest values pseudo parameters take, for worst-case name lengths."""
    return {"AWS::AccountId": "1" * 12, "AWS::Region": _longest_region(), "AWS::Partition": "aws-us-gov"}


def validate_environment(slug: str) -> str:
    if not ENVIRONMENT_PATTERN.match(slug or ""):
        raise UsageError(
            f"invalid environment {slug!r}: use 2-{MAX_ENVIRONMENT_LENGTH} characters, lowercase letters, "
            "digits and single hyphens, starting with a letter and ending with a letter or digit "
            "(for example development, staging, production, pr-1234)"
        )
    return slug


@cache
def known_regions() -> frozenset[str]:
    session = boto3.session.Session()
    regions: set[str] = set()
    for partition in ("aws", "aws-us-gov", "aws-cn"):
        regions.update(session.get_available_regions("cloudformation", partition_name=partition))
    return frozenset(regions)


def validate_region(region: str) -> str:
    regions = known_regions()
    if region not in regions:
        close = sorted(r for r in regions if r.split("-")[0] == (region or "").split("-")[0])[:6]
        hint = f" (did you mean one of: {', '.join(close)}?)" if close else ""
        raise UsageError(
            f"unknown region {region!r}{hint}; pass --region with an AWS region such as us-east-1"
        )
    return region


@dataclass(frozen=True)
class GeneratedName:
    template: str
    logical_id: str
    resource_type: str
    prop: str
    value: str
    limit: int
    rule: str

    def problem(self) -> str | None:
        if len(self.value) > self.limit:
            return f"{len(self.value)} characters, limit {self.limit}"
        if self.rule == "s3" and not _S3_NAME.match(self.value):
            return "S3 bucket names take lowercase letters, digits, dots and hyphens only"
        if self.rule == "lower" and self.value != self.value.lower():
            return "must be lowercase"
        return None


def _render(value: Any, params: dict[str, str]) -> str | None:
    """Render a name expression with known parameters; None when it depends on runtime values."""
    if isinstance(value, str):
        return value
    if not isinstance(value, dict) or len(value) != 1:
        return None
    ((fn, arg),) = value.items()
    if fn == "Ref":
        return params.get(arg) or _pseudo_worst_case().get(arg)
    if fn == "Fn::Sub":
        text, local = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])
        rendered_local = {k: _render(v, params) for k, v in local.items()}

        def sub(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in rendered_local and rendered_local[name] is not None:
                return str(rendered_local[name])
            return params.get(name) or _pseudo_worst_case().get(name) or "\0"

        out = re.sub(r"\$\{([^}!]+)\}", sub, text)
        return None if "\0" in out else out
    if fn == "Fn::Join" and isinstance(arg[1], dict) and "Fn::Split" in arg[1]:
        delimiter, source = arg[1]["Fn::Split"]
        text = _render(source, params)
        return None if text is None else str(arg[0]).join(text.split(delimiter))
    if fn == "Fn::Join":
        parts = [_render(p, params) for p in arg[1]] if isinstance(arg[1], list) else None
        if parts is None or any(p is None for p in parts):
            return None
        return str(arg[0]).join(p for p in parts if p is not None)
    return None


def generated_names(manifest: Manifest, environment: str) -> Iterator[GeneratedName]:
    """Every physical name the templates derive from the environment, rendered for `environment`."""
    for spec in manifest.stacks:
        template = manifest.load_template(spec.key)
        params = {k: str(v.get("Default", "")) for k, v in template.get("Parameters", {}).items()}
        params["Environment"] = environment
        for logical_id, resource in template.get("Resources", {}).items():
            rtype = resource.get("Type", "")
            for (limit_type, prop), (limit, rule) in NAME_LIMITS.items():
                if rtype != limit_type or prop not in resource.get("Properties", {}):
                    continue
                value = _render(resource["Properties"][prop], params)
                if value is not None:
                    yield GeneratedName(spec.template, logical_id, rtype, prop, value, limit, rule)


def check_generated_names(manifest: Manifest, environment: str) -> list[str]:
    """Problems (empty when fine) with the names `environment` would generate."""
    problems = []
    for name in generated_names(manifest, environment):
        issue = name.problem()
        if issue:
            problems.append(
                f"{name.template} {name.logical_id} {name.prop} {name.value!r}: {issue}; use a shorter environment"
            )
    return problems


def validate_names(manifest: Manifest, environment: str) -> None:
    problems = check_generated_names(manifest, environment)
    if problems:
        raise UsageError(f"environment {environment!r} generates invalid names: " + "; ".join(problems))


def validate_target(manifest: Manifest, environment: str, region: str, only: list[str] | None = None) -> None:
    """Everything checked before a command touches an engine, the same for every entry point (cli,
    e2e, the pytest plugin): the environment slug, the region, the selected stacks' template
    files, the names the environment generates."""
    validate_environment(environment)
    validate_region(region)
    for spec in manifest.select(only):
        if not manifest.template_path(spec.key).is_file():
            raise UsageError(f"template {manifest.template_path(spec.key)} for stack {spec.key} is missing")
    validate_names(manifest, environment)
