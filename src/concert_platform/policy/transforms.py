"""Expand `AWS::LanguageExtensions` (Fn::ForEach, through cfn-lint's transform) and SAM
(`AWS::Serverless-2016-10-31`, through AWS's own SAM translator) before our checks read a
template, and remember which source resource every generated resource comes from."""

from __future__ import annotations

import copy
import logging
import os
from typing import Any

SAM = "AWS::Serverless-2016-10-31"
LANGUAGE_EXTENSIONS = "AWS::LanguageExtensions"
FAKE_CODE_URI = "s3://policy-check/code.zip"  # SAM refuses local paths; our checks never read code
FAKE_APPLICATION = "https://policy-check.s3.amazonaws.com/application.yaml"  # never fetched
FAKE_IMAGE_URI = "123456789012.dkr.ecr.us-east-1.amazonaws.com/policy-check:latest"  # never pulled
PLACEHOLDER = "policycheck"  # a parameter SAM must resolve that has no default


class TransformError(Exception):
    """The template's transform could not be expanded; the message says why."""


def transforms_of(data: dict[str, Any]) -> list[str]:
    declared = data.get("Transform", [])
    return [t for t in (declared if isinstance(declared, list) else [declared]) if isinstance(t, str)]


def expand(data: dict[str, Any], name: str) -> tuple[dict[str, Any], dict[str, str]]:
    """(expanded template, generated logical id -> source logical id or Fn::ForEach key)."""
    declared = transforms_of(data)
    if not declared:
        return data, {}
    source_ids = [str(k) for k in data.get("Resources", {}) if isinstance(data.get("Resources"), dict)]
    expanded = data
    for transform in declared:
        if transform == LANGUAGE_EXTENSIONS:
            expanded = _language_extensions(expanded, name)
        elif transform == SAM:
            expanded = _sam(expanded)
    origin = {}
    api_sources = _implicit_api_sources(data)
    for logical_id in expanded.get("Resources", {}) or {}:
        if logical_id not in source_ids:
            origin[str(logical_id)] = _source(str(logical_id), source_ids, api_sources)
    return expanded, origin


def _implicit_api_sources(data: dict[str, Any]) -> dict[str, str]:
    """SAM's implicit APIs (ServerlessRestApi, ServerlessHttpApi) -> the first function whose
    Api/HttpApi event creates it: that is the resource a person would edit."""
    found: dict[str, str] = {}
    resources = data.get("Resources")
    for logical_id, resource in (resources if isinstance(resources, dict) else {}).items():
        properties = resource.get("Properties") if isinstance(resource, dict) else None
        events = properties.get("Events") if isinstance(properties, dict) else None
        for event in (events if isinstance(events, dict) else {}).values():
            kind = event.get("Type") if isinstance(event, dict) else None
            api = {"Api": "ServerlessRestApi", "HttpApi": "ServerlessHttpApi"}.get(str(kind))
            event_properties = event.get("Properties") if isinstance(event, dict) else None
            explicit = isinstance(event_properties, dict) and bool(
                {"RestApiId", "ApiId"} & set(event_properties)
            )
            if api and not explicit:
                found.setdefault(api, str(logical_id))
    return found


def _source(generated: str, source_ids: list[str], api_sources: dict[str, str]) -> str:
    """SAM names what it generates after the source resource (FnRole, FnApiEvent...), or after
    the implicit API a function's event creates; Fn::ForEach keys name the loop. The longest
    source id that prefixes the generated id is the origin."""
    prefixes = [s for s in source_ids if not s.startswith("Fn::ForEach::") and generated.startswith(s)]
    if prefixes:
        return max(prefixes, key=len)
    for api, function in api_sources.items():
        if generated.startswith(api):
            return function
    loops = [s for s in source_ids if s.startswith("Fn::ForEach::")]
    return loops[0] if len(loops) == 1 else generated


def _language_extensions(data: dict[str, Any], name: str) -> dict[str, Any]:
    from cfnlint.decode.utils import convert_dict
    from cfnlint.template import Template as CfnLintTemplate
    from cfnlint.template.transforms._language_extensions import language_extension

    template = CfnLintTemplate(name, convert_dict(copy.deepcopy(data)), ["us-east-1"])
    matches, transformed = language_extension(template)
    if matches or transformed is None:
        raise TransformError("; ".join(m.message for m in matches) or "Fn::ForEach did not expand")
    plain: dict[str, Any] = _plain(transformed)
    declared = [t for t in transforms_of(plain) if t != LANGUAGE_EXTENSIONS]
    if declared:
        plain["Transform"] = declared
    else:
        plain.pop("Transform", None)
    return plain


def _plain(value: Any) -> Any:
    """cfn-lint's position-carrying nodes as plain dicts, lists and scalars."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, str):
        return str(value)
    return value


def _sam(data: dict[str, Any]) -> dict[str, Any]:
    from samtranslator.internal.managed_policies import get_bundled_managed_policy_map
    from samtranslator.parser.parser import Parser
    from samtranslator.public.exceptions import InvalidDocumentException
    from samtranslator.translator.translator import Translator

    logging.getLogger("samtranslator").setLevel(logging.CRITICAL)
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")  # SAM builds ARNs for a region
    template = copy.deepcopy(data)
    declared = template.get("Parameters")
    parameters: dict[str, Any] = declared if isinstance(declared, dict) else {}
    # SAM needs a few properties (AutoPublishAlias, AutoPublishCodeSha256) as literal strings at
    # translation time; a Ref to a parameter becomes its default, or a placeholder where there is
    # none (our checks never read them). SAM also gets every default as a parameter value.
    parameter_values = {
        str(name): spec["Default"]
        for name, spec in parameters.items()
        if isinstance(spec, dict) and "Default" in spec
    }
    for resource in (template.get("Resources") or {}).values():
        properties = resource.get("Properties") if isinstance(resource, dict) else None
        if not isinstance(properties, dict):
            continue
        kind = resource.get("Type")
        for resolved in ("AutoPublishAlias", "AutoPublishCodeSha256"):
            ref = properties.get(resolved)
            if isinstance(ref, dict) and isinstance(ref.get("Ref"), str) and ref["Ref"] in parameters:
                value = parameter_values.get(ref["Ref"])
                properties[resolved] = value if isinstance(value, str) and value else PLACEHOLDER
        if kind == "AWS::Serverless::Function" and properties.get("PackageType") == "Image":
            if not isinstance(properties.get("ImageUri"), str):
                properties["ImageUri"] = FAKE_IMAGE_URI  # `sam build` fills it in from Metadata
            continue
        key = {
            "AWS::Serverless::Function": "CodeUri",
            "AWS::Serverless::LayerVersion": "ContentUri",
            "AWS::Serverless::StateMachine": "DefinitionUri",
        }.get(str(kind))
        inline = key == "CodeUri" and "InlineCode" in properties
        if (
            key
            and (key in properties or key == "CodeUri")
            and not inline
            and not _is_s3_location(properties.get(key))
        ):
            properties[key] = FAKE_CODE_URI
        if kind == "AWS::Serverless::Api" and "DefinitionUri" in properties:
            properties["DefinitionUri"] = FAKE_CODE_URI
        if kind == "AWS::Serverless::Application":
            properties["Location"] = FAKE_APPLICATION  # else SAM asks the Serverless Application Repository
    policies = get_bundled_managed_policy_map("aws") or {}
    try:
        translated = Translator(managed_policy_map=policies, sam_parser=Parser()).translate(
            sam_template=template, parameter_values=parameter_values, get_managed_policy_map=lambda: policies
        )
    except InvalidDocumentException as exc:
        raise TransformError("; ".join(str(getattr(c, "message", c)) for c in exc.causes)) from None
    except Exception as exc:  # the translator's other failures are as varied as templates
        raise TransformError(str(exc).splitlines()[0] if str(exc) else type(exc).__name__) from None
    return _plain(translated)


def _is_s3_location(value: Any) -> bool:
    """A literal `s3://` URI or a {Bucket, Key} location: what SAM accepts as it is (an `!Sub` of
    an S3 URI is not: SAM wants Bucket and Key there)."""
    if isinstance(value, dict):
        return "Bucket" in value and "Key" in value
    return isinstance(value, str) and value.startswith("s3://")
