"""The CLI's shared arguments: which organization (settings, endpoint), which stacks (roles,
shard, plan), how to run them, and doctor's flags."""

from __future__ import annotations

import argparse
from typing import Any

from enroll.offline.runner import CROSS_CHECK_EVERY, JUDGES
from enroll.preflight import endpoint_url, whole_number
from enroll.util.paths import PROJECT_DIR


def org_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--settings",
        default=str(PROJECT_DIR / "stacks" / "org.yaml"),
        metavar="FILE",
        help="the organization's settings file (default: stacks/org.yaml)",
    )
    parser.add_argument(
        "--endpoint-url",
        type=endpoint_url,
        metavar="URL",
        help="the endpoint of every AWS API call, e.g. an emulator (boto3's AWS_ENDPOINT_URL "
        "works too)",
    )


def discovery_arguments(parser: argparse.ArgumentParser) -> None:
    org_arguments(parser)
    parser.add_argument(
        "--shard",
        metavar="I/N",
        help="run only shard I of N (1-based): every stack is in exactly one shard",
    )
    parser.add_argument(
        "--roles",
        metavar="ROLES",
        help="only these roles, comma-separated (log-archive,management,source)",
    )


def run_arguments(parser: argparse.ArgumentParser, action: str) -> None:
    discovery_arguments(parser)
    parser.add_argument(
        "--plan",
        metavar="FILE",
        help="run a plan saved with `plan --json` instead of discovering the organization",
    )
    parser.add_argument("--report", metavar="FILE", help="write the JSON report here")
    parser.add_argument(
        "--concurrency",
        type=whole_number(1, "stacks at once"),
        metavar="N",
        help="stacks at once, at least 1 (default: CPU count offline, 8 otherwise)",
    )
    parser.add_argument(
        "--max-failures",
        type=whole_number(0, "0 stops at the first failure"),
        metavar="N",
        help="stop starting stacks once more than N have failed (default: no limit)",
    )
    parser.add_argument(
        "--retries",
        type=whole_number(1, "the attempts include the first one"),
        default=5,
        metavar="N",
        help="attempts for throttling and stack-lock conflicts, with jittered backoff (default 5)",
    )
    parser.add_argument(
        "--state-dir",
        metavar="DIR",
        help="generated stack config, run ledger, reports, local backend "
        "(default: $ORG_LOGGING_STATE_DIR or ~/.local/state/org-logging)",
    )
    parser.add_argument(
        "--backend-url",
        metavar="URL",
        help="Pulumi backend (default: $PULUMI_BACKEND_URL, else a file backend in the state dir)",
    )
    parser.add_argument(
        "--role-name",
        default=None,
        metavar="NAME",
        help="role assumed in each member account via aws:assumeRoles (default: the settings' "
        "adminRoleName, the only role the SCPs let change logging resources; '' to use the "
        "current credentials everywhere)",
    )
    if action in ("preview", "up"):
        parser.add_argument(
            "--policy-pack",
            action="append",
            default=[],
            metavar="DIR",
            help="run this policy pack too (repeatable), e.g. --policy-pack policy",
        )
    if action == "preview":
        parser.add_argument(
            "--offline",
            action="store_true",
            help="no cloud, no CLI: render each stack under mocks and judge it with the pack",
        )
        parser.add_argument(
            "--workers",
            type=whole_number(1),
            metavar="N",
            help="offline render processes (default: CPU count)",
        )
        parser.add_argument(
            "--judge",
            choices=JUDGES,
            default=JUDGES[0],
            help="offline: judge in each render process with the pack's own servicer "
            "(in-process, default), or over gRPC with the pack process, as the engine does",
        )
        parser.add_argument(
            "--cross-check-every",
            type=whole_number(0, "0 never cross-checks"),
            default=CROSS_CHECK_EVERY,
            metavar="N",
            help="offline, in-process: judge every Nth stack with the pack process too; a "
            f"disagreement is that stack's error, with both verdicts (default {CROSS_CHECK_EVERY})",
        )
        parser.add_argument(
            "--no-cache",
            action="store_true",
            help="offline: render and judge every stack, even one whose config, program, pack "
            "and SDKs match a verdict in the state dir",
        )
    if action == "up":
        parser.add_argument(
            "--resume",
            action="store_true",
            help="skip stacks the previous run already brought up with the same config",
        )
        parser.add_argument(
            "--skip-preflight",
            action="store_true",
            help="do not run doctor's checks first (they stop up when one fails; a saved "
            "--plan skips them anyway)",
        )
    if action in ("preview", "up"):
        parser.add_argument(
            "--bootstrap",
            action="store_true",
            help="the first run: only the management stack, without the trail, to create "
            "adminRoleName everywhere (and the SCPs) before the log-archive stack exists",
        )
    if action in ("up", "destroy"):
        parser.add_argument(
            "--yes",
            action="store_true",
            help="do not ask for confirmation (required without a terminal, e.g. in CI)",
        )


def doctor_parser(commands: Any) -> None:
    doctor = commands.add_parser(
        "doctor",
        help="check the organization's prerequisites and say how to fix each",
        description="Check what org-logging needs of the organization before anything deploys "
        "(trusted access, SCPs, other trails, the log-archive account, regions, adminRoleName, "
        "Firehose quotas, the partition) and print each check with the command or setting "
        "that fixes it. Exit 0 when no check fails (warnings allowed), 1 when one does.",
    )
    org_arguments(doctor)
    doctor.add_argument("--json", action="store_true", help="print the checks as JSON")
    doctor.add_argument(
        "--fix",
        action="store_true",
        help="make the safe, reversible fixes (trusted access for CloudTrail and StackSets, "
        "SCPs on the root) after asking, then check again",
    )
    doctor.add_argument(
        "--yes",
        action="store_true",
        help="with --fix: do not ask (required without a terminal, e.g. in CI)",
    )
    doctor.add_argument(
        "--all-accounts",
        action="store_true",
        help="assume adminRoleName in every enrolled account (default: a sample of 10 with the "
        "log-archive and management accounts)",
    )
