"""The report as people read it (a table: check, status, what is wrong, the fix) and as
machines do (`--json`, documented in docs/automation.md)."""

from __future__ import annotations

import json

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from enroll.doctor.model import Report

STYLES = {"ok": "green", "warn": "yellow", "fail": "bold red"}


def doctor_table(report: Report, title: str = "doctor") -> Table:
    table = Table(title=f"{title}: {report.summary()}", show_lines=True)
    table.add_column("check", no_wrap=True)
    table.add_column("status", no_wrap=True)
    table.add_column("what is wrong (or what was found)", ratio=3, overflow="fold")
    table.add_column("fix", ratio=2, overflow="fold")
    for finding in report.findings:
        result = finding.result
        style = STYLES[result.status]
        table.add_row(
            finding.title,
            f"[{style}]{result.status}[/]",
            escape(result.problem),
            escape(result.fix),
        )
    return table


def print_report(report: Report, out: Console, *, as_json: bool, title: str = "doctor") -> None:
    if as_json:
        print(json.dumps(report.to_json(), indent=2))
    else:
        out.print(doctor_table(report, title))
