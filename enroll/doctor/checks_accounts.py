"""Per-account prerequisites: the enrolled regions are enabled where the stacks need them, and
adminRoleName can be assumed in the accounts whose stacks run as it."""

from __future__ import annotations

import hashlib
from concurrent.futures import ThreadPoolExecutor

from botocore.exceptions import BotoCoreError, ClientError

from components import naming
from enroll.doctor.context import Context
from enroll.doctor.model import Result, ok
from enroll.org.awscalls import error_code
from enroll.org.discovery import DiscoveryError

SAMPLE_NOTE = (
    " (a sample with the log archive and the management account; --all-accounts checks every one)"
)
SHOWN = 3  # items a table cell lists before "and N more (--json lists them)"


def _listing(items: list[str], shown: int = SHOWN) -> str:
    more = len(items) - shown
    return "; ".join(items[:shown]) + (f"; and {more} more (--json lists them)" if more > 0 else "")


def enable_region_command(ctx: Context, account: str, region: str) -> str:
    """The management account names itself by omitting --account-id:
    https://docs.aws.amazon.com/accounts/latest/reference/API_EnableRegion.html"""
    named = "" if account == ctx.management else f" --account-id {account}"
    return f"aws account enable-region{named} --region-name {region}"


def enrolled_regions(ctx: Context) -> Result:
    """The log archive holds a destination in every enrolled region and the management account
    the trail in the home region; a member that has not enabled an opt-in region gets no
    source stack there."""
    opt_in = ctx.opt_in_regions()
    if not opt_in:
        return ok("no enrolled region is opt-in: every account has them all")
    try:
        regions = ctx.enabled_regions() or {}
    except DiscoveryError as error:
        return Result(
            "fail",
            str(error),
            "aws organizations enable-aws-service-access --service-principal account.amazonaws.com",
        )
    needs = {ctx.log_archive: opt_in}
    if ctx.settings.home_region in opt_in:
        needs[ctx.management] = [ctx.settings.home_region]
    core = [
        (account, region)
        for account, wanted in needs.items()
        for region in wanted
        if region not in regions.get(account, frozenset())
    ]
    gaps = [
        (account, region)
        for account in ctx.enrolled()
        if account not in needs
        for region in opt_in
        if region not in regions.get(account, frozenset())
    ]
    commands = [enable_region_command(ctx, a, r) for a, r in core + gaps]
    details = tuple(f"{ctx.label(a)}: {r} not enabled" for a, r in core + gaps) + tuple(commands)
    if core:
        what = [f"{ctx.label(a)} has not enabled {r}" for a, r in core]
        return Result(
            "fail",
            f"{_listing(what)}; org-logging needs it there"
            + (f" ({len(gaps)} member account x region gaps too)" if gaps else ""),
            _listing(commands[: len(core)]) + f", or remove it from regions in {ctx.settings.path}",
            details=details,
        )
    if gaps:
        what = [f"{ctx.label(a)}: {r}" for a, r in gaps]
        pairs = "pair is" if len(gaps) == 1 else "pairs are"
        return Result(
            "warn",
            f"{len(gaps)} enrolled account x opt-in region {pairs} not enabled, so no source "
            f"stack runs there: {_listing(what)}",
            _listing(commands),
            details=details,
        )
    return ok(f"every enrolled account has enabled {', '.join(opt_in)}")


def sample(ctx: Context, accounts: list[str]) -> list[str]:
    """The log archive and the management account, then up to `ctx.sample_size` in all,
    chosen by a hash of the id: the same organization always gives the same sample, spread
    over its OUs rather than its oldest accounts."""
    if ctx.all_accounts:
        return accounts
    core = [a for a in (ctx.log_archive, ctx.management) if a in accounts]
    rest = sorted(
        (a for a in accounts if a not in core),
        key=lambda a: hashlib.sha256(a.encode()).hexdigest(),
    )
    return core + rest[: max(0, ctx.sample_size - len(core))]


def _assume(ctx: Context, account: str, role: str) -> str:
    """ "" when AssumeRole succeeds, else AWS's error code (or the client's error)."""
    try:
        ctx.aws.assume(naming.iam_role_arn(ctx.settings.home_region, account, role))
    except ClientError as error:
        return error_code(error) or "ClientError"
    except BotoCoreError as error:
        return type(error).__name__
    return ""


def admin_role(ctx: Context) -> Result:
    """Every log-archive and source stack runs as adminRoleName, the management account's
    source stacks included: the role must exist there and trust the deployer."""
    role = ctx.settings.values["adminRoleName"]
    active = {a.id for a in ctx.org.accounts if a.state == "ACTIVE"}
    needed = sorted(({*ctx.members(), ctx.log_archive, ctx.management}) & active)
    chosen = sample(ctx, needed)
    known: dict[str, str] = ctx.cache.setdefault("assumed", {})
    todo = [a for a in chosen if a not in known]
    with ThreadPoolExecutor(max(1, min(ctx.workers, len(todo) or 1))) as pool:
        known.update(zip(todo, pool.map(lambda a: _assume(ctx, a, role), todo), strict=True))
    failed = [(a, known[a]) for a in chosen if known[a]]
    sampled = len(chosen) < len(needed)
    scope = f"{len(chosen)} of {len(needed)} accounts" if sampled else f"all {len(needed)} accounts"
    note = SAMPLE_NOTE if sampled else ""
    if not failed:
        return ok(f"assumed {role} in {scope}{note}", tuple(chosen))
    where = [f"{ctx.label(a)}: {code}" for a, code in failed]
    by_hand = (
        f"; in the management account by hand: aws iam create-role --role-name {role} "
        "--assume-role-policy-document file://trust.json"
        if any(a == ctx.management for a, _ in failed)
        else ""
    )
    return Result(
        "fail",
        f"cannot assume {role} in {len(failed)} of "
        + (
            f"{len(chosen)} sampled accounts (of {len(needed)}; --all-accounts checks every one)"
            if sampled
            else f"{len(needed)} accounts"
        )
        + f": {_listing(where)}",
        f"create {role} in each, trusting the deployer (members: the admin-role StackSet){by_hand}",
        details=tuple(where),
    )
