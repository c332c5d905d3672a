"""The engine that runs a Plan: its progress callback, summary and options, and a plan's
shards.

A thread-safe FakeRunner (tests/fake_runner.py) stands in for pulumi.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from fake_runner import Behaviour, FakeRunner, make_plan, options, planned
from hypothesis import given, settings
from hypothesis import strategies as st

from enroll.org.model import Plan, Violation
from enroll.run.ledger import Ledger
from enroll.run.orchestrator import RunOptions, Tally, run_plan


@pytest.fixture
def ledger(tmp_path: Path) -> Ledger:
    return Ledger(tmp_path / "state" / "ledger.jsonl")


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
