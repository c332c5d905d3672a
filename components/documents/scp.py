"""Service control policies (management account): nobody leaves the organization, only
`adminRoleName` may stop, redirect or delete logs, and only the StackSet that creates that
role may change it."""

from __future__ import annotations

from components import naming
from components.documents.bootstrap import ADMIN_ROLE_ACTIONS
from components.documents.buckets import BUCKET_TAMPER_ACTIONS, OBJECT_TAMPER_ACTIONS
from components.documents.grammar import Document, Statement, deny, policy


def deny_leave_scp() -> Document:
    return policy(deny("DenyLeaveOrganization", "organizations:LeaveOrganization", "*"))


# What protect-logging denies every member principal but the admin role, statement by statement.
PROTECTED_ACTIONS: dict[str, list[str]] = {
    "ProtectTrails": [
        "cloudtrail:StopLogging",
        "cloudtrail:DeleteTrail",
        "cloudtrail:UpdateTrail",
        "cloudtrail:PutEventSelectors",
    ],
    "ProtectLogBuckets": BUCKET_TAMPER_ACTIONS,
    "ProtectLogObjects": OBJECT_TAMPER_ACTIONS,
    # Our subscriptions are account-level policies (one per account x region); a log-group
    # filter cannot remove them, so teams keep their own log-group subscription filters.
    # PutAccountPolicy has no resource type and no policy-type condition key, so this denies
    # every account-level policy to all but the admin role (docs/security.md: the trade-off).
    "ProtectLogSubscriptions": ["logs:PutAccountPolicy", "logs:DeleteAccountPolicy"],
    "ProtectLogDestinations": [
        "logs:DeleteDestination",
        "logs:PutDestination",
        "logs:PutDestinationPolicy",
    ],
    "ProtectCentralDelivery": [
        "firehose:DeleteDeliveryStream",
        "firehose:UpdateDestination",
        "firehose:StopDeliveryStreamEncryption",
    ],
    "ProtectAlarms": [
        "cloudwatch:DeleteAlarms",
        "cloudwatch:DisableAlarmActions",
        "cloudwatch:PutMetricAlarm",
        "cloudwatch:SetAlarmState",
    ],
    "ProtectDetection": [
        "events:DeleteRule",
        "events:DisableRule",
        "events:PutRule",
        "events:PutTargets",
        "events:RemoveTargets",
        "events:DeleteEventBus",
        "events:PutPermission",
        "events:RemovePermission",
    ],
    "ProtectLoggingRoles": [
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
}


def protected_resources(region: str, name_prefix: str) -> dict[str, list[str] | str]:
    """What each statement of protect-logging protects, in every member account."""

    def any_account(service_name: str, resource: str) -> str:
        return naming.arn(region, service_name, "*", "*", resource)

    bus = naming.alert_bus_name(name_prefix)
    org_logs = naming.org_logs_name(name_prefix)
    ours = naming.protected_name_prefix(name_prefix)
    log_buckets = [
        naming.s3_bucket_arn(region, pattern)
        for pattern in naming.log_bucket_name_patterns(name_prefix)
    ]
    return {
        "ProtectTrails": any_account("cloudtrail", f"trail/{naming.trail_name(name_prefix)}"),
        "ProtectLogBuckets": log_buckets,
        "ProtectLogObjects": [f"{bucket}/*" for bucket in log_buckets],
        "ProtectLogSubscriptions": "*",
        "ProtectLogDestinations": any_account("logs", f"destination:{org_logs}"),
        "ProtectCentralDelivery": any_account("firehose", f"deliverystream/{org_logs}-*"),
        "ProtectAlarms": any_account("cloudwatch", f"alarm:{ours}*"),
        "ProtectDetection": [
            any_account("events", f"rule/{ours}*"),
            any_account("events", f"rule/{bus}/*"),
            any_account("events", f"event-bus/{bus}"),
        ],
        "ProtectLoggingRoles": naming.iam_role_arn(region, "*", f"{ours}*"),
    }


def protect_admin_role(region: str, admin_role_name: str) -> Statement:
    """adminRoleName is exempt from every other deny, so whoever could change its trust or
    policies would be too: only the StackSet's execution role (stacksets-exec-*) may create
    or change it. That role is protected as well; StackSets manages it through a
    service-linked role, which SCPs do not restrict:
    https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps.html
    """
    stacksets_exec = naming.iam_role_arn(region, "*", naming.STACKSETS_EXECUTION_ROLE_PATTERN)
    return deny(
        "ProtectAdminRole",
        ADMIN_ROLE_ACTIONS,
        [naming.iam_role_arn(region, "*", admin_role_name), stacksets_exec],
        condition={"ArnNotLike": {"aws:PrincipalArn": stacksets_exec}},
    )


def protect_logging_scp(*, region: str, name_prefix: str, admin_role_name: str) -> Document:
    """Denies every member principal but `admin_role_name` the ways to stop or redirect logs,
    and every principal but the StackSet the ways to change `admin_role_name`."""
    not_admin = {
        "ArnNotLike": {"aws:PrincipalArn": naming.iam_role_arn(region, "*", admin_role_name)}
    }
    resources = protected_resources(region, name_prefix)
    return policy(
        *(
            deny(sid, actions, resources[sid], condition=not_admin)
            for sid, actions in PROTECTED_ACTIONS.items()
        ),
        protect_admin_role(region, admin_role_name),
    )
