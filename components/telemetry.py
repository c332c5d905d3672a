"""Organization telemetry rules (management account, `telemetryRules`): turn log sources on
everywhere, into log groups the source stacks' subscriptions ship (README, "Coverage by
default"). The rules are pure: `components.documents.telemetry`."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from components import naming
from components.documents.telemetry import rule_kind_slug, telemetry_rule


def register_telemetry_rules(
    parent: pulumi.Resource,
    name: str,
    *,
    prefix: str,
    home_region: str,
    regions: tuple[str, ...],
    kinds: tuple[str, ...],
) -> list[pulumi.Output[str]]:
    """Telemetry evaluation for the organization (the rules need it on), then one rule per
    kind; returns the rules' ARNs. Nothing when `kinds` is empty."""
    if not kinds:
        return []
    # Rules need telemetry evaluation turned on for the organization first:
    # https://www.pulumi.com/registry/packages/aws/api-docs/observabilityadmin/telemetryrulefororganization/
    evaluation = aws.observabilityadmin.TelemetryEvaluationForOrganization(
        f"{name}-telemetry-evaluation",
        region=home_region,
        opts=pulumi.ResourceOptions(parent=parent),
    )
    arns = []
    for kind in kinds:
        slug = rule_kind_slug(kind)
        rule = aws.observabilityadmin.TelemetryRuleForOrganization(
            f"{name}-telemetry-{slug}",
            rule_name=naming.telemetry_rule_name(prefix, slug),
            rule=telemetry_rule(kind, list(regions)),
            region=home_region,
            opts=pulumi.ResourceOptions(parent=parent, depends_on=[evaluation]),
        )
        arns.append(rule.rule_arn)
    return arns
