"""docs/api.md, the compute template's API Gateway resources and the handler modules agree:
same paths, same methods, same functions and handler strings, same request fields."""

from __future__ import annotations

import importlib
import re
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from concert_platform.manifest import load_cfn_yaml

ROOT = Path(__file__).resolve().parents[2]
COMPUTE = ROOT / "templates" / "03-compute-application.yaml"
API_DOC = ROOT / "docs" / "api.md"


def documented_routes() -> dict[tuple[str, str], dict[str, str]]:
    """(method, path) -> {function, handler, request} from the table between the route markers."""
    text = API_DOC.read_text()
    block = re.search(r"<!-- routes:begin -->\n(.*?)<!-- routes:end -->", text, re.S)
    assert block, "docs/api.md lost its <!-- routes:begin --> ... <!-- routes:end --> table"
    rows: dict[tuple[str, str], dict[str, str]] = {}
    for line in block.group(1).splitlines()[2:]:
        method, path, function, handler, request = (c.strip() for c in line.strip().strip("|").split("|"))
        assert (method, path) not in rows, f"{method} {path} is documented twice"
        rows[(method, path)] = {"function": function, "handler": handler, "request": request}
    return rows


def template_routes() -> dict[tuple[str, str], dict[str, str]]:
    """(method, path) -> {function, handler} from the API Gateway resources and methods."""
    resources = load_cfn_yaml(COMPUTE.read_text())["Resources"]

    def path_of(ref: Any) -> str:
        if isinstance(ref, dict) and "Fn::GetAtt" in ref:  # the API's root resource
            return ""
        resource = resources[ref["Ref"]]["Properties"]
        return f"{path_of(resource['ParentId'])}/{resource['PathPart']}"

    routes: dict[tuple[str, str], dict[str, str]] = {}
    for name, resource in resources.items():
        if resource["Type"] != "AWS::ApiGateway::Method":
            continue
        props = resource["Properties"]
        if props["HttpMethod"] == "OPTIONS":
            continue
        uri = props["Integration"]["Uri"]["Fn::Sub"]
        function = re.search(r"\$\{(\w+)\.Arn\}", uri)
        assert function, f"{name} does not integrate with a function of this stack: {uri}"
        handler = resources[function.group(1)]["Properties"]["Handler"]
        routes[(props["HttpMethod"], path_of(props["ResourceId"]))] = {
            "function": function.group(1),
            "handler": handler,
        }
    return routes


def test_the_documented_routes_are_the_deployed_routes() -> None:
    documented = {
        key: {k: row[k] for k in ("function", "handler")} for key, row in documented_routes().items()
    }
    assert documented == template_routes()


def test_every_api_path_answers_cors_preflight() -> None:
    resources = load_cfn_yaml(COMPUTE.read_text())["Resources"]
    methods: dict[str, set[str]] = {}
    for resource in resources.values():
        if resource["Type"] == "AWS::ApiGateway::Method":
            props = resource["Properties"]
            methods.setdefault(props["ResourceId"]["Ref"], set()).add(props["HttpMethod"])
    for resource_name, verbs in methods.items():
        assert "OPTIONS" in verbs, f"{resource_name} has {verbs} but no OPTIONS method for CORS preflight"


@pytest.mark.parametrize("route", sorted(documented_routes()), ids=lambda r: f"{r[0]} {r[1]}")
def test_each_handler_module_serves_its_documented_route_with_the_documented_fields(
    route: tuple[str, str],
) -> None:
    method, path = route
    row = documented_routes()[route]
    module_name, function_name = row["handler"].split(".")
    module = importlib.import_module(module_name)
    assert callable(getattr(module, function_name))
    assert {path: {method}} == module.ROUTES, f"{module_name}.ROUTES disagrees with docs/api.md"
    models = [
        value
        for value in vars(module).values()
        if isinstance(value, type) and issubclass(value, BaseModel) and value.__module__ == module.__name__
    ]
    if row["request"] == "none":
        assert models == [], f"{module_name} validates a request docs/api.md says it does not take"
        return
    where, fields = row["request"].split(":")
    assert where == ("body" if method == "POST" else "query"), f"{method} {path}: request in the {where}?"
    assert len(models) == 1, f"{module_name} should define exactly one request model"
    assert list(models[0].model_fields) == [f.strip() for f in fields.split(",")]


def test_every_output_the_api_doc_names_is_an_output_of_the_compute_stack() -> None:
    """docs/api.md sends readers to stack outputs by name (`ApiEndpointUrl`, `ApiKeyId`): each
    must be an output of the compute template, or a reader's lookup finds nothing."""
    text = " ".join(API_DOC.read_text().split())
    named = re.findall(r"(?:stack output|API key) `(\w+)`", text)
    outputs = load_cfn_yaml(COMPUTE.read_text())["Outputs"]
    assert named, "docs/api.md no longer names the API's outputs; update this test"
    assert [name for name in named if name not in outputs] == []
