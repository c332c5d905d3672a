"""`preview --offline`: every stack rendered under mocks in worker processes, and judged by one
policy pack process over the analyzer protocol; and the pack config our stacks are judged
with."""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
from collections.abc import Mapping
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from types import TracebackType
from typing import Any

from components.contract import config_key
from enroll.offline.analyzer.client import AnalyzerClient
from enroll.offline.analyzer.wire import PolicyConfig
from enroll.offline.preview import preview_stack
from enroll.org.model import Action, OrgFacts, Plan, PlannedStack, StackResult
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
# Offline: render under mocks in worker processes, judge with one pack over the protocol
# --------------------------------------------------------------------------------------------

_worker_client: AnalyzerClient | None = None
_worker_org: OrgFacts | None = None


def _start_worker(port: int, org: OrgFacts | None, parent: int) -> None:
    global _worker_client, _worker_org
    # Ctrl-C is the parent's to handle (it lets the stacks in flight finish); a killed parent
    # takes its workers with it.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    exit_with_parent(parent)
    _worker_client = AnalyzerClient.attach(port)
    _worker_client.start()
    _worker_org = org


def _preview_in_worker(name: str, config: dict[str, Any]) -> StackResult:
    assert _worker_client is not None
    return preview_stack(name, config, _worker_client, org=_worker_org)


class OfflineRunner:
    """`preview --offline`: no cloud, no CLI. The pack starts once; every core renders.

    Rendering is CPU-bound Python, so stacks render in `workers` processes; each talks to the
    one pack over gRPC. Use as a context manager.
    """

    def __init__(
        self,
        *,
        org: OrgFacts | None,
        policy_config: Mapping[str, PolicyConfig],
        workers: int | None = None,
        pack_dir: Path = PROJECT_DIR / "policy",
    ) -> None:
        self.org = org
        self.policy_config = policy_config
        self.workers = max(1, workers or os.cpu_count() or 1)
        self.pack_dir = pack_dir
        self._pack: AnalyzerClient | None = None
        self._pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> OfflineRunner:
        self._pack = AnalyzerClient(self.pack_dir)
        self._pack.start()
        try:
            self._pack.configure(self.policy_config)
            # spawn, not fork: forking a process that holds gRPC channels is unsafe.
            self._pool = ProcessPoolExecutor(
                self.workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_start_worker,
                initargs=(self._pack.port, self.org, os.getpid()),
            )
        except BaseException:
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

    def run(self, stack: PlannedStack, action: Action) -> StackResult:
        if action != "preview":
            raise ValueError(f"the offline runner only previews; {action!r} needs the Pulumi CLI")
        assert self._pool is not None, "use OfflineRunner as a context manager"
        started = time.perf_counter()
        result = self._pool.submit(_preview_in_worker, stack.name, dict(stack.config)).result()
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
