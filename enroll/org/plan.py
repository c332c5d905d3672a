"""The plan: the stacks to run for a discovered organization and its settings, in order, with
every account (or account x region) left out and why, and what deserves a warning."""

from __future__ import annotations

from typing import Any

from components import naming
from components.contract import config_key
from enroll.org.discovery import Account, DiscoveryError, Organization
from enroll.org.model import Exclusion, Plan, PlannedStack
from enroll.org.settings import OrgSettings


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
    settings: OrgSettings,
    org: Organization,
    role: str,
    account_id: str,
    region: str,
    member_account_ids: list[str] | None = None,
) -> dict[str, Any]:
    """The full stack config: org-logging keys, the region, and the account the provider may
    touch (`aws:allowedAccountIds` stops a wrong-credentials deploy before it starts)."""
    values = settings.stack_values(
        role,
        org_id=org.id,
        management_account_id=org.management_account_id,
        account_id=account_id,
        member_account_ids=member_account_ids,
    )
    config = {config_key(key): value for key, value in values.items()}
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
    if archive.id == org.management_account_id:
        raise DiscoveryError(
            f"{settings.path}: logArchiveAccountId {archive.id!r} is the management account of "
            f"organization {org.id}; the logs must live in a dedicated account that the "
            "management account's administrators do not own and that the SCPs protect (SCPs "
            "do not apply to the management account)"
        )
    check_scp_targets(settings, org)
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
    check_core_regions(settings, org)
    excluded: list[Exclusion] = []
    members: set[str] = set()
    for account in org.accounts:
        reason = exclusion_reason(account, settings)
        if reason:
            excluded.append(Exclusion(account.id, reason))
            continue
        for region in settings.regions:
            if not org.region_enabled(account.id, region):
                excluded.append(
                    Exclusion(
                        account.id,
                        f"opt-in region {region} is not enabled in the account",
                        region,
                    )
                )
                continue
            members.add(account.id)
            stacks.append(
                PlannedStack(
                    naming.source_stack_name(account.id, region),
                    "source",
                    account.id,
                    region,
                    stack_config(settings, org, "source", account.id, region),
                )
            )
    stacks[0] = PlannedStack(
        "log-archive",
        "log-archive",
        archive.id,
        home,
        stack_config(settings, org, "log-archive", archive.id, home, sorted(members)),
    )
    warnings = partition_warnings(settings, stacks) + lock_warnings(settings)
    return Plan(tuple(stacks), tuple(excluded), warnings)


def check_scp_targets(settings: OrgSettings, org: Organization) -> None:
    """Every scpTargets entry is this organization's root or one of its OUs: an SCP attached
    to nothing protects nothing, and AWS would refuse the attachment mid-deploy."""
    known = {org.root_id, *org.ou_names}
    unknown = [t for t in settings.values.get("scpTargets") or () if t not in known]
    if unknown:
        raise DiscoveryError(
            f"{settings.path}: scpTargets {', '.join(repr(t) for t in unknown)} "
            f"{'is' if len(unknown) == 1 else 'are'} not in organization {org.id}; use its root "
            f"({org.root_id}) or the id of one of its OUs"
        )


def lock_warnings(settings: OrgSettings) -> tuple[str, ...]:
    """A COMPLIANCE lock past a year was acknowledged in the settings; still say what it means."""
    lock = settings.values.get("objectLock") or {}
    days = lock.get("days")
    if lock.get("mode") != "COMPLIANCE" or not isinstance(days, int) or days <= 365:
        return ()
    return (
        f"objectLock: COMPLIANCE for {days} days: no one, the root user included, can delete "
        "or shorten the retention of a log object for that long after it is written.",
    )


def check_core_regions(settings: OrgSettings, org: Organization) -> None:
    """The log-archive account holds a destination in every enrolled region, and the
    management account the trail in the home region: those regions must be enabled there."""
    needs = {
        (settings.log_archive_account_id, "logArchiveAccountId"): settings.regions,
        (org.management_account_id, "the management account"): (settings.home_region,),
    }
    for (account, what), regions in needs.items():
        missing = [r for r in regions if not org.region_enabled(account, r)]
        if missing:
            raise DiscoveryError(
                f"{settings.path}: {what} {account} has not enabled the opt-in region(s) "
                f"{', '.join(missing)}, which org-logging needs there; enable them with "
                + "; ".join(
                    f"`aws account enable-region --account-id {account} --region-name {r}`"
                    for r in missing
                )
                + ", or remove them from regions"
            )


def partition_warnings(settings: OrgSettings, stacks: list[PlannedStack]) -> tuple[str, ...]:
    """Each account sending a region's CloudWatch Logs is one active partition of that
    region's Firehose stream, plus one for control messages. Past the quota, records land in
    FirehoseErrors/<region>/activePartitionExceeded/, unpartitioned:
    https://docs.aws.amazon.com/firehose/latest/dev/dynamic-partitioning-buffering.html"""
    quota = settings.firehose_partition_quota
    warnings = []
    for region in settings.regions:
        accounts = sum(1 for s in stacks if s.role == "source" and s.region == region)
        if accounts + 1 > quota:
            warnings.append(
                f"region {region}: {accounts} accounts send CloudWatch Logs through one Firehose "
                f"stream, which needs {accounts + 1} active partitions; firehosePartitionQuota "
                f"is {quota}. Ask AWS to raise the stream's active-partition quota (at most "
                "5,000) and set firehosePartitionQuota, or records past the quota land in "
                f"FirehoseErrors/{region}/activePartitionExceeded/."
            )
    return tuple(warnings)
