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
from components.alarms import central_bucket_notification, register_archive_alarms
from components.buckets import HardenedBucket, kept, lifecycle_rules
from components.cwl_delivery import destinations, firehose_streams
from components.documents.alerts import (
    alert_bus_policy,
    alert_topic_policy,
    archive_detection_pattern,
    central_alert_pattern,
)
from components.documents.buckets import access_log_bucket_policy, central_bucket_policy
from components.documents.delivery import (
    firehose_trust_policy,
)
from components.documents.key import central_key_policy
from components.outputs import as_dict
from components.query_layer import QueryLayer, QueryLayerArgs
from components.settings import (
    DEFAULT_ALARM_FRESHNESS_MARGIN_SECONDS,
    DEFAULT_ATHENA_BYTES_SCANNED_CUTOFF,
    DEFAULT_FIREHOSE_PARTITION_QUOTA,
    ObjectLock,
    Settings,
)
from policy import conventions


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
    alarm_freshness_margin_seconds: int = DEFAULT_ALARM_FRESHNESS_MARGIN_SECONDS
    reader_principal_arns: tuple[str, ...] = ()
    athena_bytes_scanned_cutoff: int = DEFAULT_ATHENA_BYTES_SCANNED_CUTOFF
    deep_archive_after_days: int | None = None

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
            alarm_freshness_margin_seconds=s.alarm_freshness_margin_seconds,
            reader_principal_arns=s.reader_principal_arns,
            athena_bytes_scanned_cutoff=s.athena_bytes_scanned_cutoff,
            deep_archive_after_days=s.deep_archive_after_days,
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
    glue_database: str
    athena_workgroup: str
    reader_role_arn: pulumi.Output[str]


class LogArchive(pulumi.ComponentResource):
    """Everything in the log-archive account that receives and keeps the organization's logs."""

    outputs: LogArchiveOutputs

    def __init__(
        self, name: str, args: LogArchiveArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("org-logging:log_archive:LogArchive", name, None, opts)
        self.logical_name, self.args = name, args
        self.home, self.account, self.prefix = (
            args.home_region,
            args.account_id,
            args.name_prefix,
        )
        self.bucket = conventions.central_bucket_name(self.prefix, self.account, self.home)
        self._access_bucket = conventions.central_access_log_bucket_name(
            self.prefix, self.account, self.home
        )
        self._admin_role_arn = naming.iam_role_arn(self.home, self.account, args.admin_role_name)
        self._warn_about_partitions()

        access_log_bucket, access_log_policy = self._access_log_bucket()
        firehose_role = aws.iam.Role(
            f"{name}-firehose-role",
            name=naming.firehose_role_name(self.prefix),
            assume_role_policy=json.dumps(firehose_trust_policy(self.account)),
            opts=pulumi.ResourceOptions(parent=self),
        )
        key = self._key(firehose_role)
        central_bucket = self._central_bucket(key, access_log_bucket, access_log_policy)
        firehoses = firehose_streams(self, key, firehose_role, central_bucket)
        destination_arns = destinations(self, firehoses)
        register_archive_alarms(
            self,
            name,
            prefix=self.prefix,
            account=self.account,
            home_region=self.home,
            regions=args.regions,
            bucket_name=self.bucket,
            freshness_margin_seconds=args.alarm_freshness_margin_seconds,
        )
        bus, topic = self._alerts(key)
        query = QueryLayer(f"{name}-query", self._query_layer_args(key), opts=self.child())
        self.outputs = LogArchiveOutputs(
            central_bucket_name=central_bucket.bucket,
            central_bucket_arn=central_bucket.arn,
            access_log_bucket_name=access_log_bucket.bucket,
            kms_key_arn=key.arn,
            firehose_arns={region: stream.arn for region, stream in firehoses.items()},
            destination_arns=destination_arns,
            alert_bus_arn=bus.arn,
            alert_topic_arn=topic.arn,
            excluded_log_groups=naming.archive_own_log_groups(self.prefix),
            glue_database=query.outputs.glue_database,
            athena_workgroup=query.outputs.athena_workgroup,
            reader_role_arn=query.outputs.reader_role_arn,
        )
        self.register_outputs(as_dict(self.outputs))

    def _query_layer_args(self, key: aws.kms.Key) -> QueryLayerArgs:
        """Projection enumerates the plan's accounts (with the management and log-archive
        accounts, which the plan may leave out) and the enrolled regions."""
        args = self.args
        known = {args.management_account_id, args.account_id, *(args.member_account_ids or ())}
        return QueryLayerArgs(
            name_prefix=self.prefix,
            org_id=args.org_id,
            account_id=self.account,
            home_region=self.home,
            regions=args.regions,
            accounts=tuple(sorted(known)),
            central_bucket=self.bucket,
            reader_principal_arns=args.reader_principal_arns,
            bytes_scanned_cutoff=args.athena_bytes_scanned_cutoff,
            key_arn=key.arn,
        )

    @property
    def _trail_arn(self) -> str:
        args = self.args
        return naming.cloudtrail_trail_arn(
            self.home, args.management_account_id, naming.trail_name(self.prefix)
        )

    @property
    def _alert_bus(self) -> str:
        return naming.alert_bus_name(self.prefix)

    @property
    def _rule_arns(self) -> list[str]:
        """The rules that publish to the alert topic: the central bus'args, and the archive's."""
        return [
            naming.events_rule_arn(
                self.home, self.account, naming.alert_rule_name(self.prefix), self._alert_bus
            ),
            naming.events_rule_arn(
                self.home, self.account, naming.archive_detection_rule_name(self.prefix)
            ),
        ]

    def child(self, **kwargs: object) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self, **kwargs)  # type: ignore[arg-type]

    def _warn_about_partitions(self) -> None:
        """Each sending account is one active partition of its region's stream (plus one for
        control messages); past the quota, records go to FirehoseErrors/ unpartitioned."""
        members = self.args.member_account_ids
        quota = self.args.firehose_partition_quota
        if members is not None and len(members) + 1 > quota:
            pulumi.log.warn(
                f"{len(members)} enrolled accounts need {len(members) + 1} active partitions per "
                f"region's Firehose stream; the quota (org-logging:firehosePartitionQuota) is "
                f"{quota}. Ask AWS for an increase (at most 5,000) and raise the setting."
            )

    # ---- access-log bucket: SSE-S3 and never locked, or S3 cannot deliver access logs --------

    def _access_log_bucket(self) -> tuple[aws.s3.Bucket, aws.s3.BucketPolicy]:
        args, name, home = self.args, self.logical_name, self.home
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
                source_bucket=self.bucket,
                account=self.account,
                admin_role_arn=self._admin_role_arn,
            )
        )
        return bucket, policy

    # ---- the key: the central bucket, the trail, Firehose and the alert topic -----------------

    def _key(self, firehose_role: aws.iam.Role) -> aws.kms.Key:
        args, home = self.args, self.home
        key = aws.kms.Key(
            f"{self.logical_name}-key",
            description=f"org-logging: encrypts {self.bucket} and the alert topic",
            enable_key_rotation=True,
            deletion_window_in_days=30,
            region=home,
            policy=firehose_role.arn.apply(
                lambda role_arn: json.dumps(
                    central_key_policy(
                        region=home,
                        account=self.account,
                        management_account=args.management_account_id,
                        trail_arn=self._trail_arn,
                        bucket=self.bucket,
                        firehose_role_arn=role_arn,
                        alert_rule_arns=self._rule_arns,
                        admin_role_arn=self._admin_role_arn,
                    )
                )
            ),
            opts=kept(self),
        )
        aws.kms.Alias(
            f"{self.logical_name}-key-alias",
            name=naming.key_alias(self.prefix),
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
        args, name, home = self.args, self.logical_name, self.home
        bucket = aws.s3.Bucket(
            f"{name}-central",
            bucket=self.bucket,
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
            lifecycle=lifecycle_rules(
                args.retention_days, deep_archive_days=args.deep_archive_after_days
            ),
        )
        # CIS AWS Foundations 3.4: server access logging on the CloudTrail bucket.
        hardened.add(
            aws.s3.BucketLogging(
                f"{name}-central-access-logging",
                bucket=bucket.id,
                target_bucket=access_log_bucket.id,
                target_prefix=f"{self.bucket}/",
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
        # New objects reach EventBridge: the alarms' rule watches FirehoseErrors/.
        hardened.add(central_bucket_notification(self, f"{name}-central-eventbridge", bucket, home))
        hardened.seal(
            central_bucket_policy(
                region=home,
                bucket=self.bucket,
                org_id=args.org_id,
                management_account=args.management_account_id,
                trail_arn=self._trail_arn,
                admin_role_arn=self._admin_role_arn,
                firehose_role_arn=naming.iam_role_arn(
                    home, self.account, naming.firehose_role_name(self.prefix)
                ),
                reader_role_arn=naming.iam_role_arn(
                    home, self.account, naming.reader_role_name(self.prefix)
                ),
                name_prefix=self.prefix,
            )
        )
        return bucket

    # ---- alerts: forwarders only -> central bus -> rule -> encrypted SNS topic ----------------

    def _alerts(self, key: aws.kms.Key) -> tuple[aws.cloudwatch.EventBus, aws.sns.Topic]:
        """The central bus (our forwarders only) and the topic, the rules that feed the topic,
        and the optional email subscriptions."""
        bus, topic = self._alert_bus_and_topic(key)
        self._rule_to_topic(
            "alert-rule",
            "alert-target",
            topic,
            name=naming.alert_rule_name(self.prefix),
            bus=bus,
            description="org-logging: tampering or a delivery failure somewhere in the "
            "organization (forwarded by a source, management or log-archive rule)",
            pattern=central_alert_pattern(self.prefix),
        )
        # The archive's own buckets and key: CloudTrail events land on the default bus.
        self._rule_to_topic(
            "archive-detection",
            "archive-detection-target",
            topic,
            name=naming.archive_detection_rule_name(self.prefix),
            bus=None,
            description="org-logging: a central log bucket's policy, lifecycle, versioning, "
            "encryption or lock, or the key's policy or state, changed",
            pattern=archive_detection_pattern([self.bucket, self._access_bucket]),
        )
        for index, email in enumerate(self.args.alert_emails):
            aws.sns.TopicSubscription(
                f"{self.logical_name}-alert-email-{index}",
                topic=topic.arn,
                protocol="email",
                endpoint=email,
                region=self.home,
                opts=self.child(),
            )
        return bus, topic

    def _alert_bus_and_topic(
        self, key: aws.kms.Key
    ) -> tuple[aws.cloudwatch.EventBus, aws.sns.Topic]:
        name, home, prefix = self.logical_name, self.home, self.prefix
        bus = aws.cloudwatch.EventBus(
            f"{name}-alert-bus", name=self._alert_bus, region=home, opts=self.child()
        )
        aws.cloudwatch.EventBusPolicy(
            f"{name}-alert-bus-policy",
            event_bus_name=bus.name,
            policy=json.dumps(
                alert_bus_policy(
                    naming.events_bus_arn(home, self.account, self._alert_bus),
                    self.args.org_id,
                    region=home,
                    name_prefix=prefix,
                )
            ),
            region=home,
            opts=self.child(),
        )
        topic_name = naming.alert_topic_name(prefix)
        topic = aws.sns.Topic(
            f"{name}-alert-topic",
            name=topic_name,
            kms_master_key_id=key.arn,
            region=home,
            opts=self.child(),
        )
        aws.sns.TopicPolicy(
            f"{name}-alert-topic-policy",
            arn=topic.arn,
            policy=json.dumps(
                alert_topic_policy(
                    naming.sns_topic_arn(home, self.account, topic_name), self._rule_arns
                )
            ),
            region=home,
            opts=self.child(),
        )
        return bus, topic

    def _rule_to_topic(
        self,
        rule_part: str,
        target_part: str,
        topic: aws.sns.Topic,
        *,
        name: str,
        bus: aws.cloudwatch.EventBus | None,
        description: str,
        pattern: dict,
    ) -> None:
        """A rule (on `bus`, else the default bus) whose events go to the alert topic."""
        bus_name = bus.name if bus is not None else None
        rule = aws.cloudwatch.EventRule(
            f"{self.logical_name}-{rule_part}",
            name=name,
            event_bus_name=bus_name,
            description=description,
            event_pattern=json.dumps(pattern),
            region=self.home,
            opts=self.child(),
        )
        aws.cloudwatch.EventTarget(
            f"{self.logical_name}-{target_part}",
            rule=rule.name,
            event_bus_name=bus_name,
            arn=topic.arn,
            region=self.home,
            opts=self.child(),
        )
