"""The central KMS key's policy: CloudTrail, Firehose and the alert topic may use it; only
`adminRoleName` may destroy, re-policy or re-alias it."""

from __future__ import annotations

from components import naming
from components.documents.grammar import (
    EVERYONE,
    Document,
    Statement,
    allow,
    deny,
    policy,
    service,
)

# Only the admin role may destroy, re-policy or re-alias the key.
KEY_TAMPER_ACTIONS = [
    "kms:ScheduleKeyDeletion",
    "kms:DisableKey",
    "kms:DisableKeyRotation",
    "kms:PutKeyPolicy",
    "kms:DeleteImportedKeyMaterial",
    # Moving or deleting the alias needs these on the key as well as on the alias:
    # https://docs.aws.amazon.com/kms/latest/developerguide/alias-access.html
    "kms:UpdateAlias",
    "kms:DeleteAlias",
]


def trail_key_statements(region: str, management_account: str, trail_arn: str) -> list[Statement]:
    """The organization trail (only it) may encrypt with the key and describe it:
    https://docs.aws.amazon.com/awscloudtrail/latest/userguide/create-kms-key-policy-for-cloudtrail-encrypt.html
    """
    return [
        allow(
            "AllowOrgTrailEncrypt",
            "kms:GenerateDataKey*",
            "*",
            principal=service("cloudtrail"),
            condition={
                "StringLike": {
                    "kms:EncryptionContext:aws:cloudtrail:arn": naming.arn(
                        region, "cloudtrail", "*", management_account, "trail/*"
                    )
                },
                "StringEquals": {"aws:SourceArn": trail_arn},
            },
        ),
        allow(
            "AllowOrgTrailDescribeKey",
            "kms:DescribeKey",
            "*",
            principal=service("cloudtrail"),
            condition={"StringEquals": {"aws:SourceArn": trail_arn}},
        ),
    ]


def central_key_policy(
    *,
    region: str,
    account: str,
    management_account: str,
    trail_arn: str,
    bucket: str,
    firehose_role_arn: str,
    alert_rule_arns: list[str],
    admin_role_arn: str,
) -> Document:
    bucket_arn = naming.s3_bucket_arn(region, bucket)
    via_s3 = naming.service_endpoint("s3", region)
    return policy(
        # Keeps the key manageable through IAM in the log-archive account (KMS default policy).
        allow(
            "EnableAccountAdministration",
            "kms:*",
            "*",
            principal={"AWS": naming.account_root_arn(region, account)},
        ),
        deny(
            "DenyKeyDestructionExceptAdmin",
            KEY_TAMPER_ACTIONS,
            "*",
            principal=EVERYONE,
            condition={"ArnNotLike": {"aws:PrincipalArn": admin_role_arn}},
        ),
        # The management stack resolves the alias to the key ARN the trail stores (DescribeKey
        # takes an alias ARN across accounts):
        # https://docs.aws.amazon.com/kms/latest/APIReference/API_DescribeKey.html
        allow(
            "AllowManagementAccountDescribeKey",
            "kms:DescribeKey",
            "*",
            principal={"AWS": naming.account_root_arn(region, management_account)},
        ),
        *trail_key_statements(region, management_account, trail_arn),
        allow(
            "AllowFirehoseDelivery",
            ["kms:GenerateDataKey", "kms:Decrypt"],
            "*",
            principal={"AWS": firehose_role_arn},
            condition={
                "StringEquals": {"kms:ViaService": via_s3},
                # With an S3 Bucket Key the encryption context is the bucket ARN.
                "StringLike": {"kms:EncryptionContext:aws:s3:arn": [bucket_arn, f"{bucket_arn}/*"]},
            },
        ),
        # EventBridge publishes to the KMS-encrypted alert topic:
        # https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services
        allow(
            "AllowAlertRulePublish",
            ["kms:GenerateDataKey*", "kms:Decrypt"],
            "*",
            principal=service("events"),
            condition={"ArnEquals": {"aws:SourceArn": alert_rule_arns}},
        ),
    )
