"""The canary breaks no promise: adminRoleName may put it only under the canary prefix and into
the canary log group, the bucket policies let that role (and nobody else) write and read it,
and every source stack owns a subscribed canary log group with a short retention."""

from __future__ import annotations

import json

import pytest
from conftest import ADMIN_ROLE, LOG_ARCHIVE, MEMBER, ORG_ID, render_config, stack_config

from components import naming
from components.documents.bootstrap import admin_role_policies, admin_role_statements
from components.documents.buckets import central_bucket_policy, source_bucket_policy
from components.settings import SettingsError, parse_settings
from tests.e2e.provider.policy_eval import Caller, Decision, Request, evaluate, principal_context

REGION = "eu-west-1"
HOME = "us-east-1"
SOURCE_BUCKET = f"acme-logs-{MEMBER}-{REGION}"
CENTRAL = f"acme-org-logs-{LOG_ARCHIVE}-{HOME}"
RUN = "20261130T212233Z-1a2b3c4d"
CANARY_KEY = f"AWSLogs/{MEMBER}/org-logging-canary/{REGION}/{RUN}.json"


def statement(sid: str) -> dict:
    (found,) = [
        s
        for s in admin_role_statements(region=HOME, name_prefix="acme", admin_role_name=ADMIN_ROLE)
        if s["Sid"] == sid
    ]
    return found


# ---- adminRoleName's own policy ----------------------------------------------------------------


def test_admin_role_may_write_the_canary_only_under_its_prefix_and_log_group():
    assert statement("CanaryWrites") == {
        "Sid": "CanaryWrites",
        "Effect": "Allow",
        "Action": ["s3:PutObject", "logs:CreateLogStream", "logs:PutLogEvents"],
        "Resource": [
            "arn:aws:s3:::acme-logs-*/AWSLogs/*/org-logging-canary/*",
            "arn:aws:logs:*:*:log-group:/aws/org-logging/canary:*",
        ],
    }


def test_admin_role_may_read_back_only_the_canary_replica_and_the_firehose_output():
    assert statement("CanaryReads") == {
        "Sid": "CanaryReads",
        "Effect": "Allow",
        "Action": ["s3:GetObject"],
        "Resource": [
            "arn:aws:s3:::acme-org-logs-*/AWSLogs/*/org-logging-canary/*",
            "arn:aws:s3:::acme-org-logs-*/CloudWatchLogs/*",
        ],
    }


def test_admin_role_may_decrypt_with_the_central_key_to_read_the_firehose_output():
    assert statement("CentralKey") == {
        "Sid": "CentralKey",
        "Effect": "Allow",
        "Action": [
            "kms:DescribeKey",
            "kms:GetKeyPolicy",
            "kms:PutKeyPolicy",
            "kms:GetKeyRotationStatus",
            "kms:EnableKeyRotation",
            "kms:UpdateKeyDescription",
            "kms:ListResourceTags",
            "kms:TagResource",
            "kms:UntagResource",
            "kms:CreateAlias",
            "kms:UpdateAlias",
            "kms:Decrypt",
        ],
        "Resource": ["arn:aws:kms:*:*:key/*", "arn:aws:kms:*:*:alias/acme-org-logs"],
    }


def test_admin_role_may_create_the_canary_log_group_its_stack_owns():
    resources = statement("DeliveryLogs")["Resource"]
    assert "arn:aws:logs:*:*:log-group:/aws/org-logging/canary" in resources
    assert "arn:aws:logs:*:*:log-group:/aws/org-logging/canary:*" in resources


ADMIN = Caller.from_arn(f"arn:aws:sts::{MEMBER}:assumed-role/{ADMIN_ROLE}/org-logging-verify")
ARCHIVE_ADMIN = Caller.from_arn(
    f"arn:aws:sts::{LOG_ARCHIVE}:assumed-role/{ADMIN_ROLE}/org-logging-verify"
)


def identity_decision(action: str, resource: str) -> Decision:
    decisions = [
        evaluate(document, Request(ADMIN, action, resource))
        for document in admin_role_policies(
            region=HOME, name_prefix="acme", admin_role_name=ADMIN_ROLE
        )
    ]
    if Decision.EXPLICIT_DENY in decisions:
        return Decision.EXPLICIT_DENY
    return Decision.ALLOW if Decision.ALLOW in decisions else Decision.IMPLICIT_DENY


@pytest.mark.parametrize(
    ("action", "resource", "decision"),
    [
        ("s3:PutObject", f"arn:aws:s3:::{SOURCE_BUCKET}/{CANARY_KEY}", Decision.ALLOW),
        # Not a real log, in the source or in the archive:
        (
            "s3:PutObject",
            f"arn:aws:s3:::{SOURCE_BUCKET}/AWSLogs/{MEMBER}/vpcflowlogs/x.log.gz",
            Decision.IMPLICIT_DENY,
        ),
        ("s3:PutObject", f"arn:aws:s3:::{CENTRAL}/{CANARY_KEY}", Decision.IMPLICIT_DENY),
        (
            "logs:PutLogEvents",
            f"arn:aws:logs:{REGION}:{MEMBER}:log-group:/aws/org-logging/canary:log-stream:verify",
            Decision.ALLOW,
        ),
        (
            "logs:PutLogEvents",
            f"arn:aws:logs:{REGION}:{MEMBER}:log-group:/aws/lambda/app:log-stream:x",
            Decision.IMPLICIT_DENY,
        ),
        ("s3:GetObject", f"arn:aws:s3:::{CENTRAL}/{CANARY_KEY}", Decision.ALLOW),
        ("s3:GetObject", f"arn:aws:s3:::{CENTRAL}/AWSLogs/{MEMBER}/x", Decision.IMPLICIT_DENY),
        ("s3:DeleteObject", f"arn:aws:s3:::{SOURCE_BUCKET}/{CANARY_KEY}", Decision.IMPLICIT_DENY),
    ],
    ids=[
        "put-canary",
        "put-a-log",
        "put-into-archive",
        "canary-event",
        "other-log-group",
        "read-replica",
        "read-other-logs",
        "delete-canary",
    ],
)
def test_admin_role_identity_policy_allows_the_canary_and_nothing_more(action, resource, decision):
    assert identity_decision(action, resource) is decision


# ---- the bucket policies -----------------------------------------------------------------------


def source_policy() -> dict:
    return source_bucket_policy(
        region=REGION,
        bucket=SOURCE_BUCKET,
        account=MEMBER,
        admin_role_arn=naming.iam_role_arn(REGION, MEMBER, ADMIN_ROLE),
    )


def central_policy() -> dict:
    return central_bucket_policy(
        region=HOME,
        bucket=CENTRAL,
        name_prefix="acme",
        org_id=ORG_ID,
        management_account="111111111111",
        trail_arn=naming.cloudtrail_trail_arn(HOME, "111111111111", "acme-org-trail"),
        admin_role_arn=naming.iam_role_arn(HOME, LOG_ARCHIVE, ADMIN_ROLE),
        firehose_role_arn=naming.iam_role_arn(HOME, LOG_ARCHIVE, "acme-logging-firehose"),
        reader_role_arn=naming.iam_role_arn(HOME, LOG_ARCHIVE, "acme-logging-reader"),
    )


def bucket_decision(policy: dict, caller: Caller, action: str, resource: str) -> Decision:
    return evaluate(policy, Request(caller, action, resource, principal_context(caller, ORG_ID)))


def test_the_source_bucket_policy_lets_the_admin_role_put_the_canary():
    resource = f"arn:aws:s3:::{SOURCE_BUCKET}/{CANARY_KEY}"
    # Same account: the identity policy allows; the bucket policy must not deny.
    assert bucket_decision(source_policy(), ADMIN, "s3:PutObject", resource) is not (
        Decision.EXPLICIT_DENY
    )


def test_the_source_bucket_policy_still_denies_the_canary_key_to_any_other_role():
    developer = Caller.from_arn(f"arn:aws:sts::{MEMBER}:assumed-role/Developer/alice")
    resource = f"arn:aws:s3:::{SOURCE_BUCKET}/{CANARY_KEY}"
    assert bucket_decision(source_policy(), developer, "s3:PutObject", resource) is (
        Decision.EXPLICIT_DENY
    )


@pytest.mark.parametrize(
    "key",
    [CANARY_KEY, f"CloudWatchLogs/{MEMBER}/{REGION}/2026/11/30/acme-org-logs-{REGION}-1-x.gz"],
    ids=["replica", "firehose-object"],
)
def test_the_central_bucket_policy_lets_only_the_admin_role_read_the_canary(key):
    resource = f"arn:aws:s3:::{CENTRAL}/{key}"
    assert bucket_decision(central_policy(), ARCHIVE_ADMIN, "s3:GetObject", resource) is not (
        Decision.EXPLICIT_DENY
    )
    developer = Caller.from_arn(f"arn:aws:sts::{LOG_ARCHIVE}:assumed-role/Developer/alice")
    assert bucket_decision(central_policy(), developer, "s3:GetObject", resource) is (
        Decision.EXPLICIT_DENY
    )


def test_nothing_lets_the_canary_be_deleted_from_the_archive_by_replication():
    replication_role = Caller.from_arn(
        f"arn:aws:sts::{MEMBER}:assumed-role/acme-logging-replication-{REGION}/s3"
    )
    resource = f"arn:aws:s3:::{CENTRAL}/{CANARY_KEY}"
    assert (
        bucket_decision(central_policy(), replication_role, "s3:ReplicateObject", resource)
        is Decision.ALLOW
    )
    assert (
        bucket_decision(central_policy(), replication_role, "s3:ReplicateDelete", resource)
        is Decision.EXPLICIT_DENY
    )


# ---- the source stack's canary log group ------------------------------------------------------


@pytest.fixture(scope="module")
def source():
    return render_config(stack_config("source", aws_region=REGION), f"source-{REGION}")


def test_every_source_stack_owns_the_canary_log_group_with_a_one_day_retention(source):
    group = source.one("aws:cloudwatch/logGroup:LogGroup", f"source-{REGION}-canary")
    assert group.inputs == {
        "name": "/aws/org-logging/canary",
        "retentionInDays": 1,
        "region": REGION,
    }


def test_the_account_subscription_ships_the_canary_log_group(source):
    policy = source.one("aws:cloudwatch/logAccountPolicy:LogAccountPolicy")
    assert policy.inputs["scope"] == "ALL"
    assert "/aws/org-logging/canary" not in json.dumps(policy.inputs.get("selectionCriteria"))


def test_settings_refuse_to_exclude_the_canary_log_group():
    config = stack_config(
        "source", aws_region=REGION, logGroupExclusions=["/aws/org-logging/canary"]
    )
    region = config.pop("aws:region")
    short = {key.split(":", 1)[1]: value for key, value in config.items()}
    with pytest.raises(SettingsError) as caught:
        parse_settings(short, stack_region=region)
    assert caught.value.problems == [
        "org-logging:logGroupExclusions '/aws/org-logging/canary' must not be excluded: "
        "`org-logging verify` proves the subscription with it"
    ]
