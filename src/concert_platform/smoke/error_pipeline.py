"""The error pipeline: an ERROR log line in the chatbot's log group reaches the error processor
through the group's subscription filter and produces an alert on the critical topic; where none
arrives, which subscription filter failed to match the line is named."""

from __future__ import annotations

import json
import secrets
import time
import uuid
from typing import Any

from botocore.exceptions import ClientError

from concert_platform.filter_pattern import matches
from concert_platform.smoke.platform import FlowResult, Platform


def _processor_filters(platform: Platform, log_group: str) -> tuple[str, list[dict[str, Any]]]:
    """The error processor's ARN and the log group's subscription filters that deliver to it."""
    logs = platform.engine.client("logs")
    processor_arn = platform.outputs.get("logging", {}).get("ErrorProcessorFunctionArn", "")
    return processor_arn, [
        f
        for f in logs.describe_subscription_filters(logGroupName=log_group)["subscriptionFilters"]
        if f.get("destinationArn") == processor_arn
    ]


def reaches_the_processor(platform: Platform, log_group: str, line: str) -> bool:
    """Whether a subscription filter of the group delivers `line` to the error processor."""
    _, filters = _processor_filters(platform, log_group)
    return any(matches(f.get("filterPattern", ""), line) for f in filters)


def undelivered_reason(platform: Platform, log_group: str, line: str, topic: str, marker: str) -> str:
    """Why an error line produced no alert: which subscription filter failed to match it."""
    processor_arn, filters = _processor_filters(platform, log_group)
    if not filters:
        return f"no subscription filter on {log_group} delivers to {processor_arn}"
    unmatched = [f for f in filters if not matches(f.get("filterPattern", ""), line)]
    if unmatched:
        return "; ".join(
            f"subscription filter {f['filterName']} on {log_group} (pattern {f.get('filterPattern')}) "
            "matches no error line: the error processor never saw it"
            for f in unmatched
        )
    return f"no alert mentioning {marker} arrived on {topic}"


#: letters the error processor's normaliser keeps (it folds hex ids, digits and quoted text into #)
MARKER_LETTERS = "ghijklmnopqrstuvwxyz"


def run_marker() -> str:
    """The run's mark on its error line. The error processor alerts once per kind of failure
    (service, error type, normalised message) per window; a mark it folds away, as a hex id was,
    made every run's line the same kind, so a second smoke run within the window (two deploys of
    one environment in a quarter of an hour) got no alert and failed. This mark survives the
    normaliser: each run's line is a kind of its own."""
    return "smoke" + "".join(secrets.choice(MARKER_LETTERS) for _ in range(12))


def error_pipeline_checks(platform: Platform) -> list[FlowResult]:
    return [error_pipeline_check(platform)]


def error_pipeline_check(platform: Platform) -> FlowResult:
    name = "error log line reaches the error processor and alerts the critical topic"
    engine = platform.engine
    sqs, sns, logs = engine.client("sqs"), engine.client("sns"), engine.client("logs")
    queue_url = subscription = None
    try:
        topic = platform.out("monitoring", "CriticalAlertsTopicArn")
        log_group = platform.out("compute", "ChatbotLogGroupName")
        queue_url = sqs.create_queue(QueueName=f"concert-smoke-{uuid.uuid4().hex[:8]}")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        subscription = sns.subscribe(
            TopicArn=topic, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"}
        )["SubscriptionArn"]
        marker = run_marker()
        line = json.dumps(
            {
                "level": "ERROR",
                "message": f"Task timed out after 30.00 seconds ({marker})",
                "service": "chatbot",
                "correlation_id": marker,
            }
        )
        stream = f"smoke/{marker}"
        logs.create_log_stream(logGroupName=log_group, logStreamName=stream)
        logs.put_log_events(
            logGroupName=log_group,
            logStreamName=stream,
            logEvents=[{"timestamp": int(time.time() * 1000), "message": line}],
        )
        # the engine delivers the line through the group's subscription filters (no direct
        # invocation), asynchronously as on AWS: an engine in this process is waited for; one in
        # another process (engine serve) may first cold-start the error processor (Lambda's 10 s
        # init limit); the loop ends as soon as the alert arrives
        platform.engine.settle()
        if platform.local and not reaches_the_processor(platform, log_group, line):
            # in this process the deliveries have all run by now (settle), through the filter
            # language this tool implements: no filter delivers the line, so no alert can come
            return FlowResult(name, False, undelivered_reason(platform, log_group, line, topic, marker))
        deadline = time.monotonic() + (20 if platform.local else 90)
        while time.monotonic() < deadline:
            for message in sqs.receive_message(
                QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1
            ).get("Messages", []):
                if marker in message["Body"]:
                    return FlowResult(
                        name, True, f"alert on {topic.rsplit(':', 1)[-1]}: {message['Body'][:160]}"
                    )
        return FlowResult(name, False, undelivered_reason(platform, log_group, line, topic, marker))
    except (LookupError, RuntimeError, KeyError) as exc:
        return FlowResult(name, False, str(exc))
    except ClientError as exc:  # this check fails, naming the call; the other checks still report
        error = exc.response.get("Error", {})
        return FlowResult(name, False, f"{exc.operation_name}: {error.get('Code')}: {error.get('Message')}")
    finally:
        if subscription:
            sns.unsubscribe(SubscriptionArn=subscription)
        if queue_url:
            sqs.delete_queue(QueueUrl=queue_url)
