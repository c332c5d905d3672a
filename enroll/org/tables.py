"""The plan as people read it: its stacks, what was left out and why, and its warnings."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from enroll.org.model import Plan


def plan_table(plan: Plan) -> Table:
    table = Table(title=f"{len(plan.stacks)} stacks")
    for column in ("stack", "role", "account", "region"):
        table.add_column(column)
    for stack in plan.stacks:
        table.add_row(stack.name, stack.role, stack.account_id, stack.region)
    return table


def excluded_table(plan: Plan) -> Table:
    accounts = sum(1 for e in plan.excluded if e.region is None)
    regions = len(plan.excluded) - accounts
    title = f"{accounts} accounts excluded" + (
        f", and {regions} account x region pairs" if regions else ""
    )
    table = Table(title=title)
    table.add_column("account")
    table.add_column("region")
    table.add_column("reason")
    for exclusion in plan.excluded:
        table.add_row(exclusion.account_id, exclusion.region or "all", exclusion.reason)
    return table


def print_warnings(plan: Plan, err: Console) -> None:
    for warning in plan.warnings:
        err.print("[bold yellow]warning:[/]", escape(warning), highlight=False)
