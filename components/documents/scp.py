"""Service control policies (management account): nobody leaves the organization, and only
`adminRoleName` may stop, redirect or delete logs."""

from __future__ import annotations

from components import naming
from components.documents.buckets import BUCKET_TAMPER_ACTIONS, OBJECT_TAMPER_ACTIONS
from components.documents.grammar import Document, deny, policy


def deny_leave_scp() -> Document:
    return policy(deny("DenyLeaveOrganization", "organizations:LeaveOrganization", "*"))


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
        deny(
            "ProtectTrails",
            [
                "cloudtrail:StopLogging",
                "cloudtrail:DeleteTrail",
                "cloudtrail:UpdateTrail",
                "cloudtrail:PutEventSelectors",
            ],
            any_account("cloudtrail", f"trail/{naming.trail_name(name_prefix)}"),
            condition=not_admin,
        ),
        deny(
            "ProtectLogBuckets",
            BUCKET_TAMPER_ACTIONS,
            log_buckets,
            condition=not_admin,
        ),
        deny(
            "ProtectLogObjects",
            OBJECT_TAMPER_ACTIONS,
            [f"{bucket}/*" for bucket in log_buckets],
            condition=not_admin,
        ),
        # Our subscriptions are account-level policies (one per account x region); a log-group
        # filter cannot remove them, so teams keep their own log-group subscription filters.
        # PutAccountPolicy has no resource type and no policy-type condition key, so this
        # denies every account-level policy to all but the admin role (README: trade-off).
        deny(
            "ProtectLogSubscriptions",
            ["logs:PutAccountPolicy", "logs:DeleteAccountPolicy"],
            "*",
            condition=not_admin,
        ),
        deny(
            "ProtectLogDestinations",
            ["logs:DeleteDestination", "logs:PutDestination", "logs:PutDestinationPolicy"],
            any_account("logs", f"destination:{org_logs}"),
            condition=not_admin,
        ),
        deny(
            "ProtectCentralDelivery",
            [
                "firehose:DeleteDeliveryStream",
                "firehose:UpdateDestination",
                "firehose:StopDeliveryStreamEncryption",
            ],
            any_account("firehose", f"deliverystream/{org_logs}-*"),
            condition=not_admin,
        ),
        deny(
            "ProtectAlarms",
            [
                "cloudwatch:DeleteAlarms",
                "cloudwatch:DisableAlarmActions",
                "cloudwatch:PutMetricAlarm",
                "cloudwatch:SetAlarmState",
            ],
            any_account("cloudwatch", f"alarm:{naming.protected_name_prefix(name_prefix)}*"),
            condition=not_admin,
        ),
        deny(
            "ProtectDetection",
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
        deny(
            "ProtectLoggingRoles",
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
