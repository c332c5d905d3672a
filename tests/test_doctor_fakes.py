"""doctor's checks with a stand-in for its AWS calls (the `AwsCalls` seam) and organizations
of any size: the Firehose quotas, the partition, trails with custom event selectors, a check
AWS refuses, and the JSON shape."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from botocore.exceptions import ClientError

from enroll.doctor.aws import AttachedPolicy, Trail
from enroll.doctor.context import Context
from enroll.doctor.model import FixCall, FixOutcome, Report
from enroll.doctor.run import CHECK_IDS, CHECKS, run_checks
from enroll.org.discovery import Account, Organization
from enroll.org.settings import parse_org_settings

ROOT = "r-a1b2"
MANAGEMENT = "111111111111"
LOG_ARCHIVE = "222222222222"
EVERY_PRINCIPAL = frozenset(
    {"cloudtrail.amazonaws.com", "member.org.stacksets.cloudformation.amazonaws.com"}
)


@dataclass
class FakeAws:
    """Answers like a healthy organization; change a field to make a check fail."""

    principals: frozenset[str] = EVERY_PRINCIPAL
    stacksets: str = "ENABLED"
    trail_list: list[Trail] = field(default_factory=list)
    management_events: bool = True
    refuse: str = ""  # an operation to refuse with AccessDenied
    assumed: list[str] = field(default_factory=list)
    performed: list[FixCall] = field(default_factory=list)

    def _maybe_refuse(self, operation: str) -> None:
        if operation == self.refuse:
            raise ClientError({"Error": {"Code": "AccessDenied", "Message": "not you"}}, operation)

    def service_principals(self) -> frozenset[str]:
        return self.principals

    def stacksets_access(self) -> str:
        return self.stacksets

    def root_policy_types(self, root_id: str) -> dict[str, str]:
        return {"SERVICE_CONTROL_POLICY": "ENABLED"}

    def scps(self, target_id: str) -> list[AttachedPolicy]:
        return [AttachedPolicy("p-FullAWSAccess", "FullAWSAccess")]

    def trails(self) -> list[Trail]:
        self._maybe_refuse("DescribeTrails")
        return self.trail_list

    def logs_management_events(self, trail: Trail) -> bool:
        return self.management_events or not trail.custom_selectors

    def assume(self, role_arn: str) -> None:
        self.assumed.append(role_arn)

    def enabled_regions(self, account_ids, management_account_id):
        raise AssertionError("no enrolled region is opt-in here")

    def perform(self, fix: FixCall) -> None:
        self.performed.append(fix)


def organization(members: int) -> Organization:
    accounts = [
        Account(MANAGEMENT, "management", "ACTIVE", (ROOT,)),
        Account(LOG_ARCHIVE, "log-archive", "ACTIVE", (ROOT,)),
        *(Account(f"{300000000000 + i}", f"member-{i}", "ACTIVE", (ROOT,)) for i in range(members)),
    ]
    return Organization("o-a1b2c3d4e5", MANAGEMENT, ROOT, tuple(accounts))


def context(members: int = 3, aws: FakeAws | None = None, **settings) -> Context:
    home = settings.pop("home", "us-east-1")
    raw = {
        "namePrefix": "acme",
        "logArchiveAccountId": LOG_ARCHIVE,
        "homeRegion": home,
        "regions": settings.pop("regions", [home]),
        "adminRoleName": "OrgLoggingAdmin",
        "retentionDays": 365,
        **settings,
    }
    return Context(parse_org_settings(raw, "org.yaml"), organization(members), aws or FakeAws())


def check(ctx: Context, check_id: str):
    (found,) = [c for c in CHECKS if c.id == check_id]
    return found.run(ctx)


# ---- Firehose --------------------------------------------------------------------------------


def test_partitions_within_the_quota_are_ok_and_count_control_messages():
    result = check(context(members=10), "firehose-partitions")
    assert result.status == "ok"
    assert result.problem == "at most 13 active partitions per stream (us-east-1); quota 500"


def test_partitions_past_the_quota_warn_and_past_five_thousand_fail():
    result = check(context(members=600), "firehose-partitions")
    assert result.status == "warn"
    assert "us-east-1 need up to 603 active partitions" in result.problem
    assert "firehosePartitionQuota is 500 (the default)" in result.problem
    assert "raise each stream's active partitions to 603 or more" in result.fix
    raised = context(members=600, firehosePartitionQuota=1000)
    assert check(raised, "firehose-partitions").status == "ok"
    result = check(context(members=5000, firehosePartitionQuota=5000), "firehose-partitions")
    assert result.status == "fail"
    assert "need more than 5,000 active partitions per stream (us-east-1: 5,003)" in result.problem


def test_throughput_is_shared_by_the_accounts_of_a_region():
    result = check(context(members=18), "firehose-throughput")
    assert result.status == "ok"
    assert "each stream has 5 MiB/s by default (streams live in us-east-1)" in result.problem
    assert "shared by 20 accounts: about 256 KiB/s each" in result.problem
    slow = check(context(members=200, home="eu-central-1"), "firehose-throughput")
    assert slow.status == "warn"
    assert "each stream has 1 MiB/s by default (streams live in eu-central-1)" in slow.problem
    assert "about 5 KiB/s each, under 10 KiB/s" in slow.problem
    assert "acme-org-logs-eu-central-1 in eu-central-1" in slow.fix


# ---- the partition ------------------------------------------------------------------------------


def test_principal_org_id_is_used_outside_china():
    result = check(context(home="us-gov-west-1"), "principal-org-id")
    assert result.status == "ok" and "(aws-us-gov)" in result.problem


def test_china_lists_the_accounts_within_the_destination_policys_size():
    result = check(context(members=38, home="cn-north-1"), "principal-org-id")
    assert result.status == "warn"
    assert "their policy lists the 40 member accounts" in result.problem
    assert "of 5,120 bytes (room for about 322 accounts)" in result.problem
    result = check(context(members=400, home="cn-north-1"), "principal-org-id")
    assert result.status == "fail" and "enroll at most 322 accounts" in result.fix


def test_china_needs_no_stacksets_organizations_access():
    aws = FakeAws(principals=frozenset(), stacksets="DISABLED")
    result = check(context(home="cn-north-1", aws=aws), "stacksets-access")
    assert result.status == "ok" and "not available in aws-cn" in result.problem


# ---- trails -------------------------------------------------------------------------------------


def trail(name: str, custom: bool = False) -> Trail:
    arn = f"arn:aws:cloudtrail:us-east-1:{MANAGEMENT}:trail/{name}"
    return Trail(name, arn, "us-east-1", True, custom)


def test_another_trail_without_management_events_is_no_second_copy():
    aws = FakeAws(trail_list=[trail("audit-data-only", custom=True)], management_events=False)
    result = check(context(aws=aws), "other-org-trails")
    assert result.status == "ok"
    assert (
        result.problem == "no other organization trail (audit-data-only logs no management events)"
    )
    aws.management_events = True
    assert check(context(aws=aws), "other-org-trails").status == "warn"


def test_a_refused_call_fails_its_check_only_with_what_aws_said():
    report = run_checks(context(aws=FakeAws(refuse="DescribeTrails")))
    statuses = {f.id: f.status for f in report.findings}
    assert statuses.pop("other-org-trails") == "fail"
    assert set(statuses.values()) == {"ok"}
    (finding,) = [f for f in report.findings if f.id == "other-org-trails"]
    assert finding.result.problem == (
        "could not check: AWS refused DescribeTrails (AccessDenied): not you"
    )
    assert finding.result.fix == "run doctor with the management account's credentials"


# ---- the report ---------------------------------------------------------------------------------


def test_a_healthy_organization_passes_every_check_and_assumes_in_every_account():
    aws = FakeAws()
    report = run_checks(context(members=3, aws=aws))
    assert [f.status for f in report.findings] == ["ok"] * len(CHECKS)
    assert report.exit_code == 0 and report.fixable == ()
    assert sorted(aws.assumed) == sorted(
        f"arn:aws:iam::{a}:role/OrgLoggingAdmin"
        for a in (MANAGEMENT, LOG_ARCHIVE, "300000000000", "300000000001", "300000000002")
    )


def test_the_json_has_exactly_the_documented_shape():
    aws = FakeAws(principals=frozenset({"cloudtrail.amazonaws.com"}), stacksets="DISABLED")
    document = json.loads(json.dumps(run_checks(context(aws=aws)).to_json()))
    assert set(document) == {"checks", "summary"}
    assert [c["id"] for c in document["checks"]] == list(CHECK_IDS)
    for entry in document["checks"]:
        assert set(entry) == {"id", "check", "status", "problem", "fix", "fixCall", "details"}
        assert entry["status"] in ("ok", "warn", "fail") and isinstance(entry["details"], list)
    (stacksets,) = [c for c in document["checks"] if c["id"] == "stacksets-access"]
    assert stacksets["fixCall"] == "cloudformation ActivateOrganizationsAccess"
    assert document["summary"] == {"ok": 10, "warn": 0, "fail": 1, "exitCode": 1}
    activate = FixCall("cloudformation", "ActivateOrganizationsAccess")
    enable = FixCall("organizations", "EnableAWSServiceAccess", {"ServicePrincipal": "x"})
    fixed = Report((), (FixOutcome(activate), FixOutcome(enable, "refused"))).to_json()
    assert fixed["fixed"] == [
        {"call": "cloudformation ActivateOrganizationsAccess", "ok": True, "error": None},
        {
            "call": "organizations EnableAWSServiceAccess ServicePrincipal=x",
            "ok": False,
            "error": "refused",
        },
    ]
