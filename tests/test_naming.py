"""Naming: every generated name is valid in every region and for every allowed prefix."""

from __future__ import annotations

import collections
import re
from pathlib import Path

import name_rules
import pytest
from hypothesis import event, given, settings
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
        naming.alert_forwarder_role_name(prefix, naming.ARCHIVE_FORWARDER),
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
        naming.archive_alarm_rule_name(prefix),
    ]
    assert all(name_rules.is_valid_event_rule_name(rule) for rule in rules), rules
    alarms = [
        naming.replication_alarm_name(prefix),
        naming.replication_latency_alarm_name(prefix),
        *(
            naming.subscription_alarm_name(prefix, s)
            for s in ("delivery-errors", "delivery-throttling")
        ),
        naming.firehose_alarm_name(prefix, region, "partitions-exceeded"),
    ]
    assert all(name_rules.is_valid_alarm_name(alarm) for alarm in alarms), alarms
    # CreateTelemetryRuleForOrganization: [0-9A-Za-z-]+, 1-100 characters.
    assert re.fullmatch(
        r"[0-9A-Za-z-]{1,100}", naming.telemetry_rule_name(prefix, "eks-control-plane-logs")
    )
    assert name_rules.is_valid_sns_topic_name(naming.alert_topic_name(prefix))
    assert name_rules.is_valid_kms_alias(naming.key_alias(prefix))
    assert all(name_rules.is_valid_log_group_name(g) for g in naming.archive_own_log_groups(prefix))


def invalid_names(prefix: str) -> list[str]:
    """The names made from `prefix` that break AWS's naming rules, in any region."""
    made = [
        naming.trail_name(prefix),
        naming.destination_name(prefix),
        naming.alert_bus_name(prefix),
        naming.alert_rule_name(prefix),
        naming.alert_topic_name(prefix),
        naming.key_alias(prefix),
        naming.firehose_role_name(prefix),
        naming.destination_role_name(prefix),
    ]
    bad = [
        name
        for name, valid in zip(
            made,
            (
                name_rules.is_valid_trail_name,
                name_rules.is_valid_destination_name,
                name_rules.is_valid_event_bus_name,
                name_rules.is_valid_event_rule_name,
                name_rules.is_valid_sns_topic_name,
                name_rules.is_valid_kms_alias,
                name_rules.is_valid_iam_role_name,
                name_rules.is_valid_iam_role_name,
            ),
            strict=True,
        )
        if not valid(name)
    ]
    for region in sorted(conventions.REGIONS):
        buckets = (
            conventions.central_bucket_name(prefix, "123456789012", region),
            conventions.central_access_log_bucket_name(prefix, "123456789012", region),
            conventions.source_bucket_name(prefix, "123456789012", region),
        )
        bad += [name for name in buckets if not conventions.is_valid_bucket_name(name)]
        role = naming.replication_role_name(prefix, region)
        bad += [] if name_rules.is_valid_iam_role_name(role) else [role]
    return bad


LETTERS_AND_DIGITS = "abcdefghijklmnopqrstuvwxyz0123456789"


def _put(prefix: str, where: int, text: str) -> str:
    """`text` inside `prefix`, neither first nor last (those are rules of their own)."""
    where = 1 + where % (len(prefix) - 1)
    return prefix[:where] + text + prefix[where:]


# Each rule of NAME_PREFIX_RULE that AWS's names need, and a way to break only that rule.
NAME_BREAKING = {
    "uppercase letter": lambda p, i: _put(p, i, "A"),
    "character outside a-z, 0-9, -": lambda p, i: _put(p, i, "_./ @é"[i % 6]),
    "leading hyphen": lambda p, i: "-" + p[1:],
    "trailing hyphen": lambda p, i: p[:-1] + "-",
    "consecutive hyphens": lambda p, i: _put(p, i, "--"),
    "S3-reserved start": lambda p, i: ("sthree-", "amzn-s3-demo-", "xn--")[i % 3] + p,
    # 20 characters make the access-log bucket in ap-northeast-1 64 long; S3 allows 63.
    "far too long": lambda p, i: (p + LETTERS_AND_DIGITS * 2)[: 20 + i % 30],
}


@st.composite
def name_breaking_prefixes(draw: st.DrawFn) -> tuple[str, str]:
    """A valid prefix with exactly one rule broken: (the rule, the prefix)."""
    rule = draw(st.sampled_from(sorted(NAME_BREAKING)))
    prefix = NAME_BREAKING[rule](draw(valid_prefixes), draw(st.integers(0, 1000)))
    return rule, prefix


def test_a_prefix_the_settings_refuse_really_would_make_an_invalid_name():
    """The prefix rules are not arbitrary: a prefix that breaks one of them (generated to
    break it) is refused, and some name made from it breaks AWS's rules."""
    refused: collections.Counter[str] = collections.Counter()

    @settings(max_examples=300, database=None)
    @given(case=name_breaking_prefixes())
    def check(case: tuple[str, str]) -> None:
        rule, prefix = case
        event(rule)
        assert not conventions.is_valid_name_prefix(prefix), case
        assert invalid_names(prefix), case
        refused[rule] += 1

    check()
    # Every example reached both assertions, and every rule was exercised.
    assert set(refused) == set(NAME_BREAKING)
    assert sum(refused.values()) >= 300


@settings(max_examples=200)
@given(
    prefix=st.one_of(
        st.text(LETTERS_AND_DIGITS, min_size=17, max_size=19),
        st.text(LETTERS_AND_DIGITS, min_size=1, max_size=2),
        st.builds(lambda d, p: d + p[1:], st.sampled_from("0123456789"), valid_prefixes),
    )
)
def test_the_settings_keep_a_margin_refusing_short_long_and_digit_first_prefixes(prefix):
    """17 to 19 characters, 1 or 2, or a leading digit make valid names today; the settings
    refuse them anyway (room for longer region names, readable names)."""
    assert not conventions.is_valid_name_prefix(prefix)
    assert invalid_names(prefix) == []


def test_a_valid_prefix_of_the_longest_length_makes_only_valid_names():
    assert conventions.is_valid_name_prefix("a" * 16)
    assert invalid_names("a" * 16) == []
    assert invalid_names("a" * 19) == []
    assert invalid_names("a" * 20) != []


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
