"""Statements several documents share, written out as AWS reads them. The tests compare whole
statements (Sid, Effect, Principal, Action, Resource, Condition) with these and with literals
of their own, never with the program's constants: a changed action list, a flipped Effect or a
dropped condition must fail a test."""

from __future__ import annotations

from typing import Any

EVERYONE = {"AWS": "*"}

# What nobody but the admin role may do to a log bucket, or to its objects.
BUCKET_TAMPER_ACTIONS = [
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
]
OBJECT_TAMPER_ACTIONS = [
    "s3:DeleteObject",
    "s3:DeleteObjectVersion",
    "s3:PutObjectRetention",
    "s3:PutObjectLegalHold",
    "s3:BypassGovernanceRetention",
]


def deny_insecure_transport(bucket_arn: str) -> dict[str, Any]:
    return {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": {"AWS": "*"},
        "Action": "s3:*",
        "Resource": [bucket_arn, f"{bucket_arn}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


def deny_bucket_tampering(bucket_arn: str, admin_arn: str) -> dict[str, Any]:
    return {
        "Sid": "DenyBucketTamperingExceptAdmin",
        "Effect": "Deny",
        "Principal": {"AWS": "*"},
        "Action": BUCKET_TAMPER_ACTIONS,
        "Resource": bucket_arn,
        "Condition": {"ArnNotLike": {"aws:PrincipalArn": admin_arn}},
    }


def deny_object_deletion(bucket_arn: str, admin_arn: str) -> dict[str, Any]:
    return {
        "Sid": "DenyObjectDeletionExceptAdmin",
        "Effect": "Deny",
        "Principal": {"AWS": "*"},
        "Action": OBJECT_TAMPER_ACTIONS,
        "Resource": f"{bucket_arn}/*",
        "Condition": {"ArnNotLike": {"aws:PrincipalArn": admin_arn}},
    }


def deny_object_writes(bucket_arn: str, writer_arns: list[str]) -> dict[str, Any]:
    """Nobody but `writer_arns` and AWS services puts an object (so overwrites a log)."""
    return {
        "Sid": "DenyObjectWritesExceptWriters",
        "Effect": "Deny",
        "Principal": {"AWS": "*"},
        "Action": "s3:PutObject",
        "Resource": f"{bucket_arn}/*",
        "Condition": {
            "Bool": {"aws:PrincipalIsAWSService": "false"},
            "ArnNotLike": {"aws:PrincipalArn": writer_arns},
        },
    }


def trusted_service(service: str, condition: dict[str, Any]) -> dict[str, Any]:
    """The one statement of a trust policy: only `service`, only under `condition`."""
    return {
        "Sid": "TrustedService",
        "Effect": "Allow",
        "Principal": {"Service": service},
        "Action": "sts:AssumeRole",
        "Condition": condition,
    }
