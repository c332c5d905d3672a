"""Discover the organization (Organizations API, paginated) and plan its stacks (DESIGN §7).

Walks the root and every OU below it, so each account is known with its OU path; reads the
opt-out tag only when one is configured. Works against any endpoint boto3 can reach
(`--endpoint-url`, or boto3's own `AWS_ENDPOINT_URL`), emulators included.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from components import naming
from stacks.model import Exclusion, Plan, PlannedStack
from stacks.orgsettings import OrgSettings
from stacks.render import OrgFacts

# Organizations throttles hard (a few TPS); adaptive mode slows down instead of failing.
CLIENT_CONFIG = Config(retries={"mode": "adaptive", "max_attempts": 10})
TAG_WORKERS = 8


class DiscoveryError(Exception):
    """The organization could not be read, or cannot host org-logging as configured."""


@dataclass(frozen=True)
class Account:
    id: str
    name: str
    state: str  # ACTIVE, SUSPENDED, PENDING_CLOSURE, CLOSED, ...
    ou_path: tuple[str, ...]  # root id, then each OU down to the account's parent
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Organization:
    id: str
    management_account_id: str
    root_id: str
    accounts: tuple[Account, ...]
    scp_enabled: bool = True  # SERVICE_CONTROL_POLICY is enabled on the root
    root_scps: tuple[str, ...] = ()  # names of the SCPs attached to the root
    ou_names: dict[str, str] = field(default_factory=dict)  # OU id -> name

    def facts(self) -> OrgFacts:
        """What the program's data sources see of this organization (offline renders)."""
        return OrgFacts(
            org_id=self.id,
            management_account_id=self.management_account_id,
            root_id=self.root_id,
            scp_enabled=self.scp_enabled,
            attached_scps={self.root_id: self.root_scps},
        )


def organizations_client(endpoint_url: str | None = None, region: str | None = None) -> Any:
    return boto3.client(
        "organizations", endpoint_url=endpoint_url, region_name=region, config=CLIENT_CONFIG
    )


def _pages(client: Any, operation: str, key: str, **kwargs: Any) -> Iterator[dict]:
    for page in client.get_paginator(operation).paginate(**kwargs):
        yield from page.get(key, [])


def discover(client: Any, *, tag_key: str | None = None) -> Organization:
    """Every account of the organization, with its OU path and (if asked) its tags."""
    try:
        described = client.describe_organization()["Organization"]
        roots = list(_pages(client, "list_roots", "Roots"))
        if not roots:
            raise DiscoveryError(f"organization {described['Id']} has no root")
        root_id = roots[0]["Id"]
        scp_enabled = any(
            p.get("Type") == "SERVICE_CONTROL_POLICY" and p.get("Status") == "ENABLED"
            for p in roots[0].get("PolicyTypes", [])
        )
        root_scps = (
            tuple(
                sorted(
                    policy["Name"]
                    for policy in _pages(
                        client,
                        "list_policies_for_target",
                        "Policies",
                        TargetId=root_id,
                        Filter="SERVICE_CONTROL_POLICY",
                    )
                )
            )
            if scp_enabled
            else ()
        )
        accounts: list[tuple[dict, tuple[str, ...]]] = []
        ou_names: dict[str, str] = {}
        pending = [(root_id, (root_id,))]
        while pending:  # breadth-first over the OU tree
            parent, path = pending.pop(0)
            for account in _pages(client, "list_accounts_for_parent", "Accounts", ParentId=parent):
                accounts.append((account, path))
            for ou in _pages(
                client,
                "list_organizational_units_for_parent",
                "OrganizationalUnits",
                ParentId=parent,
            ):
                ou_names[ou["Id"]] = ou.get("Name", ou["Id"])
                pending.append((ou["Id"], (*path, ou["Id"])))
        tags: dict[str, dict[str, str]] = {}
        if tag_key:
            with ThreadPoolExecutor(TAG_WORKERS) as pool:
                ids = [account["Id"] for account, _ in accounts]
                for account_id, account_tags in zip(
                    ids, pool.map(lambda a: _tags(client, a), ids), strict=True
                ):
                    tags[account_id] = account_tags
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        raise DiscoveryError(
            f"the Organizations API refused {error.operation_name} ({code}): "
            f"{error.response.get('Error', {}).get('Message', error)}. Run discovery with "
            "credentials of the management account (or a delegated administrator)."
        ) from None
    except BotoCoreError as error:
        raise DiscoveryError(f"cannot reach the Organizations API: {error}") from None
    return Organization(
        id=described["Id"],
        management_account_id=described.get("MasterAccountId")
        or described.get("ManagementAccountId", ""),
        root_id=root_id,
        scp_enabled=scp_enabled,
        root_scps=root_scps,
        ou_names=ou_names,
        accounts=tuple(
            Account(
                id=account["Id"],
                name=account.get("Name", ""),
                # `State` replaces the deprecated `Status`; emulators may only send the latter.
                state=account.get("State") or account.get("Status", "UNKNOWN"),
                ou_path=path,
                tags=tags.get(account["Id"], {}),
            )
            for account, path in accounts
        ),
    )


def _tags(client: Any, account_id: str) -> dict[str, str]:
    return {
        tag["Key"]: tag["Value"]
        for tag in _pages(client, "list_tags_for_resource", "Tags", ResourceId=account_id)
    }


# --------------------------------------------------------------------------------------------
# The plan
# --------------------------------------------------------------------------------------------


def exclusion_reason(account: Account, settings: OrgSettings) -> str | None:
    """Why an account gets no source stacks, or None if it is enrolled."""
    if account.state != "ACTIVE":
        return f"account is {account.state}, not ACTIVE"
    exclude = settings.exclude
    if account.id in exclude.account_ids:
        return "listed in exclude.accountIds"
    excluded_ous = [ou for ou in account.ou_path if ou in exclude.ou_ids]
    if excluded_ous:
        where = "" if excluded_ous[0] == account.ou_path[-1] else f" (via {account.ou_path[-1]})"
        return f"in excluded OU {excluded_ous[0]}{where}"
    if exclude.opt_out_tag:
        value = account.tags.get(exclude.opt_out_tag)
        if value is not None and value.strip().lower() == "true":
            return f"opted out by tag {exclude.opt_out_tag}={value}"
    return None


def stack_config(
    settings: OrgSettings, org: Organization, role: str, account_id: str, region: str
) -> dict[str, Any]:
    """The full stack config: org-logging keys, the region, and the account the provider may
    touch (`aws:allowedAccountIds` stops a wrong-credentials deploy before it starts)."""
    values = settings.stack_values(
        role,
        org_id=org.id,
        management_account_id=org.management_account_id,
        account_id=account_id,
    )
    config = {f"org-logging:{key}": value for key, value in values.items()}
    config["aws:region"] = region
    config["aws:allowedAccountIds"] = [account_id]
    return config


def build_plan(settings: OrgSettings, org: Organization) -> Plan:
    """log-archive, management, then a source stack per enrolled account x region."""
    by_id = {account.id: account for account in org.accounts}
    archive = by_id.get(settings.log_archive_account_id)
    if archive is None or archive.state != "ACTIVE":
        state = "not in the organization" if archive is None else f"{archive.state}"
        raise DiscoveryError(
            f"{settings.path}: logArchiveAccountId {settings.log_archive_account_id!r} is {state}; "
            f"it must be an ACTIVE account of organization {org.id}"
        )
    home = settings.home_region
    stacks = [
        PlannedStack(
            "log-archive",
            "log-archive",
            archive.id,
            home,
            stack_config(settings, org, "log-archive", archive.id, home),
        ),
        PlannedStack(
            "management",
            "management",
            org.management_account_id,
            home,
            stack_config(settings, org, "management", org.management_account_id, home),
        ),
    ]
    excluded: list[Exclusion] = []
    for account in org.accounts:
        reason = exclusion_reason(account, settings)
        if reason:
            excluded.append(Exclusion(account.id, reason))
            continue
        for region in settings.regions:
            stacks.append(
                PlannedStack(
                    naming.source_stack_name(account.id, region),
                    "source",
                    account.id,
                    region,
                    stack_config(settings, org, "source", account.id, region),
                )
            )
    return Plan(tuple(stacks), tuple(excluded))
