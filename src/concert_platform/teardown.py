"""After destroy: ask every service what still carries the environment's name."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from concert_platform.engines.base import Engine


def environment_matcher(environment: str) -> Callable[[str], bool]:
    """True for names our conventions generate for `environment` (and not for e.g. `<env>-2`)."""
    env = re.escape(environment)
    underscored = re.escape(environment.replace("-", "_"))
    pattern = re.compile(
        rf"(^|[-/_]){env}($|/|:|-\d{{12}}$|-[a-z]{{2}}(-gov)?-[a-z]+-\d$)|concert_data_{underscored}$"
    )
    return lambda name: bool(pattern.search(name))


def _paginate(client: Any, operation: str, key: str, **kwargs: Any) -> Iterable[Any]:
    if client.can_paginate(operation):
        for page in client.get_paginator(operation).paginate(**kwargs):
            yield from page.get(key, [])
    else:
        yield from getattr(client, operation)(**kwargs).get(key, [])


def _names(engine: Engine) -> Iterable[tuple[str, Callable[[], Iterable[str]]]]:
    c = engine.client
    yield (
        "stack",
        lambda: (
            s["StackName"]
            for s in _paginate(c("cloudformation"), "list_stacks", "StackSummaries")
            if s["StackStatus"] != "DELETE_COMPLETE"
        ),
    )
    yield "bucket", lambda: (b["Name"] for b in c("s3").list_buckets().get("Buckets", []))
    yield "table", lambda: _paginate(c("dynamodb"), "list_tables", "TableNames")
    yield "stream", lambda: _paginate(c("kinesis"), "list_streams", "StreamNames")
    yield (
        "function",
        lambda: (f["FunctionName"] for f in _paginate(c("lambda"), "list_functions", "Functions")),
    )
    yield "layer", lambda: (layer["LayerName"] for layer in _paginate(c("lambda"), "list_layers", "Layers"))
    yield (
        "log group",
        lambda: (g["logGroupName"] for g in _paginate(c("logs"), "describe_log_groups", "logGroups")),
    )
    yield (
        "topic",
        lambda: (t["TopicArn"].rsplit(":", 1)[1] for t in _paginate(c("sns"), "list_topics", "Topics")),
    )
    yield "queue", lambda: (u.rsplit("/", 1)[1] for u in c("sqs").list_queues().get("QueueUrls", []))
    yield "secret", lambda: (s["Name"] for s in _paginate(c("secretsmanager"), "list_secrets", "SecretList"))
    yield "rest api", lambda: (a["name"] for a in _paginate(c("apigateway"), "get_rest_apis", "items"))
    yield "role", lambda: (r["RoleName"] for r in _paginate(c("iam"), "list_roles", "Roles"))
    yield (
        "alarm",
        lambda: (a["AlarmName"] for a in _paginate(c("cloudwatch"), "describe_alarms", "MetricAlarms")),
    )
    yield (
        "dashboard",
        lambda: (
            d["DashboardName"] for d in _paginate(c("cloudwatch"), "list_dashboards", "DashboardEntries")
        ),
    )
    yield "rule", lambda: (r["Name"] for r in c("events").list_rules().get("Rules", []))
    yield "glue database", lambda: (d["Name"] for d in _paginate(c("glue"), "get_databases", "DatabaseList"))
    yield "trail", lambda: (t["Name"] for t in c("cloudtrail").list_trails().get("Trails", []))
    yield "x-ray group", lambda: (g["GroupName"] for g in c("xray").get_groups().get("Groups", []))
    yield (
        "redshift namespace",
        lambda: (
            n["namespaceName"] for n in c("redshift-serverless").list_namespaces().get("namespaces", [])
        ),
    )
    yield (
        "redshift workgroup",
        lambda: (
            w["workgroupName"] for w in c("redshift-serverless").list_workgroups().get("workgroups", [])
        ),
    )
    yield "kms alias", lambda: (a["AliasName"] for a in _paginate(c("kms"), "list_aliases", "Aliases"))


def find_leftovers(engine: Engine, environment: str) -> list[str]:
    """`kind: name` for everything of this environment still present; unlistable kinds are reported too."""
    matches = environment_matcher(environment)
    leftovers = []
    for kind, lister in _names(engine):
        try:
            names = list(lister())
        except (ClientError, BotoCoreError) as exc:
            code = getattr(exc, "response", {}).get("Error", {}).get("Code", type(exc).__name__)
            if engine.name != "embedded" and kind in ("redshift namespace", "redshift workgroup"):
                continue  # not offered by every emulator: verification already reports it
            leftovers.append(f"{kind}: could not list ({code})")
            continue
        leftovers.extend(f"{kind}: {name}" for name in names if matches(name))
    return leftovers
