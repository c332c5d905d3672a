"""Deployable on real AWS: one test (or more) per finding of the pre-deployment audit;
here the items that depend on the organization's regions and size: 04, 05 and 06.

Each rule below is something AWS refuses, or a promise that did not hold, that our stand-ins
used to accept. The numbers are the audit's items; each test names the behaviour it proves.
The other items are in test_deployability_buckets.py (01, 03, 07-09) and
test_deployability_guards.py (02, 10-15).
"""

from __future__ import annotations

import pytest
from conftest import (
    LOG_ARCHIVE,
    MANAGEMENT,
    MEMBER,
    ORG_ID,
    policy_doc,
    render_config,
    stack_config,
)
from deployability import archive

from components.documents.delivery import destination_policy_bytes, max_destination_policy_accounts
from components.settings import SettingsError, parse_settings
from enroll.demo.emulator import (
    OPT_IN_REGION,
    Emulator,
    fake_credentials,
    sample_org,
    sample_settings,
)
from enroll.org.discovery import AccountRegions, DiscoveryError, discover, organizations_client
from enroll.org.plan import build_plan
from enroll.org.settings import parse_org_settings

# ---- 4. opt-in regions ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def emulated_org():
    with fake_credentials(), Emulator() as emulator:
        yield emulator, sample_org(emulator)


def plan_of(emulator, sample, regions, **settings_overrides):
    raw = {**sample_settings(sample, regions=regions), **settings_overrides}
    settings = parse_org_settings(raw, "org.yaml")
    client = organizations_client(emulator.endpoint_url, region="us-east-1")
    org = discover(client, tag_key=settings.exclude.opt_out_tag, regions=settings.regions)
    return settings, org, build_plan(settings, org)


def test_04_a_pair_whose_opt_in_region_is_off_is_left_out_with_its_reason(emulated_org):
    emulator, sample = emulated_org
    with fake_credentials():
        _, org, plan = plan_of(emulator, sample, ("us-east-1", OPT_IN_REGION))
    (off,) = sample.region_not_enabled
    assert org.enabled_regions is not None and OPT_IN_REGION not in org.enabled_regions[off]
    assert [e.to_json() for e in plan.excluded if e.account_id == off] == [
        {
            "accountId": off,
            "reason": f"opt-in region {OPT_IN_REGION} is not enabled in the account",
            "region": OPT_IN_REGION,
        }
    ]
    names = {s.name for s in plan.stacks}
    assert f"source-{off}-us-east-1" in names  # its other regions stay enrolled
    assert f"source-{off}-{OPT_IN_REGION}" not in names
    assert f"source-{sample.accounts['audit']}-{OPT_IN_REGION}" in names


def test_04_a_region_the_log_archive_has_not_enabled_stops_the_plan(emulated_org):
    emulator, sample = emulated_org
    with fake_credentials(), pytest.raises(DiscoveryError) as stopped:
        plan_of(
            emulator,
            sample,
            ("us-east-1", "ap-east-1"),  # opt-in, enabled nowhere in the sample
        )
    message = str(stopped.value)
    assert f"logArchiveAccountId {sample.log_archive_account_id} has not enabled" in message
    assert (
        f"`aws account enable-region --account-id {sample.log_archive_account_id} "
        "--region-name ap-east-1`" in message
    )


def test_04_no_account_is_asked_when_no_enrolled_region_is_opt_in(emulated_org):
    emulator, sample = emulated_org

    class Refusing(AccountRegions):
        def enabled(self, account_id: str) -> frozenset[str]:
            raise AssertionError("ListRegions called although every region is on by default")

    with fake_credentials():
        client = organizations_client(emulator.endpoint_url, region="us-east-1")
        org = discover(
            client,
            regions=("us-east-1", "eu-west-1"),
            account_regions=Refusing(None, sample.management_account_id),
        )
    assert org.enabled_regions is None
    assert org.region_enabled(sample.accounts["analytics"], OPT_IN_REGION) is True


def test_04_without_account_management_trusted_access_discovery_says_how_to_enable_it():
    with fake_credentials(), Emulator() as emulator:
        sample = sample_org(emulator)
        emulator.client("organizations").disable_aws_service_access(
            ServicePrincipal="account.amazonaws.com"
        )
        with pytest.raises(DiscoveryError) as stopped:
            plan_of(emulator, sample, ("us-east-1", OPT_IN_REGION))
    assert "refused ListRegions (AccessDeniedException)" in str(stopped.value)
    assert "--service-principal account.amazonaws.com" in str(stopped.value)


# ---- 5. aws-cn: destination policies name the member accounts --------------------------------


def test_05_china_destination_policies_name_the_member_accounts_not_the_org():
    rendered = archive_cn = render_config(stack_config("log-archive", "aws-cn"), "log-archive")
    for policy in archive_cn.of_type("aws:cloudwatch/logDestinationPolicy:LogDestinationPolicy"):
        region = policy.inputs["region"]
        assert policy_doc(policy, "accessPolicy") == {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "AllowMemberAccountSubscriptions",
                    "Effect": "Allow",
                    "Principal": {"AWS": sorted([MANAGEMENT, LOG_ARCHIVE, MEMBER])},
                    "Action": ["logs:PutSubscriptionFilter", "logs:PutAccountPolicy"],
                    "Resource": f"arn:aws-cn:logs:{region}:{LOG_ARCHIVE}:destination:acme-org-logs",
                }
            ],
        }
    assert rendered.of_type("aws:cloudwatch/logDestinationPolicy:LogDestinationPolicy")


def test_05_china_needs_the_member_list_and_refuses_one_past_the_policy_size():
    def problems(**overrides):
        values = {
            k.split(":", 1)[1]: v
            for k, v in stack_config("log-archive", "aws-cn", **overrides).items()
            if k.startswith("org-logging:")
        }
        with pytest.raises(SettingsError) as refused:
            parse_settings(values)
        return refused.value.problems

    assert problems(memberAccountIds=None) == [
        "org-logging:memberAccountIds is required in partition aws-cn: its CloudWatch Logs "
        "destination policies list the member accounts (the plan sets it)"
    ]
    most = max_destination_policy_accounts()
    accounts = [f"{i:012d}" for i in range(most + 1)]
    fits = {
        k.split(":", 1)[1]: v
        for k, v in stack_config("log-archive", "aws-cn", memberAccountIds=accounts[:most]).items()
        if k.startswith("org-logging:")
    }
    assert parse_settings(fits).member_account_ids == tuple(accounts[:most])
    (problem,) = problems(memberAccountIds=accounts)
    assert problem.startswith(f"org-logging:memberAccountIds '<{most + 1} accounts>' make a ")
    assert problem.endswith(f"CloudWatch Logs allows 5120 (about {most} accounts in aws-cn)")
    assert destination_policy_bytes(accounts[:most]) <= 5120
    assert destination_policy_bytes(accounts) > 5120


def test_05_elsewhere_the_destination_policy_stays_org_scoped():
    for policy in archive().of_type("aws:cloudwatch/logDestinationPolicy:LogDestinationPolicy"):
        (allow,) = policy_doc(policy, "accessPolicy")["Statement"]
        assert allow["Condition"] == {"StringEquals": {"aws:PrincipalOrgID": ORG_ID}}


# ---- 6. Firehose scales with the organization -------------------------------------------------


def test_06_each_region_has_its_own_stream_partitioned_by_account_only():
    rendered = archive()
    streams = rendered.of_type("aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream")
    by_region = {s.inputs["name"].removeprefix("acme-org-logs-"): s for s in streams}
    assert set(by_region) == {"us-east-1", "eu-west-1", "ap-southeast-2"}
    for region, stream in by_region.items():
        prefix = stream.inputs["extendedS3Configuration"]["prefix"]
        assert (
            prefix
            == f"CloudWatchLogs/!{{partitionKeyFromQuery:owner}}/{region}/!{{timestamp:yyyy/MM/dd}}/"
        )
    targets = {
        d.inputs["region"]: d.inputs["targetArn"]
        for d in rendered.of_type("aws:cloudwatch/logDestination:LogDestination")
    }
    assert targets == {
        region: f"arn:aws:firehose:us-east-1:{LOG_ARCHIVE}:deliverystream/acme-org-logs-{region}"
        for region in by_region
    }


def test_06_plan_warns_when_a_regions_accounts_exceed_the_partition_quota(emulated_org):
    emulator, sample = emulated_org
    with fake_credentials():
        _, _, plan = plan_of(emulator, sample, ("us-east-1",))
    accounts = sum(1 for s in plan.stacks if s.role == "source")
    with fake_credentials():
        # Both sides of the threshold: accounts + 1 (control messages) partitions are needed.
        _, _, at_quota = plan_of(
            emulator, sample, ("us-east-1",), firehosePartitionQuota=accounts + 1
        )
        _, _, over = plan_of(emulator, sample, ("us-east-1",), firehosePartitionQuota=accounts)
    assert at_quota.warnings == ()
    assert over.warnings == (
        f"region us-east-1: {accounts} accounts send CloudWatch Logs through one Firehose stream, "
        f"which needs {accounts + 1} active partitions; firehosePartitionQuota is {accounts}. "
        "Ask AWS to raise the stream's active-partition quota (at most 5,000) and set "
        "firehosePartitionQuota, or records past the quota land in "
        "FirehoseErrors/us-east-1/activePartitionExceeded/.",
    )


def test_06_the_plan_gives_the_log_archive_its_enrolled_accounts(emulated_org):
    emulator, sample = emulated_org
    with fake_credentials():
        _, _, plan = plan_of(emulator, sample, ("us-east-1",))
    members = plan.stacks[0].config["org-logging:memberAccountIds"]
    assert members == sorted({s.account_id for s in plan.stacks if s.role == "source"})
