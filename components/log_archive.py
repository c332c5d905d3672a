"""LogArchive: the destination account.

The central bucket (and its access-log bucket), the KMS key, one Firehose stream per enrolled
region that writes that region's CloudWatch Logs into the bucket, one CloudWatch Logs
destination per enrolled region, and the alert bus + topic that hear about tampering anywhere
in the organization.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components import naming
from components.buckets import HardenedBucket, kept, lifecycle_rules
from components.documents.alerts import (
    alert_bus_policy,
    alert_topic_policy,
    archive_detection_pattern,
    central_alert_pattern,
)
from components.documents.buckets import access_log_bucket_policy, central_bucket_policy
from components.documents.delivery import (
    destination_access_policy,
    destination_delivery_policy,
    destination_trust_policy,
    firehose_delivery_policy,
    firehose_trust_policy,
)
from components.documents.key import central_key_policy
from components.outputs import as_dict
from components.roles import service_role
from components.settings import DEFAULT_FIREHOSE_PARTITION_QUOTA, ObjectLock, Settings
from policy import conventions

# Firehose: decompress CWL records, partition by .owner (the sending account) with jq (no
# Lambda in the path), and give control messages their own partition instead of failing the
# record. The log group stays in the record: partitions grow with accounts, not log groups.
# https://docs.aws.amazon.com/firehose/latest/dev/writing-with-cloudwatch-logs.html
PARTITION_QUERY = (
    'if .messageType == "DATA_MESSAGE" then {owner: .owner} else {owner: "_control"} end'
)
# Dynamic partitioning needs a buffer of at least 64 MiB:
# https://docs.aws.amazon.com/firehose/latest/dev/dynamic-partitioning.html
FIREHOSE_BUFFER_MB = 64
FIREHOSE_BUFFER_SECONDS = 300


@dataclass(frozen=True)
class LogArchiveArgs:
    """What the log-archive stack uses of the settings."""

    name_prefix: str
    org_id: str
    management_account_id: str
    account_id: str  # the log-archive account
    home_region: str
    regions: tuple[str, ...]
    admin_role_name: str
    retention_days: int
    object_lock: ObjectLock | None = None
    alert_emails: tuple[str, ...] = ()
    member_account_ids: tuple[str, ...] | None = None
    firehose_partition_quota: int = DEFAULT_FIREHOSE_PARTITION_QUOTA

    @classmethod
    def from_settings(cls, s: Settings) -> LogArchiveArgs:
        return cls(
            name_prefix=s.name_prefix,
            org_id=s.org_id,
            management_account_id=s.management_account_id,
            account_id=s.log_archive_account_id,
            home_region=s.home_region,
            regions=s.regions,
            admin_role_name=s.admin_role_name,
            retention_days=s.retention_days,
            object_lock=s.object_lock,
            alert_emails=s.alert_emails,
            member_account_ids=s.member_account_ids,
            firehose_partition_quota=s.firehose_partition_quota,
        )


@dataclass(frozen=True)
class LogArchiveOutputs:
    central_bucket_name: pulumi.Output[str]
    central_bucket_arn: pulumi.Output[str]
    access_log_bucket_name: pulumi.Output[str]
    kms_key_arn: pulumi.Output[str]
    firehose_arns: dict[str, pulumi.Output[str]]
    destination_arns: dict[str, pulumi.Output[str]]
    alert_bus_arn: pulumi.Output[str]
    alert_topic_arn: pulumi.Output[str]
    # Never subscribed: their own records would loop through the destination (recursion).
    excluded_log_groups: list[str]


class LogArchive(pulumi.ComponentResource):
    """Everything in the log-archive account that receives and keeps the organization's logs."""

    outputs: LogArchiveOutputs

    def __init__(
        self, name: str, args: LogArchiveArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("org-logging:log_archive:LogArchive", name, None, opts)
        self._name, self._args = name, args
        self._home, self._account, self._prefix = (
            args.home_region,
            args.account_id,
            args.name_prefix,
        )
        self._bucket = conventions.central_bucket_name(self._prefix, self._account, self._home)
        self._access_bucket = conventions.central_access_log_bucket_name(
            self._prefix, self._account, self._home
        )
        self._admin_role_arn = naming.iam_role_arn(self._home, self._account, args.admin_role_name)
        self._warn_about_partitions()

        access_log_bucket, access_log_policy = self._access_log_bucket()
        firehose_role = aws.iam.Role(
            f"{name}-firehose-role",
            name=naming.firehose_role_name(self._prefix),
            assume_role_policy=json.dumps(firehose_trust_policy(self._account)),
            opts=pulumi.ResourceOptions(parent=self),
        )
        key = self._key(firehose_role)
        central_bucket = self._central_bucket(key, access_log_bucket, access_log_policy)
        firehoses = self._firehoses(key, firehose_role, central_bucket)
        destination_arns = self._destinations(firehoses)
        bus, topic = self._alerts(key)
        self.outputs = LogArchiveOutputs(
            central_bucket_name=central_bucket.bucket,
            central_bucket_arn=central_bucket.arn,
            access_log_bucket_name=access_log_bucket.bucket,
            kms_key_arn=key.arn,
            firehose_arns={region: stream.arn for region, stream in firehoses.items()},
            destination_arns=destination_arns,
            alert_bus_arn=bus.arn,
            alert_topic_arn=topic.arn,
            excluded_log_groups=naming.archive_own_log_groups(self._prefix),
        )
        self.register_outputs(as_dict(self.outputs))

    @property
    def _trail_arn(self) -> str:
        args = self._args
        return naming.cloudtrail_trail_arn(
            self._home, args.management_account_id, naming.trail_name(self._prefix)
        )

    @property
    def _alert_bus(self) -> str:
        return naming.alert_bus_name(self._prefix)

    @property
    def _rule_arns(self) -> list[str]:
        """The rules that publish to the alert topic: the central bus'args, and the archive's."""
        return [
            naming.events_rule_arn(
                self._home, self._account, naming.alert_rule_name(self._prefix), self._alert_bus
            ),
            naming.events_rule_arn(
                self._home, self._account, naming.archive_detection_rule_name(self._prefix)
            ),
        ]

    def _child(self, **kwargs: object) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self, **kwargs)  # type: ignore[arg-type]

    def _warn_about_partitions(self) -> None:
        """Each sending account is one active partition of its region's stream (plus one for
        control messages); past the quota, records go to FirehoseErrors/ unpartitioned."""
        members = self._args.member_account_ids
        quota = self._args.firehose_partition_quota
        if members is not None and len(members) + 1 > quota:
            pulumi.log.warn(
                f"{len(members)} enrolled accounts need {len(members) + 1} active partitions per "
                f"region's Firehose stream; the quota (org-logging:firehosePartitionQuota) is "
                f"{quota}. Ask AWS for an increase (at most 5,000) and raise the setting."
            )

    # ---- access-log bucket: SSE-S3 and never locked, or S3 cannot deliver access logs --------

    def _access_log_bucket(self) -> tuple[aws.s3.Bucket, aws.s3.BucketPolicy]:
        args, name, home = self._args, self._name, self._home
        bucket = aws.s3.Bucket(
            f"{name}-access-logs", bucket=self._access_bucket, region=home, opts=kept(self)
        )
        hardened = HardenedBucket(
            self,
            f"{name}-access-logs",
            bucket,
            region=home,
            sse={"sse_algorithm": "AES256"},
            lifecycle=lifecycle_rules(args.retention_days, transitions=False),
        )
        policy = hardened.seal(
            access_log_bucket_policy(
                region=home,
                bucket=self._access_bucket,
                source_bucket=self._bucket,
                account=self._account,
                admin_role_arn=self._admin_role_arn,
            )
        )
        return bucket, policy

    # ---- the key: the central bucket, the trail, Firehose and the alert topic -----------------

    def _key(self, firehose_role: aws.iam.Role) -> aws.kms.Key:
        args, home = self._args, self._home
        key = aws.kms.Key(
            f"{self._name}-key",
            description=f"org-logging: encrypts {self._bucket} and the alert topic",
            enable_key_rotation=True,
            deletion_window_in_days=30,
            region=home,
            policy=firehose_role.arn.apply(
                lambda role_arn: json.dumps(
                    central_key_policy(
                        region=home,
                        account=self._account,
                        management_account=args.management_account_id,
                        trail_arn=self._trail_arn,
                        bucket=self._bucket,
                        firehose_role_arn=role_arn,
                        alert_rule_arns=self._rule_arns,
                        admin_role_arn=self._admin_role_arn,
                    )
                )
            ),
            opts=kept(self),
        )
        aws.kms.Alias(
            f"{self._name}-key-alias",
            name=naming.key_alias(self._prefix),
            target_key_id=key.key_id,
            region=home,
            opts=kept(self),
        )
        return key

    # ---- central bucket -------------------------------------------------------------------------

    def _central_bucket(
        self,
        key: aws.kms.Key,
        access_log_bucket: aws.s3.Bucket,
        access_log_policy: aws.s3.BucketPolicy,
    ) -> aws.s3.Bucket:
        args, name, home = self._args, self._name, self._home
        bucket = aws.s3.Bucket(
            f"{name}-central",
            bucket=self._bucket,
            object_lock_enabled=True if args.object_lock else None,
            region=home,
            opts=kept(self),
        )
        hardened = HardenedBucket(
            self,
            f"{name}-central",
            bucket,
            region=home,
            sse={"sse_algorithm": "aws:kms", "kms_master_key_id": key.arn},
            lifecycle=lifecycle_rules(args.retention_days),
        )
        # CIS AWS Foundations 3.4: server access logging on the CloudTrail bucket.
        hardened.add(
            aws.s3.BucketLogging(
                f"{name}-central-access-logging",
                bucket=bucket.id,
                target_bucket=access_log_bucket.id,
                target_prefix=f"{self._bucket}/",
                region=home,
                # S3 checks the target's policy lets logging.s3 write before it accepts this.
                opts=kept(self, depends_on=[access_log_policy]),
            )
        )
        if args.object_lock:
            hardened.add(
                aws.s3.BucketObjectLockConfiguration(
                    f"{name}-central-object-lock",
                    bucket=bucket.id,
                    rule={
                        "default_retention": {
                            "mode": args.object_lock.mode,
                            "days": args.object_lock.days,
                        }
                    },
                    region=home,
                    opts=kept(self, depends_on=[hardened.versioning]),
                )
            )
        hardened.seal(
            central_bucket_policy(
                region=home,
                bucket=self._bucket,
                org_id=args.org_id,
                management_account=args.management_account_id,
                trail_arn=self._trail_arn,
                admin_role_arn=self._admin_role_arn,
                firehose_role_arn=naming.iam_role_arn(
                    home, self._account, naming.firehose_role_name(self._prefix)
                ),
                reader_role_arn=naming.iam_role_arn(
                    home, self._account, naming.reader_role_name(self._prefix)
                ),
                name_prefix=self._prefix,
            )
        )
        return bucket

    # ---- Firehose: one stream per enrolled region, all beside the bucket ----------------------

    def _firehoses(
        self, key: aws.kms.Key, role: aws.iam.Role, bucket: aws.s3.Bucket
    ) -> dict[str, aws.kinesis.FirehoseDeliveryStream]:
        """A stream per region spreads the active-partition quota (500 by default, records past
        it go to FirehoseErrors/activePartitionExceeded/) and the Direct PUT throughput
        (1-5 MiB/s per stream) over the regions. The streams live in the home region: a
        destination may target a stream of another region, and Firehose documents cross-region
        delivery for HTTP endpoints only, not for S3.
        https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/CreateSubscriptionFilterFirehose-Account.html
        https://docs.aws.amazon.com/firehose/latest/dev/across.html
        """
        name, home, prefix = self._name, self._home, self._prefix
        log_group = aws.cloudwatch.LogGroup(
            f"{name}-firehose-errors",
            name=naming.firehose_log_group(prefix),
            retention_in_days=365,
            region=home,
            opts=self._child(),
        )
        delivery_policy = aws.iam.RolePolicy(
            f"{name}-firehose-delivery",
            role=role.id,
            policy=key.arn.apply(
                lambda key_arn: json.dumps(
                    firehose_delivery_policy(
                        region=home,
                        bucket=self._bucket,
                        key_arn=key_arn,
                        log_group_arn=naming.logs_group_arn(
                            home, self._account, naming.firehose_log_group(prefix)
                        ),
                    )
                )
            ),
            opts=self._child(),
        )
        streams = {}
        for region in self._args.regions:
            log_stream = aws.cloudwatch.LogStream(
                f"{name}-firehose-errors-{region}",
                name=naming.firehose_log_stream(region),
                log_group_name=log_group.name,
                region=home,
                opts=self._child(),
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
                opts=self._child(depends_on=[delivery_policy]),
            )
        return streams

    # ---- one CloudWatch Logs destination per enrolled region, into that region's stream -------

    def _destinations(
        self, streams: dict[str, aws.kinesis.FirehoseDeliveryStream]
    ) -> dict[str, pulumi.Output[str]]:
        args, name, home, prefix = self._args, self._name, self._home, self._prefix
        role, role_policy = service_role(
            self,
            f"{name}-destination",
            name=naming.destination_role_name(prefix),
            trust=destination_trust_policy(home, args.regions, args.org_id),
            policy=destination_delivery_policy(
                [
                    naming.firehose_arn(home, self._account, naming.firehose_name(prefix, region))
                    for region in args.regions
                ]
            ),
            policy_logical_name=f"{name}-destination-delivery",
        )
        # aws-cn: no aws:PrincipalOrgID in destination policies; name the member accounts.
        members = (
            args.member_account_ids
            if conventions.partition_of(home) is conventions.AWS_CN
            else None
        )
        arns = {}
        for region in args.regions:
            destination = aws.cloudwatch.LogDestination(
                f"{name}-destination-{region}",
                name=naming.destination_name(prefix),
                role_arn=role.arn,
                target_arn=streams[region].arn,
                region=region,
                opts=self._child(depends_on=[role_policy]),
            )
            arn = naming.logs_destination_arn(
                region, self._account, naming.destination_name(prefix)
            )
            aws.cloudwatch.LogDestinationPolicy(
                f"{name}-destination-policy-{region}",
                destination_name=destination.name,
                access_policy=json.dumps(
                    destination_access_policy(arn, args.org_id, members),
                    separators=(",", ":"),
                ),
                force_update=True,
                region=region,
                opts=self._child(),
            )
            arns[region] = destination.arn
        return arns

    # ---- alerts: forwarders only -> central bus -> rule -> encrypted SNS topic ----------------

    def _alerts(self, key: aws.kms.Key) -> tuple[aws.cloudwatch.EventBus, aws.sns.Topic]:
        args, name, home, prefix = self._args, self._name, self._home, self._prefix
        bus = aws.cloudwatch.EventBus(
            f"{name}-alert-bus", name=self._alert_bus, region=home, opts=self._child()
        )
        aws.cloudwatch.EventBusPolicy(
            f"{name}-alert-bus-policy",
            event_bus_name=bus.name,
            policy=json.dumps(
                alert_bus_policy(
                    naming.events_bus_arn(home, self._account, self._alert_bus),
                    args.org_id,
                    region=home,
                    name_prefix=prefix,
                )
            ),
            region=home,
            opts=self._child(),
        )
        topic_name = naming.alert_topic_name(prefix)
        topic = aws.sns.Topic(
            f"{name}-alert-topic",
            name=topic_name,
            kms_master_key_id=key.arn,
            region=home,
            opts=self._child(),
        )
        aws.sns.TopicPolicy(
            f"{name}-alert-topic-policy",
            arn=topic.arn,
            policy=json.dumps(
                alert_topic_policy(
                    naming.sns_topic_arn(home, self._account, topic_name), self._rule_arns
                )
            ),
            region=home,
            opts=self._child(),
        )
        central_rule = aws.cloudwatch.EventRule(
            f"{name}-alert-rule",
            name=naming.alert_rule_name(prefix),
            event_bus_name=bus.name,
            description="org-logging: tampering or a delivery failure somewhere in the "
            "organization (forwarded by a source, management or log-archive rule)",
            event_pattern=json.dumps(central_alert_pattern(prefix)),
            region=home,
            opts=self._child(),
        )
        aws.cloudwatch.EventTarget(
            f"{name}-alert-target",
            rule=central_rule.name,
            event_bus_name=bus.name,
            arn=topic.arn,
            region=home,
            opts=self._child(),
        )
        # The archive's own buckets and key: CloudTrail events land on the default bus.
        archive_rule = aws.cloudwatch.EventRule(
            f"{name}-archive-detection",
            name=naming.archive_detection_rule_name(prefix),
            description="org-logging: a central log bucket's policy, lifecycle, versioning, "
            "encryption or lock, or the key's policy or state, changed",
            event_pattern=json.dumps(
                archive_detection_pattern([self._bucket, self._access_bucket])
            ),
            region=home,
            opts=self._child(),
        )
        aws.cloudwatch.EventTarget(
            f"{name}-archive-detection-target",
            rule=archive_rule.name,
            arn=topic.arn,
            region=home,
            opts=self._child(),
        )
        for index, email in enumerate(args.alert_emails):
            aws.sns.TopicSubscription(
                f"{name}-alert-email-{index}",
                topic=topic.arn,
                protocol="email",
                endpoint=email,
                region=home,
                opts=self._child(),
            )
        return bus, topic


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
