"""Deployable on real AWS: one test (or more) per finding of the pre-deployment audit;
here the buckets' items: 01, 03, 07, 08 and 09.

Each rule below is something AWS refuses, or a promise that did not hold, that our stand-ins
used to accept. The numbers are the audit's items; each test names the behaviour it proves.
The other items are in test_deployability_org.py (04-06) and
test_deployability_guards.py (02, 10-15).
"""

from __future__ import annotations

import json

import pytest
from conftest import ADMIN_ROLE, MANAGEMENT, MEMBER, policy_doc, stack_config, statements
from deployability import (
    ACCESS,
    ARCHIVE_ADMIN,
    CENTRAL,
    FIREHOSE_ROLE,
    MEMBER_ADMIN,
    READER_ROLE,
    SOURCE_BUCKET,
    archive,
    source,
)

from enroll.run.automation import assume_role_config


def bucket_of(resource) -> str | None:
    return resource.inputs.get("bucket")


# ---- 1. the management account locks itself out ---------------------------------------------


ALL_RENDERS = {
    "log-archive": lambda: archive(),
    "log-archive with a lock": lambda: archive(objectLock={"mode": "GOVERNANCE", "days": 30}),
    "source": lambda: source(),
    "source with legacy CloudFront": lambda: source(cloudFrontLegacyLogging=True),
    "source with RTC": lambda: source(replicationTimeControl=True),
}


@pytest.mark.parametrize("render_", ALL_RENDERS.values(), ids=ALL_RENDERS.keys())
def test_01_every_bucket_policy_is_applied_after_every_other_part_of_its_bucket(render_):
    """The policy denies configuration changes to all but adminRoleName: applied early, it
    refuses the deployment's own later calls."""
    rendered = render_()
    policies = rendered.of_type("aws:s3/bucketPolicy:BucketPolicy")
    assert policies
    for policy in policies:
        parts = [
            r
            for r in rendered.resources
            if r.type.startswith("aws:s3/bucket")
            and r.type not in ("aws:s3/bucket:Bucket", "aws:s3/bucketPolicy:BucketPolicy")
            and bucket_of(r) == bucket_of(policy)
        ]
        assert len(parts) >= 5, policy.name
        missing = sorted(part.name for part in parts if part.urn not in policy.dependencies)
        assert missing == [], f"{policy.name} does not wait for {missing}"


def test_01_source_stacks_of_the_management_account_run_as_the_admin_role():
    from enroll.org.model import PlannedStack

    config = stack_config("source", accountId=MANAGEMENT)
    stack = PlannedStack("s", "source", MANAGEMENT, "us-east-1", config)
    assert assume_role_config(stack, None) == [
        {
            "roleArn": f"arn:aws:iam::{MANAGEMENT}:role/{ADMIN_ROLE}",
            "sessionName": "org-logging-s",
        }
    ]


# ---- 3. the legacy CloudFront ACL waits for the ownership change ------------------------------


def test_03_the_cloudfront_acl_depends_on_the_buckets_ownership_controls():
    rendered = source(cloudFrontLegacyLogging=True)
    acl = rendered.one("aws:s3/bucketAcl:BucketAcl")
    ownership = rendered.one("aws:s3/bucketOwnershipControls:BucketOwnershipControls")
    assert ownership.inputs["rule"] == {"objectOwnership": "BucketOwnerPreferred"}
    assert ownership.urn in acl.dependencies


# ---- 7. replication failures are no longer silent ---------------------------------------------


def test_07_replication_metrics_are_always_on_and_rtc_stays_optional():
    (rule,) = source().one("aws:s3/bucketReplicationConfig:BucketReplicationConfig").inputs["rules"]
    assert rule["destination"]["metrics"] == {"status": "Enabled"}
    assert "replicationTime" not in rule["destination"]


def test_07_an_alarm_watches_failed_replication_in_the_source_region():
    alarm = (
        source()
        .one("aws:cloudwatch/metricAlarm:MetricAlarm", "source-eu-west-1-replication-failed")
        .inputs
    )
    assert {k: v for k, v in alarm.items() if k != "alarmDescription"} == {
        "name": "acme-logging-replication-failed",
        "namespace": "AWS/S3",
        "metricName": "OperationsFailedReplication",
        "dimensions": {
            "SourceBucket": SOURCE_BUCKET,
            "DestinationBucket": CENTRAL,
            "RuleId": "org-logs",
        },
        "statistic": "Sum",
        "period": 300,
        "evaluationPeriods": 1,
        "comparisonOperator": "GreaterThanThreshold",
        "threshold": 0,
        "treatMissingData": "notBreaching",
        "region": "eu-west-1",
    }
    assert "expire locally after 30 days" in alarm["alarmDescription"]


def test_07_alarm_state_changes_reach_the_central_topic():
    alarm_events = {
        "source": ["aws.cloudwatch"],
        "detail-type": ["CloudWatch Alarm State Change"],
        "detail": {"alarmName": [{"prefix": "acme-logging-"}]},
    }
    forwarded = json.loads(
        source().one("aws:cloudwatch/eventRule:EventRule").inputs["eventPattern"]
    )
    (own_alarms,) = [p for p in forwarded["$or"] if p["source"] == ["aws.cloudwatch"]]
    assert "acme-logging-replication-failed" in own_alarms["detail"]["alarmName"]
    central = archive().one("aws:cloudwatch/eventRule:EventRule", "log-archive-alert-rule")
    assert alarm_events in json.loads(central.inputs["eventPattern"])["$or"]


# ---- 8. an overwrite no longer erases a log ---------------------------------------------------


@pytest.mark.parametrize(
    "render_, lifecycle, days",
    [
        (archive, "log-archive-central-lifecycle", 365),
        (archive, "log-archive-access-logs-lifecycle", 365),
        (source, "source-eu-west-1-logs-lifecycle", 30),
    ],
)
def test_08_noncurrent_versions_are_kept_as_long_as_current_ones(render_, lifecycle, days):
    rendered = render_()
    rules = rendered.one(
        "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", lifecycle
    ).inputs["rules"]
    (expire,) = [r for r in rules if r["id"] == "archive-then-expire"]
    assert expire["noncurrentVersionExpiration"] == {"noncurrentDays": days}


def bucket_policy(rendered, name):
    return statements(policy_doc(rendered.one("aws:s3/bucketPolicy:BucketPolicy", name)))


def test_08_only_the_central_buckets_writers_may_put_objects():
    deny = bucket_policy(archive(), "log-archive-central-policy")["DenyObjectWritesExceptWriters"]
    assert deny == {
        "Sid": "DenyObjectWritesExceptWriters",
        "Effect": "Deny",
        "Principal": {"AWS": "*"},
        "Action": "s3:PutObject",
        "Resource": f"arn:aws:s3:::{CENTRAL}/*",
        # CloudTrail writes as a service principal; replication uses s3:ReplicateObject.
        "Condition": {
            "Bool": {"aws:PrincipalIsAWSService": "false"},
            "ArnNotLike": {"aws:PrincipalArn": [FIREHOSE_ROLE, ARCHIVE_ADMIN]},
        },
    }


def test_08_only_s3_access_logging_may_put_objects_into_the_access_log_bucket():
    deny = bucket_policy(archive(), "log-archive-access-logs-policy")[
        "DenyObjectWritesExceptWriters"
    ]
    assert deny == {
        "Sid": "DenyObjectWritesExceptWriters",
        "Effect": "Deny",
        "Principal": {"AWS": "*"},
        "Action": "s3:PutObject",
        "Resource": f"arn:aws:s3:::{ACCESS}/*",
        "Condition": {
            "Bool": {"aws:PrincipalIsAWSService": "false"},
            "ArnNotLike": {"aws:PrincipalArn": [ARCHIVE_ADMIN]},
        },
    }


def test_08_only_the_delivery_services_may_put_objects_into_a_source_bucket():
    deny = bucket_policy(source(), "source-eu-west-1-logs-policy")["DenyObjectWritesExceptWriters"]
    assert deny == {
        "Sid": "DenyObjectWritesExceptWriters",
        "Effect": "Deny",
        "Principal": {"AWS": "*"},
        "Action": "s3:PutObject",
        "Resource": f"arn:aws:s3:::{SOURCE_BUCKET}/*",
        # eu-west-1's ELB account writes as an account, not as a service principal.
        "Condition": {
            "Bool": {"aws:PrincipalIsAWSService": "false"},
            "ArnNotLike": {"aws:PrincipalArn": [MEMBER_ADMIN]},
            "StringNotEquals": {"aws:PrincipalAccount": ["156460612806"]},
        },
    }
    newer = bucket_policy(
        source("eu-central-2", regions=["us-east-1", "eu-central-2"]),
        "source-eu-central-2-logs-policy",
    )["DenyObjectWritesExceptWriters"]
    assert "StringNotEquals" not in newer["Condition"]  # a service principal there


def test_08_legacy_cloudfront_keeps_only_its_own_prefix_open():
    deny = bucket_policy(source(cloudFrontLegacyLogging=True), "source-eu-west-1-logs-policy")[
        "DenyObjectWritesExceptWriters"
    ]
    assert "Resource" not in deny
    assert deny["NotResource"] == [f"arn:aws:s3:::{SOURCE_BUCKET}/AWSLogs/{MEMBER}/CloudFront/*"]


def test_08_object_lock_stays_opt_in():
    assert (
        "objectLockEnabled"
        not in archive().one("aws:s3/bucket:Bucket", "log-archive-central").inputs
    )
    assert (
        archive().of_type("aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration")
        == []
    )


# ---- 9. replicas of SSE-S3 objects stay SSE-S3 ------------------------------------------------


def test_09_no_dead_replica_key_grant_and_no_replica_key():
    key = statements(policy_doc(archive().one("aws:kms/key:Key")))
    assert "AllowOrgReplicaEncryption" not in key
    (rule,) = source().one("aws:s3/bucketReplicationConfig:BucketReplicationConfig").inputs["rules"]
    assert "encryptionConfiguration" not in rule["destination"]
    role_policy = statements(
        policy_doc(source().one("aws:iam/rolePolicy:RolePolicy", "source-eu-west-1-replication"))
    )
    assert "EncryptReplicasWithCentralKey" not in role_policy


def test_09_only_the_admin_and_reader_roles_may_read_the_archive():
    deny = bucket_policy(archive(), "log-archive-central-policy")["DenyReadingLogsExceptReaders"]
    assert deny == {
        "Sid": "DenyReadingLogsExceptReaders",
        "Effect": "Deny",
        "Principal": {"AWS": "*"},
        "Action": ["s3:GetObject", "s3:GetObjectVersion"],
        "Resource": f"arn:aws:s3:::{CENTRAL}/*",
        "Condition": {"ArnNotLike": {"aws:PrincipalArn": [ARCHIVE_ADMIN, READER_ROLE]}},
    }
