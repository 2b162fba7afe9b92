"""Run-time contracts, checked at the end of the smoke run (issue 21, item 5).

- TTL: every item of a table whose TimeToLive is enabled (DescribeTimeToLive) carries the named
  attribute as a number of seconds since the epoch in the future: an item without it, with it
  in milliseconds or already past is named (a writer's contract with the table, not the table's).
- Metrics: every metric a metric filter, a handler or a service produced for this environment is
  read by an alarm or a dashboard, or listed in UNWATCHED_METRICS with the reason; and every
  metric filter that feeds an alarmed metric is driven once with a line shaped as the platform
  logs it, and must add exactly one to the metric (the data-quality metric has four producers).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from concert_platform.engines.base import EngineLacksCapability
from concert_platform.filter_pattern import matches
from concert_platform.smoke.alarms import DATA_QUALITY_METRIC, _alarms, data_quality_flow
from concert_platform.smoke.platform import FlowResult, Platform

#: (namespace, metric) -> why no alarm or dashboard reads it; `{env}` stands for the environment
UNWATCHED_METRICS: dict[tuple[str, str], str] = {
    ("ConcertPlatform/{env}", "ErrorCount"): (
        "every ERROR line it counts is also forwarded by the same group's subscription filter to "
        "the error processor, which alerts the critical topic per line (the smoke run's error "
        "pipeline check); the per-function count is kept for ad-hoc Logs Insights comparison"
    ),
}

#: a TTL value above this is milliseconds (or microseconds), not seconds: year 5138 in seconds
MILLISECONDS_FLOOR = 10**11
#: at most this far ahead: a TTL decades away is a unit or arithmetic mistake
TTL_HORIZON_SECONDS = 10 * 365 * 86400

#: the shape of the platform's log lines (Powertools JSON), used to drive each metric filter
PLATFORM_LINES: tuple[dict[str, Any], ...] = (
    {
        "level": "WARNING",
        "message": "data quality issue",
        "service": "smoke",
        "data_quality_issue": "smoke_probe",
    },
    {"level": "ERROR", "message": "smoke probe error", "service": "smoke"},
    {
        "level": "INFO",
        "message": "request complete",
        "service": "smoke",
        "latency_ms": 1.0,
        "status_code": 200,
    },
)


def ttl_check(platform: Platform) -> FlowResult:
    name = "contract: items carry their table's TTL attribute in epoch seconds, in the future"
    dynamodb = platform.engine.client("dynamodb")
    now = time.time()
    problems, judged = [], []
    for table in sorted(platform.own("AWS::DynamoDB::Table")):
        ttl = dynamodb.describe_time_to_live(TableName=table)["TimeToLiveDescription"]
        if ttl.get("TimeToLiveStatus") not in ("ENABLED", "ENABLING"):
            continue
        attribute = ttl["AttributeName"]
        items = dynamodb.scan(TableName=table, Limit=500)["Items"]
        judged.append(f"{table} ({attribute}, {len(items)} items)")
        bad: dict[str, int] = {}
        for item in items:
            value = item.get(attribute, {}).get("N")
            if value is None:
                kind = f"no {attribute}" + (f" (has {', '.join(sorted(item))[:120]})" if item else "")
            elif float(value) >= MILLISECONDS_FLOOR:
                kind = f"{attribute} {value} is in milliseconds, not seconds"
            elif float(value) <= now:
                kind = f"{attribute} {value} is already past"
            elif float(value) > now + TTL_HORIZON_SECONDS:
                kind = f"{attribute} {value} is more than ten years ahead"
            else:
                continue
            bad[kind] = bad.get(kind, 0) + 1
        problems += [f"{table}: {count} items with {kind}" for kind, count in sorted(bad.items())]
    if not judged:
        return FlowResult(name, False, "no table of this environment has TTL enabled: nothing was judged")
    return FlowResult(name, not problems, "; ".join(problems) or "judged " + ", ".join(judged))


# ---- metrics ------------------------------------------------------------------------------------
def _alarm_metrics(alarm: dict[str, Any]) -> list[tuple[str, str]]:
    found = [(alarm["Namespace"], alarm["MetricName"])] if alarm.get("MetricName") else []
    for query in alarm.get("Metrics", []):
        metric = (query.get("MetricStat") or {}).get("Metric")
        if metric:
            found.append((metric["Namespace"], metric["MetricName"]))
    return found


def dashboard_metrics(body: dict[str, Any]) -> list[tuple[str, str]]:
    """(namespace, metric) of every metric row of a dashboard body ("." and "..." shorthands)."""
    found = []
    for widget in body.get("widgets", []):
        previous: list[Any] = []
        for row in (widget.get("properties") or {}).get("metrics", []):
            values = [v for v in row if not isinstance(v, dict)]
            if not values or "expression" in (row[-1] if isinstance(row[-1], dict) else {}):
                continue
            if values[0] == "...":
                values = previous[: max(len(previous) - (len(values) - 1), 2)] + values[1:]
            else:
                values = [previous[i] if v == "." and i < len(previous) else v for i, v in enumerate(values)]
            previous = values
            if len(values) >= 2:
                found.append((str(values[0]), str(values[1])))
    return found


def readers(platform: Platform, alarms: list[dict[str, Any]]) -> dict[tuple[str, str], list[str]]:
    """(namespace, metric) -> the alarms and dashboards of this environment that read it."""
    read: dict[tuple[str, str], list[str]] = {}
    for alarm in alarms:
        for metric in _alarm_metrics(alarm):
            read.setdefault(metric, []).append(f"alarm {alarm['AlarmName']}")
    cloudwatch = platform.engine.client("cloudwatch")
    for dashboard in sorted(platform.own("AWS::CloudWatch::Dashboard")):
        body = json.loads(cloudwatch.get_dashboard(DashboardName=dashboard)["DashboardBody"])
        for metric in dashboard_metrics(body):
            read.setdefault(metric, []).append(f"dashboard {dashboard}")
    return read


def metric_filters(platform: Platform) -> list[dict[str, Any]]:
    logs = platform.engine.client("logs")
    found = []
    for group in sorted(platform.own("AWS::Logs::LogGroup")):
        try:
            found += logs.describe_metric_filters(logGroupName=group)["metricFilters"]
        except ClientError:
            continue
    return found


def _ours(metric: dict[str, Any], names: set[str], environment: str) -> bool:
    """A listed metric this environment produced: one of its resources in a dimension, or its own
    namespace (an engine shared by several environments lists all of theirs)."""
    if metric["Namespace"].endswith(f"/{environment}"):
        return True
    return any(d.get("Value") in names for d in metric.get("Dimensions", []))


def produced(
    platform: Platform, filters: list[dict[str, Any]], environment: str
) -> dict[tuple[str, str], list[str]]:
    """(namespace, metric) -> what produced it: its metric filters, or the metric's listing."""
    made: dict[tuple[str, str], list[str]] = {}
    for f in filters:
        for t in f.get("metricTransformations", []):
            made.setdefault((t["metricNamespace"], t["metricName"]), []).append(
                f"filter {f['filterName']} on {f['logGroupName']}"
            )
    names = set().union(
        *(
            platform.own(kind)
            for kind in ("AWS::Lambda::Function", "AWS::DynamoDB::Table", "AWS::Kinesis::Stream")
        )
    )
    paginator = platform.engine.client("cloudwatch").get_paginator("list_metrics")
    for page in paginator.paginate():
        for metric in page["Metrics"]:
            if not _ours(metric, names, environment):
                continue
            key = (metric["Namespace"], metric["MetricName"])
            if key not in made:
                made[key] = [
                    "published during the run" + (" by the service" if key[0].startswith("AWS/") else "")
                ]
    return made


def _unwatched_reason(key: tuple[str, str], environment: str) -> str | None:
    for (namespace, metric), reason in UNWATCHED_METRICS.items():
        if (namespace.replace("{env}", environment), metric) == key:
            return reason
    return None


def metric_coverage_check(
    platform: Platform, environment: str, alarms: list[dict[str, Any]], filters: list[dict[str, Any]]
) -> FlowResult:
    name = "contract: every metric produced is read by an alarm or a dashboard (or listed unwatched)"
    read = readers(platform, alarms)
    made = produced(platform, filters, environment)
    unread = [
        f"{namespace} {metric} (from {'; '.join(sources)}) is read by no alarm or dashboard"
        for (namespace, metric), sources in sorted(made.items())
        if (namespace, metric) not in read and _unwatched_reason((namespace, metric), environment) is None
    ]
    listed = sum(1 for key in made if key not in read and _unwatched_reason(key, environment))
    return FlowResult(
        name,
        not unread,
        "; ".join(unread)
        or f"{len(made)} metrics produced, {len(made) - listed} read by alarms or dashboards, {listed} listed unwatched",
    )


def _metric_sum(platform: Platform, namespace: str, metric: str, dimensions: list[dict[str, str]]) -> float:
    now = datetime.now(UTC)
    points = platform.engine.client("cloudwatch").get_metric_statistics(
        Namespace=namespace,
        MetricName=metric,
        Dimensions=dimensions,
        StartTime=now - timedelta(days=14),
        EndTime=now + timedelta(days=14),
        Period=86400,
        Statistics=["Sum", "SampleCount"],
    )["Datapoints"]
    return float(sum(p.get("SampleCount", 0) for p in points))


def producers_driven_check(
    platform: Platform, alarms: list[dict[str, Any]], filters: list[dict[str, Any]]
) -> FlowResult:
    """Each metric filter whose metric an alarm reads adds one data point when a matching line is logged."""
    name = "contract: every metric filter feeding an alarmed metric is driven once and counts"
    alarmed = {metric for alarm in alarms for metric in _alarm_metrics(alarm)}
    logs = platform.engine.client("logs")
    problems, driven = [], []
    for f in filters:
        for t in f.get("metricTransformations", []):
            key = (t["metricNamespace"], t["metricName"])
            if key not in alarmed:
                continue
            label = f"filter {f['filterName']} on {f['logGroupName']} ({key[1]})"
            line = next(
                (
                    json.dumps(candidate)
                    for candidate in PLATFORM_LINES
                    if matches(f.get("filterPattern", ""), json.dumps(candidate))
                ),
                None,
            )
            if line is None:
                problems.append(
                    f"{label}: no line shaped as the platform logs matches {f.get('filterPattern')!r}"
                )
                continue
            dimensions = [
                {"Name": k, "Value": "smoke"} for k in (t.get("dimensions") or {})
            ]  # each dimension names $.service, "smoke" in the driven line
            before = _metric_sum(platform, *key, dimensions)
            stream = f"smoke/contracts-{time.time_ns()}"
            logs.create_log_stream(logGroupName=f["logGroupName"], logStreamName=stream)
            logs.put_log_events(
                logGroupName=f["logGroupName"],
                logStreamName=stream,
                logEvents=[{"timestamp": int(time.time() * 1000), "message": line}],
            )
            after = _metric_sum(platform, *key, dimensions)
            if after - before < 1:
                problems.append(f"{label}: a matching line added no data point")
            else:
                driven.append(f["filterName"])
    if not driven and not problems:
        return FlowResult(name, False, "no metric filter feeds an alarmed metric: nothing was driven")
    return FlowResult(
        name,
        not problems,
        "; ".join(problems) or f"{len(driven)} filters driven: {', '.join(sorted(driven))}",
    )


def alert_routing_check(platform: Platform, alarms: list[dict[str, Any]]) -> FlowResult:
    """Each alarm's actions -> its topics -> the subscribers the guide's post-deploy step creates:
    a driven alarm's notice reaches the subscriber of each of its action topics and no other."""

    name = "alert routing: a driven alarm alerts the subscribers of its action topics and no other"
    engine = platform.engine
    try:
        start = len(engine.sns_deliveries())
    except EngineLacksCapability as exc:
        return FlowResult(name, True, f"skipped: {exc}", skipped=True)
    sns = engine.client("sns")
    topics = sorted({t for a in alarms for t in a.get("AlarmActions", [])})
    silent = [a["AlarmName"] for a in alarms if not a.get("AlarmActions")]
    if silent:
        return FlowResult(name, False, f"{', '.join(silent)} has no AlarmActions: its ALARM alerts nobody")
    # the run's earlier flows may have left it in ALARM (the fallbacks log the bucket's bad rows):
    # past its evaluation window, it is judged afresh
    window = max(
        [
            int(a.get("Period") or 60) * int(a.get("EvaluationPeriods") or 1)
            for a in alarms
            if a.get("MetricName") == DATA_QUALITY_METRIC
        ]
        or [0]
    )
    engine.advance_clock(window + 1)
    engine.evaluate_alarms()
    # the guide's post-deploy step subscribes the operators' address to each alert topic (the
    # template does when AlertEmail is given); without one, a distinct address per topic stands in
    subscribers: dict[str, set[str]] = {}
    added = []
    try:
        for topic in topics:
            emails = {
                s["Endpoint"]
                for s in sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
                if s.get("Protocol") == "email"
            }
            if not emails:
                address = f"alerts+{topic.rsplit(':', 1)[-1]}@example.com"
                added.append(
                    sns.subscribe(TopicArn=topic, Protocol="email", Endpoint=address)["SubscriptionArn"]
                )
                emails = {address}
            subscribers[topic] = emails
        driven = data_quality_flow(platform)
        if not driven.ok:
            return FlowResult(name, False, f"the data-quality alarm could not be driven: {driven.detail}")
        notices: dict[str, set[tuple[str, str]]] = {}
        for delivery in engine.sns_deliveries()[start:]:
            if delivery.get("protocol") != "email":
                continue
            try:
                alarm_name = json.loads(delivery.get("message") or "{}").get("AlarmName")
            except ValueError:
                continue
            if alarm_name:
                notices.setdefault(alarm_name, set()).add((delivery["topic"], delivery["endpoint"]))
    finally:
        for subscription in added:
            sns.unsubscribe(SubscriptionArn=subscription)
    problems, story = [], []
    for alarm in (a for a in alarms if a.get("MetricName") == DATA_QUALITY_METRIC):
        got = notices.get(alarm["AlarmName"], set())
        expected = {(t, e) for t in alarm["AlarmActions"] for e in subscribers.get(t, ())}
        missing = sorted(expected - got)
        strays = sorted(
            got
            - {
                (t, e)
                for t in alarm["AlarmActions"] + alarm.get("OKActions", [])
                for e in subscribers.get(t, ())
            }
        )
        problems += [
            f"{alarm['AlarmName']} never reached {e} (subscriber of {t.rsplit(':', 1)[-1]})"
            for t, e in missing
        ]
        problems += [
            f"{alarm['AlarmName']} reached {e} through {t.rsplit(':', 1)[-1]}, which is not one of its actions"
            for t, e in strays
        ]
        story.append(f"{alarm['AlarmName']} -> {', '.join(sorted(e for _, e in got))}")
    if not story:
        return FlowResult(name, False, "no data-quality alarm to drive")
    return FlowResult(
        name, not problems, "; ".join(problems) or "; ".join(story) + f" (of {len(topics)} alert topics)"
    )


def contract_checks(platform: Platform) -> list[FlowResult]:

    environment = platform.environment
    checks: list[FlowResult] = []
    for label, run in (
        ("alert routing", lambda: [alert_routing_check(platform, _alarms(platform, lambda _a: True))]),
        ("contract: TTL attribute", lambda: [ttl_check(platform)]),
        (
            "contract: metrics",
            lambda: _metric_checks(platform, environment, _alarms(platform, lambda _a: True)),
        ),
    ):
        try:
            checks += run()
        except (LookupError, KeyError, ValueError, RuntimeError, ClientError) as exc:
            checks.append(FlowResult(label, False, str(exc) or type(exc).__name__))
    return checks


def _metric_checks(
    platform: Platform, environment: str, alarms: list[dict[str, Any]]
) -> Iterable[FlowResult]:
    filters = metric_filters(platform)
    checks = [metric_coverage_check(platform, environment, alarms, filters)]
    if platform.engine.capabilities.evaluates_alarms:
        checks.append(producers_driven_check(platform, alarms, filters))
    else:
        checks.append(
            FlowResult(
                "contract: every metric filter feeding an alarmed metric is driven once and counts",
                True,
                f"skipped on {platform.engine.name}: its metric data is not read back on demand",
                skipped=True,
            )
        )
    return checks
