"""A thread-safe stand-in for pulumi, and the plans and options the orchestrator tests run
(test_orchestrator*.py)."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field

from enroll.org.model import (
    Action,
    Plan,
    PlannedStack,
    RetryableError,
    StackResult,
    Status,
    Violation,
)
from enroll.run.orchestrator import RunOptions, RunOutcome

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


def statuses(outcome: RunOutcome) -> dict[str, str]:
    return {r.name: r.status for r in outcome.results}


def by_name(outcome: RunOutcome) -> dict[str, StackResult]:
    return {r.name: r for r in outcome.results}
