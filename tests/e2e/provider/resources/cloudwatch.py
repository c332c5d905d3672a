"""CloudWatch metric alarms: in memory (moto's PutMetricAlarm checks none of this), but refused
where the real provider (Check) or PutMetricAlarm (create) refuses them.

The provider's schema makes `metricQueries` conflict with the single-metric fields; the API
wants exactly one query that returns data, each query either a metric or an expression, and a
period on a Metrics Insights query (the single-metric form needs name, namespace, period and
one statistic):
https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html
https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_MetricDataQuery.html
"""

from __future__ import annotations

from typing import Any

from .base import ApiError, Ctx, Handler

METRIC_ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
# The single-metric fields the provider declares ConflictsWith metric_query.
SINGLE_METRIC_FIELDS = (
    "metricName",
    "namespace",
    "statistic",
    "extendedStatistic",
    "period",
    "dimensions",
    "unit",
)


def metric_alarm_conflicts(inputs: dict[str, Any]) -> list[tuple[str, str]]:
    """(property, reason) the provider's Check reports."""
    if not inputs.get("metricQueries"):
        return []
    return [
        ("metricQueries", f'"metric_query": conflicts with {field}')
        for field in SINGLE_METRIC_FIELDS
        if inputs.get(field) not in (None, "", {})
    ]


def _period_ok(period: Any) -> bool:
    return isinstance(period, int | float) and (period in (10, 20, 30) or period % 60 == 0)


def _query_problems(query: dict[str, Any]) -> list[str]:
    has_metric, expression = bool(query.get("metric")), query.get("expression")
    if has_metric == bool(expression):
        return [f"Metric query {query.get('id')!r} must have exactly one of Metric or Expression"]
    insights = bool(expression) and str(expression).lstrip().upper().startswith("SELECT")
    if insights and not _period_ok(query.get("period")):
        return [f"Period must be set on the Metrics Insights query {query.get('id')!r}"]
    if has_metric and not _period_ok(query["metric"].get("period")):
        return [f"Period of metric {query.get('id')!r} must be 10, 20, 30 or a multiple of 60"]
    return []


MAX_DESCRIPTION_CHARS = 1024  # AlarmDescription: 0-1024 characters


def metric_alarm_api_errors(inputs: dict[str, Any]) -> list[str]:
    """What PutMetricAlarm answers with a ValidationError (empty: it accepts the alarm)."""
    problems = []
    if len(inputs.get("alarmDescription") or "") > MAX_DESCRIPTION_CHARS:
        problems.append(f"AlarmDescription is longer than {MAX_DESCRIPTION_CHARS} characters")
    return problems + _metric_problems(inputs)


def _metric_problems(inputs: dict[str, Any]) -> list[str]:
    queries = inputs.get("metricQueries") or []
    if queries:
        problems = [p for query in queries for p in _query_problems(query)]
        # ReturnData defaults to true: every other query must say false.
        returning = [q for q in queries if q.get("returnData", True) is not False]
        if len(returning) != 1:
            problems.append(
                f"Exactly one element of the metrics list should return data; {len(returning)} do"
            )
        return problems
    problems = [
        f"{field} is required for an alarm on a single metric"
        for field in ("metricName", "namespace")
        if not inputs.get(field)
    ]
    if not _period_ok(inputs.get("period")):
        problems.append("Period must be 10, 20, 30 or a multiple of 60")
    if bool(inputs.get("statistic")) == bool(inputs.get("extendedStatistic")):
        problems.append("Exactly one of Statistic or ExtendedStatistic must be set")
    return problems


class MetricAlarm(Handler):
    """In memory, after the checks PutMetricAlarm makes."""

    # Deployed with the emulator (the server only creates `emulated` types there), so the
    # checks run; nothing is sent to moto, whose PutMetricAlarm checks none of this.
    emulated = True

    def create(self, ctx: Ctx) -> tuple[str, dict[str, Any]]:
        problems = metric_alarm_api_errors(ctx.inputs)
        if problems:
            raise ApiError("ValidationError", "; ".join(problems), "PutMetricAlarm")
        return self.describe(ctx)

    def update(self, ctx: Ctx, resource_id: str, olds: dict[str, Any]) -> dict[str, Any]:
        problems = metric_alarm_api_errors(ctx.inputs)
        if problems:
            raise ApiError("ValidationError", "; ".join(problems), "PutMetricAlarm")
        return {}
