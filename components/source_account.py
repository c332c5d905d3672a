"""SourceAccountLogging: what every member account x enrolled region gets (DESIGN §5).

A local log bucket the AWS log-delivery services write into, replicated unchanged into the
account's own prefix of the central bucket; an account-level CloudWatch Logs subscription to
the region's destination; and a rule that reports replication and log-bucket policy changes to
the central alert bus.
"""

from __future__ import annotations

import json

import pulumi
import pulumi_aws as aws

from components import documents, naming
from components.buckets import HardenedBucket, kept, lifecycle_rules
from components.roles import service_role
from components.settings import Settings


class SourceAccountLogging(pulumi.ComponentResource):
    """One account x region: local log bucket + replication, CWL subscription, detection."""

    log_bucket_name: pulumi.Output[str]
    log_bucket_arn: pulumi.Output[str]
    replication_role_arn: pulumi.Output[str]
    destination_arn: str
    excluded_log_groups: tuple[str, ...]
    delivery_conventions: dict[str, dict[str, str]]

    def __init__(
        self, name: str, args: Settings, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("org-logging:source_account:SourceAccountLogging", name, None, opts)
        s = args
        region, account, home = s.region, s.account_id, s.home_region
        prefix = s.name_prefix
        child = pulumi.ResourceOptions(parent=self)
        bucket_name = naming.source_bucket_name(prefix, account, region)
        admin_role_arn = naming.iam_role_arn(region, account, s.admin_role_name)

        # ---- local log bucket: SSE-S3, because ELB access logs support nothing else
        # https://docs.aws.amazon.com/elasticloadbalancing/latest/application/enable-access-logging.html
        bucket = aws.s3.Bucket(f"{name}-logs", bucket=bucket_name, region=region, opts=kept(self))
        hardened = HardenedBucket(
            self,
            f"{name}-logs",
            bucket,
            region=region,
            sse={"sse_algorithm": "AES256"},
            lifecycle=lifecycle_rules(s.local_retention_days, transitions=False),
            # Legacy CloudFront logging writes through a bucket ACL; ACLs stay off otherwise.
            object_ownership=(
                "BucketOwnerPreferred" if s.cloudfront_legacy_logging else "BucketOwnerEnforced"
            ),
        )
        if s.cloudfront_legacy_logging:
            hardened.add(self._cloudfront_acl(name, bucket, hardened, region))

        # ---- replication into AWSLogs/{account}/ of the central bucket
        replication_role, replication_policy = service_role(
            self,
            f"{name}-replication",
            name=naming.replication_role_name(prefix, region),
            trust=documents.replication_trust_policy(
                region=region, account=account, bucket=bucket_name
            ),
            policy=documents.replication_policy(
                region=region,
                bucket=bucket_name,
                account=account,
                home_region=home,
                central_bucket=s.central_bucket,
            ),
        )
        hardened.add(
            aws.s3.BucketReplicationConfig(
                f"{name}-replication",
                bucket=bucket.id,
                role=replication_role.arn,
                rules=[replication_rule(s)],
                region=region,
                # Replication requires versioning first; the role must hold its policy before S3
                # validates it.
                opts=pulumi.ResourceOptions(
                    parent=self, depends_on=[hardened.versioning, replication_policy]
                ),
            )
        )
        hardened.seal(
            documents.source_bucket_policy(
                region=region,
                bucket=bucket_name,
                account=account,
                admin_role_arn=admin_role_arn,
                cloudfront_legacy_logging=s.cloudfront_legacy_logging,
            )
        )
        self._replication_alarm(name, s, bucket_name)

        # ---- CloudWatch Logs: every log group of the account x region, minus exclusions
        self.destination_arn = naming.logs_destination_arn(
            region, s.log_archive_account_id, naming.destination_name(prefix)
        )
        exclusions = list(s.log_group_exclusions)
        if account == s.log_archive_account_id:
            exclusions += naming.archive_own_log_groups(prefix)  # recursion guard
        self.excluded_log_groups = tuple(sorted(set(exclusions)))
        subscription_role, subscription_role_policy = service_role(
            self,
            f"{name}-subscription",
            name=naming.subscription_role_name(prefix, region),
            trust=documents.subscription_trust_policy(region=region, account=account),
            policy=documents.subscription_role_policy(region=region, account=account),
        )
        destination_arn = self.destination_arn
        aws.cloudwatch.LogAccountPolicy(
            f"{name}-subscription",
            policy_name=naming.subscription_policy_name(prefix),
            policy_type="SUBSCRIPTION_FILTER_POLICY",
            scope="ALL",
            policy_document=subscription_role.arn.apply(
                lambda role_arn: json.dumps(
                    documents.subscription_filter_policy(
                        destination_arn=destination_arn, role_arn=role_arn
                    )
                )
            ),
            selection_criteria=documents.selection_criteria(self.excluded_log_groups),
            region=region,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[subscription_role_policy]),
        )

        # ---- detection: replication changes anywhere, log bucket and account-policy changes,
        # and our alarms' state changes, forwarded to the central alert bus
        rule_name = naming.detection_rule_name(prefix)
        rule_arn = naming.events_rule_arn(region, account, rule_name)
        central_bus_arn = naming.events_bus_arn(
            home, s.log_archive_account_id, naming.alert_bus_name(prefix)
        )
        forwarder_role, forwarder_policy = service_role(
            self,
            f"{name}-alert-forwarder",
            name=naming.alert_forwarder_role_name(prefix, region),
            trust=documents.alert_forwarder_trust_policy(account=account, rule_arn=rule_arn),
            policy=documents.alert_forwarder_policy(central_bus_arn),
        )
        rule = aws.cloudwatch.EventRule(
            f"{name}-detection",
            name=rule_name,
            description="org-logging: a replication configuration, the log bucket, the account's "
            "CloudWatch Logs policies or an org-logging alarm changed",
            event_pattern=json.dumps(documents.source_detection_pattern(prefix, bucket_name)),
            region=region,
            opts=child,
        )
        aws.cloudwatch.EventTarget(
            f"{name}-detection-to-central-bus",
            rule=rule.name,
            arn=central_bus_arn,
            role_arn=forwarder_role.arn,
            region=region,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[forwarder_policy]),
        )

        self.log_bucket_name = bucket.bucket
        self.log_bucket_arn = bucket.arn
        self.replication_role_arn = replication_role.arn
        self.delivery_conventions = naming.delivery_conventions(account)
        self.register_outputs(
            {
                "log_bucket_name": self.log_bucket_name,
                "log_bucket_arn": self.log_bucket_arn,
                "replication_role_arn": self.replication_role_arn,
                "destination_arn": self.destination_arn,
                "excluded_log_groups": list(self.excluded_log_groups),
                "delivery_conventions": self.delivery_conventions,
            }
        )

    def _cloudfront_acl(
        self, name: str, bucket: aws.s3.Bucket, hardened: HardenedBucket, region: str
    ) -> aws.s3.BucketAcl:
        """The legacy CloudFront grant. New buckets are BucketOwnerEnforced (ACLs refused), so
        the ACL waits for the ownership change:
        https://www.pulumi.com/registry/packages/aws/api-docs/s3/bucketacl/"""
        owner = aws.s3.get_canonical_user_id().id
        return aws.s3.BucketAcl(
            f"{name}-logs-cloudfront-acl",
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
            region=region,
            opts=pulumi.ResourceOptions(
                parent=self, depends_on=[hardened.ownership, hardened.versioning]
            ),
        )

    def _replication_alarm(self, name: str, s: Settings, bucket_name: str) -> None:
        """Replication failures are otherwise silent, and the local copy expires after
        localRetentionDays. S3 publishes OperationsFailedReplication in the source bucket's
        region when replication metrics are on:
        https://docs.aws.amazon.com/AmazonS3/latest/userguide/repl-metrics.html"""
        aws.cloudwatch.MetricAlarm(
            f"{name}-replication-failed",
            name=naming.replication_alarm_name(s.name_prefix),
            alarm_description=(
                f"org-logging: objects of {bucket_name} failed to replicate to "
                f"{s.central_bucket}; they expire locally after {s.local_retention_days} days. "
                "Check the replication role's trust and policy, the central bucket policy and "
                "the replication configuration (aws s3api get-bucket-replication)."
            ),
            namespace="AWS/S3",
            metric_name="OperationsFailedReplication",
            dimensions={
                "SourceBucket": bucket_name,
                "DestinationBucket": s.central_bucket,
                "RuleId": REPLICATION_RULE_ID,
            },
            statistic="Sum",
            period=300,
            evaluation_periods=1,
            comparison_operator="GreaterThanThreshold",
            threshold=0,
            treat_missing_data="notBreaching",
            region=s.region,
            opts=pulumi.ResourceOptions(parent=self),
        )


REPLICATION_RULE_ID = "org-logs"


def replication_rule(s: Settings) -> dict:
    """The V2 rule (with `filter`): the account's whole prefix, no delete markers, into the
    central bucket and account, replicas owned by the destination. Replicas of the SSE-S3
    source stay SSE-S3: the central bucket policy, not the key, guards who reads them."""
    prefix = naming.account_logs_prefix(s.account_id)
    destination: dict = {
        "bucket": naming.s3_bucket_arn(s.home_region, s.central_bucket),
        "storage_class": "STANDARD",
        # Metrics always: the failure alarm reads OperationsFailedReplication. RTC is optional.
        "metrics": {"status": "Enabled"},
    }
    if s.account_id != s.log_archive_account_id:
        # Owner override is for cross-account replication only.
        destination["account"] = s.log_archive_account_id
        destination["access_control_translation"] = {"owner": "Destination"}
    if s.replication_time_control:
        destination["replication_time"] = {"status": "Enabled", "time": {"minutes": 15}}
        destination["metrics"] = {"status": "Enabled", "event_threshold": {"minutes": 15}}
    return {
        "id": REPLICATION_RULE_ID,
        "status": "Enabled",
        "priority": 1,
        "filter": {"prefix": prefix},
        "delete_marker_replication": {"status": "Disabled"},
        "destination": destination,
    }
