"""doctor's checks against an emulated organization (moto server on 127.0.0.1, AssumeRole as
AWS does it): each check's ok path and its warn or fail paths, the fix each names, and the
call `--fix` would make. Tests that change the organization put it back."""

from __future__ import annotations

import json
from contextlib import contextmanager

import pytest

from enroll.demo.emulator import (
    ADMIN_ROLE,
    CONTROL_TOWER_TRAIL,
    OPT_IN_REGION,
    Emulator,
    create_control_tower_trail,
    fake_credentials,
    sample_org,
    sample_settings,
)
from enroll.doctor.checks_accounts import sample as sample_of
from enroll.doctor.command import doctor_context
from enroll.doctor.model import FixCall
from enroll.doctor.run import CHECKS, run_checks
from enroll.org.discovery import discover, organizations_client
from enroll.org.settings import parse_org_settings

DEMO_REGIONS = ("us-east-1", "eu-west-1", OPT_IN_REGION)
STACKSETS = "member.org.stacksets.cloudformation.amazonaws.com"


@pytest.fixture(scope="module")
def emulated():
    with fake_credentials(), Emulator(enforce_role_trust=True) as emulator:
        sample = sample_org(emulator)
        org = discover(
            organizations_client(emulator.endpoint_url, region="us-east-1"),
            tag_key="org-logging-opt-out",
        )
        yield emulator, sample, org


def context(emulated, regions=DEMO_REGIONS, **changes):
    emulator, sample, org = emulated
    raw = {**sample_settings(sample, regions=regions), **changes}
    settings = parse_org_settings(raw, "org.yaml")
    return doctor_context(settings, emulator.endpoint_url, org=org)


def check(ctx, check_id: str):
    (found,) = [c for c in CHECKS if c.id == check_id]
    return found.run(ctx)


def organizations(emulated):
    return emulated[0].client("organizations")


# ---- trusted access ----------------------------------------------------------------------------


def test_cloudtrail_trusted_access_ok_then_fail_with_the_call_that_fixes_it(emulated):
    assert check(context(emulated), "cloudtrail-trusted-access").status == "ok"
    organizations(emulated).disable_aws_service_access(ServicePrincipal="cloudtrail.amazonaws.com")
    ctx = context(emulated)
    result = check(ctx, "cloudtrail-trusted-access")
    assert result.status == "fail"
    assert result.fix == (
        "aws organizations enable-aws-service-access --service-principal cloudtrail.amazonaws.com"
    )
    assert result.call == FixCall(
        "organizations", "EnableAWSServiceAccess", {"ServicePrincipal": "cloudtrail.amazonaws.com"}
    )
    ctx.aws.perform(result.call)  # what --fix does
    assert check(context(emulated), "cloudtrail-trusted-access").status == "ok"


def test_stacksets_need_cloudformations_organizations_access_not_just_the_principal(emulated):
    ctx = context(emulated)
    result = check(ctx, "stacksets-access")
    assert result.status == "fail" and "has no trusted access" in result.problem
    organizations(emulated).enable_aws_service_access(ServicePrincipal=STACKSETS)
    try:
        result = check(ctx, "stacksets-access")
        assert result.status == "fail"  # the principal alone is not enough
        assert "organizations access is DISABLED" in result.problem
        assert "You must enable organizations access" in result.problem
        assert result.fix == "aws cloudformation activate-organizations-access"
        ctx.aws.perform(result.call)
        assert check(ctx, "stacksets-access").status == "ok"
    finally:
        organizations(emulated).disable_aws_service_access(ServicePrincipal=STACKSETS)
    assert check(ctx, "stacksets-access").status == "fail"


# ---- SCPs --------------------------------------------------------------------------------------


def test_scps_disabled_on_the_root_fail_and_the_room_cannot_be_counted(emulated):
    _, sample, _ = emulated
    organizations(emulated).disable_policy_type(
        RootId=sample.root_id, PolicyType="SERVICE_CONTROL_POLICY"
    )
    ctx = context(emulated)
    result = check(ctx, "scp-policy-type")
    assert result.status == "fail"
    assert result.fix == (
        f"aws organizations enable-policy-type --root-id {sample.root_id} "
        "--policy-type SERVICE_CONTROL_POLICY"
    )
    assert check(ctx, "scp-room").status == "warn"
    ctx.aws.perform(result.call)
    assert check(ctx, "scp-policy-type").status == "ok"
    assert check(ctx, "scp-room").status == "ok"


def test_a_target_without_room_for_our_two_scps_fails_naming_a_detach(emulated):
    _, sample, _ = emulated
    client = organizations(emulated)
    ou_id = sample.ous["Workloads/Data"]
    attached = []
    for i in range(3):  # with FullAWSAccess (inherited from the root at creation): 4 others
        policy = client.create_policy(
            Name=f"guard-{i}",
            Description="",
            Type="SERVICE_CONTROL_POLICY",
            Content='{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}',
        )
        attached.append(policy["Policy"]["PolicySummary"]["Id"])
        client.attach_policy(PolicyId=attached[-1], TargetId=ou_id)
    try:
        result = check(context(emulated, scpTargets=[ou_id]), "scp-room")
    finally:
        for policy_id in attached:
            client.detach_policy(PolicyId=policy_id, TargetId=ou_id)
    assert result.status == "fail"
    assert f"{ou_id} has 4 SCPs besides ours, and ours need 2 of the 5" in result.problem
    assert f"aws organizations detach-policy --policy-id {attached[-1]} --target-id {ou_id}" in (
        result.fix
    )
    assert check(context(emulated, scpTargets=[ou_id]), "scp-room").status == "ok"


def test_an_scp_target_outside_the_organization_fails(emulated):
    result = check(context(emulated, scpTargets=["ou-zzzz-zzzzzzzz"]), "scp-room")
    assert result.status == "fail" and "ou-zzzz-zzzzzzzz not in organization" in result.problem


# ---- other organization trails -------------------------------------------------------------


def test_another_organization_trail_warns_of_the_second_copy_and_names_it(emulated):
    result = check(context(emulated), "other-org-trails")
    assert result.status == "warn"
    assert f"organization trail {CONTROL_TOWER_TRAIL} (home us-east-1)" in result.problem
    assert "only the first copy is free" in result.problem
    assert f"--trail-name {CONTROL_TOWER_TRAIL}" in result.fix


@contextmanager
def without_control_tower(emulated):
    emulator, sample, _ = emulated
    emulator.client("cloudtrail").delete_trail(Name=CONTROL_TOWER_TRAIL)
    try:
        yield
    finally:
        create_control_tower_trail(emulator, sample)


def test_no_other_organization_trail_or_only_ours_is_ok(emulated):
    emulator, sample, _ = emulated
    with without_control_tower(emulated):
        assert check(context(emulated), "other-org-trails").status == "ok"
        emulator.client("cloudtrail").create_trail(
            Name="acme-org-trail",
            S3BucketName=f"aws-controltower-logs-{sample.log_archive_account_id}-us-east-1",
            IsOrganizationTrail=True,
        )
        try:
            assert check(context(emulated), "other-org-trails").problem == (
                "no other organization trail"
            )
        finally:
            emulator.client("cloudtrail").delete_trail(Name="acme-org-trail")


# ---- the log-archive account -------------------------------------------------------------------


def test_the_sample_log_archive_is_fine(emulated):
    result = check(context(emulated), "log-archive-account")
    assert result.status == "ok" and "(log-archive) is an ACTIVE member account" in result.problem


@pytest.mark.parametrize(
    ("pick", "says", "fix"),
    [
        (lambda s: s.management_account_id, "is the management account", "a dedicated member"),
        (lambda s: s.suspended[0], "is SUSPENDED", "an ACTIVE account"),
        (lambda s: "999999999999", "is not in organization", "logArchiveAccountId in org.yaml"),
        (lambda s: s.opted_out[0], "opted out by tag", "aws organizations untag-resource"),
        (
            lambda s: s.accounts["sandbox-bob"],
            "below excluded OU",
            "from exclude.ouIds in org.yaml",
        ),
    ],
)
def test_a_log_archive_that_is_management_inactive_or_excluded_fails(emulated, pick, says, fix):
    ctx = context(emulated, logArchiveAccountId=pick(emulated[1]))
    result = check(ctx, "log-archive-account")
    assert result.status == "fail" and says in result.problem
    assert fix in result.fix


def test_a_log_archive_listed_in_exclude_account_ids_fails(emulated):
    _, sample, _ = emulated
    raw = sample_settings(sample)
    raw["exclude"]["accountIds"] = [sample.log_archive_account_id]
    ctx = doctor_context(
        parse_org_settings(raw, "org.yaml"), emulated[0].endpoint_url, org=emulated[2]
    )
    result = check(ctx, "log-archive-account")
    assert result.status == "fail"
    assert (
        result.fix == f"remove {sample.log_archive_account_id} from exclude.accountIds in org.yaml"
    )


# ---- regions -------------------------------------------------------------------------------------


def test_regions_that_are_not_opt_in_need_no_question(emulated):
    result = check(context(emulated, regions=("us-east-1", "eu-west-1")), "enrolled-regions")
    assert result.status == "ok" and "no enrolled region is opt-in" in result.problem


def test_a_member_without_an_opt_in_region_is_a_warning_with_its_command(emulated):
    _, sample, _ = emulated
    analytics = sample.accounts["analytics"]
    result = check(context(emulated), "enrolled-regions")
    assert result.status == "warn"
    assert f"{analytics} (analytics): {OPT_IN_REGION}" in result.problem
    assert result.fix == (
        f"aws account enable-region --account-id {analytics} --region-name {OPT_IN_REGION}"
    )


def test_an_enrolled_region_the_log_archive_has_not_enabled_fails(emulated):
    _, sample, _ = emulated
    result = check(context(emulated, regions=("us-east-1", "ap-east-1")), "enrolled-regions")
    assert result.status == "fail"
    assert f"{sample.log_archive_account_id} (log-archive) has not enabled ap-east-1" in (
        result.problem
    )
    assert result.fix.startswith(
        f"aws account enable-region --account-id {sample.log_archive_account_id} "
        "--region-name ap-east-1"
    )


def test_regions_that_cannot_be_read_fail_with_the_trusted_access_to_enable(emulated):
    client = organizations(emulated)
    client.disable_aws_service_access(ServicePrincipal="account.amazonaws.com")
    try:
        ctx = context(emulated)
        result = check(ctx, "enrolled-regions")
        assert result.status == "fail" and "refused ListRegions (AccessDeniedException)" in (
            result.problem
        )
        assert "--service-principal account.amazonaws.com" in result.fix
        # the Firehose counts carry on, as upper bounds
        assert check(ctx, "firehose-partitions").status == "ok"
    finally:
        client.enable_aws_service_access(ServicePrincipal="account.amazonaws.com")


# ---- adminRoleName -------------------------------------------------------------------------------


def test_the_admin_role_is_assumed_in_a_sample_with_the_core_accounts(emulated):
    _, sample, _ = emulated
    result = check(context(emulated), "admin-role")
    assert result.status == "ok"
    assert result.problem.startswith(f"assumed {ADMIN_ROLE} in 10 of 17 accounts")
    assert list(result.details[:2]) == [
        sample.log_archive_account_id,
        sample.management_account_id,
    ]
    assert check(context(emulated), "admin-role").details == result.details  # deterministic


def test_the_sample_is_the_core_accounts_then_a_hash_order_and_all_accounts_takes_all(emulated):
    _, sample, _ = emulated
    ctx = context(emulated)
    accounts = sorted({*sample.accounts.values(), sample.management_account_id})
    chosen = sample_of(ctx, accounts)
    assert len(chosen) == 10 and len(set(chosen)) == 10
    assert chosen[:2] == [sample.log_archive_account_id, sample.management_account_id]
    assert sample_of(ctx, list(reversed(accounts))) == chosen  # the order given does not matter
    ctx.sample_size = 3
    assert sample_of(ctx, accounts) == chosen[:3]
    ctx.all_accounts = True
    assert sample_of(ctx, accounts) == accounts


@contextmanager
def role_removed(emulated, account: str):
    emulator, _, _ = emulated
    iam = emulator.client("iam", account)
    document = iam.get_role(RoleName=ADMIN_ROLE)["Role"]["AssumeRolePolicyDocument"]
    iam.delete_role(RoleName=ADMIN_ROLE)
    try:
        yield
    finally:
        iam.create_role(RoleName=ADMIN_ROLE, AssumeRolePolicyDocument=json.dumps(document))


def test_a_missing_admin_role_fails_naming_the_account_and_the_sts_code(emulated):
    _, sample, _ = emulated
    member = sample.accounts["payments-dev-2"]
    with role_removed(emulated, member):
        ctx = context(emulated)
        ctx.all_accounts = True
        result = check(ctx, "admin-role")
    assert result.status == "fail"
    assert f"cannot assume {ADMIN_ROLE} in 1 of 17 accounts: {member}" in result.problem
    assert result.details == (f"{member} (payments-dev-2): AccessDenied",)
    assert "the admin-role StackSet" in result.fix and "by hand" not in result.fix


def test_the_management_account_needs_the_role_too(emulated):
    _, sample, _ = emulated
    with role_removed(emulated, sample.management_account_id):
        result = check(context(emulated), "admin-role")
    assert result.status == "fail"
    assert "in 1 of 10 sampled accounts (of 17; --all-accounts checks every one)" in (
        result.problem
    )
    assert result.details == (f"{sample.management_account_id} (master): AccessDenied",)
    assert f"aws iam create-role --role-name {ADMIN_ROLE}" in result.fix


def test_a_role_that_does_not_trust_the_deployer_cannot_be_assumed(emulated):
    emulator, sample, _ = emulated
    audit = sample.accounts["audit"]
    iam = emulator.client("iam", audit)
    trust = iam.get_role(RoleName=ADMIN_ROLE)["Role"]["AssumeRolePolicyDocument"]
    other = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::999999999999:root"},"Action":"sts:AssumeRole"}]}'
    iam.update_assume_role_policy(RoleName=ADMIN_ROLE, PolicyDocument=other)
    try:
        ctx = context(emulated)
        ctx.all_accounts = True
        result = check(ctx, "admin-role")
    finally:
        iam.update_assume_role_policy(RoleName=ADMIN_ROLE, PolicyDocument=json.dumps(trust))
    assert result.status == "fail" and f"{audit} (audit): AccessDenied" in result.problem


# ---- the whole run ----------------------------------------------------------------------------


def test_every_check_runs_in_order_and_only_stacksets_fails_on_the_sample(emulated):
    report = run_checks(context(emulated))
    assert [f.id for f in report.findings] == [c.id for c in CHECKS]
    assert {f.id: f.status for f in report.findings if f.status != "ok"} == {
        "stacksets-access": "fail",
        "other-org-trails": "warn",
        "enrolled-regions": "warn",
    }
    assert report.exit_code == 1
    assert report.fixable == (FixCall("cloudformation", "ActivateOrganizationsAccess"),)
