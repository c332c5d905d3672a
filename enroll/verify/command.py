"""`org-logging verify`: its flags, and the command that reads the settings and the
organization, sends the canaries, waits for them, and prints the table or the JSON."""

from __future__ import annotations

import argparse
import threading
from collections.abc import Callable
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from components.cwl_delivery import FIREHOSE_BUFFER_SECONDS
from enroll.org.discovery import discover, organizations_client
from enroll.org.plan import build_plan
from enroll.org.settings import load_org_settings
from enroll.preflight import UsageError, check_report_path, whole_number
from enroll.util.files import atomic_write
from enroll.util.progress import LinesOrBar
from enroll.verify.aws import CanaryAws, CanaryCalls
from enroll.verify.model import PATHS, Probe, StackCanary, VerifyReport
from enroll.verify.run import (
    DEFAULT_CONCURRENCY,
    DEFAULT_POLL_SECONDS,
    DEFAULT_TIMEOUT_SECONDS,
    WALL_CLOCK,
    Clock,
    Pipeline,
    Verifier,
    select_stacks,
)

EXIT_OK, EXIT_FAILED = 0, 1
PATH_TITLES = {"replication": "replica (S3)", "cloudwatchlogs": "event (CloudWatch Logs)"}


def seconds(minimum: float) -> Callable[[str], float]:
    """A number of seconds of at least `minimum` (fractions allowed)."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
        if not value >= minimum or value == float("inf"):
            raise argparse.ArgumentTypeError(f"{text!r} must be at least {minimum:g} seconds")
        return value

    parse.__name__ = "seconds"
    return parse


def add_verify_parser(
    commands: Any, org_arguments: Callable[[argparse.ArgumentParser], None]
) -> None:
    verify = commands.add_parser(
        "verify",
        help="send a canary through the real pipeline and wait for it in the central bucket",
        description="From chosen source stacks (default: one account per enrolled region), "
        "write a canary object into the local log bucket and a canary event into "
        "/aws/org-logging/canary, as adminRoleName, and wait until the replica and the "
        "Firehose record reach the central bucket. Prints each path's latency and pass/fail "
        f"per stack. Firehose buffers up to {FIREHOSE_BUFFER_SECONDS} s before it writes, so "
        "a passing run takes minutes. Nothing is deleted: the canaries expire with the logs. "
        "Exit 0 when every canary arrived, 1 when one timed out or could not be sent, "
        "2 on usage, settings or discovery errors.",
    )
    org_arguments(verify)
    verify.add_argument(
        "--all",
        action="store_true",
        dest="all_stacks",
        help="every source stack of the plan (default: one account per enrolled region)",
    )
    verify.add_argument(
        "--shard",
        metavar="I/N",
        help="only shard I of N (1-based) of the chosen stacks, as in up",
    )
    verify.add_argument(
        "--timeout",
        type=seconds(1),
        default=DEFAULT_TIMEOUT_SECONDS,
        metavar="SECONDS",
        help=f"give up waiting after this long (default {DEFAULT_TIMEOUT_SECONDS}: Firehose "
        f"alone buffers up to {FIREHOSE_BUFFER_SECONDS} s)",
    )
    verify.add_argument(
        "--poll-interval",
        type=seconds(0.1),
        default=DEFAULT_POLL_SECONDS,
        metavar="SECONDS",
        help=f"look in the central bucket this often (default {DEFAULT_POLL_SECONDS:g}); "
        "latencies are measured to this resolution",
    )
    verify.add_argument(
        "--concurrency",
        type=whole_number(1, "stacks at once"),
        default=DEFAULT_CONCURRENCY,
        metavar="N",
        help=f"stacks sent to and looked for at once (default {DEFAULT_CONCURRENCY})",
    )
    verify.add_argument("--json", action="store_true", help="print the report as JSON")
    verify.add_argument("--report", metavar="FILE", help="write the JSON report here")


def command_verify(
    args: argparse.Namespace,
    out: Console,
    err: Console,
    *,
    shard: tuple[int, int] | None,
    clock: Clock = WALL_CLOCK,
    calls: CanaryCalls | None = None,
) -> int:
    report_path = check_report_path(args.report)
    settings = load_org_settings(args.settings)
    client = organizations_client(args.endpoint_url, region=settings.home_region)
    org = discover(client, tag_key=settings.exclude.opt_out_tag, regions=settings.regions)
    plan = build_plan(settings, org)
    if not any(stack.role == "source" for stack in plan.stacks):
        raise UsageError("the plan has no source stack to send a canary from")
    stacks = select_stacks(
        plan,
        all_stacks=args.all_stacks,
        shard=shard,
        avoid=(settings.log_archive_account_id, org.management_account_id),
    )
    if not stacks:
        err.print(f"shard {args.shard} has no stack to verify", highlight=False)
        return EXIT_OK
    pipeline = Pipeline(
        name_prefix=settings.name_prefix,
        log_archive_account=settings.log_archive_account_id,
        home_region=settings.home_region,
    )
    calls = calls or CanaryAws(
        admin_role_name=settings.values["adminRoleName"], endpoint_url=args.endpoint_url
    )
    err.print(
        f"verify: {len(stacks)} canar{'y' if len(stacks) == 1 else 'ies'}, waiting up to "
        f"{args.timeout:g} s (Firehose buffers up to {FIREHOSE_BUFFER_SECONDS} s)",
        highlight=False,
    )
    with VerifyProgress(2 * len(stacks), err) as progress:
        verifier = Verifier(
            calls, pipeline, clock=clock, concurrency=args.concurrency, on_change=progress
        )
        report = verifier.run(stacks, timeout=args.timeout, poll=args.poll_interval)
    if report_path:
        atomic_write(report_path, report.dumps() + "\n")
    if args.json:
        print(report.dumps())
    else:
        out.print(verify_table(report))
        for canary in report.canaries:
            for probe in canary.probes.values():
                if probe.error:
                    err.print(
                        f"[bold red]{canary.stack.name} {probe.path}:[/]", escape(probe.error)
                    )
    if report_path:
        err.print(f"report: {report_path}", highlight=False)
    return EXIT_OK if report.ok else EXIT_FAILED


class VerifyProgress(LinesOrBar):
    """Each path's arrival, timeout or error as a line, under a bar of the paths settled; without
    a terminal, a heartbeat while Firehose buffers and nothing arrives."""

    def __init__(self, total: int, console: Console, heartbeat: float = 30.0) -> None:
        super().__init__(total, console, heartbeat=heartbeat, transient=True)
        self.settled = 0
        self._count = threading.Lock()

    def first_line(self) -> str:
        return f"verify: waiting for {self.total} paths"

    def heartbeat_line(self) -> str:
        return f"verify: ... {self.settled}/{self.total} paths settled, {self.elapsed():.0f} s"

    def description(self) -> str:
        return "verify: paths settled"

    def __call__(self, canary: StackCanary, probe: Probe) -> None:
        with self._count:
            self.settled += 1
            settled = self.settled
        self.advance_to(settled)
        self.say(progress_line(canary, probe))


def describe(probe: Probe) -> str:
    if probe.status == "arrived":
        return f"arrived in {probe.latency:g} s"
    return probe.status


def progress_line(canary: StackCanary, probe: Probe) -> str:
    return f"  {canary.stack.name} {PATH_TITLES[probe.path]}: {describe(probe)}"  # plain text


def verify_table(report: VerifyReport) -> Table:
    passed = sum(canary.passed for canary in report.canaries)
    table = Table(
        title=f"verify {report.run_id}: {passed}/{len(report.canaries)} stacks passed "
        f"(into {report.central_bucket}, timeout {report.timeout_seconds:g} s)"
    )
    for column in ("stack", "account", "region", *PATH_TITLES.values(), "result"):
        table.add_column(column)
    for canary in report.canaries:
        cells = []
        for path in PATHS:
            probe = canary.probes[path]
            colour = "green" if probe.status == "arrived" else "red"
            cells.append(f"[{colour}]{escape(describe(probe))}[/]")
        table.add_row(
            canary.stack.name,
            canary.stack.account_id,
            canary.stack.region,
            *cells,
            "[green]passed[/]" if canary.passed else "[bold red]failed[/]",
        )
    return table
