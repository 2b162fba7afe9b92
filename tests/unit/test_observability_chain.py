"""The embedded engine's observability chain, link by link, on a small hand-made setup:
invocation -> log group -> metric filter -> metric data -> alarm (engine clock) -> history ->
SNS topic -> subscriber; and a subscription filter -> the destination function."""

from __future__ import annotations

import io
import json
import threading
import uuid
import zipfile
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from concert_platform.engines.embedded import EmbeddedEngine
from concert_platform.engines.moto_ext import cloudwatch, lambda_runtime, logs, metric_math
from concert_platform.engines.moto_ext.clock import CLOCK
from concert_platform.engines.moto_ext.lambda_telemetry import emf_metrics, record_invocation


@pytest.fixture(scope="module")
def engine() -> Iterator[EmbeddedEngine]:
    engine = EmbeddedEngine("eu-west-3")
    engine.start()
    yield engine
    engine.stop()


def _queue(engine: EmbeddedEngine, topic_arn: str) -> str:
    sqs = engine.client("sqs")
    url = sqs.create_queue(QueueName=f"q-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    engine.client("sns").subscribe(
        TopicArn=topic_arn, Protocol="sqs", Endpoint=arn, Attributes={"RawMessageDelivery": "true"}
    )
    return url


def _messages(engine: EmbeddedEngine, url: str) -> list[dict[str, Any]]:
    found = engine.client("sqs").receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    return [json.loads(m["Body"]) for m in found]


def _state(engine: EmbeddedEngine, name: str) -> str:
    alarms = engine.client("cloudwatch").describe_alarms(AlarmNames=[name])["MetricAlarms"]
    return str(alarms[0]["StateValue"])


def test_metric_math_follows_cloudwatch() -> None:
    series = {"errors": [None, 2.0, 0.0], "invocations": [None, 4.0, 0.0]}
    assert metric_math.evaluate("IF(invocations > 0, 100 * errors / invocations, 0)", series, 3) == [
        None,
        50.0,
        0.0,
    ]
    assert metric_math.evaluate("MAX([errors, invocations])", series, 3) == [None, 4.0, 0.0]
    assert metric_math.evaluate("errors + invocations", {"errors": [1.0], "invocations": [None]}, 1) == [None]
    with pytest.raises(ValueError, match="unsupported function ANOMALY_DETECTION_BAND"):
        metric_math.evaluate("ANOMALY_DETECTION_BAND(errors, 2)", series, 3)


def test_emf_lines_become_metrics() -> None:
    line = json.dumps(
        {
            "_aws": {
                "Timestamp": 0,
                "CloudWatchMetrics": [
                    {"Namespace": "Shop", "Dimensions": [["service"]], "Metrics": [{"Name": "Orders"}]}
                ],
            },
            "service": "cart",
            "Orders": [1, 2],
        }
    )
    [(namespace, data)] = emf_metrics(line)
    assert namespace == "Shop"
    assert [d["Value"] for d in data] == [1.0, 2.0]
    assert data[0]["Dimensions"] == [{"Name": "service", "Value": "cart"}]
    assert emf_metrics('{"level": "INFO"}') == []


def test_errors_alarm_goes_to_alarm_with_the_alert_delivered_and_back_to_ok(engine: EmbeddedEngine) -> None:
    name = f"fn-{uuid.uuid4().hex[:6]}"
    topic = engine.client("sns").create_topic(Name=f"alerts-{name}")["TopicArn"]
    queue = _queue(engine, topic)
    alarm = f"{name}-errors"
    engine.client("cloudwatch").put_metric_alarm(
        AlarmName=alarm,
        Namespace="AWS/Lambda",
        MetricName="Errors",
        Dimensions=[{"Name": "FunctionName", "Value": name}],
        Statistic="Sum",
        Period=300,
        EvaluationPeriods=1,
        DatapointsToAlarm=1,
        Threshold=3,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
        TreatMissingData="notBreaching",
        AlarmActions=[topic],
        OKActions=[topic],
    )
    assert _state(engine, alarm) == "INSUFFICIENT_DATA"
    for _ in range(2):
        record_invocation(engine, name, ['{"level": "INFO"}'], 12.0, "Boom: failed")
    assert _state(engine, alarm) == "OK", "two errors are below the threshold of 3"
    record_invocation(engine, name, [], 8.0, "Boom: failed")
    assert _state(engine, alarm) == "ALARM"
    alerts = _messages(engine, queue)
    assert [(a["AlarmName"], a["NewStateValue"]) for a in alerts] == [(alarm, "OK"), (alarm, "ALARM")]
    assert "datapoints [3 (" in alerts[-1]["NewStateReason"]
    assert "was greater than or equal to the threshold (3)" in alerts[-1]["NewStateReason"]

    CLOCK.advance(301)
    assert _state(engine, alarm) == "OK"
    assert [(a["AlarmName"], a["NewStateValue"]) for a in _messages(engine, queue)] == [(alarm, "OK")]
    history = engine.client("cloudwatch").describe_alarm_history(
        AlarmName=alarm, HistoryItemType="StateUpdate", ScanBy="TimestampAscending"
    )["AlarmHistoryItems"]
    assert [h["HistorySummary"] for h in history] == [
        "Alarm updated from INSUFFICIENT_DATA to OK",
        "Alarm updated from OK to ALARM",
        "Alarm updated from ALARM to OK",
    ]
    stats = engine.client("cloudwatch").get_metric_statistics(
        Namespace="AWS/Lambda",
        MetricName="Invocations",
        Dimensions=[{"Name": "FunctionName", "Value": name}],
        StartTime=CLOCK.now_datetime().replace(year=2000),
        EndTime=CLOCK.now_datetime().replace(year=2100),
        Period=86400,
        Statistics=["Sum"],
    )["Datapoints"]
    assert sum(p["Sum"] for p in stats) == 3


def test_metric_filter_feeds_a_custom_metric_alarm(engine: EmbeddedEngine) -> None:
    name = f"fn-{uuid.uuid4().hex[:6]}"
    group = f"/aws/lambda/{name}"
    engine.client("logs").create_log_group(logGroupName=group)
    engine.client("logs").put_metric_filter(
        logGroupName=group,
        filterName="quality",
        filterPattern='{ $.data_quality_issue = "*" }',
        metricTransformations=[
            {"metricName": "Issues", "metricNamespace": f"Test/{name}", "metricValue": "1"}
        ],
    )
    alarm = f"{name}-quality"
    engine.client("cloudwatch").put_metric_alarm(
        AlarmName=alarm,
        Namespace=f"Test/{name}",
        MetricName="Issues",
        Statistic="Sum",
        Period=3600,
        EvaluationPeriods=1,
        Threshold=2,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
        TreatMissingData="notBreaching",
    )
    issue = json.dumps({"level": "WARNING", "data_quality_issue": "unknown_role"})
    record_invocation(engine, name, [issue, '{"level": "INFO"}', issue], 5.0)
    assert _state(engine, alarm) == "ALARM"
    CLOCK.advance(3601)
    assert _state(engine, alarm) == "OK"


def test_a_missing_metric_leaves_the_alarm_in_insufficient_data(engine: EmbeddedEngine) -> None:
    alarm = f"nothing-{uuid.uuid4().hex[:6]}"
    engine.client("cloudwatch").put_metric_alarm(
        AlarmName=alarm,
        Namespace="Test/Nothing",
        MetricName="NeverEmitted",
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=1,
        ComparisonOperator="GreaterThanThreshold",
    )
    cloudwatch.evaluate_alarms()
    assert _state(engine, alarm) == "INSUFFICIENT_DATA"


def _role_that_writes_logs(iam: Any) -> str:
    """A probe function's role: Lambda writes its logs as the role (without it they are lost)."""
    name = f"r-{uuid.uuid4().hex[:6]}"
    arn = iam.create_role(
        RoleName=name, AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []})
    )["Role"]["Arn"]
    logs = {
        "Effect": "Allow",
        "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
        "Resource": "*",
    }
    iam.put_role_policy(
        RoleName=name,
        PolicyName="logs",
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [logs]}),
    )
    return str(arn)


def _function_zip(source: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("probe.py", source)
    return buffer.getvalue()


def test_subscription_filter_delivers_only_matching_lines_to_its_function(
    engine: EmbeddedEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    iam = engine.client("iam")
    role = _role_that_writes_logs(iam)
    name = f"probe-{uuid.uuid4().hex[:6]}"
    source = (
        "import base64, gzip, json\n"
        "def handler(event, context):\n"
        "    data = json.loads(gzip.decompress(base64.b64decode(event['awslogs']['data'])))\n"
        "    print(json.dumps({'received': [e['message'] for e in data['logEvents']]}))\n"
        "    return len(data['logEvents'])\n"
    )
    function_arn = engine.client("lambda").create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=role,
        Handler="probe.handler",
        Code={"ZipFile": _function_zip(source)},
    )["FunctionArn"]
    group = f"/aws/lambda/source-{name}"
    engine.client("logs").create_log_group(logGroupName=group)
    engine.client("logs").put_subscription_filter(
        logGroupName=group,
        filterName="errors",
        filterPattern='{ $.level = "ERROR" }',
        destinationArn=function_arn,
    )
    error_line = json.dumps({"level": "ERROR", "message": "it broke"})
    # delivered asynchronously, as CloudWatch Logs invokes a subscription's function: the call that
    # put the events returns first (a synchronous delivery would wait here until the timeout)
    returned = threading.Event()
    seen: list[tuple[bool, str]] = []
    deliver = lambda_runtime.run_function

    def after_the_put_returned(*args: Any, **kwargs: Any) -> dict[str, Any]:
        seen.append((returned.wait(timeout=10), threading.current_thread().name))
        return deliver(*args, **kwargs)

    monkeypatch.setattr(lambda_runtime, "run_function", after_the_put_returned)
    record_invocation(engine, f"source-{name}", ['{"level": "INFO"}', error_line], 3.0)
    returned.set()
    engine.settle()
    assert [ran_after for ran_after, _thread in seen] == [True], seen
    assert seen[0][1].startswith("logs-subscription-delivery"), seen
    [delivery] = [d for d in logs.SUBSCRIPTION_DELIVERIES if d["destination"] == function_arn]
    assert delivery["ok"], delivery
    assert delivery["messages"] == [error_line]
    assert any(d["function"] == function_arn and d["ok"] for d in lambda_runtime.DELIVERIES)
    received = engine.client("logs").filter_log_events(logGroupName=f"/aws/lambda/{name}")["events"]
    assert any("it broke" in e["message"] and "received" in e["message"] for e in received)


class _Backend:
    """moto's CloudWatchBackend as the engine reads it: the datapoints put, and those moto computes."""

    def __init__(self, data: list[Any], computed: list[Any] | None = None) -> None:
        self.metric_data = data
        self.aws_metric_data = computed or []


def _alarm(**overrides: Any) -> Any:
    from types import SimpleNamespace

    base = {
        "name": "a",
        "namespace": "T",
        "metric_name": "M",
        "dimensions": [],
        "metric_data_queries": [],
        "statistic": "Sum",
        "extended_statistic": None,
        "unit": None,
        "period": 60,
        "evaluation_periods": 3,
        "datapoints_to_alarm": None,
        "threshold": 1.0,
        "comparison_operator": "GreaterThanOrEqualToThreshold",
        "treat_missing_data": None,
        "state_value": "OK",
    }
    return SimpleNamespace(**{**base, **overrides})


def _points(now: float, values_by_period: list[float | None]) -> _Backend:
    """One datapoint per period (oldest first) in the windows ending at `now`."""
    from datetime import UTC, datetime

    from moto.cloudwatch.models import MetricDatum

    count = len(values_by_period)
    data = [
        MetricDatum("T", "M", value, [], datetime.fromtimestamp(now - (count - k) * 60 + 30, UTC))
        for k, value in enumerate(values_by_period)
        if value is not None
    ]
    return _Backend(data)


@pytest.mark.parametrize(
    ("values", "overrides", "state"),
    [
        ([1.0, 1.0, 1.0], {}, "ALARM"),  # 3 of 3 breaching
        ([1.0, 0.0, 1.0], {}, "OK"),  # M defaults to N
        ([1.0, 0.0, 1.0], {"datapoints_to_alarm": 2}, "ALARM"),  # 2 of 3
        ([None, None, None], {}, "INSUFFICIENT_DATA"),  # missing: no data
        ([None, None, None], {"treat_missing_data": "notBreaching"}, "OK"),
        ([None, None, None], {"treat_missing_data": "breaching"}, "ALARM"),
        ([None, None, None], {"treat_missing_data": "ignore", "state_value": "ALARM"}, "ALARM"),
        ([None, 1.0, 1.0], {"datapoints_to_alarm": 2}, "ALARM"),  # missing ignored, 2 present
        ([None, 1.0, None], {"treat_missing_data": "breaching"}, "ALARM"),
        ([5.0, 5.0, 5.0], {"comparison_operator": "LessThanThreshold", "threshold": 6.0}, "ALARM"),
        ([5.0, 5.0, 5.0], {"comparison_operator": "GreaterThanThreshold", "threshold": 5.0}, "OK"),
    ],
)
def test_alarm_state_rules(values: list[float | None], overrides: dict[str, Any], state: str) -> None:
    now = 1_800_000_000.0
    evaluation = cloudwatch.evaluate_alarm(
        _alarm(**overrides), cloudwatch._MetricIndex(_points(now, values)), now
    )
    assert evaluation.state == state, evaluation.reason


def test_percentile_statistic() -> None:
    from datetime import UTC, datetime

    from moto.cloudwatch.models import MetricDatum

    now = 1_800_000_000.0
    data = [MetricDatum("T", "M", float(v), [], datetime.fromtimestamp(now - 10, UTC)) for v in range(1, 101)]
    alarm = _alarm(statistic=None, extended_statistic="p95", evaluation_periods=1, threshold=95.0)
    evaluation = cloudwatch.evaluate_alarm(alarm, cloudwatch._MetricIndex(_Backend(data)), now)
    assert evaluation.values == [95.0]
    assert evaluation.state == "ALARM"


def test_sns_delivers_to_a_lambda_subscriber_and_records_email(engine: EmbeddedEngine) -> None:
    from concert_platform.engines.moto_ext import sns

    iam = engine.client("iam")
    role = _role_that_writes_logs(iam)
    name = f"sns-probe-{uuid.uuid4().hex[:6]}"
    source = (
        "import json\n"
        "def handler(event, context):\n"
        "    print(json.dumps({'got': event['Records'][0]['Sns']['Message']}))\n"
    )
    function_arn = engine.client("lambda").create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=role,
        Handler="probe.handler",
        Code={"ZipFile": _function_zip(source)},
    )["FunctionArn"]
    client = engine.client("sns")
    topic = client.create_topic(Name=f"t-{name}")["TopicArn"]
    client.subscribe(TopicArn=topic, Protocol="lambda", Endpoint=function_arn)
    client.subscribe(TopicArn=topic, Protocol="email", Endpoint="ops@example.com")
    client.publish(TopicArn=topic, Message="hello subscribers", Subject="greeting")
    delivered = {(d["protocol"], d["message"], d["ok"]) for d in sns.DELIVERIES if d["topic"] == topic}
    assert delivered == {("lambda", "hello subscribers", True), ("email", "hello subscribers", True)}
    logged = engine.client("logs").filter_log_events(logGroupName=f"/aws/lambda/{name}")["events"]
    assert any('"got": "hello subscribers"' in e["message"] for e in logged)


def test_coverage_names_an_alarm_whose_lambda_metric_got_no_data(engine: EmbeddedEngine) -> None:
    from types import SimpleNamespace

    from concert_platform.smoke.alarms import coverage_check

    alive, ghost = f"alive-{uuid.uuid4().hex[:6]}", f"ghost-{uuid.uuid4().hex[:6]}"
    record_invocation(engine, alive, [], 1.0)
    for function in (alive, ghost):
        engine.client("cloudwatch").put_metric_alarm(
            AlarmName=f"{function}-errors",
            Namespace="AWS/Lambda",
            MetricName="Errors",
            Dimensions=[{"Name": "FunctionName", "Value": function}],
            Statistic="Sum",
            Period=60,
            EvaluationPeriods=1,
            Threshold=1,
            ComparisonOperator="GreaterThanOrEqualToThreshold",
        )
    alarms = {f"{alive}-errors", f"{ghost}-errors"}  # this environment's (the engine holds others')
    platform = SimpleNamespace(
        engine=engine, own=lambda kind: alarms if kind == "AWS::CloudWatch::Alarm" else set()
    )
    check = coverage_check(platform)  # type: ignore[arg-type]
    assert not check.ok
    assert (
        f"{ghost}-errors watches AWS/Lambda Errors [FunctionName={ghost}], which received no data"
        in check.detail
    )
    assert f"{alive}-errors" not in check.detail


def test_a_pattern_the_engine_cannot_evaluate_is_named_not_silently_skipped(engine: EmbeddedEngine) -> None:
    from types import SimpleNamespace

    from concert_platform.smoke.alarms import coverage_check

    name = f"fn-{uuid.uuid4().hex[:6]}"
    group = f"/aws/lambda/{name}"
    engine.client("logs").create_log_group(logGroupName=group)
    engine.client("logs").put_metric_filter(
        logGroupName=group,
        filterName="spaces",
        filterPattern="[ip, user, status=5*]",
        metricTransformations=[{"metricName": "X", "metricNamespace": "Test/Spaces", "metricValue": "1"}],
    )
    record_invocation(engine, name, ["1.2.3.4 bob 500"], 1.0)
    engine.client("cloudwatch").put_metric_alarm(
        AlarmName=f"{name}-errors",
        Namespace="AWS/Lambda",
        MetricName="Errors",
        Dimensions=[{"Name": "FunctionName", "Value": name}],
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=1,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
    )
    own = {"AWS::CloudWatch::Alarm": {f"{name}-errors"}, "AWS::Logs::LogGroup": {group}}
    check = coverage_check(SimpleNamespace(engine=engine, own=lambda kind: own.get(kind, set())))  # type: ignore[arg-type]
    assert f"filter spaces on {group} was never evaluated: space-delimited filter patterns" in check.detail
    # the same engine serving another environment: that environment's run does not answer for it
    own["AWS::Logs::LogGroup"] = {"/aws/lambda/another-environments-function"}
    check = coverage_check(SimpleNamespace(engine=engine, own=lambda kind: own.get(kind, set())))  # type: ignore[arg-type]
    assert group not in check.detail and check.ok, check.detail
    logs.FILTER_ERRORS.clear()


_values = st.lists(st.one_of(st.none(), st.floats(-1e6, 1e6, allow_nan=False)), min_size=1, max_size=6)


@given(_values, _values)
def test_metric_math_arithmetic_drops_periods_an_operand_lacks(
    a: list[float | None], b: list[float | None]
) -> None:
    n = min(len(a), len(b))
    a, b = a[:n], b[:n]
    result = metric_math.evaluate("a + 2 * b", {"a": a, "b": b}, n)
    assert result == [None if x is None or y is None else x + 2 * y for x, y in zip(a, b, strict=True)]
    maximum = metric_math.evaluate("MAX([a, b])", {"a": a, "b": b}, n)
    assert maximum == [
        max(v for v in (x, y) if v is not None) if x is not None or y is not None else None
        for x, y in zip(a, b, strict=True)
    ]


def test_the_metric_index_reads_each_put_datapoint_once_and_starts_again_after_a_reset() -> None:
    # an evaluation runs after every invocation: the datapoints put are indexed as they arrive,
    # the ones moto computes (S3's bucket metrics) are read afresh each time
    from datetime import UTC, datetime

    from moto.cloudwatch.models import MetricDatum

    now = 1_800_000_000.0
    at = datetime.fromtimestamp(now - 10, UTC)
    backend = _Backend([MetricDatum("T", "M", 1.0, [], at)], [MetricDatum("T", "C", 7.0, [], at)])
    alarm = _alarm(evaluation_periods=1, threshold=2.0, statistic="Sum")
    assert cloudwatch.evaluate_alarm(alarm, cloudwatch._MetricIndex(backend), now).state == "OK"
    backend.metric_data.append(MetricDatum("T", "M", 1.0, [], at))
    assert cloudwatch.evaluate_alarm(alarm, cloudwatch._MetricIndex(backend), now).state == "ALARM"
    assert backend._concert_put_index.seen == 2  # the first datapoint was not indexed twice
    assert len(backend._concert_put_index.by_metric[("T", "M", frozenset())]) == 2
    backend.aws_metric_data = [MetricDatum("T", "C", 1.0, [], at)]
    computed = _alarm(evaluation_periods=1, threshold=2.0, statistic="Sum", metric_name="C")
    assert cloudwatch.evaluate_alarm(computed, cloudwatch._MetricIndex(backend), now).state == "OK"
    backend.metric_data = []  # a reset gives the backend a new list: indexed afresh
    assert (
        cloudwatch.evaluate_alarm(alarm, cloudwatch._MetricIndex(backend), now).state == "INSUFFICIENT_DATA"
    )
