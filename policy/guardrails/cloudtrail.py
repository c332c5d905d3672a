"""CloudTrail: the organization trail records everything, verifiably, encrypted."""

from __future__ import annotations

from typing import Any

from guardrails.values import (
    config_of,
    declare_config,
    is_false,
    is_true,
    is_unknown,
    never_crash,
    unproxied,
)
from pulumi_policy import EnforcementLevel, ResourceValidationPolicy

TRAIL = "aws:cloudtrail/trail:Trail"
ORG_TRAIL = "org-trail-hardened"


@never_crash(ORG_TRAIL)
def validate_org_trail(args: Any, report_violation: Any) -> None:
    if args.resource_type != TRAIL:
        return
    props = unproxied(args.props)
    if not is_true(props.get("isOrganizationTrail")):
        return
    config_of(args, ORG_TRAIL)  # it has no properties: any given is a mistake
    name = args.name

    def require(key: str, fix: str, *, default_ok: bool = False) -> None:
        value = props.get(key)
        if is_unknown(value):
            return
        if default_ok and value is None:
            return  # the provider's default is the safe value
        if not is_true(value):
            report_violation(f"Organization trail {name!r}: {fix}")

    require("isMultiRegionTrail", "set isMultiRegionTrail to true, or regions go unrecorded.")
    require(
        "includeGlobalServiceEvents",
        "keep includeGlobalServiceEvents true, or IAM and STS events go unrecorded.",
        default_ok=True,
    )
    require(
        "enableLogFileValidation",
        "set enableLogFileValidation to true, so tampering with delivered logs is detectable.",
    )
    if is_false(props.get("enableLogging")):
        report_violation(
            f"Organization trail {name!r}: enableLogging is false; the trail records nothing."
        )
    key = props.get("kmsKeyId")
    if not is_unknown(key) and not key:
        report_violation(
            f"Organization trail {name!r}: set kmsKeyId to the central KMS key (its alias ARN "
            "works), so the logs are encrypted with a key the log archive controls."
        )


org_trail_hardened = ResourceValidationPolicy(
    name=ORG_TRAIL,
    description=(
        "The organization trail is multi-region, records global service events, validates "
        "log files, is encrypted with KMS and is logging."
    ),
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=validate_org_trail,
    config_schema=declare_config(ORG_TRAIL),
)
