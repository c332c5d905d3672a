"""Coverage's data: the statuses, the freshness settings, one cell per account x region x log
type, and the report the table and the JSON are made from."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from components.naming import LOG_TYPES

Status = Literal["ARRIVING", "STALE", "NONE", "NOT_EXPECTED", "UNKNOWN"]
# In table and summary order.
STATUSES: tuple[Status, ...] = ("ARRIVING", "STALE", "NONE", "NOT_EXPECTED", "UNKNOWN")
# What a status means (README, "Is it working?"; the table's legend).
MEANING: dict[Status, str] = {
    "ARRIVING": "the newest object is within the type's freshness window",
    "STALE": "objects arrived once, but the newest is older than the window",
    "NONE": "no object of this type was ever seen for the account x region",
    "NOT_EXPECTED": "the account (or region) is excluded, or the type is not in --expect",
    "UNKNOWN": "the bucket could not be read for this cell (the error is in the summary)",
}
# An expected cell in one of these fails the run (exit 1).
FAILING: frozenset[Status] = frozenset({"STALE", "NONE", "UNKNOWN"})

DEFAULT_EXPECT: tuple[str, ...] = ("cloudtrail", "cloudwatchlogs")

# How old the newest object may be before a type is STALE. A healthy but quiet account writes
# nothing for a while, so each window is the writer's delivery interval plus its longest
# normal silence (docs/automation.md, "coverage"):
# CloudTrail delivers about every 5 minutes, only when a region has events; flow logs and
# Resolver query logs every 5-10 minutes while there is traffic; ELB every 5 minutes, only
# for requests; CloudFront's legacy logs are best effort, "up to 24 hours" late; CloudWatch
# Logs goes through Firehose's 300 s buffer, and quiet accounts log little.
DEFAULT_FRESHNESS: dict[str, timedelta] = {
    "cloudtrail": timedelta(hours=6),
    "vpcflowlogs": timedelta(hours=6),
    "route53resolver": timedelta(hours=6),
    "elb": timedelta(hours=24),
    "cloudfront": timedelta(hours=48),
    "cloudwatchlogs": timedelta(hours=24),
}

# CloudFront is global: its cells carry this in place of a region.
GLOBAL_REGION = "global"

DURATION_PATTERN = re.compile(r"^(\d+)([smhd])$")
DURATION_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


class CoverageUsageError(ValueError):
    """A bad --expect or --freshness: exit 2 with the message."""


def parse_duration(text: str) -> timedelta:
    match = DURATION_PATTERN.fullmatch(text.strip())
    if not match or int(match.group(1)) == 0:
        raise CoverageUsageError(
            f"{text!r} is not a duration: a positive whole number and a unit, s m h or d "
            "(e.g. 90m, 6h, 2d)"
        )
    return timedelta(**{DURATION_UNITS[match.group(2)]: int(match.group(1))})


def format_duration(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def parse_types(text: str) -> tuple[str, ...]:
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in LOG_TYPES]
    if unknown:
        raise CoverageUsageError(
            f"unknown log type {', '.join(map(repr, unknown))}; the types are {','.join(LOG_TYPES)}"
        )
    return tuple(t for t in LOG_TYPES if t in names)


def parse_freshness(items: Iterable[str]) -> dict[str, timedelta]:
    """`--freshness TYPE=DURATION` (repeatable) over the defaults."""
    windows = dict(DEFAULT_FRESHNESS)
    for item in items:
        log_type, sep, duration = item.partition("=")
        if not sep:
            raise CoverageUsageError(f"{item!r} must look like TYPE=DURATION, e.g. elb=2d")
        name = log_type.strip()
        if name not in LOG_TYPES:
            raise CoverageUsageError(
                f"{item!r}: unknown log type {name!r}; the types are {','.join(LOG_TYPES)}"
            )
        try:
            windows[name] = parse_duration(duration)
        except CoverageUsageError as error:
            raise CoverageUsageError(f"{item!r}: {error}") from None
    return windows


@dataclass(frozen=True)
class CoverageSettings:
    expect: tuple[str, ...] = DEFAULT_EXPECT
    freshness: Mapping[str, timedelta] = field(default_factory=lambda: dict(DEFAULT_FRESHNESS))


@dataclass(frozen=True)
class Newest:
    key: str
    time: datetime  # UTC: the delivery time in the writer's file name, else LastModified

    def to_json(self) -> dict[str, str]:
        return {"key": self.key, "time": iso(self.time)}


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def status_of(newest: Newest | None, window: timedelta, now: datetime, *, expected: bool) -> Status:
    """The status of a cell that was read: within the window (inclusive) is ARRIVING."""
    if not expected:
        return "NOT_EXPECTED"
    if newest is None:
        return "NONE"
    return "ARRIVING" if now - newest.time <= window else "STALE"


@dataclass(frozen=True)
class Cell:
    account_id: str
    region: str
    log_type: str
    status: Status
    newest: Newest | None = None
    expected: bool = True
    note: str = ""  # why NOT_EXPECTED or UNKNOWN

    def to_json(self) -> dict[str, Any]:
        return {
            "accountId": self.account_id,
            "region": self.region,
            "type": self.log_type,
            "status": self.status,
            "newest": self.newest.to_json() if self.newest else None,
        }

    @property
    def failing(self) -> bool:
        return self.expected and self.status in FAILING


@dataclass(frozen=True)
class TrailStatus:
    """GetTrailStatus of the organization trail; `error` when it could not be read."""

    name: str
    is_logging: bool | None = None
    latest_delivery_error: str = ""
    latest_delivery_time: datetime | None = None
    error: str = ""

    @property
    def problem(self) -> str:
        if self.error:
            return ""
        if self.is_logging is False:
            return f"the organization trail {self.name} is not logging (StopLogging was called)"
        if self.latest_delivery_error:
            return (
                f"the organization trail {self.name} failed its latest delivery: "
                f"{self.latest_delivery_error}"
            )
        return ""

    def to_json(self) -> dict[str, Any]:
        found: dict[str, Any] = {
            "name": self.name,
            "isLogging": self.is_logging,
            "latestDeliveryError": self.latest_delivery_error or None,
            "latestDeliveryTime": iso(self.latest_delivery_time)
            if self.latest_delivery_time
            else None,
        }
        if self.error:
            found["error"] = self.error
        return found


@dataclass(frozen=True)
class Report:
    bucket: str
    checked_at: datetime
    settings: CoverageSettings
    cells: tuple[Cell, ...]
    trail: TrailStatus | None = None
    requests: int = 0
    seconds: float = 0.0
    errors: tuple[str, ...] = ()  # one line per UNKNOWN cell's cause

    def counts(self, log_type: str) -> dict[Status, int]:
        found: dict[Status, int] = dict.fromkeys(STATUSES, 0)
        for cell in self.cells:
            if cell.log_type == log_type:
                found[cell.status] += 1
        return found

    @property
    def failing(self) -> tuple[Cell, ...]:
        return tuple(cell for cell in self.cells if cell.failing)

    @property
    def trail_problem(self) -> str:
        if self.trail is None or "cloudtrail" not in self.settings.expect:
            return ""
        return self.trail.problem

    @property
    def exit_code(self) -> int:
        return 1 if self.failing or self.trail_problem else 0

    def to_json(self) -> dict[str, Any]:
        return {
            "cells": [cell.to_json() for cell in self.cells],
            "summary": {
                "bucket": self.bucket,
                "checkedAt": iso(self.checked_at),
                "expected": list(self.settings.expect),
                "freshnessSeconds": {
                    t: int(self.settings.freshness[t].total_seconds()) for t in LOG_TYPES
                },
                "types": {t: self.counts(t) for t in LOG_TYPES},
                "failing": len(self.failing),
                "ok": self.exit_code == 0,
                "trail": self.trail.to_json() if self.trail else None,
                "problems": self.problems(),
                "requests": self.requests,
                "seconds": round(self.seconds, 3),
            },
        }

    def problems(self) -> list[str]:
        found = [self.trail_problem] if self.trail_problem else []
        return found + list(self.errors)
