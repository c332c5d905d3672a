"""The alarms of the log archive and of every source account x region, and how their state
changes reach the central alert topic (README, "Is it working?" -> "Alarms").

Every alarm goes the way the replication alarm always went: its state change lands on the
account's default bus, our forwarding rule sends it to the central bus, whose rule publishes
to the alert topic. Each stack forwards exactly its own alarms (by name), so an account that is
both the log archive and a source never forwards one twice. The definitions (metrics,
thresholds, descriptions) are pure: `components.documents.alarms`.
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from components import naming
from components.documents.alarms import (
    Alarm,
    FirehoseTarget,
    SourceTarget,
    SourceThresholds,
    firehose_alarms,
    source_alarms,
)
from components.documents.alerts import archive_alarm_pattern
from components.documents.delivery import FIREHOSE_BUFFER_SECONDS
from components.forwarding import forward_to_alert_bus


def _alarm(parent: pulumi.Resource, logical_name: str, spec: Alarm, region: str) -> str:
    aws.cloudwatch.MetricAlarm(
        logical_name, **spec, region=region, opts=pulumi.ResourceOptions(parent=parent)
    )
    return spec["name"]


def central_bucket_notification(
    parent: pulumi.Resource, logical_name: str, bucket: aws.s3.Bucket, region: str
) -> aws.s3.BucketNotification:
    """S3 sends every object event of the central bucket to the default bus; the log
    archive's alarm rule keeps those under FirehoseErrors/.
    https://docs.aws.amazon.com/AmazonS3/latest/userguide/EventBridge.html"""
    return aws.s3.BucketNotification(
        logical_name,
        bucket=bucket.id,
        eventbridge=True,
        region=region,
        opts=pulumi.ResourceOptions(parent=parent),
    )


def register_source_alarms(
    parent: pulumi.Resource,
    name: str,
    target: SourceTarget,
    thresholds: SourceThresholds,
) -> list[str]:
    """The source account x region's alarms; returns their names for its detection rule."""
    return [
        _alarm(parent, f"{name}-{part}", spec, target.region)
        for part, spec in source_alarms(target, thresholds).items()
    ]


def register_archive_alarms(
    parent: pulumi.Resource,
    name: str,
    *,
    prefix: str,
    account: str,
    home_region: str,
    regions: tuple[str, ...],
    bucket_name: str,
    freshness_margin_seconds: int,
) -> list[str]:
    """Alarms on every region's stream, and the rule that forwards them and the central
    bucket's new FirehoseErrors/ objects to the central bus. Returns the alarm names."""
    names = []
    for region in regions:
        target = FirehoseTarget(
            prefix=prefix,
            region=region,
            stream=naming.firehose_name(prefix, region),
            bucket=bucket_name,
            log_group=naming.firehose_log_group(prefix),
            log_stream=naming.firehose_log_stream(region),
        )
        alarms = firehose_alarms(
            target,
            buffer_seconds=FIREHOSE_BUFFER_SECONDS,
            freshness_margin_seconds=freshness_margin_seconds,
        )
        names += [
            _alarm(parent, f"{name}-firehose-{region}-{signal}", spec, home_region)
            for signal, spec in alarms.items()
        ]
    forward_to_alert_bus(
        parent,
        f"{name}-alarms",
        prefix=prefix,
        account=account,
        region=home_region,
        home_region=home_region,
        log_archive_account=account,
        rule_name=naming.archive_alarm_rule_name(prefix),
        forwarder=naming.ARCHIVE_FORWARDER,
        description="org-logging: a Firehose alarm of the log archive changed state, or "
        f"Firehose wrote records it could not deliver under {naming.FIREHOSE_ERRORS}/",
        pattern=archive_alarm_pattern(bucket_name, names),
    )
    return names
