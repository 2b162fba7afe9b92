"""Static contract: every alarm on a custom metric watches a metric something emits.

In AWS an alarm on a metric nobody publishes sits in INSUFFICIENT_DATA forever and never pages
anyone. Read from the templates and the handlers' source, without deploying:

- a custom metric is any metric outside the `AWS/` namespaces;
- metric filters emit their transformations' (namespace, metric name);
- handlers emit what Powertools Metrics `add_metric(name="...")` calls name (literal names),
  in the namespaces the functions are given (`POWERTOOLS_METRICS_NAMESPACE` in a template) or
  the handlers default to (`Metrics(namespace=... or "X")`).

`Sub` strings are rendered with the environment slug (and any other `${Name}` left as written on
both sides), so `ConcertPlatform/${Environment}` matches across templates.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from concert_platform.manifest import Manifest


@dataclass(frozen=True)
class WatchedMetric:
    alarm: str
    logical_id: str
    template: str
    namespace: str
    metric: str


def _render(value: Any, environment: str) -> str | None:
    """A namespace or name as deployed: plain text, or a Sub rendered with the environment."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and set(value) == {"Fn::Sub"}:
        text = value["Fn::Sub"]
        if isinstance(text, list):
            text = text[0]
        return str(text).replace("${Environment}", environment)
    return None


Resources = list[tuple[str, str, dict[str, Any]]]  # (template file, logical id, resource)


def _resources(manifest: Manifest) -> Resources:
    """Every resource of the six templates, each template parsed once."""
    return [
        (spec.template, logical_id, resource)
        for spec in manifest.stacks
        for logical_id, resource in (manifest.load_template(spec.key).get("Resources") or {}).items()
        if isinstance(resource, dict)
    ]


def watched_custom_metrics(
    manifest: Manifest, environment: str, resources: Resources | None = None
) -> list[WatchedMetric]:
    watched = []
    for template, logical_id, resource in resources if resources is not None else _resources(manifest):
        if resource.get("Type") != "AWS::CloudWatch::Alarm":
            continue
        props = resource.get("Properties") or {}
        alarm = _render(props.get("AlarmName"), environment) or logical_id
        metrics = [(props.get("Namespace"), props.get("MetricName"))] if props.get("MetricName") else []
        for query in props.get("Metrics") or []:
            metric = (query.get("MetricStat") or {}).get("Metric") or {}
            if metric:
                metrics.append((metric.get("Namespace"), metric.get("MetricName")))
        for namespace, name in metrics:
            ns, metric_name = _render(namespace, environment), _render(name, environment)
            if ns and metric_name and not ns.startswith("AWS/"):
                watched.append(WatchedMetric(alarm, logical_id, template, ns, metric_name))
    return watched


def metric_filter_metrics(resources: Resources, environment: str) -> set[tuple[str, str]]:
    emitted = set()
    for _template, _logical_id, resource in resources:
        if resource.get("Type") != "AWS::Logs::MetricFilter":
            continue
        for transformation in (resource.get("Properties") or {}).get("MetricTransformations") or []:
            ns = _render(transformation.get("MetricNamespace"), environment)
            name = _render(transformation.get("MetricName"), environment)
            if ns and name:
                emitted.add((ns, name))
    return emitted


def _function_namespaces(resources: Resources, environment: str) -> set[str]:
    namespaces = set()
    for _template, _logical_id, resource in resources:
        if resource.get("Type") != "AWS::Lambda::Function":
            continue
        variables = ((resource.get("Properties") or {}).get("Environment") or {}).get("Variables") or {}
        rendered = _render(variables.get("POWERTOOLS_METRICS_NAMESPACE"), environment)
        if rendered:
            namespaces.add(rendered)
    return namespaces


def handler_metrics(handlers_dir: Path) -> tuple[set[str], set[str]]:
    """(metric names, default namespaces) the handlers' Powertools Metrics calls use."""
    names, defaults = set(), set()
    for path in sorted(handlers_dir.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            called = (
                func.attr
                if isinstance(func, ast.Attribute)
                else func.id
                if isinstance(func, ast.Name)
                else ""
            )
            if called == "add_metric":
                name = next(
                    (k.value for k in node.keywords if k.arg == "name"), node.args[0] if node.args else None
                )
                if name is not None and not isinstance(name, ast.JoinedStr):  # f-string names: unknown
                    # a literal, or each literal of `"A" if ... else "B"`
                    names |= {
                        c.value
                        for c in ast.walk(name)
                        if isinstance(c, ast.Constant) and isinstance(c.value, str)
                    }
            elif called == "Metrics":
                namespace = next((k.value for k in node.keywords if k.arg == "namespace"), None)
                # Metrics(namespace="X") or Metrics(namespace=os.environ.get(...) or "X")
                options = namespace.values if isinstance(namespace, ast.BoolOp) else [namespace]
                defaults |= {
                    o.value for o in options if isinstance(o, ast.Constant) and isinstance(o.value, str)
                }
    return names, defaults


def unemitted_alarm_metrics(manifest: Manifest, environment: str) -> list[str]:
    """One line per alarm whose custom metric nothing emits, naming alarm, namespace and metric."""
    resources = _resources(manifest)
    emitted = metric_filter_metrics(resources, environment)
    names, defaults = handler_metrics(manifest.root / "handlers")
    for namespace in _function_namespaces(resources, environment) | defaults:
        emitted |= {(namespace, name) for name in names}
    return [
        f"alarm {w.alarm} ({w.logical_id} in {w.template}) watches {w.namespace} {w.metric}, "
        "which no metric filter or handler emits"
        for w in watched_custom_metrics(manifest, environment, resources)
        if (w.namespace, w.metric) not in emitted
    ]
