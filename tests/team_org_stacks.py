"""Small Pulumi programs, like a management account's stacks: an organization trail and
its SCPs, each good or bad for one policy. team_stacks.py imports them into `EXPECTED`."""

from __future__ import annotations

import json

import pulumi_aws as aws

DENY_LEAVE = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Deny", "Action": "organizations:LeaveOrganization", "Resource": "*"}],
}
PROTECT = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Deny",
            "Action": [
                "cloudtrail:StopLogging",
                "cloudtrail:DeleteTrail",
                "s3:PutReplicationConfiguration",
                "s3:PutBucketPolicy",
                "s3:PutLifecycleConfiguration",
                "s3:DeleteBucket",
                "logs:DeleteAccountPolicy",
                "logs:PutAccountPolicy",
            ],
            "Resource": "*",
            "Condition": {
                "ArnNotLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/OrgLoggingAdmin"}
            },
        }
    ],
}


def _org_stack(deny_leave: dict | None, protect: dict | None, target: str = "r-ab12") -> None:
    aws.cloudtrail.Trail(
        "trail",
        s3_bucket_name="acme-org-logs-222222222222-us-east-1",
        is_organization_trail=True,
        is_multi_region_trail=True,
        enable_log_file_validation=True,
        kms_key_id="alias/x",
    )
    for key, content in (("leave", deny_leave), ("protect", protect)):
        if content is None:
            continue
        scp = aws.organizations.Policy(
            key, content=json.dumps(content), type="SERVICE_CONTROL_POLICY"
        )
        aws.organizations.PolicyAttachment(f"{key}-root", policy_id=scp.id, target_id=target)


def org_with_both_scps() -> None:
    _org_stack(DENY_LEAVE, PROTECT)


def org_with_wildcard_scps() -> None:
    wildcard = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Deny", "Action": "organizations:Leave*", "Resource": "*"}],
    }
    protect = {
        **PROTECT,
        "Statement": [
            {
                **PROTECT["Statement"][0],
                "Action": ["cloudtrail:*", "s3:Put*", "s3:DeleteBucket", "logs:*"],
            }
        ],
    }
    _org_stack(wildcard, protect)


def org_without_scps() -> None:
    _org_stack(None, None)


def org_with_notaction_trick() -> None:
    trick = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Deny", "NotAction": "organizations:LeaveOrganization", "Resource": "*"}
        ],
    }
    _org_stack(trick, PROTECT)


def org_with_switched_off_deny() -> None:
    off = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Deny",
                "Action": "organizations:LeaveOrganization",
                "Resource": "*",
                "Condition": {"StringEquals": {"aws:PrincipalTag/leave-protection": "on"}},
            }
        ],
    }
    _org_stack(off, PROTECT)


def org_with_wildcard_exemption() -> None:
    exempt_all = {
        **PROTECT,
        "Statement": [
            {
                **PROTECT["Statement"][0],
                "Condition": {"ArnNotLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/*"}},
            }
        ],
    }
    _org_stack(DENY_LEAVE, exempt_all)


def org_with_deny_everything_scp() -> None:
    everything = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}],
    }
    _org_stack(everything, everything)


def org_with_leave_denied_on_some_resources() -> None:
    partial = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Deny",
                "Action": "organizations:LeaveOrganization",
                "Resource": "arn:aws:organizations::111111111111:account/o-a1b2c3d4e5/*",
            }
        ],
    }
    _org_stack(partial, PROTECT)


def org_with_scps_on_an_ou_only() -> None:
    _org_stack(DENY_LEAVE, PROTECT, target="ou-ab12-cdef3456")


def org_with_oversized_scp() -> None:
    padded = {
        **DENY_LEAVE,
        "Statement": DENY_LEAVE["Statement"]
        + [
            {
                "Sid": f"Pad{i}",
                "Effect": "Deny",
                "Action": "ec2:RunInstances",
                "Resource": f"arn:aws:ec2:*:*:instance/{'x' * 80}{i}",
            }
            for i in range(60)
        ],
    }
    _org_stack(padded, PROTECT)


def org_trail_single_region() -> None:
    aws.cloudtrail.Trail(
        "trail",
        s3_bucket_name="b",
        is_organization_trail=True,
        is_multi_region_trail=False,
        enable_log_file_validation=True,
        kms_key_id="alias/x",
    )
