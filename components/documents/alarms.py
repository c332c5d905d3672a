"""Alarms: what each CloudWatch alarm of org-logging watches, when it fires, and what its
description tells the person it wakes: what broke and where to look (README, "Is it
working?" -> "Alarms").

Pure functions returning `aws.cloudwatch.MetricAlarm` arguments (snake_case, without the
Pulumi-only `region`); `components.alarms` registers them. Every alarm is named by
`components.naming` under the protected prefix, so the protect-logging SCP guards it and the
detection rules forward its state changes to the central alert topic.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from components import naming

Alarm = dict[str, Any]

# Every alarm evaluates 5-minute periods: Firehose and S3 replication publish at least that often.
PERIOD_SECONDS = 300

# ---- Firehose (the log archive, one stream per enrolled region) -----------------------------
# Metric names and the DeliveryStreamName dimension, namespace AWS/Firehose:
# https://docs.aws.amazon.com/firehose/latest/dev/monitoring-with-cloudwatch-metrics.html
FIREHOSE_NAMESPACE = "AWS/Firehose"
FIREHOSE_DIMENSION = "DeliveryStreamName"
DATA_FRESHNESS = "DeliveryToS3.DataFreshness"  # age (s) of the oldest record not yet in S3
DELIVERY_SUCCESS = "DeliveryToS3.Success"  # successful S3 puts / all S3 puts
THROTTLED_RECORDS = "ThrottledRecords"  # records refused: the stream's ingestion limits
# Dynamic partitioning: 1 when the active-partition quota is exceeded, else 0:
# https://docs.aws.amazon.com/firehose/latest/dev/dynamic-partitioning.html
PARTITION_COUNT_EXCEEDED = "PartitionCountExceeded"
# The SSE metrics: KMS exceptions Firehose meets for the stream (same page, "Server-Side
# Encryption (SSE) CloudWatch Metrics").
KMS_ERROR_METRICS = ("KMSKeyAccessDenied", "KMSKeyDisabled", "KMSKeyInvalidState", "KMSKeyNotFound")
# Firehose retries an S3 delivery for up to 24 hours, then discards the data:
# https://docs.aws.amazon.com/firehose/latest/dev/basic-deliver.html#retry
FIREHOSE_MAX_RECORD_AGE_SECONDS = 86_400
# Sustained failure, not a retried blip: Firehose retries and small dips in Success lose nothing.
SUCCESS_EVALUATION_PERIODS = 3

# ---- S3 replication (every source account x region) -----------------------------------------
# OperationsFailedReplication and ReplicationLatency, dimensions SourceBucket,
# DestinationBucket, RuleId; published when the rule's replication metrics are on:
# https://docs.aws.amazon.com/AmazonS3/latest/userguide/repl-metrics.html
S3_NAMESPACE = "AWS/S3"
FAILED_REPLICATION = "OperationsFailedReplication"
REPLICATION_LATENCY = "ReplicationLatency"

# ---- CloudWatch Logs subscription (every source account x region) ---------------------------
# DeliveryErrors and DeliveryThrottling are published per subscribed log group, with the
# dimensions LogGroupName, DestinationType and FilterName (AWS/Logs):
# https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/CloudWatch-Logs-Monitoring-CloudWatch-Metrics.html
# An account-level policy subscribes every log group, so one alarm needs the sum over all of
# them: a Metrics Insights query (a plain alarm watches one dimension set, one log group):
# https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Create_Metrics_Insights_Alarm.html
LOGS_NAMESPACE = "AWS/Logs"
DELIVERY_ERRORS = "DeliveryErrors"
DELIVERY_THROTTLING = "DeliveryThrottling"
LOGS_SUBSCRIPTION_DIMENSIONS = ("DestinationType", "FilterName", "LogGroupName")


@dataclass(frozen=True)
class SubscriptionSignal:
    metric: str
    signal: str  # the name's suffix: naming.subscription_alarm_name(prefix, signal)
    query_id: str
    what: str


SUBSCRIPTION_SIGNALS = (
    SubscriptionSignal(DELIVERY_ERRORS, "delivery-errors", "errors", "failed delivery to"),
    SubscriptionSignal(
        DELIVERY_THROTTLING, "delivery-throttling", "throttled", "were throttled on their way to"
    ),
)


def metrics_insights_sum(metric: str) -> str:
    """The sum of `metric` over every log group and subscription of the account x region."""
    schema = ", ".join(LOGS_SUBSCRIPTION_DIMENSIONS)
    return f'SELECT SUM({metric}) FROM SCHEMA("{LOGS_NAMESPACE}", {schema})'


def _metric_alarm(
    name: str,
    description: str,
    namespace: str,
    metric: str,
    dimensions: dict[str, str],
    *,
    statistic: str,
    comparison: str,
    threshold: float,
    evaluation_periods: int = 1,
) -> Alarm:
    """One metric, one statistic; no data (no traffic) is not a failure."""
    return {
        "name": name,
        "alarm_description": description,
        "namespace": namespace,
        "metric_name": metric,
        "dimensions": dimensions,
        "statistic": statistic,
        "period": PERIOD_SECONDS,
        "evaluation_periods": evaluation_periods,
        "comparison_operator": comparison,
        "threshold": threshold,
        "treat_missing_data": "notBreaching",
    }


@dataclass(frozen=True)
class FirehoseTarget:
    """Where a region's stream writes, and where it reports what it could not write."""

    prefix: str
    region: str  # the region whose CloudWatch Logs the stream carries
    stream: str
    bucket: str
    log_group: str
    log_stream: str

    def name(self, signal: str) -> str:
        return naming.firehose_alarm_name(self.prefix, self.region, signal)

    @property
    def look_at(self) -> str:
        return (
            f"Look at the error log stream {self.log_group} > {self.log_stream}, at objects "
            f"under s3://{self.bucket}/{naming.FIREHOSE_ERRORS}/{self.region}/ and at the "
            f"stream's monitoring tab (aws firehose describe-delivery-stream "
            f"--delivery-stream-name {self.stream})."
        )


def freshness_threshold(buffer_seconds: int, margin_seconds: int) -> int:
    """A record older than the buffer interval plus the margin is late, not buffered."""
    return buffer_seconds + margin_seconds


def firehose_alarms(
    target: FirehoseTarget, *, buffer_seconds: int, freshness_margin_seconds: int
) -> dict[str, Alarm]:
    """The alarms of one region's stream, by signal (the name's suffix)."""
    t, dims = target, {FIREHOSE_DIMENSION: target.stream}
    carries = f"{t.stream} (the CloudWatch Logs of {t.region}, into s3://{t.bucket})"
    late = freshness_threshold(buffer_seconds, freshness_margin_seconds)
    alarms = {
        "freshness": _metric_alarm(
            t.name("freshness"),
            f"org-logging: Firehose stream {carries} holds a record older than {late} s "
            f"(buffer {buffer_seconds} s + margin {freshness_margin_seconds} s): delivery to "
            "S3 is failing or falling behind, and Firehose drops records after 24 hours. "
            f"Check the central bucket policy, the key policy and the Firehose role. {t.look_at}",
            FIREHOSE_NAMESPACE,
            DATA_FRESHNESS,
            dims,
            statistic="Maximum",
            comparison="GreaterThanThreshold",
            threshold=late,
        ),
        "delivery-failed": _metric_alarm(
            t.name("delivery-failed"),
            f"org-logging: Firehose stream {carries} had failed S3 puts in each of "
            f"{SUCCESS_EVALUATION_PERIODS} periods of {PERIOD_SECONDS} s "
            f"({DELIVERY_SUCCESS} below 1): S3 or KMS refuses its writes. {t.look_at}",
            FIREHOSE_NAMESPACE,
            DELIVERY_SUCCESS,
            dims,
            statistic="Average",
            comparison="LessThanThreshold",
            threshold=1,
            evaluation_periods=SUCCESS_EVALUATION_PERIODS,
        ),
        "throttled": _metric_alarm(
            t.name("throttled"),
            f"org-logging: Firehose stream {carries} refused records over its ingestion "
            "limits (ThrottledRecords); CloudWatch Logs retries, then drops them. Compare "
            "IncomingBytes/IncomingRecords with BytesPerSecondLimit/RecordsPerSecondLimit "
            "and ask AWS for a higher limit.",
            FIREHOSE_NAMESPACE,
            THROTTLED_RECORDS,
            dims,
            statistic="Sum",
            comparison="GreaterThanThreshold",
            threshold=0,
        ),
        "partitions-exceeded": _metric_alarm(
            t.name("partitions-exceeded"),
            f"org-logging: Firehose stream {carries} has more active partitions (one per "
            "sending account) than its quota: records past it land unpartitioned under "
            f"s3://{t.bucket}/{naming.FIREHOSE_ERRORS}/{t.region}/. "
            "Ask AWS for a higher quota and raise org-logging:firehosePartitionQuota.",
            FIREHOSE_NAMESPACE,
            PARTITION_COUNT_EXCEEDED,
            dims,
            statistic="Maximum",
            comparison="GreaterThanOrEqualToThreshold",
            threshold=1,
        ),
        "kms-errors": _kms_alarm(t),
    }
    return alarms


def _kms_alarm(t: FirehoseTarget) -> Alarm:
    """The four KMS error counts summed by metric math: one alarm, whichever error it is."""
    metrics = [
        {
            "id": f"kms{index}",
            "metric": {
                "namespace": FIREHOSE_NAMESPACE,
                "metric_name": metric,
                "dimensions": {FIREHOSE_DIMENSION: t.stream},
                "period": PERIOD_SECONDS,
                "stat": "Sum",
            },
            "return_data": False,
        }
        for index, metric in enumerate(KMS_ERROR_METRICS)
    ]
    total = {
        "id": "kmserrors",
        "expression": "SUM(METRICS())",
        "label": "KMS errors",
        "return_data": True,
    }
    return {
        "name": t.name("kms-errors"),
        "alarm_description": (
            f"org-logging: Firehose stream {t.stream} (the CloudWatch Logs of {t.region}) "
            f"met KMS errors ({', '.join(KMS_ERROR_METRICS)}): the key is disabled, pending "
            "deletion or its policy no longer lets Firehose use it. Check the central key's "
            f"state and policy (aws kms describe-key --key-id {naming.key_alias(t.prefix)}). "
            f"{t.look_at}"
        ),
        "metric_queries": [*metrics, total],
        "evaluation_periods": 1,
        "comparison_operator": "GreaterThanThreshold",
        "threshold": 0,
        "treat_missing_data": "notBreaching",
    }


# ---- source account x region ---------------------------------------------------------------


@dataclass(frozen=True)
class SourceTarget:
    """What a source stack's alarms watch."""

    prefix: str
    region: str
    bucket: str
    central_bucket: str
    rule_id: str
    local_retention_days: int
    destination_arn: str


@dataclass(frozen=True)
class SourceThresholds:
    replication_latency_seconds: int
    delivery_error_events: int
    delivery_throttled_events: int


def source_alarms(t: SourceTarget, thresholds: SourceThresholds) -> dict[str, Alarm]:
    """The alarms of one source account x region, by logical suffix."""
    replication = {
        "SourceBucket": t.bucket,
        "DestinationBucket": t.central_bucket,
        "RuleId": t.rule_id,
    }
    replication_config = "aws s3api get-bucket-replication"
    alarms = {
        "replication-failed": _metric_alarm(
            naming.replication_alarm_name(t.prefix),
            f"org-logging: objects of {t.bucket} failed to replicate to {t.central_bucket}; "
            f"they expire locally after {t.local_retention_days} days. Check the replication "
            "role's trust and policy, the central bucket policy and the replication "
            f"configuration ({replication_config}).",
            S3_NAMESPACE,
            FAILED_REPLICATION,
            replication,
            statistic="Sum",
            comparison="GreaterThanThreshold",
            threshold=0,
        ),
        "replication-latency": _metric_alarm(
            naming.replication_latency_alarm_name(t.prefix),
            f"org-logging: objects of {t.bucket} took more than "
            f"{thresholds.replication_latency_seconds} s to replicate to {t.central_bucket} "
            "(ReplicationLatency, the org-logging:alarmReplicationLatencySeconds SLA). Check "
            "the OperationsPendingReplication and BytesPendingReplication metrics, S3 "
            f"throttling on the central bucket and the replication configuration "
            f"({replication_config}).",
            S3_NAMESPACE,
            REPLICATION_LATENCY,
            replication,
            statistic="Maximum",
            comparison="GreaterThanThreshold",
            threshold=thresholds.replication_latency_seconds,
        ),
    }
    limits = {
        DELIVERY_ERRORS: thresholds.delivery_error_events,
        DELIVERY_THROTTLING: thresholds.delivery_throttled_events,
    }
    for signal in SUBSCRIPTION_SIGNALS:
        alarms[f"cwl-{signal.signal}"] = _subscription_alarm(t, signal, limits[signal.metric])
    return alarms


def _subscription_alarm(t: SourceTarget, signal: SubscriptionSignal, limit: int) -> Alarm:
    """The sum over every subscribed log group. AWS does not document the FilterName an
    account-level policy reports, so the sum includes teams' own subscription filters too."""
    return {
        "name": naming.subscription_alarm_name(t.prefix, signal.signal),
        "alarm_description": (
            f"org-logging: more than {limit} log events of this account in {t.region} "
            f"{signal.what} subscription destinations in {PERIOD_SECONDS} s "
            f"({LOGS_NAMESPACE} {signal.metric}, summed over all log groups). Ours is "
            f"{t.destination_arn}: check the account policy "
            "(aws logs describe-account-policies --policy-type SUBSCRIPTION_FILTER_POLICY), "
            "the subscription role, the destination policy and the Firehose alarms of the log "
            "archive. To see which log group and filter: the Metrics Insights query "
            f"{metrics_insights_sum(signal.metric)} GROUP BY LogGroupName, FilterName."
        ),
        "metric_queries": [
            {
                "id": signal.query_id,
                "expression": metrics_insights_sum(signal.metric),
                "period": PERIOD_SECONDS,
                "label": f"{signal.metric} (all log groups)",
                "return_data": True,
            }
        ],
        "evaluation_periods": 1,
        "comparison_operator": "GreaterThanThreshold",
        "threshold": limit,
        "treat_missing_data": "notBreaching",
    }
