"""What the plan asks of AWS's quotas and of the partition: Firehose partitions and throughput
per region's stream, and how the destination policy names the organization."""

from __future__ import annotations

from components import naming
from components.documents.delivery import (
    DESTINATION_POLICY_MAX_BYTES,
    destination_policy_bytes,
    max_destination_policy_accounts,
)
from components.settings import DEFAULT_FIREHOSE_PARTITION_QUOTA, MAX_FIREHOSE_PARTITION_QUOTA
from enroll.doctor.context import Context
from enroll.doctor.model import Result, ok
from policy import conventions

# Direct PUT throughput of one stream, by default: 5 MiB/s in these regions, 1 MiB/s elsewhere
# (raised on request): https://docs.aws.amazon.com/firehose/latest/dev/limits.html
FAST_FIREHOSE_REGIONS = frozenset({"us-east-1", "us-west-2", "eu-west-1"})
KIB = 1024
# Below this average share per sending account, a stream's default throughput is worth
# raising before enrolling: about 0.8 GiB a day of compressed CloudWatch Logs per account.
LOW_SHARE_KIB = 10


def firehose_partitions(ctx: Context) -> Result:
    """Each account sending a region's CloudWatch Logs is one active partition of that
    region's stream, plus one for control messages. 500 per stream by default, 5,000 at most;
    past the quota records land unpartitioned under activePartitionExceeded:
    https://docs.aws.amazon.com/firehose/latest/dev/dynamic-partitioning-buffering.html
    """
    quota = ctx.settings.firehose_partition_quota
    needs = {region: len(accounts) + 1 for region, accounts in ctx.members_by_region().items()}
    region, most = max(needs.items(), key=lambda item: (item[1], item[0]))
    details = tuple(f"{r}: {n} active partitions" for r, n in needs.items())
    over_max = [r for r, n in needs.items() if n > MAX_FIREHOSE_PARTITION_QUOTA]
    if over_max:
        return Result(
            "fail",
            f"{', '.join(over_max)} need more than {MAX_FIREHOSE_PARTITION_QUOTA:,} active "
            f"partitions per stream ({region}: {most:,}), the most AWS grants",
            f"enroll fewer accounts (exclude.ouIds or exclude.accountIds in {ctx.settings.path})",
            details=details,
        )
    over = [r for r, n in needs.items() if n > quota]
    if over:
        raised = "" if quota != DEFAULT_FIREHOSE_PARTITION_QUOTA else " (the default)"
        return Result(
            "warn",
            f"{', '.join(over)} need up to {most:,} active partitions ({region}); "
            f"firehosePartitionQuota is {quota:,}{raised}: records past it land unpartitioned "
            f"in FirehoseErrors/<region>/activePartitionExceeded/",
            f"ask AWS (Firehose limits form) to raise each stream's active partitions to "
            f"{most:,} or more, then set firehosePartitionQuota in {ctx.settings.path}",
            details=details,
        )
    return ok(f"at most {most:,} active partitions per stream ({region}); quota {quota:,}", details)


def firehose_throughput(ctx: Context) -> Result:
    """Every region's stream lives in the home region, so each has the home region's default
    Direct PUT throughput, shared by the accounts that send that region's logs."""
    home = ctx.settings.home_region
    mib = 5 if home in FAST_FIREHOSE_REGIONS else 1
    by_region = {r: len(a) for r, a in ctx.members_by_region().items()}
    region, accounts = max(by_region.items(), key=lambda item: (item[1], item[0]))
    share = mib * KIB / max(accounts, 1)
    numbers = (
        f"each stream has {mib} MiB/s by default (streams live in {home}); the busiest, "
        f"{region}'s, is shared by {accounts:,} accounts: about {share:,.0f} KiB/s each"
    )
    if share >= LOW_SHARE_KIB:
        return ok(numbers)
    return Result(
        "warn",
        f"{numbers}, under {LOW_SHARE_KIB} KiB/s: CloudWatch Logs retries throttled deliveries "
        "for up to 24 hours, then drops them",
        "ask AWS (Firehose limits form) to raise the throughput of stream "
        f"{naming.firehose_name(ctx.settings.name_prefix, region)} in {home} and the other "
        "busy ones",
    )


def principal_org_id(ctx: Context) -> Result:
    """The destination policy scopes subscriptions with aws:PrincipalOrgID, except in aws-cn,
    where it lists the member accounts and must fit PutDestinationPolicy's 5,120 bytes."""
    if ctx.partition is not conventions.AWS_CN:
        return ok(f"aws:PrincipalOrgID scopes the destination policies ({ctx.partition.name})")
    members = ctx.members()
    size = destination_policy_bytes(members)
    room = max_destination_policy_accounts()
    numbers = (
        f"aws-cn has no aws:PrincipalOrgID for CloudWatch Logs destinations: their policy lists "
        f"the {len(members)} member accounts, {size:,} of {DESTINATION_POLICY_MAX_BYTES:,} bytes "
        f"(room for about {room} accounts)"
    )
    if size > DESTINATION_POLICY_MAX_BYTES:
        return Result(
            "fail",
            numbers,
            f"enroll at most {room} accounts (exclude.ouIds or exclude.accountIds in "
            f"{ctx.settings.path})",
        )
    return Result(
        "warn",
        numbers + "; an account that joins later needs the log-archive stack run again",
        "run `org-logging up --roles log-archive` after accounts join",
    )
