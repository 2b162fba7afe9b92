"""Smoke flows over the observability chain: alarms that really fire and recover.

- the static alarm contract (concert_platform.alarm_contract): an alarm on a custom metric that
  no metric filter or handler emits fails the run, named with its namespace and metric;
- a driven burst of errors in one function (its deployed handler broken for the burst, then
  restored) moves every alarm on that function's Errors metric to ALARM, and each alarm's alert
  reaches a subscriber of its action topic; advancing the engine's clock past the alarms'
  periods returns them to OK (with the OK notice where the alarm has OKActions);
- a data-quality issue (malformed conversation items the hourly analytics must skip and log)
  moves the data-quality alarm to ALARM with its alert delivered, and it recovers the same way;
- at the end, every alarm on a metric the engine emits (Lambda's own, custom) received data.

The flows need an engine whose clock can be advanced (the embedded engine); on another engine
they are reported as not run rather than waited for in real time.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

from botocore.exceptions import ClientError

from concert_platform.alarm_contract import unemitted_alarm_metrics
from concert_platform.smoke.platform import FlowResult, Platform
from concert_platform.smoke.scheduled import scheduled_event

BURST_FUNCTION = ("compute", "ChatbotFunctionName")
ANALYTICS_FUNCTION = ("chatbot", "ConversationAnalyticsFunctionName")
DATA_QUALITY_METRIC = "DataQualityIssues"


def contract_check(platform: Platform, environment: str) -> FlowResult:
    name = "alarm contract: every custom-metric alarm watches an emitted metric"
    problems = unemitted_alarm_metrics(platform.manifest, environment)
    return FlowResult(
        name, not problems, "; ".join(problems) or "every alarm on a custom metric has an emitter"
    )


def _watches(alarm: dict[str, Any], namespace: str, metric: str, dimension: tuple[str, str] | None) -> bool:
    """Whether the alarm's metric, or any metric of its metric math, is (namespace, metric, dimension)."""
    metrics = [alarm] if alarm.get("MetricName") else []
    metrics += [q["MetricStat"]["Metric"] for q in alarm.get("Metrics", []) if q.get("MetricStat")]
    for m in metrics:
        dimensions = {(d["Name"], d["Value"]) for d in m.get("Dimensions", [])}
        if (
            m.get("Namespace") == namespace
            and m.get("MetricName") == metric
            and (dimension is None or dimension in dimensions)
        ):
            return True
    return False


def _alarms(platform: Platform, test: Callable[[dict[str, Any]], bool]) -> list[dict[str, Any]]:
    """This environment's alarms that pass `test` (the engine may hold other environments')."""
    ours = platform.own("AWS::CloudWatch::Alarm")
    paginator = platform.engine.client("cloudwatch").get_paginator("describe_alarms")
    return [
        a for page in paginator.paginate() for a in page["MetricAlarms"] if a["AlarmName"] in ours and test(a)
    ]


def _state(platform: Platform, alarm: str) -> str:
    found = platform.engine.client("cloudwatch").describe_alarms(AlarmNames=[alarm])["MetricAlarms"]
    return next((str(a["StateValue"]) for a in found if a["AlarmName"] == alarm), "DELETED")


@contextmanager
def _subscribers(platform: Platform, topics: set[str]) -> Iterator[dict[str, str]]:
    """A fresh SQS queue subscribed (raw delivery) to each topic: topic ARN -> queue URL."""
    sqs, sns = platform.engine.client("sqs"), platform.engine.client("sns")
    queues: dict[str, str] = {}
    subscriptions = []
    try:
        for topic in sorted(topics):
            url = sqs.create_queue(QueueName=f"concert-smoke-alarms-{uuid.uuid4().hex[:8]}")["QueueUrl"]
            queues[topic] = url
            arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
                "QueueArn"
            ]
            subscriptions.append(
                sns.subscribe(
                    TopicArn=topic, Protocol="sqs", Endpoint=arn, Attributes={"RawMessageDelivery": "true"}
                )["SubscriptionArn"]
            )
        yield queues
    finally:
        for subscription in subscriptions:
            sns.unsubscribe(SubscriptionArn=subscription)
        for url in queues.values():
            sqs.delete_queue(QueueUrl=url)


def _notices(platform: Platform, queue: str) -> list[dict[str, Any]]:
    sqs = platform.engine.client("sqs")
    notices: list[dict[str, Any]] = []
    while True:
        batch = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", [])
        if not batch:
            return notices
        for message in batch:
            sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
            try:
                notices.append(json.loads(message["Body"]))
            except ValueError:
                continue


def _delivered(
    platform: Platform, queues: dict[str, str], alarm: dict[str, Any], state: str, seen: dict[str, list[Any]]
) -> list[str]:
    """Problems with the `state` notice of `alarm` on each of its action topics for that state."""
    actions = {"ALARM": alarm.get("AlarmActions", []), "OK": alarm.get("OKActions", [])}[state]
    problems = []
    for topic in actions:
        if topic not in queues:
            continue
        seen.setdefault(topic, []).extend(_notices(platform, queues[topic]))
        if not any(
            n.get("AlarmName") == alarm["AlarmName"] and n.get("NewStateValue") == state for n in seen[topic]
        ):
            problems.append(f"no {state} notice of {alarm['AlarmName']} reached the subscriber of {topic}")
    return problems


def _drive(
    platform: Platform,
    alarms: list[dict[str, Any]],
    what: str,
    cause: Callable[[], str],
) -> FlowResult:
    """Cause the fault, expect every alarm in ALARM with its alert delivered, then recover to OK."""
    name = f"alarm flow: {what}"
    if not alarms:
        return FlowResult(name, False, "no deployed alarm watches this metric")
    silent = [a["AlarmName"] for a in alarms if not a.get("AlarmActions")]
    if silent:
        return FlowResult(name, False, f"{', '.join(silent)} has no AlarmActions: its ALARM alerts nobody")
    already = [
        f"{a['AlarmName']} ({a.get('StateReason', '')})"
        for a in alarms
        if _state(platform, a["AlarmName"]) == "ALARM"
    ]
    if already:
        return FlowResult(name, False, f"already in ALARM before the flow: {'; '.join(already)}")
    topics = {t for a in alarms for t in a.get("AlarmActions", []) + a.get("OKActions", [])}
    seen: dict[str, list[Any]] = {}
    with _subscribers(platform, topics) as queues:
        caused = cause()
        platform.engine.evaluate_alarms()
        problems = []
        story = []
        for alarm in alarms:
            state = _state(platform, alarm["AlarmName"])
            if state != "ALARM":
                problems.append(f"{alarm['AlarmName']} is {state} after {caused}, not ALARM")
            problems += _delivered(platform, queues, alarm, "ALARM", seen)
        if problems:
            return FlowResult(name, False, "; ".join(problems))
        wait = max(int(a.get("Period") or _math_period(a)) * int(a["EvaluationPeriods"]) for a in alarms)
        platform.engine.advance_clock(wait + 1)
        for alarm in alarms:
            state = _state(platform, alarm["AlarmName"])
            if state != "OK":
                problems.append(f"{alarm['AlarmName']} is {state} {wait + 1} s after the fault ended, not OK")
            problems += _delivered(platform, queues, alarm, "OK", seen)
            ok_notice = "OK notice delivered" if alarm.get("OKActions") else "no OKActions"
            story.append(f"{alarm['AlarmName']} ALARM (alert delivered) -> OK ({ok_notice})")
    if problems:
        return FlowResult(name, False, "; ".join(problems))
    return FlowResult(name, True, f"{caused}; " + "; ".join(story) + f"; clock advanced {wait + 1} s")


def _math_period(alarm: dict[str, Any]) -> int:
    return max(int(q["MetricStat"]["Period"]) for q in alarm.get("Metrics", []) if q.get("MetricStat"))


def error_burst_flow(platform: Platform) -> FlowResult:
    """A burst of failed invocations of one function fires every alarm on its Errors metric."""
    stack, output = BURST_FUNCTION
    function = platform.out(stack, output)
    alarms = _alarms(platform, lambda a: _watches(a, "AWS/Lambda", "Errors", ("FunctionName", function)))
    lambda_client = platform.engine.client("lambda")

    stage = platform.stage()
    route = stage.match("POST", "/chat")
    if route is None:
        raise LookupError("the deployed API has no POST /chat for the error burst")
    body = json.dumps({"message": "smoke alarm burst"})
    event = stage.proxy_event(route, "POST", "/chat", {"Content-Type": "application/json"}, None, body, None)

    def burst() -> str:
        handler = lambda_client.get_function_configuration(FunctionName=function)["Handler"]
        broken = "smoke_fault_injected." + handler.rsplit(".", 1)[-1]  # no such module: fails at init
        count = max([int(a["Threshold"]) for a in alarms if a.get("MetricName") == "Errors"] or [5])
        lambda_client.update_function_configuration(FunctionName=function, Handler=broken)
        try:
            with ThreadPoolExecutor(
                max_workers=count
            ) as pool:  # a burst (one environment serves them in turn)
                outcomes = list(
                    pool.map(
                        lambda _: platform.engine.run_function_for_service(function, event, source="smoke"),
                        range(count),
                    )
                )
            failures = sum("errorType" in outcome for outcome in outcomes)
        finally:
            lambda_client.update_function_configuration(FunctionName=function, Handler=handler)
        return f"{failures} of {count} invocations of {function} failed (handler {broken})"

    return _drive(platform, alarms, f"error burst in {function}", burst)


def data_quality_flow(platform: Platform) -> FlowResult:
    """Malformed conversation items, skipped and logged by the analytics, fire the data-quality alarm."""
    alarms = _alarms(platform, lambda a: a.get("MetricName") == DATA_QUALITY_METRIC)
    dynamodb = platform.engine.client("dynamodb")
    table = platform.out("compute", "ConversationHistoryTableName")

    def issue() -> str:
        count = max([int(a["Threshold"]) for a in alarms] or [1])
        session = f"smoke-dq-{uuid.uuid4().hex[:8]}"
        now = int(time.time())
        for turn in range(count):
            dynamodb.put_item(
                TableName=table,
                Item={
                    "session_id": {"S": session},
                    "turn": {"N": str(turn)},
                    "role": {"S": "robot"},  # the chatbot never writes this role
                    "content": {"S": "malformed on purpose"},
                    "created_at": {"N": str(now - 5)},
                    "expires_at": {"N": str(now + 3600)},
                },
            )
        try:
            summary = platform.invoke(*ANALYTICS_FUNCTION, scheduled_event("data-quality smoke"))
        finally:
            for turn in range(count):
                dynamodb.delete_item(
                    TableName=table, Key={"session_id": {"S": session}, "turn": {"N": str(turn)}}
                )
        return f"{count} malformed items in {table}; the analytics reported {summary.get('data_quality_issues')} issues"

    return _drive(platform, alarms, "data-quality issues", issue)


def coverage_check(platform: Platform) -> FlowResult:
    """After the flows, every alarm on a metric this engine emits (Lambda's own, custom) has data.

    An alarm whose dimension names no deployed function, or whose custom metric nothing
    published during the run, would never leave INSUFFICIENT_DATA (or sit OK on missing data)
    in AWS; here it is named. Other AWS/ namespaces are published by services the embedded
    engine does not run, so they are not judged."""
    name = "every alarm on a Lambda or custom metric received data during the run"
    cloudwatch = platform.engine.client("cloudwatch")
    silent = []
    judged = 0
    for alarm in _alarms(platform, lambda _a: True):
        metrics = [alarm] if alarm.get("MetricName") else []
        metrics += [q["MetricStat"]["Metric"] for q in alarm.get("Metrics", []) if q.get("MetricStat")]
        for metric in metrics:
            namespace = metric.get("Namespace", "")
            if namespace.startswith("AWS/") and namespace != "AWS/Lambda":
                continue
            judged += 1
            found = cloudwatch.list_metrics(
                Namespace=namespace,
                MetricName=metric["MetricName"],
                Dimensions=[{"Name": d["Name"], "Value": d["Value"]} for d in metric.get("Dimensions", [])],
            )["Metrics"]
            if not found:
                dimensions = ",".join(f"{d['Name']}={d['Value']}" for d in metric.get("Dimensions", []))
                silent.append(
                    f"{alarm['AlarmName']} watches {namespace} {metric['MetricName']}"
                    f"{' [' + dimensions + ']' if dimensions else ''}, which received no data"
                )
    log_groups = platform.own("AWS::Logs::LogGroup")
    silent += [
        f"filter {e['filterName']} on {e['logGroup']} was never evaluated: {e['error']}"
        for e in platform.engine.unevaluated_filters()
        if e["logGroup"] in log_groups
    ]
    if not judged:
        return FlowResult(name, False, "no alarm watches a Lambda or custom metric: nothing was judged")
    return FlowResult(name, not silent, "; ".join(silent) or f"{judged} alarm metrics received data")


def alarm_checks(platform: Platform) -> list[FlowResult]:
    checks = [contract_check(platform, platform.environment)]
    if not platform.engine.capabilities.evaluates_alarms:
        checks.append(
            FlowResult(
                "alarm flows (error burst, data quality, metric coverage)",
                True,
                f"skipped on {platform.engine.name}: they advance the engine's clock, which only an "
                "engine that evaluates its alarms on demand has (the embedded engine)",
                skipped=True,
            )
        )
        return checks
    for flow in (error_burst_flow, data_quality_flow, coverage_check):
        try:
            checks.append(flow(platform))
        except (LookupError, RuntimeError, KeyError, ValueError, ClientError) as exc:
            checks.append(FlowResult(f"alarm flow: {flow.__name__}", False, str(exc)))
    return checks
