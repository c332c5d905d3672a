"""Runs a Plan with a StackRunner: phase by phase, bounded concurrency, failure tolerance,
retries with jittered backoff, a ledger line per finished stack, and resume from that ledger.

No rich here: progress is a plain callable (see `report.RichProgress` for the bar).
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
import traceback
import uuid
from collections import Counter, deque
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from queue import SimpleQueue
from typing import Any, get_args

from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_random_exponential,
)

from enroll.org.model import (
    ROLE_ORDER,
    Action,
    Plan,
    PlannedStack,
    RetryableError,
    StackResult,
    StackRunner,
)
from enroll.run.ledger import Ledger, fingerprint

log = logging.getLogger(__name__)

STATUSES = ("passed", "failed", "error", "skipped")


def new_run_id() -> str:
    """Sortable and unique enough across CI shards: UTC time plus a random suffix."""
    return f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"


@dataclass
class RunOptions:
    action: Action
    concurrency: int = 4
    # failed/error stacks tolerated; one more and no new stack starts. None: no limit.
    max_failures: int | None = None
    retries: int = 5  # attempts (not re-attempts) for a RetryableError
    backoff_initial: float = 1.0
    backoff_max: float = 60.0
    resume: bool = False
    run_id: str = field(default_factory=new_run_id)
    sleep: Callable[[float], None] = time.sleep  # tenacity's wait hook; tests inject a recorder
    # Where a runner's unexpected exception leaves its traceback (one file per stack); the
    # result and the table get one line. None: the log records it.
    log_dir: Path | None = None

    def __post_init__(self) -> None:
        problems = []
        if self.action not in get_args(Action):
            problems.append(f"action {self.action!r} must be one of {', '.join(get_args(Action))}")
        if self.concurrency < 1:
            problems.append(f"concurrency {self.concurrency} must be >= 1")
        if self.max_failures is not None and self.max_failures < 0:
            problems.append(f"max_failures {self.max_failures} must be >= 0 or None")
        if self.retries < 1:
            problems.append(f"retries {self.retries} must be >= 1 (it counts attempts)")
        if self.backoff_initial < 0 or self.backoff_max < self.backoff_initial:
            problems.append(
                f"backoff {self.backoff_initial}..{self.backoff_max} must satisfy "
                "0 <= backoff_initial <= backoff_max"
            )
        if problems:
            raise ValueError("; ".join(problems))


@dataclass(frozen=True)
class Tally:
    """Running counts handed to the progress callback after each stack finishes."""

    total: int
    passed: int = 0
    failed: int = 0
    error: int = 0
    skipped: int = 0
    resumed: int = 0  # also counted in `passed`

    @property
    def done(self) -> int:
        return self.passed + self.failed + self.error + self.skipped

    def describe(self) -> str:
        text = (
            f"passed {self.passed}  failed {self.failed}  "
            f"error {self.error}  skipped {self.skipped}"
        )
        return f"{text}  (resumed {self.resumed})" if self.resumed else text


# Called on the calling thread, once per stack (run, resumed or skipped), in finishing order.
ProgressCallback = Callable[[StackResult, Tally], None]


@dataclass(frozen=True)
class RoleSummary:
    stacks: int = 0
    passed: int = 0
    failed: int = 0
    error: int = 0
    skipped: int = 0
    resumed: int = 0
    cached: int = 0  # also counted in `passed` or `failed`
    mandatory_violations: int = 0
    advisory_violations: int = 0
    resources: int = 0

    def to_json(self) -> dict[str, int]:
        return {
            "stacks": self.stacks,
            "passed": self.passed,
            "failed": self.failed,
            "error": self.error,
            "skipped": self.skipped,
            "resumed": self.resumed,
            "cached": self.cached,
            "mandatoryViolations": self.mandatory_violations,
            "advisoryViolations": self.advisory_violations,
            "resources": self.resources,
        }


@dataclass(frozen=True)
class RunSummary:
    total: RoleSummary
    by_role: dict[str, RoleSummary]  # in phase order, roles of the plan only
    retries: int  # re-attempts after RetryableError, over the stacks run this time
    failures: int  # failed + error
    duration_seconds: float
    stopped_early: bool
    stop_reason: str | None
    exit_code: int

    def to_json(self) -> dict[str, Any]:
        return {
            **self.total.to_json(),
            "retries": self.retries,
            "failures": self.failures,
            "durationSeconds": round(self.duration_seconds, 3),
            "stoppedEarly": self.stopped_early,
            "stopReason": self.stop_reason,
            "exitCode": self.exit_code,
            "byRole": {role: counts.to_json() for role, counts in self.by_role.items()},
        }


EXIT_INTERRUPTED = 130


@dataclass(frozen=True)
class RunOutcome:
    action: Action
    run_id: str
    results: list[StackResult]  # plan order
    resumed: frozenset[str] = frozenset()  # names taken from the ledger, not run again
    stopped_early: bool = False
    stop_reason: str | None = None
    duration_seconds: float = 0.0
    interrupted: bool = False  # Ctrl-C or SIGTERM: the CLI exits 130 after reporting
    notes: tuple[str, ...] = ()  # what the reader must know (a preview past a failed stack)

    @property
    def exit_code(self) -> int:
        """0 when every stack passed (resumed ones did) with no mandatory violation, 130 when the
        run was interrupted (the shell's code for SIGINT), else 1."""
        if self.interrupted:
            return EXIT_INTERRUPTED
        return 0 if all(result.ok for result in self.results) else 1

    def summary(self) -> RunSummary:
        by_role = {
            role: _role_summary([r for r in self.results if r.role == role], self.resumed)
            for role in sorted({r.role for r in self.results}, key=lambda r: ROLE_ORDER.get(r, 99))
        }
        total = _role_summary(self.results, self.resumed)
        return RunSummary(
            total=total,
            by_role=by_role,
            retries=sum(max(r.attempts - 1, 0) for r in self.results if r.name not in self.resumed),
            failures=total.failed + total.error,
            duration_seconds=self.duration_seconds,
            stopped_early=self.stopped_early,
            stop_reason=self.stop_reason,
            exit_code=self.exit_code,
        )


def _role_summary(results: Sequence[StackResult], resumed: frozenset[str]) -> RoleSummary:
    statuses = Counter(r.status for r in results)
    return RoleSummary(
        stacks=len(results),
        passed=statuses["passed"],
        failed=statuses["failed"],
        error=statuses["error"],
        skipped=statuses["skipped"],
        resumed=sum(1 for r in results if r.name in resumed),
        cached=sum(1 for r in results if r.cached),
        mandatory_violations=sum(len(r.mandatory_violations) for r in results),
        advisory_violations=sum(1 for r in results for v in r.violations if v.level == "advisory"),
        resources=sum(r.resources for r in results),
    )


def phases(plan: Plan, action: Action) -> list[list[PlannedStack]]:
    """The plan's stacks grouped by phase, in running order (reversed for destroy)."""
    grouped: dict[int, list[PlannedStack]] = {}
    for stack in plan.stacks:
        grouped.setdefault(stack.phase, []).append(stack)
    order = sorted(grouped, reverse=action == "destroy")
    return [grouped[phase] for phase in order]


def run_plan(
    plan: Plan,
    runner: StackRunner,
    options: RunOptions,
    *,
    ledger: Ledger,
    progress: ProgressCallback | None = None,
) -> RunOutcome:
    """Run every stack of `plan`; return their results in plan order.

    `runner.run` is called from up to `options.concurrency` threads at once, so it must be
    thread-safe. Each stack that ran is recorded in `ledger` as soon as it finishes (by its
    worker thread, or by another one while the worker runs the next stack in its slot), before
    anything else happens to it. A BaseException that is not an Exception
    (KeyboardInterrupt, SystemExit) from the runner or the caller's thread stops scheduling,
    lets the stacks in flight finish (and be recorded), then propagates; so does an exception
    from `progress` or from writing the ledger (a run that cannot record must not go on).
    `progress` is called on the calling thread only.
    """
    names = Counter(stack.name for stack in plan.stacks)
    duplicates = sorted(name for name, count in names.items() if count > 1)
    if duplicates:
        raise ValueError(f"the plan names these stacks more than once: {', '.join(duplicates)}")
    return _Run(plan, runner, options, ledger, progress).execute()


class _Run:
    """One run's state. The calling thread reports and decides; a worker runs, records, and
    hands its slot to the next stack of the phase when its stack did not fail (`_Slots`)."""

    def __init__(
        self,
        plan: Plan,
        runner: StackRunner,
        options: RunOptions,
        ledger: Ledger,
        progress: ProgressCallback | None,
    ) -> None:
        self.plan = plan
        self.runner = runner
        self.options = options
        self.ledger = ledger
        self.progress = progress
        self.results: dict[str, StackResult] = {}
        self.resumed: set[str] = set()
        self.tally = Tally(total=len(plan.stacks))
        self.failures = 0
        self.stop_reason: str | None = None  # set once: tolerance exceeded or a phase failed
        self.tolerance_exceeded = False
        self.interrupted = False  # Ctrl-C or SIGTERM: in-flight stacks finish, nothing starts
        # Set when the phases are over, or when something ends the run (a record that failed,
        # a BaseException from the runner, one from the calling thread): nothing more starts.
        self.halted = False
        self.notes: list[str] = []
        # Every result a worker produced, by stack name, set by the worker itself: after an
        # interruption the main thread may not hold the future of a stack that ran.
        self.completed: dict[str, StackResult] = {}
        self._completed_lock = threading.Lock()
        self._thread_prefix = f"stack-{options.run_id}"
        # The records of stacks whose worker went on to the next stack in the slot: one
        # thread per slot, so a record never waits behind a stack, only for a group commit.
        self._recorder_prefix = f"record-{options.run_id}"
        self._recorders = ThreadPoolExecutor(
            max_workers=options.concurrency, thread_name_prefix=self._recorder_prefix
        )
        # One retry policy for the run, shared by the workers: tenacity keeps each call's
        # state per thread (Retrying._local), and building one per stack cost ~30 us each.
        self._retrying = Retrying(
            stop=stop_after_attempt(options.retries),
            wait=wait_random_exponential(
                multiplier=options.backoff_initial, max=options.backoff_max
            ),
            retry=retry_if_exception_type(RetryableError),
            sleep=options.sleep,
            reraise=True,
            before_sleep=_log_retry,
        )

    def execute(self) -> RunOutcome:
        started = time.monotonic()
        done_before = self.ledger.completed(self.options.action) if self.options.resume else {}
        # Twice the slots: a worker that records the last stack of its chain holds a thread,
        # not a slot, while the calling thread may start another.
        pool = ThreadPoolExecutor(
            max_workers=2 * self.options.concurrency, thread_name_prefix=self._thread_prefix
        )
        try:
            for phase in phases(self.plan, self.options.action):
                self._run_phase(pool, phase, done_before)
        except KeyboardInterrupt:
            self._interrupt(pool)
        finally:
            self.halted = True
            pool.shutdown(wait=True)
            self._recorders.shutdown(wait=True)
        return RunOutcome(
            action=self.options.action,
            run_id=self.options.run_id,
            results=[self.results[stack.name] for stack in self.plan.stacks],
            resumed=frozenset(self.resumed),
            stopped_early=self.stop_reason is not None,
            stop_reason=self.stop_reason,
            duration_seconds=time.monotonic() - started,
            interrupted=self.interrupted,
            notes=tuple(self.notes),
        )

    def _interrupt(self, pool: ThreadPoolExecutor) -> None:
        """Ctrl-C, or SIGTERM turned into one, wherever the main thread was (even inside
        `submit`): start nothing more, let the stacks in flight finish, record them, skip the
        rest. A second Ctrl-C while they finish stops at once."""
        self.interrupted = self.halted = True
        self.stop_reason = "interrupted: the stacks in flight finished, nothing else started"
        # A queued stack sees `halted` and does not start (`_run_stack`); every record runs.
        pool.shutdown(wait=True)
        self._recorders.shutdown(wait=True)
        # The interruption may have landed inside `submit`, before the pool counted the thread
        # it was starting: shutdown does not wait for that one, so join every thread by name.
        for thread in threading.enumerate():
            if thread.name.startswith((f"{self._thread_prefix}_", f"{self._recorder_prefix}_")):
                thread.join()
        with self._completed_lock:
            completed = dict(self.completed)
        for stack in self.plan.stacks:
            if stack.name in completed and stack.name not in self.results:
                self._finish(completed[stack.name])
        self._skip(
            [stack for stack in self.plan.stacks if stack.name not in self.results],
            "skipped: the run was interrupted",
        )

    def _run_phase(
        self,
        pool: ThreadPoolExecutor,
        phase: list[PlannedStack],
        done_before: dict[str, tuple[str, dict[str, Any]]],
    ) -> None:
        if self.tolerance_exceeded:
            self._skip(phase, self._tolerance_reason())
            return
        blocker = next((r for r in self.results.values() if not r.ok), None)
        if blocker is not None and self.options.action != "preview":
            # Dict order is finishing order, so the blocker is the earliest stack that failed.
            self.stop_reason = self.stop_reason or (
                f"{blocker.name} did not pass; later phases were not run"
            )
            self._skip(phase, f"skipped: {blocker.name} did not pass")
            return
        if blocker is not None:
            # A preview deploys nothing: the later stacks are still worth judging.
            note = (
                f"{blocker.name} did not pass; the later stacks were previewed anyway, as if "
                "it had deployed as planned"
            )
            if note not in self.notes:
                self.notes.append(note)

        pending: deque[PlannedStack] = deque()
        for stack in phase:
            recorded = done_before.get(stack.name)
            if recorded is not None and recorded[0] == fingerprint(stack):
                self._resume(stack, recorded[1])
            else:
                pending.append(stack)

        # A stack holds its slot while the runner has it. Once the runner returns, its worker
        # thread runs the next stack in that slot itself, and a recorder thread records the
        # finished one (a group commit shares the fsync); the stack is reported
        # when `record` returned. No hand-over to this thread and back to the pool on the way.
        # A failed stack starts nothing until it is reported: the failure tolerance comes
        # first, and this thread refills that slot after the report.
        slots = _Slots(self.options.concurrency, pool, pending)
        while True:
            with slots.lock:
                self._start(slots)
                if not slots.unreported:
                    break
            finished = slots.finished()
            with slots.lock:
                reportable = sorted(
                    (f for f in finished if f in slots.unreported),
                    key=lambda f: slots.unreported[f],
                )
                self._start(slots)
            for future in reportable:
                if future.cancelled():  # the run halted before it started: back in `pending`
                    with slots.lock:
                        slots.reported(future)
                    continue
                # Reported (tolerance counted) before its name leaves `failing`: no worker
                # refills a slot between the two.
                self._finish(future.result())
                with slots.lock:
                    slots.reported(future)

        if pending:
            self._skip(pending, self._tolerance_reason())

    def _may_start(self, slots: _Slots) -> bool:
        """With `slots.lock` held."""
        return slots.open() and not self.tolerance_exceeded and not self.halted

    def _take(self, slots: _Slots) -> _Started:
        """With `slots.lock` held and `_may_start`: the next stack, holding a slot."""
        stack = slots.pending.popleft()
        ran: Future[StackResult] = Future()
        done: Future[StackResult] = Future()
        ran.add_done_callback(slots.events.put)
        done.add_done_callback(slots.events.put)
        slots.started(stack.name, ran, done)
        return _Started(stack, ran, done)

    def _start(self, slots: _Slots) -> None:
        """With `slots.lock` held, by the calling thread: fill the open slots, each with a
        thread of the pool."""
        while self._may_start(slots):
            started = self._take(slots)
            try:
                slots.pool.submit(self._run_stack, started, slots)
            except BaseException:
                # Not started: back to `pending`, to be skipped or started later.
                slots.running.pop(started.ran)
                slots.unreported.pop(started.done)
                slots.pending.appendleft(started.stack)
                raise

    def _hand_over(self, started: _Started, result: StackResult, slots: _Slots) -> _Started | None:
        """Worker thread, runner returned: free the slot and take the next stack for it (this
        thread runs it), or, if this stack failed, keep every slot empty until the calling
        thread reports it. Any other open slot is the calling thread's to fill: it hears of
        this stack next (`ran`)."""
        with slots.lock:
            slots.running.pop(started.ran, None)
            if result.status in ("failed", "error"):
                slots.failing.add(started.stack.name)
                return None
            return self._take(slots) if self._may_start(slots) else None

    def _run_stack(self, started: _Started | None, slots: _Slots) -> None:
        """Worker thread, for one stack and each that follows it in its slot: run it, hand the
        slot over (`_hand_over`), tell the calling thread (`ran`), and record the result, here
        if the slot is done or by another thread while this one runs the next stack; `done`
        completes when the record returned (the stack can be reported), or with what raised."""
        while started is not None:
            if self.halted:  # queued before an interruption or a failure: never started
                with slots.lock:
                    slots.running.pop(started.ran, None)
                    slots.pending.appendleft(started.stack)
                started.done.cancel()
                return
            try:
                started = self._run_in_slot(started, slots)
            except BaseException as exc:  # KeyboardInterrupt, SystemExit: the run stops
                self.halted = True
                if not started.done.done():
                    started.done.set_exception(exc)
                return

    def _run_in_slot(self, started: _Started, slots: _Slots) -> _Started | None:
        """One stack of `_run_stack`; the stack that follows it in its slot, if any."""
        result = self._run_one(started.stack)
        following: _Started | None = None
        try:
            following = self._hand_over(started, result, slots)
        finally:
            started.ran.set_result(result)
        if following is None:
            self._record(started, result)
            return None
        try:
            self._recorders.submit(self._record, started, result)
        except RuntimeError:  # the recorders shut down (Ctrl-C): record it here, now
            self._record(started, result)
        return following

    def _record(self, started: _Started, result: StackResult) -> None:
        try:
            self.ledger.record(self.options.run_id, self.options.action, started.stack, result)
        except BaseException as exc:  # a run that cannot record must not go on
            self.halted = True
            started.done.set_exception(exc)
            return
        with self._completed_lock:
            self.completed[started.stack.name] = result
        started.done.set_result(result)

    def _run_one(self, stack: PlannedStack) -> StackResult:
        """Run with retries; any Exception becomes the stack's error result."""
        tries: list[int] = []
        started = time.monotonic()
        try:
            result = self._retrying(self._attempt, stack, tries)
        except RetryableError as exc:
            result = StackResult.for_stack(
                stack,
                "error",
                error=f"{_describe(exc)} (retried {len(tries) - 1} times; gave up after "
                f"{len(tries)} attempts)",
            )
        except Exception as exc:
            result = StackResult.for_stack(
                stack, "error", error=_describe(exc) + self._keep_trace(stack, exc)
            )
        return dataclasses.replace(
            result, attempts=len(tries), duration_seconds=time.monotonic() - started
        )

    def _attempt(self, stack: PlannedStack, tries: list[int]) -> StackResult:
        """One attempt, under `self._retrying`; `tries` counts them."""
        tries.append(1)
        return self.runner.run(stack, self.options.action)

    def _keep_trace(self, stack: PlannedStack, exc: BaseException) -> str:
        """The traceback of an unexpected runner exception goes to the stack's own file (one
        line in the table and the report, not a traceback per stack on stderr)."""
        if self.options.log_dir is None:
            log.warning("stack %s: runner raised", stack.name, exc_info=exc)
            return ""
        path = self.options.log_dir / f"{stack.name}.{self.options.action}.trace.log"
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("".join(traceback.format_exception(exc)))
        except OSError:
            return ""
        return f" (trace: {path})"

    def _resume(self, stack: PlannedStack, recorded: dict[str, Any]) -> None:
        result = dataclasses.replace(StackResult.from_json(recorded), attempts=0)
        self.resumed.add(stack.name)
        self._finish(result, resumed=True)

    def _skip(self, stacks: Iterable[PlannedStack], reason: str) -> None:
        for stack in stacks:
            self._finish(StackResult.for_stack(stack, "skipped", error=reason, attempts=0))

    def _finish(self, result: StackResult, *, resumed: bool = False) -> None:
        self.results[result.name] = result
        if result.status in ("failed", "error"):
            self.failures += 1
            limit = self.options.max_failures
            if limit is not None and self.failures > limit and not self.tolerance_exceeded:
                self.tolerance_exceeded = True
                self.stop_reason = (
                    f"failure tolerance ({limit}) exceeded: {self.failures} stacks failed"
                )
        counts = Counter({result.status: 1})
        self.tally = Tally(
            total=self.tally.total,
            passed=self.tally.passed + counts["passed"],
            failed=self.tally.failed + counts["failed"],
            error=self.tally.error + counts["error"],
            skipped=self.tally.skipped + counts["skipped"],
            resumed=self.tally.resumed + int(resumed),
        )
        if self.progress is not None:
            self.progress(result, self.tally)

    def _tolerance_reason(self) -> str:
        return f"skipped: failure tolerance ({self.options.max_failures}) exceeded"


@dataclass(frozen=True)
class _Started:
    """A stack given a slot: `ran` completes when its runner returned, `done` when recorded."""

    stack: PlannedStack
    ran: Future[StackResult]
    done: Future[StackResult]


class _Slots:
    """The stacks of a phase that started: those holding a slot (their runner has not returned
    yet) and those not yet reported, with the phase's pool and pending stacks. `lock` guards
    all of it: the calling thread and the workers both start stacks. A worker frees its stack's slot
    (and marks a failed stack `failing`) before it sets the stack's `ran` future; its `done`
    future completes after the record (written by the worker or by a recorder thread). Both
    land in `events` in that order, so waiting for the next one is O(1), not one waiter per
    future."""

    def __init__(
        self, concurrency: int, pool: ThreadPoolExecutor, pending: deque[PlannedStack]
    ) -> None:
        self.concurrency = concurrency
        self.pool = pool
        self.pending = pending
        self.lock = threading.Lock()
        self.events: SimpleQueue[Future[StackResult]] = SimpleQueue()
        self.running: dict[Future[StackResult], str] = {}
        self.unreported: dict[Future[StackResult], str] = {}
        self.failing: set[str] = set()  # failed or error, not reported yet

    def open(self) -> bool:
        """A stack may take a slot: one is waiting, a slot is free, no failure is unreported."""
        return bool(self.pending) and len(self.running) < self.concurrency and not self.failing

    def started(self, name: str, ran: Future[StackResult], done: Future[StackResult]) -> None:
        self.running[ran] = name
        self.unreported[done] = name

    def finished(self) -> list[Future[StackResult]]:
        """Without the lock: wait for the next event, take every other one already there."""
        events = [self.events.get()]
        while not self.events.empty():
            events.append(self.events.get_nowait())
        return events

    def reported(self, done: Future[StackResult]) -> None:
        self.failing.discard(self.unreported.pop(done))


def _describe(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _log_retry(state: RetryCallState) -> None:
    """Before a retry's sleep; the stack is the attempt's first argument (`_Run._attempt`)."""
    stack: PlannedStack = state.args[0]
    exc = state.outcome.exception() if state.outcome else None
    wait_for = state.next_action.sleep if state.next_action else 0.0
    log.info(
        "stack %s: attempt %d failed (%s); retrying in %.1fs",
        stack.name,
        state.attempt_number,
        _describe(exc) if exc else "?",
        wait_for,
    )
