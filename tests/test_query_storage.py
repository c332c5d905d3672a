"""The central bucket's default storage classes stay queryable by Athena (Standard-IA, then
Glacier Instant Retrieval); Deep Archive, which queries skip until restored, is an opt-in
with its own limits."""

from __future__ import annotations

import pytest
from conftest import render_config, stack_config

from components.settings import SettingsError, parse_settings

LIFECYCLE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"


def transitions(rendered) -> list[dict]:
    lifecycle = rendered.one(LIFECYCLE, "log-archive-central-lifecycle")
    rule = next(r for r in lifecycle.inputs["rules"] if r["id"] == "archive-then-expire")
    return rule["transitions"]


def test_by_default_no_object_leaves_the_classes_athena_reads(log_archive):
    assert transitions(log_archive) == [
        {"storageClass": "STANDARD_IA", "days": 30},
        {"storageClass": "GLACIER_IR", "days": 90},
    ]


def test_deep_archive_is_an_opt_in_after_glacier_instant_retrieval():
    rendered = render_config(
        stack_config("log-archive", retentionDays=730, deepArchiveAfterDays=365), "log-archive"
    )
    assert transitions(rendered) == [
        {"storageClass": "STANDARD_IA", "days": 30},
        {"storageClass": "GLACIER_IR", "days": 90},
        {"storageClass": "DEEP_ARCHIVE", "days": 365},
    ]


def values(**overrides) -> dict:
    config = stack_config("log-archive", **overrides)
    return {k.split(":", 1)[1]: v for k, v in config.items() if k.startswith("org-logging:")}


@pytest.mark.parametrize(
    ("retention", "days", "message"),
    [
        (730, 179, "must be a whole number of days from 180 to 36500"),
        (365, 186, "must leave 180 days (Deep Archive's minimum) before retentionDays (365)"),
    ],
)
def test_deep_archive_limits_are_checked(retention, days, message):
    with pytest.raises(SettingsError) as error:
        parse_settings(values(retentionDays=retention, deepArchiveAfterDays=days))
    assert message in str(error.value)


def test_deep_archive_at_the_limits_is_accepted():
    settings = parse_settings(values(retentionDays=360, deepArchiveAfterDays=180))
    assert settings.deep_archive_after_days == 180


def test_reader_principals_must_be_iam_principals_of_the_partition():
    with pytest.raises(SettingsError) as error:
        parse_settings(
            values(
                readerPrincipalArns=[
                    "arn:aws:iam::111111111111:role/Analysts",
                    "arn:aws-cn:iam::111111111111:root",
                    "arn:aws:iam::111111111111:group/Analysts",
                ]
            )
        )
    assert error.value.problems == [
        "org-logging:readerPrincipalArns 'arn:aws:iam::111111111111:group/Analysts' (an item) "
        "must be the ARN of an IAM role or user, or an account's root, "
        "arn:<partition>:iam::<account>:(root|role/<name>|user/<name>)",
        "org-logging:readerPrincipalArns 'arn:aws-cn:iam::111111111111:root' (an item) is in "
        "partition aws-cn, but homeRegion 'us-east-1' is in aws; one organization is one partition",
    ]


@pytest.mark.parametrize(("cutoff", "ok"), [(10 * 1024**2, True), (10 * 1024**2 - 1, False)])
def test_the_bytes_scanned_cutoff_is_at_least_athenas_10_mb(cutoff, ok):
    if ok:
        assert (
            parse_settings(values(athenaBytesScannedCutoff=cutoff)).athena_bytes_scanned_cutoff
            == cutoff
        )
        return
    with pytest.raises(SettingsError) as error:
        parse_settings(values(athenaBytesScannedCutoff=cutoff))
    assert "must be a whole number of bytes from 10485760 to" in str(error.value)
