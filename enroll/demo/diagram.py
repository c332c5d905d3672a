"""A Markdown page with a Mermaid picture of the organization's logging topology."""

from __future__ import annotations

from collections import defaultdict

from enroll.org.discovery import Account, Organization
from enroll.org.model import Plan

ACCOUNTS_SHOWN_PER_OU = 8  # larger OUs are summarized, so a 1,000-account org stays readable


def _node(text: str) -> str:
    return "n" + "".join(c if c.isalnum() else "_" for c in text)


def _label(text: str) -> str:
    """Mermaid labels are quoted: account and OU names must not end them early."""
    return text.replace('"', "'").replace("[", "(").replace("]", ")")


def topology_markdown(org: Organization, plan: Plan) -> str:
    """Who sends what where: the OU tree with every account (enrolled, or excluded with the
    reason), the log-archive account's pipeline, and the organization trail."""
    enrolled = {s.account_id for s in plan.stacks if s.role == "source"}
    regions = sorted({s.region for s in plan.stacks if s.role == "source"})
    excluded = {e.account_id: e.reason for e in plan.excluded}
    archive = next(s for s in plan.stacks if s.role == "log-archive")
    accounts_in: dict[str, list[Account]] = defaultdict(list)
    children: dict[str, set[str]] = defaultdict(set)
    for account in org.accounts:
        accounts_in[account.ou_path[-1]].append(account)
        for parent, child in zip(account.ou_path, account.ou_path[1:], strict=False):
            children[parent].add(child)
    pipeline = _node("pipeline")
    lines = ["flowchart LR"]
    edges: list[str] = []

    def unit(unit_id: str, depth: int) -> None:
        pad = "  " * depth
        name = "root" if unit_id == org.root_id else org.ou_names.get(unit_id, unit_id)
        lines.append(f'{pad}subgraph {_node(unit_id)}["{_label(name)} ({unit_id})"]')
        for child in sorted(children[unit_id], key=lambda c: org.ou_names.get(c, c)):
            unit(child, depth + 1)
        members = sorted(accounts_in[unit_id], key=lambda a: a.name)
        for account in members[:ACCOUNTS_SHOWN_PER_OU]:
            title = _label(f"{account.name} {account.id}".strip())
            if account.id in excluded:
                reason = excluded[account.id]
                lines.append(
                    f'{pad}  {_node(account.id)}["{title}<br/>excluded: {reason}"]:::excluded'
                )
            else:
                lines.append(f'{pad}  {_node(account.id)}["{title}"]')
                edges.append(f"  {_node(account.id)} -.-> {pipeline}")
        hidden = members[ACCOUNTS_SHOWN_PER_OU:]
        if hidden:
            more = _node(unit_id + "_more")
            hidden_enrolled = sum(1 for a in hidden if a.id in enrolled)
            lines.append(f'{pad}  {more}["... {len(hidden)} more ({hidden_enrolled} enrolled)"]')
            if hidden_enrolled:
                edges.append(f"  {more} -.-> {pipeline}")
        lines.append(f"{pad}end")

    unit(org.root_id, 1)
    lines += [
        f'  subgraph {pipeline}["log archive {archive.account_id} ({archive.region})"]',
        '    central[("central bucket<br/>AWSLogs/ and CloudWatchLogs/")]',
        '    dest["CloudWatch Logs destinations<br/>'
        + ", ".join(regions)
        + '"] --> firehose["Firehose"]',
        "    firehose --> central",
        '    bus["alert bus"] --> topic["SNS alerts"]',
        "  end",
        f'  trail["organization trail<br/>management {org.management_account_id}"] --> central',
        *edges,
        "  classDef excluded fill:#eee,stroke:#999,color:#666,stroke-dasharray: 4 3",
    ]
    sources = sum(1 for s in plan.stacks if s.role == "source")
    names = {a.id: a.name for a in org.accounts}
    return (
        "\n".join(
            [
                f"# org-logging topology: {org.id}",
                "",
                f"{len(org.accounts)} accounts, {len(enrolled)} enrolled in {len(regions)} regions "
                f"({sources} source stacks), {len(excluded)} excluded. Dotted arrows: S3 "
                "replication into AWSLogs/<account>/ and the account-level CloudWatch Logs "
                "subscription.",
                "",
                "```mermaid",
                *lines,
                "```",
                "",
                "## Excluded accounts",
                "",
                "| account | name | reason |",
                "|---|---|---|",
                *[f"| {a} | {names.get(a, '')} | {r} |" for a, r in sorted(excluded.items())],
            ]
        )
        + "\n"
    )
