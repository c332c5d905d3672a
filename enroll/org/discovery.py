"""Discover the organization (Organizations API, paginated): every account with its OU path,
its tags and, when an enrolled region is opt-in, its enabled regions.

Walks the root and every OU below it, so each account is known with its OU path; reads the
opt-out tag only when one is configured. Works against any endpoint boto3 can reach
(`--endpoint-url`, or boto3's own `AWS_ENDPOINT_URL`), emulators included.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

import boto3
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, ProfileNotFound

from enroll.org.awscalls import (
    DEFAULT_RETRY,
    NO_BOTOCORE_RETRIES,
    MalformedReply,
    Retry,
    call,
    error_code,
    is_retryable,
    pages,
)
from enroll.org.model import OrgFacts
from enroll.util.awserrors import CREDENTIALS_CODES
from policy import conventions

# Parallel calls (OU levels, tags, regions): Organizations throttles hard, and every call
# backs off on its own (enroll.org.awscalls).
WORKERS = 8


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
    # Services with trusted access (ListAWSServiceAccessForOrganization).
    service_access_principals: tuple[str, ...] = ()
    # Account -> the regions it has enabled; None when no enrolled region is opt-in (then
    # every enrolled region is enabled everywhere, and nobody was asked).
    enabled_regions: dict[str, frozenset[str]] | None = None

    def facts(self) -> OrgFacts:
        """What the program's data sources see of this organization (offline renders)."""
        return OrgFacts(
            org_id=self.id,
            management_account_id=self.management_account_id,
            root_id=self.root_id,
            scp_enabled=self.scp_enabled,
            attached_scps={self.root_id: self.root_scps},
            service_access_principals=self.service_access_principals,
        )

    def region_enabled(self, account_id: str, region: str) -> bool:
        if self.enabled_regions is None or not conventions.is_opt_in_region(region):
            return True
        return region in self.enabled_regions.get(account_id, frozenset())


NO_CREDENTIALS = (
    "no AWS credentials found: discovery reads the organization with the management "
    "account's credentials (or a delegated administrator's); set AWS_PROFILE, or "
    "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run where a role is attached"
)


def organizations_client(endpoint_url: str | None = None, region: str | None = None) -> Any:
    try:
        return boto3.client(
            "organizations",
            endpoint_url=endpoint_url,
            region_name=region,
            config=NO_BOTOCORE_RETRIES,
        )
    except ProfileNotFound as error:
        raise DiscoveryError(
            f"AWS_PROFILE {error.kwargs.get('profile')!r}: no such profile in the AWS config "
            "or credentials files (`aws configure list-profiles` lists them)"
        ) from None
    except ValueError as error:  # botocore: "Invalid endpoint: ..."
        where = (
            f"--endpoint-url {endpoint_url!r}"
            if endpoint_url
            else "AWS_ENDPOINT_URL (or AWS_ENDPOINT_URL_ORGANIZATIONS, or endpoint_url in the "
            "AWS config)"
        )
        raise DiscoveryError(
            f"{where}: {error}; it must be a URL with a scheme and a host, e.g. "
            "http://127.0.0.1:5000"
        ) from None


def account_client(endpoint_url: str | None = None, region: str | None = None) -> Any:
    """AWS Account Management (the regions API), a global service called in us-east-1 of the
    partition; emulators serve it at the same endpoint as Organizations."""
    return boto3.client(
        "account", endpoint_url=endpoint_url, region_name=region, config=NO_BOTOCORE_RETRIES
    )


def same_endpoint_client(organizations: Any) -> Any:
    """The Account Management client beside an Organizations client: AWS's own endpoint, or
    the same emulator (--endpoint-url, AWS_ENDPOINT_URL)."""
    endpoint = organizations.meta.endpoint_url
    custom = not urlparse(endpoint).hostname.endswith((".amazonaws.com", ".amazonaws.com.cn"))
    return account_client(endpoint if custom else None, organizations.meta.region_name)


ENABLED_STATUSES = ["ENABLED", "ENABLED_BY_DEFAULT"]


class AccountRegions:
    """Which regions each account has enabled, from the Account Management API.

    For a member account the management account passes `AccountId`, which needs trusted
    access for account.amazonaws.com; for itself it omits it:
    https://docs.aws.amazon.com/accounts/latest/reference/API_ListRegions.html
    """

    def __init__(
        self, client: Any, management_account_id: str, retry: Retry = DEFAULT_RETRY
    ) -> None:
        self.client = client
        self.management_account_id = management_account_id
        self.retry = retry

    def enabled(self, account_id: str) -> frozenset[str]:
        named = {} if account_id == self.management_account_id else {"AccountId": account_id}
        return frozenset(
            region["RegionName"]
            for region in pages(
                self.client,
                "list_regions",
                "Regions",
                self.retry,
                RegionOptStatusContains=ENABLED_STATUSES,
                **named,
            )
        )


def enabled_regions(regions: AccountRegions, accounts: list[str]) -> dict[str, frozenset[str]]:
    """Every account's enabled regions, read in parallel (one ListRegions per account)."""
    try:
        with ThreadPoolExecutor(WORKERS) as pool:
            return dict(zip(accounts, pool.map(regions.enabled, accounts), strict=True))
    except MalformedReply as error:
        raise DiscoveryError(
            f"the Account Management API sent a malformed reply: {error}"
        ) from None
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        message = error.response.get("Error", {}).get("Message", str(error))
        hint = (
            " Enable trusted access for AWS Account Management with `aws organizations "
            "enable-aws-service-access --service-principal account.amazonaws.com`."
            if code == "AccessDeniedException"
            else ""
        )
        raise DiscoveryError(
            f"the Account Management API refused ListRegions ({code}): {message}. Some enrolled "
            f"regions are opt-in, so discovery must learn which accounts enabled them.{hint}"
        ) from None
    except NoCredentialsError:
        raise DiscoveryError(NO_CREDENTIALS) from None
    except BotoCoreError as error:
        raise DiscoveryError(f"cannot reach the Account Management API: {error}") from None


def discover(
    client: Any,
    *,
    tag_key: str | None = None,
    regions: tuple[str, ...] = (),
    account_regions: AccountRegions | None = None,
    retry: Retry = DEFAULT_RETRY,
) -> Organization:
    """Every account of the organization, with its OU path and (if asked) its tags.

    The OU walk is cross-checked against the flat ListAccounts: an account in one and not the
    other is an error, never a plan that silently leaves it out. If an enrolled region in
    `regions` is opt-in, also every active account's enabled regions (through
    `account_regions`, by default the Account Management API at the same endpoint).
    """
    try:
        described = call(client, "describe_organization", retry).get("Organization")
        if not isinstance(described, dict) or not described.get("Id"):
            raise MalformedReply("a DescribeOrganization reply has no Organization")
        roots = list(pages(client, "list_roots", "Roots", retry))
        if not roots:
            raise DiscoveryError(f"organization {described['Id']} has no root")
        root_id = roots[0]["Id"]
        scp_enabled = any(
            p.get("Type") == "SERVICE_CONTROL_POLICY" and p.get("Status") == "ENABLED"
            for p in roots[0].get("PolicyTypes", [])
        )
        root_scps = _root_scps(client, root_id, retry) if scp_enabled else ()
        accounts, ou_names = _walk(client, root_id, retry)
        _cross_check(accounts, list(pages(client, "list_accounts", "Accounts", retry)))
        principals = tuple(
            sorted(
                service["ServicePrincipal"]
                for service in pages(
                    client,
                    "list_aws_service_access_for_organization",
                    "EnabledServicePrincipals",
                    retry,
                )
            )
        )
        tags: dict[str, dict[str, str]] = {}
        if tag_key:
            ids = [account["Id"] for account, _ in accounts]
            with ThreadPoolExecutor(WORKERS) as pool:
                tags = dict(zip(ids, pool.map(lambda a: _tags(client, a, retry), ids), strict=True))
    except MalformedReply as error:
        raise DiscoveryError(
            f"the Organizations API sent a malformed reply ({error}); nothing was planned from "
            "it. Run again; if it persists, check the endpoint."
        ) from None
    except ClientError as error:
        raise DiscoveryError(refusal("the Organizations API", error, retry)) from None
    except NoCredentialsError:
        raise DiscoveryError(NO_CREDENTIALS) from None
    except BotoCoreError as error:
        raise DiscoveryError(f"cannot reach the Organizations API: {error}") from None
    management_account_id = described.get("MasterAccountId") or described.get(
        "ManagementAccountId", ""
    )
    regions_by_account = None
    if any(conventions.is_opt_in_region(region) for region in regions):
        if account_regions is None:
            account_regions = AccountRegions(
                same_endpoint_client(client), management_account_id, retry
            )
        active = [a["Id"] for a, _ in accounts if (a.get("State") or a.get("Status")) == "ACTIVE"]
        regions_by_account = enabled_regions(account_regions, active)
    return Organization(
        id=described["Id"],
        management_account_id=management_account_id,
        root_id=root_id,
        scp_enabled=scp_enabled,
        root_scps=root_scps,
        ou_names=ou_names,
        service_access_principals=principals,
        enabled_regions=regions_by_account,
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


def refusal(api: str, error: ClientError, retry: Retry) -> str:
    """What went wrong, and advice that fits the error (credentials only when it is them)."""
    code = error_code(error)
    message = error.response.get("Error", {}).get("Message", str(error))
    text = f"{api} refused {error.operation_name} ({code}): {message}"
    if code in CREDENTIALS_CODES:
        return (
            f"{text}. Run discovery with credentials of the management account (or a "
            "delegated administrator)."
        )
    if is_retryable(error):
        return f"{text}. It was still failing after {retry.attempts} attempts; try again later."
    return f"{text}."


def _root_scps(client: Any, root_id: str, retry: Retry) -> tuple[str, ...]:
    policies = pages(
        client,
        "list_policies_for_target",
        "Policies",
        retry,
        TargetId=root_id,
        Filter="SERVICE_CONTROL_POLICY",
    )
    return tuple(sorted(policy["Name"] for policy in policies))


def _walk(
    client: Any, root_id: str, retry: Retry
) -> tuple[list[tuple[dict, tuple[str, ...]]], dict[str, str]]:
    """Every account below the root with its OU path; one level of the tree at a time, the
    parents of a level listed in parallel (bounded)."""
    accounts: list[tuple[dict, tuple[str, ...]]] = []
    ou_names: dict[str, str] = {}
    level = [(root_id, (root_id,))]

    def children(parent: str) -> tuple[list[dict], list[dict]]:
        found = list(pages(client, "list_accounts_for_parent", "Accounts", retry, ParentId=parent))
        ous = list(
            pages(
                client,
                "list_organizational_units_for_parent",
                "OrganizationalUnits",
                retry,
                ParentId=parent,
            )
        )
        return found, ous

    with ThreadPoolExecutor(WORKERS) as pool:
        while level:
            next_level = []
            for (_, path), (found, ous) in zip(
                level, pool.map(lambda item: children(item[0]), level), strict=True
            ):
                accounts += [(account, path) for account in found]
                for ou in ous:
                    ou_names[ou["Id"]] = ou.get("Name", ou["Id"])
                    next_level.append((ou["Id"], (*path, ou["Id"])))
            level = next_level
    return accounts, ou_names


def _cross_check(walked: list[tuple[dict, tuple[str, ...]]], listed: list[dict]) -> None:
    """The OU walk and ListAccounts must name the same accounts."""
    by_walk = {account["Id"] for account, _ in walked}
    by_list = {account["Id"] for account in listed}
    if by_walk != by_list:
        only_walk, only_list = sorted(by_walk - by_list), sorted(by_list - by_walk)
        raise DiscoveryError(
            "the OU walk and ListAccounts disagree: "
            + "; ".join(
                part
                for part in (
                    f"only the walk found {', '.join(only_walk)}" if only_walk else "",
                    f"only ListAccounts found {', '.join(only_list)}" if only_list else "",
                )
                if part
            )
            + ". The organization changed during discovery, or a reply was incomplete; nothing "
            "was planned. Run again."
        )


def _tags(client: Any, account_id: str, retry: Retry) -> dict[str, str]:
    return {
        tag["Key"]: tag["Value"]
        for tag in pages(client, "list_tags_for_resource", "Tags", retry, ResourceId=account_id)
    }
