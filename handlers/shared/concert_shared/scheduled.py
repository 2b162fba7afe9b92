"""What the handlers started by a schedule or a log subscription share (chatbot_maintenance,
conversation_analytics, error_processor): Powertools set up once per module, the entry decorators
in one order, and a failed job logged and told to the chatbot alerts topic before it is raised."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from aws_lambda_powertools import Logger, Metrics, Tracer

from concert_shared.clients import client
from concert_shared.config import optional_env

T = TypeVar("T")

#: the topic a scheduled job's failures and findings go to (none configured: nothing is sent)
ALERTS_TOPIC_VARIABLE = "CHATBOT_ALERTS_TOPIC_ARN"


@dataclass(frozen=True)
class Powertools:
    """A handler module's Logger, Tracer and (when it publishes any) Metrics."""

    logger: Logger
    tracer: Tracer
    metrics: Metrics | None

    def entry(self, handler: Callable[[dict[str, Any], Any], T]) -> Callable[[dict[str, Any], Any], T]:
        """The Lambda entry point: the Lambda context in every log line, the invocation traced,
        the metrics flushed at the end (none added is not an error)."""
        wrapped: Any = self.tracer.capture_lambda_handler(self.logger.inject_lambda_context(handler))
        if self.metrics is not None:
            wrapped = self.metrics.log_metrics(raise_on_empty_metrics=False)(wrapped)
        return wrapped  # type: ignore[no-any-return]

    def run_or_alert(self, job: str, work: Callable[[], T]) -> T:
        """`work()`; when it raises, log "<job> failed" with the traceback, tell the alerts topic
        ("<Job> failed", the error in one line) and raise the error again (Lambda counts it)."""
        try:
            return work()
        except Exception as exc:
            self.logger.exception(f"{job.lower()} failed")
            publish_alert(f"{job} failed", {"error": f"{type(exc).__name__}: {exc}"})
            raise


def powertools(*, metrics: bool = True) -> Powertools:
    """Logger and Tracer named by POWERTOOLS_SERVICE_NAME; Metrics in POWERTOOLS_METRICS_NAMESPACE
    (default ConcertPlatform) unless `metrics=False`."""
    namespace = os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or "ConcertPlatform"
    return Powertools(Logger(), Tracer(), Metrics(namespace=namespace) if metrics else None)


def publish_alert(subject: str, detail: dict[str, Any]) -> bool:
    """Tell the chatbot alerts topic; False when no topic is configured."""
    topic = optional_env(ALERTS_TOPIC_VARIABLE)
    if not topic:
        return False
    client("sns").publish(TopicArn=topic, Subject=subject, Message=json.dumps(detail, default=str))
    return True
