"""One action over a plan: run it through the orchestrator with a progress bar, write the JSON
report, print the summary. The CLI and the demo both call `execute` with explicit values."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.markup import escape

from enroll.org.model import Action, Plan, StackRunner
from enroll.run.ledger import Ledger
from enroll.run.orchestrator import RunOptions, RunOutcome, new_run_id, run_plan
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
    # What to run to carry on after an interruption (the CLI passes its own command line).
    again: str | None = None


def execute(plan: Plan, runner: StackRunner, how: Execution, *, out: Console, err: Console) -> int:
    """Run every stack of `plan`; return the exit code (0 all passed, 1 otherwise, 130 when
    interrupted: the summary and the report are written all the same)."""
    run_id = new_run_id()
    options = RunOptions(
        action=how.action,
        concurrency=how.concurrency,
        max_failures=how.max_failures,
        retries=how.retries,
        resume=how.resume,
        run_id=run_id,
        log_dir=how.state_dir / "logs",
    )
    ledger = Ledger(how.state_dir / "ledger.jsonl")
    with RichProgress(len(plan.stacks), console=err, label=how.action) as bar:
        outcome = run_plan(plan, runner, options, ledger=ledger, progress=bar)
    fallback = how.state_dir / "reports" / f"{how.action}-{run_id}.json"
    report = write_report(outcome, plan, how.report or fallback, fallback, err)
    out.print(summary_table(outcome))
    if any(not r.ok or r.violations for r in outcome.results):
        out.print(problems_table(outcome, limit=50))
    for note in outcome.notes:
        out.print(f"note: {note}", markup=False, highlight=False)
    if report is not None:
        out.print(f"report: {report}", markup=False, highlight=False)
    if outcome.interrupted:
        err.print(
            "[bold yellow]interrupted:[/] the stacks in flight finished and were recorded; "
            "nothing else started.",
            highlight=False,
        )
        if how.again:
            err.print(f"To carry on: {escape(how.again)}", highlight=False)
    return outcome.exit_code if report is not None else max(outcome.exit_code, 1)


def write_report(
    outcome: RunOutcome, plan: Plan, path: Path, fallback: Path, err: Console
) -> Path | None:
    """Write the JSON report to `path`; if that fails, to `fallback` in the state dir and say
    so: a finished run's result is never lost to a report path. None if neither could be
    written (the ledger still has every result)."""
    for target in dict.fromkeys((path, fallback)):
        try:
            write_json_report(
                outcome, target, action=outcome.action, plan=plan, make_parents=target == fallback
            )
        except OSError as error:
            err.print(
                f"[bold red]error:[/] cannot write the report to {escape(str(target))}: "
                f"{escape(error.strerror or str(error))}",
                highlight=False,
            )
            continue
        if target != path:
            err.print(f"the report went to {escape(str(target))} instead", highlight=False)
        return target
    return None
