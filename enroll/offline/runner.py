"""`preview --offline`: every stack rendered under mocks in worker processes and judged there by
the pack's own servicer (or by one pack process over the analyzer protocol, which also
cross-checks every Nth stack); and the pack config our stacks are judged with."""

from __future__ import annotations

import gc
import multiprocessing
import os
import signal
import threading
import time
from collections import Counter
from collections.abc import Mapping
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

from components.contract import config_key
from enroll.offline.analyzer.client import AnalyzerClient
from enroll.offline.analyzer.in_process import InProcessAnalyzerClient
from enroll.offline.analyzer.wire import PolicyConfig
from enroll.offline.cache import ResultCache, run_digest, stack_fingerprint
from enroll.offline.preview import preview_stack
from enroll.org.model import Action, OrgFacts, Plan, PlannedStack, StackResult
from enroll.util.malloc import cap_malloc_arenas
from enroll.util.paths import PROJECT_DIR
from enroll.util.processes import exit_with_parent


def pack_config(
    name_prefix: str, scp_targets: list[str] | tuple[str, ...] = ()
) -> dict[str, PolicyConfig]:
    """The policy-pack config our own stacks are judged with."""
    config = {
        name: PolicyConfig(properties={"namePrefix": name_prefix})
        for name in (
            "s3-bucket-naming",
            "log-replication-preserves-history",
            "central-bucket-hardened",
            "log-delivery-prefix",
        )
    }
    if scp_targets:
        config["scp-presence"] = PolicyConfig(properties={"targets": list(scp_targets)})
    return config


# --------------------------------------------------------------------------------------------
# Offline: render under mocks in worker processes, judge there (or by the pack process)
# --------------------------------------------------------------------------------------------

Judge = Literal["in-process", "grpc"]
JUDGES: tuple[Judge, ...] = ("in-process", "grpc")
CROSS_CHECK_EVERY = 50
FULL_COLLECTION_EVERY = 100  # stacks between two full garbage collections in a worker


@dataclass
class _Worker:
    judge: AnalyzerClient
    pack_process: AnalyzerClient | None  # the cross-check, when the judge is in-process
    org: OrgFacts | None
    stacks: int = 0

    def finished_one(self) -> None:
        """Collect what the stack left behind; the automatic collector is off while a stack
        renders and is judged (`_preview_in_worker`).

        After the first stack, everything imported and built once (the SDK, pulumi_aws, the
        pack) is collected and frozen: the collector stops walking those ~130k long-lived
        objects. After each later stack, one collection of the young generations frees the
        stack's cycles (futures, coroutines, contexts) in one pass, where the automatic
        collector would have walked them several times while they were still alive; every
        FULL_COLLECTION_EVERY stacks, a full one frees any cycle that outlived its stack.
        """
        self.stacks += 1
        if self.stacks == 1:
            gc.collect()
            gc.freeze()
        elif self.stacks % FULL_COLLECTION_EVERY == 0:
            gc.collect()
        else:
            gc.collect(1)


_worker: _Worker | None = None


def _start_worker(
    judge: Judge,
    port: int | None,
    pack_dir: Path,
    policy_config: Mapping[str, PolicyConfig],
    org: OrgFacts | None,
    parent: int,
) -> None:
    global _worker
    # Ctrl-C is the parent's to handle (it lets the stacks in flight finish); a killed parent
    # takes its workers with it.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    exit_with_parent(parent)
    cap_malloc_arenas()  # before the gRPC channel starts its threads
    pack_process = None
    if port is not None:
        pack_process = AnalyzerClient.attach(port)
        pack_process.start()
    if judge == "grpc":
        assert pack_process is not None
        _worker = _Worker(pack_process, None, org)
        return
    in_process = InProcessAnalyzerClient(pack_dir)
    in_process.start()
    in_process.configure(policy_config)
    _worker = _Worker(in_process, pack_process, org)


def _preview_in_worker(
    name: str, config: dict[str, Any], cross_check: bool
) -> tuple[StackResult, dict[str, float]]:
    assert _worker is not None
    also = _worker.pack_process if cross_check else None
    cpu: dict[str, float] = {}
    gc.disable()
    try:
        result = preview_stack(
            name, config, _worker.judge, org=_worker.org, cross_check=also, cpu=cpu
        )
    finally:
        gc.enable()
        started = time.process_time()
        _worker.finished_one()
        cpu["collect"] = time.process_time() - started
    return result, cpu


class OfflineRunner:
    """`preview --offline`: no cloud, no CLI; every core renders and judges.

    Rendering is CPU-bound Python, so stacks render in `workers` processes. Each judges its
    stacks with the pack's own servicer in process (`judge="in-process"`), or over gRPC with
    the one pack process (`judge="grpc"`). In process, every `cross_check_every`-th stack is
    judged by the pack process too, and a disagreement is that stack's error (0: never).
    With `state_dir`, a stack whose fingerprint matches a verdict there reuses it (cache.py).
    Use as a context manager.
    """

    def __init__(
        self,
        *,
        org: OrgFacts | None,
        policy_config: Mapping[str, PolicyConfig],
        workers: int | None = None,
        pack_dir: Path = PROJECT_DIR / "policy",
        judge: Judge = "in-process",
        cross_check_every: int = CROSS_CHECK_EVERY,
        state_dir: Path | None = None,
    ) -> None:
        if judge not in JUDGES:
            raise ValueError(f"judge must be one of {', '.join(JUDGES)}, not {judge!r}")
        if cross_check_every < 0:
            raise ValueError("cross_check_every must be 0 (never) or more")
        self.org = org
        self.policy_config = policy_config
        self.workers = max(1, workers or os.cpu_count() or 1)
        self.pack_dir = pack_dir
        self.judge = judge
        self.cross_check_every = cross_check_every if judge == "in-process" else 0
        self.cache = ResultCache(state_dir) if state_dir is not None else None
        self.cross_checked = 0
        self.worker_cpu: Counter[str] = Counter()  # CPU seconds the workers spent, by phase
        self._run_digest = ""
        self._started = 0
        self._count_lock = threading.Lock()
        self._pack: AnalyzerClient | None = None
        self._pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> OfflineRunner:
        if self.cache is not None:
            self._run_digest = run_digest(
                pack_dir=self.pack_dir, policy_config=self.policy_config, org=self.org
            )
        if self.judge == "grpc" or self.cross_check_every:
            self._pack = AnalyzerClient(self.pack_dir)
            self._pack.start()
        try:
            if self._pack is not None:
                self._pack.configure(self.policy_config)
            # spawn, not fork: forking a process that holds gRPC channels is unsafe.
            self._pool = ProcessPoolExecutor(
                self.workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_start_worker,
                initargs=(
                    self.judge,
                    self._pack.port if self._pack is not None else None,
                    self.pack_dir,
                    dict(self.policy_config),
                    self.org,
                    os.getpid(),
                ),
            )
        except BaseException:
            if self._pack is not None:
                self._pack.close()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
        if self._pack is not None:
            self._pack.close()

    @property
    def pack_pid(self) -> int | None:
        """The pack process (judging over gRPC, or cross-checking), if there is one."""
        return self._pack.pid if self._pack is not None else None

    def _take_cross_check(self) -> bool:
        with self._count_lock:
            index = self._started
            self._started += 1
            wanted = bool(self.cross_check_every) and index % self.cross_check_every == 0
            self.cross_checked += wanted
        return wanted

    def run(self, stack: PlannedStack, action: Action) -> StackResult:
        if action != "preview":
            raise ValueError(f"the offline runner only previews; {action!r} needs the Pulumi CLI")
        assert self._pool is not None, "use OfflineRunner as a context manager"
        started = time.perf_counter()
        fingerprint = ""
        if self.cache is not None:
            fingerprint = stack_fingerprint(self._run_digest, stack.name, stack.config)
            cached = self.cache.get(fingerprint)
            if cached is not None:
                cached.duration_seconds = time.perf_counter() - started
                return cached
        cross_check = self._take_cross_check()
        result, cpu = self._pool.submit(
            _preview_in_worker, stack.name, dict(stack.config), cross_check
        ).result()
        with self._count_lock:
            self.worker_cpu.update(cpu)
        if self.cache is not None:
            self.cache.put(fingerprint, result)
        result.duration_seconds = time.perf_counter() - started
        return result


def plan_pack_config(plan: Plan) -> dict[str, PolicyConfig]:
    """The pack config our stacks are judged with: the plan's prefix and SCP targets."""
    config = plan.stacks[0].config if plan.stacks else {}
    targets = next(
        (
            s.config[config_key("scpTargets")]
            for s in plan.stacks
            if config_key("scpTargets") in s.config
        ),
        (),
    )
    return pack_config(str(config.get(config_key("namePrefix"), "")), targets)
