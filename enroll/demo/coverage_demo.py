"""The demo's data flowing: the emulated central bucket seeded with sample logs of every type
(two deliberate gaps), the organization trail logging, then `org-logging coverage` over it."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console

from components import naming
from enroll.coverage.command import run_coverage
from enroll.coverage.model import CoverageSettings, Report
from enroll.coverage.render import print_report
from enroll.coverage.scan import Scope
from enroll.demo.archive_seed import Gaps, create_central_bucket, demo_deliveries, seed_archive
from enroll.demo.emulator import Emulator
from enroll.org.model import Plan


def seed_demo_archive(emulator: Emulator, plan: Plan, gaps: Gaps, now: datetime) -> int:
    """The central bucket with every type of every enrolled account x region but the gaps,
    and our organization trail, logging. Returns the number of objects."""
    scope = Scope.from_plan(plan)
    s3 = emulator.client("s3")
    create_central_bucket(s3, scope.bucket, scope.home_region)
    cloudtrail = emulator.client("cloudtrail")
    cloudtrail.create_trail(
        Name=scope.trail_name,
        S3BucketName=scope.bucket,
        IsMultiRegionTrail=True,
        IsOrganizationTrail=True,
        IncludeGlobalServiceEvents=True,
        EnableLogFileValidation=True,
    )
    cloudtrail.start_logging(Name=scope.trail_name)
    return seed_archive(
        s3,
        scope.bucket,
        demo_deliveries(scope.enrolled, now, gaps),
        org_id=scope.org_id,
        name_prefix=scope.name_prefix,
    )


def show_coverage(
    emulator: Emulator,
    plan: Plan,
    gaps: Gaps,
    report_file: Path,
    *,
    out: Console,
    err: Console,
) -> Report:
    """Seed, then `org-logging coverage --expect <every type>`: the gaps show as STALE and
    NONE (the demo goes on: they are deliberate)."""
    now = datetime.now(UTC)
    count = seed_demo_archive(emulator, plan, gaps, now)
    err.print(
        f"Seeded the central bucket with {count} sample log objects, laid out as their writers "
        f"lay them out; on purpose, {gaps.stale_flow_logs}'s VPC flow logs stopped "
        f"{gaps.stale_age.days} days ago and {gaps.no_cloudwatch_logs} sends no CloudWatch "
        f"Logs. `org-logging coverage --expect {','.join(naming.LOG_TYPES)}`:",
        highlight=False,
    )
    report = run_coverage(
        plan,
        CoverageSettings(expect=naming.LOG_TYPES),
        endpoint_url=emulator.endpoint_url,
        concurrency=8,
        err=err,
        now=now,
    )
    print_report(report, out, err, as_json=False)
    report_file.write_text(json.dumps(report.to_json(), indent=2) + "\n")
    return report
