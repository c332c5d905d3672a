"""The AWS calls doctor's checks make, behind one small class: the seam the tests replace
(`AwsCalls` is what a stand-in must offer) and the one place an emulator's missing API would
show. Every call retries throttling on its own (enroll.org.awscalls).

Run with the management account's credentials, as discovery is: trusted access, policy types
and CloudFormation's organizations access are the management account's to read and change.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

import boto3

from enroll.doctor.model import FixCall
from enroll.org.awscalls import DEFAULT_RETRY, NO_BOTOCORE_RETRIES, Retry, call, pages
from enroll.org.discovery import AccountRegions, enabled_regions, same_endpoint_client


@dataclass(frozen=True)
class Trail:
    name: str
    arn: str
    home_region: str
    organization: bool
    custom_selectors: bool  # False: the default, every management event is logged


@dataclass(frozen=True)
class AttachedPolicy:
    id: str
    name: str


class AwsCalls(Protocol):
    """What the checks ask of AWS; `DoctorAws` asks AWS, the tests' stand-ins answer."""

    def service_principals(self) -> frozenset[str]: ...

    def stacksets_access(self) -> str: ...

    def root_policy_types(self, root_id: str) -> dict[str, str]: ...

    def scps(self, target_id: str) -> list[AttachedPolicy]: ...

    def trails(self) -> list[Trail]: ...

    def logs_management_events(self, trail: Trail) -> bool: ...

    def assume(self, role_arn: str) -> None: ...

    def enabled_regions(
        self, account_ids: Iterable[str], management_account_id: str
    ) -> dict[str, frozenset[str]]: ...

    def perform(self, fix: FixCall) -> None: ...


SESSION_NAME = "org-logging-doctor"
SHORTEST_SESSION = 900  # seconds: AssumeRole's minimum; doctor never uses the credentials


class DoctorAws:
    """`AwsCalls` against AWS, or the emulator beside an Organizations client."""

    def __init__(
        self,
        organizations: Any,
        *,
        region: str,
        endpoint_url: str | None = None,
        retry: Retry = DEFAULT_RETRY,
    ) -> None:
        self.organizations = organizations
        self.region = region
        self.endpoint_url = endpoint_url
        self.retry = retry
        self._clients: dict[str, Any] = {"organizations": organizations}
        self._lock = threading.Lock()

    def client(self, service: str) -> Any:
        with self._lock:
            if service not in self._clients:
                self._clients[service] = (
                    same_endpoint_client(self.organizations)
                    if service == "account"
                    else boto3.client(
                        service,
                        endpoint_url=self.endpoint_url,
                        region_name=self.region,
                        config=NO_BOTOCORE_RETRIES,
                    )
                )
            return self._clients[service]

    # --- Organizations -------------------------------------------------------------------------

    def service_principals(self) -> frozenset[str]:
        return frozenset(
            service["ServicePrincipal"]
            for service in pages(
                self.organizations,
                "list_aws_service_access_for_organization",
                "EnabledServicePrincipals",
                self.retry,
            )
        )

    def root_policy_types(self, root_id: str) -> dict[str, str]:
        for root in pages(self.organizations, "list_roots", "Roots", self.retry):
            if root["Id"] == root_id:
                return {p["Type"]: p["Status"] for p in root.get("PolicyTypes", [])}
        return {}

    def scps(self, target_id: str) -> list[AttachedPolicy]:
        return [
            AttachedPolicy(policy["Id"], policy["Name"])
            for policy in pages(
                self.organizations,
                "list_policies_for_target",
                "Policies",
                self.retry,
                TargetId=target_id,
                Filter="SERVICE_CONTROL_POLICY",
            )
        ]

    # --- CloudFormation: StackSets' organizations access --------------------------------------

    def stacksets_access(self) -> str:
        """ENABLED, DISABLED or DISABLED_PERMANENTLY:
        https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_DescribeOrganizationsAccess.html
        """
        reply = call(self.client("cloudformation"), "describe_organizations_access", self.retry)
        return str(reply.get("Status", ""))

    # --- CloudTrail ------------------------------------------------------------------------------

    def trails(self) -> list[Trail]:
        """Every trail the home region sees, the other regions' multi-region trails included."""
        reply = call(
            self.client("cloudtrail"), "describe_trails", self.retry, includeShadowTrails=True
        )
        return [
            Trail(
                name=trail["Name"],
                arn=trail.get("TrailARN", trail["Name"]),
                home_region=trail.get("HomeRegion", self.region),
                organization=bool(trail.get("IsOrganizationTrail")),
                custom_selectors=bool(trail.get("HasCustomEventSelectors")),
            )
            for trail in reply.get("trailList", [])
        ]

    def logs_management_events(self, trail: Trail) -> bool:
        """Whether a trail with custom event selectors still logs management events (basic
        selectors' IncludeManagementEvents, or an advanced selector on that category)."""
        if not trail.custom_selectors:
            return True
        reply = call(
            self.client("cloudtrail"), "get_event_selectors", self.retry, TrailName=trail.arn
        )
        if any(s.get("IncludeManagementEvents", True) for s in reply.get("EventSelectors", [])):
            return True
        return any(
            field.get("Field") == "eventCategory" and "Management" in field.get("Equals", [])
            for selector in reply.get("AdvancedEventSelectors", [])
            for field in selector.get("FieldSelectors", [])
        )

    # --- STS and Account Management ------------------------------------------------------------

    def assume(self, role_arn: str) -> None:
        """AssumeRole, or the ClientError AWS refused it with."""
        call(
            self.client("sts"),
            "assume_role",
            self.retry,
            RoleArn=role_arn,
            RoleSessionName=SESSION_NAME,
            DurationSeconds=SHORTEST_SESSION,
        )

    def enabled_regions(
        self, account_ids: Iterable[str], management_account_id: str
    ) -> dict[str, frozenset[str]]:
        """Each account's enabled regions (discovery's reader; DiscoveryError if refused)."""
        reader = AccountRegions(self.client("account"), management_account_id, self.retry)
        return enabled_regions(reader, list(account_ids))

    # --- --fix ---------------------------------------------------------------------------------

    def perform(self, fix: FixCall) -> None:
        client = self.client(fix.service)
        operation = next(
            name for name, api in client.meta.method_to_api_mapping.items() if api == fix.operation
        )
        call(client, operation, self.retry, **fix.params)
