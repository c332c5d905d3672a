"""What a run says when it is over: summary tables, the JSON report, the exit code, and the
progress bar while it runs. The only module of the engine that knows about rich.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from enroll.org.model import Action, Plan, StackResult
from enroll.run.orchestrator import RoleSummary, RunOutcome, Tally
from enroll.util.files import atomic_write
from enroll.util.progress import LinesOrBar

MESSAGE_WIDTH = 160
_STATUS_STYLE = {"passed": "green", "failed": "red", "error": "red bold", "skipped": "yellow"}


def exit_code(outcome: RunOutcome) -> int:
    """0 when every stack passed (resumed ones count) with no mandatory violation, else 1."""
    return outcome.exit_code


def summary_table(outcome: RunOutcome) -> Table:
    """One row per role of the plan, in phase order, and a total row."""
    summary = outcome.summary()
    title = f"{outcome.action} {outcome.run_id}"
    if summary.stopped_early:
        title += f" (stopped early: {summary.stop_reason})"
    table = Table(title=Text(title), show_footer=False)
    table.add_column("role")
    for heading in ("stacks", "passed", "failed", "error", "skipped", "resumed", "cached"):
        table.add_column(heading, justify="right")
    table.add_column("mandatory\nviolations", justify="right")
    table.add_column("advisory\nviolations", justify="right")
    table.add_column("resources", justify="right")
    for role, counts in summary.by_role.items():
        table.add_row(Text(role), *_count_cells(counts))
    table.add_section()
    table.add_row(Text("total", style="bold"), *_count_cells(summary.total))
    return table


def _count_cells(counts: RoleSummary) -> list[Text]:
    def cell(value: int, style: str) -> Text:
        return Text(str(value), style=style if value else "")

    return [
        Text(str(counts.stacks)),
        cell(counts.passed, "green"),
        cell(counts.failed, "red"),
        cell(counts.error, "red bold"),
        cell(counts.skipped, "yellow"),
        Text(str(counts.resumed)),
        Text(str(counts.cached)),
        cell(counts.mandatory_violations, "red"),
        cell(counts.advisory_violations, "yellow"),
        Text(str(counts.resources)),
    ]


def problems_table(outcome: RunOutcome, *, limit: int | None = None) -> Table:
    """Every stack that did not pass (and any passed one with a mandatory violation), with its
    first error or violation on one line; `limit` caps the rows and says how many were cut."""
    problems = [result for result in outcome.results if not result.ok]
    table = Table(title=Text(f"{len(problems)} stacks did not pass"))
    table.add_column("stack", no_wrap=True)
    table.add_column("role")
    table.add_column("status")
    table.add_column("first problem", overflow="fold")
    shown = problems if limit is None else problems[:limit]
    for result in shown:
        table.add_row(
            Text(result.name),
            Text(result.role),
            Text(result.status, style=_STATUS_STYLE.get(result.status, "")),
            Text(first_problem(result)),
        )
    if len(shown) < len(problems):
        table.add_row(Text(f"... and {len(problems) - len(shown)} more (see the JSON report)"))
    return table


def first_problem(result: StackResult, width: int = MESSAGE_WIDTH) -> str:
    """The first mandatory violation, else the error, else the first violation: one line."""
    if result.mandatory_violations:
        violation = result.mandatory_violations[0]
        message = f"{violation.policy}: {violation.message}"
    elif result.error:
        message = headline(result.error)
    elif result.violations:
        violation = result.violations[0]
        message = f"{violation.policy} ({violation.level}): {violation.message}"
    else:
        message = ""
    return truncate(" ".join(message.split()), width)


_LABEL = re.compile(r"^\s*(?:code:\s*-?\d+|stdout:|stderr:)\s*", re.IGNORECASE)
_OPERATION = re.compile(r"operation error ([^,]+)")
_API_ERROR = re.compile(r"api error (.+)")
_ERROR_WORD = re.compile(r"\berror\b", re.IGNORECASE)


def headline(error: str) -> str:
    """The line of an error that says what went wrong, not the CLI's `code: 255 stdout:
    stderr:` framing: the first line that names an error, and for an AWS refusal the
    operation and its `api error Code: message` (the report keeps the whole text)."""
    lines = []
    for line in error.splitlines():
        while _LABEL.match(line):
            line = _LABEL.sub("", line, count=1)
        if line.strip():
            lines.append(line.strip())
    chosen = next((line for line in lines if _ERROR_WORD.search(line)), " ".join(lines))
    api = _API_ERROR.search(chosen)
    if api:
        operation = _OPERATION.search(chosen)
        return f"{operation.group(1)}: {api.group(1)}" if operation else api.group(1)
    return chosen


def truncate(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"


def report_json(outcome: RunOutcome, *, action: Action, plan: Plan) -> dict[str, Any]:
    summary = outcome.summary().to_json()
    summary["resumedStacks"] = [r.name for r in outcome.results if r.name in outcome.resumed]
    return {
        "action": action,
        "runId": outcome.run_id,
        "stacks": [result.to_json() for result in outcome.results],
        "excluded": [exclusion.to_json() for exclusion in plan.excluded],
        "summary": summary,
        "interrupted": outcome.interrupted,
        "notes": list(outcome.notes),
    }


def write_json_report(
    outcome: RunOutcome,
    path: str | os.PathLike[str],
    *,
    action: Action,
    plan: Plan,
    make_parents: bool = True,
) -> None:
    """Write the report atomically: a reader sees the old file or the whole new one.
    `make_parents=False` for a path the user gave: its directory was checked before the run."""
    target = Path(path)
    text = json.dumps(report_json(outcome, action=action, plan=plan), indent=2) + "\n"
    if make_parents:
        target.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(target, text)


class RichProgress(LinesOrBar):
    """Progress for `run_plan(..., progress=bar)`: total = stacks, one step per finish.

    On a terminal, a bar. Without one (CI, nohup) a bar would print nothing until the end, so it
    prints one line per finished stack and, while nothing finishes, a heartbeat every
    `heartbeat` seconds.

    with RichProgress(len(plan.stacks), console=console) as bar:
        outcome = run_plan(plan, runner, options, ledger=ledger, progress=bar)
    """

    def __init__(
        self,
        total: int,
        *,
        console: Console | None = None,
        label: str = "stacks",
        heartbeat: float = 30.0,
    ) -> None:
        super().__init__(total, console or Console(stderr=True), heartbeat=heartbeat)
        self.label = label
        self._tally = Tally(total)

    def first_line(self) -> str:
        return f"{self.label}: {self.total} stacks"

    def heartbeat_line(self) -> str:
        return f"... {self._tally.done}/{self.total} finished; {self.description()}"

    def description(self) -> str:
        return f"{self.label}: {self._tally.describe()}"

    def prefix(self, line: str) -> str:
        return f"{_clock(self.elapsed())} {line}"

    def __call__(self, result: StackResult, tally: Tally) -> None:
        self._tally = tally
        self.advance_to(tally.done)
        if self.lines:
            width = len(str(self.total))
            self.say(
                f"[{tally.done:>{width}}/{self.total}] {result.status:<7} {result.name} "
                + ("(cached)" if result.cached else f"({result.duration_seconds:.1f}s)")
            )


def _clock(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes:02d}:{secs:02d}"
