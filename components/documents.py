"""Every IAM, bucket, key, SCP, destination, bus and topic policy document, as pure functions.

Each function returns a dict; `json.dumps` happens at the resource boundary. ARNs and names
come from `naming`. AWS semantics worth a second look carry a one-line doc reference.
"""

from __future__ import annotations

import json
from typing import Any

from components import naming

Document = dict[str, Any]
VERSION = "2012-10-17"


def policy(*statements: dict[str, Any]) -> Document:
    return {"Version": VERSION, "Statement": list(statements)}


def statement(
    sid: str,
    effect: str,
    actions: list[str] | str,
    resources: list[str] | str,
    *,
    principal: Any = None,
    condition: dict[str, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {"Sid": sid, "Effect": effect}
    if principal is not None:
        body["Principal"] = principal
    body["Action"] = actions
    body["Resource"] = resources
    if condition:
        body["Condition"] = condition
    return body


def service(name: str) -> dict[str, str]:
    return {"Service": naming.service_principal(name)}


EVERYONE = {"AWS": "*"}


def trust_policy(service_name: str, condition: dict[str, dict[str, Any]]) -> Document:
    """A role only `service_name` may assume, and only under `condition` (confused deputy)."""
    return policy(_trust(service_name, condition))


def _trust(service_name: str, condition: dict[str, dict[str, Any]]) -> dict[str, Any]:
    # Trust policies have no Resource element.
    return {
        "Sid": "TrustedService",
        "Effect": "Allow",
        "Principal": service(service_name),
        "Action": "sts:AssumeRole",
        "Condition": condition,
    }


def deny_insecure_transport(region: str, bucket: str) -> dict[str, Any]:
    return statement(
        "DenyInsecureTransport",
        "Deny",
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
        statement(
            "DenyBucketTamperingExceptAdmin",
            "Deny",
            BUCKET_TAMPER_ACTIONS,
            naming.s3_bucket_arn(region, bucket),
            principal=EVERYONE,
            condition=not_admin,
        ),
        statement(
            "DenyObjectDeletionExceptAdmin",
            "Deny",
            OBJECT_TAMPER_ACTIONS,
            naming.s3_objects_arn(region, bucket),
            principal=EVERYONE,
            condition=not_admin,
        ),
    ]


def replication_role_pattern(region: str, prefix: str) -> str:
    """Only org-logging's own replication roles, in any member account, may replicate."""
    return naming.iam_role_arn(region, "*", naming.replication_role_name(prefix, "*"))


# --------------------------------------------------------------------------------------------
# LogArchive
# --------------------------------------------------------------------------------------------


def central_bucket_policy(
    *,
    region: str,
    bucket: str,
    name_prefix: str,
    org_id: str,
    management_account: str,
    trail_arn: str,
    admin_role_arn: str,
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
        statement(
            "AllowOrgReplicationIntoOwnPrefix",
            "Allow",
            ["s3:ReplicateObject", "s3:ReplicateTags", "s3:ObjectOwnerOverrideToBucketOwner"],
            naming.s3_objects_arn(region, bucket, f"{naming.AWS_LOGS}/${{aws:PrincipalAccount}}/*"),
            principal=EVERYONE,
            condition=from_org_replication_role,
        ),
        statement(
            "AllowOrgReplicationVersioningCheck",
            "Allow",
            "s3:GetBucketVersioning",
            naming.s3_bucket_arn(region, bucket),
            principal=EVERYONE,
            condition=from_org_replication_role,
        ),
        # Deletions in a source bucket never reach the archive.
        statement(
            "DenyReplicatedDeletes",
            "Deny",
            "s3:ReplicateDelete",
            naming.s3_objects_arn(region, bucket),
            principal=EVERYONE,
        ),
        # https://docs.aws.amazon.com/awscloudtrail/latest/userguide/create-s3-bucket-policy-for-cloudtrail.html
        statement(
            "AllowCloudTrailAclCheck",
            "Allow",
            "s3:GetBucketAcl",
            naming.s3_bucket_arn(region, bucket),
            principal=service("cloudtrail"),
            condition={"StringEquals": {"aws:SourceArn": trail_arn}},
        ),
        statement(
            "AllowOrgTrailWrite",
            "Allow",
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
        statement(
            "AllowServerAccessLogDelivery",
            "Allow",
            "s3:PutObject",
            naming.s3_objects_arn(region, bucket, f"{source_bucket}/*"),
            principal=service("logging.s3"),
            condition={
                "ArnLike": {"aws:SourceArn": naming.s3_bucket_arn(region, source_bucket)},
                "StringEquals": {"aws:SourceAccount": account},
            },
        ),
        *deny_tampering_except_admin(region, bucket, admin_role_arn),
    )


def central_key_policy(
    *,
    region: str,
    account: str,
    name_prefix: str,
    org_id: str,
    management_account: str,
    trail_arn: str,
    bucket: str,
    firehose_role_arn: str,
    alert_rule_arn: str,
    admin_role_arn: str,
) -> Document:
    bucket_arn = naming.s3_bucket_arn(region, bucket)
    via_s3 = naming.service_endpoint("s3", region)
    return policy(
        # Keeps the key manageable through IAM in the log-archive account (KMS default policy).
        statement(
            "EnableAccountAdministration",
            "Allow",
            "kms:*",
            "*",
            principal={"AWS": naming.account_root_arn(region, account)},
        ),
        statement(
            "DenyKeyDestructionExceptAdmin",
            "Deny",
            [
                "kms:ScheduleKeyDeletion",
                "kms:DisableKey",
                "kms:DisableKeyRotation",
                "kms:PutKeyPolicy",
                "kms:DeleteImportedKeyMaterial",
            ],
            "*",
            principal=EVERYONE,
            condition={"ArnNotLike": {"aws:PrincipalArn": admin_role_arn}},
        ),
        # https://docs.aws.amazon.com/awscloudtrail/latest/userguide/create-kms-key-policy-for-cloudtrail-encrypt.html
        statement(
            "AllowOrgTrailEncrypt",
            "Allow",
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
        statement(
            "AllowOrgTrailDescribeKey",
            "Allow",
            "kms:DescribeKey",
            "*",
            principal=service("cloudtrail"),
            condition={"StringEquals": {"aws:SourceArn": trail_arn}},
        ),
        statement(
            "AllowFirehoseDelivery",
            "Allow",
            ["kms:GenerateDataKey", "kms:Decrypt"],
            "*",
            principal={"AWS": firehose_role_arn},
            condition={
                "StringEquals": {"kms:ViaService": via_s3},
                # With an S3 Bucket Key the encryption context is the bucket ARN.
                "StringLike": {"kms:EncryptionContext:aws:s3:arn": [bucket_arn, f"{bucket_arn}/*"]},
            },
        ),
        # https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-config-for-kms-objects.html
        statement(
            "AllowOrgReplicaEncryption",
            "Allow",
            # Decrypt: S3 verifies the destination's Bucket Key with it during replication.
            ["kms:Encrypt", "kms:GenerateDataKey", "kms:Decrypt"],
            "*",
            principal=EVERYONE,
            condition={
                "StringEquals": {"aws:PrincipalOrgID": org_id, "kms:ViaService": via_s3},
                "ArnLike": {"aws:PrincipalArn": replication_role_pattern(region, name_prefix)},
                "StringLike": {"kms:EncryptionContext:aws:s3:arn": [bucket_arn, f"{bucket_arn}/*"]},
            },
        ),
        # EventBridge publishes to the KMS-encrypted alert topic:
        # https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services
        statement(
            "AllowAlertRulePublish",
            "Allow",
            ["kms:GenerateDataKey*", "kms:Decrypt"],
            "*",
            principal=service("events"),
            condition={"ArnEquals": {"aws:SourceArn": alert_rule_arn}},
        ),
    )


def firehose_trust_policy(account: str) -> Document:
    # Firehose passes the account id as sts:ExternalId:
    # https://docs.aws.amazon.com/firehose/latest/dev/controlling-access.html#using-iam-s3
    return trust_policy("firehose", {"StringEquals": {"sts:ExternalId": account}})


def firehose_delivery_policy(
    *, region: str, bucket: str, key_arn: str, log_group_arn: str
) -> Document:
    bucket_arn = naming.s3_bucket_arn(region, bucket)
    return policy(
        statement(
            "BucketLocation",
            "Allow",
            ["s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"],
            bucket_arn,
        ),
        statement(
            "WriteCloudWatchLogsPrefixes",
            "Allow",
            ["s3:AbortMultipartUpload", "s3:PutObject"],
            [
                naming.s3_objects_arn(region, bucket, f"{naming.CLOUDWATCH_LOGS}/*"),
                naming.s3_objects_arn(region, bucket, f"{naming.FIREHOSE_ERRORS}/*"),
            ],
        ),
        statement(
            "EncryptWithCentralKey",
            "Allow",
            ["kms:GenerateDataKey", "kms:Decrypt"],
            key_arn,
            condition={
                "StringEquals": {"kms:ViaService": naming.service_endpoint("s3", region)},
                "StringLike": {"kms:EncryptionContext:aws:s3:arn": [bucket_arn, f"{bucket_arn}/*"]},
            },
        ),
        statement("ReportDeliveryErrors", "Allow", "logs:PutLogEvents", log_group_arn),
    )


def destination_trust_policy(home_region: str, regions: list[str] | tuple[str, ...]) -> Document:
    # CloudWatch Logs assumes it for the recipient and for every sender account of the region:
    # https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/CreateDestination.html
    return trust_policy(
        "logs",
        {
            "StringLike": {
                "aws:SourceArn": [naming.arn(home_region, "logs", r, "*", "*") for r in regions]
            }
        },
    )


def destination_delivery_policy(firehose_arn: str) -> Document:
    return policy(
        statement(
            "PutIntoCentralFirehose",
            "Allow",
            ["firehose:PutRecord", "firehose:PutRecordBatch"],
            firehose_arn,
        )
    )


def destination_access_policy(destination_arn: str, org_id: str) -> Document:
    # https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/Cross-Account-Log_Subscription-Update-policy-Account.html
    return policy(
        statement(
            "AllowOrgSubscriptions",
            "Allow",
            ["logs:PutSubscriptionFilter", "logs:PutAccountPolicy"],
            destination_arn,
            principal=EVERYONE,
            condition={"StringEquals": {"aws:PrincipalOrgID": org_id}},
        )
    )


def alert_bus_policy(bus_arn: str, org_id: str) -> Document:
    return policy(
        statement(
            "AllowOrgPutEvents",
            "Allow",
            "events:PutEvents",
            bus_arn,
            principal=EVERYONE,
            condition={"StringEquals": {"aws:PrincipalOrgID": org_id}},
        )
    )


def alert_topic_policy(topic_arn: str, rule_arn: str) -> Document:
    return policy(
        statement(
            "AllowAlertRulePublish",
            "Allow",
            "sns:Publish",
            topic_arn,
            principal=service("events"),
            condition={"ArnEquals": {"aws:SourceArn": rule_arn}},
        ),
        statement(
            "DenyInsecureTransport",
            "Deny",
            "sns:Publish",
            topic_arn,
            principal=EVERYONE,
            condition={"Bool": {"aws:SecureTransport": "false"}},
        ),
    )


# API calls that change where S3-delivered logs go or who may write them.
REPLICATION_CHANGE_EVENTS = [
    "PutBucketReplication",
    "DeleteBucketReplication",
    "PutBucketPolicy",
    "DeleteBucketPolicy",
]


def replication_change_pattern(bucket: str | None = None) -> Document:
    """CloudTrail events for replication changes anywhere, and policy changes on `bucket`."""
    pattern: Document = {
        "source": ["aws.s3"],
        "detail-type": ["AWS API Call via CloudTrail"],
        "detail": {
            "eventSource": [naming.service_principal("s3")],
            "eventName": REPLICATION_CHANGE_EVENTS,
        },
    }
    if bucket is not None:
        # Replication changes on any bucket; policy changes only on the log bucket.
        pattern["detail"] = {
            "eventSource": [naming.service_principal("s3")],
            "$or": [
                {"eventName": ["PutBucketReplication", "DeleteBucketReplication"]},
                {
                    "eventName": ["PutBucketPolicy", "DeleteBucketPolicy"],
                    "requestParameters": {"bucketName": [bucket]},
                },
            ],
        }
    return pattern


# --------------------------------------------------------------------------------------------
# Service control policies (management account)
# --------------------------------------------------------------------------------------------

SCP_MAX_CHARS = (
    5120  # https://docs.aws.amazon.com/organizations/latest/userguide/orgs_reference_limits.html
)
SCP_MAX_PER_TARGET = 5


def deny_leave_scp() -> Document:
    return policy(
        statement("DenyLeaveOrganization", "Deny", "organizations:LeaveOrganization", "*")
    )


def protect_logging_scp(*, region: str, name_prefix: str, admin_role_name: str) -> Document:
    """Denies every member principal but `admin_role_name` the ways to stop or redirect logs."""
    not_admin = {
        "ArnNotLike": {"aws:PrincipalArn": naming.iam_role_arn(region, "*", admin_role_name)}
    }

    def any_account(service_name: str, resource: str) -> str:
        return naming.arn(region, service_name, "*", "*", resource)

    bus = naming.alert_bus_name(name_prefix)
    org_logs = naming.org_logs_name(name_prefix)
    log_buckets = [
        naming.s3_bucket_arn(region, f"{name_prefix}-logs-*"),
        naming.s3_bucket_arn(region, f"{name_prefix}-org-logs-*"),
    ]
    return policy(
        statement(
            "ProtectTrails",
            "Deny",
            [
                "cloudtrail:StopLogging",
                "cloudtrail:DeleteTrail",
                "cloudtrail:UpdateTrail",
                "cloudtrail:PutEventSelectors",
            ],
            any_account("cloudtrail", f"trail/{naming.trail_name(name_prefix)}"),
            condition=not_admin,
        ),
        statement(
            "ProtectLogBuckets",
            "Deny",
            BUCKET_TAMPER_ACTIONS,
            log_buckets,
            condition=not_admin,
        ),
        statement(
            "ProtectLogObjects",
            "Deny",
            OBJECT_TAMPER_ACTIONS,
            [f"{bucket}/*" for bucket in log_buckets],
            condition=not_admin,
        ),
        # Our subscriptions are account-level policies (one per account x region); a log-group
        # filter cannot remove them, so teams keep their own log-group subscription filters.
        statement(
            "ProtectLogSubscriptions",
            "Deny",
            [
                "logs:PutAccountPolicy",
                "logs:DeleteAccountPolicy",
                "logs:DeleteDestination",
                "logs:PutDestination",
                "logs:PutDestinationPolicy",
            ],
            "*",
            condition=not_admin,
        ),
        statement(
            "ProtectCentralDelivery",
            "Deny",
            [
                "firehose:DeleteDeliveryStream",
                "firehose:UpdateDestination",
                "firehose:StopDeliveryStreamEncryption",
            ],
            any_account("firehose", f"deliverystream/{org_logs}"),
            condition=not_admin,
        ),
        statement(
            "ProtectDetection",
            "Deny",
            [
                "events:DeleteRule",
                "events:DisableRule",
                "events:PutRule",
                "events:PutTargets",
                "events:RemoveTargets",
                "events:DeleteEventBus",
                "events:PutPermission",
                "events:RemovePermission",
            ],
            [
                any_account("events", f"rule/{naming.protected_name_prefix(name_prefix)}*"),
                any_account("events", f"rule/{bus}/*"),
                any_account("events", f"event-bus/{bus}"),
            ],
            condition=not_admin,
        ),
        statement(
            "ProtectLoggingRoles",
            "Deny",
            [
                "iam:AttachRolePolicy",
                "iam:DeleteRole",
                "iam:DeleteRolePermissionsBoundary",
                "iam:DeleteRolePolicy",
                "iam:DetachRolePolicy",
                "iam:PutRolePermissionsBoundary",
                "iam:PutRolePolicy",
                "iam:UpdateAssumeRolePolicy",
                "iam:UpdateRole",
            ],
            naming.iam_role_arn(region, "*", f"{naming.protected_name_prefix(name_prefix)}*"),
            condition=not_admin,
        ),
    )


# --------------------------------------------------------------------------------------------
# SourceAccountLogging (every member account x region)
# --------------------------------------------------------------------------------------------


def elb_log_delivery_principal(region: str) -> dict[str, str]:
    account = naming.ELB_LOG_DELIVERY_ACCOUNTS.get(region)
    if account:
        return {"AWS": naming.account_root_arn(region, account)}
    return service(naming.ELB_LOG_DELIVERY_SERVICE)


def source_bucket_policy(
    *, region: str, bucket: str, account: str, admin_role_arn: str
) -> Document:
    """Each log-delivery service may write only under `AWSLogs/{account}/`, for this account."""
    own_logs = naming.s3_objects_arn(region, bucket, f"{naming.account_logs_prefix(account)}*")
    cloudfront_logs = naming.s3_objects_arn(
        region, bucket, f"{naming.cloudfront_logs_prefix(account)}*"
    )
    bucket_arn = naming.s3_bucket_arn(region, bucket)
    # Vended logs (VPC flow logs, Route 53 resolver query logs, NLB) come from this region.
    # https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs-s3-permissions.html
    from_this_account = {
        "StringEquals": {"aws:SourceAccount": account},
        "ArnLike": {"aws:SourceArn": naming.arn(region, "logs", region, account, "*")},
    }
    elb = elb_log_delivery_principal(region)
    elb_statement = statement(
        "AllowLoadBalancerLogDelivery",
        "Allow",
        "s3:PutObject",
        own_logs,
        principal=elb,
        # The regional ELB account is not a service principal: it sends no aws:SourceAccount.
        condition=None if "AWS" in elb else {"StringEquals": {"aws:SourceAccount": account}},
    )
    return policy(
        deny_insecure_transport(region, bucket),
        statement(
            "AllowLogDeliveryAclCheck",
            "Allow",
            ["s3:GetBucketAcl", "s3:ListBucket"],
            bucket_arn,
            principal=service("delivery.logs"),
            condition=from_this_account,
        ),
        statement(
            "AllowLogDeliveryWrite",
            "Allow",
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
        statement(
            "AllowCloudFrontLogDelivery",
            "Allow",
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
    )


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
    log_archive_account: str,
    name_prefix: str,
) -> Document:
    """What S3 replication needs, and no more: read our prefix, replicate into our prefix."""
    prefix = naming.account_logs_prefix(account)
    central_arn = naming.s3_bucket_arn(home_region, central_bucket)
    return policy(
        statement(
            "ReadReplicationConfiguration",
            "Allow",
            ["s3:GetReplicationConfiguration", "s3:ListBucket"],
            naming.s3_bucket_arn(region, bucket),
        ),
        statement(
            "ReadSourceVersions",
            "Allow",
            [
                "s3:GetObjectVersionForReplication",
                "s3:GetObjectVersionAcl",
                "s3:GetObjectVersionTagging",
            ],
            naming.s3_objects_arn(region, bucket, f"{prefix}*"),
        ),
        statement(
            "ReplicateIntoOwnPrefix",
            "Allow",
            ["s3:ReplicateObject", "s3:ReplicateTags", "s3:ObjectOwnerOverrideToBucketOwner"],
            naming.s3_objects_arn(home_region, central_bucket, f"{prefix}*"),
        ),
        statement(
            "CheckDestinationVersioning",
            "Allow",
            "s3:GetBucketVersioning",
            central_arn,
        ),
        # The central key's id is the log-archive stack's; its alias is fixed by convention:
        # https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-resource-aliases
        statement(
            "EncryptReplicasWithCentralKey",
            "Allow",
            ["kms:Encrypt", "kms:GenerateDataKey", "kms:Decrypt"],
            naming.kms_any_key_arn(home_region, log_archive_account),
            condition={
                "StringEquals": {"kms:ViaService": naming.service_endpoint("s3", home_region)},
                "ForAnyValue:StringEquals": {"kms:ResourceAliases": naming.key_alias(name_prefix)},
            },
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
        statement(
            "ValidateOrgSubscription",
            "Allow",
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


def alert_forwarder_trust_policy(*, account: str, rule_arn: str) -> Document:
    return trust_policy(
        "events",
        {
            "StringEquals": {"aws:SourceAccount": account},
            "ArnEquals": {"aws:SourceArn": rule_arn},
        },
    )


def alert_forwarder_policy(central_bus_arn: str) -> Document:
    return policy(statement("ForwardToCentralBus", "Allow", "events:PutEvents", central_bus_arn))
