"""The alarm builders (components/documents/alarms.py) called directly: every alarm of a
Firehose stream and of a source account x region compared whole, metric, dimensions,
statistic, threshold and description, with the metric names of the AWS documentation:
https://docs.aws.amazon.com/firehose/latest/dev/monitoring-with-cloudwatch-metrics.html
https://docs.aws.amazon.com/AmazonS3/latest/userguide/repl-metrics.html
https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/CloudWatch-Logs-Monitoring-CloudWatch-Metrics.html
test_alarms.py renders the stacks that register them; these run in milliseconds.
"""

from __future__ import annotations

from components.documents import alarms

STREAM = alarms.FirehoseTarget(
    prefix="acme",
    region="eu-west-1",
    stream="acme-org-logs-eu-west-1",
    bucket="acme-org-logs-222222222222-us-east-1",
    log_group="/aws/kinesisfirehose/acme-org-logs",
    log_stream="eu-west-1",
)
SOURCE_TARGET = alarms.SourceTarget(
    prefix="acme",
    region="eu-west-1",
    bucket="acme-logs-333333333333-eu-west-1",
    central_bucket="acme-org-logs-222222222222-us-east-1",
    rule_id="to-archive",
    local_retention_days=30,
    destination_arn="arn:aws:logs:eu-west-1:222222222222:destination:acme-org-logs",
)

FIREHOSE = {
    "freshness": {
        "name": "acme-logging-firehose-eu-west-1-freshness",
        "alarm_description": "org-logging: Firehose stream acme-org-logs-eu-west-1 "
        "(the CloudWatch Logs of eu-west-1, into "
        "s3://acme-org-logs-222222222222-us-east-1) holds a "
        "record older than 900 s (buffer 300 s + margin 600 s): "
        "delivery to S3 is failing or falling behind, and "
        "Firehose drops records after 24 hours. Check the central "
        "bucket policy, the key policy and the Firehose role. "
        "Look at the error log stream "
        "/aws/kinesisfirehose/acme-org-logs > eu-west-1, at "
        "objects under "
        "s3://acme-org-logs-222222222222-us-east-1/FirehoseErrors/eu-west-1/ "
        "and at the stream's monitoring tab (aws firehose "
        "describe-delivery-stream --delivery-stream-name "
        "acme-org-logs-eu-west-1).",
        "namespace": "AWS/Firehose",
        "metric_name": "DeliveryToS3.DataFreshness",
        "dimensions": {"DeliveryStreamName": "acme-org-logs-eu-west-1"},
        "statistic": "Maximum",
        "period": 300,
        "evaluation_periods": 1,
        "comparison_operator": "GreaterThanThreshold",
        "threshold": 900,
        "treat_missing_data": "notBreaching",
    },
    "delivery-failed": {
        "name": "acme-logging-firehose-eu-west-1-delivery-failed",
        "alarm_description": "org-logging: Firehose stream "
        "acme-org-logs-eu-west-1 (the CloudWatch Logs of "
        "eu-west-1, into "
        "s3://acme-org-logs-222222222222-us-east-1) had "
        "failed S3 puts in each of 3 periods of 300 s "
        "(DeliveryToS3.Success below 1): S3 or KMS refuses "
        "its writes. Look at the error log stream "
        "/aws/kinesisfirehose/acme-org-logs > eu-west-1, at "
        "objects under "
        "s3://acme-org-logs-222222222222-us-east-1/FirehoseErrors/eu-west-1/ "
        "and at the stream's monitoring tab (aws firehose "
        "describe-delivery-stream --delivery-stream-name "
        "acme-org-logs-eu-west-1).",
        "namespace": "AWS/Firehose",
        "metric_name": "DeliveryToS3.Success",
        "dimensions": {"DeliveryStreamName": "acme-org-logs-eu-west-1"},
        "statistic": "Average",
        "period": 300,
        "evaluation_periods": 3,
        "comparison_operator": "LessThanThreshold",
        "threshold": 1,
        "treat_missing_data": "notBreaching",
    },
    "throttled": {
        "name": "acme-logging-firehose-eu-west-1-throttled",
        "alarm_description": "org-logging: Firehose stream acme-org-logs-eu-west-1 "
        "(the CloudWatch Logs of eu-west-1, into "
        "s3://acme-org-logs-222222222222-us-east-1) refused "
        "records over its ingestion limits (ThrottledRecords); "
        "CloudWatch Logs retries, then drops them. Compare "
        "IncomingBytes/IncomingRecords with "
        "BytesPerSecondLimit/RecordsPerSecondLimit and ask AWS "
        "for a higher limit.",
        "namespace": "AWS/Firehose",
        "metric_name": "ThrottledRecords",
        "dimensions": {"DeliveryStreamName": "acme-org-logs-eu-west-1"},
        "statistic": "Sum",
        "period": 300,
        "evaluation_periods": 1,
        "comparison_operator": "GreaterThanThreshold",
        "threshold": 0,
        "treat_missing_data": "notBreaching",
    },
    "partitions-exceeded": {
        "name": "acme-logging-firehose-eu-west-1-partitions-exceeded",
        "alarm_description": "org-logging: Firehose stream "
        "acme-org-logs-eu-west-1 (the CloudWatch Logs "
        "of eu-west-1, into "
        "s3://acme-org-logs-222222222222-us-east-1) has "
        "more active partitions (one per sending "
        "account) than its quota: records past it land "
        "unpartitioned under "
        "s3://acme-org-logs-222222222222-us-east-1/FirehoseErrors/eu-west-1/. "
        "Ask AWS for a higher quota and raise "
        "org-logging:firehosePartitionQuota.",
        "namespace": "AWS/Firehose",
        "metric_name": "PartitionCountExceeded",
        "dimensions": {"DeliveryStreamName": "acme-org-logs-eu-west-1"},
        "statistic": "Maximum",
        "period": 300,
        "evaluation_periods": 1,
        "comparison_operator": "GreaterThanOrEqualToThreshold",
        "threshold": 1,
        "treat_missing_data": "notBreaching",
    },
    "kms-errors": {
        "name": "acme-logging-firehose-eu-west-1-kms-errors",
        "alarm_description": "org-logging: Firehose stream acme-org-logs-eu-west-1 "
        "(the CloudWatch Logs of eu-west-1) met KMS errors "
        "(KMSKeyAccessDenied, KMSKeyDisabled, "
        "KMSKeyInvalidState, KMSKeyNotFound): the key is "
        "disabled, pending deletion or its policy no longer lets "
        "Firehose use it. Check the central key's state and "
        "policy (aws kms describe-key --key-id "
        "alias/acme-org-logs). Look at the error log stream "
        "/aws/kinesisfirehose/acme-org-logs > eu-west-1, at "
        "objects under "
        "s3://acme-org-logs-222222222222-us-east-1/FirehoseErrors/eu-west-1/ "
        "and at the stream's monitoring tab (aws firehose "
        "describe-delivery-stream --delivery-stream-name "
        "acme-org-logs-eu-west-1).",
        "metric_queries": [
            {
                "id": "kms0",
                "metric": {
                    "namespace": "AWS/Firehose",
                    "metric_name": "KMSKeyAccessDenied",
                    "dimensions": {"DeliveryStreamName": "acme-org-logs-eu-west-1"},
                    "period": 300,
                    "stat": "Sum",
                },
                "return_data": False,
            },
            {
                "id": "kms1",
                "metric": {
                    "namespace": "AWS/Firehose",
                    "metric_name": "KMSKeyDisabled",
                    "dimensions": {"DeliveryStreamName": "acme-org-logs-eu-west-1"},
                    "period": 300,
                    "stat": "Sum",
                },
                "return_data": False,
            },
            {
                "id": "kms2",
                "metric": {
                    "namespace": "AWS/Firehose",
                    "metric_name": "KMSKeyInvalidState",
                    "dimensions": {"DeliveryStreamName": "acme-org-logs-eu-west-1"},
                    "period": 300,
                    "stat": "Sum",
                },
                "return_data": False,
            },
            {
                "id": "kms3",
                "metric": {
                    "namespace": "AWS/Firehose",
                    "metric_name": "KMSKeyNotFound",
                    "dimensions": {"DeliveryStreamName": "acme-org-logs-eu-west-1"},
                    "period": 300,
                    "stat": "Sum",
                },
                "return_data": False,
            },
            {
                "id": "kmserrors",
                "expression": "SUM(METRICS())",
                "label": "KMS errors",
                "return_data": True,
            },
        ],
        "evaluation_periods": 1,
        "comparison_operator": "GreaterThanThreshold",
        "threshold": 0,
        "treat_missing_data": "notBreaching",
    },
}


SOURCE = {
    "replication-failed": {
        "name": "acme-logging-replication-failed",
        "alarm_description": "org-logging: objects of "
        "acme-logs-333333333333-eu-west-1 failed to "
        "replicate to "
        "acme-org-logs-222222222222-us-east-1; they "
        "expire locally after 30 days. Check the "
        "replication role's trust and policy, the "
        "central bucket policy and the replication "
        "configuration (aws s3api "
        "get-bucket-replication).",
        "namespace": "AWS/S3",
        "metric_name": "OperationsFailedReplication",
        "dimensions": {
            "SourceBucket": "acme-logs-333333333333-eu-west-1",
            "DestinationBucket": "acme-org-logs-222222222222-us-east-1",
            "RuleId": "to-archive",
        },
        "statistic": "Sum",
        "period": 300,
        "evaluation_periods": 1,
        "comparison_operator": "GreaterThanThreshold",
        "threshold": 0,
        "treat_missing_data": "notBreaching",
    },
    "replication-latency": {
        "name": "acme-logging-replication-latency",
        "alarm_description": "org-logging: objects of "
        "acme-logs-333333333333-eu-west-1 took more "
        "than 900 s to replicate to "
        "acme-org-logs-222222222222-us-east-1 "
        "(ReplicationLatency, the "
        "org-logging:alarmReplicationLatencySeconds "
        "SLA). Check the OperationsPendingReplication "
        "and BytesPendingReplication metrics, S3 "
        "throttling on the central bucket and the "
        "replication configuration (aws s3api "
        "get-bucket-replication).",
        "namespace": "AWS/S3",
        "metric_name": "ReplicationLatency",
        "dimensions": {
            "SourceBucket": "acme-logs-333333333333-eu-west-1",
            "DestinationBucket": "acme-org-logs-222222222222-us-east-1",
            "RuleId": "to-archive",
        },
        "statistic": "Maximum",
        "period": 300,
        "evaluation_periods": 1,
        "comparison_operator": "GreaterThanThreshold",
        "threshold": 900,
        "treat_missing_data": "notBreaching",
    },
    "cwl-delivery-errors": {
        "name": "acme-logging-cwl-delivery-errors",
        "alarm_description": "org-logging: more than 10 log events of this "
        "account in eu-west-1 failed delivery to "
        "subscription destinations in 300 s (AWS/Logs "
        "DeliveryErrors, summed over all log groups). "
        "Ours is "
        "arn:aws:logs:eu-west-1:222222222222:destination:acme-org-logs: "
        "check the account policy (aws logs "
        "describe-account-policies --policy-type "
        "SUBSCRIPTION_FILTER_POLICY), the subscription "
        "role, the destination policy and the Firehose "
        "alarms of the log archive. To see which log "
        "group and filter: the Metrics Insights query "
        "SELECT SUM(DeliveryErrors) FROM "
        'SCHEMA("AWS/Logs", DestinationType, '
        "FilterName, LogGroupName) GROUP BY "
        "LogGroupName, FilterName.",
        "metric_queries": [
            {
                "id": "errors",
                "expression": "SELECT SUM(DeliveryErrors) FROM "
                'SCHEMA("AWS/Logs", '
                "DestinationType, FilterName, "
                "LogGroupName)",
                "period": 300,
                "label": "DeliveryErrors (all log groups)",
                "return_data": True,
            }
        ],
        "evaluation_periods": 1,
        "comparison_operator": "GreaterThanThreshold",
        "threshold": 10,
        "treat_missing_data": "notBreaching",
    },
    "cwl-delivery-throttling": {
        "name": "acme-logging-cwl-delivery-throttling",
        "alarm_description": "org-logging: more than 500 log events of "
        "this account in eu-west-1 were throttled "
        "on their way to subscription destinations "
        "in 300 s (AWS/Logs DeliveryThrottling, "
        "summed over all log groups). Ours is "
        "arn:aws:logs:eu-west-1:222222222222:destination:acme-org-logs: "
        "check the account policy (aws logs "
        "describe-account-policies --policy-type "
        "SUBSCRIPTION_FILTER_POLICY), the "
        "subscription role, the destination policy "
        "and the Firehose alarms of the log "
        "archive. To see which log group and "
        "filter: the Metrics Insights query SELECT "
        "SUM(DeliveryThrottling) FROM "
        'SCHEMA("AWS/Logs", DestinationType, '
        "FilterName, LogGroupName) GROUP BY "
        "LogGroupName, FilterName.",
        "metric_queries": [
            {
                "id": "throttled",
                "expression": "SELECT "
                "SUM(DeliveryThrottling) FROM "
                'SCHEMA("AWS/Logs", '
                "DestinationType, FilterName, "
                "LogGroupName)",
                "period": 300,
                "label": "DeliveryThrottling (all log groups)",
                "return_data": True,
            }
        ],
        "evaluation_periods": 1,
        "comparison_operator": "GreaterThanThreshold",
        "threshold": 500,
        "treat_missing_data": "notBreaching",
    },
}


def test_a_streams_alarms_watch_freshness_success_throttling_partitions_and_kms():
    assert (
        alarms.firehose_alarms(STREAM, buffer_seconds=300, freshness_margin_seconds=600) == FIREHOSE
    )


def test_a_source_watches_failed_and_late_replication_and_its_subscription():
    assert alarms.source_alarms(SOURCE_TARGET, alarms.SourceThresholds(900, 10, 500)) == SOURCE


def test_the_freshness_threshold_is_the_buffer_plus_the_margin():
    assert alarms.freshness_threshold(300, 600) == 900
    assert alarms.freshness_threshold(60, 0) == 60


def test_the_subscription_sum_is_a_metrics_insights_query_over_every_log_group():
    # https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Create_Metrics_Insights_Alarm.html
    assert alarms.metrics_insights_sum("DeliveryErrors") == (
        'SELECT SUM(DeliveryErrors) FROM SCHEMA("AWS/Logs", DestinationType, FilterName, '
        "LogGroupName)"
    )
