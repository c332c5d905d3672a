"""What the checks see: the settings, the discovered organization, the AWS calls, and what
follows from them (the enrolled accounts, their enabled regions), read once per context."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from enroll.doctor.aws import AwsCalls
from enroll.org.discovery import Account, DiscoveryError, Organization
from enroll.org.plan import exclusion_reason
from enroll.org.settings import OrgSettings
from policy import conventions

DEFAULT_SAMPLE = 10  # accounts whose adminRoleName is assumed without --all-accounts
WORKERS = 8  # parallel AssumeRole calls


@dataclass
class Context:
    settings: OrgSettings
    org: Organization
    aws: AwsCalls
    all_accounts: bool = False
    sample_size: int = DEFAULT_SAMPLE
    workers: int = WORKERS
    # Reads that --fix cannot change (enabled regions, AssumeRole results), kept for the
    # re-run after it; what --fix changes is read again by every run.
    cache: dict[str, Any] = field(default_factory=dict)

    @property
    def partition(self) -> conventions.Partition:
        return conventions.partition_of(self.settings.home_region)

    @property
    def management(self) -> str:
        return self.org.management_account_id

    @property
    def log_archive(self) -> str:
        return self.settings.log_archive_account_id

    def account(self, account_id: str) -> Account | None:
        return next((a for a in self.org.accounts if a.id == account_id), None)

    def label(self, account_id: str) -> str:
        """`111111111111 (name)`, as people know the account."""
        account = self.account(account_id)
        return f"{account_id} ({account.name})" if account and account.name else account_id

    def enrolled(self) -> list[str]:
        """ACTIVE accounts no exclusion leaves out, sorted."""
        return sorted(a.id for a in self.org.accounts if exclusion_reason(a, self.settings) is None)

    def opt_in_regions(self) -> list[str]:
        return [r for r in self.settings.regions if conventions.is_opt_in_region(r)]

    def enabled_regions(self) -> dict[str, frozenset[str]] | None:
        """Each enrolled account's (and the core accounts') enabled regions; None when no
        enrolled region is opt-in. Raises DiscoveryError when AWS refuses to say."""
        if not self.opt_in_regions():
            return None
        if self.org.enabled_regions is not None:
            return self.org.enabled_regions
        if "regions" not in self.cache:
            accounts = sorted({*self.enrolled(), self.log_archive, self.management})
            known = {a.id for a in self.org.accounts if a.state == "ACTIVE"}
            try:
                self.cache["regions"] = self.aws.enabled_regions(
                    [a for a in accounts if a in known], self.management
                )
            except DiscoveryError as error:
                self.cache["regions"] = error  # asked once: the answer will not change
        if isinstance(self.cache["regions"], DiscoveryError):
            raise self.cache["regions"]
        return self.cache["regions"]

    def region_enabled(self, account_id: str, region: str) -> bool:
        """When AWS would not say (the regions check reports why), every region counts as
        enabled: the counts built on it are then upper bounds."""
        if not conventions.is_opt_in_region(region):
            return True
        try:
            regions = self.enabled_regions()
        except DiscoveryError:
            return True
        return regions is None or region in regions.get(account_id, frozenset())

    def members_by_region(self) -> dict[str, list[str]]:
        """The accounts with a source stack in each enrolled region (the plan's arithmetic)."""
        enrolled = self.enrolled()
        return {
            region: [a for a in enrolled if self.region_enabled(a, region)]
            for region in self.settings.regions
        }

    def members(self) -> list[str]:
        """The accounts with at least one source stack."""
        return sorted({a for accounts in self.members_by_region().values() for a in accounts})
