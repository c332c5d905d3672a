"""The coverage scan: one task per enrolled account x log type (bounded concurrency), each
walking that type's layout (components.naming.log_layout) for the account's planned regions,
then the organization trail's status."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from components import naming
from components.contract import config_key
from enroll.coverage.listing import Archive
from enroll.coverage.model import (
    GLOBAL_REGION,
    Cell,
    CoverageSettings,
    Newest,
    Report,
    TrailStatus,
    status_of,
)
from enroll.org.awscalls import DEFAULT_RETRY, MalformedReply, Retry, call, error_code
from enroll.org.model import Plan
from policy.conventions import REGIONS, central_bucket_name

VPC_ID = re.compile(r"^vpc-[0-9a-f]{8,17}$")
DISTRIBUTION_ID = re.compile(r"^[A-Z0-9]{1,32}$")


class CoverageError(Exception):
    """Coverage cannot start (no log-archive stack in the plan, no such bucket): exit 2."""


@dataclass(frozen=True)
class Scope:
    """What coverage reads, all from the plan: the central bucket, the org trail, and which
    account x region cells are enrolled or excluded."""

    bucket: str
    name_prefix: str
    org_id: str
    home_region: str
    management_account_id: str
    trail_name: str
    enrolled: dict[str, tuple[str, ...]]  # account -> planned regions
    excluded: dict[str, dict[str, str]] = field(default_factory=dict)  # account -> region -> why
    regions: tuple[str, ...] = ()

    @classmethod
    def from_plan(cls, plan: Plan) -> Scope:
        archive = next((s for s in plan.stacks if s.role == "log-archive"), None)
        if archive is None:
            raise CoverageError(
                "the plan has no log-archive stack (--roles or a saved plan left it out); "
                "coverage reads the central bucket's name from it"
            )
        config = archive.config

        def value(key: str) -> Any:
            if config_key(key) not in config:
                raise CoverageError(f"the plan's log-archive stack has no {config_key(key)}")
            return config[config_key(key)]

        prefix, home = value("namePrefix"), value("homeRegion")
        regions = tuple(value("regions"))
        enrolled: dict[str, list[str]] = {}
        for stack in plan.stacks:
            if stack.role == "source":
                enrolled.setdefault(stack.account_id, []).append(stack.region)
        excluded: dict[str, dict[str, str]] = {}
        for exclusion in plan.excluded:
            for region in (exclusion.region,) if exclusion.region else regions:
                excluded.setdefault(exclusion.account_id, {})[region] = exclusion.reason
        return cls(
            bucket=central_bucket_name(prefix, value("logArchiveAccountId"), home),
            name_prefix=prefix,
            org_id=value("orgId"),
            home_region=home,
            management_account_id=value("managementAccountId"),
            trail_name=naming.trail_name(prefix),
            enrolled={a: tuple(sorted(r)) for a, r in enrolled.items()},
            excluded=excluded,
            regions=regions,
        )

    @property
    def trail_arn(self) -> str:
        return naming.cloudtrail_trail_arn(
            self.home_region, self.management_account_id, self.trail_name
        )


Progress = Callable[[int], None]  # called with the number of tasks just finished


def scan(
    scope: Scope,
    settings: CoverageSettings,
    *,
    s3: Any,
    cloudtrail: Any | None,
    now: datetime,
    concurrency: int = 16,
    retry: Retry = DEFAULT_RETRY,
    progress: Progress | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> Report:
    """Every cell of the scope. The bucket must be readable (else CoverageError); a task that
    fails after its retries leaves its cells UNKNOWN and says why."""
    started = clock()
    archive = Archive(s3, scope.bucket, now=now, retry=retry)
    check_bucket(archive)
    cells: list[Cell] = list(excluded_cells(scope))
    errors: list[str] = []
    tasks = [(account, t) for account in sorted(scope.enrolled) for t in naming.LOG_TYPES]
    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="coverage") as pool:
        futures = {
            pool.submit(account_cells, archive, scope, settings, account, t, now): (account, t)
            for account, t in tasks
        }
        for future in as_completed(futures):
            account, log_type = futures[future]
            try:
                cells.extend(future.result())
            except (ClientError, BotoCoreError, MalformedReply) as error:
                reason = describe(error)
                errors.append(f"{account} {log_type}: {reason}")
                cells.extend(unknown_cells(scope, settings, account, log_type, reason))
            if progress:
                progress(1)
    trail = trail_status(cloudtrail, scope, retry) if cloudtrail is not None else None
    return Report(
        bucket=scope.bucket,
        checked_at=now,
        settings=settings,
        cells=tuple(sorted(cells, key=cell_order)),
        trail=trail,
        requests=archive.requests + (1 if trail is not None else 0),
        seconds=clock() - started,
        errors=tuple(sorted(errors)),
    )


def task_count(scope: Scope) -> int:
    return len(scope.enrolled) * len(naming.LOG_TYPES)


def cell_order(cell: Cell) -> tuple[str, str, int]:
    return cell.account_id, cell.region, naming.LOG_TYPES.index(cell.log_type)


def check_bucket(archive: Archive) -> None:
    try:
        call(archive.client, "head_bucket", archive.retry, Bucket=archive.bucket)
    except ClientError as error:
        code = error_code(error)
        if code in ("404", "NoSuchBucket", "NotFound"):
            raise CoverageError(
                f"the central bucket {archive.bucket} does not exist there (is the log-archive "
                "stack up? is --endpoint-url right?)"
            ) from None
        raise CoverageError(
            f"cannot read the central bucket {archive.bucket}: {describe(error)}; run coverage "
            "with a role that may list it (the log-archive account's reader role or "
            "adminRoleName)"
        ) from None
    except BotoCoreError as error:
        raise CoverageError(f"cannot reach S3 for {archive.bucket}: {error}") from None


def describe(error: Exception) -> str:
    if isinstance(error, ClientError):
        message = error.response.get("Error", {}).get("Message", "")
        said = f": {message}" if message else ""
        return f"{error.operation_name} refused ({error_code(error)}){said}"
    return str(error)


def regions_of(scope: Scope, log_type: str, account: str) -> tuple[str, ...]:
    """The cells' regions of one account and type: CloudFront is global."""
    if log_type == "cloudfront":
        return (GLOBAL_REGION,)
    return scope.enrolled.get(account, ())


def excluded_cells(scope: Scope) -> Iterable[Cell]:
    """NOT_EXPECTED cells of excluded accounts (and opt-in regions an account has not enabled);
    nothing is read for them."""
    for account, regions in scope.excluded.items():
        whole = account not in scope.enrolled
        for log_type in naming.LOG_TYPES:
            if log_type == "cloudfront":
                if whole:
                    reason = next(iter(regions.values()))
                    yield Cell(
                        account, GLOBAL_REGION, log_type, "NOT_EXPECTED", None, False, reason
                    )
                continue
            for region, reason in sorted(regions.items()):
                yield Cell(account, region, log_type, "NOT_EXPECTED", None, False, reason)


def unknown_cells(
    scope: Scope, settings: CoverageSettings, account: str, log_type: str, reason: str
) -> list[Cell]:
    expected = log_type in settings.expect
    status = "UNKNOWN" if expected else "NOT_EXPECTED"
    return [
        Cell(account, region, log_type, status, None, expected, reason)
        for region in regions_of(scope, log_type, account)
    ]


def account_cells(
    archive: Archive,
    scope: Scope,
    settings: CoverageSettings,
    account: str,
    log_type: str,
    now: datetime,
) -> list[Cell]:
    """The cells of one account and type: the newest object per planned region (or, for
    CloudFront, the account's), and its status."""
    layout = naming.log_layout(log_type, account, scope.org_id)
    regions = regions_of(scope, log_type, account)
    if layout.partition == "region":
        newest = newest_by_region(archive, layout, regions)
    elif layout.partition == "vpc":
        newest = newest_by_vpc_region(archive, layout, regions)
    else:
        newest = {GLOBAL_REGION: newest_distribution(archive, layout)}
    expected = log_type in settings.expect
    window = settings.freshness[log_type]
    note = "" if expected else "not in --expect"
    return [
        Cell(
            account,
            region,
            log_type,
            status_of(newest.get(region), window, now, expected=expected),
            newest.get(region),
            expected,
            note,
        )
        for region in regions
    ]


def newest_by_region(
    archive: Archive, layout: naming.LogLayout, regions: tuple[str, ...]
) -> dict[str, Newest | None]:
    present = archive.partitions(layout, lambda name: name in REGIONS)
    return {
        region: archive.newest(layout.partition_prefix(region), layout.date_separator)
        for region in regions
        if region in present
    }


def newest_by_vpc_region(
    archive: Archive, layout: naming.LogLayout, regions: tuple[str, ...]
) -> dict[str, Newest | None]:
    """Resolver query logs are foldered by VPC; the region is read from the first record of
    each VPC's newest object (one ranged GET per VPC)."""
    found: dict[str, Newest] = {}
    for vpc in archive.partitions(layout, lambda name: bool(VPC_ID.fullmatch(name))):
        newest = archive.newest(layout.partition_prefix(vpc), layout.date_separator)
        if newest is None:
            continue
        record = archive.first_record(newest.key) or {}
        region = record.get("region")
        if region in regions and (region not in found or newest.time > found[region].time):
            found[region] = newest
    return dict(found)


def newest_distribution(archive: Archive, layout: naming.LogLayout) -> Newest | None:
    newest = [
        archive.newest(layout.partition_prefix(distribution), layout.date_separator)
        for distribution in archive.partitions(
            layout, lambda name: bool(DISTRIBUTION_ID.fullmatch(name))
        )
    ]
    return max((n for n in newest if n), key=lambda n: (n.time, n.key), default=None)


def trail_status(cloudtrail: Any, scope: Scope, retry: Retry) -> TrailStatus:
    """GetTrailStatus of the organization trail (by ARN: member accounts see it as a shadow)."""
    try:
        reply = call(cloudtrail, "get_trail_status", retry, Name=scope.trail_arn)
    except (ClientError, BotoCoreError) as error:
        return TrailStatus(scope.trail_name, error=describe(error))
    delivered = reply.get("LatestDeliveryTime")
    return TrailStatus(
        scope.trail_name,
        is_logging=reply.get("IsLogging"),
        latest_delivery_error=str(reply.get("LatestDeliveryError") or ""),
        latest_delivery_time=delivered if isinstance(delivered, datetime) else None,
    )
