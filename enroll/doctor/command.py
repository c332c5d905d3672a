"""`org-logging doctor` and `up`'s preflight: read the settings and the organization, run every
check, print the table (or the JSON), and with `--fix` make the safe calls once approved."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TextIO

from rich.console import Console
from rich.markup import escape

from enroll.doctor.aws import DoctorAws
from enroll.doctor.context import Context
from enroll.doctor.model import FixCall, Report
from enroll.doctor.render import doctor_table, print_report
from enroll.doctor.run import BOOTSTRAP_CREATES, fix_and_check_again, run_checks
from enroll.org.discovery import Organization, discover, organizations_client
from enroll.org.settings import OrgSettings, load_org_settings
from enroll.preflight import ask_yes_no


def doctor_context(
    settings: OrgSettings,
    endpoint_url: str | None,
    *,
    org: Organization | None = None,
    all_accounts: bool = False,
) -> Context:
    """The checks' view of the organization: `org` if already discovered (by `up`), else
    discovered now. Enabled regions are left to the regions check, which reports a refusal
    as a failing check rather than stopping."""
    client = organizations_client(endpoint_url, region=settings.home_region)
    if org is None:
        org = discover(client, tag_key=settings.exclude.opt_out_tag)
    aws = DoctorAws(client, region=settings.home_region, endpoint_url=endpoint_url)
    return Context(settings, org, aws, all_accounts=all_accounts)


def confirm_fixes(
    calls: tuple[FixCall, ...],
    *,
    yes: bool,
    ask: Callable[[str], str] = input,
    stdin: TextIO | None = None,
    env: dict[str, str] | None = None,
) -> bool:
    """--fix asks before its calls, as `up` does: --yes skips the question, and is required
    without a terminal (CI)."""
    if yes:
        return True
    count = f"{len(calls)} call{'s' if len(calls) > 1 else ''}"
    return ask_yes_no(
        f"make these {count}? [y/N] ", f"doctor --fix of {count}", ask=ask, stdin=stdin, env=env
    )


def fix(
    ctx: Context,
    report: Report,
    *,
    approve: Callable[[tuple[FixCall, ...]], bool],
    err: Console,
) -> Report | None:
    """The report after --fix's calls and a re-run; None when there was nothing to do or the
    calls were declined (then `report` stands)."""
    calls = report.fixable
    if not calls:
        err.print("--fix: nothing it may change (it enables trusted access and SCPs only)")
        return None
    err.print(f"--fix would make {len(calls)} call{'s' if len(calls) > 1 else ''}:")
    for call in calls:
        err.print(f"  {escape(str(call))}", highlight=False)
    if not approve(calls):
        err.print("nothing was changed", highlight=False)
        return None
    return fix_and_check_again(ctx, report, lambda line: err.print(escape(line), highlight=False))


def command_doctor(args: argparse.Namespace, out: Console, err: Console) -> int:
    """0 when no check fails (warnings allowed), 1 when one does."""
    settings = load_org_settings(args.settings)
    ctx = doctor_context(settings, args.endpoint_url, all_accounts=args.all_accounts)
    report = run_checks(ctx)
    if args.fix:
        if not args.json and report.fixable:
            out.print(doctor_table(report))
        fixed = fix(
            ctx,
            report,
            approve=lambda calls: confirm_fixes(
                calls, yes=args.yes, ask=lambda prompt: err.input(prompt, markup=False)
            ),
            err=err,
        )
        if fixed is not None:
            print_report(fixed, out, as_json=args.json, title="after --fix")
            return fixed.exit_code
        if report.fixable and not args.json:
            return report.exit_code  # its table is above
    print_report(report, out, as_json=args.json)
    return report.exit_code


def preflight(
    settings: OrgSettings,
    org: Organization,
    endpoint_url: str | None,
    out: Console,
    err: Console,
    *,
    bootstrap: bool = False,
) -> bool:
    """`up`'s first step: doctor's checks (for `--bootstrap`, all but those of what it
    creates). False (after the table) when one fails."""
    skip = BOOTSTRAP_CREATES if bootstrap else frozenset()
    report = run_checks(doctor_context(settings, endpoint_url, org=org), skip=skip)
    if report.count("warn") or report.count("fail"):
        out.print(doctor_table(report, "preflight"))
    else:
        err.print(f"preflight: {report.summary()}", highlight=False)
    if report.exit_code:
        err.print(
            "[bold red]up stopped:[/] a prerequisite check failed (table above); "
            "`org-logging doctor --fix` makes the safe fixes, the table names the others; "
            "--skip-preflight runs anyway",
            highlight=False,
        )
        return False
    return True
