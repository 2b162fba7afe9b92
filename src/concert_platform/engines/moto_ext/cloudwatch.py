"""CloudWatch: AWS::CloudWatch::Alarm (single-metric and metric-math alarms).

Emulated alarms are stored and described; they never evaluate metrics or change state."""

from __future__ import annotations

from typing import Any

from moto.cloudwatch import models as cw_models
from moto.core.common_models import CloudFormationModel

from concert_platform.engines.moto_ext._base import EmulatedResource, as_bool


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
