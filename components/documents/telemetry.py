"""Coverage by default: the organization telemetry rules `telemetryRules` may turn on
(management account; README, "Coverage by default").

A rule (`aws.observabilityadmin.TelemetryRuleForOrganization`) enables a log source on every
matching resource of the organization. Its only destination type is `cloud-watch-logs`: a log
group in each member account and region
(https://docs.aws.amazon.com/cloudwatch/latest/observabilityadmin/API_TelemetryDestinationConfiguration.html),
which the account-level subscription of every source stack ships to the log archive like any
other log group. So what a rule enables arrives in `CloudWatchLogs/{account}/{region}/`.

Only the kinds below: resource types and source types from the API's TelemetryRule
(https://docs.aws.amazon.com/cloudwatch/latest/observabilityadmin/API_TelemetryRule.html).
Pure: dicts of `rule` arguments.
"""

from __future__ import annotations

from typing import Any

from components import naming

TELEMETRY_DESTINATION_TYPE = "cloud-watch-logs"
# The local log group only has to outlive the subscription's delivery; the archive keeps the logs.
TELEMETRY_RETENTION_DAYS = 30

EKS_CONTROL_PLANE_LOGS = [
    "EKS_API_LOGS",
    "EKS_AUDIT_LOGS",
    "EKS_AUTHENTICATOR_LOGS",
    "EKS_CONTROLLER_MANAGER_LOGS",
    "EKS_SCHEDULER_LOGS",
]

# telemetryRules item -> (resource type, source types, extra destination settings)
TELEMETRY_KINDS: dict[str, tuple[str, list[str], dict[str, Any]]] = {
    "vpcFlowLogs": (
        "AWS::EC2::VPC",
        ["VPC_FLOW_LOGS"],
        {
            # /aws/vpc/flow-logs/<vpc id>: the service shows in the name, like every log group.
            "destination_pattern": naming.TELEMETRY_VPC_FLOW_LOG_GROUP_PATTERN,
            "vpc_flow_log_parameters": {"traffic_type": "ALL", "max_aggregation_interval": 600},
        },
    ),
    # EKS writes its control-plane logs to /aws/eks/<cluster>/cluster; no pattern applies.
    "eksControlPlaneLogs": ("AWS::EKS::Cluster", EKS_CONTROL_PLANE_LOGS, {}),
}

# Only where we found the service documented; elsewhere the setting is refused.
TELEMETRY_PARTITIONS = ("aws",)


def rule_kind_slug(kind: str) -> str:
    """vpcFlowLogs -> vpc-flow-logs (the rule name's API pattern is [0-9A-Za-z-]+)."""
    return "".join(f"-{c.lower()}" if c.isupper() else c for c in kind)


def telemetry_rule(kind: str, regions: list[str]) -> dict[str, Any]:
    """The `rule` of one organization telemetry rule, replicated to the enrolled regions."""
    resource_type, source_types, extra = TELEMETRY_KINDS[kind]
    return {
        "telemetry_type": "Logs",
        "resource_type": resource_type,
        "telemetry_source_types": list(source_types),
        "destination_configuration": {
            "destination_type": TELEMETRY_DESTINATION_TYPE,
            "retention_in_days": TELEMETRY_RETENTION_DAYS,
            **extra,
        },
        "regions": sorted(regions),
    }
