"""The real Pulumi engine, the stand-in aws provider and an emulated organization, for e2e.

Run with `make e2e` (it builds the engine first). Everything the engine writes (PULUMI_HOME,
file backends, state dirs, project copies) lives in pytest's temporary directories.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
import yaml

from enroll.demo.emulator import (
    Emulator,
    SampleOrg,
    fake_credentials,
    sample_org,
    sample_settings,
)
from enroll.org.discovery import discover, organizations_client
from enroll.org.plan import build_plan
from enroll.org.settings import parse_org_settings
from tests.e2e.engine import engine_bin
from tests.e2e.provider import install_plugin

# One region keeps the run within CI's time: every account still gets a source stack.
E2E_REGIONS = ("us-east-1",)


@pytest.fixture(scope="module")
def emulated_org(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A fresh emulated organization per test module: deployments never meet each other."""
    with fake_credentials(), Emulator() as emulator:
        sample = sample_org(emulator)
        before_bootstrap(emulator, sample)
        settings_file = tmp_path_factory.mktemp("org") / "org.yaml"
        settings_file.write_text(yaml.safe_dump(sample_settings(sample, regions=E2E_REGIONS)))
        yield emulator, sample, settings_file


def before_bootstrap(emulator: Emulator, sample: SampleOrg) -> None:
    """The organization as a user has it before the first `up`: StackSets' organizations access
    activated, as `org-logging doctor --fix` does (the admin-role StackSet needs it), and no
    adminRoleName anywhere yet: the management stack creates it, with its StackSet in every
    active member account (a role already there would fail the StackSet, as in AWS) and a
    plain role in the management account."""
    emulator.client("cloudformation").activate_organizations_access()
    role_name = sample_settings(sample)["adminRoleName"]
    for account in (sample.management_account_id, *sample.accounts.values()):
        emulator.client("iam", account).delete_role(RoleName=role_name)


@pytest.fixture(scope="session")
def pulumi_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The engine on PATH, a test PULUMI_HOME with the stand-in aws plugin installed."""
    bin_dir = engine_bin()
    home = tmp_path_factory.mktemp("pulumi-home")
    env = {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "PULUMI_HOME": str(home),
        "PULUMI_CONFIG_PASSPHRASE": "org-logging-e2e",
        "PULUMI_SKIP_UPDATE_CHECK": "true",
        "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
        "PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK": "true",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    env.pop("AWS_SESSION_TOKEN", None)
    env.pop("AWS_PROFILE", None)
    install_plugin(bin_dir / "pulumi", home, env)
    return env


@pytest.fixture(scope="module")
def engine_env(pulumi_env: dict[str, str], emulated_org: Any) -> dict[str, str]:
    """The environment of every pulumi command of a module: its own emulator."""
    return {**pulumi_env, "AWS_ENDPOINT_URL": emulated_org[0].endpoint_url}


@pytest.fixture(scope="module")
def demo_plan(emulated_org: Any) -> Any:
    emulator, _, settings_file = emulated_org
    settings = parse_org_settings(yaml.safe_load(settings_file.read_text()), str(settings_file))
    with fake_credentials():
        org = discover(
            organizations_client(emulator.endpoint_url, region="us-east-1"),
            tag_key=settings.exclude.opt_out_tag,
            regions=settings.regions,
        )
    return build_plan(settings, org)
