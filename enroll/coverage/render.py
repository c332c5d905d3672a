"""Coverage for people (rich tables: a summary per type, the failing cells, the trail) and for
machines (`--json`)."""

from __future__ import annotations

import json
import threading
from datetime import datetime

from rich.console import Console
from rich.table import Table

from components.naming import LOG_TYPES
from enroll.coverage.model import (
    FAILING,
    MEANING,
    STATUSES,
    Cell,
    Report,
    format_duration,
    iso,
)
from enroll.util.progress import LinesOrBar

STYLE = {"ARRIVING": "green", "STALE": "yellow", "NONE": "red", "NOT_EXPECTED": "dim"}
# The failing cells the table lists; --json lists every cell.
MAX_ROWS = 50


def age(moment: datetime, now: datetime) -> str:
    seconds = max(0, int((now - moment).total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def summary_table(report: Report) -> Table:
    table = Table(title=f"coverage of s3://{report.bucket}", title_justify="left")
    table.add_column("type")
    table.add_column("expected")
    table.add_column("window", justify="right")
    for status in STATUSES:
        table.add_column(status.replace("_", " ").lower(), justify="right")
    table.add_column("newest")
    for log_type in LOG_TYPES:
        counts = report.counts(log_type)
        newest = max(
            (c.newest.time for c in report.cells if c.log_type == log_type and c.newest),
            default=None,
        )
        table.add_row(
            log_type,
            "yes" if log_type in report.settings.expect else "no",
            format_duration(report.settings.freshness[log_type]),
            *(
                _count(counts[status], status, log_type in report.settings.expect)
                for status in STATUSES
            ),
            f"{age(newest, report.checked_at)} ago" if newest else "-",
        )
    return table


def _count(count: int, status: str, expected: bool) -> str:
    """A count in its status's colour, bold when it fails the run, dim when nothing rides on it."""
    if not count:
        return "0"
    if not expected:
        return f"[dim]{count}[/]"
    style = STYLE.get(status, "red")
    return f"[bold {style}]{count}[/]" if status in FAILING else f"[{style}]{count}[/]"


def failing_table(report: Report, limit: int = MAX_ROWS) -> Table | None:
    failing = report.failing
    if not failing:
        return None
    table = Table(
        title=f"{len(failing)} expected cell{'s' if len(failing) != 1 else ''} not arriving",
        title_justify="left",
    )
    for column in ("account", "region", "type", "status", "newest", "age", "object / why"):
        table.add_column(column)
    for cell in failing[:limit]:
        table.add_row(*_cell_row(cell, report.checked_at))
    if len(failing) > limit:
        table.caption = f"... and {len(failing) - limit} more (--json lists every cell)"
    return table


def _cell_row(cell: Cell, now: datetime) -> tuple[str, ...]:
    style = STYLE.get(cell.status, "bold red")
    newest = cell.newest
    return (
        cell.account_id,
        cell.region,
        cell.log_type,
        f"[{style}]{cell.status}[/]",
        iso(newest.time) if newest else "-",
        age(newest.time, now) if newest else "-",
        newest.key if newest else (cell.note or "never seen"),
    )


def trail_lines(report: Report) -> list[str]:
    trail = report.trail
    if trail is None:
        return []
    if trail.error:
        return [f"organization trail {trail.name}: status not read ({trail.error})"]
    delivered = (
        f"{iso(trail.latest_delivery_time)} ({age(trail.latest_delivery_time, report.checked_at)} "
        "ago)"
        if trail.latest_delivery_time
        else "never"
    )
    logging = {True: "[green]yes[/]", False: "[bold red]NO[/]", None: "?"}[trail.is_logging]
    error = trail.latest_delivery_error or "none"
    style = "bold red" if trail.latest_delivery_error else "green"
    return [
        f"organization trail {trail.name}: IsLogging {logging}, last delivery {delivered}, "
        f"LatestDeliveryError [{style}]{error}[/]"
    ]


def print_report(report: Report, out: Console, err: Console, *, as_json: bool) -> None:
    if as_json:
        print(json.dumps(report.to_json(), indent=2))
        return
    out.print(summary_table(report))
    failing = failing_table(report)
    if failing is not None:
        out.print(failing)
    for line in trail_lines(report):
        out.print(line, highlight=False)
    for problem in report.errors:
        err.print(f"[yellow]could not read[/] {problem}", highlight=False)
    verdict = (
        "[green]every expected cell is ARRIVING[/]"
        if report.exit_code == 0
        else f"[bold red]{len(report.failing)} expected cell(s) not arriving[/]"
        + (f"; {report.trail_problem}" if report.trail_problem else "")
    )
    out.print(
        f"{verdict} ({len(report.cells)} cells, {report.requests} requests, {report.seconds:.1f}s)",
        highlight=False,
    )


def legend() -> str:
    return "; ".join(f"{status}, {meaning}" for status, meaning in MEANING.items())


class ScanProgress(LinesOrBar):
    """A bar on a terminal; without one (CI, nohup) a line at each tenth and, while nothing
    finishes, a heartbeat every `heartbeat` seconds, as `up`'s progress does."""

    def __init__(self, total: int, console: Console, heartbeat: float = 30.0) -> None:
        super().__init__(total, console, heartbeat=heartbeat, transient=True)
        self.done = 0
        self._count_lock = threading.Lock()
        self._next_tenth = 1

    def first_line(self) -> str:
        return f"coverage: {self.total} account x log type listings"

    def heartbeat_line(self) -> str:
        return f"coverage: ... {self.done}/{self.total}"

    def description(self) -> str:
        return "coverage"

    def __call__(self, finished: int) -> None:
        with self._count_lock:
            self.done += finished
            done = self.done
        self.advance_to(done)
        if self.lines and self.total and done * 10 >= self._next_tenth * self.total:
            while done * 10 >= self._next_tenth * self.total:
                self._next_tenth += 1
            self.say(f"coverage: {done}/{self.total}")
