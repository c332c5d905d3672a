"""The stand-in provider's metric alarms (tests/e2e/provider/resources/cloudwatch.py): every
alarm our stacks register passes what the real provider and PutMetricAlarm check, and each
combination they refuse is refused, with its reason."""

from __future__ import annotations

import pytest
from conftest import render_config, stack_config

from tests.e2e.provider.resources import check_failures
from tests.e2e.provider.resources.cloudwatch import METRIC_ALARM, metric_alarm_api_errors

SINGLE = {
    "name": "acme-logging-x",
    "namespace": "AWS/Firehose",
    "metricName": "ThrottledRecords",
    "statistic": "Sum",
    "period": 300,
    "evaluationPeriods": 1,
    "comparisonOperator": "GreaterThanThreshold",
    "threshold": 0,
}
INSIGHTS = {
    "id": "errors",
    "expression": 'SELECT SUM(DeliveryErrors) FROM SCHEMA("AWS/Logs", LogGroupName)',
    "period": 300,
    "returnData": True,
}
QUERY_ALARM = {
    "name": "acme-logging-y",
    "metricQueries": [INSIGHTS],
    "evaluationPeriods": 1,
    "comparisonOperator": "GreaterThanThreshold",
    "threshold": 0,
}


@pytest.mark.parametrize(
    "config",
    [stack_config("log-archive"), stack_config("source", aws_region="eu-west-1")],
    ids=["log-archive", "source"],
)
def test_every_alarm_we_register_is_accepted(config):
    alarms = render_config(config).of_type(METRIC_ALARM)
    assert alarms
    for alarm in alarms:
        assert check_failures(METRIC_ALARM, alarm.inputs) == [], alarm.name
        assert metric_alarm_api_errors(alarm.inputs) == [], alarm.name


def test_the_valid_forms_pass():
    assert metric_alarm_api_errors(SINGLE) == []
    assert metric_alarm_api_errors(QUERY_ALARM) == []
    assert check_failures(METRIC_ALARM, QUERY_ALARM) == []


def test_metric_queries_conflict_with_the_single_metric_fields():
    both = {**QUERY_ALARM, "metricName": "DeliveryErrors", "period": 300}
    assert check_failures(METRIC_ALARM, both) == [
        ("metricQueries", '"metric_query": conflicts with metricName'),
        ("metricQueries", '"metric_query": conflicts with period'),
    ]


@pytest.mark.parametrize(
    ("queries", "problem"),
    [
        (
            [{**INSIGHTS, "period": None}],
            "Period must be set on the Metrics Insights query 'errors'",
        ),
        (
            [INSIGHTS, {**INSIGHTS, "id": "again"}],
            "Exactly one element of the metrics list should return data; 2 do",
        ),
        (
            # ReturnData defaults to true: the second query returns data too.
            [
                INSIGHTS,
                {key: v for key, v in INSIGHTS.items() if key != "returnData"} | {"id": "b"},
            ],
            "Exactly one element of the metrics list should return data; 2 do",
        ),
        (
            [{**INSIGHTS, "returnData": False}],
            "Exactly one element of the metrics list should return data; 0 do",
        ),
        (
            [
                {
                    **INSIGHTS,
                    "metric": {"metricName": "m", "namespace": "n", "period": 300, "stat": "Sum"},
                }
            ],
            "Metric query 'errors' must have exactly one of Metric or Expression",
        ),
        (
            [
                {
                    "id": "m",
                    "metric": {"metricName": "m", "namespace": "n", "period": 90},
                    "returnData": False,
                },
                {"id": "e", "expression": "SUM(METRICS())", "returnData": True},
            ],
            "Period of metric 'm' must be 10, 20, 30 or a multiple of 60",
        ),
    ],
)
def test_put_metric_alarm_refuses_bad_queries(queries, problem):
    assert problem in metric_alarm_api_errors({**QUERY_ALARM, "metricQueries": queries})


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"metricName": None}, "metricName is required for an alarm on a single metric"),
        ({"period": 90}, "Period must be 10, 20, 30 or a multiple of 60"),
        ({"statistic": None}, "Exactly one of Statistic or ExtendedStatistic must be set"),
        ({"extendedStatistic": "p99"}, "Exactly one of Statistic or ExtendedStatistic must be set"),
        ({"alarmDescription": "x" * 1024}, None),
        ({"alarmDescription": "x" * 1025}, "AlarmDescription is longer than 1024 characters"),
    ],
)
def test_put_metric_alarm_judges_a_single_metric_alarm_up_to_its_limits(change, problem):
    assert metric_alarm_api_errors({**SINGLE, **change}) == ([problem] if problem else [])
