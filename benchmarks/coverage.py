"""Benchmark: `org-logging coverage` over a seeded archive of 1,000 accounts x 4 regions.

    .venv/bin/python benchmarks/coverage.py                    # 1,000 accounts x 4 regions
    .venv/bin/python benchmarks/coverage.py --accounts 100 --all-types

Seeds the emulated central bucket (moto on 127.0.0.1) with the demo's sample logs, laid out as
their writers lay them out: by default the two types every account produces (cloudtrail,
cloudwatchlogs) in every account x region, with `--all-types` all six. Then runs the scan as
`org-logging coverage` does and prints the requests it sent, the time, and the request count
the model in docs/automation.md ("coverage: cost") predicts for the same archive. Every seeded
cell must come out ARRIVING, every other one NONE.

The time is the emulator's, not S3's: moto answers each listing by scanning every key of the
bucket, so it grows with the archive; S3 answers a listing in tens of milliseconds however
large the bucket is.
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime

from components import naming
from enroll.coverage.command import aws_clients
from enroll.coverage.model import CoverageSettings
from enroll.coverage.scan import Scope, scan
from enroll.demo.archive_seed import create_central_bucket, demo_deliveries, seed_archive
from enroll.demo.emulator import Emulator, fake_credentials

REGIONS = ("us-east-1", "eu-west-1", "eu-central-1", "ap-southeast-2")
EXPECTED = ("cloudtrail", "cloudwatchlogs")
LIST_PRICE_PER_1000 = 0.005  # S3 Standard LIST requests, USD, us-east-1


def predicted_requests(accounts: int, regions: int, present: tuple[str, ...]) -> int:
    """HeadBucket and GetTrailStatus, then per account and type one listing of the type's root,
    and per present partition three date levels and one page of the newest day (Resolver query
    logs add one ranged GET per VPC; CloudFront has one partition per distribution)."""
    per_account = 0
    for log_type in naming.LOG_TYPES:
        per_account += 1
        if log_type not in present:
            continue
        partitions = 1 if log_type == "cloudfront" else regions
        per_account += partitions * (4 + (1 if log_type == "route53resolver" else 0))
    return 2 + accounts * per_account


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=1000, help="enrolled accounts")
    parser.add_argument("--all-types", action="store_true", help="seed all six log types")
    parser.add_argument("--concurrency", type=int, default=16, help="listings at once")
    args = parser.parse_args(argv)
    accounts = [f"{100000000000 + i:012d}" for i in range(args.accounts)]
    enrolled = {account: REGIONS for account in accounts}
    scope = Scope(
        bucket="acme-org-logs-222222222222-us-east-1",
        name_prefix="acme",
        org_id="o-abcdefghij",
        home_region="us-east-1",
        management_account_id="123456789012",
        trail_name=naming.trail_name("acme"),
        enrolled=enrolled,
        regions=REGIONS,
    )
    present = naming.LOG_TYPES if args.all_types else EXPECTED
    now = datetime.now(UTC)
    deliveries = [d for d in demo_deliveries(enrolled, now, history=1) if d.log_type in present]
    with fake_credentials(), Emulator() as emulator:
        s3 = emulator.client("s3")
        create_central_bucket(s3, scope.bucket, scope.home_region)
        cloudtrail = emulator.client("cloudtrail")
        cloudtrail.create_trail(
            Name=scope.trail_name, S3BucketName=scope.bucket, IsOrganizationTrail=True
        )
        cloudtrail.start_logging(Name=scope.trail_name)
        started = time.perf_counter()
        seeded = seed_archive(s3, scope.bucket, deliveries, org_id=scope.org_id, name_prefix="acme")
        print(
            f"archive: {args.accounts} accounts x {len(REGIONS)} regions, types "
            f"{','.join(present)}: {seeded} objects seeded in "
            f"{time.perf_counter() - started:.1f} s"
        )
        reader, trail_reader = aws_clients(
            emulator.endpoint_url, scope.home_region, args.concurrency
        )
        report = scan(
            scope,
            CoverageSettings(expect=present),
            s3=reader,
            cloudtrail=trail_reader,
            now=now,
            concurrency=args.concurrency,
        )
    wrong = [c for c in report.cells if c.status != ("ARRIVING" if c.expected else "NOT_EXPECTED")]
    predicted = predicted_requests(args.accounts, len(REGIONS), present)
    print(
        f"coverage: {len(report.cells)} cells, {report.requests} requests "
        f"(model: {predicted}), {report.seconds:.1f} s, "
        f"{report.requests / max(report.seconds, 1e-9):.0f} requests/s, "
        f"concurrency {args.concurrency}"
    )
    print(
        f"S3 LIST cost of one run: ${report.requests * LIST_PRICE_PER_1000 / 1000:.2f}; "
        f"trail: IsLogging {report.trail.is_logging if report.trail else None}"
    )
    print(f"cells not as seeded: {len(wrong)}")
    return 1 if wrong or report.requests != predicted else 0


if __name__ == "__main__":
    raise SystemExit(main())
