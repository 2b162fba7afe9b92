"""Lambda: functions (configuration, reserved concurrency), layer versions and permissions."""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from concert_platform.verify._base import (
    Field,
    Resource,
    Table,
    VerifyContext,
    as_set,
    exact,
    first,
    register,
    same_id,
)
from concert_platform.verify._lifecycle import (
    Gone,
    Namer,
    Probe,
    Recorded,
    Remover,
    first_or_gone,
    paginate,
)


def _function(ctx: VerifyContext, r: Resource) -> dict[str, Any]:
    client = ctx.client("lambda")
    config = dict(client.get_function_configuration(FunctionName=r.physical_id))
    try:
        reserved = client.get_function_concurrency(FunctionName=r.physical_id).get(
            "ReservedConcurrentExecutions"
        )
    except ClientError:
        reserved = None
    config["ReservedConcurrentExecutions"] = reserved
    return config


def _layer(ctx: VerifyContext, r: Resource) -> dict[str, Any]:
    name, version = r.physical_id.split(":")[-2:]
    layer = dict(ctx.client("lambda").get_layer_version(LayerName=name, VersionNumber=int(version)))
    layer["LayerName"] = name
    return layer


def _permission(ctx: VerifyContext, r: Resource) -> dict[str, Any]:
    """The function's resource-policy statement whose Sid is the permission's physical id."""
    function = r.props.get("FunctionName")
    document = json.loads(ctx.client("lambda").get_policy(FunctionName=function)["Policy"])
    statement = first(
        document.get("Statement", []),
        lambda s: s.get("Sid") == r.physical_id,
        f"statement {r.physical_id} on {function}",
    )
    condition = statement.get("Condition", {})
    principal = statement.get("Principal", {})
    return {
        "FunctionName": statement.get("Resource"),
        "Action": statement.get("Action"),
        "Principal": principal.get("Service", principal.get("AWS"))
        if isinstance(principal, dict)
        else principal,
        "SourceArn": condition.get("ArnLike", {}).get("AWS:SourceArn"),
        "SourceAccount": condition.get("StringEquals", {}).get("AWS:SourceAccount"),
    }


def _function_reference(declared: Any, observed: Any) -> list[str]:
    """A function name, or ARN, names the function whose ARN the statement holds."""
    name = observed.rsplit(":function:", 1)[-1].split(":", 1)[0] if isinstance(observed, str) else observed
    if declared not in (observed, name):
        return [f": engine has {observed!r}, template sets {declared!r}"]
    return []


def _environment(declared: Any, observed: Any) -> list[str]:
    """The declared variables with their values, and no variable the template does not set."""
    problems = exact(declared, observed)
    extra = set(observed.get("Variables", {})) - set(declared.get("Variables", {}))
    return problems + [f".Variables.{name}: the engine sets an undeclared variable" for name in sorted(extra)]


def _layer_arns(layers: list[dict[str, Any]]) -> list[str]:
    return [layer["Arn"] for layer in layers]


register(
    Table(
        "AWS::Lambda::Function",
        _function,
        {
            "FunctionName": Field("FunctionName"),
            "Description": Field("Description"),
            "Runtime": Field("Runtime"),
            "Architectures": Field("Architectures", as_set),
            "Handler": Field("Handler"),
            "Role": Field("Role"),
            "Timeout": Field("Timeout"),
            "MemorySize": Field("MemorySize"),
            "ReservedConcurrentExecutions": Field("ReservedConcurrentExecutions"),
            "Layers": Field("Layers", exact, view=_layer_arns),  # order is the load order
            "KmsKeyArn": Field("KMSKeyArn", same_id),
            "TracingConfig": Field("TracingConfig"),
            "VpcConfig": Field("VpcConfig", as_set),
            "Environment": Field("Environment", _environment),
            "DeadLetterConfig": Field("DeadLetterConfig"),
        },
        attributes={
            "Arn": lambda c, p: c.client("lambda").get_function_configuration(FunctionName=p)["FunctionArn"]
        },
    ),
    Table(
        "AWS::Lambda::LayerVersion",
        _layer,
        {
            "LayerName": Field("LayerName"),
            "Description": Field("Description"),
            "CompatibleRuntimes": Field("CompatibleRuntimes", as_set),
            "CompatibleArchitectures": Field("CompatibleArchitectures", as_set),
        },
    ),
    Table(
        "AWS::Lambda::Permission",
        _permission,
        {
            "FunctionName": Field("FunctionName", _function_reference),
            "Action": Field("Action"),
            "Principal": Field("Principal"),
            "SourceArn": Field("SourceArn"),
            "SourceAccount": Field("SourceAccount"),
        },
    ),
)


# ---- teardown: proving each resource gone, removing what a stack deletion left --------------


def _probe_layer_version(c: Any, r: Recorded) -> str | None:
    layer, _, version = r.physical_id.rpartition(":")  # arn:aws:lambda:<region>:<account>:layer:<name>:<n>
    c("lambda").get_layer_version(LayerName=layer, VersionNumber=int(version))
    return None


def _probe_permission(c: Any, r: Recorded) -> str | None:
    function = r.properties.get("FunctionName")
    if not isinstance(function, str):
        raise Gone
    import json

    policy = json.loads(c("lambda").get_policy(FunctionName=function)["Policy"])
    first_or_gone(s for s in policy.get("Statement", []) if s.get("Sid") == r.physical_id)
    return None


def _delete_layer_version(c: Any, r: Recorded) -> Any:
    layer, _, version = r.physical_id.rpartition(":")
    return c("lambda").delete_layer_version(LayerName=layer, VersionNumber=int(version))


#: type -> how to ask its service whether the resource still exists
PROBES: dict[str, Probe] = {
    "AWS::Lambda::Function": lambda c, r: c("lambda").get_function(FunctionName=r.physical_id) and None,
    "AWS::Lambda::LayerVersion": _probe_layer_version,
    "AWS::Lambda::Permission": _probe_permission,
}

#: type -> how to delete one directly, for what a stack deletion left behind
REMOVERS: dict[str, Remover] = {
    "AWS::Lambda::Function": lambda c, r: c("lambda").delete_function(FunctionName=r.physical_id),
    "AWS::Lambda::LayerVersion": _delete_layer_version,
    "AWS::Lambda::Permission": lambda c, r: c("lambda").remove_permission(
        FunctionName=str(r.properties.get("FunctionName")), StatementId=r.physical_id
    ),
}

#: what the name scan lists of this service: (kind, the names)
NAMES: tuple[tuple[str, Namer], ...] = (
    ("function", lambda c: (f["FunctionName"] for f in paginate(c("lambda"), "list_functions", "Functions"))),
    ("layer", lambda c: (layer["LayerName"] for layer in paginate(c("lambda"), "list_layers", "Layers"))),
)
