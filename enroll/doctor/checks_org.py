"""The organization's own prerequisites: trusted access (CloudTrail, StackSets), SCPs and room
for ours, other organization trails, and the log-archive account."""

from __future__ import annotations

from components import naming
from enroll.doctor.context import Context
from enroll.doctor.model import FixCall, Result, ok
from policy import conventions
from policy.conventions import SCP_MAX_PER_TARGET

CLOUDTRAIL = "cloudtrail.amazonaws.com"
STACKSETS = "member.org.stacksets.cloudformation.amazonaws.com"
SCP = "SERVICE_CONTROL_POLICY"


def cloudtrail_access(ctx: Context) -> Result:
    """An organization trail needs trusted access for CloudTrail, or CreateTrail fails with
    CloudTrailAccessNotEnabledException:
    https://docs.aws.amazon.com/organizations/latest/userguide/services-that-can-integrate-cloudtrail.html
    """
    if CLOUDTRAIL in ctx.aws.service_principals():
        return ok(f"{CLOUDTRAIL} has trusted access")
    return Result(
        "fail",
        f"trusted access for CloudTrail ({CLOUDTRAIL}) is not enabled, so the management "
        "stack cannot create the organization trail",
        f"aws organizations enable-aws-service-access --service-principal {CLOUDTRAIL}",
        FixCall("organizations", "EnableAWSServiceAccess", {"ServicePrincipal": CLOUDTRAIL}),
    )


def stacksets_access(ctx: Context) -> Result:
    """Service-managed StackSets (the admin-role StackSet) need CloudFormation's organizations
    access activated; trusted access for the service principal alone is not enough:
    https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/stacksets-orgs-activate-trusted-access.html
    """
    if ctx.partition is conventions.AWS_CN:
        return ok(
            "not needed: service-managed StackSets are not available in aws-cn; create "
            "adminRoleName in each account by other means"
        )
    principal = STACKSETS in ctx.aws.service_principals()
    status = ctx.aws.stacksets_access()
    if status == "ENABLED" and principal:
        return ok("CloudFormation's organizations access is ENABLED")
    if principal:
        problem = (
            f"{STACKSETS} has trusted access, but CloudFormation's organizations access is "
            f'{status or "not reported"}: service-managed StackSets fail with "You must enable '
            'organizations access to operate a service managed stack set"'
        )
    else:
        problem = (
            f"StackSets has no trusted access ({STACKSETS}) and CloudFormation's organizations "
            f"access is {status or 'not reported'}: the StackSet that creates adminRoleName in "
            "member accounts cannot deploy"
        )
    return Result(
        "fail",
        problem,
        "aws cloudformation activate-organizations-access",
        FixCall("cloudformation", "ActivateOrganizationsAccess"),
    )


def scp_policy_type(ctx: Context) -> Result:
    root = ctx.org.root_id
    status = ctx.aws.root_policy_types(root).get(SCP, "DISABLED")
    if status == "ENABLED":
        return ok(f"SCPs are enabled on root {root}")
    return Result(
        "fail",
        f"service control policies are {status} on root {root}: the protect-logging and "
        "deny-leave SCPs cannot be attached",
        f"aws organizations enable-policy-type --root-id {root} --policy-type {SCP}",
        FixCall("organizations", "EnablePolicyType", {"RootId": root, "PolicyType": SCP}),
    )


def scp_room(ctx: Context) -> Result:
    """At most 5 SCPs per target, FullAWSAccess included; ours are 2:
    https://docs.aws.amazon.com/organizations/latest/userguide/orgs_reference_limits.html
    """
    prefix = ctx.settings.name_prefix
    ours = {naming.scp_deny_leave_name(prefix), naming.scp_protect_logging_name(prefix)}
    root = ctx.org.root_id
    targets = tuple(ctx.settings.values.get("scpTargets") or ()) or (root,)
    unknown = [t for t in targets if t != root and t not in ctx.org.ou_names]
    if unknown:
        return Result(
            "fail",
            f"scpTargets {', '.join(unknown)} not in organization {ctx.org.id}",
            f"scpTargets in {ctx.settings.path}: the root ({root}) or ids of its OUs",
        )
    if ctx.aws.root_policy_types(root).get(SCP) != "ENABLED":
        return Result(
            "warn",
            "cannot count the SCPs attached until SCPs are enabled on the root",
            f"aws organizations enable-policy-type --root-id {root} --policy-type {SCP}",
        )
    full, found = [], []
    for target in targets:
        others = [p for p in ctx.aws.scps(target) if p.name not in ours]
        names = ", ".join(p.name for p in others) or "none"
        found.append(f"{target}: {len(others)} other SCPs ({names})")
        if len(others) + len(ours) > SCP_MAX_PER_TARGET:
            detach = f"aws organizations detach-policy --policy-id {others[-1].id} --target-id"
            full.append((target, len(others), f"{detach} {target}"))
    if not full:
        return ok(
            f"room for our {len(ours)} SCPs on {', '.join(targets)} "
            f"(at most {SCP_MAX_PER_TARGET} per target)",
            tuple(found),
        )
    return Result(
        "fail",
        "; ".join(
            f"{target} has {count} SCPs besides ours, and ours need {len(ours)} of the "
            f"{SCP_MAX_PER_TARGET} AWS allows per target"
            for target, count, _ in full
        ),
        "detach one from each (" + "; ".join(command for _, _, command in full) + "), "
        f"or set scpTargets in {ctx.settings.path} to OUs with room",
        details=tuple(found),
    )


def other_trails(ctx: Context) -> Result:
    """A second trail of management events is charged (the first copy is free):
    https://aws.amazon.com/cloudtrail/pricing/ and
    https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_EventSelector.html
    """
    ours = naming.trail_name(ctx.settings.name_prefix)
    others = [t for t in ctx.aws.trails() if t.organization and t.name != ours]
    copies = [t for t in others if ctx.aws.logs_management_events(t)]
    if not copies:
        quiet = f" ({', '.join(t.name for t in others)} logs no management events)"
        return ok("no other organization trail" + (quiet if others else ""))
    names = ", ".join(f"{t.name} (home {t.home_region})" for t in copies)
    first = copies[0]
    return Result(
        "warn",
        f"organization trail {names} already records management events in every account; "
        f"ours ({ours}) is a second copy, and only the first copy is free: CloudTrail charges "
        "each additional copy per 100,000 events",
        "accept the cost, or stop the other trail's management events: aws cloudtrail "
        f"put-event-selectors --region {first.home_region} --trail-name {first.name} "
        "--event-selectors '[{\"IncludeManagementEvents\": false}]' (Control Tower's trail: "
        "its landing zone's CloudTrail setting)",
        details=tuple(t.arn for t in copies),
    )


def _true(value: str | None) -> bool:
    return value is not None and value.strip().lower() == "true"


def log_archive_account(ctx: Context) -> Result:
    """The log archive is a dedicated, ACTIVE member account that is enrolled like any other
    (the SCPs do not bind the management account)."""
    archive, path = ctx.log_archive, ctx.settings.path
    account = ctx.account(archive)
    setting = f"logArchiveAccountId in {path}"
    if account is None:
        return Result(
            "fail", f"{archive} is not in organization {ctx.org.id}", f"{setting}: a member"
        )
    if archive == ctx.management:
        return Result(
            "fail",
            f"{archive} is the management account: SCPs do not bind it, and its "
            "administrators would own the logs",
            f"{setting}: a dedicated member account",
        )
    if account.state != "ACTIVE":
        return Result("fail", f"{archive} is {account.state}", f"{setting}: an ACTIVE account")
    exclude = ctx.settings.exclude
    if archive in exclude.account_ids:
        problem, fix = "listed in exclude.accountIds", f"remove {archive} from exclude.accountIds"
    elif any(ou in exclude.ou_ids for ou in account.ou_path):
        ou = next(ou for ou in account.ou_path if ou in exclude.ou_ids)
        problem, fix = f"below excluded OU {ou}", f"remove {ou} from exclude.ouIds"
    elif exclude.opt_out_tag and _true(account.tags.get(exclude.opt_out_tag)):
        tag = exclude.opt_out_tag
        problem = f"opted out by tag {tag}=true"
        fix = f"aws organizations untag-resource --resource-id {archive} --tag-keys {tag}"
    else:
        return ok(f"{ctx.label(archive)} is an ACTIVE member account, enrolled")
    return Result(
        "fail",
        f"{ctx.label(archive)} is {problem}: it would get no source stacks",
        fix if fix.startswith("aws ") else f"{fix} in {path}",
    )
