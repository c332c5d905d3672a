"""Benchmark: `preview --offline` of an emulated organization, and the orchestrator's overhead.

    .venv/bin/python benchmarks/offline_preview.py                 # 1,000 accounts x 4 regions
    .venv/bin/python benchmarks/offline_preview.py --accounts 100  # a quicker look

Prints: how the organization was built and discovered; for the offline preview judged in process
and over gRPC by the pack process (interleaved, `--rounds` pairs), stacks/s and CPU ms per stack
by phase (render, judge, cross-check, the workers' garbage collection between stacks,
orchestration) with the load average before and after; the peak RSS of the whole process tree;
a cold then a warm (cached) re-preview; and the orchestrator's wall time against the ideal
schedule of a fake runner with a fixed latency.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

from enroll.demo.emulator import Emulator, fake_credentials, sample_org, sample_settings
from enroll.offline.runner import OfflineRunner, pack_config
from enroll.org.discovery import discover, organizations_client
from enroll.org.model import OrgFacts, Plan
from enroll.org.plan import build_plan
from enroll.org.settings import parse_org_settings
from enroll.run.ledger import Ledger
from enroll.run.orchestrator import RunOptions, run_plan
from enroll.util.malloc import cap_malloc_arenas

sys.path.insert(0, str(Path(__file__).resolve().parent))
import orchestrator as orchestrator_benchmark  # benchmarks/orchestrator.py

REGIONS = ("us-east-1", "eu-west-1", "ap-southeast-2", "us-west-2", "eu-central-1", "ca-central-1")


class TreeMemory:
    """Peak resident memory of this process and all its descendants, sampled from /proc."""

    def __init__(self, interval: float = 0.25) -> None:
        self.interval = interval
        self.peak_kib = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> TreeMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        while not self._stop.wait(self.interval):
            self.peak_kib = max(self.peak_kib, self._tree_rss(os.getpid()))

    @staticmethod
    def _children(pid: int) -> list[int]:
        """The children of every thread of `pid`: /proc/<pid>/task/<tid>/children lists only
        those that thread started (the render pool and the pack are started from others)."""
        children: list[int] = []
        try:
            threads = os.listdir(f"/proc/{pid}/task")
        except OSError:
            return []
        for tid in threads:
            try:
                with open(f"/proc/{pid}/task/{tid}/children") as handle:
                    children.extend(int(p) for p in handle.read().split())
            except OSError:
                continue  # the thread ended
        return children

    def _tree_rss(self, pid: int) -> int:
        total = 0
        try:
            with open(f"/proc/{pid}/status") as handle:
                for line in handle:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except OSError:
            return 0
        return total + sum(self._tree_rss(child) for child in self._children(pid))


def _cpu_seconds(pid: int | None) -> float:
    """User + system CPU of a live process, from /proc/<pid>/stat."""
    if pid is None:
        return 0.0
    with open(f"/proc/{pid}/stat") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _load() -> str:
    return "load " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def preview_pass(
    plan: Plan,
    org: OrgFacts,
    config: dict,
    workers: int,
    *,
    judge: str = "in-process",
    cache: Path | None = None,
    label: str = "",
) -> None:
    """One offline preview of the plan; prints stacks/s and CPU ms per stack by phase."""
    load_before = _load()
    with tempfile.TemporaryDirectory() as state:
        started = time.perf_counter()
        with OfflineRunner(
            org=org,
            policy_config=config,
            workers=workers,
            judge=judge,  # type: ignore[arg-type]
            state_dir=cache,
        ) as runner:
            ready = time.perf_counter() - started
            pack_cpu, own_cpu, began = (
                _cpu_seconds(runner.pack_pid),
                os.times(),
                time.perf_counter(),
            )
            outcome = run_plan(
                plan,
                runner,
                RunOptions(action="preview", concurrency=workers * 2),
                ledger=Ledger(Path(state) / "ledger.jsonl"),
            )
            elapsed = time.perf_counter() - began
            pack_cpu = _cpu_seconds(runner.pack_pid) - pack_cpu
            ended = os.times()
    stacks = len(plan.stacks)
    ms = {phase: seconds * 1000 / stacks for phase, seconds in runner.worker_cpu.items()}
    orchestration = (ended.user + ended.system - own_cpu.user - own_cpu.system) * 1000 / stacks
    judge_ms = ms.get("judge", 0.0) + (0.0 if judge == "in-process" else pack_cpu * 1000 / stacks)
    cross_ms = ms.get("cross-check", 0.0) + (pack_cpu * 1000 / stacks if judge != "grpc" else 0)
    collect = ms.get("collect", 0.0)
    total = ms.get("render", 0.0) + judge_ms + cross_ms + collect + orchestration
    summary = outcome.summary().to_json()
    counts = {k: summary[k] for k in ("passed", "failed", "error", "cached") if summary.get(k)}
    print(
        f"{label or judge + ' judge':>17}: {stacks} stacks in {elapsed:.1f} s = "
        f"{stacks / elapsed:.1f} stacks/s (ready in {ready:.1f} s); CPU ms/stack: "
        f"render {ms.get('render', 0.0):.1f}, judge {judge_ms:.1f}, cross-check {cross_ms:.1f} "
        f"({runner.cross_checked} stacks), collect {collect:.1f}, "
        f"orchestration {orchestration:.1f}, total {total:.1f}; "
        f"{counts}; {load_before} -> {_load()}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--accounts", type=int, default=1000, help="accounts in the org (default 1000)"
    )
    parser.add_argument("--regions", type=int, default=4, help="enrolled regions (default 4)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="render processes")
    parser.add_argument("--latency", type=float, default=0.05, help="fake runner latency, seconds")
    parser.add_argument("--concurrency", type=int, default=16, help="fake runner concurrency")
    parser.add_argument(
        "--rounds", type=int, default=2, help="in-process/gRPC pairs, interleaved (default 2)"
    )
    args = parser.parse_args()
    cap_malloc_arenas()  # as the command line does at its start

    with fake_credentials(), Emulator() as emulator:
        started = time.perf_counter()
        sample = sample_org(emulator, extra_accounts=max(0, args.accounts - 23))
        built = time.perf_counter() - started
        raw = sample_settings(sample, regions=REGIONS[: args.regions])
        settings = parse_org_settings(raw, "benchmark")
        started = time.perf_counter()
        org = discover(
            organizations_client(emulator.endpoint_url, region="us-east-1"),
            tag_key=settings.exclude.opt_out_tag,
            regions=settings.regions,
        )
        discovered = time.perf_counter() - started
    plan = build_plan(settings, org)
    print(
        f"organization: {len(org.accounts)} accounts "
        f"(built in {built:.1f} s, discovered in {discovered:.1f} s)"
    )
    print(
        f"plan: {len(plan.stacks)} stacks, {len(plan.excluded)} accounts excluded, "
        f"{args.regions} regions"
    )

    config = pack_config(settings.name_prefix)
    judges = [j for _ in range(args.rounds) for j in ("in-process", "grpc")]  # interleaved
    with TreeMemory() as memory:
        for judge in judges:
            preview_pass(plan, org.facts(), config, args.workers, judge=judge)
    if judges:
        print(f"  peak RSS of the process tree: {memory.peak_kib / 1024:.0f} MiB")

    with tempfile.TemporaryDirectory() as cache_dir:
        for label in ("cache cold", "cache warm"):
            preview_pass(
                plan, org.facts(), config, args.workers, cache=Path(cache_dir), label=label
            )

    # benchmarks/orchestrator.py has the configurations and the breakdown of the overhead.
    actual = orchestrator_benchmark.measure(plan, args.concurrency, args.latency)
    print(
        "orchestrator: "
        + orchestrator_benchmark.describe(plan, args.concurrency, args.latency, actual)
        + f"; {_load()}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
