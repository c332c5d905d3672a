"""Settings of issue 13: the alarm thresholds (defaults, both sides of every limit, the role
each belongs to) and `telemetryRules` (the kinds we offer, the partitions we offer them in)."""

from __future__ import annotations

import pytest
from conftest import stack_config

from components.settings import SettingsError, parse_settings


def parse(role: str, partition: str = "aws", **overrides: object):
    config = stack_config(role, partition, **overrides)
    region = config.pop("aws:region", None)
    return parse_settings({k.split(":", 1)[1]: v for k, v in config.items()}, stack_region=region)


def problems(role: str, partition: str = "aws", **overrides: object) -> list[str]:
    with pytest.raises(SettingsError) as caught:
        parse(role, partition, **overrides)
    return caught.value.problems


def test_alarm_thresholds_have_documented_defaults():
    archive = parse("log-archive")
    assert archive.alarm_freshness_margin_seconds == 600
    source = parse("source", aws_region="eu-west-1")
    assert (
        source.alarm_replication_latency_seconds,
        source.alarm_delivery_error_events,
        source.alarm_delivery_throttled_events,
    ) == (900, 0, 0)


# (role, key, lowest accepted, highest accepted, rule)
LIMITS = [
    (
        "log-archive",
        "alarmFreshnessMarginSeconds",
        300,
        86100,  # 86,400 s (Firehose's retry window) - the 300 s buffer
        "must be a whole number of seconds from 300 to 86100",
    ),
    (
        "source",
        "alarmReplicationLatencySeconds",
        300,
        86400,
        "must be a whole number of seconds from 300 to 86400",
    ),
    (
        "source",
        "alarmDeliveryErrorEvents",
        0,
        1_000_000_000,
        "must be a whole number of log events from 0 to 1000000000",
    ),
    (
        "source",
        "alarmDeliveryThrottledEvents",
        0,
        1_000_000_000,
        "must be a whole number of log events from 0 to 1000000000",
    ),
]
FIELDS = {
    "alarmFreshnessMarginSeconds": "alarm_freshness_margin_seconds",
    "alarmReplicationLatencySeconds": "alarm_replication_latency_seconds",
    "alarmDeliveryErrorEvents": "alarm_delivery_error_events",
    "alarmDeliveryThrottledEvents": "alarm_delivery_throttled_events",
}


@pytest.mark.parametrize(("role", "key", "low", "high", "rule"), LIMITS)
def test_each_alarm_threshold_is_accepted_up_to_its_limits(role, key, low, high, rule):
    for value in (low, high, str(high)):
        settings = parse(role, aws_region="eu-west-1", **{key: value})
        assert getattr(settings, FIELDS[key]) == int(value)


@pytest.mark.parametrize(("role", "key", "low", "high", "rule"), LIMITS)
def test_each_alarm_threshold_is_refused_past_its_limits(role, key, low, high, rule):
    shown = {low - 1: str(low - 1), high + 1: str(high + 1), 1.5: "1.5", True: "true"}
    for value, text in [*shown.items(), ("soon", "'soon'")]:
        assert problems(role, aws_region="eu-west-1", **{key: value}) == [
            f"org-logging:{key} {text} {rule}"
        ]


def test_an_alarm_threshold_of_another_role_is_refused():
    assert problems("source", aws_region="eu-west-1", alarmFreshnessMarginSeconds=600) == [
        "org-logging:alarmFreshnessMarginSeconds 600 applies to role 'log-archive' only, "
        "not 'source'"
    ]
    assert problems("log-archive", alarmReplicationLatencySeconds=600) == [
        "org-logging:alarmReplicationLatencySeconds 600 applies to role 'source' only, "
        "not 'log-archive'"
    ]


# ---- telemetryRules (management) ---------------------------------------------------------------


def test_telemetry_rules_default_to_none_and_take_the_offered_kinds():
    assert parse("management").telemetry_rules == ()
    assert parse(
        "management", telemetryRules=["vpcFlowLogs", "eksControlPlaneLogs"]
    ).telemetry_rules == (
        "vpcFlowLogs",
        "eksControlPlaneLogs",
    )
    assert parse("management", telemetryRules='["vpcFlowLogs"]').telemetry_rules == ("vpcFlowLogs",)


def test_an_unknown_or_repeated_telemetry_rule_is_refused():
    assert problems("management", telemetryRules=["vpcflowlogs", "vpcFlowLogs", "vpcFlowLogs"]) == [
        "org-logging:telemetryRules 'vpcflowlogs' (an item) must be one of vpcFlowLogs, "
        "eksControlPlaneLogs",
        "org-logging:telemetryRules 'vpcFlowLogs' (an item) is listed twice",
    ]


@pytest.mark.parametrize("partition", ["aws-us-gov", "aws-cn"])
def test_telemetry_rules_are_refused_outside_the_aws_partition(partition):
    extra = {"memberAccountIds": None} if partition == "aws-cn" else {}
    assert problems("management", partition, telemetryRules=["vpcFlowLogs"], **extra) == [
        f'org-logging:telemetryRules ["vpcFlowLogs"] is only available in partition aws '
        f"(organization telemetry rules are not documented in {partition}), not {partition}"
    ]


def test_telemetry_rules_belong_to_the_management_role():
    assert problems("log-archive", telemetryRules=["vpcFlowLogs"]) == [
        "org-logging:telemetryRules [\"vpcFlowLogs\"] applies to role 'management' only, "
        "not 'log-archive'"
    ]
