"""LogArchive: the resource policies that keep the archive (the central bucket's, the access-log
bucket's, the KMS key's), each statement compared whole, so that a flipped Effect, a dropped
condition or a changed action fails; test_log_archive.py has the buckets and the key themselves.
"""

from __future__ import annotations

from conftest import (
    ADMIN_ROLE,
    LOG_ARCHIVE,
    MANAGEMENT,
    ORG_ID,
    policy_doc,
    render_config,
    stack_config,
    statements,
)
from expected import (
    deny_bucket_tampering,
    deny_insecure_transport,
    deny_object_deletion,
    deny_object_writes,
)

CENTRAL = "acme-org-logs-222222222222-us-east-1"
CENTRAL_ARN = f"arn:aws:s3:::{CENTRAL}"
ACCESS_ARN = "arn:aws:s3:::acme-org-logs-access-222222222222-us-east-1"
TRAIL_ARN = "arn:aws:cloudtrail:us-east-1:111111111111:trail/acme-org-trail"
ADMIN_ARN = f"arn:aws:iam::{LOG_ARCHIVE}:role/{ADMIN_ROLE}"
FIREHOSE_ROLE_ARN = f"arn:aws:iam::{LOG_ARCHIVE}:role/acme-logging-firehose"
READER_ROLE_ARN = f"arn:aws:iam::{LOG_ARCHIVE}:role/acme-logging-reader"
ALERT_RULE_ARNS = [
    "arn:aws:events:us-east-1:222222222222:rule/acme-org-logging-alerts/acme-logging-alerts",
    "arn:aws:events:us-east-1:222222222222:rule/acme-logging-archive-detection",
]
FROM_ORG_REPLICATION_ROLES = {
    "StringEquals": {"aws:PrincipalOrgID": ORG_ID},
    "ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/acme-logging-replication-*"},
}


def sids(document: dict) -> list[str]:
    return [s["Sid"] for s in document["Statement"]]


# ---- central bucket policy ---------------------------------------------------------------


def central_document(rendered) -> dict:
    return policy_doc(
        rendered.one("aws:s3/bucketPolicy:BucketPolicy", "log-archive-central-policy")
    )


def central_policy(rendered) -> dict[str, dict]:
    return statements(central_document(rendered))


def test_the_central_bucket_policy_has_exactly_these_statements(log_archive):
    document = central_document(log_archive)
    assert document["Version"] == "2012-10-17"
    assert sids(document) == [
        "DenyInsecureTransport",
        "AllowOrgReplicationIntoOwnPrefix",
        "AllowOrgReplicationVersioningCheck",
        "DenyReplicatedDeletes",
        "AllowCloudTrailAclCheck",
        "AllowOrgTrailWrite",
        "DenyBucketTamperingExceptAdmin",
        "DenyObjectDeletionExceptAdmin",
        "DenyObjectWritesExceptWriters",
        "DenyReadingLogsExceptReaders",
    ]


def test_central_bucket_denies_requests_without_tls(log_archive):
    assert central_policy(log_archive)["DenyInsecureTransport"] == {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": {"AWS": "*"},
        "Action": "s3:*",
        "Resource": [CENTRAL_ARN, f"{CENTRAL_ARN}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


def test_replication_is_allowed_only_from_the_org_into_the_principals_own_prefix(log_archive):
    policy = central_policy(log_archive)
    assert policy["AllowOrgReplicationIntoOwnPrefix"] == {
        "Sid": "AllowOrgReplicationIntoOwnPrefix",
        "Effect": "Allow",
        "Principal": {"AWS": "*"},
        "Action": [
            "s3:ReplicateObject",
            "s3:ReplicateTags",
            "s3:ObjectOwnerOverrideToBucketOwner",
        ],
        "Resource": f"{CENTRAL_ARN}/AWSLogs/${{aws:PrincipalAccount}}/*",
        "Condition": FROM_ORG_REPLICATION_ROLES,
    }
    assert policy["AllowOrgReplicationVersioningCheck"] == {
        "Sid": "AllowOrgReplicationVersioningCheck",
        "Effect": "Allow",
        "Principal": {"AWS": "*"},
        "Action": "s3:GetBucketVersioning",
        "Resource": CENTRAL_ARN,
        "Condition": FROM_ORG_REPLICATION_ROLES,
    }


def test_no_one_may_replicate_deletes_into_the_archive(log_archive):
    assert central_policy(log_archive)["DenyReplicatedDeletes"] == {
        "Sid": "DenyReplicatedDeletes",
        "Effect": "Deny",
        "Principal": {"AWS": "*"},
        "Action": "s3:ReplicateDelete",
        "Resource": f"{CENTRAL_ARN}/*",
    }


def test_org_trail_writes_only_its_prefixes_with_the_trail_as_source(log_archive):
    policy = central_policy(log_archive)
    assert policy["AllowCloudTrailAclCheck"] == {
        "Sid": "AllowCloudTrailAclCheck",
        "Effect": "Allow",
        "Principal": {"Service": "cloudtrail.amazonaws.com"},
        "Action": "s3:GetBucketAcl",
        "Resource": CENTRAL_ARN,
        "Condition": {"StringEquals": {"aws:SourceArn": TRAIL_ARN}},
    }
    assert policy["AllowOrgTrailWrite"] == {
        "Sid": "AllowOrgTrailWrite",
        "Effect": "Allow",
        "Principal": {"Service": "cloudtrail.amazonaws.com"},
        "Action": "s3:PutObject",
        "Resource": [
            f"{CENTRAL_ARN}/AWSLogs/{ORG_ID}/*",
            f"{CENTRAL_ARN}/AWSLogs/{MANAGEMENT}/*",
        ],
        "Condition": {
            "StringEquals": {
                "aws:SourceArn": TRAIL_ARN,
                "s3:x-amz-acl": "bucket-owner-full-control",
            }
        },
    }


def test_deletes_and_lifecycle_or_policy_changes_are_denied_to_all_but_the_admin_role(log_archive):
    policy = central_policy(log_archive)
    assert policy["DenyBucketTamperingExceptAdmin"] == {
        "Sid": "DenyBucketTamperingExceptAdmin",
        "Effect": "Deny",
        "Principal": {"AWS": "*"},
        "Action": [
            "s3:DeleteBucket",
            "s3:DeleteBucketPolicy",
            "s3:PutBucketPolicy",
            "s3:PutBucketVersioning",
            "s3:PutLifecycleConfiguration",
            "s3:PutEncryptionConfiguration",
            "s3:PutBucketObjectLockConfiguration",
            "s3:PutBucketOwnershipControls",
            "s3:PutBucketPublicAccessBlock",
            "s3:PutBucketAcl",
            "s3:PutBucketLogging",
            "s3:PutBucketNotification",
            "s3:PutReplicationConfiguration",
        ],
        "Resource": CENTRAL_ARN,
        "Condition": {"ArnNotLike": {"aws:PrincipalArn": ADMIN_ARN}},
    }
    assert policy["DenyObjectDeletionExceptAdmin"] == {
        "Sid": "DenyObjectDeletionExceptAdmin",
        "Effect": "Deny",
        "Principal": {"AWS": "*"},
        "Action": [
            "s3:DeleteObject",
            "s3:DeleteObjectVersion",
            "s3:PutObjectRetention",
            "s3:PutObjectLegalHold",
            "s3:BypassGovernanceRetention",
        ],
        "Resource": f"{CENTRAL_ARN}/*",
        "Condition": {"ArnNotLike": {"aws:PrincipalArn": ADMIN_ARN}},
    }


def test_only_firehose_and_the_admin_role_put_objects_and_only_readers_read(log_archive):
    policy = central_policy(log_archive)
    assert policy["DenyObjectWritesExceptWriters"] == {
        "Sid": "DenyObjectWritesExceptWriters",
        "Effect": "Deny",
        "Principal": {"AWS": "*"},
        "Action": "s3:PutObject",
        "Resource": f"{CENTRAL_ARN}/*",
        "Condition": {
            # CloudTrail writes as a service; replication with s3:ReplicateObject.
            "Bool": {"aws:PrincipalIsAWSService": "false"},
            "ArnNotLike": {"aws:PrincipalArn": [FIREHOSE_ROLE_ARN, ADMIN_ARN]},
        },
    }
    assert policy["DenyReadingLogsExceptReaders"] == {
        "Sid": "DenyReadingLogsExceptReaders",
        "Effect": "Deny",
        "Principal": {"AWS": "*"},
        "Action": ["s3:GetObject", "s3:GetObjectVersion"],
        "Resource": f"{CENTRAL_ARN}/*",
        "Condition": {"ArnNotLike": {"aws:PrincipalArn": [ADMIN_ARN, READER_ROLE_ARN]}},
    }


# ---- access-log bucket policy ------------------------------------------------------------


def test_the_access_log_bucket_takes_only_s3_server_access_logs_of_the_central_bucket(
    log_archive,
):
    document = policy_doc(
        log_archive.one("aws:s3/bucketPolicy:BucketPolicy", "log-archive-access-logs-policy")
    )
    assert document["Statement"] == [
        deny_insecure_transport(ACCESS_ARN),
        {
            "Sid": "AllowServerAccessLogDelivery",
            "Effect": "Allow",
            "Principal": {"Service": "logging.s3.amazonaws.com"},
            "Action": "s3:PutObject",
            "Resource": f"{ACCESS_ARN}/{CENTRAL}/*",
            "Condition": {
                "ArnLike": {"aws:SourceArn": CENTRAL_ARN},
                "StringEquals": {"aws:SourceAccount": LOG_ARCHIVE},
            },
        },
        deny_bucket_tampering(ACCESS_ARN, ADMIN_ARN),
        deny_object_deletion(ACCESS_ARN, ADMIN_ARN),
        deny_object_writes(ACCESS_ARN, [ADMIN_ARN]),
    ]


# ---- KMS key policy ------------------------------------------------------------------------


def key_document(rendered) -> dict:
    return policy_doc(rendered.one("aws:kms/key:Key"))


def key_policy(rendered) -> dict[str, dict]:
    return statements(key_document(rendered))


def test_the_key_policy_has_exactly_these_statements(log_archive):
    assert sids(key_document(log_archive)) == [
        "EnableAccountAdministration",
        "DenyKeyDestructionExceptAdmin",
        "AllowManagementAccountDescribeKey",
        "AllowOrgTrailEncrypt",
        "AllowOrgTrailDescribeKey",
        "AllowFirehoseDelivery",
        "AllowAlertRulePublish",
    ]


def test_the_log_archive_account_administers_the_key_and_management_may_describe_it(
    log_archive,
):
    policy = key_policy(log_archive)
    assert policy["EnableAccountAdministration"] == {
        "Sid": "EnableAccountAdministration",
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{LOG_ARCHIVE}:root"},
        "Action": "kms:*",
        "Resource": "*",
    }
    assert policy["AllowManagementAccountDescribeKey"] == {
        "Sid": "AllowManagementAccountDescribeKey",
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{MANAGEMENT}:root"},
        "Action": "kms:DescribeKey",
        "Resource": "*",
    }


def test_key_lets_cloudtrail_encrypt_only_for_the_management_accounts_trail(log_archive):
    policy = key_policy(log_archive)
    assert policy["AllowOrgTrailEncrypt"] == {
        "Sid": "AllowOrgTrailEncrypt",
        "Effect": "Allow",
        "Principal": {"Service": "cloudtrail.amazonaws.com"},
        "Action": "kms:GenerateDataKey*",
        "Resource": "*",
        "Condition": {
            "StringLike": {
                "kms:EncryptionContext:aws:cloudtrail:arn": (
                    f"arn:aws:cloudtrail:*:{MANAGEMENT}:trail/*"
                )
            },
            "StringEquals": {"aws:SourceArn": TRAIL_ARN},
        },
    }
    assert policy["AllowOrgTrailDescribeKey"] == {
        "Sid": "AllowOrgTrailDescribeKey",
        "Effect": "Allow",
        "Principal": {"Service": "cloudtrail.amazonaws.com"},
        "Action": "kms:DescribeKey",
        "Resource": "*",
        "Condition": {"StringEquals": {"aws:SourceArn": TRAIL_ARN}},
    }


def test_key_lets_the_firehose_role_encrypt_through_s3_only_for_the_central_bucket(log_archive):
    assert key_policy(log_archive)["AllowFirehoseDelivery"] == {
        "Sid": "AllowFirehoseDelivery",
        "Effect": "Allow",
        "Principal": {"AWS": FIREHOSE_ROLE_ARN},
        "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
        "Resource": "*",
        "Condition": {
            "StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"},
            # With an S3 Bucket Key the encryption context is the bucket's ARN.
            "StringLike": {"kms:EncryptionContext:aws:s3:arn": [CENTRAL_ARN, f"{CENTRAL_ARN}/*"]},
        },
    }


def test_key_lets_only_the_alert_rules_publish_to_the_encrypted_topic(log_archive):
    assert key_policy(log_archive)["AllowAlertRulePublish"] == {
        "Sid": "AllowAlertRulePublish",
        "Effect": "Allow",
        "Principal": {"Service": "events.amazonaws.com"},
        "Action": ["kms:GenerateDataKey*", "kms:Decrypt"],
        "Resource": "*",
        "Condition": {"ArnEquals": {"aws:SourceArn": ALERT_RULE_ARNS}},
    }


def test_key_cannot_be_destroyed_or_repoliced_but_by_the_admin_role(log_archive):
    assert key_policy(log_archive)["DenyKeyDestructionExceptAdmin"] == {
        "Sid": "DenyKeyDestructionExceptAdmin",
        "Effect": "Deny",
        "Principal": {"AWS": "*"},
        "Action": [
            "kms:ScheduleKeyDeletion",
            "kms:DisableKey",
            "kms:DisableKeyRotation",
            "kms:PutKeyPolicy",
            "kms:DeleteImportedKeyMaterial",
            "kms:UpdateAlias",
            "kms:DeleteAlias",
        ],
        "Resource": "*",
        "Condition": {"ArnNotLike": {"aws:PrincipalArn": ADMIN_ARN}},
    }


def test_key_grants_nothing_to_replication_because_replicas_of_sse_s3_stay_sse_s3(log_archive):
    assert not any("replication" in str(s) for s in key_document(log_archive)["Statement"])


# ---- other partitions ----------------------------------------------------------------------


def test_in_aws_cn_every_arn_endpoint_and_principal_is_chinas():
    rendered = render_config(stack_config("log-archive", "aws-cn"), "log-archive")
    central = "arn:aws-cn:s3:::acme-org-logs-222222222222-cn-north-1"
    trail = "arn:aws-cn:cloudtrail:cn-north-1:111111111111:trail/acme-org-trail"
    assert central_policy(rendered)["AllowOrgTrailWrite"] == {
        "Sid": "AllowOrgTrailWrite",
        "Effect": "Allow",
        "Principal": {"Service": "cloudtrail.amazonaws.com"},
        "Action": "s3:PutObject",
        "Resource": [f"{central}/AWSLogs/{ORG_ID}/*", f"{central}/AWSLogs/{MANAGEMENT}/*"],
        "Condition": {
            "StringEquals": {"aws:SourceArn": trail, "s3:x-amz-acl": "bucket-owner-full-control"}
        },
    }
    assert key_policy(rendered)["AllowFirehoseDelivery"] == {
        "Sid": "AllowFirehoseDelivery",
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws-cn:iam::{LOG_ARCHIVE}:role/acme-logging-firehose"},
        "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
        "Resource": "*",
        "Condition": {
            "StringEquals": {"kms:ViaService": "s3.cn-north-1.amazonaws.com.cn"},
            "StringLike": {"kms:EncryptionContext:aws:s3:arn": [central, f"{central}/*"]},
        },
    }
