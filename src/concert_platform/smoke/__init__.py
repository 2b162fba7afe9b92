"""Smoke flows over a deployed platform with the sample data loaded (concert_platform.smoke.run
holds them in one ordered list, `FLOWS`):

- runtime: every function's execution environment starts (where this tool runs the functions);
- wiring: every function's environment names resources that exist, and its layers exist;
- warehouse: the schema's tables exist and hold the sample rows (the warehouse helpers);
- api: every API route answers as docs/api.md documents, bad input gets a 4xx with CORS headers;
- scheduled: the maintenance and analytics functions run and change state as expected;
- error pipeline: an ERROR log line reaches the error processor through the subscription filter
  and produces an alert on the right SNS topic;
- alarms: the alarm contract, and alarms that really fire and recover;
- hostile input, dependency failures, contracts: attacks on every route, failed dependencies and
  fallbacks, and the run-time contracts between the platform's parts.

The functions exercised are the ones the templates' outputs name (`Manifest.function_outputs`).
"""

from concert_platform.smoke.platform import FlowResult, HttpResponse, Platform, runtime_for
from concert_platform.smoke.run import FLOWS, run_flows, run_smoke
from concert_platform.smoke.runtime import start_cold_starts
from concert_platform.smoke.scheduled import scheduled_event
from concert_platform.smoke.warehouse import last_failed_statement

__all__ = [
    "FLOWS",
    "FlowResult",
    "HttpResponse",
    "Platform",
    "last_failed_statement",
    "run_flows",
    "run_smoke",
    "runtime_for",
    "scheduled_event",
    "start_cold_starts",
]
