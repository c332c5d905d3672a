"""The engine that runs a Plan: resume from the ledger after a kill, Ctrl-C, and a runner's
exceptions.

A thread-safe FakeRunner (tests/fake_runner.py) stands in for pulumi; latency is a
threading.Event a test (or the progress callback) releases, never a sleep.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from fake_runner import (
    WAIT,
    Behaviour,
    FakeRunner,
    Killed,
    by_name,
    make_plan,
    options,
    statuses,
)

from enroll.org.model import Plan, PlannedStack, StackResult, Violation
from enroll.run.ledger import Ledger
from enroll.run.orchestrator import Tally, run_plan


@pytest.fixture
def ledger(tmp_path: Path) -> Ledger:
    return Ledger(tmp_path / "state" / "ledger.jsonl")


# --- ledger and resume -------------------------------------------------------------------


def test_resume_after_a_kill_runs_exactly_the_stacks_not_yet_passed(ledger):
    plan = make_plan(80)
    first = FakeRunner({"source-010": Behaviour(status="failed")})

    class KillingRunner:
        """Killed on its 31st call: the 30 calls before it finish and are recorded."""

        def __init__(self) -> None:
            self.calls = 0
            self.before_the_kill: set[str] = set()
            self.lock = threading.Lock()

        def run(self, stack, action):
            with self.lock:
                self.calls += 1
                call = self.calls
                if call <= 30:
                    self.before_the_kill.add(stack.name)
            if call > 30:
                raise Killed("SIGTERM")
            return first.run(stack, action)

    killing = KillingRunner()
    with pytest.raises(Killed):
        run_plan(plan, killing, options(concurrency=4, run_id="run-1"), ledger=ledger)

    passed_before = {r["stack"] for r in ledger.records() if r["status"] == "passed"}
    assert "source-010" not in passed_before
    # Which 30 stacks were called first depends on the threads; each of them is recorded.
    assert len(killing.before_the_kill) == 30
    assert passed_before == killing.before_the_kill - {"source-010"}
    # Torn last line: the kill landed mid-write.
    with open(ledger.path, "ab") as torn:
        torn.write(b'{"runId":"run-1","action":"up","stack":"source-0')

    second = FakeRunner()
    outcome = run_plan(plan, second, options(resume=True, run_id="run-2"), ledger=ledger)

    everything = {s.name for s in plan.stacks}
    assert sorted(second.called) == sorted(everything - passed_before)
    assert "source-010" in second.called
    assert [r.name for r in outcome.results] == [s.name for s in plan.stacks]
    assert set(statuses(outcome).values()) == {"passed"}
    assert outcome.resumed == passed_before
    assert outcome.summary().total.resumed == len(passed_before)
    assert outcome.exit_code == 0
    # The second run's records follow the torn line intact.
    assert sorted(r["stack"] for r in ledger.records() if r["runId"] == "run-2") == sorted(
        everything - passed_before
    )
    # A third resume has nothing left to do.
    third = FakeRunner()
    run_plan(plan, third, options(resume=True, run_id="run-3"), ledger=ledger)
    assert third.called == []


def test_resume_reruns_a_stack_whose_config_changed(ledger):
    plan = make_plan(10)
    run_plan(plan, FakeRunner(), options(), ledger=ledger)

    changed = [
        PlannedStack(
            s.name,
            s.role,
            s.account_id,
            s.region,
            {**s.config, "org-logging:localRetentionDays": 90},
        )
        if s.name == "source-004"
        else s
        for s in plan.stacks
    ]
    runner = FakeRunner()
    outcome = run_plan(Plan(tuple(changed)), runner, options(resume=True), ledger=ledger)
    assert runner.called == ["source-004"]
    assert "source-004" not in outcome.resumed
    assert len(outcome.resumed) == 11


def test_resumed_results_are_the_recorded_ones(ledger):
    violation = Violation("rds-terse-logging", "advisory", "verbose", "urn:pulumi:db")
    plan = make_plan(2)
    run_plan(
        plan,
        FakeRunner({"source-001": Behaviour(violations=[violation])}),
        options(),
        ledger=ledger,
    )
    outcome = run_plan(plan, FakeRunner(), options(resume=True), ledger=ledger)
    resumed = by_name(outcome)["source-001"]
    assert resumed.violations == [violation]
    assert resumed.resources == 3
    assert outcome.summary().retries == 0


def test_without_resume_everything_runs_again(ledger):
    plan = make_plan(10)
    run_plan(plan, FakeRunner(), options(), ledger=ledger)
    runner = FakeRunner()
    outcome = run_plan(plan, runner, options(resume=False), ledger=ledger)
    assert len(runner.called) == 12
    assert outcome.resumed == frozenset()


def test_resume_of_up_reruns_stacks_destroyed_since(ledger):
    plan = make_plan(3)
    run_plan(plan, FakeRunner(), options("up"), ledger=ledger)
    run_plan(plan.only(["source"]), FakeRunner(), options("destroy"), ledger=ledger)
    runner = FakeRunner()
    run_plan(plan, runner, options("up", resume=True), ledger=ledger)
    assert sorted(runner.called) == ["source-000", "source-001", "source-002"]


def test_resume_only_counts_records_of_the_same_action(ledger):
    plan = make_plan(3)
    run_plan(plan, FakeRunner(), options("preview"), ledger=ledger)
    runner = FakeRunner()
    run_plan(plan, runner, options("up", resume=True), ledger=ledger)
    assert len(runner.called) == 5


def test_a_kill_lets_the_stacks_in_flight_finish_and_be_recorded(ledger):
    release = threading.Event()
    runner = FakeRunner(
        {
            "source-000": Behaviour(raises=Killed("SIGINT"), gate=None),
            "source-001": Behaviour(gate=release),
            "source-002": Behaviour(gate=release),
        }
    )

    in_flight = {"source-001": threading.Event(), "source-002": threading.Event()}

    class Releaser:
        def run(self, stack, action):
            if stack.name in in_flight:
                in_flight[stack.name].set()
            if stack.name == "source-000":
                # the others are in flight (their runner was called) when the kill surfaces
                assert all(started.wait(WAIT) for started in in_flight.values())
                release.set()
            return runner.run(stack, action)

    with pytest.raises(Killed):
        run_plan(make_plan(20), Releaser(), options(concurrency=3), ledger=ledger)
    assert {r["stack"] for r in ledger.records()} >= {"source-001", "source-002"}
    assert "source-000" not in {r["stack"] for r in ledger.records()}


# --- interruption and runner exceptions ------------------------------------------------------


def test_ctrl_c_lets_the_stacks_in_flight_finish_and_starts_nothing_more(ledger):
    """concurrency 2: source-001 is held; source-000 returns, source-002 takes its slot, then
    Ctrl-C comes while source-000 is reported: 001 and 002 finish, nothing else starts."""
    gate = threading.Event()
    third_started = threading.Event()
    runner = FakeRunner({"source-001": Behaviour(gate=gate), "source-002": Behaviour(gate=gate)})
    interrupted = []

    class Starts:
        def run(self, stack, action):
            if stack.name == "source-002":
                third_started.set()
            return runner.run(stack, action)

    def progress(result: StackResult, tally: Tally) -> None:
        # Ctrl-C reaches the main thread, which is the one calling progress.
        if result.name == "source-000" and not interrupted:
            interrupted.append(True)
            assert third_started.wait(WAIT)  # a slot is refilled before its stack is reported
            gate.set()  # source-001 and source-002 are in flight: they may finish now
            raise KeyboardInterrupt

    outcome = run_plan(
        make_plan(8), Starts(), options(concurrency=2), ledger=ledger, progress=progress
    )

    statuses = {r.name: r.status for r in outcome.results}
    assert statuses["source-000"] == statuses["source-001"] == statuses["source-002"] == "passed"
    skipped = [r for r in outcome.results if r.status == "skipped"]
    assert [r.name for r in skipped] == [f"source-{i:03d}" for i in range(3, 8)]
    assert {r.error for r in skipped} == {"skipped: the run was interrupted"}
    assert not set(runner.called) & {r.name for r in skipped}
    assert outcome.interrupted and outcome.exit_code == 130
    assert outcome.stop_reason == (
        "interrupted: the stacks in flight finished, nothing else started"
    )
    # both finished stacks are in the ledger: `up --resume` will not run them again
    recorded = {json.loads(line)["stack"] for line in ledger.path.read_text().splitlines()}
    assert {"source-000", "source-001", "source-002"} <= recorded


def test_an_interrupted_run_skips_the_later_phases(ledger):
    def progress(result: StackResult, tally: Tally) -> None:
        if result.name == "log-archive":
            raise KeyboardInterrupt

    runner = FakeRunner()
    outcome = run_plan(make_plan(3), runner, options(), ledger=ledger, progress=progress)
    assert runner.called == ["log-archive"]
    assert [r.status for r in outcome.results] == ["passed"] + ["skipped"] * 4
    assert outcome.exit_code == 130


def test_a_runner_exception_is_one_line_and_its_trace_goes_to_the_stacks_log(ledger, tmp_path):
    runner = FakeRunner({"source-001": Behaviour(raises=KeyError("boom"))})
    outcome = run_plan(make_plan(3), runner, options(log_dir=tmp_path / "logs"), ledger=ledger)
    (result,) = [r for r in outcome.results if r.name == "source-001"]
    trace = tmp_path / "logs" / "source-001.up.trace.log"
    assert result.status == "error"
    assert result.error == f"KeyError: 'boom' (trace: {trace})"
    assert "\n" not in result.error
    text = trace.read_text()
    assert text.startswith("Traceback (most recent call last):")
    assert text.rstrip().endswith("KeyError: 'boom'")
    assert ", in run\n" in text  # the runner's frame, where it raised
