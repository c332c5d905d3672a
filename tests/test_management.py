"""OrgGuardrails: the organization trail and the SCPs ."""

from __future__ import annotations

import json
import re

import pytest
from conftest import (
    ADMIN_ROLE,
    LOG_ARCHIVE,
    ORG_ID,
    as_list,
    render_config,
    stack_config,
    statements,
)
from document_literals import ADMIN_ROLE_ACTIONS

from components.management import minified
from enroll.offline.render import RenderError, render
from enroll.org.model import OrgFacts

CENTRAL = "acme-org-logs-222222222222-us-east-1"
ATTACHMENT = "aws:organizations/policyAttachment:PolicyAttachment"
POLICY = "aws:organizations/policy:Policy"


def scp(rendered, key: str):
    return rendered.one(POLICY, f"management-scp-{key}")


def test_org_trail_is_organization_wide_multi_region_validated_and_encrypted(management):
    trail = management.one("aws:cloudtrail/trail:Trail").inputs
    assert trail["isOrganizationTrail"] is True
    assert trail["isMultiRegionTrail"] is True
    assert trail["includeGlobalServiceEvents"] is True
    assert trail["enableLogFileValidation"] is True
    # The key's ARN, resolved from its alias: CloudTrail stores the ARN, so no diff every update.
    assert re.fullmatch(
        rf"arn:aws:kms:us-east-1:{LOG_ARCHIVE}:key/[0-9a-f-]{{36}}", trail["kmsKeyId"]
    )
    assert trail["s3BucketName"] == CENTRAL
    assert "s3KeyPrefix" not in trail  # so it writes AWSLogs/{orgId}/..., as the bucket allows
    assert trail["name"] == "acme-org-trail"


def test_deny_leave_scp_denies_leaving_the_organization(management):
    policy = scp(management, "deny-leave")
    assert policy.inputs["type"] == "SERVICE_CONTROL_POLICY"
    (deny,) = json.loads(policy.inputs["content"])["Statement"]
    assert (deny["Effect"], deny["Action"], deny["Resource"]) == (
        "Deny",
        "organizations:LeaveOrganization",
        "*",
    )
    assert "Condition" not in deny


def test_scps_attach_to_the_organization_root_by_default(management):
    attachments = management.of_type(ATTACHMENT)
    assert sorted(a.name for a in attachments) == [
        "management-scp-deny-leave-r-a1b2",
        "management-scp-protect-logging-r-a1b2",
    ]
    assert {a.inputs["targetId"] for a in attachments} == {"r-a1b2"}
    assert "aws:organizations/getOrganization:getOrganization" in management.invokes
    for key in ("deny-leave", "protect-logging"):
        attachment = management.one(ATTACHMENT, f"management-scp-{key}-r-a1b2")
        assert attachment.inputs["policyId"] == management.outputs["scpIds"][key]
        assert attachment.property_dependencies["policyId"] == [scp(management, key).urn]


def test_scps_attach_to_every_configured_target_instead():
    targets = ["ou-ab12-cdef3456", "ou-ab12-0123abcd"]
    rendered = render_config(stack_config("management", scpTargets=targets), "management")
    pairs = sorted(
        (a.name.split("-scp-")[1].rsplit("-ou-", 1)[0], a.inputs["targetId"])
        for a in rendered.of_type(ATTACHMENT)
    )
    assert pairs == sorted((k, t) for k in ("deny-leave", "protect-logging") for t in targets)
    assert rendered.outputs["scpTargets"] == targets


PROTECTED_ACTIONS = {
    "trails": ["cloudtrail:StopLogging", "cloudtrail:DeleteTrail", "cloudtrail:UpdateTrail"],
    "replication": ["s3:PutReplicationConfiguration"],
    "bucket": [
        "s3:PutBucketPolicy",
        "s3:DeleteBucketPolicy",
        "s3:PutBucketVersioning",
        "s3:PutLifecycleConfiguration",
        "s3:PutEncryptionConfiguration",
        "s3:PutBucketObjectLockConfiguration",
        "s3:DeleteBucket",
    ],
    "subscriptions": ["logs:PutAccountPolicy", "logs:DeleteAccountPolicy"],
    "detection": [
        "events:DeleteRule",
        "events:DisableRule",
        "events:RemoveTargets",
        "events:PutRule",
    ],
    "replication role": ["iam:PutRolePolicy", "iam:UpdateAssumeRolePolicy", "iam:DeleteRole"],
}


@pytest.mark.parametrize("concern", sorted(PROTECTED_ACTIONS))
def test_protect_logging_scp_denies_tampering_except_the_admin_role(management, concern):
    content = json.loads(scp(management, "protect-logging").inputs["content"])
    denied = {
        a for s in content["Statement"] if s["Effect"] == "Deny" for a in as_list(s["Action"])
    }
    assert set(PROTECTED_ACTIONS[concern]) <= denied
    for statement in content["Statement"]:
        if statement["Sid"] == "ProtectAdminRole":
            continue  # its own test: only the StackSet may change the admin role
        assert statement["Effect"] == "Deny"
        assert statement["Condition"] == {
            "ArnNotLike": {"aws:PrincipalArn": f"arn:aws:iam::*:role/{ADMIN_ROLE}"}
        }


def test_protect_logging_scp_lets_only_the_stack_set_change_the_admin_role(management):
    content = statements(json.loads(scp(management, "protect-logging").inputs["content"]))
    assert content["ProtectAdminRole"] == {
        "Sid": "ProtectAdminRole",
        "Effect": "Deny",
        "Action": ADMIN_ROLE_ACTIONS,
        "Resource": [
            f"arn:aws:iam::*:role/{ADMIN_ROLE}",
            "arn:aws:iam::*:role/stacksets-exec-*",
        ],
        "Condition": {"ArnNotLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/stacksets-exec-*"}},
    }


def test_protect_logging_scp_covers_our_buckets_roles_and_rules(management):
    content = statements(json.loads(scp(management, "protect-logging").inputs["content"]))
    assert set(content["ProtectLogBuckets"]["Resource"]) == {
        "arn:aws:s3:::acme-logs-*",
        "arn:aws:s3:::acme-org-logs-*",
    }
    assert content["ProtectLoggingRoles"]["Resource"] == "arn:aws:iam::*:role/acme-logging-*"
    assert "arn:aws:events:*:*:rule/acme-logging-*" in content["ProtectDetection"]["Resource"]


def test_protect_logging_scp_is_attached_like_the_first(management):
    targets = {
        key: {a.inputs["targetId"] for a in management.of_type(ATTACHMENT) if f"-{key}-" in a.name}
        for key in ("deny-leave", "protect-logging")
    }
    assert targets["deny-leave"] == targets["protect-logging"] == {"r-a1b2"}


@pytest.mark.parametrize("partition", ["aws", "aws-us-gov", "aws-cn"])
def test_every_scp_is_json_within_the_size_limit(partition):
    long_prefix = "abcdefghijklmnop"
    rendered = render_config(
        stack_config("management", partition, namePrefix=long_prefix, adminRoleName="A" * 64),
        "management",
    )
    for policy in rendered.of_type(POLICY):
        content = policy.inputs["content"]
        assert content == minified(json.loads(content))
        assert len(content) <= 5120  # AWS: an SCP is at most 5,120 characters


def test_no_more_than_five_scps_per_target_counting_those_already_attached():
    config = stack_config("management")
    crowded = OrgFacts(
        org_id=ORG_ID,
        management_account_id="111111111111",
        attached_scps={"r-a1b2": ("FullAWSAccess", "deny-regions", "deny-root", "tagging")},
    )
    with pytest.raises(RenderError) as caught:
        render(config, stack="management", org=crowded)
    assert str(caught.value) == (
        "target r-a1b2 already has 4 other SCPs attached; adding 2 would pass the AWS quota of 5 "
        "per target. Detach one, or set org-logging:scpTargets to OUs with room"
    )
    assert [r.type for r in caught.value.resources if r.custom] == []
    room = OrgFacts(
        org_id=ORG_ID,
        management_account_id="111111111111",
        # ours, attached by an earlier run, do not count twice
        attached_scps={
            "r-a1b2": ("FullAWSAccess", "acme-deny-leave-organization", "acme-protect-logging")
        },
    )
    assert len(render(config, stack="management", org=room).of_type(ATTACHMENT)) == 2


def test_a_different_organization_is_refused_before_anything_deploys():
    other = OrgFacts(org_id="o-zzzzzzzzzz", management_account_id="111111111111")
    with pytest.raises(
        RenderError,
        match=r"org-logging:orgId 'o-a1b2c3d4e5' does not match the organization of these credentials \('o-zzzzzzzzzz'\)",
    ) as caught:
        render(stack_config("management"), stack="management", org=other)
    assert [r for r in caught.value.resources if r.custom] == []


def test_scps_must_be_enabled_on_the_root():
    disabled = OrgFacts(org_id=ORG_ID, management_account_id="111111111111", scp_enabled=False)
    with pytest.raises(
        RenderError, match="service control policies are not enabled on root r-a1b2"
    ):
        render(stack_config("management"), stack="management", org=disabled)


def test_exports(management):
    assert set(management.outputs) == {
        "trailArn",
        "scpIds",
        "scpTargets",
        "adminRoleArn",
        "adminRoleStackSetName",
        "adminRoleStackSetTargets",
        "deployerRoleArns",
        "adminRoleTemplate",
    }
    assert (
        management.outputs["trailArn"]
        == "arn:aws:cloudtrail:us-east-1:111111111111:trail/acme-org-trail"
    )


def test_in_a_preview_attachments_link_to_their_scp_by_property_dependency():
    rendered = render_config(stack_config("management"), "management", preview=True)
    for key in ("deny-leave", "protect-logging"):
        attachment = rendered.one(ATTACHMENT, f"management-scp-{key}-r-a1b2")
        assert attachment.inputs["policyId"] == "04da6b54-80e4-46f7-96ec-b56ff0331ba9"  # unknown
        assert attachment.property_dependencies["policyId"] == [scp(rendered, key).urn]
