"""The hardening every org-logging bucket gets, and the lifecycle rules that expire logs."""

from __future__ import annotations

import json
from typing import TypeVar

import pulumi
import pulumi_aws as aws

# Colder storage as objects age; a transition is used only when the retention outlasts it.
# Both stay readable by Athena at once; Glacier Flexible Retrieval and Deep Archive objects are
# skipped by queries until restored (https://docs.aws.amazon.com/athena/latest/ug/querying-glacier.html),
# so Deep Archive is an opt-in (deepArchiveAfterDays; docs/querying.md).
LIFECYCLE_TRANSITIONS = (("STANDARD_IA", 30), ("GLACIER_IR", 90))
DEEP_ARCHIVE = "DEEP_ARCHIVE"  # after deepArchiveAfterDays (components.settings)

R = TypeVar("R", bound=pulumi.Resource)


def lifecycle_rules(
    retention_days: int, *, transitions: bool = True, deep_archive_days: int | None = None
) -> list[dict]:
    """Expire after `retention_days`; move to colder classes where the retention allows it.

    A noncurrent version is kept as long as a current one: an overwrite makes the genuine log
    noncurrent, and a bucket policy cannot stop lifecycle expiry
    (https://docs.aws.amazon.com/AmazonS3/latest/userguide/lifecycle-expire-general-considerations.html).
    """
    steps = [
        {"storage_class": storage_class, "days": days}
        # Each class is kept at least its minimum billable duration (30/90/180 days) before expiry.
        for storage_class, days in (LIFECYCLE_TRANSITIONS if transitions else ())
        if retention_days >= 2 * days and (deep_archive_days is None or days < deep_archive_days)
    ]
    if transitions and deep_archive_days is not None:
        steps.append({"storage_class": DEEP_ARCHIVE, "days": deep_archive_days})
    return [
        {
            "id": "archive-then-expire",
            "status": "Enabled",
            "filter": {},
            "transitions": steps,
            "expiration": {"days": retention_days},
            "noncurrent_version_expiration": {"noncurrent_days": retention_days},
        },
        {
            "id": "clean-up",
            "status": "Enabled",
            "filter": {},
            "expiration": {"expired_object_delete_marker": True},
            "abort_incomplete_multipart_upload": {"days_after_initiation": 7},
        },
    ]


def kept(
    parent: pulumi.Resource, *, depends_on: list[pulumi.Resource] | None = None
) -> pulumi.ResourceOptions:
    """Options of a log bucket and everything that protects it: `pulumi destroy` un-enrolls
    but never deletes a log or leaves it unprotected (retain_on_delete keeps the resource)."""
    return pulumi.ResourceOptions(parent=parent, retain_on_delete=True, depends_on=depends_on)


class HardenedBucket:
    """A log bucket's configuration resources, then its policy, applied last.

    The policy denies bucket-configuration changes to everyone but `adminRoleName`: applied
    before another configuration call of the same deployment, it would refuse that call to a
    deployer who is not the admin role. So `seal` makes it depend on every part `add`ed.
    """

    def __init__(
        self,
        parent: pulumi.Resource,
        name: str,
        bucket: aws.s3.Bucket,
        *,
        region: str,
        sse: dict,
        lifecycle: list[dict],
        object_ownership: str = "BucketOwnerEnforced",
    ) -> None:
        self.parent, self.name, self.bucket, self.region = parent, name, bucket, region
        self.parts: list[pulumi.Resource] = []
        self.policy: aws.s3.BucketPolicy | None = None
        self.versioning = self.add(
            aws.s3.BucketVersioning(
                f"{name}-versioning",
                bucket=bucket.id,
                versioning_configuration={"status": "Enabled"},
                region=region,
                opts=kept(parent),
            )
        )
        self.ownership = self.add(
            aws.s3.BucketOwnershipControls(
                f"{name}-ownership",
                bucket=bucket.id,
                rule={"object_ownership": object_ownership},
                region=region,
                opts=kept(parent),
            )
        )
        self.add(
            aws.s3.BucketPublicAccessBlock(
                f"{name}-public-access-block",
                bucket=bucket.id,
                block_public_acls=True,
                block_public_policy=True,
                ignore_public_acls=True,
                restrict_public_buckets=True,
                region=region,
                opts=kept(parent),
            )
        )
        self.add(
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
        )
        self.add(
            aws.s3.BucketLifecycleConfiguration(
                f"{name}-lifecycle",
                bucket=bucket.id,
                rules=lifecycle,
                region=region,
                opts=kept(parent, depends_on=[self.versioning]),
            )
        )

    def add(self, resource: R) -> R:
        """Another configuration resource of this bucket; the policy will wait for it."""
        if self.policy is not None:
            raise RuntimeError(f"{self.name}: configure the bucket before its policy is sealed")
        self.parts.append(resource)
        return resource

    def seal(self, policy: dict) -> aws.s3.BucketPolicy:
        """The bucket policy, after every configuration resource of the bucket."""
        self.policy = aws.s3.BucketPolicy(
            f"{self.name}-policy",
            bucket=self.bucket.id,
            policy=json.dumps(policy),
            region=self.region,
            opts=kept(self.parent, depends_on=list(self.parts)),
        )
        return self.policy
