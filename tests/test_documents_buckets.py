"""The grammar, the bucket policies and the central key's policy, built directly and
compared whole (Effect included) with what the AWS documentation asks for. Rendering a stack
checks that the documents reach their resources (test_log_archive*.py, test_management.py);
these pin the documents themselves, in milliseconds, so a mutation tool can check every
builder quickly. AWS's limits are written as numbers, never taken from the module under test.
"""

from __future__ import annotations

import pytest
from document_literals import (
    ACCESS_ARN,
    ADMIN_ARN,
    CENTRAL,
    CENTRAL_ARN,
    FIREHOSE_ROLE_ARN,
    FROM_ORG_REPLICATION_ROLES,
    LOG_ARCHIVE,
    MANAGEMENT,
    MEMBER,
    MEMBER_ADMIN_ARN,
    NOT_ADMIN,
    ORG_ID,
    READER_ROLE_ARN,
    REGION,
    SOURCE,
    SOURCE_ARN,
    TRAIL_ARN,
)
from expected import (
    BUCKET_TAMPER_ACTIONS,
    OBJECT_TAMPER_ACTIONS,
    deny_bucket_tampering,
    deny_insecure_transport,
    deny_object_deletion,
    deny_object_writes,
    trusted_service,
)

from components.documents import (
    buckets,
    grammar,
    key,
)

# ---- grammar ---------------------------------------------------------------------------------


def test_a_policy_is_version_2012_10_17_with_its_statements_in_order():
    first = {"Sid": "A", "Effect": "Deny", "Action": "s3:*", "Resource": "*"}
    second = {"Sid": "B", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}
    assert grammar.policy(first, second) == {"Version": "2012-10-17", "Statement": [first, second]}
    assert grammar.policy() == {"Version": "2012-10-17", "Statement": []}


def test_allow_and_deny_differ_only_in_effect_and_leave_out_what_is_not_given():
    assert grammar.allow("S", "s3:GetObject", "*") == {
        "Sid": "S",
        "Effect": "Allow",
        "Action": "s3:GetObject",
        "Resource": "*",
    }
    assert grammar.deny(
        "S", ["s3:PutObject"], ["arn:aws:s3:::b/*"], principal={"AWS": "*"}, condition={}
    ) == {
        "Sid": "S",
        "Effect": "Deny",
        "Principal": {"AWS": "*"},
        "Action": ["s3:PutObject"],
        "Resource": ["arn:aws:s3:::b/*"],
    }
    condition = {"Bool": {"aws:SecureTransport": "false"}}
    assert grammar.allow("S", "a", "r", principal={"Service": "x"}, condition=condition) == {
        "Sid": "S",
        "Effect": "Allow",
        "Principal": {"Service": "x"},
        "Action": "a",
        "Resource": "r",
        "Condition": condition,
    }


def test_a_service_trust_policy_has_one_statement_without_resource():
    condition = {"StringEquals": {"aws:SourceAccount": MEMBER}}
    assert grammar.trust_policy("s3", condition) == {
        "Version": "2012-10-17",
        "Statement": [trusted_service("s3.amazonaws.com", condition)],
    }


def test_a_principal_trust_policy_names_its_principal_actions_and_condition():
    condition = {"ArnEquals": {"aws:PrincipalArn": ["arn:aws:iam::111111111111:role/d"]}}
    assert grammar.principal_trust_policy(
        "Deployers", {"AWS": "arn:aws:iam::111111111111:root"}, ["sts:AssumeRole"], condition
    ) == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "Deployers",
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::111111111111:root"},
                "Action": ["sts:AssumeRole"],
                "Condition": condition,
            }
        ],
    }


def test_service_principals_follow_the_partition_of_the_name():
    assert grammar.service("cloudtrail") == {"Service": "cloudtrail.amazonaws.com"}
    assert grammar.EVERYONE == {"AWS": "*"}


# ---- bucket policies -------------------------------------------------------------------------


def central_policy() -> dict:
    return buckets.central_bucket_policy(
        region=REGION,
        bucket=CENTRAL,
        name_prefix="acme",
        org_id=ORG_ID,
        management_account=MANAGEMENT,
        trail_arn=TRAIL_ARN,
        admin_role_arn=ADMIN_ARN,
        firehose_role_arn=FIREHOSE_ROLE_ARN,
        reader_role_arn=READER_ROLE_ARN,
    )


def test_the_central_bucket_policy_statement_by_statement():
    # https://docs.aws.amazon.com/awscloudtrail/latest/userguide/create-s3-bucket-policy-for-cloudtrail.html
    assert central_policy() == {
        "Version": "2012-10-17",
        "Statement": [
            deny_insecure_transport(CENTRAL_ARN),
            {
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
            },
            {
                "Sid": "AllowOrgReplicationVersioningCheck",
                "Effect": "Allow",
                "Principal": {"AWS": "*"},
                "Action": "s3:GetBucketVersioning",
                "Resource": CENTRAL_ARN,
                "Condition": FROM_ORG_REPLICATION_ROLES,
            },
            {
                "Sid": "DenyReplicatedDeletes",
                "Effect": "Deny",
                "Principal": {"AWS": "*"},
                "Action": "s3:ReplicateDelete",
                "Resource": f"{CENTRAL_ARN}/*",
            },
            {
                "Sid": "AllowCloudTrailAclCheck",
                "Effect": "Allow",
                "Principal": {"Service": "cloudtrail.amazonaws.com"},
                "Action": "s3:GetBucketAcl",
                "Resource": CENTRAL_ARN,
                "Condition": {"StringEquals": {"aws:SourceArn": TRAIL_ARN}},
            },
            {
                "Sid": "AllowOrgTrailWrite",
                "Effect": "Allow",
                "Principal": {"Service": "cloudtrail.amazonaws.com"},
                "Action": "s3:PutObject",
                "Resource": [
                    f"{CENTRAL_ARN}/AWSLogs/o-a1b2c3d4e5/*",
                    f"{CENTRAL_ARN}/AWSLogs/111111111111/*",
                ],
                "Condition": {
                    "StringEquals": {
                        "aws:SourceArn": TRAIL_ARN,
                        "s3:x-amz-acl": "bucket-owner-full-control",
                    }
                },
            },
            deny_bucket_tampering(CENTRAL_ARN, ADMIN_ARN),
            deny_object_deletion(CENTRAL_ARN, ADMIN_ARN),
            deny_object_writes(CENTRAL_ARN, [FIREHOSE_ROLE_ARN, ADMIN_ARN]),
            {
                "Sid": "DenyReadingLogsExceptReaders",
                "Effect": "Deny",
                "Principal": {"AWS": "*"},
                "Action": ["s3:GetObject", "s3:GetObjectVersion"],
                "Resource": f"{CENTRAL_ARN}/*",
                "Condition": {"ArnNotLike": {"aws:PrincipalArn": [ADMIN_ARN, READER_ROLE_ARN]}},
            },
        ],
    }


def test_the_access_log_bucket_takes_only_the_central_buckets_server_access_logs():
    # https://docs.aws.amazon.com/AmazonS3/latest/userguide/enable-server-access-logging.html
    assert buckets.access_log_bucket_policy(
        region=REGION,
        bucket="acme-org-logs-access-222222222222-us-east-1",
        source_bucket=CENTRAL,
        account=LOG_ARCHIVE,
        admin_role_arn=ADMIN_ARN,
    ) == {
        "Version": "2012-10-17",
        "Statement": [
            deny_insecure_transport(ACCESS_ARN),
            {
                "Sid": "AllowServerAccessLogDelivery",
                "Effect": "Allow",
                "Principal": {"Service": "logging.s3.amazonaws.com"},
                "Action": "s3:PutObject",
                "Resource": f"{ACCESS_ARN}/{CENTRAL}/*",
                "Condition": {
                    "ArnLike": {"aws:SourceArn": CENTRAL_ARN},
                    "StringEquals": {"aws:SourceAccount": "222222222222"},
                },
            },
            deny_bucket_tampering(ACCESS_ARN, ADMIN_ARN),
            deny_object_deletion(ACCESS_ARN, ADMIN_ARN),
            deny_object_writes(ACCESS_ARN, [ADMIN_ARN]),
        ],
    }


FROM_MEMBER_LOGS = {
    "StringEquals": {"aws:SourceAccount": MEMBER},
    "ArnLike": {"aws:SourceArn": "arn:aws:logs:us-east-1:333333333333:*"},
}


def source_statements(region: str, *, legacy: bool = False) -> list[dict]:
    bucket = f"acme-logs-333333333333-{region}"
    return buckets.source_bucket_policy(
        region=region,
        bucket=bucket,
        account=MEMBER,
        admin_role_arn=MEMBER_ADMIN_ARN,
        cloudfront_legacy_logging=legacy,
    )["Statement"]


def test_a_source_bucket_lets_each_log_service_write_only_its_accounts_prefix():
    # https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs-s3-permissions.html
    # https://docs.aws.amazon.com/elasticloadbalancing/latest/application/enable-access-logging.html
    # (us-east-1's ELB account is 127311923021)
    assert source_statements("us-east-1") == [
        deny_insecure_transport(SOURCE_ARN),
        {
            "Sid": "AllowLogDeliveryAclCheck",
            "Effect": "Allow",
            "Principal": {"Service": "delivery.logs.amazonaws.com"},
            "Action": ["s3:GetBucketAcl", "s3:ListBucket"],
            "Resource": SOURCE_ARN,
            "Condition": FROM_MEMBER_LOGS,
        },
        {
            "Sid": "AllowLogDeliveryWrite",
            "Effect": "Allow",
            "Principal": {"Service": "delivery.logs.amazonaws.com"},
            "Action": "s3:PutObject",
            "Resource": f"{SOURCE_ARN}/AWSLogs/333333333333/*",
            "Condition": {
                "StringEquals": {
                    "aws:SourceAccount": MEMBER,
                    "s3:x-amz-acl": "bucket-owner-full-control",
                },
                "ArnLike": {"aws:SourceArn": "arn:aws:logs:us-east-1:333333333333:*"},
            },
        },
        {
            "Sid": "AllowCloudFrontLogDelivery",
            "Effect": "Allow",
            "Principal": {"Service": "delivery.logs.amazonaws.com"},
            "Action": "s3:PutObject",
            "Resource": f"{SOURCE_ARN}/AWSLogs/333333333333/CloudFront/*",
            "Condition": {
                "StringEquals": {"aws:SourceAccount": MEMBER},
                "ArnLike": {"aws:SourceArn": "arn:aws:logs:*:333333333333:*"},
            },
        },
        {
            "Sid": "AllowLoadBalancerLogDelivery",
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::127311923021:root"},
            "Action": "s3:PutObject",
            "Resource": f"{SOURCE_ARN}/AWSLogs/333333333333/*",
        },
        deny_bucket_tampering(SOURCE_ARN, MEMBER_ADMIN_ARN),
        deny_object_deletion(SOURCE_ARN, MEMBER_ADMIN_ARN),
        {
            "Sid": "DenyObjectWritesExceptWriters",
            "Effect": "Deny",
            "Principal": {"AWS": "*"},
            "Action": "s3:PutObject",
            "Resource": f"{SOURCE_ARN}/*",
            "Condition": {
                "Bool": {"aws:PrincipalIsAWSService": "false"},
                "ArnNotLike": {"aws:PrincipalArn": [MEMBER_ADMIN_ARN]},
                "StringNotEquals": {"aws:PrincipalAccount": ["127311923021"]},
            },
        },
    ]


def test_in_a_region_without_an_elb_account_the_log_delivery_service_writes():
    # Regions opened after August 2022 deliver ELB logs with the logdelivery service principal:
    # https://docs.aws.amazon.com/elasticloadbalancing/latest/application/enable-access-logging.html
    bucket_arn = "arn:aws:s3:::acme-logs-333333333333-eu-south-2"
    statements = source_statements("eu-south-2")
    assert statements[4] == {
        "Sid": "AllowLoadBalancerLogDelivery",
        "Effect": "Allow",
        "Principal": {"Service": "logdelivery.elasticloadbalancing.amazonaws.com"},
        "Action": "s3:PutObject",
        "Resource": f"{bucket_arn}/AWSLogs/333333333333/*",
        "Condition": {"StringEquals": {"aws:SourceAccount": MEMBER}},
    }
    assert statements[-1] == deny_object_writes(bucket_arn, [MEMBER_ADMIN_ARN])


def test_legacy_cloudfront_logging_leaves_only_its_prefix_out_of_the_write_deny():
    bucket_arn = "arn:aws:s3:::acme-logs-333333333333-eu-south-2"
    assert source_statements("eu-south-2", legacy=True)[-1] == {
        "Sid": "DenyObjectWritesExceptWriters",
        "Effect": "Deny",
        "Principal": {"AWS": "*"},
        "Action": "s3:PutObject",
        "Condition": {
            "Bool": {"aws:PrincipalIsAWSService": "false"},
            "ArnNotLike": {"aws:PrincipalArn": [MEMBER_ADMIN_ARN]},
        },
        "NotResource": [f"{bucket_arn}/AWSLogs/333333333333/CloudFront/*"],
    }


@pytest.mark.parametrize(
    ("region", "principal"),
    [
        ("us-east-1", {"AWS": "arn:aws:iam::127311923021:root"}),
        ("eu-west-1", {"AWS": "arn:aws:iam::156460612806:root"}),
        ("cn-north-1", {"AWS": "arn:aws-cn:iam::638102146993:root"}),
        ("eu-south-2", {"Service": "logdelivery.elasticloadbalancing.amazonaws.com"}),
    ],
)
def test_the_elb_log_writer_is_the_regions_elb_account_or_the_service(region, principal):
    assert buckets.elb_log_delivery_principal(region) == principal


def test_the_account_of_an_arn_is_its_fifth_field():
    assert buckets.account_of("arn:aws:iam::127311923021:root") == "127311923021"


def test_replication_roles_of_every_account_match_one_pattern():
    assert (
        buckets.replication_role_pattern(REGION, "acme")
        == "arn:aws:iam::*:role/acme-logging-replication-*"
    )


def test_the_tamper_lists_are_the_buckets_and_the_objects_protections():
    assert buckets.BUCKET_TAMPER_ACTIONS == BUCKET_TAMPER_ACTIONS
    assert buckets.OBJECT_TAMPER_ACTIONS == OBJECT_TAMPER_ACTIONS


# ---- the central key -------------------------------------------------------------------------


def test_the_central_key_policy_statement_by_statement():
    # https://docs.aws.amazon.com/awscloudtrail/latest/userguide/create-kms-key-policy-for-cloudtrail-encrypt.html
    # https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html
    assert key.central_key_policy(
        region=REGION,
        account=LOG_ARCHIVE,
        management_account=MANAGEMENT,
        trail_arn=TRAIL_ARN,
        bucket=CENTRAL,
        firehose_role_arn=FIREHOSE_ROLE_ARN,
        alert_rule_arns=["arn:aws:events:us-east-1:222222222222:rule/acme-logging-alerts"],
        admin_role_arn=ADMIN_ARN,
    ) == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "EnableAccountAdministration",
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::222222222222:root"},
                "Action": "kms:*",
                "Resource": "*",
            },
            {
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
                "Condition": NOT_ADMIN,
            },
            {
                "Sid": "AllowManagementAccountDescribeKey",
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::111111111111:root"},
                "Action": "kms:DescribeKey",
                "Resource": "*",
            },
            {
                "Sid": "AllowOrgTrailEncrypt",
                "Effect": "Allow",
                "Principal": {"Service": "cloudtrail.amazonaws.com"},
                "Action": "kms:GenerateDataKey*",
                "Resource": "*",
                "Condition": {
                    "StringLike": {
                        "kms:EncryptionContext:aws:cloudtrail:arn": (
                            "arn:aws:cloudtrail:*:111111111111:trail/*"
                        )
                    },
                    "StringEquals": {"aws:SourceArn": TRAIL_ARN},
                },
            },
            {
                "Sid": "AllowOrgTrailDescribeKey",
                "Effect": "Allow",
                "Principal": {"Service": "cloudtrail.amazonaws.com"},
                "Action": "kms:DescribeKey",
                "Resource": "*",
                "Condition": {"StringEquals": {"aws:SourceArn": TRAIL_ARN}},
            },
            {
                "Sid": "AllowFirehoseDelivery",
                "Effect": "Allow",
                "Principal": {"AWS": FIREHOSE_ROLE_ARN},
                "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
                "Resource": "*",
                "Condition": {
                    "StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"},
                    "StringLike": {
                        "kms:EncryptionContext:aws:s3:arn": [CENTRAL_ARN, f"{CENTRAL_ARN}/*"]
                    },
                },
            },
            {
                "Sid": "AllowAlertRulePublish",
                "Effect": "Allow",
                "Principal": {"Service": "events.amazonaws.com"},
                "Action": ["kms:GenerateDataKey*", "kms:Decrypt"],
                "Resource": "*",
                "Condition": {
                    "ArnEquals": {
                        "aws:SourceArn": [
                            "arn:aws:events:us-east-1:222222222222:rule/acme-logging-alerts"
                        ]
                    }
                },
            },
        ],
    }


def test_legacy_cloudfront_logging_is_off_unless_asked_for():
    default = buckets.source_bucket_policy(
        region=REGION, bucket=SOURCE, account=MEMBER, admin_role_arn=MEMBER_ADMIN_ARN
    )
    assert default["Statement"] == source_statements("us-east-1", legacy=False)
    assert "NotResource" not in default["Statement"][-1]
