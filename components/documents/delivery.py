"""The delivery path's roles and policies: replication, the CloudWatch Logs subscription, the
destinations and the Firehose streams."""

from __future__ import annotations

import json

from components import naming
from components.documents.grammar import EVERYONE, Document, allow, policy, trust_policy
from policy import conventions

# Dynamic partitioning needs a buffer of at least 64 MiB:
# https://docs.aws.amazon.com/firehose/latest/dev/dynamic-partitioning.html
FIREHOSE_BUFFER_MB = 64
FIREHOSE_BUFFER_SECONDS = 300


def replication_trust_policy(*, region: str, account: str, bucket: str) -> Document:
    return trust_policy(
        "s3",
        {
            "StringEquals": {"aws:SourceAccount": account},
            "ArnLike": {"aws:SourceArn": naming.s3_bucket_arn(region, bucket)},
        },
    )


def replication_policy(
    *,
    region: str,
    bucket: str,
    account: str,
    home_region: str,
    central_bucket: str,
) -> Document:
    """What S3 replication needs, and no more: read our prefix, replicate into our prefix.

    No KMS: the source is SSE-S3, and S3 replicates SSE-S3 objects as SSE-S3 whatever the
    destination's default encryption
    (https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-config-for-kms-objects.html).
    """
    prefix = conventions.account_logs_prefix(account)
    central_arn = naming.s3_bucket_arn(home_region, central_bucket)
    return policy(
        allow(
            "ReadReplicationConfiguration",
            ["s3:GetReplicationConfiguration", "s3:ListBucket"],
            naming.s3_bucket_arn(region, bucket),
        ),
        allow(
            "ReadSourceVersions",
            [
                "s3:GetObjectVersionForReplication",
                "s3:GetObjectVersionAcl",
                "s3:GetObjectVersionTagging",
            ],
            naming.s3_objects_arn(region, bucket, f"{prefix}*"),
        ),
        allow(
            "ReplicateIntoOwnPrefix",
            ["s3:ReplicateObject", "s3:ReplicateTags", "s3:ObjectOwnerOverrideToBucketOwner"],
            naming.s3_objects_arn(home_region, central_bucket, f"{prefix}*"),
        ),
        allow(
            "CheckDestinationVersioning",
            "s3:GetBucketVersioning",
            central_arn,
        ),
    )


def subscription_trust_policy(*, region: str, account: str) -> Document:
    # https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/CreateSubscriptionFilter-IAMrole.html
    return trust_policy(
        "logs",
        {
            "StringEquals": {"aws:SourceAccount": account},
            "ArnLike": {"aws:SourceArn": naming.arn(region, "logs", region, account, "*")},
        },
    )


def subscription_role_policy(*, region: str, account: str) -> Document:
    return policy(
        allow(
            "ValidateOrgSubscription",
            "logs:PutLogEvents",
            naming.arn(region, "logs", region, account, "log-group:*"),
        )
    )


def subscription_filter_policy(*, destination_arn: str, role_arn: str) -> Document:
    """The account-level subscription (a CloudWatch Logs document, not an IAM policy)."""
    return {
        "DestinationArn": destination_arn,
        "RoleArn": role_arn,
        "FilterPattern": "",
        "Distribution": "Random",
    }


def selection_criteria(excluded_log_groups: list[str] | tuple[str, ...]) -> str | None:
    """`LogGroupName NOT IN [...]`, the only operator account policies support."""
    if not excluded_log_groups:
        return None
    return f"LogGroupName NOT IN {json.dumps(sorted(set(excluded_log_groups)))}"


def firehose_trust_policy(account: str) -> Document:
    # Firehose passes the account id as sts:ExternalId:
    # https://docs.aws.amazon.com/firehose/latest/dev/controlling-access.html#using-iam-s3
    return trust_policy("firehose", {"StringEquals": {"sts:ExternalId": account}})


def firehose_delivery_policy(
    *, region: str, bucket: str, key_arn: str, log_group_arn: str
) -> Document:
    bucket_arn = naming.s3_bucket_arn(region, bucket)
    return policy(
        allow(
            "BucketLocation",
            ["s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"],
            bucket_arn,
        ),
        allow(
            "WriteCloudWatchLogsPrefixes",
            ["s3:AbortMultipartUpload", "s3:PutObject"],
            [
                naming.s3_objects_arn(region, bucket, f"{naming.CLOUDWATCH_LOGS}/*"),
                naming.s3_objects_arn(region, bucket, f"{naming.FIREHOSE_ERRORS}/*"),
            ],
        ),
        allow(
            "EncryptWithCentralKey",
            ["kms:GenerateDataKey", "kms:Decrypt"],
            key_arn,
            condition={
                "StringEquals": {"kms:ViaService": naming.service_endpoint("s3", region)},
                "StringLike": {"kms:EncryptionContext:aws:s3:arn": [bucket_arn, f"{bucket_arn}/*"]},
            },
        ),
        allow("ReportDeliveryErrors", "logs:PutLogEvents", log_group_arn),
    )


def destination_trust_policy(
    home_region: str, regions: list[str] | tuple[str, ...], org_id: str
) -> Document:
    # CloudWatch Logs assumes it for the recipient and for every sender account of the region;
    # aws:SourceOrgID keeps it to this organization's accounts:
    # https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/Subscriptions-confused-deputy.html
    return trust_policy(
        "logs",
        {
            "StringLike": {
                "aws:SourceArn": [naming.arn(home_region, "logs", r, "*", "*") for r in regions]
            },
            "StringEquals": {"aws:SourceOrgID": org_id},
        },
    )


def destination_delivery_policy(firehose_arns: list[str]) -> Document:
    return policy(
        allow(
            "PutIntoCentralFirehose",
            ["firehose:PutRecord", "firehose:PutRecordBatch"],
            firehose_arns,
        )
    )


# PutDestinationPolicy takes at most 5,120 bytes:
# https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutDestinationPolicy.html
DESTINATION_POLICY_MAX_BYTES = 5120


def destination_access_policy(
    destination_arn: str, org_id: str, member_accounts: list[str] | tuple[str, ...] | None = None
) -> Document:
    """Subscriptions from the organization only: by aws:PrincipalOrgID, or, where that is not
    supported for destinations (aws-cn), by the explicit list of member accounts."""
    # https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/Cross-Account-Log_Subscription-Update-policy-Account.html
    actions = ["logs:PutSubscriptionFilter", "logs:PutAccountPolicy"]
    if member_accounts is not None:
        return policy(
            allow(
                "AllowMemberAccountSubscriptions",
                actions,
                destination_arn,
                principal={"AWS": sorted(member_accounts)},
            )
        )
    return policy(
        allow(
            "AllowOrgSubscriptions",
            actions,
            destination_arn,
            principal=EVERYONE,
            condition={"StringEquals": {"aws:PrincipalOrgID": org_id}},
        )
    )


def destination_policy_bytes(member_accounts: list[str] | tuple[str, ...]) -> int:
    """The size of an aws-cn destination policy naming `member_accounts`, at its longest
    (a 16-character prefix, the longest China region)."""
    arn = naming.logs_destination_arn("cn-northwest-1", "0" * 12, naming.destination_name("p" * 16))
    document = destination_access_policy(arn, "", list(member_accounts))
    return len(json.dumps(document, separators=(",", ":")).encode())


def max_destination_policy_accounts() -> int:
    """How many member accounts an aws-cn destination policy holds."""
    low, high = 1, DESTINATION_POLICY_MAX_BYTES
    while low < high:  # the largest n whose policy fits
        middle = (low + high + 1) // 2
        if destination_policy_bytes([f"{i:012d}" for i in range(middle)]) <= (
            DESTINATION_POLICY_MAX_BYTES
        ):
            low = middle
        else:
            high = middle - 1
    return low
