"""Literal arguments and AWS values the document tests share (test_documents_*.py)."""

from __future__ import annotations

REGION = "us-east-1"
MANAGEMENT = "111111111111"
LOG_ARCHIVE = "222222222222"
MEMBER = "333333333333"
ORG_ID = "o-a1b2c3d4e5"
CENTRAL = "acme-org-logs-222222222222-us-east-1"
CENTRAL_ARN = f"arn:aws:s3:::{CENTRAL}"
ACCESS_ARN = "arn:aws:s3:::acme-org-logs-access-222222222222-us-east-1"
SOURCE = "acme-logs-333333333333-us-east-1"
SOURCE_ARN = f"arn:aws:s3:::{SOURCE}"
ADMIN_ARN = "arn:aws:iam::222222222222:role/OrgLoggingAdmin"
MEMBER_ADMIN_ARN = "arn:aws:iam::333333333333:role/OrgLoggingAdmin"
FIREHOSE_ROLE_ARN = "arn:aws:iam::222222222222:role/acme-logging-firehose"
READER_ROLE_ARN = "arn:aws:iam::222222222222:role/acme-logging-reader"
TRAIL_ARN = "arn:aws:cloudtrail:us-east-1:111111111111:trail/acme-org-trail"
NOT_ADMIN = {"ArnNotLike": {"aws:PrincipalArn": ADMIN_ARN}}
FROM_ORG_REPLICATION_ROLES = {
    "StringEquals": {"aws:PrincipalOrgID": ORG_ID},
    "ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/acme-logging-replication-*"},
}


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
