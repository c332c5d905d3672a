"""Settings: the config contract's keys, their defaults, and clear errors for bad values."""

from __future__ import annotations

import pytest
from conftest import (
    ADMIN_ROLE,
    LOG_ARCHIVE,
    MANAGEMENT,
    MEMBER,
    ORG_ID,
    render_config,
    stack_config,
)

from components.settings import ALL_KEYS, ObjectLock, SettingsError, parse_settings
from enroll.offline.render import RenderError


def values(role: str, partition: str = "aws", **overrides: object) -> tuple[dict, str | None]:
    config = stack_config(role, partition, **overrides)
    region = config.pop("aws:region", None)
    return {k.split(":", 1)[1]: v for k, v in config.items()}, region


def parse(role: str, partition: str = "aws", **overrides: object):
    short, region = values(role, partition, **overrides)
    return parse_settings(short, stack_region=region)


def problems(role: str, **overrides: object) -> list[str]:
    with pytest.raises(SettingsError) as caught:
        parse(role, **overrides)
    return caught.value.problems


def test_config_keys_are_interned_so_the_stacks_of_a_plan_share_them():
    """A plan of 10,000 accounts x 4 regions holds 40,000 configs: one copy of each key, not
    one per stack (benchmarks/offline_memory.py)."""
    from components.contract import config_key

    built = "".join(["name", "Prefix"])  # a distinct string object each time
    assert config_key(built) is config_key("namePrefix")
    assert config_key(built) == "org-logging:namePrefix"


def test_the_config_keys_are_exactly_those_of_the_design():
    assert set(ALL_KEYS) == {
        "role",
        "namePrefix",
        "orgId",
        "managementAccountId",
        "logArchiveAccountId",
        "homeRegion",
        "regions",
        "accountId",
        "adminRoleName",
        "retentionDays",
        "objectLock",
        "alertEmails",
        "logGroupExclusions",
        "localRetentionDays",
        "scpTargets",
        "deployerRoleArns",  # who may assume adminRoleName (bootstrap)
        "cloudFrontLegacyLogging",  # issue 3: opt-in ACLs for legacy CloudFront logging
        "replicationTimeControl",  # RTC optional
        "memberAccountIds",  # the plan's enrolled accounts (aws-cn destination policies)
        "firehosePartitionQuota",  # active partitions per region's stream
        "alarmFreshnessMarginSeconds",  # issue 13: Firehose DataFreshness = buffer + margin
        "alarmReplicationLatencySeconds",  # issue 13: the replication SLA
        "alarmDeliveryErrorEvents",  # issue 13: CloudWatch Logs subscription DeliveryErrors
        "alarmDeliveryThrottledEvents",  # issue 13: and DeliveryThrottling
        "telemetryRules",  # issue 13: organization telemetry rules (management)
        "bootstrap",  # set by `up --bootstrap` for the run that creates adminRoleName
        "readerPrincipalArns",  # issue 14: who may assume the reader role
        "athenaBytesScannedCutoff",  # issue 14: the workgroup's per-query limit
        "deepArchiveAfterDays",  # issue 14: opt-in storage class Athena skips
    }


def test_a_sample_log_archive_config_parses_with_defaults():
    settings = parse("log-archive", retentionDays=None)
    assert settings.account_id == LOG_ARCHIVE
    assert settings.retention_days == 365
    assert settings.object_lock is None
    assert settings.regions == ("us-east-1", "eu-west-1", "ap-southeast-2")
    assert settings.partition.name == "aws"


def test_pulumi_config_strings_are_parsed_like_native_values():
    settings = parse(
        "log-archive",
        regions='["us-east-1"]',
        retentionDays="400",
        objectLock='{"mode": "COMPLIANCE", "days": 30}',
        alertEmails='["soc@example.com"]',
    )
    assert settings.regions == ("us-east-1",)
    assert settings.retention_days == 400
    assert settings.object_lock == ObjectLock("COMPLIANCE", 30)
    assert settings.alert_emails == ("soc@example.com",)


def test_management_and_source_roles_deploy_into_their_own_accounts():
    assert parse("management").account_id == MANAGEMENT
    source = parse("source", aws_region="eu-west-1")
    assert (source.account_id, source.region) == (MEMBER, "eu-west-1")
    assert source.local_retention_days == 30


def test_bad_name_prefix_names_key_value_and_rule():
    assert problems("management", namePrefix="ACME_")[0].startswith(
        "org-logging:namePrefix 'ACME_' must match ^[a-z][a-z0-9-]{1,14}[a-z0-9]$"
    )


@pytest.mark.parametrize("prefix", ["a--b", "sthree-x", "amzn-s3-demo-x"])
def test_prefixes_that_would_make_invalid_names_are_refused(prefix):
    (problem,) = problems("management", namePrefix=prefix)
    assert problem.startswith(f"org-logging:namePrefix {prefix!r} must match")


def test_every_problem_is_reported_at_once():
    found = problems("log-archive", orgId="org-1", logArchiveAccountId="12345", retentionDays=0)
    assert found == [
        "org-logging:orgId 'org-1' must match ^o-[a-z0-9]{10,32}$",
        "org-logging:logArchiveAccountId '12345' must match ^[0-9]{12}$",
        "org-logging:retentionDays 0 must be a whole number of days from 1 to 36500",
    ]


def test_a_missing_key_says_it_is_required_for_the_role():
    assert problems("management", orgId=None) == [
        "org-logging:orgId is required for role 'management'"
    ]


def test_a_misspelt_key_is_refused_and_the_known_keys_listed():
    (problem,) = problems("management", namprefix="acme")
    assert problem.startswith("org-logging:namprefix 'acme' is not a known key; known keys: role,")


def test_a_key_of_another_role_is_refused():
    assert problems("management", retentionDays=30) == [
        "org-logging:retentionDays 30 applies to role 'log-archive' only, not 'management'"
    ]


def test_unknown_role():
    with pytest.raises(
        SettingsError,
        match=r"org-logging:role 'archive' must be one of log-archive, management, source",
    ):
        parse("archive")


@pytest.mark.parametrize(
    ("regions", "expected"),
    [
        (
            ["us-east-1", "mars-1"],
            "org-logging:regions 'mars-1' must be an AWS region of partition aws, aws-us-gov or aws-cn",
        ),
        (["us-east-1", "us-east-1"], "org-logging:regions 'us-east-1' (an item) is listed twice"),
        (
            ["us-east-1", "us-gov-west-1"],
            "org-logging:regions 'us-gov-west-1' (an item) is in partition aws-us-gov, but homeRegion 'us-east-1' is in aws; one organization is one partition",
        ),
        (["eu-west-1"], "org-logging:regions [\"eu-west-1\"] must include homeRegion 'us-east-1'"),
        ([], "org-logging:regions [] must list at least one region"),
        (
            "us-east-1",
            "org-logging:regions 'us-east-1' must be a list (in Pulumi config, JSON text like "
            '["a", "b"])',
        ),
        ({"us-east-1": 1}, 'org-logging:regions {"us-east-1": 1} must be a list'),
    ],
)
def test_bad_regions(regions, expected):
    assert expected in problems("management", regions=regions)


def test_source_needs_its_region_and_it_must_be_enrolled():
    assert problems("source", aws_region=None) == [
        "aws:region is required for role 'source': it is the region this stack enrolls"
    ]
    assert problems("source", aws_region="eu-central-1") == [
        'aws:region \'eu-central-1\' must be one of regions ["us-east-1", "eu-west-1", "ap-southeast-2"]'
    ]


def test_source_account_id_is_checked():
    assert problems("source", accountId="33333333333x") == [
        "org-logging:accountId '33333333333x' must match ^[0-9]{12}$"
    ]


@pytest.mark.parametrize(
    ("lock", "expected"),
    [
        ({"mode": "FOREVER", "days": 1}, "mode must be GOVERNANCE or COMPLIANCE"),
        (
            {"mode": "GOVERNANCE", "days": 400},
            "days must be a whole number from 1 to retentionDays (365)",
        ),
        (
            {"mode": "GOVERNANCE", "days": 1, "years": 1},
            "has unknown fields ['years']; allowed: mode, days, acknowledgeLongCompliance",
        ),
        (
            {"mode": "COMPLIANCE", "days": 1, "acknowledgeLongCompliance": "yes"},
            "acknowledgeLongCompliance must be true or false",
        ),
    ],
)
def test_bad_object_lock(lock, expected):
    (problem, *_) = problems("log-archive", objectLock=lock)
    assert problem.startswith("org-logging:objectLock {") and problem.endswith(expected)


def test_a_compliance_lock_over_a_year_needs_an_acknowledgement():
    assert problems(
        "log-archive", retentionDays=400, objectLock={"mode": "COMPLIANCE", "days": 366}
    ) == [
        'org-logging:objectLock {"mode": "COMPLIANCE", "days": 366} a COMPLIANCE lock of 366 '
        "days (more than 365) cannot be shortened or lifted by anyone, the root user included, "
        "and every object costs storage until it expires; set "
        "objectLock.acknowledgeLongCompliance: true to confirm"
    ]


@pytest.mark.parametrize(
    "lock",
    [
        {"mode": "COMPLIANCE", "days": 365},  # a year exactly: no acknowledgement needed
        {"mode": "COMPLIANCE", "days": 366, "acknowledgeLongCompliance": True},
        {"mode": "GOVERNANCE", "days": 400},  # GOVERNANCE can be lifted with a permission
    ],
)
def test_locks_that_need_no_more_acknowledgement(lock):
    settings = parse("log-archive", retentionDays=400, objectLock=lock)
    assert (settings.object_lock.mode, settings.object_lock.days) == (lock["mode"], lock["days"])


def test_bad_list_items_are_named():
    assert problems("log-archive", alertEmails=["soc@example.com", "not-an-email"]) == [
        "org-logging:alertEmails 'not-an-email' (an item) must be an email address"
    ]
    assert problems("management", scpTargets=["r-ab12", "123456789012"]) == [
        "org-logging:scpTargets '123456789012' (an item) must be a root or OU id "
        "(^(r-[0-9a-z]{4,32}|ou-[0-9a-z]{4,32}-[a-z0-9]{8,32})$)"
    ]
    assert problems("source", logGroupExclusions=["/ok", "bad name"]) == [
        "org-logging:logGroupExclusions 'bad name' (an item) must be a log group name "
        "(1-512 of letters, digits and . - _ / #)"
    ]


def test_booleans_accept_true_false_only():
    assert parse("source", cloudFrontLegacyLogging="true").cloudfront_legacy_logging is True
    assert parse("source", replicationTimeControl=False).replication_time_control is False
    assert problems("source", replicationTimeControl="yes") == [
        "org-logging:replicationTimeControl 'yes' must be true or false"
    ]


def test_admin_role_name_is_an_iam_role_name():
    assert problems("management", adminRoleName="Org Logging Admin") == [
        "org-logging:adminRoleName 'Org Logging Admin' must match ^[A-Za-z0-9_+=,.@-]{1,64}$"
    ]


def test_bad_config_stops_the_program_before_any_resource_is_registered():
    config = stack_config("log-archive", namePrefix="ACME_")
    with pytest.raises(RenderError) as caught:
        render_config(config, "log-archive")
    message = str(caught.value)
    assert message.startswith(
        "invalid org-logging configuration:\n  org-logging:namePrefix 'ACME_'"
    )
    assert "Traceback" not in message
    assert [r.type for r in caught.value.resources] == ["pulumi:pulumi:Stack"]


def test_sample_values_are_consistent_with_the_constants():
    settings = parse("management")
    assert (settings.org_id, settings.admin_role_name) == (ORG_ID, ADMIN_ROLE)


def test_an_unquoted_account_id_is_refused_because_yaml_made_it_a_number():
    assert problems("management", managementAccountId=111111111111) == [
        "org-logging:managementAccountId 111111111111 must be a quoted string matching "
        "^[0-9]{12}$ (unquoted, it is read as a number)"
    ]


def test_an_account_id_yaml_read_as_octal_is_explained_as_such():
    # YAML 1.1 reads the unquoted 012345670123 as octal: 1402433619.
    assert problems("management", managementAccountId=0o12345670123) == [
        "org-logging:managementAccountId 1402433619 was read as a number: unquoted, "
        "012345670123 is octal to YAML (a leading 0), which makes it 1402433619; quote it: "
        '"012345670123"'
    ]


def test_non_ascii_digits_are_not_an_account_id():
    arabic_indic_zero = "\u0660"  # Python's \d matches it; AWS account ids are ASCII digits
    account = "00000000000" + arabic_indic_zero
    assert problems("management", managementAccountId=account) == [
        f"org-logging:managementAccountId {account!r} must match ^[0-9]{{12}}$"
    ]
