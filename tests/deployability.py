"""What the pre-deployment audit's tests share (test_deployability_*.py): the three stacks
rendered from the sample config, and the names they give the buckets and roles."""

from __future__ import annotations

from conftest import ADMIN_ROLE, LOG_ARCHIVE, MEMBER, render_config, stack_config

from enroll.offline.render import Rendered, render
from enroll.org.model import OrgFacts

CENTRAL = f"acme-org-logs-{LOG_ARCHIVE}-us-east-1"
ACCESS = f"acme-org-logs-access-{LOG_ARCHIVE}-us-east-1"
SOURCE_BUCKET = f"acme-logs-{MEMBER}-eu-west-1"
ARCHIVE_ADMIN = f"arn:aws:iam::{LOG_ARCHIVE}:role/{ADMIN_ROLE}"
MEMBER_ADMIN = f"arn:aws:iam::{MEMBER}:role/{ADMIN_ROLE}"
FIREHOSE_ROLE = f"arn:aws:iam::{LOG_ARCHIVE}:role/acme-logging-firehose"
READER_ROLE = f"arn:aws:iam::{LOG_ARCHIVE}:role/acme-logging-reader"
API_CALL = "AWS API Call via CloudTrail"


def archive(**overrides) -> Rendered:
    return render_config(stack_config("log-archive", **overrides), "log-archive")


def source(region: str = "eu-west-1", **overrides) -> Rendered:
    return render_config(stack_config("source", aws_region=region, **overrides), "source")


def management(org: OrgFacts | None = None, preview: bool = False, **overrides) -> Rendered:
    return render(stack_config("management", **overrides), stack="management", org=org,
                  preview=preview)  # fmt: skip
