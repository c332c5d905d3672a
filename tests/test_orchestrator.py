"""The engine that runs a Plan: concurrency, isolation, tolerance, retries, phases.

A thread-safe FakeRunner (tests/fake_runner.py) stands in for pulumi; latency is a
threading.Event a test (or the progress callback) releases, never a sleep, and the backoff's
sleep is a recorder. Resume and interruption are in test_orchestrator_resume.py; progress,
summary, options and shards in test_orchestrator_options.py.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from pathlib import Path

import pytest
import tenacity
from fake_runner import (
    WAIT,
    Behaviour,
    FakeRunner,
    SleepRecorder,
    by_name,
    make_plan,
    options,
    statuses,
)

from enroll.org.model import StackResult, Violation
from enroll.run.ledger import Ledger
from enroll.run.orchestrator import Tally, phases, run_plan


@pytest.fixture
def ledger(tmp_path: Path) -> Ledger:
    return Ledger(tmp_path / "state" / "ledger.jsonl")


# --- concurrency -------------------------------------------------------------------------


@pytest.mark.parametrize("concurrency", [1, 3, 8, 32])
def test_concurrency_bound_is_reached_and_never_exceeded(ledger, concurrency):
    runner = FakeRunner(hold_until=concurrency)
    outcome = run_plan(make_plan(120), runner, options(concurrency=concurrency), ledger=ledger)

    assert runner.max_in_flight == concurrency
    assert set(statuses(outcome).values()) == {"passed"}
    assert sorted(runner.called) == sorted(s.name for s in make_plan(120).stacks)


def test_a_worker_refills_its_slot_while_the_calling_thread_is_busy_reporting(ledger):
    """concurrency 2: while source-000 is being reported (the calling thread is held in the
    progress callback), source-001 finishes: its worker starts source-003 in its slot without
    waiting for the calling thread (source-002 took source-000's slot)."""
    fourth_started = threading.Event()
    release_first = threading.Event()
    runner = FakeRunner({"source-001": Behaviour(gate=release_first)})

    class Starts:
        def run(self, stack, action):
            if stack.name == "source-003":
                fourth_started.set()
            return runner.run(stack, action)

    held = []

    def progress(result: StackResult, tally: Tally) -> None:
        if result.name == "source-000":
            release_first.set()  # source-001 finishes while this thread is here
            held.append(fourth_started.wait(WAIT))

    outcome = run_plan(
        make_plan(6), Starts(), options(concurrency=2), ledger=ledger, progress=progress
    )
    assert held == [True]
    assert set(statuses(outcome).values()) == {"passed"}
    assert runner.max_in_flight <= 2


def test_a_failed_stack_keeps_its_slot_empty_until_it_is_reported(ledger):
    """concurrency 2: source-000 fails; source-001 finishes while source-000 is reported (the
    progress callback holds the calling thread): source-001's worker starts nothing, because
    a failure not yet reported may exceed the tolerance."""
    release = threading.Event()
    runner = FakeRunner(
        {"source-000": Behaviour(status="failed"), "source-001": Behaviour(gate=release)}
    )
    started_while_reporting = []

    def progress(result: StackResult, tally: Tally) -> None:
        if result.name == "source-000":
            release.set()
            for _ in range(200):  # source-001 finishes and is recorded meanwhile
                if "source-001" in {r["stack"] for r in ledger.records()}:
                    break
                threading.Event().wait(0.01)
            started_while_reporting.extend(set(runner.called) - {"log-archive", "management"})

    outcome = run_plan(
        make_plan(6),
        runner,
        options(concurrency=2, max_failures=0),
        ledger=ledger,
        progress=progress,
    )
    assert sorted(started_while_reporting) == ["source-000", "source-001"]
    assert statuses(outcome)["source-002"] == "skipped"


def test_the_stack_after_a_passed_one_runs_on_the_same_worker_thread(ledger):
    """concurrency 1: each source takes the slot of the one before it on the same thread (no
    hand-over through the calling thread and the pool's queue); the records are written by
    other threads meanwhile."""
    threads: dict[str, int] = {}
    recorders: dict[str, int] = {}
    runner = FakeRunner()

    class Threads:
        def run(self, stack, action):
            threads[stack.name] = threading.get_ident()
            return runner.run(stack, action)

    class Recorders(Ledger):
        def record(self, run_id, action, stack, result):
            recorders[stack.name] = threading.get_ident()
            super().record(run_id, action, stack, result)

    recording = Recorders(ledger.path)
    run_plan(make_plan(6), Threads(), options(concurrency=1), ledger=recording)
    sources = [f"source-{i:03d}" for i in range(6)]
    assert len({threads[name] for name in sources}) == 1
    assert all(recorders[name] != threads[name] for name in sources[:-1])
    assert recorders["source-005"] == threads["source-005"]  # the last: nothing follows
    assert sorted(r["stack"] for r in recording.records()) == sorted(threads)


def test_every_stack_is_recorded_before_it_is_reported(ledger):
    unrecorded: list[str] = []

    def progress(result: StackResult, tally: Tally) -> None:
        if result.name not in {r["stack"] for r in ledger.records()}:
            unrecorded.append(result.name)

    outcome = run_plan(
        make_plan(40), FakeRunner(), options(concurrency=4), ledger=ledger, progress=progress
    )
    assert len(outcome.results) == 42
    assert unrecorded == []


def test_a_ledger_that_cannot_record_stops_the_run_and_starts_nothing_more(ledger):
    """The record of source-002 fails, written by a recorder thread while its worker runs
    source-003 in the slot: the run raises it, source-003 (in flight) finishes and is
    recorded, and no other stack starts."""
    record_failed = threading.Event()

    class DiskFull(Ledger):
        def record(self, run_id, action, stack, result):
            if stack.name == "source-002":
                record_failed.set()
                raise OSError(28, "No space left on device")
            super().record(run_id, action, stack, result)

    runner = FakeRunner({"source-003": Behaviour(gate=record_failed)})
    failing = DiskFull(ledger.path)
    with pytest.raises(OSError, match="No space left on device"):
        run_plan(make_plan(40), runner, options(concurrency=1), ledger=failing)
    sources = [f"source-{i:03d}" for i in range(4)]
    assert runner.called == ["log-archive", "management", *sources]
    recorded = {r["stack"] for r in failing.records()}
    assert recorded == {"log-archive", "management", "source-000", "source-001", "source-003"}


def test_results_come_back_in_plan_order_whatever_the_finishing_order(ledger):
    plan = make_plan(60)
    outcome = run_plan(plan, FakeRunner(hold_until=8), options(concurrency=8), ledger=ledger)
    assert [r.name for r in outcome.results] == [s.name for s in plan.stacks]


def test_every_stack_that_ran_is_in_the_ledger(ledger):
    plan = make_plan(50)
    run_plan(plan, FakeRunner(), options(concurrency=6), ledger=ledger)
    recorded = [record["stack"] for record in ledger.records()]
    assert sorted(recorded) == sorted(s.name for s in plan.stacks)
    assert {record["runId"] for record in ledger.records()} == {"run-1"}


# --- failure isolation and tolerance -----------------------------------------------------


def test_a_failure_stays_isolated_and_an_exception_becomes_an_error(ledger):
    runner = FakeRunner(
        {
            "source-007": Behaviour(status="failed"),
            "source-013": Behaviour(status="error"),
            "source-021": Behaviour(raises=ValueError("program crashed: no such key")),
        }
    )
    outcome = run_plan(make_plan(80), runner, options(concurrency=5), ledger=ledger)

    results = by_name(outcome)
    assert results["source-007"].status == "failed"
    assert results["source-013"].status == "error"
    assert results["source-021"].status == "error"
    assert results["source-021"].error == "ValueError: program crashed: no such key"
    broken = {"source-007", "source-013", "source-021"}
    assert all(r.status == "passed" for r in outcome.results if r.name not in broken)
    assert len(runner.called) == 82
    assert not outcome.stopped_early
    summary = outcome.summary()
    assert (summary.failures, summary.total.failed, summary.total.error) == (3, 1, 2)
    assert outcome.exit_code == 1


def test_max_failures_stops_new_stacks_and_lets_in_flight_ones_finish(ledger):
    """concurrency 4, tolerance 1: source-000 fails, one more starts (source-004), source-001
    fails -> tolerance exceeded while 002, 003 and 004 are in flight; they finish, no other
    stack starts, and the rest are skipped with the reason."""
    first_processed = threading.Event()
    release = threading.Event()
    runner = FakeRunner(
        {
            "source-000": Behaviour(status="failed"),
            "source-001": Behaviour(status="failed", gate=first_processed),
            "source-002": Behaviour(gate=release),
            "source-003": Behaviour(gate=release),
            "source-004": Behaviour(gate=release),
        }
    )

    def progress(result: StackResult, tally: Tally) -> None:
        if result.name == "source-000":
            first_processed.set()
        if result.name == "source-001":
            release.set()

    outcome = run_plan(
        make_plan(100),
        runner,
        options(concurrency=4, max_failures=1),
        ledger=ledger,
        progress=progress,
    )

    sources = [f"source-{i:03d}" for i in range(5)]
    assert sorted(runner.called) == sorted(["log-archive", "management", *sources])
    results = by_name(outcome)
    assert [results[name].status for name in sources] == ["failed"] * 2 + ["passed"] * 3
    skipped = [r for r in outcome.results if r.status == "skipped"]
    assert len(skipped) == 95
    assert {r.error for r in skipped} == {"skipped: failure tolerance (1) exceeded"}
    assert outcome.stopped_early
    assert outcome.stop_reason == "failure tolerance (1) exceeded: 2 stacks failed"
    assert {record["stack"] for record in ledger.records()} == {
        "log-archive",
        "management",
        *sources,
    }
    assert outcome.exit_code == 1


def test_max_failures_zero_stops_at_the_first_failure(ledger):
    runner = FakeRunner({"log-archive": Behaviour(status="error")})
    outcome = run_plan(make_plan(10), runner, options(max_failures=0), ledger=ledger)
    assert runner.called == ["log-archive"]
    assert {r.error for r in outcome.results[1:]} == {"skipped: failure tolerance (0) exceeded"}


def test_no_max_failures_runs_everything_whatever_fails(ledger):
    failing = {f"source-{i:03d}": Behaviour(status="failed") for i in range(0, 60, 2)}
    runner = FakeRunner(failing)
    outcome = run_plan(make_plan(60), runner, options(max_failures=None), ledger=ledger)
    assert len(runner.called) == 62
    assert Counter(statuses(outcome).values()) == {"failed": 30, "passed": 32}
    assert not outcome.stopped_early


def test_failures_within_the_tolerance_do_not_stop_the_run(ledger):
    runner = FakeRunner({f"source-00{i}": Behaviour(status="failed") for i in range(3)})
    outcome = run_plan(make_plan(40), runner, options(max_failures=3), ledger=ledger)
    assert len(runner.called) == 42
    assert not outcome.stopped_early


# --- retries -----------------------------------------------------------------------------


def test_a_retryable_error_is_retried_with_jittered_growing_waits(ledger):
    sleep = SleepRecorder()
    runner = FakeRunner({"source-005": Behaviour(retryable=2)})
    outcome = run_plan(
        make_plan(20),
        runner,
        options(sleep=sleep, backoff_initial=1, backoff_max=60),
        ledger=ledger,
    )

    result = by_name(outcome)["source-005"]
    assert (result.status, result.attempts, result.error) == ("passed", 3, None)
    assert runner.attempts["source-005"] == 3
    assert len(sleep.waits) == 2
    for wait, bound in zip(sleep.waits, [1, 2], strict=True):
        assert 0 <= wait <= bound
    assert outcome.summary().retries == 2
    assert all(r.attempts == 1 for r in outcome.results if r.name != "source-005")


def test_each_retry_is_logged_with_its_own_stack_and_attempt(ledger, caplog):
    """One retry policy serves every worker thread: each log line still names its stack."""
    caplog.set_level(logging.INFO, logger="enroll.run.orchestrator")
    retrying = {f"source-{i:03d}": Behaviour(retryable=2) for i in range(0, 12, 3)}
    run_plan(make_plan(12), FakeRunner(retrying), options(sleep=SleepRecorder()), ledger=ledger)
    logged = sorted(
        r.getMessage().split(" failed")[0]
        for r in caplog.records
        if "retrying in" in r.getMessage()
    )
    assert logged == sorted(f"stack {name}: attempt {n}" for name in retrying for n in (1, 2))


def test_backoff_waits_are_random_below_an_exponential_bound(ledger):
    sleep = SleepRecorder()
    runner = FakeRunner({f"source-{i:03d}": Behaviour(retryable=3) for i in range(30)})
    run_plan(
        make_plan(30),
        runner,
        options(sleep=sleep, backoff_initial=0.5, backoff_max=60),
        ledger=ledger,
    )
    assert len(sleep.waits) == 90
    assert all(0 <= wait <= 2.0 for wait in sleep.waits)
    assert len(set(sleep.waits)) > 80  # jittered: no two retries wait in lockstep


def test_the_backoff_bound_doubles_up_to_backoff_max(ledger, monkeypatch):
    # Pin the jitter to the top of its window to read the bounds themselves.
    monkeypatch.setattr(tenacity.wait.random, "uniform", lambda low, high: high)
    sleep = SleepRecorder()
    runner = FakeRunner({"log-archive": Behaviour(retryable=100)})
    outcome = run_plan(
        make_plan(0),
        runner,
        options(sleep=sleep, retries=6, backoff_initial=1, backoff_max=5),
        ledger=ledger,
    )
    assert sleep.waits == [1, 2, 4, 5, 5]
    assert runner.called == ["log-archive"] * 6
    assert by_name(outcome)["management"].status == "skipped"


def test_a_stack_that_keeps_raising_retryable_ends_as_error_after_retries_attempts(ledger):
    sleep = SleepRecorder()
    runner = FakeRunner({"source-001": Behaviour(retryable=1000)})
    outcome = run_plan(make_plan(5), runner, options(sleep=sleep, retries=5), ledger=ledger)

    result = by_name(outcome)["source-001"]
    assert result.status == "error"
    assert result.attempts == 5
    assert result.error == (
        "RetryableError: Throttling: rate exceeded (attempt 5) "
        "(retried 4 times; gave up after 5 attempts)"
    )
    assert runner.attempts["source-001"] == 5
    assert len(sleep.waits) == 4
    assert [record["status"] for record in ledger.records() if record["stack"] == "source-001"] == [
        "error"
    ]


def test_a_non_retryable_exception_is_not_retried(ledger):
    runner = FakeRunner({"source-002": Behaviour(raises=RuntimeError("boom"))})
    outcome = run_plan(make_plan(5), runner, options(), ledger=ledger)
    assert runner.attempts["source-002"] == 1
    assert by_name(outcome)["source-002"].error == "RuntimeError: boom"


# --- phases ------------------------------------------------------------------------------


def test_sources_never_start_before_log_archive_and_management_finished(ledger):
    runner = FakeRunner()
    run_plan(make_plan(50), runner, options(concurrency=16), ledger=ledger)

    position = {event: index for index, event in enumerate(runner.events)}
    archive_end = position[("end", "log-archive")]
    management_start = position[("start", "management")]
    management_end = position[("end", "management")]
    first_source_start = min(
        index
        for (kind, name), index in position.items()
        if kind == "start" and name != "log-archive" and name != "management"
    )
    assert archive_end < management_start < management_end < first_source_start


def test_a_failed_log_archive_skips_everything_after_it(ledger):
    runner = FakeRunner({"log-archive": Behaviour(status="failed")})
    outcome = run_plan(make_plan(30), runner, options(), ledger=ledger)

    assert runner.called == ["log-archive"]
    later = outcome.results[1:]
    assert len(later) == 31
    assert {(r.status, r.error) for r in later} == {
        ("skipped", "skipped: log-archive did not pass")
    }
    assert outcome.stopped_early
    assert outcome.stop_reason == "log-archive did not pass; later phases were not run"
    assert outcome.exit_code == 1


def test_a_mandatory_violation_blocks_later_phases_even_if_the_runner_said_passed(ledger):
    violation = Violation("s3-bucket-naming", "mandatory", "bad name", "urn:pulumi:x")
    runner = FakeRunner({"management": Behaviour(violations=[violation])})
    outcome = run_plan(make_plan(3), runner, options("up"), ledger=ledger)
    assert runner.called == ["log-archive", "management"]
    assert {r.error for r in outcome.results if r.role == "source"} == {
        "skipped: management did not pass"
    }
    assert outcome.notes == ()


def test_a_preview_judges_the_sources_past_a_failed_core_stack_and_says_so(ledger):
    violation = Violation("s3-bucket-naming", "mandatory", "bad name", "urn:pulumi:x")
    runner = FakeRunner({"log-archive": Behaviour(violations=[violation])})
    outcome = run_plan(make_plan(3), runner, options("preview"), ledger=ledger)
    assert sorted(runner.called) == [
        "log-archive",
        "management",
        "source-000",
        "source-001",
        "source-002",
    ]
    assert [r.status for r in outcome.results if r.role == "source"] == ["passed"] * 3
    assert outcome.notes == (
        "log-archive did not pass; the later stacks were previewed anyway, as if it had "
        "deployed as planned",
    )
    assert not outcome.stopped_early
    assert outcome.exit_code == 1  # the core stack's violation still fails the run


def test_a_failed_source_does_not_stop_other_sources(ledger):
    runner = FakeRunner({"source-000": Behaviour(status="failed")})
    outcome = run_plan(make_plan(30), runner, options(), ledger=ledger)
    assert Counter(statuses(outcome).values()) == {"passed": 31, "failed": 1}


def test_destroy_runs_sources_first_then_management_then_log_archive(ledger):
    runner = FakeRunner()
    run_plan(make_plan(40), runner, options("destroy", concurrency=8), ledger=ledger)

    assert runner.called[-2:] == ["management", "log-archive"]
    assert all(name.startswith("source-") for name in runner.called[:40])
    position = {event: index for index, event in enumerate(runner.events)}
    last_source_end = max(
        index
        for (kind, name), index in position.items()
        if kind == "end" and name.startswith("source-")
    )
    assert last_source_end < position[("start", "management")]
    assert {action for _, action in runner.calls} == {"destroy"}


def test_a_failed_source_destroy_keeps_management_and_log_archive(ledger):
    runner = FakeRunner({"source-003": Behaviour(status="failed")})
    outcome = run_plan(make_plan(10), runner, options("destroy"), ledger=ledger)
    assert "management" not in runner.called and "log-archive" not in runner.called
    results = by_name(outcome)
    assert results["log-archive"].error == "skipped: source-003 did not pass"
    assert results["management"].error == "skipped: source-003 did not pass"
    assert sum(r.status == "passed" for r in outcome.results) == 9


def test_phases_group_and_order_by_action():
    plan = make_plan(2)
    assert [next(s.role for s in phase) for phase in phases(plan, "up")] == [
        "log-archive",
        "management",
        "source",
    ]
    assert [next(s.role for s in phase) for phase in phases(plan, "destroy")] == [
        "source",
        "management",
        "log-archive",
    ]


def test_a_stack_queued_when_the_run_halts_never_starts_and_goes_back_to_pending(ledger):
    """A worker that raised a BaseException (or a record that failed) halts the run; a stack
    whose thread had not started yet is not run: its slot is freed, it goes back to the
    phase's pending stacks, and its `done` is cancelled (the calling thread skips it)."""
    from collections import deque
    from concurrent.futures import ThreadPoolExecutor

    from enroll.run import orchestrator

    plan = make_plan(3)
    runner = FakeRunner()
    run = orchestrator._Run(plan, runner, options(), ledger, None)
    pending = deque(plan.stacks[2:])
    with ThreadPoolExecutor(1) as pool:
        slots = orchestrator._Slots(2, pool, pending)
        with slots.lock:
            started = run._take(slots)
        assert list(slots.running.values()) == [started.stack.name]
        run.halted = True
        run._run_stack(started, slots)
    assert runner.called == []
    assert started.done.cancelled() and not started.ran.done()
    assert slots.running == {}
    assert [s.name for s in pending] == [s.name for s in plan.stacks[2:]]
