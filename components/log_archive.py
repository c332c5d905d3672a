"""LogArchive: the destination account (DESIGN §5).

The central bucket (and its access-log bucket), the KMS key, the Firehose that writes
CloudWatch Logs into the bucket, one CloudWatch Logs destination per enrolled region, and the
alert bus + topic that hear about replication changes anywhere in the organization.
"""

from __future__ import annotations

import json

import pulumi
import pulumi_aws as aws

from components import documents, naming
from components.buckets import harden_bucket, kept, lifecycle_rules
from components.roles import service_role
from components.settings import Settings

# Firehose: decompress CWL records, partition by .owner/.logGroup with jq (no Lambda in the
# path), and give control messages their own partition instead of failing the record.
# https://docs.aws.amazon.com/firehose/latest/dev/writing-with-cloudwatch-logs.html
PARTITION_QUERY = (
    'if .messageType == "DATA_MESSAGE" '
    'then {owner: .owner, logGroup: (.logGroup | ltrimstr("/"))} '
    'else {owner: "_control", logGroup: "_control"} end'
)
# Dynamic partitioning needs a buffer of at least 64 MiB:
# https://docs.aws.amazon.com/firehose/latest/dev/dynamic-partitioning.html
FIREHOSE_BUFFER_MB = 64
FIREHOSE_BUFFER_SECONDS = 300


class LogArchive(pulumi.ComponentResource):
    """Everything in the log-archive account that receives and keeps the organization's logs."""

    central_bucket_name: pulumi.Output[str]
    central_bucket_arn: pulumi.Output[str]
    access_log_bucket_name: pulumi.Output[str]
    kms_key_arn: pulumi.Output[str]
    firehose_arn: pulumi.Output[str]
    destination_arns: dict[str, pulumi.Output[str]]
    alert_bus_arn: pulumi.Output[str]
    alert_topic_arn: pulumi.Output[str]
    excluded_log_groups: list[str]

    def __init__(
        self, name: str, args: Settings, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("org-logging:log_archive:LogArchive", name, None, opts)
        s = args
        home = s.home_region
        account = s.log_archive_account_id
        prefix = s.name_prefix
        child = pulumi.ResourceOptions(parent=self)

        bucket = naming.central_bucket_name(prefix, account, home)
        access_bucket = naming.central_access_log_bucket_name(prefix, account, home)
        admin_role_arn = naming.iam_role_arn(home, account, s.admin_role_name)
        trail_arn = naming.cloudtrail_trail_arn(
            home, s.management_account_id, naming.trail_name(prefix)
        )
        firehose_stream = naming.firehose_name(prefix)
        firehose_arn = naming.firehose_arn(home, account, firehose_stream)
        alert_bus = naming.alert_bus_name(prefix)
        alert_rule = naming.alert_rule_name(prefix)
        alert_rule_arn = naming.events_rule_arn(home, account, alert_rule, alert_bus)

        # ---- access-log bucket: SSE-S3 and never locked, or S3 cannot deliver access logs.
        access_log_bucket = aws.s3.Bucket(
            f"{name}-access-logs", bucket=access_bucket, region=home, opts=kept(self)
        )
        access_logs = harden_bucket(
            self,
            f"{name}-access-logs",
            access_log_bucket,
            region=home,
            sse={"sse_algorithm": "AES256"},
            policy=documents.access_log_bucket_policy(
                region=home,
                bucket=access_bucket,
                source_bucket=bucket,
                account=account,
                admin_role_arn=admin_role_arn,
            ),
            lifecycle=lifecycle_rules(s.retention_days, transitions=False),
        )

        # ---- Firehose role first: the key policy names it, and its own policy names the key.
        firehose_role = aws.iam.Role(
            f"{name}-firehose-role",
            name=naming.firehose_role_name(prefix),
            assume_role_policy=json.dumps(documents.firehose_trust_policy(account)),
            opts=child,
        )

        key = aws.kms.Key(
            f"{name}-key",
            description=f"org-logging: encrypts {bucket} and the alert topic",
            enable_key_rotation=True,
            deletion_window_in_days=30,
            region=home,
            policy=firehose_role.arn.apply(
                lambda role_arn: json.dumps(
                    documents.central_key_policy(
                        region=home,
                        account=account,
                        name_prefix=prefix,
                        org_id=s.org_id,
                        management_account=s.management_account_id,
                        trail_arn=trail_arn,
                        bucket=bucket,
                        firehose_role_arn=role_arn,
                        alert_rule_arn=alert_rule_arn,
                        admin_role_arn=admin_role_arn,
                    )
                )
            ),
            opts=kept(self),
        )
        aws.kms.Alias(
            f"{name}-key-alias",
            name=naming.key_alias(prefix),
            target_key_id=key.key_id,
            region=home,
            opts=kept(self),
        )

        # ---- central bucket
        central_bucket = aws.s3.Bucket(
            f"{name}-central",
            bucket=bucket,
            object_lock_enabled=True if s.object_lock else None,
            region=home,
            opts=kept(self),
        )
        central = harden_bucket(
            self,
            f"{name}-central",
            central_bucket,
            region=home,
            sse={"sse_algorithm": "aws:kms", "kms_master_key_id": key.arn},
            policy=documents.central_bucket_policy(
                region=home,
                bucket=bucket,
                name_prefix=prefix,
                org_id=s.org_id,
                management_account=s.management_account_id,
                trail_arn=trail_arn,
                admin_role_arn=admin_role_arn,
            ),
            lifecycle=lifecycle_rules(s.retention_days),
        )
        # CIS AWS Foundations 3.4: server access logging on the CloudTrail bucket.
        aws.s3.BucketLogging(
            f"{name}-central-access-logging",
            bucket=central_bucket.id,
            target_bucket=access_log_bucket.id,
            target_prefix=f"{bucket}/",
            region=home,
            # S3 checks the target's policy lets logging.s3 write before it accepts this.
            opts=kept(self, depends_on=[access_logs.policy]),
        )
        if s.object_lock:
            aws.s3.BucketObjectLockConfiguration(
                f"{name}-central-object-lock",
                bucket=central_bucket.id,
                rule={
                    "default_retention": {"mode": s.object_lock.mode, "days": s.object_lock.days}
                },
                region=home,
                opts=kept(self, depends_on=[central.versioning]),
            )

        # ---- Firehose: CloudWatch Logs -> central bucket under CloudWatchLogs/
        firehose_log_group = aws.cloudwatch.LogGroup(
            f"{name}-firehose-errors",
            name=naming.firehose_log_group(prefix),
            retention_in_days=365,
            region=home,
            opts=child,
        )
        aws.cloudwatch.LogStream(
            f"{name}-firehose-errors-stream",
            name="DestinationDelivery",
            log_group_name=firehose_log_group.name,
            region=home,
            opts=child,
        )
        firehose_policy = aws.iam.RolePolicy(
            f"{name}-firehose-delivery",
            role=firehose_role.id,
            policy=key.arn.apply(
                lambda key_arn: json.dumps(
                    documents.firehose_delivery_policy(
                        region=home,
                        bucket=bucket,
                        key_arn=key_arn,
                        log_group_arn=naming.logs_group_arn(
                            home, account, naming.firehose_log_group(prefix)
                        ),
                    )
                )
            ),
            opts=child,
        )
        firehose = aws.kinesis.FirehoseDeliveryStream(
            f"{name}-firehose",
            name=firehose_stream,
            destination="extended_s3",
            region=home,
            extended_s3_configuration={
                "bucket_arn": central_bucket.arn,
                "role_arn": firehose_role.arn,
                "prefix": naming.CLOUDWATCH_LOGS_OBJECT_PREFIX,
                "error_output_prefix": naming.FIREHOSE_ERROR_PREFIX,
                "compression_format": "GZIP",
                "kms_key_arn": key.arn,
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
                                {
                                    "parameter_name": "JsonParsingEngine",
                                    "parameter_value": "JQ-1.6",
                                },
                            ],
                        },
                        {"type": "AppendDelimiterToRecord", "parameters": []},
                    ],
                },
                "cloudwatch_logging_options": {
                    "enabled": True,
                    "log_group_name": firehose_log_group.name,
                    "log_stream_name": "DestinationDelivery",
                },
            },
            opts=pulumi.ResourceOptions(parent=self, depends_on=[firehose_policy]),
        )

        # ---- one CloudWatch Logs destination per enrolled region, all into the one Firehose
        destination_role, destination_role_policy = service_role(
            self,
            f"{name}-destination",
            name=naming.destination_role_name(prefix),
            trust=documents.destination_trust_policy(home, s.regions),
            policy=documents.destination_delivery_policy(firehose_arn),
            policy_logical_name=f"{name}-destination-delivery",
        )
        self.destination_arns = {}
        for region in s.regions:
            destination = aws.cloudwatch.LogDestination(
                f"{name}-destination-{region}",
                name=naming.destination_name(prefix),
                role_arn=destination_role.arn,
                target_arn=firehose.arn,
                region=region,
                opts=pulumi.ResourceOptions(parent=self, depends_on=[destination_role_policy]),
            )
            aws.cloudwatch.LogDestinationPolicy(
                f"{name}-destination-policy-{region}",
                destination_name=destination.name,
                access_policy=json.dumps(
                    documents.destination_access_policy(
                        naming.logs_destination_arn(
                            region, account, naming.destination_name(prefix)
                        ),
                        s.org_id,
                    )
                ),
                force_update=True,
                region=region,
                opts=child,
            )
            self.destination_arns[region] = destination.arn

        # ---- alerts: org-only bus -> rule on replication changes -> encrypted SNS topic
        bus = aws.cloudwatch.EventBus(f"{name}-alert-bus", name=alert_bus, region=home, opts=child)
        aws.cloudwatch.EventBusPolicy(
            f"{name}-alert-bus-policy",
            event_bus_name=bus.name,
            policy=json.dumps(
                documents.alert_bus_policy(
                    naming.events_bus_arn(home, account, alert_bus), s.org_id
                )
            ),
            region=home,
            opts=child,
        )
        topic = aws.sns.Topic(
            f"{name}-alert-topic",
            name=naming.alert_topic_name(prefix),
            kms_master_key_id=key.arn,
            region=home,
            opts=child,
        )
        aws.sns.TopicPolicy(
            f"{name}-alert-topic-policy",
            arn=topic.arn,
            policy=json.dumps(
                documents.alert_topic_policy(
                    naming.sns_topic_arn(home, account, naming.alert_topic_name(prefix)),
                    alert_rule_arn,
                )
            ),
            region=home,
            opts=child,
        )
        rule = aws.cloudwatch.EventRule(
            f"{name}-alert-rule",
            name=alert_rule,
            event_bus_name=bus.name,
            description="org-logging: a replication configuration or log bucket policy changed",
            event_pattern=json.dumps(documents.replication_change_pattern()),
            region=home,
            opts=child,
        )
        aws.cloudwatch.EventTarget(
            f"{name}-alert-target",
            rule=rule.name,
            event_bus_name=bus.name,
            arn=topic.arn,
            region=home,
            opts=child,
        )
        for index, email in enumerate(s.alert_emails):
            aws.sns.TopicSubscription(
                f"{name}-alert-email-{index}",
                topic=topic.arn,
                protocol="email",
                endpoint=email,
                region=home,
                opts=child,
            )

        self.central_bucket_name = central_bucket.bucket
        self.central_bucket_arn = central_bucket.arn
        self.access_log_bucket_name = access_log_bucket.bucket
        self.kms_key_arn = key.arn
        self.firehose_arn = firehose.arn
        self.alert_bus_arn = bus.arn
        self.alert_topic_arn = topic.arn
        # Never subscribed: their own records would loop through the destination (recursion).
        self.excluded_log_groups = naming.archive_own_log_groups(prefix)
        self.register_outputs(
            {
                "central_bucket_name": self.central_bucket_name,
                "central_bucket_arn": self.central_bucket_arn,
                "access_log_bucket_name": self.access_log_bucket_name,
                "kms_key_arn": self.kms_key_arn,
                "firehose_arn": self.firehose_arn,
                "destination_arns": self.destination_arns,
                "alert_bus_arn": self.alert_bus_arn,
                "alert_topic_arn": self.alert_topic_arn,
                "excluded_log_groups": self.excluded_log_groups,
            }
        )
