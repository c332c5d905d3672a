"""The CloudWatch Logs delivery path of the log archive: one Firehose stream per enrolled
region (all in the home region, beside the bucket) and, in each region, the destination every
account's subscription sends to."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pulumi
import pulumi_aws as aws

from components import naming
from components.documents.delivery import (
    FIREHOSE_BUFFER_MB,
    FIREHOSE_BUFFER_SECONDS,
    destination_access_policy,
    destination_delivery_policy,
    destination_trust_policy,
    firehose_delivery_policy,
)
from components.roles import service_role
from policy import conventions

if TYPE_CHECKING:
    from components.log_archive import LogArchive

# Firehose: decompress CWL records, partition by .owner (the sending account) with jq (no
# Lambda in the path), and give control messages their own partition instead of failing the
# record. The log group stays in the record: partitions grow with accounts, not log groups.
# https://docs.aws.amazon.com/firehose/latest/dev/writing-with-cloudwatch-logs.html
PARTITION_QUERY = (
    'if .messageType == "DATA_MESSAGE" then {owner: .owner} else {owner: "_control"} end'
)


def firehose_streams(
    parent: LogArchive, key: aws.kms.Key, role: aws.iam.Role, bucket: aws.s3.Bucket
) -> dict[str, aws.kinesis.FirehoseDeliveryStream]:
    """A stream per region spreads the active-partition quota (500 by default, records past
    it go to FirehoseErrors/activePartitionExceeded/) and the Direct PUT throughput
    (1-5 MiB/s per stream) over the regions. The streams live in the home region: a
    destination may target a stream of another region, and Firehose documents cross-region
    delivery for HTTP endpoints only, not for S3.
    https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/CreateSubscriptionFilterFirehose-Account.html
    https://docs.aws.amazon.com/firehose/latest/dev/across.html
    """
    name, home, prefix = parent.logical_name, parent.home, parent.prefix
    log_group = aws.cloudwatch.LogGroup(
        f"{name}-firehose-errors",
        name=naming.firehose_log_group(prefix),
        retention_in_days=365,
        region=home,
        opts=parent.child(),
    )
    delivery_policy = aws.iam.RolePolicy(
        f"{name}-firehose-delivery",
        role=role.id,
        policy=key.arn.apply(
            lambda key_arn: json.dumps(
                firehose_delivery_policy(
                    region=home,
                    bucket=parent.bucket,
                    key_arn=key_arn,
                    log_group_arn=naming.logs_group_arn(
                        home, parent.account, naming.firehose_log_group(prefix)
                    ),
                )
            )
        ),
        opts=parent.child(),
    )
    streams = {}
    for region in parent.args.regions:
        log_stream = aws.cloudwatch.LogStream(
            f"{name}-firehose-errors-{region}",
            name=naming.firehose_log_stream(region),
            log_group_name=log_group.name,
            region=home,
            opts=parent.child(),
        )
        streams[region] = aws.kinesis.FirehoseDeliveryStream(
            f"{name}-firehose-{region}",
            name=naming.firehose_name(prefix, region),
            destination="extended_s3",
            region=home,
            extended_s3_configuration=firehose_s3_configuration(
                region,
                bucket_arn=bucket.arn,
                role_arn=role.arn,
                key_arn=key.arn,
                log_group=log_group.name,
                log_stream=log_stream.name,
            ),
            opts=parent.child(depends_on=[delivery_policy]),
        )
    return streams


def destinations(
    parent: LogArchive, streams: dict[str, aws.kinesis.FirehoseDeliveryStream]
) -> dict[str, pulumi.Output[str]]:
    args, name, home, prefix = parent.args, parent.logical_name, parent.home, parent.prefix
    role, role_policy = service_role(
        parent,
        f"{name}-destination",
        name=naming.destination_role_name(prefix),
        trust=destination_trust_policy(home, args.regions, args.org_id),
        policy=destination_delivery_policy(
            [
                naming.firehose_arn(home, parent.account, naming.firehose_name(prefix, region))
                for region in args.regions
            ]
        ),
        policy_logical_name=f"{name}-destination-delivery",
    )
    # aws-cn: no aws:PrincipalOrgID in destination policies; name the member accounts.
    members = (
        args.member_account_ids if conventions.partition_of(home) is conventions.AWS_CN else None
    )
    arns = {}
    for region in args.regions:
        destination = aws.cloudwatch.LogDestination(
            f"{name}-destination-{region}",
            name=naming.destination_name(prefix),
            role_arn=role.arn,
            target_arn=streams[region].arn,
            region=region,
            opts=parent.child(depends_on=[role_policy]),
        )
        arn = naming.logs_destination_arn(region, parent.account, naming.destination_name(prefix))
        aws.cloudwatch.LogDestinationPolicy(
            f"{name}-destination-policy-{region}",
            destination_name=destination.name,
            access_policy=json.dumps(
                destination_access_policy(arn, args.org_id, members),
                separators=(",", ":"),
            ),
            force_update=True,
            region=region,
            opts=parent.child(),
        )
        arns[region] = destination.arn
    return arns


def firehose_s3_configuration(
    region: str,
    *,
    bucket_arn: pulumi.Input[str],
    role_arn: pulumi.Input[str],
    key_arn: pulumi.Input[str],
    log_group: pulumi.Input[str],
    log_stream: pulumi.Input[str],
) -> dict:
    """The stream of `region`: CloudWatchLogs/{account}/{region}/yyyy/MM/dd/, GZIP, KMS."""
    return {
        "bucket_arn": bucket_arn,
        "role_arn": role_arn,
        "prefix": naming.cloudwatch_logs_object_prefix(region),
        "error_output_prefix": naming.firehose_error_prefix(region),
        "compression_format": "GZIP",
        "kms_key_arn": key_arn,
        "buffering_size": FIREHOSE_BUFFER_MB,
        "buffering_interval": FIREHOSE_BUFFER_SECONDS,
        "dynamic_partitioning_configuration": {"enabled": True},
        "processing_configuration": {
            "enabled": True,
            "processors": [
                {
                    "type": "Decompression",
                    "parameters": [
                        {"parameter_name": "CompressionFormat", "parameter_value": "GZIP"}
                    ],
                },
                {
                    "type": "MetadataExtraction",
                    "parameters": [
                        {
                            "parameter_name": "MetadataExtractionQuery",
                            "parameter_value": PARTITION_QUERY,
                        },
                        {"parameter_name": "JsonParsingEngine", "parameter_value": "JQ-1.6"},
                    ],
                },
                {"type": "AppendDelimiterToRecord", "parameters": []},
            ],
        },
        "cloudwatch_logging_options": {
            "enabled": True,
            "log_group_name": log_group,
            "log_stream_name": log_stream,
        },
    }
