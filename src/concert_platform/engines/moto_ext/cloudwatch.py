"""CloudWatch: AWS::CloudWatch::Alarm (single-metric and metric-math alarms), and alarms that run.

moto stores alarms and metric data but never evaluates an alarm (and starts every alarm in OK).
Here alarms start in INSUFFICIENT_DATA, as in AWS, and `evaluate_alarms()` evaluates each one on
the engine's clock (moto_ext.clock): Period, Statistic or ExtendedStatistic (pNN), Threshold,
ComparisonOperator, EvaluationPeriods, DatapointsToAlarm, TreatMissingData, Unit and metric math
(moto_ext.metric_math). A state change is recorded in the alarm's history (DescribeAlarmHistory
answers it on the wire) and its actions are published to their SNS topics, which deliver to their
subscribers (moto_ext.sns). The evaluator runs whenever the clock advances, after every recorded
invocation (moto_ext.lambda_telemetry) and whenever a caller asks; windows end at "now" on the
engine's clock, so advancing the clock by a period moves a burst out of the window."""

from __future__ import annotations

import json
import math
import threading
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from moto.cloudwatch import models as cw_models
from moto.cloudwatch.responses import CloudWatchResponse
from moto.core.common_models import CloudFormationModel
from moto.core.responses import ActionResult

import concert_platform.engines.moto_ext.metric_math as metric_math
from concert_platform.engines.moto_ext._base import EmulatedResource, as_bool
from concert_platform.engines.moto_ext.clock import CLOCK, as_epoch


def _dimensions(items: list[dict[str, Any]]) -> list[Any]:
    return [cw_models.Dimension(name=d.get("Name"), value=d.get("Value")) for d in items]


def _queries(metrics: list[dict[str, Any]]) -> list[Any]:
    queries = []
    for item in metrics:
        stat = item.get("MetricStat")
        metric_stat = None
        if stat:
            metric = stat.get("Metric", {})
            metric_stat = cw_models.MetricStat(
                metric=cw_models.Metric(
                    metric.get("MetricName"),
                    metric.get("Namespace"),
                    _dimensions(metric.get("Dimensions", [])),
                ),
                period=stat.get("Period"),
                stat=stat.get("Stat"),
                unit=stat.get("Unit"),
            )
        queries.append(
            cw_models.MetricDataQuery(
                query_id=item.get("Id"),
                label=item.get("Label"),
                period=item.get("Period"),
                return_data=str(item.get("ReturnData", True)).lower(),
                expression=item.get("Expression"),
                metric_stat=metric_stat,
            )
        )
    return queries


class Alarm(EmulatedResource, CloudFormationModel):
    CFN_TYPE = "AWS::CloudWatch::Alarm"
    NAME_PROPERTY = "AlarmName"
    ATTRIBUTES = ("Arn",)

    def __init__(self, name: str, arn: str) -> None:
        self.name = name
        self.Arn = arn

    @staticmethod
    def cloudformation_name_type() -> str:
        return "AlarmName"

    @property
    def physical_resource_id(self) -> str:
        return self.name

    @classmethod
    def create(cls, properties: dict[str, Any], account_id: str, region_name: str, logical_id: str) -> Alarm:
        backend = cw_models.cloudwatch_backends[account_id][region_name]
        alarm = backend.put_metric_alarm(
            name=properties["AlarmName"],
            namespace=properties.get("Namespace"),
            metric_name=properties.get("MetricName"),
            comparison_operator=properties["ComparisonOperator"],
            evaluation_periods=int(properties["EvaluationPeriods"]),
            period=int(properties["Period"]) if properties.get("Period") is not None else None,
            threshold=float(properties["Threshold"]) if properties.get("Threshold") is not None else None,
            statistic=properties.get("Statistic"),
            description=properties.get("AlarmDescription"),
            dimensions=[{"Name": d["Name"], "Value": d["Value"]} for d in properties.get("Dimensions", [])],
            alarm_actions=list(properties.get("AlarmActions", [])),
            metric_data_queries=_queries(properties["Metrics"]) if properties.get("Metrics") else None,
            datapoints_to_alarm=int(properties["DatapointsToAlarm"])
            if properties.get("DatapointsToAlarm")
            else None,
            extended_statistic=properties.get("ExtendedStatistic"),
            ok_actions=list(properties.get("OKActions", [])),
            insufficient_data_actions=list(properties.get("InsufficientDataActions", [])),
            unit=properties.get("Unit"),
            actions_enabled=as_bool(properties.get("ActionsEnabled", True)),
            treat_missing_data=properties.get("TreatMissingData"),
        )
        return cls(alarm.name, alarm.alarm_arn)

    def remove(self, account_id: str, region_name: str) -> None:
        cw_models.cloudwatch_backends[account_id][region_name].delete_alarms([self.name])


# ---- alarm evaluation ------------------------------------------------------------------------
OK, ALARM, INSUFFICIENT_DATA = "OK", "ALARM", "INSUFFICIENT_DATA"
_COMPARISONS: dict[str, tuple[str, Any]] = {
    "GreaterThanOrEqualToThreshold": ("greater than or equal to", lambda v, t: v >= t),
    "GreaterThanThreshold": ("greater than", lambda v, t: v > t),
    "LessThanThreshold": ("less than", lambda v, t: v < t),
    "LessThanOrEqualToThreshold": ("less than or equal to", lambda v, t: v <= t),
}
_evaluation_lock = threading.Lock()


@dataclass
class Evaluation:
    """One alarm evaluated once: the state it should be in and why."""

    state: str
    reason: str
    values: list[float | None] = field(default_factory=list)
    window_starts: list[float] = field(default_factory=list)


def _stat(data: list[Any], stat: str) -> float | None:
    """A statistic over the datapoints of one period (MetricDatum and MetricAggregatedDatum)."""
    if not data:
        return None
    singles = [d.value for d in data if hasattr(d, "value")]
    aggregates = [d for d in data if not hasattr(d, "value")]
    count = len(singles) + sum(a.sample_count for a in aggregates)
    total = sum(singles) + sum(a.sum for a in aggregates)
    if stat == "Sum":
        return float(total)
    if stat == "SampleCount":
        return float(count)
    if stat == "Average":
        return total / count if count else None
    if stat == "Minimum":
        return float(min(singles + [a.min for a in aggregates]))
    if stat == "Maximum":
        return float(max(singles + [a.max for a in aggregates]))
    if stat.startswith("p"):
        if not singles:
            return None  # percentiles need the raw values
        ordered = sorted(singles)
        rank = max(1, math.ceil(float(stat[1:]) / 100 * len(ordered)))
        return float(ordered[rank - 1])
    raise ValueError(f"unsupported statistic {stat}")


def _metric_key(datum: Any) -> tuple[str, str, frozenset[tuple[str, str]]]:
    return (datum.namespace, datum.name, frozenset((d.name, d.value) for d in datum.dimensions))


class _PutIndex:
    """The datapoints put so far (moto's `metric_data`, which only grows), indexed once each: an
    evaluation runs after every invocation, and re-reading every datapoint each time was a tenth
    of the engine's time in the smoke run's busiest flows. A backend whose list was replaced or
    shrank (a reset) is indexed afresh."""

    def __init__(self, source: list[Any]) -> None:
        self.source = source
        self.seen = 0
        self.by_metric: dict[tuple[str, str, frozenset[tuple[str, str]]], list[tuple[float, Any]]] = (
            defaultdict(list)
        )

    def catch_up(self) -> None:
        new = self.source[self.seen :]
        self.seen += len(new)
        for datum in new:
            self.by_metric[_metric_key(datum)].append((as_epoch(datum.timestamp), datum))


class _MetricIndex:
    """The backend's datapoints by metric identity (namespace, name, exact dimension set): the ones
    put (indexed incrementally, `_PutIndex`) and the ones moto computes from other services on
    each read (S3's bucket metrics)."""

    def __init__(self, backend: Any) -> None:
        put = getattr(backend, "_concert_put_index", None)
        source = backend.metric_data
        if put is None or put.source is not source or put.seen > len(source):
            put = _PutIndex(source)
            backend._concert_put_index = put
        put.catch_up()
        self.by_metric = put.by_metric
        self.computed: dict[tuple[str, str, frozenset[tuple[str, str]]], list[tuple[float, Any]]] = (
            defaultdict(list)
        )
        for datum in backend.aws_metric_data:
            self.computed[_metric_key(datum)].append((as_epoch(datum.timestamp), datum))

    def series(
        self,
        namespace: str,
        name: str,
        dimensions: list[Any],
        stat: str,
        unit: str | None,
        starts: list[float],
        period: float,
    ) -> list[float | None]:
        key = (namespace, name, frozenset((d.name, d.value) for d in dimensions))
        points = self.by_metric.get(key, []) + self.computed.get(key, [])
        values: list[float | None] = []
        for start in starts:
            data = [
                datum
                for stamp, datum in points
                if start <= stamp < start + period and (not unit or datum.unit == unit)
            ]
            values.append(_stat(data, stat))
        return values


def _windows(now: float, period: float, count: int) -> list[float]:
    """Start times of the `count` evaluation periods ending now, oldest first."""
    return [now - (count - k) * period for k in range(count)]


def _alarm_series(alarm: Any, index: _MetricIndex, now: float) -> tuple[list[float | None], list[float]]:
    count = int(alarm.evaluation_periods)
    if alarm.metric_data_queries:
        periods = [int(q.metric_stat.period) for q in alarm.metric_data_queries if q.metric_stat]
        period = float(alarm.period or max(periods or [60]))
        starts = _windows(now, period, count)
        series: dict[str, list[float | None]] = {}
        returned = None
        for query in alarm.metric_data_queries:
            if query.metric_stat is not None:
                stat = query.metric_stat
                series[query.id] = index.series(
                    stat.metric.namespace,
                    stat.metric.metric_name,
                    stat.metric.dimensions,
                    stat.stat,
                    stat.unit,
                    starts,
                    period,
                )
            else:
                series[query.id] = metric_math.evaluate(query.expression or "", series, count)
            if str(query.return_data).lower() != "false":
                returned = query.id
        if returned is None:
            raise ValueError("no metric query has ReturnData true")
        return series[returned], starts
    period = float(alarm.period)
    starts = _windows(now, period, count)
    stat = alarm.extended_statistic or alarm.statistic
    return (
        index.series(alarm.namespace, alarm.metric_name, alarm.dimensions, stat, alarm.unit, starts, period),
        starts,
    )


def _format_point(value: float, start: float) -> str:
    return f"{value:g} ({datetime.fromtimestamp(start, UTC):%d/%m/%y %H:%M:%S})"


def evaluate_alarm(alarm: Any, index: _MetricIndex, now: float) -> Evaluation:
    """The state `alarm` should be in at `now`, with CloudWatch's kind of reason."""
    if alarm.comparison_operator not in _COMPARISONS:
        return Evaluation(INSUFFICIENT_DATA, f"Unsupported comparison operator {alarm.comparison_operator}")
    words, compare = _COMPARISONS[alarm.comparison_operator]
    try:
        values, starts = _alarm_series(alarm, index, now)
    except ValueError as exc:
        return Evaluation(INSUFFICIENT_DATA, f"Unchecked: {exc}")
    threshold = float(alarm.threshold)
    needed = int(alarm.datapoints_to_alarm or alarm.evaluation_periods)
    treat = alarm.treat_missing_data or "missing"
    present = [(v, s) for v, s in zip(values, starts, strict=True) if v is not None]
    missing = len(values) - len(present)
    breaching = [(v, s) for v, s in present if compare(v, threshold)]
    breaching_count = len(breaching) + (missing if treat == "breaching" else 0)
    if not present and treat in ("missing", "ignore"):
        state = alarm.state_value if treat == "ignore" else INSUFFICIENT_DATA
        return Evaluation(
            state,
            f"Insufficient Data: {len(values)} datapoint{'s' if len(values) != 1 else ''} were unknown.",
            values,
            starts,
        )
    state = ALARM if breaching_count >= needed else OK
    shown = breaching if state == ALARM and breaching else present
    points = ", ".join(_format_point(v, s) for v, s in shown[-5:])
    negation = "" if state == ALARM else "not "
    reason = (
        f"Threshold Crossed: {len(shown)} out of the last {len(values)} datapoints "
        f"[{points}] {'was' if len(shown) == 1 else 'were'} {negation}{words} the threshold "
        f"({threshold:g})"
        if shown
        else f"Threshold Crossed: no datapoints were received for {len(values)} "
        f"period{'s' if len(values) != 1 else ''}"
    )
    if missing and treat in ("breaching", "notBreaching"):
        label = "Breaching" if treat == "breaching" else "NonBreaching"
        reason += (
            f" and {missing} missing datapoint{'s were' if missing != 1 else ' was'} treated as [{label}]"
        )
    return Evaluation(state, reason + ".", values, starts)


def _history(alarm: Any) -> list[dict[str, Any]]:
    if not hasattr(alarm, "concert_history"):
        alarm.concert_history = []
    history: list[dict[str, Any]] = alarm.concert_history
    return history


def _add_history(alarm: Any, item_type: str, summary: str, data: dict[str, Any]) -> None:
    _history(alarm).append(
        {
            "AlarmName": alarm.name,
            "AlarmType": "CompositeAlarm" if alarm.rule else "MetricAlarm",
            "Timestamp": CLOCK.now_datetime().replace(tzinfo=UTC),
            "HistoryItemType": item_type,
            "HistorySummary": summary,
            "HistoryData": json.dumps(data),
        }
    )


def _notification(alarm: Any, old: str, evaluation: Evaluation, account_id: str) -> dict[str, Any]:
    """The JSON CloudWatch publishes to an alarm's SNS actions."""
    trigger: dict[str, Any] = {
        "ComparisonOperator": alarm.comparison_operator,
        "Threshold": float(alarm.threshold),
        "TreatMissingData": alarm.treat_missing_data or "missing",
        "EvaluationPeriods": int(alarm.evaluation_periods),
    }
    if alarm.metric_data_queries:
        trigger["Metrics"] = [
            {"Id": q.id, "Expression": q.expression, "ReturnData": str(q.return_data).lower() != "false"}
            if q.expression
            else {
                "Id": q.id,
                "MetricStat": {
                    "Metric": {
                        "Namespace": q.metric_stat.metric.namespace,
                        "MetricName": q.metric_stat.metric.metric_name,
                        "Dimensions": [
                            {"name": d.name, "value": d.value} for d in q.metric_stat.metric.dimensions
                        ],
                    },
                    "Period": int(q.metric_stat.period),
                    "Stat": q.metric_stat.stat,
                },
                "ReturnData": str(q.return_data).lower() != "false",
            }
            for q in alarm.metric_data_queries
        ]
    else:
        trigger.update(
            {
                "MetricName": alarm.metric_name,
                "Namespace": alarm.namespace,
                "Dimensions": [{"name": d.name, "value": d.value} for d in alarm.dimensions],
                "Period": int(alarm.period),
                "Statistic": (alarm.statistic or "").upper() or None,
                "ExtendedStatistic": alarm.extended_statistic,
            }
        )
    return {
        "AlarmName": alarm.name,
        "AlarmDescription": alarm.description,
        "AWSAccountId": account_id,
        "AlarmConfigurationUpdatedTimestamp": alarm.configuration_updated_timestamp.isoformat(),
        "NewStateValue": evaluation.state,
        "NewStateReason": evaluation.reason,
        "StateChangeTime": CLOCK.now_datetime().isoformat(timespec="milliseconds") + "+0000",
        "Region": alarm.region_name,
        "AlarmArn": alarm.alarm_arn,
        "OldStateValue": old,
        "OKActions": list(alarm.ok_actions),
        "AlarmActions": list(alarm.alarm_actions),
        "InsufficientDataActions": list(alarm.insufficient_data_actions),
        "Trigger": trigger,
    }


def _run_actions(alarm: Any, old: str, evaluation: Evaluation, account_id: str) -> None:
    if not alarm.actions_enabled:
        return
    actions = {
        ALARM: alarm.alarm_actions,
        OK: alarm.ok_actions,
        INSUFFICIENT_DATA: alarm.insufficient_data_actions,
    }[evaluation.state]
    message = json.dumps(_notification(alarm, old, evaluation, account_id))
    subject = f'{evaluation.state}: "{alarm.name}" in {alarm.region_name}'[:100]
    for arn in actions:
        parts = arn.split(":")
        if len(parts) < 6 or parts[2] != "sns":
            _add_history(
                alarm,
                "Action",
                f"Failed to execute action {arn}. The embedded engine runs SNS actions only",
                {"actionState": "Failed", "notificationResource": arn},
            )
            continue
        from moto.sns import models as sns_models

        try:
            sns_models.sns_backends[parts[4]][parts[3]].publish(message, arn=arn, subject=subject)
        except Exception as exc:
            _add_history(
                alarm,
                "Action",
                f"Failed to execute action {arn}. Received error: {exc}",
                {"actionState": "Failed", "notificationResource": arn, "error": str(exc)},
            )
            continue
        _add_history(
            alarm,
            "Action",
            f"Successfully executed action {arn}",
            {"actionState": "Succeeded", "notificationResource": arn, "stateUpdateTimestamp": CLOCK.now_ms()},
        )


def evaluate_backend(backend: Any, now: float | None = None) -> list[tuple[str, str, str]]:
    """Evaluate every metric alarm of one backend; returns (alarm, old state, new state) changes.

    States change under a lock; actions run after it is released, since an action can run a
    function whose own invocation evaluates the alarms again."""
    now = CLOCK.now() if now is None else now
    import concert_platform.engines.moto_ext.faults as faults

    if faults.active("alarm"):  # test-only: the engine stops evaluating alarms
        return []
    fired = []
    with _evaluation_lock:
        index = _MetricIndex(backend)
        for alarm in list(backend.alarms.values()):
            if alarm.rule is not None:
                continue  # composite alarms are not evaluated
            evaluation = evaluate_alarm(alarm, index, now)
            if evaluation.state == alarm.state_value:
                continue
            old = alarm.state_value
            data = {
                "version": "1.0",
                "oldState": {"stateValue": old, "stateReason": alarm.state_reason},
                "newState": {"stateValue": evaluation.state, "stateReason": evaluation.reason},
            }
            alarm.update_state(evaluation.reason, json.dumps({"version": "1.0"}), evaluation.state)
            _add_history(alarm, "StateUpdate", f"Alarm updated from {old} to {evaluation.state}", data)
            fired.append((alarm, old, evaluation))
    for alarm, old, evaluation in fired:
        _run_actions(alarm, old, evaluation, backend.account_id)
    return [(alarm.name, old, evaluation.state) for alarm, old, evaluation in fired]


def evaluate_alarms(now: float | None = None) -> list[tuple[str, str, str]]:
    """Evaluate every alarm of every account and region the engine holds."""
    changes = []
    for _account, regions in list(cw_models.cloudwatch_backends.items()):
        for _region, backend in list(regions.items()):
            changes.extend(evaluate_backend(backend, now))
    return changes


def alarm_history(account_id: str, region_name: str, alarm_name: str) -> list[dict[str, Any]]:
    alarm = cw_models.cloudwatch_backends[account_id][region_name].alarms.get(alarm_name)
    return list(_history(alarm)) if alarm else []


def _handle_describe_alarm_history(self: Any) -> ActionResult:
    name = self._get_param("AlarmName")
    item_type = self._get_param("HistoryItemType")
    start, end = self._get_param("StartDate"), self._get_param("EndDate")
    newest_first = self._get_param("ScanBy", "TimestampDescending") == "TimestampDescending"
    limit = int(self._get_param("MaxRecords") or 100)
    alarms = self.cloudwatch_backend.alarms
    items = [
        item
        for alarm in ([alarms[name]] if name in alarms else [] if name else alarms.values())
        for item in _history(alarm)
        if (not item_type or item["HistoryItemType"] == item_type)
        and (not start or as_epoch(item["Timestamp"]) >= as_epoch(start))
        and (not end or as_epoch(item["Timestamp"]) <= as_epoch(end))
    ]
    items.sort(key=lambda item: item["Timestamp"], reverse=newest_first)
    return ActionResult({"AlarmHistoryItems": items[:limit]})


def patch_alarms() -> None:
    """Alarms start in INSUFFICIENT_DATA and run on the engine's clock; history on the wire."""
    backend_cls = cw_models.CloudWatchBackend
    original = backend_cls.put_metric_alarm

    def put_metric_alarm(self: Any, name: str, *args: Any, **kwargs: Any) -> Any:
        existing = self.alarms.get(name)
        alarm = original(self, name, *args, **kwargs)
        if existing is None:
            alarm.state_value = INSUFFICIENT_DATA
            alarm.state_reason = "Unchecked: Initial alarm creation"
            _add_history(alarm, "ConfigurationUpdate", f'Alarm "{name}" created', {"type": "Create"})
        else:
            alarm.state_value, alarm.state_reason = existing.state_value, existing.state_reason
            alarm.concert_history = _history(existing)  # type: ignore[attr-defined]
            _add_history(alarm, "ConfigurationUpdate", f'Alarm "{name}" updated', {"type": "Update"})
        return alarm

    backend_cls.put_metric_alarm = put_metric_alarm
    # moto stamps state changes and wire-put datapoints with utcnow(): use the engine's clock
    cw_models.utcnow = CLOCK.now_datetime
    CloudWatchResponse.describe_alarm_history = _handle_describe_alarm_history  # type: ignore[attr-defined]
    CLOCK.on_advance(lambda now: evaluate_alarms(now))
