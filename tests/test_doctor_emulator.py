"""The emulator's stand-ins for what moto lacks and doctor calls: CloudFormation's
organizations access for StackSets (per emulator process, management account only), and
AssumeRole that needs the role to exist and trust the caller (opt-in per emulator)."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from enroll.demo.emulator import ADMIN_ROLE, Emulator, fake_credentials, sample_org
from enroll.demo.emulator_access import trusts

STACKSETS = "member.org.stacksets.cloudformation.amazonaws.com"


@pytest.fixture(scope="module")
def emulated():
    with fake_credentials(), Emulator(enforce_role_trust=True) as emulator:
        yield emulator, sample_org(emulator)


def refusal(call) -> tuple[str, int]:
    with pytest.raises(ClientError) as caught:
        call()
    response = caught.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


def principals(emulator) -> set[str]:
    listed = emulator.client("organizations").list_aws_service_access_for_organization()
    return {s["ServicePrincipal"] for s in listed["EnabledServicePrincipals"]}


def test_organizations_access_is_disabled_until_activated_whatever_organizations_says(emulated):
    emulator, _ = emulated
    cloudformation = emulator.client("cloudformation")
    organizations = emulator.client("organizations")
    assert cloudformation.describe_organizations_access()["Status"] == "DISABLED"
    organizations.enable_aws_service_access(ServicePrincipal=STACKSETS)
    assert cloudformation.describe_organizations_access()["Status"] == "DISABLED"
    organizations.disable_aws_service_access(ServicePrincipal=STACKSETS)

    cloudformation.activate_organizations_access()
    assert cloudformation.describe_organizations_access()["Status"] == "ENABLED"
    assert STACKSETS in principals(emulator)  # activating grants the trusted access too

    organizations.disable_aws_service_access(ServicePrincipal=STACKSETS)
    assert cloudformation.describe_organizations_access()["Status"] == "DISABLED"
    organizations.enable_aws_service_access(ServicePrincipal=STACKSETS)
    assert cloudformation.describe_organizations_access()["Status"] == "DISABLED"
    organizations.disable_aws_service_access(ServicePrincipal=STACKSETS)


def test_only_the_management_account_reads_or_activates_organizations_access(emulated):
    emulator, sample = emulated
    member = emulator.client("cloudformation", sample.accounts["audit"])
    assert refusal(member.activate_organizations_access) == ("ValidationError", 400)
    assert refusal(member.describe_organizations_access) == ("ValidationError", 400)
    assert STACKSETS not in principals(emulator)


def test_each_emulator_process_has_its_own_organizations_access():
    with fake_credentials(), Emulator() as emulator:
        sample_org(emulator, admin_role=None, control_tower_trail=False)
        cloudformation = emulator.client("cloudformation")
        assert cloudformation.describe_organizations_access()["Status"] == "DISABLED"


def test_an_existing_role_that_trusts_the_caller_can_be_assumed(emulated):
    emulator, sample = emulated
    for account in (sample.accounts["audit"], sample.management_account_id):
        assumed = emulator.client("sts").assume_role(
            RoleArn=f"arn:aws:iam::{account}:role/{ADMIN_ROLE}", RoleSessionName="check"
        )
        assert assumed["AssumedRoleUser"]["Arn"].startswith(f"arn:aws:sts::{account}:")


def test_a_missing_role_or_one_that_does_not_trust_the_caller_is_access_denied(emulated):
    emulator, sample = emulated
    audit = sample.accounts["audit"]
    sts = emulator.client("sts")
    missing = f"arn:aws:iam::{audit}:role/NoSuchRole"
    assert refusal(lambda: sts.assume_role(RoleArn=missing, RoleSessionName="x1")) == (
        "AccessDenied",
        403,
    )
    emulator.client("iam", audit).create_role(
        RoleName="Elsewhere",
        AssumeRolePolicyDocument='{"Version":"2012-10-17","Statement":[{"Effect":"Allow",'
        '"Principal":{"AWS":"arn:aws:iam::999999999999:root"},"Action":"sts:AssumeRole"}]}',
    )
    elsewhere = f"arn:aws:iam::{audit}:role/Elsewhere"
    with pytest.raises(ClientError) as caught:
        sts.assume_role(RoleArn=elsewhere, RoleSessionName="x1")
    assert caught.value.response["Error"]["Message"] == (
        "User: arn:aws:iam::123456789012:root is not authorized to perform: sts:AssumeRole on "
        f"resource: {elsewhere}"
    )


def test_without_the_rule_moto_lets_anyone_assume_any_role():
    with fake_credentials(), Emulator() as emulator:
        sts = emulator.client("sts")
        sts.assume_role(RoleArn="arn:aws:iam::210987654321:role/Nobody", RoleSessionName="x1")


@pytest.mark.parametrize(
    ("principal", "action", "effect", "trusted"),
    [
        ({"AWS": "arn:aws:iam::123456789012:root"}, "sts:AssumeRole", "Allow", True),
        ({"AWS": "123456789012"}, "sts:AssumeRole", "Allow", True),
        ({"AWS": ["arn:aws:iam::123456789012:role/Deployer"]}, ["sts:*"], "Allow", True),
        ("*", "sts:AssumeRole", "Allow", True),
        ({"AWS": "arn:aws:iam::999999999999:root"}, "sts:AssumeRole", "Allow", False),
        ({"AWS": "arn:aws:iam::123456789012:root"}, "sts:AssumeRole", "Deny", False),
        ({"AWS": "arn:aws:iam::123456789012:root"}, "sts:TagSession", "Allow", False),
        ({"Service": "ec2.amazonaws.com"}, "sts:AssumeRole", "Allow", False),
    ],
)
def test_trust_policies_are_read_as_aws_reads_them_for_an_account(
    principal, action, effect, trusted
):
    statement = {"Effect": effect, "Principal": principal, "Action": action}
    assert trusts({"Statement": [statement]}, "123456789012") is trusted
