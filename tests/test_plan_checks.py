"""Settings that are valid alone but wrong for this organization are refused at plan time,
before any stack runs."""

from __future__ import annotations

import pytest

from enroll.org.discovery import Account, DiscoveryError, Organization
from enroll.org.plan import build_plan
from enroll.org.settings import parse_org_settings

MANAGEMENT, ARCHIVE, MEMBER = "111111111111", "222222222222", "333333333333"
ROOT, OU = "r-ab12", "ou-ab12-cdef3456"


def org() -> Organization:
    return Organization(
        id="o-abcdefghij",
        management_account_id=MANAGEMENT,
        root_id=ROOT,
        accounts=tuple(
            Account(account, name, "ACTIVE", (ROOT, OU))
            for account, name in ((MANAGEMENT, "mgmt"), (ARCHIVE, "archive"), (MEMBER, "app"))
        ),
        ou_names={OU: "Workloads"},
    )


def settings(**changes: object):
    raw = {
        "namePrefix": "acme",
        "logArchiveAccountId": ARCHIVE,
        "homeRegion": "us-east-1",
        "regions": ["us-east-1"],
        "adminRoleName": "OrgLoggingAdmin",
        **changes,
    }
    return parse_org_settings(raw, "org.yaml")


def test_a_valid_plan_for_reference():
    plan = build_plan(settings(scpTargets=[ROOT, OU]), org())
    assert [s.name for s in plan.stacks][:2] == ["log-archive", "management"]
    assert plan.warnings == ()


def test_the_log_archive_account_may_not_be_the_management_account():
    with pytest.raises(DiscoveryError) as refused:
        build_plan(settings(logArchiveAccountId=MANAGEMENT), org())
    assert str(refused.value) == (
        f"org.yaml: logArchiveAccountId '{MANAGEMENT}' is the management account of "
        "organization o-abcdefghij; the logs must live in a dedicated account that the "
        "management account's administrators do not own and that the SCPs protect (SCPs do "
        "not apply to the management account)"
    )


@pytest.mark.parametrize(
    ("targets", "named"),
    [
        (["r-zz99"], "'r-zz99' is"),
        ([OU, "ou-ab12-00000000"], "'ou-ab12-00000000' is"),
        (["r-zz99", "ou-zz99-11111111"], "'r-zz99', 'ou-zz99-11111111' are"),
    ],
)
def test_scp_targets_must_be_in_the_organization(targets, named):
    with pytest.raises(DiscoveryError) as refused:
        build_plan(settings(scpTargets=targets), org())
    assert str(refused.value) == (
        f"org.yaml: scpTargets {named} not in organization o-abcdefghij; use its root "
        f"({ROOT}) or the id of one of its OUs"
    )


@pytest.mark.parametrize(
    ("lock", "warned"),
    [
        ({"mode": "COMPLIANCE", "days": 365}, False),
        ({"mode": "COMPLIANCE", "days": 366, "acknowledgeLongCompliance": True}, True),
        ({"mode": "GOVERNANCE", "days": 400}, False),
    ],
)
def test_an_acknowledged_long_compliance_lock_is_still_warned_about(lock, warned):
    plan = build_plan(settings(retentionDays=400, objectLock=lock), org())
    expected = (
        "objectLock: COMPLIANCE for 366 days: no one, the root user included, can delete or "
        "shorten the retention of a log object for that long after it is written.",
    )
    assert plan.warnings == (expected if warned else ())
