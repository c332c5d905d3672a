"""Every check, in order, each isolated from the others' trouble; and `--fix`: the few safe,
reversible calls, each announced before it is made, then every check again."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

from enroll.doctor import checks_accounts, checks_org, checks_plan
from enroll.doctor.context import Context
from enroll.doctor.model import Finding, FixCall, FixOutcome, Report, Result
from enroll.org.awscalls import MalformedReply, error_code
from enroll.org.discovery import NO_CREDENTIALS, DiscoveryError
from enroll.util.awserrors import CREDENTIALS_CODES


@dataclass(frozen=True)
class Check:
    id: str
    title: str
    run: Callable[[Context], Result]


CHECKS: tuple[Check, ...] = (
    Check("cloudtrail-trusted-access", "CloudTrail trusted access", checks_org.cloudtrail_access),
    Check("stacksets-access", "StackSets organizations access", checks_org.stacksets_access),
    Check("scp-policy-type", "SCPs enabled on the root", checks_org.scp_policy_type),
    Check("scp-room", "Room for our SCPs", checks_org.scp_room),
    Check("other-org-trails", "Other organization trails", checks_org.other_trails),
    Check("log-archive-account", "Log-archive account", checks_org.log_archive_account),
    Check("enrolled-regions", "Enrolled regions enabled", checks_accounts.enrolled_regions),
    Check("admin-role", "adminRoleName can be assumed", checks_accounts.admin_role),
    Check("firehose-partitions", "Firehose active partitions", checks_plan.firehose_partitions),
    Check("firehose-throughput", "Firehose throughput", checks_plan.firehose_throughput),
    Check("principal-org-id", "aws:PrincipalOrgID", checks_plan.principal_org_id),
)
CHECK_IDS = tuple(check.id for check in CHECKS)


def could_not_check(error: Exception) -> Result:
    """A check AWS would not answer fails, with what AWS said."""
    if isinstance(error, ClientError):
        code = error_code(error)
        message = error.response.get("Error", {}).get("Message", str(error))
        problem = f"could not check: AWS refused {error.operation_name} ({code}): {message}"
        fix = (
            "run doctor with the management account's credentials"
            if code in CREDENTIALS_CODES
            else ""
        )
        return Result("fail", problem, fix)
    if isinstance(error, NoCredentialsError):
        return Result("fail", f"could not check: {NO_CREDENTIALS}")
    return Result("fail", f"could not check: {error}")


# What `up --bootstrap` creates, so its preflight does not ask for it.
BOOTSTRAP_CREATES = frozenset({"admin-role"})


def run_checks(ctx: Context, *, skip: frozenset[str] = frozenset()) -> Report:
    """Every check but those in `skip` (by id)."""
    findings = []
    for check in (c for c in CHECKS if c.id not in skip):
        try:
            result = check.run(ctx)
        except (ClientError, BotoCoreError, MalformedReply, DiscoveryError) as error:
            result = could_not_check(error)
        findings.append(Finding(check.id, check.title, result))
    return Report(tuple(findings))


def apply_fixes(
    ctx: Context, calls: tuple[FixCall, ...], say: Callable[[str], None]
) -> tuple[FixOutcome, ...]:
    """Make each call, saying it first; a refused call is reported and the others still run."""
    outcomes = []
    for fix in calls:
        say(f"calling {fix}")
        try:
            ctx.aws.perform(fix)
        except (ClientError, BotoCoreError, MalformedReply) as error:
            problem = could_not_check(error).problem.removeprefix("could not check: ")
            say(f"  failed: {problem}")
            outcomes.append(FixOutcome(fix, problem))
        else:
            outcomes.append(FixOutcome(fix))
    return tuple(outcomes)


def fix_and_check_again(ctx: Context, report: Report, say: Callable[[str], None]) -> Report:
    """`--fix` once approved: the calls, then every check again (the report carries both)."""
    outcomes = apply_fixes(ctx, report.fixable, say)
    return Report(run_checks(ctx).findings, outcomes)
