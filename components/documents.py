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
    body = statement(
        "DenyObjectWritesExceptWriters",
        "Deny",
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
        # Replication writes with s3:ReplicateObject, not PutObject; CloudTrail is a service.
        deny_writes_except(region, bucket, writer_arns=[firehose_role_arn, admin_role_arn]),
        # Replicas of SSE-S3 sources stay SSE-S3, so the key does not guard them: the policy does.
        # https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-config-for-kms-objects.html
        statement(
            "DenyReadingLogsExceptReaders",
            "Deny",
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
        deny_writes_except(region, bucket, writer_arns=[admin_role_arn]),
    )


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
                # Moving or deleting the alias needs these on the key as well as on the alias:
                # https://docs.aws.amazon.com/kms/latest/developerguide/alias-access.html
                "kms:UpdateAlias",
                "kms:DeleteAlias",
            ],
            "*",
            principal=EVERYONE,
            condition={"ArnNotLike": {"aws:PrincipalArn": admin_role_arn}},
        ),
        # The management stack resolves the alias to the key ARN the trail stores (DescribeKey
        # takes an alias ARN across accounts):
        # https://docs.aws.amazon.com/kms/latest/APIReference/API_DescribeKey.html
        statement(
            "AllowManagementAccountDescribeKey",
            "Allow",
            "kms:DescribeKey",
            "*",
            principal={"AWS": naming.account_root_arn(region, management_account)},
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
        # EventBridge publishes to the KMS-encrypted alert topic:
        # https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services
        statement(
            "AllowAlertRulePublish",
            "Allow",
            ["kms:GenerateDataKey*", "kms:Decrypt"],
            "*",
            principal=service("events"),
            condition={"ArnEquals": {"aws:SourceArn": alert_rule_arns}},
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
        statement(
            "PutIntoCentralFirehose",
            "Allow",
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
            statement(
                "AllowMemberAccountSubscriptions",
                "Allow",
                actions,
                destination_arn,
                principal={"AWS": sorted(member_accounts)},
            )
        )
    return policy(
        statement(
            "AllowOrgSubscriptions",
            "Allow",
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


def alert_forwarder_pattern(region: str, prefix: str) -> str:
    """Every role that forwards alerts to the central bus, in any account of the org."""
    return naming.iam_role_arn(region, "*", naming.alert_forwarder_role_name(prefix, "*"))


def alert_bus_policy(bus_arn: str, org_id: str, *, region: str, name_prefix: str) -> Document:
    """Only org-logging's forwarder roles, in the organization, may put events: a member
    cannot flood the alert topic."""
    return policy(
        statement(
            "AllowOrgForwardersPutEvents",
            "Allow",
            "events:PutEvents",
            bus_arn,
            principal=EVERYONE,
            condition={
                "StringEquals": {"aws:PrincipalOrgID": org_id},
                "ArnLike": {"aws:PrincipalArn": alert_forwarder_pattern(region, name_prefix)},
            },
        )
    )


def alert_topic_policy(topic_arn: str, rule_arns: list[str]) -> Document:
    return policy(
        statement(
            "AllowAlertRulePublish",
            "Allow",
            "sns:Publish",
            topic_arn,
            principal=service("events"),
            condition={"ArnEquals": {"aws:SourceArn": rule_arns}},
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


# --------------------------------------------------------------------------------------------
# Detection: EventBridge patterns of what org-logging alerts on
# --------------------------------------------------------------------------------------------

API_CALL = "AWS API Call via CloudTrail"
ALARM_STATE_CHANGE = "CloudWatch Alarm State Change"
REPLICATION_CHANGE_EVENTS = ["PutBucketReplication", "DeleteBucketReplication"]
# CloudTrail's event names for the calls that change what keeps a log bucket's objects.
LOG_BUCKET_CHANGE_EVENTS = [
    "PutBucketPolicy",
    "DeleteBucketPolicy",
    "PutBucketLifecycle",
    "DeleteBucketLifecycle",
    "PutBucketVersioning",
    "PutBucketEncryption",
    "DeleteBucketEncryption",
    "PutObjectLockConfiguration",
    "PutBucketOwnershipControls",
    "PutBucketPublicAccessBlock",
    "DeleteBucketPublicAccessBlock",
]
ACCOUNT_POLICY_EVENTS = ["PutAccountPolicy", "DeleteAccountPolicy"]
TRAIL_CHANGE_EVENTS = [
    "StopLogging",
    "DeleteTrail",
    "UpdateTrail",
    "PutEventSelectors",
    "PutInsightSelectors",
]
KEY_CHANGE_EVENTS = [
    "PutKeyPolicy",
    "ScheduleKeyDeletion",
    "DisableKey",
    "DisableKeyRotation",
    "UpdateAlias",
    "DeleteAlias",
]


def api_calls(service_name: str, event_names: list[str], **request: list[str]) -> Document:
    """CloudTrail management events of `service_name` (EventBridge needs a logging trail for
    them: the organization trail is one in every account and region)."""
    detail: Document = {
        "eventSource": [naming.service_principal(service_name)],
        "eventName": list(event_names),
    }
    if request:
        detail["requestParameters"] = request
    return {"source": [f"aws.{service_name}"], "detail-type": [API_CALL], "detail": detail}


def replication_changes() -> Document:
    """A replication configuration put or deleted on any bucket: the way to redirect logs."""
    return api_calls("s3", REPLICATION_CHANGE_EVENTS)


def log_bucket_changes(bucket: str | None = None) -> Document:
    """Policy, lifecycle, versioning, encryption or lock changes of `bucket` (of any bucket
    when None: the central rule hears what the sources already filtered)."""
    if bucket is None:
        return api_calls("s3", LOG_BUCKET_CHANGE_EVENTS)
    return api_calls("s3", LOG_BUCKET_CHANGE_EVENTS, bucketName=[bucket])


def account_policy_changes() -> Document:
    """CloudWatch Logs account policies put or deleted: ours is the account's subscription."""
    return api_calls("logs", ACCOUNT_POLICY_EVENTS)


def trail_changes() -> Document:
    """Stopping, deleting or narrowing a trail: SCPs do not bind the management account."""
    return api_calls("cloudtrail", TRAIL_CHANGE_EVENTS)


def key_changes() -> Document:
    return api_calls("kms", KEY_CHANGE_EVENTS)


def alarm_changes(prefix: str) -> Document:
    """State changes of org-logging's alarms (all named under the protected prefix)."""
    return {
        "source": ["aws.cloudwatch"],
        "detail-type": [ALARM_STATE_CHANGE],
        "detail": {"alarmName": [{"prefix": naming.protected_name_prefix(prefix)}]},
    }


def any_of(*patterns: Document) -> Document:
    """One rule for several patterns: `$or` works at the top level of a pattern:
    https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html"""
    return {"$or": list(patterns)} if len(patterns) > 1 else patterns[0]


def source_detection_pattern(prefix: str, bucket: str) -> Document:
    """What a member account x region forwards to the central alert bus."""
    return any_of(
        replication_changes(),
        log_bucket_changes(bucket),
        account_policy_changes(),
        alarm_changes(prefix),
    )


def archive_detection_pattern(buckets: list[str]) -> Document:
    """Changes to the central and access-log buckets and to the keys of the log archive."""
    return any_of(*(log_bucket_changes(bucket) for bucket in buckets), key_changes())


def central_alert_pattern(prefix: str) -> Document:
    """Everything the forwarders send; the bus accepts nothing but theirs."""
    return any_of(
        replication_changes(),
        log_bucket_changes(),
        account_policy_changes(),
        trail_changes(),
        alarm_changes(prefix),
    )


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
        # PutAccountPolicy has no resource type and no policy-type condition key, so this
        # denies every account-level policy to all but the admin role (README: trade-off).
        statement(
            "ProtectLogSubscriptions",
            "Deny",
            ["logs:PutAccountPolicy", "logs:DeleteAccountPolicy"],
            "*",
            condition=not_admin,
        ),
        statement(
            "ProtectLogDestinations",
            "Deny",
            ["logs:DeleteDestination", "logs:PutDestination", "logs:PutDestinationPolicy"],
            any_account("logs", f"destination:{org_logs}"),
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
            any_account("firehose", f"deliverystream/{org_logs}-*"),
            condition=not_admin,
        ),
        statement(
            "ProtectAlarms",
            "Deny",
            [
                "cloudwatch:DeleteAlarms",
                "cloudwatch:DisableAlarmActions",
                "cloudwatch:PutMetricAlarm",
                "cloudwatch:SetAlarmState",
            ],
            any_account("cloudwatch", f"alarm:{naming.protected_name_prefix(name_prefix)}*"),
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
    *,
    region: str,
    bucket: str,
    account: str,
    admin_role_arn: str,
    cloudfront_legacy_logging: bool = False,
) -> Document:
    """Each log-delivery service may write only under `AWSLogs/{account}/`, for this account,
    and nobody else may put (so overwrite) an object."""
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
        deny_writes_except(
            region,
            bucket,
            writer_arns=[admin_role_arn],
            # The regional ELB account writes as an account, not as a service principal.
            writer_accounts=[account_of(elb["AWS"])] if "AWS" in elb else [],
            # Legacy CloudFront writes as the awslogsdelivery account, which AWS documents only
            # by canonical id: its prefix stays open to writers with IAM permission (README).
            not_resources=[cloudfront_logs] if cloudfront_legacy_logging else [],
        ),
    )


def account_of(arn: str) -> str:
    return arn.split(":")[4]


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
