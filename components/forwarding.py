"""Forward CloudTrail and alarm events from an account's default bus to the central alert bus.

Used by every source account x region and by the management account: a rule on the default
bus (where CloudTrail's management events and CloudWatch alarm state changes arrive), a target
on the log archive's alert bus, and the role EventBridge assumes for it (trusted only for that
rule; it may only put events on that bus).
"""

from __future__ import annotations

import json

import pulumi
import pulumi_aws as aws

from components import naming
from components.documents.alerts import alert_forwarder_policy, alert_forwarder_trust_policy
from components.documents.grammar import Document
from components.roles import service_role


def forward_to_alert_bus(
    parent: pulumi.Resource,
    logical_name: str,
    *,
    prefix: str,
    account: str,
    region: str,
    home_region: str,
    log_archive_account: str,
    rule_name: str,
    forwarder: str,
    description: str,
    pattern: Document,
) -> aws.cloudwatch.EventRule:
    """`forwarder` tells the role apart: a source's region, or `trail` (management)."""
    central_bus_arn = naming.events_bus_arn(
        home_region, log_archive_account, naming.alert_bus_name(prefix)
    )
    role, role_policy = service_role(
        parent,
        f"{logical_name}-alert-forwarder",
        name=naming.alert_forwarder_role_name(prefix, forwarder),
        trust=alert_forwarder_trust_policy(
            account=account, rule_arn=naming.events_rule_arn(region, account, rule_name)
        ),
        policy=alert_forwarder_policy(central_bus_arn),
    )
    rule = aws.cloudwatch.EventRule(
        f"{logical_name}-detection",
        name=rule_name,
        description=description,
        event_pattern=json.dumps(pattern),
        region=region,
        opts=pulumi.ResourceOptions(parent=parent),
    )
    aws.cloudwatch.EventTarget(
        f"{logical_name}-detection-to-central-bus",
        rule=rule.name,
        arn=central_bus_arn,
        role_arn=role.arn,
        region=region,
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[role_policy]),
    )
    return rule
