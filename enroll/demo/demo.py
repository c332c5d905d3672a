"""`org-logging demo`: the embedded default. An emulated organization on 127.0.0.1, checked by
doctor (one prerequisite missing on purpose, then fixed by `--fix`), discovered, planned and
previewed offline: the same path a real organization takes, minus AWS.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import yaml
from rich.console import Console

from enroll.demo.archive_seed import Gaps
from enroll.demo.coverage_demo import show_coverage
from enroll.demo.diagram import topology_markdown
from enroll.demo.emulator import (
    OPT_IN_REGION,
    Emulator,
    fake_credentials,
    sample_org,
    sample_settings,
)
from enroll.demo.query_demo import show_queries
from enroll.doctor.command import doctor_context, fix
from enroll.doctor.render import doctor_table
from enroll.doctor.run import run_checks
from enroll.offline.runner import OfflineRunner, plan_pack_config
from enroll.org.discovery import discover, organizations_client
from enroll.org.plan import build_plan
from enroll.org.settings import OrgSettings, load_org_settings
from enroll.org.tables import excluded_table, plan_table, print_warnings
from enroll.run.execute import Execution, execute


class DemoError(Exception):
    """A bad demo flag: exit 2 with the message."""


# The default seed of the emulated organization: two demos give the same account ids.
DEMO_SEED = 1

# Two regions every account has, and an opt-in one that one account has not enabled.
DEMO_REGIONS = ("us-east-1", "eu-west-1", OPT_IN_REGION)

# The deliberate gaps coverage shows: one account's flow logs stale, one sending no CloudWatch Logs.
STALE_FLOW_LOGS = "payments-prod-1"
NO_CLOUDWATCH_LOGS = "orders-prod-2"


def run_demo(
    out_dir: Path,
    *,
    extra_accounts: int = 0,
    workers: int | None = None,
    seed: int = DEMO_SEED,
    out: Console,
    err: Console,
) -> int:
    if out_dir.exists() and not out_dir.is_dir():
        raise DemoError(f"--out {str(out_dir)!r} is a file; it must be a directory")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise DemoError(
            f"--out {str(out_dir)!r} cannot be created: {error.strerror or error}"
        ) from None
    # AssumeRole as in AWS (the role must exist and trust the caller), for doctor's check.
    with fake_credentials(), Emulator(enforce_role_trust=True) as emulator:
        err.print(f"AWS emulator (moto) on {emulator.endpoint_url}, seed {seed}")
        emulator.seed(seed)
        sample = sample_org(emulator, extra_accounts=extra_accounts)
        settings_file = out_dir / "org.yaml"
        settings_file.write_text(
            "# The demo organization's settings (generated; see stacks/org.yaml)\n"
            + yaml.safe_dump(sample_settings(sample, regions=DEMO_REGIONS), sort_keys=False)
        )
        settings = load_org_settings(settings_file)
        doctor(settings, emulator.endpoint_url, out_dir / "doctor.json", out=out, err=err)
        client = organizations_client(emulator.endpoint_url, region=settings.home_region)
        org = discover(client, tag_key=settings.exclude.opt_out_tag, regions=settings.regions)
        plan = build_plan(settings, org)
        (out_dir / "plan.json").write_text(json.dumps(plan.to_json(), indent=2) + "\n")
        out.print(plan_table(plan))
        out.print(excluded_table(plan))
        print_warnings(plan, err)
        how = Execution(
            action="preview",
            concurrency=workers or os.cpu_count() or 1,
            state_dir=out_dir / "state",
            retries=3,
            report=out_dir / "report.json",
        )
        with OfflineRunner(
            org=org.facts(), policy_config=plan_pack_config(plan), workers=workers
        ) as runner:
            code = execute(plan, runner, how, out=out, err=err)
        topology = out_dir / "topology.md"
        topology.write_text(topology_markdown(org, plan))
        gaps = Gaps(sample.accounts[STALE_FLOW_LOGS], sample.accounts[NO_CLOUDWATCH_LOGS])
        show_coverage(emulator, plan, gaps, out_dir / "coverage.json", out=out, err=err)
        show_queries(emulator.endpoint_url, out_dir / "queries.json", out=out, err=err)
    out.print(
        f"settings: {settings_file}\ndoctor: {out_dir / 'doctor.json'}\n"
        f"plan: {out_dir / 'plan.json'}\ntopology: {topology}\n"
        f"coverage: {out_dir / 'coverage.json'}\nqueries: {out_dir / 'queries.json'}"
    )
    return code


def doctor(
    settings: OrgSettings, endpoint_url: str, report_file: Path, *, out: Console, err: Console
) -> None:
    """`org-logging doctor`, then `doctor --fix --yes`: the sample organization has not
    activated StackSets' organizations access, which --fix does; the warnings it leaves
    (Control Tower's trail, an account without the opt-in region) are for a person to weigh.
    The demo goes on either way: it deploys nothing."""
    ctx = doctor_context(settings, endpoint_url)
    report = run_checks(ctx)
    out.print(doctor_table(report, "org-logging doctor"))
    err.print(
        "The demo organization has not activated StackSets' organizations access (on purpose); "
        "`org-logging doctor --fix --yes` does:",
        highlight=False,
    )
    fixed = fix(ctx, report, approve=lambda calls: True, err=err)
    if fixed is not None:
        report = fixed
        out.print(doctor_table(report, "org-logging doctor --fix --yes"))
    report_file.write_text(json.dumps(report.to_json(), indent=2) + "\n")
