"""Deployable on real AWS: one test (or more) per finding of the pre-deployment audit;
here the organization trail, the alerts, the key, the SCP and the admin role: 02, 10-15.

Each rule below is something AWS refuses, or a promise that did not hold, that our stand-ins
used to accept. The numbers are the audit's items; each test names the behaviour it proves.
The other items are in test_deployability_buckets.py (01, 03, 07-09) and
test_deployability_org.py (04-06).
"""

from __future__ import annotations

import json

import pytest
from conftest import (
    ADMIN_ROLE,
    LOG_ARCHIVE,
    MANAGEMENT,
    ORG_ID,
    policy_doc,
    stack_config,
    statements,
)
from deployability import ACCESS, API_CALL, ARCHIVE_ADMIN, CENTRAL, archive, management, source

from components.settings import SettingsError, parse_settings
from enroll.offline.analyzer.wire import UNKNOWN
from enroll.offline.render import RenderError
from enroll.org.model import OrgFacts

# ---- 2. an organization trail needs trusted access --------------------------------------------


def test_02_the_management_stack_stops_without_cloudtrail_trusted_access():
    org = OrgFacts(org_id=ORG_ID, management_account_id=MANAGEMENT, service_access_principals=())
    with pytest.raises(RenderError) as refused:
        management(org)
    assert str(refused.value) == (
        "trusted access for CloudTrail (cloudtrail.amazonaws.com) is not enabled in "
        f"organization {ORG_ID}, so the organization trail cannot be created; enable it with "
        "`aws organizations enable-aws-service-access --service-principal "
        "cloudtrail.amazonaws.com`"
    )
    # Before any AWS resource is registered.
    assert [r.type for r in refused.value.resources if r.custom] == []


def test_02_with_trusted_access_the_trail_is_created():
    org = OrgFacts(
        org_id=ORG_ID,
        management_account_id=MANAGEMENT,
        service_access_principals=("cloudtrail.amazonaws.com",),
    )
    assert management(org).one("aws:cloudtrail/trail:Trail")


# ---- 10. the management account's trail is watched --------------------------------------------


def test_10_a_management_rule_forwards_trail_tampering_to_the_alert_bus():
    rendered = management()
    rule = rendered.one("aws:cloudwatch/eventRule:EventRule").inputs
    assert (rule["name"], rule["region"]) == ("acme-logging-trail-detection", "us-east-1")
    assert json.loads(rule["eventPattern"]) == {
        "source": ["aws.cloudtrail"],
        "detail-type": [API_CALL],
        "detail": {
            "eventSource": ["cloudtrail.amazonaws.com"],
            "eventName": [
                "StopLogging",
                "DeleteTrail",
                "UpdateTrail",
                "PutEventSelectors",
                "PutInsightSelectors",
            ],
        },
    }
    target = rendered.one("aws:cloudwatch/eventTarget:EventTarget").inputs
    assert (
        target["arn"] == f"arn:aws:events:us-east-1:{LOG_ARCHIVE}:event-bus/acme-org-logging-alerts"
    )
    assert target["roleArn"] == f"arn:aws:iam::{MANAGEMENT}:role/acme-logging-alert-forwarder-trail"
    role = rendered.one("aws:iam/role:Role", "management-trail-alert-forwarder-role")
    assert policy_doc(role, "assumeRolePolicy")["Statement"][0]["Condition"] == {
        "StringEquals": {"aws:SourceAccount": MANAGEMENT},
        "ArnEquals": {
            "aws:SourceArn": f"arn:aws:events:us-east-1:{MANAGEMENT}:rule/acme-logging-trail-detection"
        },
    }


# ---- 11. the destination role trusts this organization only -----------------------------------


def test_11_the_destination_role_requires_the_source_org():
    role = archive().one("aws:iam/role:Role", "log-archive-destination-role")
    (trust,) = policy_doc(role, "assumeRolePolicy")["Statement"]
    assert trust["Condition"]["StringEquals"] == {"aws:SourceOrgID": ORG_ID}


# ---- 12. the remaining tampering paths --------------------------------------------------------


def test_12_the_keys_alias_cannot_be_moved_or_deleted_but_by_the_admin_role():
    deny = statements(policy_doc(archive().one("aws:kms/key:Key")))["DenyKeyDestructionExceptAdmin"]
    assert deny == {
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
        "Condition": {"ArnNotLike": {"aws:PrincipalArn": ARCHIVE_ADMIN}},
    }


def test_12_changes_to_the_central_buckets_and_key_are_detected():
    rendered = archive()
    rule = rendered.one("aws:cloudwatch/eventRule:EventRule", "log-archive-archive-detection")
    alternatives = json.loads(rule.inputs["eventPattern"])["$or"]
    watched = {
        bucket
        for a in alternatives
        for bucket in a["detail"].get("requestParameters", {}).get("bucketName", [])
    }
    assert watched == {CENTRAL, ACCESS}
    assert all("PutBucketPolicy" in a["detail"]["eventName"] for a in alternatives[:2])
    assert {
        "source": ["aws.kms"],
        "detail-type": [API_CALL],
        "detail": {
            "eventSource": ["kms.amazonaws.com"],
            "eventName": [
                "PutKeyPolicy",
                "ScheduleKeyDeletion",
                "DisableKey",
                "DisableKeyRotation",
                "UpdateAlias",
                "DeleteAlias",
            ],
        },
    } in alternatives
    target = rendered.one(
        "aws:cloudwatch/eventTarget:EventTarget", "log-archive-archive-detection-target"
    )
    assert target.inputs["arn"] == f"arn:aws:sns:us-east-1:{LOG_ARCHIVE}:acme-org-logging-alerts"


def test_12_account_policy_changes_are_detected_in_every_source():
    pattern = json.loads(source().one("aws:cloudwatch/eventRule:EventRule").inputs["eventPattern"])
    assert {
        "source": ["aws.logs"],
        "detail-type": [API_CALL],
        "detail": {
            "eventSource": ["logs.amazonaws.com"],
            "eventName": ["PutAccountPolicy", "DeleteAccountPolicy"],
        },
    } in pattern["$or"]


def test_12_the_alert_bus_takes_events_only_from_our_forwarder_roles():
    (allow,) = policy_doc(archive().one("aws:cloudwatch/eventBusPolicy:EventBusPolicy"))[
        "Statement"
    ]
    assert allow["Condition"] == {
        "StringEquals": {"aws:PrincipalOrgID": ORG_ID},
        "ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/acme-logging-alert-forwarder-*"},
    }


# ---- 13. the SCP no longer denies every log destination org-wide ------------------------------


def scp(rendered) -> dict:
    policy = rendered.one("aws:organizations/policy:Policy", "management-scp-protect-logging")
    return statements(json.loads(policy.inputs["content"]))


def test_13_destination_actions_are_denied_on_our_destination_only():
    statement = scp(management())
    assert statement["ProtectLogDestinations"] == {
        "Sid": "ProtectLogDestinations",
        "Effect": "Deny",
        "Action": ["logs:DeleteDestination", "logs:PutDestination", "logs:PutDestinationPolicy"],
        "Resource": "arn:aws:logs:*:*:destination:acme-org-logs",
        "Condition": {"ArnNotLike": {"aws:PrincipalArn": f"arn:aws:iam::*:role/{ADMIN_ROLE}"}},
    }
    # PutAccountPolicy has no resource type: it stays "*", and docs/security.md says what that costs.
    assert statement["ProtectLogSubscriptions"]["Action"] == [
        "logs:PutAccountPolicy",
        "logs:DeleteAccountPolicy",
    ]
    assert statement["ProtectLogSubscriptions"]["Resource"] == "*"


# ---- 14. the trail names the key by ARN -------------------------------------------------------


def test_14_the_trail_gets_the_keys_arn_not_its_alias():
    trail = management().one("aws:cloudtrail/trail:Trail").inputs
    assert trail["kmsKeyId"].startswith(f"arn:aws:kms:us-east-1:{LOG_ARCHIVE}:key/")
    assert "alias/" not in trail["kmsKeyId"]


def test_14_before_the_key_exists_a_preview_shows_it_unknown_and_an_update_stops():
    org = OrgFacts(org_id=ORG_ID, management_account_id=MANAGEMENT, central_key_exists=False)
    trail = management(org, preview=True).one("aws:cloudtrail/trail:Trail")
    assert trail.inputs["kmsKeyId"] == UNKNOWN  # as any output of a resource yet to be created
    with pytest.raises(RenderError) as stopped:
        management(org)
    assert str(stopped.value).startswith(
        f"the central key arn:aws:kms:us-east-1:{LOG_ARCHIVE}:alias/acme-org-logs cannot be "
        "described ("
    )
    assert str(stopped.value).endswith("); deploy the log-archive stack first")


def test_14_the_management_account_may_describe_the_key():
    describe = statements(policy_doc(archive().one("aws:kms/key:Key")))[
        "AllowManagementAccountDescribeKey"
    ]
    assert describe == {
        "Sid": "AllowManagementAccountDescribeKey",
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{MANAGEMENT}:root"},
        "Action": "kms:DescribeKey",
        "Resource": "*",
    }


# ---- 15. adminRoleName has no path --------------------------------------------------------------


def test_15_an_admin_role_with_a_path_is_refused_with_the_reason():
    values = {
        k.split(":", 1)[1]: v
        for k, v in stack_config(
            "management", adminRoleName="aws-reserved/sso.amazonaws.com/AWSReservedSSO_Admin"
        ).items()
        if k.startswith("org-logging:")
    }
    with pytest.raises(SettingsError) as refused:
        parse_settings(values)
    assert refused.value.problems == [
        "org-logging:adminRoleName 'aws-reserved/sso.amazonaws.com/AWSReservedSSO_Admin' must be "
        "a role name without a path: the SCPs and the bucket and key policies exempt "
        "arn:<partition>:iam::<account>:role/<name>, which a role under a path (such as IAM "
        "Identity Center's aws-reserved/sso.amazonaws.com/) does not match, so it would be "
        "locked out"
    ]
