"""Alarms (issue 13, section 1): a mocked render of each role shows its alarms, their metrics,
dimensions and thresholds, and how their state changes reach the central alert topic. Every
alarm is asserted whole, with literals; only the descriptions are checked for what they say."""

from __future__ import annotations

import json

import pytest
from conftest import LOG_ARCHIVE, MEMBER, policy_doc, render_config, shared, stack_config

ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
RULE = "aws:cloudwatch/eventRule:EventRule"
TARGET = "aws:cloudwatch/eventTarget:EventTarget"
CENTRAL = f"acme-org-logs-{LOG_ARCHIVE}-us-east-1"
BUCKET = f"acme-logs-{MEMBER}-eu-west-1"
CENTRAL_BUS = f"arn:aws:events:us-east-1:{LOG_ARCHIVE}:event-bus/acme-org-logging-alerts"
TOPIC = f"arn:aws:sns:us-east-1:{LOG_ARCHIVE}:acme-org-logging-alerts"
STATE_CHANGE = "CloudWatch Alarm State Change"


def archive(**overrides):
    return render_config(stack_config("log-archive", **overrides), "log-archive")


def source(**overrides):
    return render_config(stack_config("source", aws_region="eu-west-1", **overrides), "source")


@pytest.fixture(scope=shared("module"))
def log_archive_alarms():
    return archive()


@pytest.fixture(scope=shared("module"))
def member():
    return source()


def alarm(rendered, logical_name: str) -> dict:
    return dict(rendered.one(ALARM, logical_name).inputs)


def without_description(inputs: dict) -> dict:
    return {k: v for k, v in inputs.items() if k != "alarmDescription"}


# ---- log archive: one set per region's stream ------------------------------------------------


def firehose_metric(metric: str, statistic: str, stream: str = "acme-org-logs-eu-west-1") -> dict:
    return {
        "namespace": "AWS/Firehose",
        "metricName": metric,
        "dimensions": {"DeliveryStreamName": stream},
        "statistic": statistic,
        "period": 300,
        "treatMissingData": "notBreaching",
        "region": "us-east-1",  # every stream lives in the home region
    }


def test_every_regions_stream_has_its_five_alarms(log_archive_alarms):
    names = sorted(a.inputs["name"] for a in log_archive_alarms.of_type(ALARM))
    assert names == sorted(
        f"acme-logging-firehose-{region}-{signal}"
        for region in ("us-east-1", "eu-west-1", "ap-southeast-2")
        for signal in (
            "freshness",
            "delivery-failed",
            "throttled",
            "partitions-exceeded",
            "kms-errors",
        )
    )


def test_data_freshness_alarms_above_the_buffer_interval_plus_the_margin(log_archive_alarms):
    freshness = alarm(log_archive_alarms, "log-archive-firehose-eu-west-1-freshness")
    assert without_description(freshness) == {
        "name": "acme-logging-firehose-eu-west-1-freshness",
        **firehose_metric("DeliveryToS3.DataFreshness", "Maximum"),
        "evaluationPeriods": 1,
        "comparisonOperator": "GreaterThanThreshold",
        "threshold": 900,  # 300 s buffer + 600 s margin
    }
    description = freshness["alarmDescription"]
    assert "older than 900 s (buffer 300 s + margin 600 s)" in description
    assert "/aws/kinesisfirehose/acme-org-logs > DestinationDelivery-eu-west-1" in description
    assert f"s3://{CENTRAL}/FirehoseErrors/eu-west-1/" in description


def test_the_freshness_margin_is_a_setting():
    freshness = alarm(
        archive(alarmFreshnessMarginSeconds=300), "log-archive-firehose-eu-west-1-freshness"
    )
    assert freshness["threshold"] == 600
    assert "(buffer 300 s + margin 300 s)" in freshness["alarmDescription"]


def test_delivery_success_below_one_for_three_periods(log_archive_alarms):
    failed = alarm(log_archive_alarms, "log-archive-firehose-eu-west-1-delivery-failed")
    assert without_description(failed) == {
        "name": "acme-logging-firehose-eu-west-1-delivery-failed",
        **firehose_metric("DeliveryToS3.Success", "Average"),
        "evaluationPeriods": 3,
        "comparisonOperator": "LessThanThreshold",
        "threshold": 1,
    }
    assert "S3 or KMS refuses its writes" in failed["alarmDescription"]


def test_any_throttled_record(log_archive_alarms):
    throttled = alarm(log_archive_alarms, "log-archive-firehose-eu-west-1-throttled")
    assert without_description(throttled) == {
        "name": "acme-logging-firehose-eu-west-1-throttled",
        **firehose_metric("ThrottledRecords", "Sum"),
        "evaluationPeriods": 1,
        "comparisonOperator": "GreaterThanThreshold",
        "threshold": 0,
    }
    assert "BytesPerSecondLimit" in throttled["alarmDescription"]


def test_the_partition_quota_exceeded(log_archive_alarms):
    exceeded = alarm(log_archive_alarms, "log-archive-firehose-eu-west-1-partitions-exceeded")
    assert without_description(exceeded) == {
        "name": "acme-logging-firehose-eu-west-1-partitions-exceeded",
        **firehose_metric("PartitionCountExceeded", "Maximum"),
        "evaluationPeriods": 1,
        "comparisonOperator": "GreaterThanOrEqualToThreshold",
        "threshold": 1,
    }
    assert "org-logging:firehosePartitionQuota" in exceeded["alarmDescription"]


def test_the_four_kms_error_metrics_summed_in_one_alarm(log_archive_alarms):
    kms = alarm(log_archive_alarms, "log-archive-firehose-eu-west-1-kms-errors")

    def metric(index: int, name: str) -> dict:
        return {
            "id": f"kms{index}",
            "metric": {
                "namespace": "AWS/Firehose",
                "metricName": name,
                "dimensions": {"DeliveryStreamName": "acme-org-logs-eu-west-1"},
                "period": 300,
                "stat": "Sum",
            },
            "returnData": False,
        }

    assert without_description(kms) == {
        "name": "acme-logging-firehose-eu-west-1-kms-errors",
        "metricQueries": [
            metric(0, "KMSKeyAccessDenied"),
            metric(1, "KMSKeyDisabled"),
            metric(2, "KMSKeyInvalidState"),
            metric(3, "KMSKeyNotFound"),
            {
                "id": "kmserrors",
                "expression": "SUM(METRICS())",
                "label": "KMS errors",
                "returnData": True,
            },
        ],
        "evaluationPeriods": 1,
        "comparisonOperator": "GreaterThanThreshold",
        "threshold": 0,
        "treatMissingData": "notBreaching",
        "region": "us-east-1",
    }
    assert "aws kms describe-key --key-id alias/acme-org-logs" in kms["alarmDescription"]


def test_the_central_bucket_sends_its_object_events_to_eventbridge(log_archive_alarms):
    notification = log_archive_alarms.one("aws:s3/bucketNotification:BucketNotification")
    assert notification.inputs == {"bucket": CENTRAL, "eventbridge": True, "region": "us-east-1"}
    # A bucket part like the others: the bucket policy waits for it.
    policy = log_archive_alarms.one(
        "aws:s3/bucketPolicy:BucketPolicy", "log-archive-central-policy"
    )
    assert notification.urn in policy.dependencies


def test_archive_alarms_and_firehose_error_objects_go_to_the_central_bus(log_archive_alarms):
    rule = log_archive_alarms.one(RULE, "log-archive-alarms-detection")
    assert (rule.inputs["name"], rule.inputs["region"]) == (
        "acme-logging-archive-alarms",
        "us-east-1",
    )
    assert "eventBusName" not in rule.inputs  # the default bus, where alarms and S3 events land
    names = sorted(a.inputs["name"] for a in log_archive_alarms.of_type(ALARM))
    assert json.loads(rule.inputs["eventPattern"]) == {
        "$or": [
            {
                "source": ["aws.cloudwatch"],
                "detail-type": [STATE_CHANGE],
                "detail": {"alarmName": names},
            },
            {
                "source": ["aws.s3"],
                "detail-type": ["Object Created"],
                "detail": {
                    "bucket": {"name": [CENTRAL]},
                    "object": {"key": [{"prefix": "FirehoseErrors/"}]},
                },
            },
        ]
    }
    target = log_archive_alarms.one(TARGET, "log-archive-alarms-detection-to-central-bus").inputs
    forwarder = f"arn:aws:iam::{LOG_ARCHIVE}:role/acme-logging-alert-forwarder-archive"
    assert (target["arn"], target["roleArn"]) == (CENTRAL_BUS, forwarder)
    role = log_archive_alarms.one("aws:iam/role:Role", "log-archive-alarms-alert-forwarder-role")
    assert policy_doc(role, "assumeRolePolicy") == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "TrustedService",
                "Effect": "Allow",
                "Principal": {"Service": "events.amazonaws.com"},
                "Action": "sts:AssumeRole",
                "Condition": {
                    "StringEquals": {"aws:SourceAccount": LOG_ARCHIVE},
                    "ArnEquals": {
                        "aws:SourceArn": f"arn:aws:events:us-east-1:{LOG_ARCHIVE}:rule/"
                        "acme-logging-archive-alarms"
                    },
                },
            }
        ],
    }


def test_the_central_rule_publishes_alarms_and_firehose_errors_to_the_topic(log_archive_alarms):
    rule = log_archive_alarms.one(RULE, "log-archive-alert-rule")
    alternatives = json.loads(rule.inputs["eventPattern"])["$or"]
    assert {
        "source": ["aws.cloudwatch"],
        "detail-type": [STATE_CHANGE],
        "detail": {"alarmName": [{"prefix": "acme-logging-"}]},
    } in alternatives
    assert {
        "source": ["aws.s3"],
        "detail-type": ["Object Created"],
        "detail": {"object": {"key": [{"prefix": "FirehoseErrors/"}]}},
    } in alternatives
    target = log_archive_alarms.one(TARGET, "log-archive-alert-target").inputs
    assert (target["eventBusName"], target["arn"]) == ("acme-org-logging-alerts", TOPIC)


# ---- source account x region ------------------------------------------------------------------


REPLICATION = {"SourceBucket": BUCKET, "DestinationBucket": CENTRAL, "RuleId": "org-logs"}


def test_replication_latency_above_the_sla(member):
    latency = alarm(member, "source-eu-west-1-replication-latency")
    assert without_description(latency) == {
        "name": "acme-logging-replication-latency",
        "namespace": "AWS/S3",
        "metricName": "ReplicationLatency",
        "dimensions": REPLICATION,
        "statistic": "Maximum",
        "period": 300,
        "evaluationPeriods": 1,
        "comparisonOperator": "GreaterThanThreshold",
        "threshold": 900,
        "treatMissingData": "notBreaching",
        "region": "eu-west-1",
    }
    assert "more than 900 s to replicate" in latency["alarmDescription"]
    assert (
        alarm(source(alarmReplicationLatencySeconds=3600), "source-eu-west-1-replication-latency")[
            "threshold"
        ]
        == 3600
    )


def subscription_alarm(name: str, query_id: str, metric: str, threshold: int) -> dict:
    return {
        "name": name,
        "metricQueries": [
            {
                "id": query_id,
                "expression": f'SELECT SUM({metric}) FROM SCHEMA("AWS/Logs", DestinationType, '
                "FilterName, LogGroupName)",
                "period": 300,
                "label": f"{metric} (all log groups)",
                "returnData": True,
            }
        ],
        "evaluationPeriods": 1,
        "comparisonOperator": "GreaterThanThreshold",
        "threshold": threshold,
        "treatMissingData": "notBreaching",
        "region": "eu-west-1",
    }


def test_subscription_delivery_errors_summed_over_every_log_group(member):
    errors = alarm(member, "source-eu-west-1-cwl-delivery-errors")
    assert without_description(errors) == subscription_alarm(
        "acme-logging-cwl-delivery-errors", "errors", "DeliveryErrors", 0
    )
    description = errors["alarmDescription"]
    assert f"arn:aws:logs:eu-west-1:{LOG_ARCHIVE}:destination:acme-org-logs" in description
    assert "GROUP BY LogGroupName, FilterName" in description


def test_subscription_delivery_throttling_summed_over_every_log_group(member):
    throttled = alarm(member, "source-eu-west-1-cwl-delivery-throttling")
    assert without_description(throttled) == subscription_alarm(
        "acme-logging-cwl-delivery-throttling", "throttled", "DeliveryThrottling", 0
    )


def test_the_subscription_thresholds_are_settings():
    rendered = source(alarmDeliveryErrorEvents=10, alarmDeliveryThrottledEvents=500)
    assert alarm(rendered, "source-eu-west-1-cwl-delivery-errors")["threshold"] == 10
    assert alarm(rendered, "source-eu-west-1-cwl-delivery-throttling")["threshold"] == 500


def test_a_source_forwards_its_own_four_alarms_to_the_central_bus(member):
    rule = member.one(RULE).inputs
    (alarms,) = [
        p for p in json.loads(rule["eventPattern"])["$or"] if p["source"] == ["aws.cloudwatch"]
    ]
    assert alarms == {
        "source": ["aws.cloudwatch"],
        "detail-type": [STATE_CHANGE],
        "detail": {
            "alarmName": [
                "acme-logging-cwl-delivery-errors",
                "acme-logging-cwl-delivery-throttling",
                "acme-logging-replication-failed",
                "acme-logging-replication-latency",
            ]
        },
    }
    assert sorted(a.inputs["name"] for a in member.of_type(ALARM)) == alarms["detail"]["alarmName"]
    target = member.one(TARGET).inputs
    assert (target["rule"], target["arn"]) == ("acme-logging-detection", CENTRAL_BUS)
