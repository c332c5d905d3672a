"""`org-logging` (alias `python -m stacks`): check the organization's prerequisites (doctor),
plan, preview, up and destroy org-logging across the organization, and the demo.

Exit codes: 0 every stack passed (doctor: no check failed); 1 a stack failed, a mandatory
policy was violated, or a doctor check (up's preflight included) failed; 2 usage, settings or
discovery errors (nothing ran).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shlex
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape

from components.settings import SettingsError
from enroll.arguments import discovery_arguments, doctor_parser, org_arguments, run_arguments
from enroll.coverage.command import add_coverage_parser, command_coverage
from enroll.demo.demo import DEMO_SEED, DemoError, run_demo
from enroll.doctor.command import command_doctor, preflight
from enroll.offline.analyzer.config import policy_pack_config_json
from enroll.offline.runner import OfflineRunner, plan_pack_config
from enroll.org.discovery import DiscoveryError, Organization, discover, organizations_client
from enroll.org.model import Plan
from enroll.org.plan import build_plan
from enroll.org.planfile import PlanError, load_plan
from enroll.org.settings import OrgSettings, load_org_settings
from enroll.org.tables import excluded_table, plan_table, print_warnings
from enroll.preflight import (
    UsageError,
    check_policy_packs,
    check_report_path,
    check_roles,
    check_writable_dir,
    confirm,
    whole_number,
)
from enroll.query.command import add_query_parser, command_query
from enroll.run.automation import AutomationRunner
from enroll.run.execute import Execution, execute
from enroll.util.lock import LockHeld, exclusive
from enroll.util.malloc import cap_malloc_arenas
from enroll.util.paths import NotACheckout, require_checkout
from enroll.verify.command import add_verify_parser, command_verify

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
# What an interruption left, by command (a run interrupted once stacks started says it itself).
INTERRUPTED = {
    "preview": "before any stack ran",
    "up": "before any stack ran",
    "destroy": "before any stack ran",
    "verify": "the canaries already sent stay (they expire with the logs); nothing was deleted",
    "doctor": "the --fix calls already made stay; run doctor again to see where it stands",
    "coverage": "nothing was changed",
    "query": "nothing was changed",
    "plan": "nothing was changed",
}
GITHUB_MATRIX_MAX_JOBS = 256
STACKS_PER_SHARD = 100


def default_state_dir() -> Path:
    """Outside the repo: generated stack config, ledger, reports and the local backend."""
    if os.environ.get("ORG_LOGGING_STATE_DIR"):
        return Path(os.environ["ORG_LOGGING_STATE_DIR"])
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "org-logging"


def parse_shard(text: str | None) -> tuple[int, int] | None:
    if text is None:
        return None
    try:
        index, count = (int(part) for part in text.split("/"))
    except ValueError:
        raise UsageError(f"--shard {text!r} must look like i/n, e.g. 2/8") from None
    if count < 1 or not 1 <= index <= count:
        raise UsageError(f"--shard {text!r} must satisfy 1 <= i <= n")
    return index, count


# --------------------------------------------------------------------------------------------
# Arguments
# --------------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="org-logging",
        description="Enroll every account and region of an AWS Organization in org-logging.",
        epilog="Exit codes: 0 ok; 1 failed stacks or mandatory policy violations; "
        "2 usage, settings or discovery errors. doctor (and up's preflight): 1 when a check fails.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    doctor_parser(commands)
    add_query_parser(commands)
    add_coverage_parser(commands, org_arguments)
    add_verify_parser(commands, org_arguments)

    plan = commands.add_parser(
        "plan",
        help="discover the organization and print the stacks to run",
        description="Discover the organization and print the stack matrix: log-archive, "
        "management, then one source stack per active account x enrolled region.",
    )
    discovery_arguments(plan)
    output = plan.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="print the plan as JSON")
    output.add_argument(
        "--format",
        choices=("table", "json", "github-matrix"),
        default="table",
        help="table (default), json, or a GitHub Actions matrix of shards",
    )
    plan.add_argument(
        "--shards",
        type=whole_number(1),
        metavar="N",
        help=f"github-matrix: number of shards (default: one per {STACKS_PER_SHARD} stacks, "
        f"at most {GITHUB_MATRIX_MAX_JOBS})",
    )

    for action, summary in (
        ("preview", "preview every stack (with --offline: without cloud or CLI)"),
        ("up", "deploy every stack, in order, with bounded concurrency"),
        ("destroy", "destroy every stack, sources first"),
    ):
        sub = commands.add_parser(
            action, help=summary, description=summary[0].upper() + summary[1:] + "."
        )
        run_arguments(sub, action)

    demo = commands.add_parser(
        "demo",
        help="emulate an organization on 127.0.0.1, plan it and preview it offline",
        description="Start an AWS emulator (moto) on 127.0.0.1 with a sample organization, "
        "plan and preview it offline, and write the report and a topology page.",
    )
    demo.add_argument(
        "--out", default="out/demo", metavar="DIR", help="where to write (default out/demo)"
    )
    demo.add_argument(
        "--extra-accounts",
        type=whole_number(0),
        default=0,
        metavar="N",
        help="add N more accounts to the sample organization",
    )
    demo.add_argument(
        "--workers", type=whole_number(1), metavar="N", help="render processes (default: CPUs)"
    )
    demo.add_argument(
        "--seed",
        type=int,
        default=DEMO_SEED,
        metavar="N",
        help=f"the emulated organization's random seed (default {DEMO_SEED}: runs can be diffed)",
    )
    return parser


# --------------------------------------------------------------------------------------------
# Commands
# --------------------------------------------------------------------------------------------


def discover_plan(args: argparse.Namespace) -> tuple[OrgSettings, Organization, Plan]:
    settings = load_org_settings(args.settings)
    client = organizations_client(args.endpoint_url, region=settings.home_region)
    org = discover(client, tag_key=settings.exclude.opt_out_tag, regions=settings.regions)
    return settings, org, narrow(build_plan(settings, org), args)


def bootstrap_only(plan: Plan, args: argparse.Namespace) -> Plan:
    if not getattr(args, "bootstrap", False):
        return plan
    if not (plan := plan.bootstrap()).stacks:
        raise UsageError("--bootstrap runs the management stack, which --roles/--shard left out")
    return plan


def narrow(plan: Plan, args: argparse.Namespace) -> Plan:
    roles = check_roles(getattr(args, "roles", None))
    if roles:
        plan = plan.only(roles)
    shard = parse_shard(getattr(args, "shard", None))
    if shard:
        plan = plan.shard(*shard)
    return plan


def github_matrix(plan: Plan, shards: int | None) -> dict[str, Any]:
    count = shards or max(1, math.ceil(len(plan.stacks) / STACKS_PER_SHARD))
    if not 1 <= count <= GITHUB_MATRIX_MAX_JOBS:
        raise UsageError(f"--shards {count} must be from 1 to {GITHUB_MATRIX_MAX_JOBS}")
    return {
        "include": [
            {"shard": f"{i}/{count}", "stacks": len(plan.shard(i, count).stacks)}
            for i in range(1, count + 1)
        ]
    }


def command_plan(args: argparse.Namespace, out: Console, err: Console) -> int:
    if args.shards is not None and args.shards > GITHUB_MATRIX_MAX_JOBS:
        raise UsageError(f"--shards {args.shards} must be from 1 to {GITHUB_MATRIX_MAX_JOBS}")
    check_roles(args.roles)
    parse_shard(args.shard)
    _, _, plan = discover_plan(args)
    if args.json or args.format == "json":
        print(json.dumps(plan.to_json(), indent=2, sort_keys=False))
    elif args.format == "github-matrix":
        print(json.dumps(github_matrix(plan, args.shards)))
    else:
        out.print(plan_table(plan))
        out.print(excluded_table(plan))
    print_warnings(plan, err)
    return EXIT_OK


def command_run(action: str, args: argparse.Namespace, out: Console, err: Console) -> int:
    require_checkout(action)
    # Flags and paths first: a bad one costs no discovery and leaves the state dir alone.
    state_dir = Path(args.state_dir) if args.state_dir else default_state_dir()
    check_roles(args.roles)
    parse_shard(args.shard)
    report = check_report_path(args.report)
    offline = bool(getattr(args, "offline", False))
    packs = check_policy_packs(getattr(args, "policy_pack", ()) or (), offline=offline)
    if args.plan:
        try:
            plan = bootstrap_only(narrow(load_plan(args.plan), args), args)
        except PlanError as error:
            raise UsageError(str(error)) from None
        org_facts = None
    else:
        settings, org, plan = discover_plan(args)
        org_facts = org.facts()
        plan = bootstrap_only(plan, args)
        if (
            action == "up"
            and not args.skip_preflight
            and not preflight(settings, org, args.endpoint_url, out, err, bootstrap=args.bootstrap)
        ):
            return EXIT_FAILED
    print_warnings(plan, err)
    if action in ("up", "destroy") and not confirm(action, plan, yes=args.yes):
        err.print("nothing was run", highlight=False)
        return EXIT_USAGE
    check_writable_dir("--state-dir", state_dir)
    how = execution(action, args, state_dir, report)
    try:
        with exclusive(state_dir, action):
            if offline:
                with OfflineRunner(
                    org=org_facts,
                    policy_config=plan_pack_config(plan),
                    workers=args.workers,
                    judge=args.judge,
                    cross_check_every=args.cross_check_every,
                    state_dir=None if args.no_cache else state_dir,
                ) as offline_runner:
                    return execute(plan, offline_runner, how(os.cpu_count() or 1), out=out, err=err)
            runner = AutomationRunner(
                state_dir=state_dir,
                backend_url=args.backend_url or os.environ.get("PULUMI_BACKEND_URL"),
                role_name=args.role_name,
                policy_packs=packs,
                policy_pack_config=policy_pack_config_json(plan_pack_config(plan)),
            )
            try:
                runner.prepare()
            except Exception as error:
                raise UsageError(f"cannot run the Pulumi CLI: {error}") from None
            return execute(plan, runner, how(8), out=out, err=err)
    except LockHeld as error:
        raise UsageError(str(error)) from None


def execution(
    action: str, args: argparse.Namespace, state_dir: Path, report: Path | None
) -> Callable[[int], Execution]:
    """The run's options from its flags, given the concurrency to use when none is given."""
    return lambda default: Execution(
        action=action,  # type: ignore[arg-type]
        concurrency=args.concurrency or default,
        state_dir=state_dir,
        max_failures=args.max_failures,
        retries=args.retries,
        resume=bool(getattr(args, "resume", False)),
        report=report,
        again=again_command(action, args.argv),
    )


def again_command(action: str, argv: Sequence[str]) -> str:
    """The command that carries on after an interruption: `up` with --resume (skips what
    finished), the others as they were."""
    words = ["org-logging", *argv]
    if action == "up" and "--resume" not in words:
        words.append("--resume")
    return shlex.join(words)


def _interrupt_on_sigterm() -> Callable[[], None]:
    """SIGTERM (a cancelled CI job, `kill`) behaves like Ctrl-C: the stacks in flight finish,
    the report is written, exit 130. Returns what undoes it."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    return lambda: signal.signal(signal.SIGTERM, previous)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    args.argv = argv
    cap_malloc_arenas()  # before any thread: the orchestrator's threads would each keep an arena
    # In CI logs (no terminal) rich would wrap tables at 80 columns.
    out = Console(width=None if sys.stdout.isatty() else 160)
    err = Console(stderr=True, width=None if sys.stderr.isatty() else 160)
    restore = _interrupt_on_sigterm()
    try:
        if args.command == "plan":
            return command_plan(args, out, err)
        if args.command == "doctor":
            return command_doctor(args, out, err)
        if args.command == "query":
            return command_query(args, out, err)
        if args.command == "coverage":
            return command_coverage(args, out, err, discover_plan=lambda a: discover_plan(a)[2])
        if args.command == "verify":
            return command_verify(args, out, err, shard=parse_shard(args.shard))
        if args.command == "demo":
            require_checkout("demo")
            try:
                return run_demo(
                    Path(args.out),
                    extra_accounts=args.extra_accounts,
                    workers=args.workers,
                    seed=args.seed,
                    out=out,
                    err=err,
                )
            except DemoError as error:
                raise UsageError(str(error)) from None
        return command_run(args.command, args, out, err)
    except (SettingsError, DiscoveryError, UsageError, NotACheckout) as error:
        err.print("[bold red]error:[/]", escape(str(error)), highlight=False)
        return EXIT_USAGE
    except KeyboardInterrupt:
        err.print(f"[bold yellow]interrupted[/]: {INTERRUPTED.get(args.command, '')}".rstrip(": "))
        return EXIT_INTERRUPTED
    finally:
        restore()


if __name__ == "__main__":
    sys.exit(main())
