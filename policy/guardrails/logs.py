"""CloudWatch Logs: destinations open to the organization only; log groups named by service."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from guardrails.values import (
    as_list,
    config_of,
    declare_config,
    is_unknown,
    never_crash,
    parse_document,
    statements,
    unproxied,
)
from pulumi_policy import EnforcementLevel, ResourceValidationPolicy

DESTINATION_POLICY = "aws:cloudwatch/logDestinationPolicy:LogDestinationPolicy"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
SUBSCRIPTION_ACTIONS = {"logs:putsubscriptionfilter", "logs:putaccountpolicy"}
ORG_KEYS = {"aws:principalorgid", "aws:principalorgpaths"}
DESTINATION = "log-destination-org-scoped"
GROUP_NAMING = "log-group-naming"


def everyone(principal: Any) -> bool:
    if principal == "*":
        return True
    return isinstance(principal, Mapping) and "*" in as_list(principal.get("AWS"))


def org_scoped(condition: Any) -> bool:
    if not isinstance(condition, Mapping):
        return False
    return any(
        isinstance(tests, Mapping) and any(str(k).lower() in ORG_KEYS for k in tests)
        for operator, tests in condition.items()
        if str(operator).startswith(("StringEquals", "StringLike", "ForAnyValue:String"))
    )


@never_crash(DESTINATION)
def validate_destination_policy(args: Any, report_violation: Any) -> None:
    if args.resource_type != DESTINATION_POLICY:
        return
    config_of(args, DESTINATION)  # it has no properties: any given is a mistake
    raw = unproxied(args.props).get("accessPolicy")
    if is_unknown(raw):
        return
    document, error = parse_document(raw)
    if document is None:
        report_violation(f"Destination policy {args.name!r}: accessPolicy {error}.")
        return
    for index, stmt in enumerate(statements(document)):
        if stmt.get("Effect") != "Allow":
            continue
        sid = stmt.get("Sid") or f"#{index}"
        extra = sorted(
            str(a)
            for a in as_list(stmt.get("Action"))
            if str(a).lower() not in SUBSCRIPTION_ACTIONS
        )
        if extra or "NotAction" in stmt:
            report_violation(
                f"Destination policy {args.name!r}, statement {sid}: allow only "
                "logs:PutSubscriptionFilter and logs:PutAccountPolicy "
                f"(found {extra or 'NotAction'})."
            )
        if everyone(stmt.get("Principal")) and not org_scoped(stmt.get("Condition")):
            report_violation(
                f"Destination policy {args.name!r}, statement {sid} lets any AWS account "
                "subscribe; add Condition StringEquals aws:PrincipalOrgID <your org id>."
            )


log_destination_org_scoped = ResourceValidationPolicy(
    name=DESTINATION,
    description=(
        "A CloudWatch Logs destination accepts subscriptions only from the organization "
        "(aws:PrincipalOrgID), and grants nothing else."
    ),
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=validate_destination_policy,
    config_schema=declare_config(DESTINATION),
)


@never_crash(GROUP_NAMING)
def validate_log_group_name(args: Any, report_violation: Any) -> None:
    if args.resource_type != LOG_GROUP:
        return
    config = config_of(args, GROUP_NAMING)
    props = unproxied(args.props)
    name = props.get("name")
    if is_unknown(name):
        return
    allowed = [p for p in as_list(config.get("allowedPrefixes")) if isinstance(p, str)]
    allowed = allowed or ["/aws/"]
    if not isinstance(name, str) or not name:
        report_violation(
            f"Log group {args.name!r} has no explicit name; name it "
            f"{allowed[0]}<service>/... so its source service can be told from the name."
        )
        return
    if not name.startswith(tuple(allowed)):
        report_violation(
            f"Log group {name!r} does not start with {' or '.join(allowed)}; name it "
            f"{allowed[0]}<service>/<resource> (e.g. /aws/apigateway/<api>/<stage>) so the "
            "archive can tell which service wrote it."
        )


log_group_naming = ResourceValidationPolicy(
    name=GROUP_NAMING,
    description=(
        "Log groups are named /aws/<service>/..., so the archive can tell which service wrote "
        "each log."
    ),
    enforcement_level=EnforcementLevel.ADVISORY,
    validate=validate_log_group_name,
    config_schema=declare_config(
        GROUP_NAMING,
        {
            "allowedPrefixes": {
                "type": "array",
                "items": {"type": "string"},
                "description": "Accepted log group name prefixes, plain text (default: /aws/).",
            }
        },
    ),
)
