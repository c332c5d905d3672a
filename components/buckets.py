"""The hardening every org-logging bucket gets, and the lifecycle rules that expire logs."""

from __future__ import annotations

import json
from typing import NamedTuple

import pulumi
import pulumi_aws as aws

# Colder storage as objects age; a transition is used only when the retention outlasts it.
LIFECYCLE_TRANSITIONS = (("STANDARD_IA", 30), ("GLACIER_IR", 90), ("DEEP_ARCHIVE", 180))


def lifecycle_rules(retention_days: int, *, transitions: bool = True) -> list[dict]:
    """Expire after `retention_days`; move to colder classes where the retention allows it."""
    steps = [
        {"storage_class": storage_class, "days": days}
        # Each class is kept at least its minimum billable duration (30/90/180 days) before expiry.
        for storage_class, days in (LIFECYCLE_TRANSITIONS if transitions else ())
        if retention_days >= 2 * days
    ]
    return [
        {
            "id": "archive-then-expire",
            "status": "Enabled",
            "filter": {},
            "transitions": steps,
            "expiration": {"days": retention_days},
            "noncurrent_version_expiration": {"noncurrent_days": 1},
        },
        {
            "id": "clean-up",
            "status": "Enabled",
            "filter": {},
            "expiration": {"expired_object_delete_marker": True},
            "abort_incomplete_multipart_upload": {"days_after_initiation": 7},
        },
    ]


class HardenedBucket(NamedTuple):
    versioning: aws.s3.BucketVersioning
    policy: aws.s3.BucketPolicy


def kept(
    parent: pulumi.Resource, *, depends_on: list[pulumi.Resource] | None = None
) -> pulumi.ResourceOptions:
    """Options of a log bucket and everything that protects it: `pulumi destroy` un-enrolls
    but never deletes a log or leaves it unprotected (retain_on_delete keeps the resource)."""
    return pulumi.ResourceOptions(parent=parent, retain_on_delete=True, depends_on=depends_on)


def harden_bucket(
    parent: pulumi.Resource,
    name: str,
    bucket: aws.s3.Bucket,
    *,
    region: str,
    sse: dict,
    policy: dict,
    lifecycle: list[dict],
    object_ownership: str = "BucketOwnerEnforced",
) -> HardenedBucket:
    """Versioning, object ownership (ACLs off by default), all public-access blocks,
    encryption, policy and expiry; all kept when the stack is destroyed."""
    versioning = aws.s3.BucketVersioning(
        f"{name}-versioning",
        bucket=bucket.id,
        versioning_configuration={"status": "Enabled"},
        region=region,
        opts=kept(parent),
    )
    aws.s3.BucketOwnershipControls(
        f"{name}-ownership",
        bucket=bucket.id,
        rule={"object_ownership": object_ownership},
        region=region,
        opts=kept(parent),
    )
    public_access_block = aws.s3.BucketPublicAccessBlock(
        f"{name}-public-access-block",
        bucket=bucket.id,
        block_public_acls=True,
        block_public_policy=True,
        ignore_public_acls=True,
        restrict_public_buckets=True,
        region=region,
        opts=kept(parent),
    )
    aws.s3.BucketServerSideEncryptionConfiguration(
        f"{name}-encryption",
        bucket=bucket.id,
        rules=[
            {
                "apply_server_side_encryption_by_default": sse,
                "bucket_key_enabled": sse["sse_algorithm"] == "aws:kms",
            }
        ],
        region=region,
        opts=kept(parent),
    )
    bucket_policy = aws.s3.BucketPolicy(
        f"{name}-policy",
        bucket=bucket.id,
        policy=json.dumps(policy),
        region=region,
        opts=kept(parent, depends_on=[public_access_block]),
    )
    aws.s3.BucketLifecycleConfiguration(
        f"{name}-lifecycle",
        bucket=bucket.id,
        rules=lifecycle,
        region=region,
        opts=kept(parent, depends_on=[versioning]),
    )
    return HardenedBucket(versioning, bucket_policy)
