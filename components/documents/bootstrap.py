"""adminRoleName, the role that deploys the log-archive and source stacks: who may assume it,
what it may do, and the CloudFormation template that creates it in every member account
(docs/security.md, "The admin role"). Pure functions returning dicts."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from components import naming
from components.documents.bootstrap_actions import (
    ALERT_TOPIC,
    CANARY_READS,
    CANARY_WRITES,
    CENTRAL_KEY,
    DELIVERY_LOGS,
    DELIVERY_STREAMS,
    DETECTION,
    LOG_BUCKETS,
    LOG_SUBSCRIPTIONS,
    LOGGING_ALARMS,
    LOGGING_ROLES,
    NO_RESOURCE_TYPE,
    QUERY_LAYER,
    actions_by_scope,
)
from components.documents.grammar import (
    Document,
    Statement,
    allow,
    deny,
    policy,
    principal_trust_policy,
)

# IAM's quotas, in characters without white space:
# https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html
TRUST_POLICY_MAX_CHARS = 2048  # role trust policy length, the default quota (4,096 at most)
MANAGED_POLICY_MAX_CHARS = 6144  # one managed policy; each inline policy is kept under it too
ROLE_INLINE_POLICIES_MAX_CHARS = 10240  # all inline policies of one role together
# https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_CreateStackSet.html
TEMPLATE_BODY_MAX_BYTES = 51200

ROLE_DESCRIPTION = (
    "org-logging: deploys the log-archive and source stacks; the one role the SCPs and the "
    "log bucket and key policies exempt"
)
# What nobody but the StackSet may do to adminRoleName (the protect-logging SCP), and what
# the role may not do to itself.
ADMIN_ROLE_ACTIONS = [
    "iam:AttachRolePolicy",
    "iam:CreateRole",
    "iam:DeleteRole",
    "iam:DeleteRolePermissionsBoundary",
    "iam:DeleteRolePolicy",
    "iam:DetachRolePolicy",
    "iam:PutRolePermissionsBoundary",
    "iam:PutRolePolicy",
    "iam:UpdateAssumeRolePolicy",
    "iam:UpdateRole",
    "iam:UpdateRoleDescription",
    "iam:TagRole",
    "iam:UntagRole",
]


def policy_chars(document: Document) -> int:
    """A policy's size as IAM counts it: characters, white space excluded."""
    return len(re.sub(r"\s", "", json.dumps(document, separators=(",", ":"))))


# ---- trust -----------------------------------------------------------------------------------


def admin_trust_policy(
    *, region: str, management_account: str, deployer_arns: Sequence[str]
) -> Document:
    """Only the deployers of the management account may assume the role.

    The principal is the management account; `aws:PrincipalArn` narrows it to the deployer
    roles (for a role session it is the role's ARN, path included):
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-principalarn
    sts:SetSourceIdentity is allowed, not required: a session that carries a source identity
    can only assume a role whose trust allows it, and our own assumeRoles set none:
    https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_temp_control-access_monitor.html
    """
    return principal_trust_policy(
        "ManagementAccountDeployers",
        {"AWS": naming.account_root_arn(region, management_account)},
        ["sts:AssumeRole", "sts:SetSourceIdentity"],
        {"ArnEquals": {"aws:PrincipalArn": list(deployer_arns)}},
    )


# ---- permissions -----------------------------------------------------------------------------


def scope_resources(region: str, name_prefix: str) -> dict[str, list[str] | str]:
    """The resources of each statement: our names, in any region and account of the partition
    (the same document serves every account)."""

    def anywhere(service: str, resource: str) -> str:
        return naming.arn(region, service, "*", "*", resource)

    ours = naming.protected_name_prefix(name_prefix)
    database = naming.glue_database_name(name_prefix)
    bus = naming.alert_bus_name(name_prefix)
    org_logs = naming.org_logs_name(name_prefix)
    group = naming.firehose_log_group(name_prefix)
    destination = anywhere("logs", f"destination:{org_logs}")
    canary = naming.canary_prefix("*")
    source_buckets, archive_buckets = naming.log_bucket_name_patterns(name_prefix)
    return {
        LOG_BUCKETS: [
            naming.s3_bucket_arn(region, pattern)
            for pattern in (
                *naming.log_bucket_name_patterns(name_prefix),
                naming.athena_results_bucket_name(name_prefix, "*", "*"),
            )
        ],
        LOGGING_ROLES: naming.iam_role_arn(region, "*", f"{ours}*"),
        LOGGING_ALARMS: anywhere("cloudwatch", f"alarm:{ours}*"),
        DETECTION: [
            anywhere("events", f"rule/{ours}*"),
            anywhere("events", f"rule/{bus}/{ours}*"),
            anywhere("events", f"event-bus/{bus}"),
        ],
        DELIVERY_LOGS: [
            anywhere("logs", f"log-group:{group}"),
            anywhere("logs", f"log-group:{group}:*"),
            anywhere("logs", f"log-group:{naming.CANARY_LOG_GROUP}"),
            anywhere("logs", f"log-group:{naming.CANARY_LOG_GROUP}:*"),
            destination,
        ],
        LOG_SUBSCRIPTIONS: [anywhere("logs", "log-group:*"), destination],
        DELIVERY_STREAMS: anywhere("firehose", f"deliverystream/{org_logs}-*"),
        CENTRAL_KEY: [anywhere("kms", "key/*"), anywhere("kms", naming.key_alias(name_prefix))],
        ALERT_TOPIC: anywhere("sns", naming.alert_topic_name(name_prefix)),
        # `org-logging verify`: the canary into the source buckets, read back from the archive.
        CANARY_WRITES: [
            naming.s3_objects_arn(region, source_buckets, f"{canary}*"),
            anywhere("logs", f"log-group:{naming.CANARY_LOG_GROUP}:*"),
        ],
        CANARY_READS: [
            naming.s3_objects_arn(region, archive_buckets, f"{canary}*"),
            naming.s3_objects_arn(region, archive_buckets, f"{naming.CLOUDWATCH_LOGS}/*"),
        ],
        QUERY_LAYER: [
            anywhere("glue", "catalog"),
            anywhere("glue", f"database/{database}"),
            anywhere("glue", f"table/{database}/*"),
            anywhere("athena", f"workgroup/{naming.athena_workgroup_name(name_prefix)}"),
        ],
        NO_RESOURCE_TYPE: "*",
    }


def admin_role_statements(
    *, region: str, name_prefix: str, admin_role_name: str
) -> list[Statement]:
    """One Allow per scope of `bootstrap_actions`, and a Deny of any change to the role itself
    (the logging-role statement would cover it if adminRoleName were `{prefix}-logging-...`)."""
    resources = scope_resources(region, name_prefix)
    allows = [
        allow(scope, actions, resources[scope]) for scope, actions in actions_by_scope().items()
    ]
    itself = deny(
        "NoChangesToItself",
        ADMIN_ROLE_ACTIONS,
        naming.iam_role_arn(region, "*", admin_role_name),
    )
    return [*allows, itself]


def admin_role_policies(*, region: str, name_prefix: str, admin_role_name: str) -> list[Document]:
    """The role's inline policies: its statements, in order, each policy kept under IAM's
    managed-policy size."""
    return split_statements(
        admin_role_statements(
            region=region, name_prefix=name_prefix, admin_role_name=admin_role_name
        )
    )


def split_statements(
    statements: Sequence[Statement], limit: int = MANAGED_POLICY_MAX_CHARS
) -> list[Document]:
    """`statements` in order, in as few policies as keep each within `limit` characters."""
    parts: list[list[Statement]] = [[]]
    for statement in statements:
        if parts[-1] and policy_chars(policy(*parts[-1], statement)) > limit:
            parts.append([])
        parts[-1].append(statement)
    return [policy(*part) for part in parts]


# ---- the StackSet's template -----------------------------------------------------------------


def admin_role_template(
    *, name_prefix: str, admin_role_name: str, trust: Document, policies: list[Document]
) -> dict[str, Any]:
    """A CloudFormation template with the role alone: same name, trust and policies in every
    member account (no parameters, no intrinsic functions but the output)."""
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": f"org-logging: {admin_role_name}, the role that deploys org-logging",
        "Resources": {
            "AdminRole": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "RoleName": admin_role_name,
                    "Description": ROLE_DESCRIPTION,
                    "AssumeRolePolicyDocument": trust,
                    "Policies": [
                        {
                            "PolicyName": naming.admin_role_policy_name(name_prefix, part),
                            "PolicyDocument": document,
                        }
                        for part, document in enumerate(policies, start=1)
                    ],
                },
            }
        },
        "Outputs": {"AdminRoleArn": {"Value": {"Fn::GetAtt": ["AdminRole", "Arn"]}}},
    }


def template_body(template: dict[str, Any]) -> str:
    return json.dumps(template, separators=(",", ":"))


def size_problems(trust: Document, policies: list[Document], body: str) -> list[str]:
    """What IAM or CloudFormation would refuse for its size, one line each."""
    problems = []
    if (size := policy_chars(trust)) > TRUST_POLICY_MAX_CHARS:
        problems.append(
            f"the admin role's trust policy is {size} characters; IAM allows "
            f"{TRUST_POLICY_MAX_CHARS} (default quota)"
        )
    for part, document in enumerate(policies, start=1):
        if (size := policy_chars(document)) > MANAGED_POLICY_MAX_CHARS:
            problems.append(
                f"the admin role's policy {part} is {size} characters; the limit kept is "
                f"{MANAGED_POLICY_MAX_CHARS}"
            )
    if (total := sum(policy_chars(d) for d in policies)) > ROLE_INLINE_POLICIES_MAX_CHARS:
        problems.append(
            f"the admin role's inline policies are {total} characters together; IAM allows "
            f"{ROLE_INLINE_POLICIES_MAX_CHARS}"
        )
    if (size := len(body.encode())) > TEMPLATE_BODY_MAX_BYTES:
        problems.append(
            f"the admin role's template is {size} bytes; CloudFormation allows "
            f"{TEMPLATE_BODY_MAX_BYTES}"
        )
    return problems
