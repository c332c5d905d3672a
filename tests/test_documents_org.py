"""The SCPs and the admin role (bootstrap): each builder called directly, its statements
compared whole (Effect included) with what the AWS documentation asks for. Rendering a stack
checks that the documents reach their resources (test_log_archive*.py, test_management.py);
these pin the documents themselves, in milliseconds, so a mutation tool can check every
builder quickly. AWS's limits are written as numbers, never taken from the module under test.
"""

from __future__ import annotations

import json

from document_literals import (
    ADMIN_ROLE_ACTIONS,
    MANAGEMENT,
    REGION,
)
from expected import (
    BUCKET_TAMPER_ACTIONS,
    OBJECT_TAMPER_ACTIONS,
)

from components.documents import (
    bootstrap,
    grammar,
    scp,
)
from components.documents.bootstrap_actions import actions_by_scope

# ---- service control policies ----------------------------------------------------------------


def test_the_deny_leave_scp_denies_leaving_the_organization_and_nothing_else():
    assert scp.deny_leave_scp() == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "DenyLeaveOrganization",
                "Effect": "Deny",
                "Action": "organizations:LeaveOrganization",
                "Resource": "*",
            }
        ],
    }


ANY_ADMIN = {"ArnNotLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/OrgLoggingAdmin"}}
STACKSETS_EXEC = "arn:aws:iam::*:role/stacksets-exec-*"


def protection(sid: str, actions: list[str], resource: list[str] | str) -> dict:
    return {
        "Sid": sid,
        "Effect": "Deny",
        "Action": actions,
        "Resource": resource,
        "Condition": ANY_ADMIN,
    }


def test_protect_logging_denies_every_member_but_the_admin_role_statement_by_statement():
    logs = ["arn:aws:s3:::acme-logs-*", "arn:aws:s3:::acme-org-logs-*"]
    assert scp.protect_logging_scp(
        region=REGION, name_prefix="acme", admin_role_name="OrgLoggingAdmin"
    ) == {
        "Version": "2012-10-17",
        "Statement": [
            protection(
                "ProtectTrails",
                [
                    "cloudtrail:StopLogging",
                    "cloudtrail:DeleteTrail",
                    "cloudtrail:UpdateTrail",
                    "cloudtrail:PutEventSelectors",
                ],
                "arn:aws:cloudtrail:*:*:trail/acme-org-trail",
            ),
            protection("ProtectLogBuckets", BUCKET_TAMPER_ACTIONS, logs),
            protection("ProtectLogObjects", OBJECT_TAMPER_ACTIONS, [f"{b}/*" for b in logs]),
            protection(
                "ProtectLogSubscriptions",
                ["logs:PutAccountPolicy", "logs:DeleteAccountPolicy"],
                "*",
            ),
            protection(
                "ProtectLogDestinations",
                ["logs:DeleteDestination", "logs:PutDestination", "logs:PutDestinationPolicy"],
                "arn:aws:logs:*:*:destination:acme-org-logs",
            ),
            protection(
                "ProtectCentralDelivery",
                [
                    "firehose:DeleteDeliveryStream",
                    "firehose:UpdateDestination",
                    "firehose:StopDeliveryStreamEncryption",
                ],
                "arn:aws:firehose:*:*:deliverystream/acme-org-logs-*",
            ),
            protection(
                "ProtectAlarms",
                [
                    "cloudwatch:DeleteAlarms",
                    "cloudwatch:DisableAlarmActions",
                    "cloudwatch:PutMetricAlarm",
                    "cloudwatch:SetAlarmState",
                ],
                "arn:aws:cloudwatch:*:*:alarm:acme-logging-*",
            ),
            protection(
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
                    "arn:aws:events:*:*:rule/acme-logging-*",
                    "arn:aws:events:*:*:rule/acme-org-logging-alerts/*",
                    "arn:aws:events:*:*:event-bus/acme-org-logging-alerts",
                ],
            ),
            protection(
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
                "arn:aws:iam::*:role/acme-logging-*",
            ),
            {
                "Sid": "ProtectAdminRole",
                "Effect": "Deny",
                "Action": ADMIN_ROLE_ACTIONS,
                "Resource": ["arn:aws:iam::*:role/OrgLoggingAdmin", STACKSETS_EXEC],
                "Condition": {"ArnNotLike": {"aws:PrincipalArn": STACKSETS_EXEC}},
            },
        ],
    }


def test_the_scps_follow_the_partition():
    statement = scp.protect_admin_role("cn-north-1", "Admin")
    assert statement["Resource"] == [
        "arn:aws-cn:iam::*:role/Admin",
        "arn:aws-cn:iam::*:role/stacksets-exec-*",
    ]
    assert scp.protected_resources("us-gov-west-1", "acme")["ProtectTrails"] == (
        "arn:aws-us-gov:cloudtrail:*:*:trail/acme-org-trail"
    )


# ---- the admin role (bootstrap) --------------------------------------------------------------


def test_only_the_management_accounts_deployers_assume_the_admin_role():
    # https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-principalarn
    deployer = "arn:aws:iam::111111111111:role/deployer"
    assert bootstrap.admin_trust_policy(
        region=REGION, management_account=MANAGEMENT, deployer_arns=(deployer,)
    ) == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ManagementAccountDeployers",
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::111111111111:root"},
                "Action": ["sts:AssumeRole", "sts:SetSourceIdentity"],
                "Condition": {"ArnEquals": {"aws:PrincipalArn": [deployer]}},
            }
        ],
    }


def test_each_scope_of_the_admin_role_names_only_our_resources():
    anywhere = "arn:aws:{}:*:*:{}".format
    assert bootstrap.scope_resources(REGION, "acme") == {
        "LogBuckets": [
            "arn:aws:s3:::acme-logs-*",
            "arn:aws:s3:::acme-org-logs-*",
            "arn:aws:s3:::acme-athena-results-*-*",
        ],
        "LoggingRoles": "arn:aws:iam::*:role/acme-logging-*",
        "LoggingAlarms": anywhere("cloudwatch", "alarm:acme-logging-*"),
        "Detection": [
            anywhere("events", "rule/acme-logging-*"),
            anywhere("events", "rule/acme-org-logging-alerts/acme-logging-*"),
            anywhere("events", "event-bus/acme-org-logging-alerts"),
        ],
        "DeliveryLogs": [
            anywhere("logs", "log-group:/aws/kinesisfirehose/acme-org-logs"),
            anywhere("logs", "log-group:/aws/kinesisfirehose/acme-org-logs:*"),
            anywhere("logs", "log-group:/aws/org-logging/canary"),
            anywhere("logs", "log-group:/aws/org-logging/canary:*"),
            anywhere("logs", "destination:acme-org-logs"),
        ],
        "LogSubscriptions": [
            anywhere("logs", "log-group:*"),
            anywhere("logs", "destination:acme-org-logs"),
        ],
        "DeliveryStreams": anywhere("firehose", "deliverystream/acme-org-logs-*"),
        "CentralKey": [anywhere("kms", "key/*"), anywhere("kms", "alias/acme-org-logs")],
        "AlertTopic": anywhere("sns", "acme-org-logging-alerts"),
        "CanaryWrites": [
            "arn:aws:s3:::acme-logs-*/AWSLogs/*/org-logging-canary/*",
            anywhere("logs", "log-group:/aws/org-logging/canary:*"),
        ],
        "CanaryReads": [
            "arn:aws:s3:::acme-org-logs-*/AWSLogs/*/org-logging-canary/*",
            "arn:aws:s3:::acme-org-logs-*/CloudWatchLogs/*",
        ],
        "QueryLayer": [
            "arn:aws:glue:*:*:catalog",
            "arn:aws:glue:*:*:database/acme_org_logs",
            "arn:aws:glue:*:*:table/acme_org_logs/*",
            anywhere("athena", "workgroup/acme-org-logs"),
        ],
        "NoResourceType": "*",
    }


def admin_statements(region: str = REGION) -> list[dict]:
    return bootstrap.admin_role_statements(
        region=region, name_prefix="acme", admin_role_name="OrgLoggingAdmin"
    )


def test_the_admin_role_allows_each_scope_on_its_resources_and_denies_changes_to_itself():
    resources = bootstrap.scope_resources(REGION, "acme")
    *allows, itself = admin_statements()
    assert allows == [
        {"Sid": scope, "Effect": "Allow", "Action": actions, "Resource": resources[scope]}
        for scope, actions in actions_by_scope().items()
    ]
    assert itself == {
        "Sid": "NoChangesToItself",
        "Effect": "Deny",
        "Action": ADMIN_ROLE_ACTIONS,
        "Resource": "arn:aws:iam::*:role/OrgLoggingAdmin",
    }
    assert (
        admin_statements("cn-north-1")[-1]["Resource"] == "arn:aws-cn:iam::*:role/OrgLoggingAdmin"
    )


def test_the_admin_role_may_not_delete_what_the_stacks_retain():
    granted = {a for actions in actions_by_scope().values() for a in actions}
    assert {
        "s3:DeleteBucket",
        "s3:DeleteBucketPolicy",
        "kms:ScheduleKeyDeletion",
    } & granted == set()
    assert {"s3:CreateBucket", "iam:PassRole", "sts:GetCallerIdentity"} <= granted


def test_actions_are_merged_by_scope_once_each_in_table_order_and_empty_scopes_left_out():
    scopes = actions_by_scope()
    assert next(iter(scopes)) == "LogBuckets"
    assert scopes["LogBuckets"][:3] == ["s3:CreateBucket", "s3:ListBucket", "s3:GetBucketPolicy"]
    assert scopes["LoggingRoles"][0] == "iam:PassRole"
    assert scopes["NoResourceType"][-1] == "sts:GetCallerIdentity"
    assert scopes["CanaryWrites"] == ["s3:PutObject", "logs:CreateLogStream", "logs:PutLogEvents"]
    assert scopes["CanaryReads"] == ["s3:GetObject"]
    assert scopes["CentralKey"][-1] == "kms:Decrypt"
    for actions in scopes.values():
        assert actions and len(actions) == len(set(actions))


def test_a_policys_size_is_counted_as_iam_counts_it_without_white_space():
    # https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html
    assert bootstrap.policy_chars({"a": "b c"}) == 10  # {"a":"bc"}
    assert bootstrap.policy_chars({"Statement": []}) == len('{"Statement":[]}')


def statement_of(chars: int) -> dict:
    """A statement of `chars` characters as IAM counts them."""
    head = {"Sid": "", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}
    head["Sid"] = "S" * (chars - bootstrap.policy_chars(head))
    assert bootstrap.policy_chars(head) == chars
    return head


def test_statements_are_split_into_policies_of_at_most_6144_characters():
    # 6,144 characters is IAM's managed-policy maximum:
    # https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html
    envelope = bootstrap.policy_chars(grammar.policy())  # {"Version":...,"Statement":[]}
    fits = statement_of(6144 - envelope)
    assert bootstrap.policy_chars(grammar.policy(fits)) == 6144
    assert bootstrap.split_statements([fits]) == [grammar.policy(fits)]
    half = statement_of((6144 - envelope - 1) // 2)  # two of them and a comma fit exactly
    two = bootstrap.split_statements([half, half])
    assert two == [grammar.policy(half, half)]
    over = statement_of((6144 - envelope - 1) // 2 + 1)
    assert bootstrap.split_statements([over, over]) == [grammar.policy(over), grammar.policy(over)]
    assert bootstrap.split_statements([over, over, half], limit=10**6) == [
        grammar.policy(over, over, half)
    ]
    assert bootstrap.split_statements([]) == [grammar.policy()]


def test_the_admin_role_policies_keep_every_statement_in_order():
    parts = bootstrap.admin_role_policies(
        region=REGION, name_prefix="acme", admin_role_name="OrgLoggingAdmin"
    )
    assert [s for part in parts for s in part["Statement"]] == admin_statements()
    assert all(bootstrap.policy_chars(part) <= 6144 for part in parts)


def test_the_stacksets_template_creates_the_role_alone_with_its_trust_and_policies():
    trust = {"Version": "2012-10-17", "Statement": []}
    first = grammar.policy(statement_of(100))
    second = grammar.policy(statement_of(200))
    template = bootstrap.admin_role_template(
        name_prefix="acme", admin_role_name="OrgLoggingAdmin", trust=trust, policies=[first, second]
    )
    assert template == {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": "org-logging: OrgLoggingAdmin, the role that deploys org-logging",
        "Resources": {
            "AdminRole": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "RoleName": "OrgLoggingAdmin",
                    "Description": (
                        "org-logging: deploys the log-archive and source stacks; the one role "
                        "the SCPs and the log bucket and key policies exempt"
                    ),
                    "AssumeRolePolicyDocument": trust,
                    "Policies": [
                        {"PolicyName": "acme-logging-admin-1", "PolicyDocument": first},
                        {"PolicyName": "acme-logging-admin-2", "PolicyDocument": second},
                    ],
                },
            }
        },
        "Outputs": {"AdminRoleArn": {"Value": {"Fn::GetAtt": ["AdminRole", "Arn"]}}},
    }
    assert bootstrap.template_body(template) == json.dumps(template, separators=(",", ":"))
    assert " " not in bootstrap.template_body({"a": [1, 2]})


def trust_of(chars: int) -> dict:
    document = grammar.policy(statement_of(chars - bootstrap.policy_chars(grammar.policy())))
    assert bootstrap.policy_chars(document) == chars
    return document


def test_size_problems_name_each_limit_crossed_and_only_those():
    # IAM: trust policy 2,048 characters (default quota), managed policy 6,144, a role's
    # inline policies together 10,240; CloudFormation: a template body of 51,200 bytes.
    # https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html
    # https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_CreateStackSet.html
    assert bootstrap.size_problems(trust_of(2048), [trust_of(6144)], "x" * 51200) == []
    assert bootstrap.size_problems(trust_of(2049), [trust_of(6145)], "x" * 51201) == [
        "the admin role's trust policy is 2049 characters; IAM allows 2048 (default quota)",
        "the admin role's policy 1 is 6145 characters; the limit kept is 6144",
        "the admin role's template is 51201 bytes; CloudFormation allows 51200",
    ]
    together = [trust_of(5120), trust_of(5120)]
    assert bootstrap.size_problems(trust_of(300), together, "{}") == []
    assert bootstrap.size_problems(trust_of(300), [*together, trust_of(200)], "{}") == [
        "the admin role's inline policies are 10440 characters together; IAM allows 10240"
    ]
    assert bootstrap.size_problems(trust_of(300), [trust_of(300)], "é" * 25601) == [
        "the admin role's template is 51202 bytes; CloudFormation allows 51200"
    ]
