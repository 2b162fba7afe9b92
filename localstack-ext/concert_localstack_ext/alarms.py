"""`POST /_concert/alarms/evaluate`: LocalStack's own alarm evaluation, run now instead of on its clock.

LocalStack 4.13.1 evaluates each metric alarm on a fixed-rate schedule of `EvaluationPeriods *
Period` seconds from the alarm's creation (`cloudwatch.alarm_scheduler`): the first evaluation of
a 60 s alarm comes a minute after it is created, and the engine canary `alarm-fires-and-delivers`
waited for it. This route runs the same function the schedule runs (`calculate_alarm_state`: the
metric read back, the threshold compared, the state set and the alarm's actions notified) for
the alarms named in the request (every metric alarm of the account and region when none is
named: the tool names the canary's own, so a shared LocalStack's other alarms keep their
schedule) that LocalStack schedules (`_is_alarm_supported`:
not metric-math alarms, which it never evaluates; the first version evaluated those too and
failed with `KeyError: 'Period'` once the stacks' alarms existed), once, and answers which it evaluated. The
schedule itself is left as it is. A datapoint put in the last second is not yet inside the
window LocalStack reads (`[now - Period, now)`; seen: a datapoint put at 22:54:12.6 read back
only from 22:54:13 on), so the route starts its evaluation 1.1 s after it is asked. The tool's LocalStack engine calls it from `evaluate_alarms_now`
when `/_concert/health` says `"alarm_evaluation": true`.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from localstack.runtime import hooks

LOG = logging.getLogger(__name__)
EVALUATE_PATH = "/_concert/alarms/evaluate"
DEFAULT_ACCOUNT = "000000000000"
#: a datapoint is read back from the next whole second on (above)
_SETTLE_SECONDS = 1.1


def evaluate_alarms(region: str, account: str = DEFAULT_ACCOUNT, names: list[str] | None = None) -> list[str]:
    """Evaluate the metric alarms of `account` in `region` named in `names` (every one when None)
    now; returns the alarms evaluated. A shared LocalStack's other alarms keep their schedule."""
    from localstack.aws.connect import connect_to
    from localstack.services.cloudwatch.alarm_scheduler import AlarmScheduler, calculate_alarm_state

    client = connect_to(region_name=region, aws_access_key_id=account).cloudwatch
    time.sleep(_SETTLE_SECONDS)
    evaluated = []
    selection: dict[str, Any] = {"AlarmNames": names[:100]} if names else {}
    for page in client.get_paginator("describe_alarms").paginate(AlarmTypes=["MetricAlarm"], **selection):
        for alarm in page.get("MetricAlarms", []):
            # only the alarms LocalStack schedules (a metric-math alarm has no Period: never evaluated)
            if AlarmScheduler._is_alarm_supported(None, alarm):  # type: ignore[arg-type]
                calculate_alarm_state(alarm["AlarmArn"])
                evaluated.append(alarm["AlarmName"])
    return evaluated


@hooks.on_infra_start()
def concert_alarm_evaluation_route() -> None:
    from localstack.http import Response
    from localstack.services.edge import ROUTER

    def endpoint(request: Any, **_kwargs: Any) -> Response:
        try:
            body = json.loads(request.get_data() or b"{}")
            region = str(body.get("region") or "us-east-1")
            account = str(body.get("account") or DEFAULT_ACCOUNT)
            names = body.get("alarms")
            if names is not None and (
                not isinstance(names, list) or not all(isinstance(n, str) and n for n in names)
            ):
                return Response.for_json({"error": "alarms: a list of alarm names"}, status=400)
            return Response.for_json({"evaluated": evaluate_alarms(region, account, names or None)})
        except Exception as exc:
            LOG.exception("concert: alarm evaluation on request failed")
            return Response.for_json({"error": f"{type(exc).__name__}: {exc}"}, status=500)

    ROUTER.add(EVALUATE_PATH, endpoint=endpoint, methods=["POST"])
