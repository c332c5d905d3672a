"""Organizations: the two SCPs that keep logging on, and the limits AWS puts on SCPs."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

import conventions
from guardrails.values import (
    action_matches,
    as_list,
    config_of,
    contains_unknown,
    declare_config,
    is_true,
    is_unknown,
    never_crash,
    parse_document,
    statements,
    unproxied,
)
from pulumi_policy import EnforcementLevel, ResourceValidationPolicy, StackValidationPolicy

SCP = "aws:organizations/policy:Policy"
ATTACHMENT = "aws:organizations/policyAttachment:PolicyAttachment"
TRAIL = "aws:cloudtrail/trail:Trail"
SCP_MAX_CHARS = conventions.SCP_MAX_CHARS
SCP_MAX_PER_TARGET = conventions.SCP_MAX_PER_TARGET
PRESENCE = "scp-presence"
SIZE = "scp-size-limit"
COUNT = "scp-count-limit"

DENY_LEAVE_ACTIONS = ("organizations:LeaveOrganization",)
# The core of "protect logging": stopping the trail, redirecting or deleting S3-delivered logs,
# and removing the account-level CloudWatch Logs subscription. Configurable.
PROTECT_LOGGING_ACTIONS = (
    "cloudtrail:StopLogging",
    "cloudtrail:DeleteTrail",
    "s3:PutReplicationConfiguration",
    "s3:PutBucketPolicy",
    "s3:PutLifecycleConfiguration",
    "s3:DeleteBucket",
    "logs:DeleteAccountPolicy",
    "logs:PutAccountPolicy",
)
# A Deny may exempt named roles (the admin role); any other condition can switch it off.
EXEMPTION_OPERATORS = ("ArnNotLike", "ArnNotEquals", "StringNotLike", "StringNotEquals")
EXEMPTION_KEYS = ("aws:principalarn",)
ROLE_ARN = re.compile(r"^arn:[a-z-]+:iam::(\*|[0-9]{12}):role/(?:[\w+=,.@-]+/)*[\w+=,.@-]+$")


def is_scp(props: Mapping[str, Any]) -> bool:
    kind = props.get("type")
    return kind in (None, "", "SERVICE_CONTROL_POLICY")


def exemption_problem(condition: Any) -> str | None:
    """None if the condition only exempts specific roles; else why it can switch the deny off."""
    if condition in (None, {}):
        return None
    if not isinstance(condition, Mapping):
        return "its Condition is not an object"
    for operator, tests in condition.items():
        if operator not in EXEMPTION_OPERATORS or not isinstance(tests, Mapping):
            return f"its Condition operator {operator!r} can switch the deny off"
        for key, values in tests.items():
            if str(key).lower() not in EXEMPTION_KEYS:
                return f"its Condition on {key!r} can switch the deny off"
            for value in as_list(values):
                if not isinstance(value, str) or not ROLE_ARN.fullmatch(value):
                    return (
                        f"its exemption {value!r} is not one named role (a wildcard in the role "
                        "name exempts too much)"
                    )
    return None


def denied_actions(
    document: Mapping[str, Any], actions: tuple[str, ...]
) -> tuple[set[str], list[str]]:
    """Which of `actions` the document denies for sure, and notes on statements that don't count.

    Only `Effect: Deny` with `Action` counts (wildcards match); a `NotAction` deny, a deny
    limited by a condition other than a named-role exemption, or one not on every resource, is
    not relied on.
    """
    denied: set[str] = set()
    notes: list[str] = []
    for index, stmt in enumerate(statements(document)):
        if stmt.get("Effect") != "Deny":
            continue
        sid = stmt.get("Sid") or f"#{index}"
        if "NotAction" in stmt:
            notes.append(f"statement {sid} uses NotAction, which is not relied on")
            continue
        matched = {
            a for a in actions if any(action_matches(p, a) for p in as_list(stmt.get("Action")))
        }
        if not matched:
            continue
        problem = exemption_problem(stmt.get("Condition"))
        if problem:
            notes.append(f"statement {sid}: {problem}")
            continue
        if "NotResource" in stmt:
            notes.append(f"statement {sid} uses NotResource, which is not relied on")
            continue
        if not any(
            r == "*" or (isinstance(r, str) and r.startswith("arn:"))
            for r in as_list(stmt.get("Resource"))
        ):
            notes.append(f"statement {sid} has no Resource")
            continue
        if actions == DENY_LEAVE_ACTIONS and "*" not in as_list(stmt.get("Resource")):
            notes.append(f"statement {sid} denies leaving on some resources only; use Resource '*'")
            continue
        denied |= matched
    return denied, notes


def policy_id_of(props: Mapping[str, Any]) -> str | None:
    """The SCP's id: its `id` output, or the last part of its ARN (`.../p-xxxxxxxx`)."""
    if isinstance(props.get("id"), str):
        return props["id"]
    arn = props.get("arn")
    return arn.rsplit("/", 1)[-1] if isinstance(arn, str) and "/" in arn else None


def links(attachment: Any, scp: Any, scp_id: Any) -> bool:
    """An attachment belongs to an SCP by id (known at `up`) or by dependency (preview)."""
    policy_id = unproxied(attachment.props).get("policyId")
    if isinstance(policy_id, str) and policy_id and policy_id == scp_id:
        return True
    return any(dep.urn == scp.urn for dep in attachment.property_dependencies.get("policyId", []))


def manages_organization(resources: list[Any]) -> bool:
    for resource in resources:
        kind = resource.resource_type
        if kind.startswith("aws:organizations/"):
            return True
        if kind == TRAIL and is_true(unproxied(resource.props).get("isOrganizationTrail")):
            return True
    return False


@never_crash(PRESENCE)
def validate_scp_presence(args: Any, report_violation: Any) -> None:
    resources = list(args.resources)
    if not manages_organization(resources):
        return
    config = config_of(args, PRESENCE)
    targets = [t for t in as_list(config.get("targets")) if isinstance(t, str)]
    protect_actions = (
        tuple(a for a in as_list(config.get("protectedActions")) if isinstance(a, str))
        or PROTECT_LOGGING_ACTIONS
    )
    scps = [r for r in resources if r.resource_type == SCP and is_scp(unproxied(r.props))]
    attachments = [r for r in resources if r.resource_type == ATTACHMENT]
    where = f"the targets {targets}" if targets else "the organization root (r-...)"

    for label, actions, fix in (
        ("deny-leave", DENY_LEAVE_ACTIONS, "Deny organizations:LeaveOrganization on Resource '*'"),
        ("protect-logging", protect_actions, f"Deny {', '.join(protect_actions)}"),
    ):
        best_notes: list[str] = []
        satisfied_targets: set[str] = set()
        found_any = False
        undetermined = False
        for scp in scps:
            props = unproxied(scp.props)
            content = props.get("content")
            if is_unknown(content):
                undetermined = True  # computed content: only `up` can tell what it denies
                continue
            document, _ = parse_document(content)
            if document is None:
                continue  # scp-size-limit reports malformed content
            denied, notes = denied_actions(document, actions)
            if denied != set(actions):
                if denied:
                    missing = sorted(set(actions) - denied)
                    best_notes.append(f"{scp.name} does not deny {', '.join(missing)}")
                best_notes.extend(f"{scp.name}: {n}" for n in notes)
                continue
            found_any = True
            attached = {
                unproxied(a.props).get("targetId")
                for a in attachments
                if links(a, scp, policy_id_of(props))
            }
            attached = {t for t in attached if isinstance(t, str)}
            satisfied_targets |= attached
        if not found_any and undetermined:
            continue
        if not found_any:
            detail = f" ({'; '.join(best_notes)})" if best_notes else ""
            report_violation(
                f"This stack manages the organization but has no {label} SCP{detail}. Add an "
                f"aws.organizations.Policy of type SERVICE_CONTROL_POLICY with a statement "
                f"'{fix}' (a named admin role may be exempted with ArnNotLike aws:PrincipalArn), "
                f"and attach it to {where}."
            )
            continue
        if targets:
            missing_targets = [t for t in targets if t not in satisfied_targets]
        else:
            missing_targets = (
                [] if any(t.startswith("r-") for t in satisfied_targets) else ["the root"]
            )
        if missing_targets:
            report_violation(
                f"The {label} SCP is not attached to {', '.join(missing_targets)}. Add an "
                f"aws.organizations.PolicyAttachment of it to every target: {where}."
            )


scp_presence = StackValidationPolicy(
    name=PRESENCE,
    description=(
        "A stack that manages the organization contains the deny-leave SCP and the "
        "protect-logging SCP, both attached to the root or every configured target."
    ),
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=validate_scp_presence,
    config_schema=declare_config(
        PRESENCE,
        {
            "targets": {
                "type": "array",
                "items": {"type": "string"},
                "description": "Root or OU ids both SCPs must be attached to (default: a root).",
            },
            "protectedActions": {
                "type": "array",
                "items": {"type": "string"},
                "description": "Actions the protect-logging SCP must deny (default: trail, "
                "log-bucket and subscription tampering).",
            },
        },
    ),
)


# ---- size and count limits -------------------------------------------------------------------


@never_crash(SIZE)
def validate_scp_size(args: Any, report_violation: Any) -> None:
    if args.resource_type != SCP:
        return
    props = unproxied(args.props)
    if not is_scp(props):
        return
    config_of(args, SIZE)  # it has no properties: any given is a mistake
    content = props.get("content")
    if content is None or contains_unknown(content):
        return  # its size is not known until the unknown parts are
    document, error = parse_document(content)
    if document is None:
        report_violation(f"SCP {args.name!r}: its content {error}. Give a JSON policy document.")
        return
    size = len(content) if isinstance(content, str) else len(json.dumps(document))
    minified = len(json.dumps(document, separators=(",", ":")))
    if size > SCP_MAX_CHARS:
        hint = (
            f" Minified it is {minified}: write it with json.dumps(..., separators=(',', ':'))."
            if minified <= SCP_MAX_CHARS
            else " Split it into two SCPs or use wildcards."
        )
        report_violation(
            f"SCP {args.name!r} is {size} characters; AWS allows {SCP_MAX_CHARS}.{hint}"
        )


@never_crash(COUNT)
def validate_scp_count(args: Any, report_violation: Any) -> None:
    per_target: dict[str, int] = {}
    for resource in args.resources:
        if resource.resource_type == ATTACHMENT:
            target = unproxied(resource.props).get("targetId")
            if isinstance(target, str):
                per_target[target] = per_target.get(target, 0) + 1
    if not per_target:
        return
    # FullAWSAccess is attached everywhere by default and counts towards the quota.
    full_access = not config_of(args, COUNT).get("fullAwsAccessDetached")
    for target, count in sorted(per_target.items()):
        total = count + (1 if full_access else 0)
        if total > SCP_MAX_PER_TARGET:
            counted = f" (with FullAWSAccess, {total})" if full_access else ""
            report_violation(
                f"{count} SCPs are attached to {target} in this stack{counted}; AWS allows "
                f"{SCP_MAX_PER_TARGET} per target. Merge SCPs, or attach some to OUs."
            )


SIZE_DESCRIPTION = "Every SCP fits AWS's 5,120-character limit and no target gets more than 5 SCPs."
scp_size_limit = ResourceValidationPolicy(
    name=SIZE,
    description=SIZE_DESCRIPTION,
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=validate_scp_size,
    config_schema=declare_config(SIZE),
)
scp_count_limit = StackValidationPolicy(
    name=COUNT,
    description=SIZE_DESCRIPTION,
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=validate_scp_count,
    config_schema=declare_config(
        COUNT,
        {
            "fullAwsAccessDetached": {
                "type": "boolean",
                "description": "Set when FullAWSAccess is not attached, freeing one slot.",
            }
        },
    ),
)
