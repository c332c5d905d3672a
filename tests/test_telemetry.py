"""Coverage by default (issue 13, section 4): `telemetryRules` turns organization telemetry
rules on from the management stack, into CloudWatch Logs log groups that every source stack's
account-level subscription ships to the archive."""

from __future__ import annotations

import pytest
from conftest import render_config, shared, stack_config

from components import naming
from components.documents.telemetry import rule_kind_slug
from enroll.offline.render import RenderError

EVALUATION = (
    "aws:observabilityadmin/telemetryEvaluationForOrganization:TelemetryEvaluationForOrganization"
)
RULE = "aws:observabilityadmin/telemetryRuleForOrganization:TelemetryRuleForOrganization"
REGIONS = ["ap-southeast-2", "eu-west-1", "us-east-1"]


@pytest.fixture(scope=shared("module"))
def with_rules():
    config = stack_config("management", telemetryRules=["vpcFlowLogs", "eksControlPlaneLogs"])
    return render_config(config, "management")


def test_no_telemetry_rule_unless_asked(management):
    assert management.of_type(EVALUATION) == []
    assert management.of_type(RULE) == []


def test_vpc_flow_logs_for_every_vpc_into_log_groups_the_subscription_ships(with_rules):
    rule = with_rules.one(RULE, "management-telemetry-vpc-flow-logs")
    assert rule.inputs == {
        "ruleName": "acme-org-logs-vpc-flow-logs",
        "rule": {
            "telemetryType": "Logs",
            "resourceType": "AWS::EC2::VPC",
            "telemetrySourceTypes": ["VPC_FLOW_LOGS"],
            "destinationConfiguration": {
                "destinationType": "cloud-watch-logs",
                "destinationPattern": "/aws/vpc/flow-logs/<resourceId>",
                "retentionInDays": 30,
                "vpcFlowLogParameters": {"trafficType": "ALL", "maxAggregationInterval": 600},
            },
            "regions": REGIONS,
        },
        "region": "us-east-1",
    }


def test_eks_control_plane_logs_for_every_cluster(with_rules):
    rule = with_rules.one(RULE, "management-telemetry-eks-control-plane-logs")
    assert rule.inputs == {
        "ruleName": "acme-org-logs-eks-control-plane-logs",
        "rule": {
            "telemetryType": "Logs",
            "resourceType": "AWS::EKS::Cluster",
            "telemetrySourceTypes": [
                "EKS_API_LOGS",
                "EKS_AUDIT_LOGS",
                "EKS_AUTHENTICATOR_LOGS",
                "EKS_CONTROLLER_MANAGER_LOGS",
                "EKS_SCHEDULER_LOGS",
            ],
            "destinationConfiguration": {
                "destinationType": "cloud-watch-logs",
                "retentionInDays": 30,
            },
            "regions": REGIONS,
        },
        "region": "us-east-1",
    }


def test_the_rules_wait_for_telemetry_evaluation_of_the_organization(with_rules):
    evaluation = with_rules.one(EVALUATION)
    assert evaluation.inputs == {"region": "us-east-1"}
    assert all(evaluation.urn in rule.dependencies for rule in with_rules.of_type(RULE))


def test_the_log_groups_a_rule_creates_are_valid_and_not_excluded_by_the_subscription():
    group = naming.TELEMETRY_VPC_FLOW_LOG_GROUP_PATTERN.replace("<resourceId>", "vpc-0a1b2c3d")
    assert group == "/aws/vpc/flow-logs/vpc-0a1b2c3d"
    assert group not in naming.archive_own_log_groups("acme")


@pytest.mark.parametrize(
    ("kind", "slug"),
    [("vpcFlowLogs", "vpc-flow-logs"), ("eksControlPlaneLogs", "eks-control-plane-logs")],
)
def test_rule_names_follow_the_api_pattern(kind, slug):
    assert rule_kind_slug(kind) == slug
    assert naming.telemetry_rule_name("acme", slug) == f"acme-org-logs-{slug}"


def test_a_govcloud_management_stack_refuses_telemetry_rules_before_any_resource():
    config = stack_config(
        "management", "aws-us-gov", aws_region="us-gov-west-1", telemetryRules=["vpcFlowLogs"]
    )
    with pytest.raises(RenderError, match="is only available in partition aws") as caught:
        render_config(config, "management-gov")
    assert [r for r in caught.value.resources if r.custom] == []
