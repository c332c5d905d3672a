"""`org-logging coverage`: its arguments, and the command: the plan (discovered, or a saved
`--plan`), then the scan of the central bucket, then the table or the JSON.

Exit 0 when every expected cell is ARRIVING (and, with cloudtrail expected, the organization
trail is logging without a delivery error); 1 otherwise; 2 on usage errors.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
from botocore.config import Config
from rich.console import Console

from components.naming import LOG_TYPES
from enroll.coverage.model import (
    DEFAULT_EXPECT,
    DEFAULT_FRESHNESS,
    CoverageSettings,
    CoverageUsageError,
    Report,
    format_duration,
    parse_freshness,
    parse_types,
)
from enroll.coverage.render import ScanProgress, legend, print_report
from enroll.coverage.scan import CoverageError, Scope, scan, task_count
from enroll.org.model import Plan
from enroll.org.planfile import PlanError, load_plan
from enroll.preflight import UsageError, whole_number

DEFAULT_CONCURRENCY = 16


def _argparse_type(parse: Callable[[str], Any], name: str) -> Callable[[str], Any]:
    def checked(text: str) -> Any:
        try:
            return parse(text)
        except CoverageUsageError as error:
            raise argparse.ArgumentTypeError(str(error)) from None

    checked.__name__ = name
    return checked


def _freshness_item(text: str) -> tuple[str, timedelta]:
    windows = parse_freshness([text])
    name = text.partition("=")[0].strip()
    return name, windows[name]


def add_coverage_parser(commands: Any, org_arguments: Callable[[Any], None]) -> None:
    """The `coverage` subcommand; `org_arguments` adds --settings and --endpoint-url."""
    windows = ", ".join(f"{t}={format_duration(DEFAULT_FRESHNESS[t])}" for t in LOG_TYPES)
    coverage = commands.add_parser(
        "coverage",
        help="is every account x region x log type arriving in the central bucket?",
        description="For every planned account x region and log type "
        f"({', '.join(LOG_TYPES)}), find the newest object in the central bucket (delimiter "
        "listings down the date folders, never every object) and say ARRIVING, STALE, NONE "
        "or NOT_EXPECTED; also the organization trail's GetTrailStatus. Exit 0 when every "
        "expected cell is ARRIVING, 1 when one is not, 2 on usage errors. --endpoint-url "
        "serves Organizations, S3 and CloudTrail alike (e.g. the emulator).",
        epilog=f"Statuses: {legend()}.",
    )
    org_arguments(coverage)
    coverage.add_argument(
        "--plan",
        metavar="FILE",
        help="a plan saved with `plan --json` instead of discovering the organization (then "
        "only the central bucket's reader needs credentials)",
    )
    coverage.add_argument(
        "--expect",
        type=_argparse_type(parse_types, "log types"),
        default=DEFAULT_EXPECT,
        metavar="TYPES",
        help=f"comma-separated log types every enrolled account x region must deliver "
        f"(default: {','.join(DEFAULT_EXPECT)}); the others are shown as NOT_EXPECTED",
    )
    coverage.add_argument(
        "--freshness",
        type=_argparse_type(_freshness_item, "TYPE=DURATION"),
        action="append",
        default=[],
        metavar="TYPE=DURATION",
        help=f"how old a type's newest object may be and still be ARRIVING, e.g. elb=2d "
        f"(repeatable; units s m h d; defaults: {windows})",
    )
    coverage.add_argument(
        "--concurrency",
        type=whole_number(1, "listings at once"),
        default=DEFAULT_CONCURRENCY,
        metavar="N",
        help=f"account x log type listings at once (default {DEFAULT_CONCURRENCY})",
    )
    coverage.add_argument("--json", action="store_true", help="print every cell as JSON")


def coverage_settings(args: argparse.Namespace) -> CoverageSettings:
    return CoverageSettings(
        expect=tuple(args.expect), freshness={**DEFAULT_FRESHNESS, **dict(args.freshness)}
    )


def aws_clients(endpoint_url: str | None, region: str, concurrency: int) -> tuple[Any, Any]:
    """S3 and CloudTrail clients; botocore does not retry (each call does, enroll.org.awscalls)."""
    config = Config(
        retries={"mode": "standard", "total_max_attempts": 1},
        max_pool_connections=max(10, concurrency),
    )
    try:
        return (
            boto3.client("s3", endpoint_url=endpoint_url, region_name=region, config=config),
            boto3.client(
                "cloudtrail", endpoint_url=endpoint_url, region_name=region, config=config
            ),
        )
    except ValueError as error:  # botocore: "Invalid endpoint: ..."
        raise UsageError(f"--endpoint-url: {error}") from None


def run_coverage(
    plan: Plan,
    settings: CoverageSettings,
    *,
    endpoint_url: str | None,
    concurrency: int,
    err: Console,
    now: datetime | None = None,
) -> Report:
    try:
        scope = Scope.from_plan(plan)
    except CoverageError as error:
        raise UsageError(f"coverage: {error}") from None
    s3, cloudtrail = aws_clients(endpoint_url, scope.home_region, concurrency)
    with ScanProgress(task_count(scope), err) as progress:
        try:
            return scan(
                scope,
                settings,
                s3=s3,
                cloudtrail=cloudtrail,
                now=now or datetime.now(UTC),
                concurrency=concurrency,
                progress=progress,
            )
        except CoverageError as error:
            raise UsageError(str(error)) from None


def command_coverage(
    args: argparse.Namespace,
    out: Console,
    err: Console,
    *,
    discover_plan: Callable[[argparse.Namespace], Plan],
) -> int:
    settings = coverage_settings(args)
    if args.plan:
        try:
            plan = load_plan(args.plan)
        except PlanError as error:
            raise UsageError(str(error)) from None
    else:
        plan = discover_plan(args)
    report = run_coverage(
        plan,
        settings,
        endpoint_url=args.endpoint_url,
        concurrency=args.concurrency,
        err=err,
    )
    print_report(report, out, err, as_json=args.json)
    return report.exit_code
