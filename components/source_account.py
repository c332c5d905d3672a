"""SourceAccountLogging: what every member account x enrolled region gets.

A local log bucket the AWS log-delivery services write into, replicated unchanged into the
account's own prefix of the central bucket (with an alarm on failures); an account-level
CloudWatch Logs subscription to the region's destination; and a rule that forwards tampering
and alarms to the central alert bus.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components import naming
from components.alarms import register_source_alarms
from components.buckets import HardenedBucket, kept, lifecycle_rules
from components.documents import delivery
from components.documents.alarms import SourceTarget, SourceThresholds
from components.documents.alerts import source_detection_pattern
from components.documents.buckets import source_bucket_policy
from components.forwarding import forward_to_alert_bus
from components.outputs import as_dict
from components.roles import service_role
from components.settings import (
    DEFAULT_ALARM_DELIVERY_EVENTS,
    DEFAULT_ALARM_REPLICATION_LATENCY_SECONDS,
    Settings,
)
from policy import conventions

REPLICATION_RULE_ID = "org-logs"
DEFAULT_ALARM_THRESHOLDS = SourceThresholds(
    replication_latency_seconds=DEFAULT_ALARM_REPLICATION_LATENCY_SECONDS,
    delivery_error_events=DEFAULT_ALARM_DELIVERY_EVENTS,
    delivery_throttled_events=DEFAULT_ALARM_DELIVERY_EVENTS,
)


@dataclass(frozen=True)
class SourceAccountArgs:
    """What a source stack uses of the settings."""

    name_prefix: str
    account_id: str
    region: str
    home_region: str
    log_archive_account_id: str
    admin_role_name: str
    local_retention_days: int
    log_group_exclusions: tuple[str, ...] = ()
    cloudfront_legacy_logging: bool = False
    replication_time_control: bool = False
    alarm_thresholds: SourceThresholds = DEFAULT_ALARM_THRESHOLDS

    @classmethod
    def from_settings(cls, s: Settings) -> SourceAccountArgs:
        return cls(
            name_prefix=s.name_prefix,
            account_id=s.account_id,
            region=s.region,
            home_region=s.home_region,
            log_archive_account_id=s.log_archive_account_id,
            admin_role_name=s.admin_role_name,
            local_retention_days=s.local_retention_days,
            log_group_exclusions=s.log_group_exclusions,
            cloudfront_legacy_logging=s.cloudfront_legacy_logging,
            replication_time_control=s.replication_time_control,
            alarm_thresholds=SourceThresholds(
                replication_latency_seconds=s.alarm_replication_latency_seconds,
                delivery_error_events=s.alarm_delivery_error_events,
                delivery_throttled_events=s.alarm_delivery_throttled_events,
            ),
        )

    @property
    def bucket(self) -> str:
        return conventions.source_bucket_name(self.name_prefix, self.account_id, self.region)

    @property
    def central_bucket(self) -> str:
        return conventions.central_bucket_name(
            self.name_prefix, self.log_archive_account_id, self.home_region
        )


@dataclass(frozen=True)
class SourceAccountOutputs:
    log_bucket_name: pulumi.Output[str]
    log_bucket_arn: pulumi.Output[str]
    delivery_conventions: dict[str, dict[str, str]]
    destination_arn: str
    replication_role_arn: pulumi.Output[str]
    excluded_log_groups: list[str]


class SourceAccountLogging(pulumi.ComponentResource):
    """One account x region: local log bucket + replication, CWL subscription, detection."""

    outputs: SourceAccountOutputs

    def __init__(
        self, name: str, args: SourceAccountArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("org-logging:source_account:SourceAccountLogging", name, None, opts)
        self._name, self._args = name, args
        bucket, hardened = self._log_bucket()
        replication_role = self._replication(bucket, hardened)
        hardened.seal(
            source_bucket_policy(
                region=args.region,
                bucket=args.bucket,
                account=args.account_id,
                admin_role_arn=naming.iam_role_arn(
                    args.region, args.account_id, args.admin_role_name
                ),
                cloudfront_legacy_logging=args.cloudfront_legacy_logging,
            )
        )
        destination_arn, excluded = self._subscription()
        alarm_names = register_source_alarms(
            self, name, self._alarm_target(destination_arn), args.alarm_thresholds
        )
        self._canary_log_group()
        forward_to_alert_bus(
            self,
            name,
            prefix=args.name_prefix,
            account=args.account_id,
            region=args.region,
            home_region=args.home_region,
            log_archive_account=args.log_archive_account_id,
            rule_name=naming.detection_rule_name(args.name_prefix),
            forwarder=args.region,
            description="org-logging: a replication configuration, the log bucket, the account's "
            "CloudWatch Logs policies or an org-logging alarm changed",
            pattern=source_detection_pattern(args.bucket, alarm_names),
        )
        self.outputs = SourceAccountOutputs(
            log_bucket_name=bucket.bucket,
            log_bucket_arn=bucket.arn,
            delivery_conventions=naming.delivery_conventions(args.account_id),
            destination_arn=destination_arn,
            replication_role_arn=replication_role.arn,
            excluded_log_groups=excluded,
        )
        self.register_outputs(as_dict(self.outputs))

    # ---- local log bucket: SSE-S3, because ELB access logs support nothing else --------------
    # https://docs.aws.amazon.com/elasticloadbalancing/latest/application/enable-access-logging.html

    def _log_bucket(self) -> tuple[aws.s3.Bucket, HardenedBucket]:
        args, name = self._args, self._name
        bucket = aws.s3.Bucket(
            f"{name}-logs", bucket=args.bucket, region=args.region, opts=kept(self)
        )
        hardened = HardenedBucket(
            self,
            f"{name}-logs",
            bucket,
            region=args.region,
            sse={"sse_algorithm": "AES256"},
            lifecycle=lifecycle_rules(args.local_retention_days, transitions=False),
            # Legacy CloudFront logging writes through a bucket ACL; ACLs stay off otherwise.
            object_ownership=(
                "BucketOwnerPreferred" if args.cloudfront_legacy_logging else "BucketOwnerEnforced"
            ),
        )
        if args.cloudfront_legacy_logging:
            hardened.add(self._cloudfront_acl(bucket, hardened))
        return bucket, hardened

    def _cloudfront_acl(self, bucket: aws.s3.Bucket, hardened: HardenedBucket) -> aws.s3.BucketAcl:
        """The legacy CloudFront grant. New buckets are BucketOwnerEnforced (ACLs refused), so
        the ACL waits for the ownership change:
        https://www.pulumi.com/registry/packages/aws/api-docs/s3/bucketacl/"""
        owner = aws.s3.get_canonical_user_id().id
        return aws.s3.BucketAcl(
            f"{self._name}-logs-cloudfront-acl",
            bucket=bucket.id,
            access_control_policy={
                "owner": {"id": owner},
                "grants": [
                    {
                        "grantee": {"type": "CanonicalUser", "id": owner},
                        "permission": "FULL_CONTROL",
                    },
                    {
                        "grantee": {
                            "type": "CanonicalUser",
                            "id": naming.CLOUDFRONT_LOG_DELIVERY_CANONICAL_ID,
                        },
                        "permission": "FULL_CONTROL",
                    },
                ],
            },
            region=self._args.region,
            opts=pulumi.ResourceOptions(
                parent=self, depends_on=[hardened.ownership, hardened.versioning]
            ),
        )

    # ---- replication into AWSLogs/{account}/ of the central bucket ---------------------------

    def _replication(self, bucket: aws.s3.Bucket, hardened: HardenedBucket) -> aws.iam.Role:
        args, name = self._args, self._name
        role, role_policy = service_role(
            self,
            f"{name}-replication",
            name=naming.replication_role_name(args.name_prefix, args.region),
            trust=delivery.replication_trust_policy(
                region=args.region, account=args.account_id, bucket=args.bucket
            ),
            policy=delivery.replication_policy(
                region=args.region,
                bucket=args.bucket,
                account=args.account_id,
                home_region=args.home_region,
                central_bucket=args.central_bucket,
            ),
        )
        hardened.add(
            aws.s3.BucketReplicationConfig(
                f"{name}-replication",
                bucket=bucket.id,
                role=role.arn,
                rules=[replication_rule(args)],
                region=args.region,
                # Replication requires versioning first; the role must hold its policy before S3
                # validates it.
                opts=pulumi.ResourceOptions(
                    parent=self, depends_on=[hardened.versioning, role_policy]
                ),
            )
        )
        return role

    def _alarm_target(self, destination_arn: str) -> SourceTarget:
        """What the alarms watch: replication failures and latency (S3 publishes them in the
        source bucket's region; the local copy expires after localRetentionDays) and the
        subscription's deliveries (components/documents/alarms.py)."""
        args = self._args
        return SourceTarget(
            prefix=args.name_prefix,
            region=args.region,
            bucket=args.bucket,
            central_bucket=args.central_bucket,
            rule_id=REPLICATION_RULE_ID,
            local_retention_days=args.local_retention_days,
            destination_arn=destination_arn,
        )

    # ---- CloudWatch Logs: every log group of the account x region, minus exclusions ----------

    def _subscription(self) -> tuple[str, list[str]]:
        args, name, prefix = self._args, self._name, self._args.name_prefix
        destination_arn = naming.logs_destination_arn(
            args.region, args.log_archive_account_id, naming.destination_name(prefix)
        )
        exclusions = list(args.log_group_exclusions)
        if args.account_id == args.log_archive_account_id:
            exclusions += naming.archive_own_log_groups(prefix)  # recursion guard
        excluded = sorted(set(exclusions))
        role, role_policy = service_role(
            self,
            f"{name}-subscription",
            name=naming.subscription_role_name(prefix, args.region),
            trust=delivery.subscription_trust_policy(region=args.region, account=args.account_id),
            policy=delivery.subscription_role_policy(region=args.region, account=args.account_id),
        )
        aws.cloudwatch.LogAccountPolicy(
            f"{name}-subscription",
            policy_name=naming.subscription_policy_name(prefix),
            policy_type="SUBSCRIPTION_FILTER_POLICY",
            scope="ALL",
            policy_document=role.arn.apply(
                lambda role_arn: json.dumps(
                    delivery.subscription_filter_policy(
                        destination_arn=destination_arn, role_arn=role_arn
                    )
                )
            ),
            selection_criteria=delivery.selection_criteria(excluded),
            region=args.region,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[role_policy]),
        )
        return destination_arn, excluded

    def _canary_log_group(self) -> aws.cloudwatch.LogGroup:
        """Where `org-logging verify` puts its canary event; the account policy subscribes it
        like every other group (settings refuse to exclude it), so the event proves the path."""
        return aws.cloudwatch.LogGroup(
            f"{self._name}-canary",
            name=naming.CANARY_LOG_GROUP,
            retention_in_days=naming.CANARY_RETENTION_DAYS,
            region=self._args.region,
            opts=pulumi.ResourceOptions(parent=self),
        )


def replication_rule(args: SourceAccountArgs) -> dict:
    """The V2 rule (with `filter`): the account's whole prefix, no delete markers, into the
    central bucket and account, replicas owned by the destination. Replicas of the SSE-S3
    source stay SSE-S3: the central bucket policy, not the key, guards who reads them."""
    destination: dict = {
        "bucket": naming.s3_bucket_arn(args.home_region, args.central_bucket),
        "storage_class": "STANDARD",
        # Metrics always: the failure alarm reads OperationsFailedReplication. RTC is optional.
        "metrics": {"status": "Enabled"},
    }
    if args.account_id != args.log_archive_account_id:
        # Owner override is for cross-account replication only.
        destination["account"] = args.log_archive_account_id
        destination["access_control_translation"] = {"owner": "Destination"}
    if args.replication_time_control:
        destination["replication_time"] = {"status": "Enabled", "time": {"minutes": 15}}
        destination["metrics"] = {"status": "Enabled", "event_threshold": {"minutes": 15}}
    return {
        "id": REPLICATION_RULE_ID,
        "status": "Enabled",
        "priority": 1,
        "filter": {"prefix": conventions.account_logs_prefix(args.account_id)},
        "delete_marker_replication": {"status": "Disabled"},
        "destination": destination,
    }
