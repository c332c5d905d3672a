"""Discovery and planning against an emulated organization (moto server on 127.0.0.1)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from components.settings import SettingsError
from enroll.demo.emulator import (
    OPT_OUT_TAG,
    Emulator,
    fake_credentials,
    sample_org,
    sample_settings,
)
from enroll.org.discovery import DiscoveryError, discover, organizations_client
from enroll.org.plan import build_plan
from enroll.org.settings import load_org_settings, parse_org_settings

EXTRA = 45  # with the sample's 23 accounts: 68, more than a page of every paginated call


@pytest.fixture(scope="module")
def emulated():
    with fake_credentials(), Emulator() as emulator:
        sample = sample_org(emulator, extra_accounts=EXTRA)
        settings = parse_org_settings(sample_settings(sample), "org.yaml")
        client = organizations_client(emulator.endpoint_url, region="us-east-1")
        org = discover(client, tag_key=settings.exclude.opt_out_tag, regions=settings.regions)
        yield emulator, sample, settings, org


def test_discovery_finds_every_account_across_pages_and_nested_ous(emulated):
    _, sample, _, org = emulated
    assert len(org.accounts) == len(sample.accounts) + 1  # + the management account
    assert len(org.accounts) >= 60
    assert {a.id for a in org.accounts} == {*sample.accounts.values(), sample.management_account_id}
    by_id = {a.id: a for a in org.accounts}
    nested = by_id[sample.accounts["sandbox-ml-1"]]
    assert nested.ou_path == (
        sample.root_id,
        sample.ous["Sandbox"],
        sample.ous["Sandbox/Experiments"],
    )
    assert org.ou_names[sample.ous["Workloads/Prod"]] == "Prod"
    assert (org.id, org.management_account_id) == (sample.org_id, sample.management_account_id)


def test_discovery_reads_states_tags_and_the_roots_scps(emulated):
    _, sample, _, org = emulated
    by_id = {a.id: a for a in org.accounts}
    assert {by_id[a].state for a in sample.suspended} == {"SUSPENDED"}
    assert by_id[sample.opted_out[0]].tags == {OPT_OUT_TAG: "true"}
    assert org.scp_enabled and org.root_scps == ("FullAWSAccess",)


def test_plan_orders_log_archive_management_then_sorted_sources(emulated):
    _, sample, settings, org = emulated
    plan = build_plan(settings, org)
    roles = [s.role for s in plan.stacks]
    assert roles[:2] == ["log-archive", "management"] and set(roles[2:]) == {"source"}
    sources = [s.name for s in plan.stacks[2:]]
    assert sources == sorted(sources)
    assert plan.stacks[0].account_id == sample.log_archive_account_id
    assert plan.stacks[1].account_id == sample.management_account_id


def test_only_active_accounts_not_excluded_are_enrolled_in_every_region(emulated):
    _, sample, settings, org = emulated
    plan = build_plan(settings, org)
    enrolled = {s.account_id for s in plan.stacks if s.role == "source"}
    left_out = {*sample.suspended, *sample.opted_out, *sample.excluded_ou_accounts}
    assert enrolled == {a.id for a in org.accounts} - left_out
    assert len([s for s in plan.stacks if s.role == "source"]) == 2 * len(enrolled)


def test_every_exclusion_is_listed_with_its_reason(emulated):
    _, sample, settings, org = emulated
    reasons = {e.account_id: e.reason for e in build_plan(settings, org).excluded}
    sandbox = sample.ous["Sandbox"]
    assert reasons == {
        **{a: "account is SUSPENDED, not ACTIVE" for a in sample.suspended},
        sample.opted_out[0]: f"opted out by tag {OPT_OUT_TAG}=true",
        sample.accounts["sandbox-alice"]: f"in excluded OU {sandbox}",
        sample.accounts["sandbox-bob"]: f"in excluded OU {sandbox}",
        sample.accounts[
            "sandbox-ml-1"
        ]: f"in excluded OU {sandbox} (via {sample.ous['Sandbox/Experiments']})",
    }


def test_excluded_account_ids_are_honoured(emulated):
    _, sample, _, org = emulated
    raw = sample_settings(sample)
    raw["exclude"]["accountIds"] = [sample.accounts["audit"]]
    plan = build_plan(parse_org_settings(raw, "org.yaml"), org)
    assert {e.account_id: e.reason for e in plan.excluded}[
        sample.accounts["audit"]
    ] == "listed in exclude.accountIds"


def test_plan_json_has_exactly_the_documented_shape_and_is_deterministic(emulated):
    _, _, settings, org = emulated
    first = build_plan(settings, org).to_json()
    again = build_plan(settings, org).to_json()
    assert json.dumps(first, sort_keys=False) == json.dumps(again, sort_keys=False)
    assert set(first) == {"stacks", "excluded", "warnings"}
    assert all(set(s) == {"name", "role", "accountId", "region", "config"} for s in first["stacks"])
    assert all(set(e) == {"accountId", "reason"} for e in first["excluded"])
    assert first["warnings"] == []


def test_each_planned_config_is_a_valid_stack_config_for_its_account(emulated):
    _, sample, settings, org = emulated
    from components.settings import parse_settings

    for stack in build_plan(settings, org).stacks:
        values = {
            k.split(":", 1)[1]: v for k, v in stack.config.items() if k.startswith("org-logging:")
        }
        parsed = parse_settings(values, stack_region=stack.config["aws:region"])
        assert parsed.account_id == stack.account_id
        assert stack.config["aws:allowedAccountIds"] == [stack.account_id]
        assert parsed.org_id == sample.org_id


def test_a_log_archive_account_outside_the_org_stops_planning(emulated):
    _, sample, _, org = emulated
    raw = {**sample_settings(sample), "logArchiveAccountId": "999999999999"}
    with pytest.raises(
        DiscoveryError, match="logArchiveAccountId '999999999999' is not in the organization"
    ):
        build_plan(parse_org_settings(raw, "org.yaml"), org)


def test_discovery_errors_are_clear_when_there_is_no_organization():
    with fake_credentials(), Emulator() as emulator:  # a fresh, empty emulator
        client = organizations_client(emulator.endpoint_url, region="us-east-1")
        with pytest.raises(
            DiscoveryError, match="the Organizations API refused DescribeOrganization"
        ):
            discover(client)


def test_the_example_settings_file_is_valid():
    settings = load_org_settings("stacks/org.yaml")
    assert settings.exclude.opt_out_tag == "org-logging-opt-out"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"namePrefix": "ACME_"}, "org.yaml: namePrefix 'ACME_' must match"),
        ({"orgId": "o-abcdefghij"}, "org.yaml: orgId is not set in the file: it is discovered"),
        ({"colour": "blue"}, "org.yaml: colour is not a known key"),
        (
            {"exclude": {"ouIds": ["sandbox"]}},
            "org.yaml: exclude.ouIds 'sandbox' (an item) must be an OU id",
        ),
        (
            {"regions": ["us-east-1", "us-gov-west-1"]},
            "org.yaml: regions 'us-gov-west-1' (an item) is in partition aws-us-gov",
        ),
    ],
)
def test_bad_settings_are_refused_with_the_stack_configs_messages(tmp_path, change, message):
    path = tmp_path / "org.yaml"
    raw = {**yaml.safe_load(Path("stacks/org.yaml").read_text()), **change}
    path.write_text(yaml.safe_dump(raw))
    with pytest.raises(SettingsError) as caught:
        load_org_settings(path)
    assert any(
        problem.startswith(f"{path}: {message.split(': ', 1)[1]}")
        for problem in caught.value.problems
    ), caught.value.problems
