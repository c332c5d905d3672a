"""Naming: every generated name is valid in every region and for every allowed prefix."""

from __future__ import annotations

import re
from pathlib import Path

import name_rules
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from components import naming
from policy import conventions

ROOT = Path(__file__).resolve().parent.parent

prefixes = st.from_regex(conventions.NAME_PREFIX_PATTERN, fullmatch=True)
valid_prefixes = prefixes.filter(conventions.is_valid_name_prefix)
accounts = st.from_regex(r"[0-9]{12}", fullmatch=True)
regions = st.sampled_from(sorted(conventions.REGIONS))


@settings(max_examples=400)
@given(prefix=valid_prefixes, account=accounts, region=regions)
def test_every_bucket_name_is_valid_for_every_region_and_prefix(prefix, account, region):
    for name in (
        conventions.central_bucket_name(prefix, account, region),
        conventions.central_access_log_bucket_name(prefix, account, region),
        conventions.source_bucket_name(prefix, account, region),
        conventions.bucket_name(prefix, "app-data", account, region),
    ):
        assert conventions.bucket_name_problem(name) is None, name


@settings(max_examples=400)
@given(prefix=valid_prefixes, region=regions)
def test_every_iam_cwl_and_other_name_is_valid(prefix, region):
    roles = [
        naming.firehose_role_name(prefix),
        naming.destination_role_name(prefix),
        naming.replication_role_name(prefix, region),
        naming.subscription_role_name(prefix, region),
        naming.alert_forwarder_role_name(prefix, region),
        naming.alert_forwarder_role_name(prefix, "trail"),
        naming.reader_role_name(prefix),
    ]
    assert all(name_rules.is_valid_iam_role_name(role) for role in roles), roles
    assert name_rules.is_valid_trail_name(naming.trail_name(prefix))
    assert name_rules.is_valid_firehose_name(naming.firehose_name(prefix, region))
    assert name_rules.is_valid_destination_name(naming.destination_name(prefix))
    assert name_rules.is_valid_event_bus_name(naming.alert_bus_name(prefix))
    rules = [
        naming.alert_rule_name(prefix),
        naming.detection_rule_name(prefix),
        naming.trail_detection_rule_name(prefix),
        naming.archive_detection_rule_name(prefix),
    ]
    assert all(name_rules.is_valid_event_rule_name(rule) for rule in rules), rules
    assert name_rules.is_valid_alarm_name(naming.replication_alarm_name(prefix))
    assert name_rules.is_valid_sns_topic_name(naming.alert_topic_name(prefix))
    assert name_rules.is_valid_kms_alias(naming.key_alias(prefix))
    assert all(name_rules.is_valid_log_group_name(g) for g in naming.archive_own_log_groups(prefix))


@settings(max_examples=200)
@given(prefix=prefixes)
def test_a_prefix_the_settings_refuse_really_would_make_an_invalid_name(prefix):
    """The extra prefix rules are not arbitrary: each refused prefix breaks some name."""
    if conventions.is_valid_name_prefix(prefix):
        return
    broken = not name_rules.is_valid_trail_name(naming.trail_name(prefix)) or not all(
        conventions.is_valid_bucket_name(conventions.source_bucket_name(prefix, "123456789012", r))
        for r in conventions.REGIONS
    )
    assert broken, prefix


@pytest.mark.parametrize(
    ("region", "partition", "suffix"),
    [
        ("us-east-1", "aws", "amazonaws.com"),
        ("eu-west-1", "aws", "amazonaws.com"),
        ("us-gov-west-1", "aws-us-gov", "amazonaws.com"),
        ("cn-north-1", "aws-cn", "amazonaws.com.cn"),
    ],
)
def test_the_region_decides_the_partition(region, partition, suffix):
    assert conventions.partition_of(region) == conventions.Partition(partition, suffix)
    assert naming.s3_bucket_arn(region, "b") == f"arn:{partition}:s3:::b"
    assert naming.service_endpoint("s3", region) == f"s3.{region}.{suffix}"


def test_unknown_regions_are_refused():
    with pytest.raises(ValueError, match="unknown or unsupported AWS region 'us-iso-east-1'"):
        conventions.partition_of("us-iso-east-1")


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("ab", "is 2 characters long; S3 allows 3 to 63"),
        ("a" * 64, "is 64 characters long; S3 allows 3 to 63"),
        ("Acme-logs", "may only hold lowercase letters"),
        ("acme..logs", "must not contain two adjacent periods"),
        ("192.168.5.4", "must not be formatted as an IP address"),
        ("xn--acme", "must not start with the reserved prefix 'xn--'"),
        ("acme-s3alias", "must not end with the reserved suffix '-s3alias'"),
        ("acme--x-s3", "must not end with the reserved suffix '--x-s3'"),
    ],
)
def test_bucket_name_rules(name, problem):
    assert conventions.bucket_name_problem(name).startswith(problem)


def test_bucket_purpose_is_lowercase_words_joined_by_dashes():
    assert conventions.bucket_name("acme", "app-data", "123456789012", "us-east-1") == (
        "acme-app-data-123456789012-us-east-1"
    )
    with pytest.raises(ValueError, match="bucket purpose 'App_Data'"):
        conventions.bucket_name("acme", "App_Data", "123456789012", "us-east-1")


def test_design_names():
    assert conventions.central_bucket_name("acme", "222222222222", "us-east-1") == (
        "acme-org-logs-222222222222-us-east-1"
    )
    assert conventions.central_access_log_bucket_name("acme", "222222222222", "us-east-1") == (
        "acme-org-logs-access-222222222222-us-east-1"
    )
    assert conventions.source_bucket_name("acme", "333333333333", "eu-west-1") == (
        "acme-logs-333333333333-eu-west-1"
    )
    assert naming.destination_name("acme") == "acme-org-logs"
    assert conventions.account_logs_prefix("333333333333") == "AWSLogs/333333333333/"
    assert naming.trail_prefixes("o-a1b2c3d4e5", "111111111111") == (
        "AWSLogs/o-a1b2c3d4e5/",
        "AWSLogs/111111111111/",
    )
    assert naming.cloudwatch_logs_object_prefix("eu-west-1") == (
        "CloudWatchLogs/!{partitionKeyFromQuery:owner}/eu-west-1/!{timestamp:yyyy/MM/dd}/"
    )
    assert naming.cloudwatch_logs_prefix("333333333333", "eu-west-1") == (
        "CloudWatchLogs/333333333333/eu-west-1/"
    )
    assert naming.firehose_name("acme", "eu-west-1") == "acme-org-logs-eu-west-1"


def test_no_arn_is_hard_coded_to_the_aws_partition():
    pattern = re.compile(r"arn:aws[:\-]")
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for directory in ("components", "policy", "stacks")
        for path in (ROOT / directory).rglob("*.py")
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if pattern.search(line)
    ]
    assert offenders == []
