"""Bucket policies: the central bucket, its access-log bucket and every source log bucket.

Each bucket lets its writers write, and only them; nobody but `adminRoleName` deletes an object
or changes what keeps it."""

from __future__ import annotations

from typing import Any

from components import naming
from components.documents.grammar import EVERYONE, Document, allow, deny, policy, service
from policy import conventions


def deny_insecure_transport(region: str, bucket: str) -> dict[str, Any]:
    return deny(
        "DenyInsecureTransport",
        "s3:*",
        [naming.s3_bucket_arn(region, bucket), naming.s3_objects_arn(region, bucket)],
        principal=EVERYONE,
        condition={"Bool": {"aws:SecureTransport": "false"}},
    )


# Actions that would let an account lose, rewrite or stop keeping logs in a log bucket.
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
    # Turning off the bucket's EventBridge notifications silences the FirehoseErrors/ alert.
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


def deny_tampering_except_admin(region: str, bucket: str, admin_role_arn: str) -> list[dict]:
    """Nobody but the admin role deletes objects or changes what keeps them."""
    not_admin = {"ArnNotLike": {"aws:PrincipalArn": admin_role_arn}}
    return [
        deny(
            "DenyBucketTamperingExceptAdmin",
            BUCKET_TAMPER_ACTIONS,
            naming.s3_bucket_arn(region, bucket),
            principal=EVERYONE,
            condition=not_admin,
        ),
        deny(
            "DenyObjectDeletionExceptAdmin",
            OBJECT_TAMPER_ACTIONS,
            naming.s3_objects_arn(region, bucket),
            principal=EVERYONE,
            condition=not_admin,
        ),
    ]


def deny_writes_except(
    region: str,
    bucket: str,
    *,
    writer_arns: list[str],
    writer_accounts: list[str] | tuple[str, ...] = (),
    not_resources: list[str] | tuple[str, ...] = (),
) -> dict[str, Any]:
    """Only the bucket's writers may put objects: an overwrite makes the genuine log noncurrent.

    AWS services writing with their service principal (CloudTrail, log delivery, S3 server
    access logging) are told apart by aws:PrincipalIsAWSService; roles by aws:PrincipalArn
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-principalisawsservice).
    """
    condition: dict[str, dict[str, Any]] = {
        "Bool": {"aws:PrincipalIsAWSService": "false"},
        "ArnNotLike": {"aws:PrincipalArn": writer_arns},
    }
    if writer_accounts:
        condition["StringNotEquals"] = {"aws:PrincipalAccount": list(writer_accounts)}
    body = deny(
        "DenyObjectWritesExceptWriters",
        "s3:PutObject",
        naming.s3_objects_arn(region, bucket),
        principal=EVERYONE,
        condition=condition,
    )
    if not_resources:
        del body["Resource"]
        body["NotResource"] = list(not_resources)
    return body


def replication_role_pattern(region: str, prefix: str) -> str:
    """Only org-logging's own replication roles, in any member account, may replicate."""
    return naming.iam_role_arn(region, "*", naming.replication_role_name(prefix, "*"))


def central_bucket_policy(
    *,
    region: str,
    bucket: str,
    name_prefix: str,
    org_id: str,
    management_account: str,
    trail_arn: str,
    admin_role_arn: str,
    firehose_role_arn: str,
    reader_role_arn: str,
) -> Document:
    org_prefix, management_prefix = naming.trail_prefixes(org_id, management_account)
    from_org_replication_role = {
        "StringEquals": {"aws:PrincipalOrgID": org_id},
        "ArnLike": {"aws:PrincipalArn": replication_role_pattern(region, name_prefix)},
    }
    return policy(
        deny_insecure_transport(region, bucket),
        # ${aws:PrincipalAccount} confines each account to its own prefix:
        # https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-principalaccount
        allow(
            "AllowOrgReplicationIntoOwnPrefix",
            ["s3:ReplicateObject", "s3:ReplicateTags", "s3:ObjectOwnerOverrideToBucketOwner"],
            naming.s3_objects_arn(
                region, bucket, f"{conventions.AWS_LOGS}/${{aws:PrincipalAccount}}/*"
            ),
            principal=EVERYONE,
            condition=from_org_replication_role,
        ),
        allow(
            "AllowOrgReplicationVersioningCheck",
            "s3:GetBucketVersioning",
            naming.s3_bucket_arn(region, bucket),
            principal=EVERYONE,
            condition=from_org_replication_role,
        ),
        # Deletions in a source bucket never reach the archive.
        deny(
            "DenyReplicatedDeletes",
            "s3:ReplicateDelete",
            naming.s3_objects_arn(region, bucket),
            principal=EVERYONE,
        ),
        # https://docs.aws.amazon.com/awscloudtrail/latest/userguide/create-s3-bucket-policy-for-cloudtrail.html
        allow(
            "AllowCloudTrailAclCheck",
            "s3:GetBucketAcl",
            naming.s3_bucket_arn(region, bucket),
            principal=service("cloudtrail"),
            condition={"StringEquals": {"aws:SourceArn": trail_arn}},
        ),
        allow(
            "AllowOrgTrailWrite",
            "s3:PutObject",
            [
                naming.s3_objects_arn(region, bucket, f"{org_prefix}*"),
                naming.s3_objects_arn(region, bucket, f"{management_prefix}*"),
            ],
            principal=service("cloudtrail"),
            condition={
                "StringEquals": {
                    "aws:SourceArn": trail_arn,
                    "s3:x-amz-acl": "bucket-owner-full-control",
                }
            },
        ),
        *deny_tampering_except_admin(region, bucket, admin_role_arn),
        # Replication writes with s3:ReplicateObject, not PutObject; CloudTrail is a service.
        deny_writes_except(region, bucket, writer_arns=[firehose_role_arn, admin_role_arn]),
        # Replicas of SSE-S3 sources stay SSE-S3, so the key does not guard them: the policy does.
        # https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-config-for-kms-objects.html
        deny(
            "DenyReadingLogsExceptReaders",
            ["s3:GetObject", "s3:GetObjectVersion"],
            naming.s3_objects_arn(region, bucket),
            principal=EVERYONE,
            condition={"ArnNotLike": {"aws:PrincipalArn": [admin_role_arn, reader_role_arn]}},
        ),
    )


def access_log_bucket_policy(
    *,
    region: str,
    bucket: str,
    source_bucket: str,
    account: str,
    admin_role_arn: str,
) -> Document:
    # https://docs.aws.amazon.com/AmazonS3/latest/userguide/enable-server-access-logging.html
    return policy(
        deny_insecure_transport(region, bucket),
        allow(
            "AllowServerAccessLogDelivery",
            "s3:PutObject",
            naming.s3_objects_arn(region, bucket, f"{source_bucket}/*"),
            principal=service("logging.s3"),
            condition={
                "ArnLike": {"aws:SourceArn": naming.s3_bucket_arn(region, source_bucket)},
                "StringEquals": {"aws:SourceAccount": account},
            },
        ),
        *deny_tampering_except_admin(region, bucket, admin_role_arn),
        deny_writes_except(region, bucket, writer_arns=[admin_role_arn]),
    )


def elb_log_delivery_principal(region: str) -> dict[str, str]:
    account = naming.ELB_LOG_DELIVERY_ACCOUNTS.get(region)
    if account:
        return {"AWS": naming.account_root_arn(region, account)}
    return service(naming.ELB_LOG_DELIVERY_SERVICE)


def source_bucket_policy(
    *,
    region: str,
    bucket: str,
    account: str,
    admin_role_arn: str,
    cloudfront_legacy_logging: bool = False,
) -> Document:
    """Each log-delivery service may write only under `AWSLogs/{account}/`, for this account,
    and nobody else may put (so overwrite) an object."""
    own_logs = naming.s3_objects_arn(region, bucket, f"{conventions.account_logs_prefix(account)}*")
    cloudfront_logs = naming.s3_objects_arn(
        region, bucket, f"{conventions.cloudfront_logs_prefix(account)}*"
    )
    bucket_arn = naming.s3_bucket_arn(region, bucket)
    # Vended logs (VPC flow logs, Route 53 resolver query logs, NLB) come from this region.
    # https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs-s3-permissions.html
    from_this_account = {
        "StringEquals": {"aws:SourceAccount": account},
        "ArnLike": {"aws:SourceArn": naming.arn(region, "logs", region, account, "*")},
    }
    elb = elb_log_delivery_principal(region)
    elb_statement = allow(
        "AllowLoadBalancerLogDelivery",
        "s3:PutObject",
        own_logs,
        principal=elb,
        # The regional ELB account is not a service principal: it sends no aws:SourceAccount.
        condition=None if "AWS" in elb else {"StringEquals": {"aws:SourceAccount": account}},
    )
    return policy(
        deny_insecure_transport(region, bucket),
        allow(
            "AllowLogDeliveryAclCheck",
            ["s3:GetBucketAcl", "s3:ListBucket"],
            bucket_arn,
            principal=service("delivery.logs"),
            condition=from_this_account,
        ),
        allow(
            "AllowLogDeliveryWrite",
            "s3:PutObject",
            own_logs,
            principal=service("delivery.logs"),
            condition={
                "StringEquals": {
                    "aws:SourceAccount": account,
                    "s3:x-amz-acl": "bucket-owner-full-control",
                },
                "ArnLike": from_this_account["ArnLike"],
            },
        ),
        # CloudFront standard logging (v2) delivers from us-east-1 whatever the bucket's region:
        # https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/standard-logging.html
        allow(
            "AllowCloudFrontLogDelivery",
            "s3:PutObject",
            cloudfront_logs,
            principal=service("delivery.logs"),
            condition={
                "StringEquals": {"aws:SourceAccount": account},
                "ArnLike": {"aws:SourceArn": naming.arn(region, "logs", "*", account, "*")},
            },
        ),
        elb_statement,
        *deny_tampering_except_admin(region, bucket, admin_role_arn),
        deny_writes_except(
            region,
            bucket,
            writer_arns=[admin_role_arn],
            # The regional ELB account writes as an account, not as a service principal.
            writer_accounts=[account_of(elb["AWS"])] if "AWS" in elb else [],
            # Legacy CloudFront writes as the awslogsdelivery account, which AWS documents only
            # by canonical id: its prefix stays open to writers with IAM permission
            # (docs/security.md).
            not_resources=[cloudfront_logs] if cloudfront_legacy_logging else [],
        ),
    )


def account_of(arn: str) -> str:
    return arn.split(":")[4]
