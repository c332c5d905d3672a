"""One action over a plan: run it through the orchestrator with a progress bar, write the JSON
report, print the summary. The CLI and the demo both call `execute` with explicit values."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rich.console import Console

from enroll.org.model import Action, Plan, StackRunner
from enroll.run.ledger import Ledger
from enroll.run.orchestrator import RunOptions, new_run_id, run_plan
from enroll.run.report import RichProgress, problems_table, summary_table, write_json_report


@dataclass(frozen=True)
class Execution:
    """How to run: bounded concurrency, failure tolerance, retries, resume, where to report."""

    action: Action
    concurrency: int
    state_dir: Path
    max_failures: int | None = None
    retries: int = 5
    resume: bool = False
    report: Path | None = None  # default: <state dir>/reports/<action>-<run id>.json


def execute(plan: Plan, runner: StackRunner, how: Execution, *, out: Console, err: Console) -> int:
    """Run every stack of `plan`; return the exit code (0 all passed, 1 otherwise)."""
    run_id = new_run_id()
    options = RunOptions(
        action=how.action,
        concurrency=how.concurrency,
        max_failures=how.max_failures,
        retries=how.retries,
        resume=how.resume,
        run_id=run_id,
    )
    ledger = Ledger(how.state_dir / "ledger.jsonl")
    with RichProgress(len(plan.stacks), console=err, label=how.action) as bar:
        outcome = run_plan(plan, runner, options, ledger=ledger, progress=bar)
    report = how.report or how.state_dir / "reports" / f"{how.action}-{run_id}.json"
    write_json_report(outcome, report, action=how.action, plan=plan)
    out.print(summary_table(outcome))
    if any(not r.ok or r.violations for r in outcome.results):
        out.print(problems_table(outcome, limit=50))
    out.print(f"report: {report}")
    return outcome.exit_code
