"""An emulated AWS Organization on 127.0.0.1 (moto server), for the demo, tests and benchmarks.

`Emulator` starts moto's server (with emulator_server.py's stand-ins for what moto
lacks) on a free loopback port and stops it on exit. `sample_org` builds an organization
shaped like a real one: a security OU with the log archive, workloads in nested OUs, a sandbox
OU left out of enrollment, suspended accounts, one account that opted out by tag, one that
has not enabled the opt-in region eu-central-2, `adminRoleName` in every account, and a
Control Tower organization trail. StackSets' organizations access is not activated.
"""

from __future__ import annotations

import json
import os
import re
import sys
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import boto3

from enroll.util.paths import PROJECT_DIR
from enroll.util.processes import HelperProcess, LineMatching

OPT_OUT_TAG = "org-logging-opt-out"


class Emulator:
    """moto server on 127.0.0.1 in its own process (its state is per process, so every
    emulator is a fresh, isolated AWS); `endpoint_url` is where boto3 and discovery go.

    With `enforce_role_trust`, AssumeRole needs the role to exist in its account and to trust
    the caller's account, as in AWS (moto alone lets anyone assume any role ARN)."""

    def __init__(self, startup_timeout: float = 60.0, *, enforce_role_trust: bool = False) -> None:
        self.endpoint_url = ""
        self._startup_timeout = startup_timeout
        self._enforce = ["--enforce-role-trust"] if enforce_role_trust else []
        self._server: HelperProcess[re.Match[str]] | None = None

    def __enter__(self) -> Emulator:
        self._server = HelperProcess(
            # moto's server with our stand-ins for the APIs it lacks (emulator_server.py)
            [
                *(sys.executable, "-m", "enroll.demo.emulator_server"),
                *("-H", "127.0.0.1", "-p", "0", *self._enforce),
            ],
            LineMatching(r"Running on (http://127\.0\.0\.1:\d+)", what="'Running on' line"),
            name="moto server",
            cwd=PROJECT_DIR,
            merge_stderr=True,  # one log line per request, drained so the server never blocks
            startup_timeout=self._startup_timeout,
        )
        self.endpoint_url = self._server.start()[1]
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._server is not None:
            self._server.stop()

    def client(self, service: str, account: str | None = None) -> Any:
        """A client of the emulator; with `account`, moto serves its requests from that account
        (moto's x-moto-account-id header), without credentials of the account."""
        client = boto3.client(service, endpoint_url=self.endpoint_url, region_name="us-east-1")
        if account:

            def route(request: Any, **_: Any) -> None:
                request.headers["x-moto-account-id"] = account

            client.meta.events.register("before-sign", route)
        return client

    def seed(self, seed: int) -> None:
        """Seed moto's random ids (organization, OUs, accounts): the same seed, the same org."""
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback only
        request = urllib.request.Request(
            f"{self.endpoint_url}/moto-api/seed?a={int(seed)}", data=b"", method="POST"
        )
        with opener.open(request, timeout=30) as response:
            response.read()


@contextmanager
def fake_credentials() -> Iterator[None]:
    """The emulator accepts any credentials; never let real ones near it."""
    keys = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE")
    saved = {key: os.environ.get(key) for key in keys}
    os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing")
    os.environ.pop("AWS_SESSION_TOKEN", None)
    os.environ.pop("AWS_PROFILE", None)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@dataclass
class SampleOrg:
    """What `sample_org` built, and what a plan of it must say."""

    org_id: str
    root_id: str
    management_account_id: str
    log_archive_account_id: str
    ous: dict[str, str] = field(default_factory=dict)  # path ("Workloads/Prod") -> OU id
    accounts: dict[str, str] = field(default_factory=dict)  # name -> account id
    suspended: list[str] = field(default_factory=list)
    opted_out: list[str] = field(default_factory=list)
    excluded_ou_accounts: list[str] = field(default_factory=list)  # below the Sandbox OU
    region_not_enabled: dict[str, str] = field(default_factory=dict)  # account -> opt-in region


# name, OU path; the accounts a mid-size organization has
LAYOUT: list[tuple[str, str]] = [
    ("log-archive", "Security"),
    ("audit", "Security"),
    ("network", "Infrastructure"),
    ("shared-services", "Infrastructure"),
    *[(f"payments-prod-{i}", "Workloads/Prod") for i in range(1, 5)],
    *[(f"orders-prod-{i}", "Workloads/Prod") for i in range(1, 3)],
    *[(f"payments-dev-{i}", "Workloads/Dev") for i in range(1, 4)],
    *[(f"orders-dev-{i}", "Workloads/Dev") for i in range(1, 3)],
    ("data-lake", "Workloads/Data"),
    ("analytics", "Workloads/Data"),
    ("sandbox-alice", "Sandbox"),
    ("sandbox-bob", "Sandbox"),
    ("sandbox-ml-1", "Sandbox/Experiments"),
    ("legacy-1", "Suspended"),
    ("legacy-2", "Suspended"),
]
SUSPENDED = ("legacy-1", "legacy-2")
OPTED_OUT = ("orders-dev-2",)
# An opt-in region (launched after March 2019) every account but these has enabled.
OPT_IN_REGION = "eu-central-2"
OPT_IN_REGION_OFF = ("analytics",)
# Trusted access the organization has granted: CloudTrail (organization trail), Account
# Management (reading and enabling members' regions). Not StackSets: `doctor --fix` does it.
TRUSTED_SERVICES = ("cloudtrail.amazonaws.com", "account.amazonaws.com")
# The settings' adminRoleName, created in every account, trusting the management account.
ADMIN_ROLE = "OrgLoggingAdmin"
# An organization trail that is not ours, as AWS Control Tower names its own.
CONTROL_TOWER_TRAIL = "aws-controltower-BaselineCloudTrail"


def sample_org(
    emulator: Emulator,
    extra_accounts: int = 0,
    *,
    admin_role: str | None = ADMIN_ROLE,
    control_tower_trail: bool = True,
) -> SampleOrg:
    """Create the organization (about 25 accounts; `extra_accounts` more under Workloads/Bulk),
    with `admin_role` in every account (None: nowhere) and, if asked, Control Tower's trail."""
    client = emulator.client("organizations")
    organization = client.create_organization(FeatureSet="ALL")["Organization"]
    root = client.list_roots()["Roots"][0]
    client.enable_policy_type(RootId=root["Id"], PolicyType="SERVICE_CONTROL_POLICY")
    sample = SampleOrg(
        org_id=organization["Id"],
        root_id=root["Id"],
        management_account_id=organization["MasterAccountId"],
        log_archive_account_id="",
    )

    def ou(path: str) -> str:
        if path in sample.ous:
            return sample.ous[path]
        parent_path, _, name = path.rpartition("/")
        parent = ou(parent_path) if parent_path else root["Id"]
        created = client.create_organizational_unit(ParentId=parent, Name=name)
        sample.ous[path] = created["OrganizationalUnit"]["Id"]
        return sample.ous[path]

    layout = LAYOUT + [(f"bulk-{i:04d}", "Workloads/Bulk") for i in range(extra_accounts)]
    for name, path in layout:
        created = client.create_account(Email=f"{name}@example.com", AccountName=name)
        account_id = created["CreateAccountStatus"]["AccountId"]
        client.move_account(
            AccountId=account_id, SourceParentId=root["Id"], DestinationParentId=ou(path)
        )
        sample.accounts[name] = account_id
        if path.startswith("Sandbox"):
            sample.excluded_ou_accounts.append(account_id)
    for name in SUSPENDED:
        client.close_account(AccountId=sample.accounts[name])  # moto: becomes SUSPENDED
        sample.suspended.append(sample.accounts[name])
    for name in OPTED_OUT:
        client.tag_resource(
            ResourceId=sample.accounts[name], Tags=[{"Key": OPT_OUT_TAG, "Value": "true"}]
        )
        sample.opted_out.append(sample.accounts[name])
    for service in TRUSTED_SERVICES:
        client.enable_aws_service_access(ServicePrincipal=service)
    regions = emulator.client("account")
    regions.enable_region(RegionName=OPT_IN_REGION)  # the management account itself
    for name, account_id in sample.accounts.items():
        if name in OPT_IN_REGION_OFF:
            sample.region_not_enabled[account_id] = OPT_IN_REGION
        else:
            regions.enable_region(AccountId=account_id, RegionName=OPT_IN_REGION)
    sample.log_archive_account_id = sample.accounts["log-archive"]
    if admin_role:
        create_admin_role(emulator, sample, admin_role)
    if control_tower_trail:
        create_control_tower_trail(emulator, sample)
    return sample


def create_admin_role(emulator: Emulator, sample: SampleOrg, role_name: str) -> None:
    """`role_name` in every account, the management account's included, trusting the
    management account (what the admin-role StackSet, and a hand in the management account,
    create)."""
    trust = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{sample.management_account_id}:root"},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
    )

    def create(account_id: str) -> None:
        emulator.client("iam", account_id).create_role(
            RoleName=role_name, AssumeRolePolicyDocument=trust
        )

    accounts = [sample.management_account_id, *sample.accounts.values()]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(create, accounts))


def create_control_tower_trail(emulator: Emulator, sample: SampleOrg) -> None:
    """A multi-region organization trail of the management account that is not ours."""
    bucket = f"aws-controltower-logs-{sample.log_archive_account_id}-us-east-1"
    emulator.client("s3").create_bucket(Bucket=bucket)  # moto wants it in the trail's account
    emulator.client("cloudtrail").create_trail(
        Name=CONTROL_TOWER_TRAIL,
        S3BucketName=bucket,
        IsMultiRegionTrail=True,
        IsOrganizationTrail=True,
    )


def sample_settings(
    sample: SampleOrg, regions: tuple[str, ...] = ("us-east-1", "eu-west-1")
) -> dict:
    """The settings file of the sample organization (what a team writes in stacks/org.yaml)."""
    return {
        "namePrefix": "acme",
        "logArchiveAccountId": sample.log_archive_account_id,
        "homeRegion": regions[0],
        "regions": list(regions),
        "adminRoleName": ADMIN_ROLE,
        "retentionDays": 365,
        "alertEmails": ["security-alerts@example.com"],
        "localRetentionDays": 30,
        "exclude": {
            "accountIds": [],
            "ouIds": [sample.ous["Sandbox"]],
            "optOutTag": OPT_OUT_TAG,
        },
    }
