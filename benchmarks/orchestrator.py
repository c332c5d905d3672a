"""Benchmark: the orchestrator's wall time against the ideal schedule, and where the rest goes.

    .venv/bin/python benchmarks/orchestrator.py                        # 4,002 stacks, 6 configs
    .venv/bin/python benchmarks/orchestrator.py --latency 0.05 --concurrency 16 --rounds 3
    .venv/bin/python benchmarks/orchestrator.py --breakdown            # and where it goes

Runs `run_plan` over a real plan (1,000 accounts x 4 regions: log-archive, management, then
every source) with a fake runner that sleeps a fixed latency and passes, and a ledger in a
temporary state dir on disk (fsync is real). The ideal schedule runs the phases one after
another and, within a phase, `concurrency` stacks at a time with no gap: ceil(n / c) x latency
per phase. Prints, per latency x concurrency, actual and ideal seconds, their ratio and the
overhead in ms per stack, with the load average (the machine may be shared).

--breakdown adds one instrumented run per configuration: a timeline of every stack (given a slot,
started, runner called, runner returned, ledger.record entered and returned, result reported
on the calling thread), averaged into the gaps that add up to one step of a slot, the ledger's
fsyncs (count, time), and a cProfile of the calling thread (the thread that schedules, collects
and reports). The instrumentation costs time too; read the breakdown as shares, not as figures
to compare with the plain runs.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import math
import os
import pstats
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from enroll.org.discovery import Account, Organization
from enroll.org.model import Action, Plan, PlannedStack, StackResult
from enroll.org.plan import build_plan
from enroll.org.settings import parse_org_settings
from enroll.run import orchestrator
from enroll.run.ledger import Ledger
from enroll.run.orchestrator import RunOptions, Tally, run_plan

REGIONS = ("us-east-1", "eu-west-1", "ap-southeast-2", "us-west-2", "eu-central-1", "ca-central-1")
TARGET_RATIO = 1.02


class FixedLatencyRunner:
    """Every stack takes `latency` seconds and passes: isolates the orchestrator's own cost."""

    def __init__(self, latency: float) -> None:
        self.latency = latency

    def run(self, stack: PlannedStack, action: Action) -> StackResult:
        time.sleep(self.latency)
        return StackResult.for_stack(stack, "passed", resources=1)


def ideal_seconds(plan: Plan, concurrency: int, latency: float) -> float:
    """Phases run one after another; within a phase, `concurrency` stacks at a time."""
    phases: dict[int, int] = {}
    for stack in plan.stacks:
        phases[stack.phase] = phases.get(stack.phase, 0) + 1
    return sum(math.ceil(count / concurrency) * latency for count in phases.values())


def synthetic_plan(accounts: int, regions: int) -> Plan:
    """The plan `build_plan` makes for an organization of `accounts` active accounts (the
    management account included) enrolled in `regions` regions; no discovery needed."""
    root, management = "r-ab12", "100000000000"
    members = [
        Account(str(200_000_000_000 + i), f"account-{i}", "ACTIVE", (root,))
        for i in range(max(accounts - 1, 1))
    ]
    org = Organization(
        id="o-abcdef1234",
        management_account_id=management,
        root_id=root,
        accounts=(Account(management, "management", "ACTIVE", (root,)), *members),
        root_scps=("FullAWSAccess",),
    )
    settings = parse_org_settings(
        {
            "namePrefix": "acme",
            "logArchiveAccountId": members[0].id,
            "homeRegion": REGIONS[0],
            "regions": list(REGIONS[:regions]),
            "adminRoleName": "OrganizationAccountAccessRole",
            "retentionDays": 365,
            "alertEmails": ["security-alerts@example.com"],
            "localRetentionDays": 30,
        },
        "benchmark",
    )
    return build_plan(settings, org)


def measure(
    plan: Plan,
    concurrency: int,
    latency: float,
    state_dir: Path | None = None,
    progress: orchestrator.ProgressCallback | None = None,
) -> float:
    """Wall seconds of one `up` of the plan with a fresh ledger."""
    with tempfile.TemporaryDirectory(dir=state_dir) as state:
        started = time.perf_counter()
        run_plan(
            plan,
            FixedLatencyRunner(latency),
            RunOptions(action="up", concurrency=concurrency),
            ledger=Ledger(Path(state) / "ledger.jsonl"),
            progress=progress,
        )
        return time.perf_counter() - started


def describe(plan: Plan, concurrency: int, latency: float, actual: float) -> str:
    ideal = ideal_seconds(plan, concurrency, latency)
    overhead = (actual - ideal) / len(plan.stacks) * 1000
    return (
        f"{actual:.2f} s against an ideal {ideal:.2f} s ({len(plan.stacks)} stacks, "
        f"{latency * 1000:.0f} ms each, concurrency {concurrency}): {actual / ideal:.3f}x, "
        f"overhead {overhead:.3f} ms per stack"
    )


def load() -> str:
    return "load " + " ".join(f"{x:.2f}" for x in os.getloadavg())


# The moments of one stack's life, in order. A step of a slot runs from the moment a stack
# takes the slot (`taken`) to the moment the stack after it takes it: after `reported` (the
# slot was freed when a failed stack was reported) or after `ran` (freed when the runner
# returned; the same worker thread then runs the next stack, or a pool thread if the calling
# thread filled the slot).
MOMENTS = ("taken", "start", "run", "ran", "record", "recorded", "reported")
STEP = {
    ("taken", "start"): "slot taken -> its worker starts the stack",
    ("start", "run"): "retry wrapper: worker -> runner.run",
    ("run", "ran"): "runner.run beyond the latency",
}
ASIDE = {
    ("ran", "record"): "runner returned -> ledger.record",
    ("record", "recorded"): "ledger.record (queue, write, fsync)",
    ("recorded", "reported"): "record returned -> reported",
}
REFILL = "runner returned -> next stack takes the slot"


@dataclass
class Timeline:
    """Per stack name, the perf_counter of each moment, and how long each fsync took."""

    moments: dict[str, dict[str, float]] = field(default_factory=dict)
    fsyncs: list[float] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def mark(self, name: str, moment: str) -> None:
        now = time.perf_counter()
        with self.lock:
            self.moments.setdefault(name, {})[moment] = now

    def gaps_ms(self, latency: float) -> tuple[dict[str, float], dict[str, float]]:
        """Mean ms per stack: the gaps that make up a step of a slot, and the rest."""
        complete = [m for m in self.moments.values() if all(k in m for k in MOMENTS)]

        def mean(begin: str, end: str) -> float:
            return sum(m[end] - m[begin] for m in complete) * 1000 / len(complete)

        step = {label: mean(*gap) for gap, label in STEP.items()}
        step["runner.run beyond the latency"] -= latency * 1000
        # Pair each runner return with the earliest submit after it not yet paired (the slots
        # are refilled first come, first served): the mean gap does not depend on the pairing.
        submits = sorted(m["taken"] for m in complete)
        refill, nxt = [], 0
        for ran in sorted(m["ran"] for m in complete):
            while nxt < len(submits) and submits[nxt] < ran:
                nxt += 1
            if nxt < len(submits):
                refill.append(submits[nxt] - ran)
                nxt += 1
        step[REFILL] = sum(refill) * 1000 / max(len(refill), 1)
        return step, {label: mean(*gap) for gap, label in ASIDE.items()}


@contextmanager
def instrumented(timeline: Timeline) -> Iterator[None]:
    """Marks each moment of each stack by wrapping the orchestrator's and the ledger's calls
    (this benchmark's process only; everything is restored on exit)."""
    real_take = orchestrator._Run._take
    real_run_one = orchestrator._Run._run_one
    real_finish = orchestrator._Run._finish
    real_record = Ledger.record
    real_fsync = os.fsync
    real_run = FixedLatencyRunner.run

    def take(run: Any, *args: Any) -> Any:
        started = real_take(run, *args)
        timeline.mark(started.stack.name, "taken")
        return started

    def run_one(run: Any, stack: PlannedStack) -> StackResult:
        timeline.mark(stack.name, "start")
        return real_run_one(run, stack)

    def runner_run(runner: Any, stack: PlannedStack, action: Action) -> StackResult:
        timeline.mark(stack.name, "run")
        try:
            return real_run(runner, stack, action)
        finally:
            timeline.mark(stack.name, "ran")

    def record(ledger: Any, run_id: str, action: Action, stack: PlannedStack, result: Any) -> None:
        timeline.mark(stack.name, "record")
        try:
            real_record(ledger, run_id, action, stack, result)
        finally:
            timeline.mark(stack.name, "recorded")

    def finish(run: Any, result: StackResult, *, resumed: bool = False) -> None:
        timeline.mark(result.name, "reported")
        real_finish(run, result, resumed=resumed)

    def fsync(fd: int) -> None:
        began = time.perf_counter()
        try:
            real_fsync(fd)
        finally:
            with timeline.lock:
                timeline.fsyncs.append(time.perf_counter() - began)

    patches = [
        (orchestrator._Run, "_take", take),
        (orchestrator._Run, "_run_one", run_one),
        (orchestrator._Run, "_finish", finish),
        (Ledger, "record", record),
        (os, "fsync", fsync),
        (FixedLatencyRunner, "run", runner_run),
    ]
    originals = [(owner, name, getattr(owner, name)) for owner, name, _ in patches]
    try:
        for owner, name, replacement in patches:
            setattr(owner, name, replacement)
        yield
    finally:
        for owner, name, original in originals:
            setattr(owner, name, original)


def breakdown(plan: Plan, concurrency: int, latency: float, state_dir: Path | None) -> None:
    """One instrumented run: the mean gaps of a slot's step, the fsyncs, the calling thread's
    profile (cProfile sees only the thread that enables it)."""
    timeline = Timeline()
    profile = cProfile.Profile()
    with instrumented(timeline):
        profile.enable()
        try:
            actual = measure(plan, concurrency, latency, state_dir)
        finally:
            profile.disable()
    print(f"  instrumented: {describe(plan, concurrency, latency, actual)}; {load()}")
    step, aside = timeline.gaps_ms(latency)
    print(f"  one step of a slot, mean ms beyond the latency: {sum(step.values()):.3f}")
    for label, ms in step.items():
        print(f"    {label:<45} {ms:8.3f}")
    print("  the rest of a stack's way (on the step if the slot waits for the report):")
    for label, ms in aside.items():
        print(f"    {label:<45} {ms:8.3f}")
    fsyncs = timeline.fsyncs
    if fsyncs:
        print(
            f"  fsync: {len(fsyncs)} calls for {len(plan.stacks)} stacks, "
            f"mean {sum(fsyncs) / len(fsyncs) * 1000:.3f} ms, total {sum(fsyncs):.2f} s"
        )
    text = io.StringIO()
    stats = pstats.Stats(profile, stream=text)
    stats.sort_stats("tottime").print_stats(12)
    print("  calling thread, cProfile by own time (waiting on futures is `acquire`):")
    lines = text.getvalue().splitlines()
    start = next((i for i, line in enumerate(lines) if "ncalls" in line), 0)
    for line in lines[start:]:
        if line.strip():
            print("    " + line)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--accounts", type=int, default=1000, help="accounts (default 1000)")
    parser.add_argument("--regions", type=int, default=4, help="enrolled regions (default 4)")
    parser.add_argument(
        "--latency",
        type=float,
        nargs="+",
        default=[0.01, 0.05],
        help="fake runner latencies, seconds (default 0.01 0.05)",
    )
    parser.add_argument(
        "--concurrency",
        type=int,
        nargs="+",
        default=[8, 16, 32],
        help="concurrencies (default 8 16 32)",
    )
    parser.add_argument("--rounds", type=int, default=1, help="runs of each configuration")
    parser.add_argument(
        "--state-dir", type=Path, default=None, help="where the ledger goes (default: $TMPDIR)"
    )
    parser.add_argument(
        "--progress", action="store_true", help="pass a progress callback (as the CLI does)"
    )
    parser.add_argument(
        "--breakdown", action="store_true", help="and one instrumented, profiled run each"
    )
    args = parser.parse_args(argv)

    plan = synthetic_plan(args.accounts, args.regions)
    phase_sizes: dict[int, int] = {}
    for stack in plan.stacks:
        phase_sizes[stack.phase] = phase_sizes.get(stack.phase, 0) + 1
    print(
        f"plan: {len(plan.stacks)} stacks in phases of {sorted(phase_sizes.values())}; "
        f"target {TARGET_RATIO:.2f}x of the ideal"
    )

    def progress(result: StackResult, tally: Tally) -> None:
        pass

    ratios: dict[tuple[float, int], list[float]] = {}
    configs = [(lat, c) for lat in args.latency for c in args.concurrency]
    for _ in range(args.rounds):  # rounds interleaved, so a burst of load hits every config
        for latency, concurrency in configs:
            before = load()
            actual = measure(
                plan, concurrency, latency, args.state_dir, progress if args.progress else None
            )
            ratios.setdefault((latency, concurrency), []).append(
                actual / ideal_seconds(plan, concurrency, latency)
            )
            print(f"orchestrator: {describe(plan, concurrency, latency, actual)}; {before}")
    if args.rounds > 1:
        for (latency, concurrency), found in ratios.items():
            print(
                f"  {latency * 1000:.0f} ms, concurrency {concurrency}: best "
                f"{min(found):.3f}x, median {sorted(found)[len(found) // 2]:.3f}x"
            )
    if args.breakdown:
        for latency, concurrency in configs:
            print(f"breakdown, {latency * 1000:.0f} ms, concurrency {concurrency}:")
            breakdown(plan, concurrency, latency, args.state_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
