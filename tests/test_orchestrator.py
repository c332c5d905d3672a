"""The engine that runs a Plan: concurrency, isolation, tolerance, retries, phases, resume.

A thread-safe FakeRunner stands in for pulumi; latency is a threading.Event a test (or the
progress callback) releases, never a sleep, and the backoff's sleep is a recorder.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import tenacity
from hypothesis import given, settings
from hypothesis import strategies as st

from enroll.org.model import (
    Action,
    Plan,
    PlannedStack,
    RetryableError,
    StackResult,
    Status,
    Violation,
)
from enroll.run.ledger import Ledger
from enroll.run.orchestrator import RunOptions, RunOutcome, Tally, phases, run_plan

WAIT = 10  # seconds an Event may take before a test calls it a deadlock


class Killed(BaseException):
    """Stands in for the process being killed (SIGTERM, Ctrl-C) in the middle of a run."""


@dataclass
class Behaviour:
    status: Status = "passed"
    retryable: int = 0  # raise RetryableError on this many first attempts
    raises: BaseException | None = None
    gate: threading.Event | None = None  # answer only once it is set
    violations: list[Violation] = field(default_factory=list)


class FakeRunner:
    """Thread-safe; logs every attempt and start/end event in order; tracks max in flight."""

    def __init__(
        self, behaviours: dict[str, Behaviour] | None = None, *, hold_until: int | None = None
    ) -> None:
        self.behaviours = behaviours or {}
        # every source waits until this many sources are in flight at once
        self.hold_until = hold_until
        self._full = threading.Event()
        self._lock = threading.Lock()
        self.calls: list[tuple[str, Action]] = []
        self.events: list[tuple[str, str]] = []
        self.attempts: Counter[str] = Counter()
        self.in_flight = 0
        self.max_in_flight = 0

    @property
    def called(self) -> list[str]:
        return [name for name, _ in self.calls]

    def run(self, stack: PlannedStack, action: Action) -> StackResult:
        behaviour = self.behaviours.get(stack.name, Behaviour())
        with self._lock:
            self.calls.append((stack.name, action))
            self.events.append(("start", stack.name))
            self.attempts[stack.name] += 1
            attempt = self.attempts[stack.name]
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            held = self.hold_until is not None and stack.role == "source"
            if held and self.in_flight >= self.hold_until:
                self._full.set()
        try:
            if held:
                assert self._full.wait(WAIT), "concurrency never reached hold_until"
            if behaviour.gate is not None:
                assert behaviour.gate.wait(WAIT), f"{stack.name} was never released"
            if attempt <= behaviour.retryable:
                raise RetryableError(f"Throttling: rate exceeded (attempt {attempt})")
            if behaviour.raises is not None:
                raise behaviour.raises
            return StackResult.for_stack(
                stack,
                behaviour.status,
                resources=3,
                violations=list(behaviour.violations),
                error=None if behaviour.status == "passed" else f"{stack.name} broke",
            )
        finally:
            with self._lock:
                self.in_flight -= 1
                self.events.append(("end", stack.name))


class SleepRecorder:
    def __init__(self) -> None:
        self.waits: list[float] = []
        self._lock = threading.Lock()

    def __call__(self, seconds: float) -> None:
        with self._lock:
            self.waits.append(seconds)


def planned(name: str, role: str, account: str = "333333333333", region: str = "eu-west-1"):
    config = {
        "org-logging:role": role,
        "org-logging:namePrefix": "acme",
        "aws:region": region,
    }
    if role == "source":
        config["org-logging:accountId"] = account
    return PlannedStack(name, role, account, region, config)  # type: ignore[arg-type]


def make_plan(sources: int = 100) -> Plan:
    stacks = [
        planned("log-archive", "log-archive", "222222222222", "us-east-1"),
        planned("management", "management", "111111111111", "us-east-1"),
    ]
    stacks += [planned(f"source-{i:03d}", "source", f"{i:012d}") for i in range(sources)]
    return Plan(tuple(stacks))


def options(action: Action = "up", **overrides) -> RunOptions:
    values = {"concurrency": 4, "run_id": "run-1", "sleep": SleepRecorder()}
    values.update(overrides)
    return RunOptions(action, **values)


@pytest.fixture
def ledger(tmp_path: Path) -> Ledger:
    return Ledger(tmp_path / "state" / "ledger.jsonl")


def statuses(outcome: RunOutcome) -> dict[str, str]:
    return {r.name: r.status for r in outcome.results}


def by_name(outcome: RunOutcome) -> dict[str, StackResult]:
    return {r.name: r for r in outcome.results}


# --- concurrency -------------------------------------------------------------------------


@pytest.mark.parametrize("concurrency", [1, 3, 8, 32])
def test_concurrency_bound_is_reached_and_never_exceeded(ledger, concurrency):
    runner = FakeRunner(hold_until=concurrency)
    outcome = run_plan(make_plan(120), runner, options(concurrency=concurrency), ledger=ledger)

    assert runner.max_in_flight == concurrency
    assert set(statuses(outcome).values()) == {"passed"}
    assert sorted(runner.called) == sorted(s.name for s in make_plan(120).stacks)


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
    outcome = run_plan(make_plan(3), runner, options("preview"), ledger=ledger)
    assert runner.called == ["log-archive", "management"]
    assert {r.error for r in outcome.results if r.role == "source"} == {
        "skipped: management did not pass"
    }


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


# --- ledger and resume -------------------------------------------------------------------


def test_resume_after_a_kill_runs_exactly_the_stacks_not_yet_passed(ledger):
    plan = make_plan(80)
    first = FakeRunner({"source-010": Behaviour(status="failed")})

    class KillingRunner:
        """Killed on its 31st call: the 30 calls before it finish and are recorded."""

        def __init__(self) -> None:
            self.calls = 0
            self.lock = threading.Lock()

        def run(self, stack, action):
            with self.lock:
                self.calls += 1
                call = self.calls
            if call > 30:
                raise Killed("SIGTERM")
            return first.run(stack, action)

    with pytest.raises(Killed):
        run_plan(plan, KillingRunner(), options(concurrency=4, run_id="run-1"), ledger=ledger)

    passed_before = {r["stack"] for r in ledger.records() if r["status"] == "passed"}
    assert "source-010" not in passed_before
    assert len(passed_before) == 29
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

    class Releaser:
        def run(self, stack, action):
            if stack.name == "source-000":
                release.set()  # the others are in flight when the kill surfaces
            return runner.run(stack, action)

    with pytest.raises(Killed):
        run_plan(make_plan(20), Releaser(), options(concurrency=3), ledger=ledger)
    assert {r["stack"] for r in ledger.records()} >= {"source-001", "source-002"}
    assert "source-000" not in {r["stack"] for r in ledger.records()}


# --- progress, summary, options ----------------------------------------------------------


def test_progress_hears_every_stack_once_with_running_counts(ledger):
    seen: list[tuple[str, Tally]] = []
    runner = FakeRunner({"source-003": Behaviour(status="failed")})
    run_plan(
        make_plan(20),
        runner,
        options(),
        ledger=ledger,
        progress=lambda result, tally: seen.append((result.name, tally)),
    )
    assert sorted(name for name, _ in seen) == sorted(s.name for s in make_plan(20).stacks)
    assert [tally.done for _, tally in seen] == list(range(1, 23))
    last = seen[-1][1]
    assert (last.total, last.passed, last.failed, last.error, last.skipped) == (22, 21, 1, 0, 0)
    assert last.describe() == "passed 21  failed 1  error 0  skipped 0"


def test_summary_counts_by_status_and_role(ledger):
    mandatory = Violation("p", "mandatory", "m", "urn:a")
    advisory = Violation("q", "advisory", "a", "urn:b")
    runner = FakeRunner(
        {
            "source-000": Behaviour(status="failed", violations=[mandatory, advisory]),
            "source-001": Behaviour(violations=[advisory]),
            "source-002": Behaviour(retryable=1),
        }
    )
    outcome = run_plan(make_plan(6), runner, options("preview"), ledger=ledger)
    summary = outcome.summary()
    assert list(summary.by_role) == ["log-archive", "management", "source"]
    source = summary.by_role["source"]
    assert (source.stacks, source.passed, source.failed) == (6, 5, 1)
    assert (summary.total.mandatory_violations, summary.total.advisory_violations) == (1, 2)
    assert summary.total.resources == 8 * 3
    assert (summary.retries, summary.failures, summary.exit_code) == (1, 1, 1)
    data = summary.to_json()
    assert data["byRole"]["source"]["failed"] == 1
    assert data["exitCode"] == 1


def test_a_plan_with_duplicate_names_is_refused(ledger):
    stack = planned("source-1", "source")
    with pytest.raises(ValueError, match="source-1"):
        run_plan(Plan((stack, stack)), FakeRunner(), options(), ledger=ledger)


@pytest.mark.parametrize(
    ("field_name", "value"),
    [("concurrency", 0), ("max_failures", -1), ("retries", 0), ("backoff_initial", -1)],
)
def test_run_options_refuse_nonsense(field_name, value):
    with pytest.raises(ValueError, match=field_name.split("_")[0]):
        options(**{field_name: value})


def test_run_options_refuse_an_unknown_action():
    with pytest.raises(ValueError, match="action"):
        RunOptions("apply")  # type: ignore[arg-type]


def test_an_empty_plan_passes(ledger):
    outcome = run_plan(Plan(()), FakeRunner(), options(), ledger=ledger)
    assert outcome.results == []
    assert outcome.exit_code == 0


def test_the_ledger_lines_are_json_with_the_documented_keys(ledger):
    run_plan(make_plan(1), FakeRunner(), options(), ledger=ledger)
    lines = ledger.path.read_text().splitlines()
    assert len(lines) == 3
    assert list(json.loads(lines[0])) == [
        "runId",
        "action",
        "stack",
        "fingerprint",
        "status",
        "result",
        "at",
    ]


# --- shards ------------------------------------------------------------------------------

ROLES = ["log-archive", "management", "source"]


@st.composite
def plans(draw) -> Plan:
    names = draw(
        st.lists(st.text("abcdefgh-0123", min_size=1, max_size=8), unique=True, max_size=60)
    )
    stacks = [
        planned(name, draw(st.sampled_from(ROLES)), f"{index:012d}")
        for index, name in enumerate(names)
    ]
    return Plan(tuple(stacks))


@settings(max_examples=200, deadline=None)
@given(plan=plans(), count=st.integers(min_value=1, max_value=20))
def test_every_stack_lands_in_exactly_one_shard(plan, count):
    shards = [plan.shard(index, count) for index in range(1, count + 1)]
    placed = Counter(stack.name for shard in shards for stack in shard.stacks)
    assert placed == Counter(stack.name for stack in plan.stacks)
    assert set(placed.values()) <= {1}
    assert sorted((s for shard in shards for s in shard.stacks), key=lambda s: s.name) == sorted(
        plan.stacks, key=lambda s: s.name
    )
    sizes = [len(shard.stacks) for shard in shards]
    assert max(sizes) - min(sizes) <= 1


@pytest.mark.parametrize(("index", "count"), [(0, 3), (4, 3), (1, 0)])
def test_a_shard_out_of_range_is_refused(index, count):
    with pytest.raises(ValueError):
        make_plan(3).shard(index, count)
