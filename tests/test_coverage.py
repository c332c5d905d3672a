"""`org-logging coverage` against an S3 stand-in (tests/coverage_world.py): every status, both
sides of each freshness window, the newest date found by delimiter listings alone, malformed
listings, throttling, the report's JSON and exit codes."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from rich.console import Console

from components import naming
from enroll.coverage.listing import Archive, key_time
from enroll.coverage.model import (
    DEFAULT_FRESHNESS,
    CoverageSettings,
    CoverageUsageError,
    Newest,
    parse_duration,
    parse_freshness,
    parse_types,
    status_of,
)
from enroll.coverage.render import ScanProgress, print_report
from enroll.coverage.scan import CoverageError, Scope, scan
from enroll.org.awscalls import Retry
from enroll.org.model import Exclusion
from tests.coverage_world import BUCKET, ORG_ID, FakeS3, client_error, gz, plan_of, utc

NOW = utc(2026, 11, 30, 21, 0)
A, B = "111111111111", "333333333333"
NO_WAIT = Retry(attempts=5, sleep=lambda seconds: None)
ALL = CoverageSettings(expect=naming.LOG_TYPES)


def trail_key(account: str, region: str, year: int, month: int, day: int, hhmm: str) -> str:
    layout = naming.log_layout("cloudtrail", account, ORG_ID)
    stamp = f"{year:04d}{month:02d}{day:02d}T{hhmm}Z"
    return (
        f"{layout.partition_prefix(region)}{year:04d}/{month:02d}/{day:02d}/"
        f"{account}_CloudTrail_{region}_{stamp}_Mu0KsOhtH1ar15ZZ.json.gz"
    )


def archive(s3: FakeS3) -> Archive:
    return Archive(s3, BUCKET, now=NOW, retry=NO_WAIT)


def run(objects, settings=ALL, plan=None, **fake):
    plan = plan or plan_of({A: ("eu-west-1", "us-east-1")})
    s3 = FakeS3(objects, **fake)
    return scan(Scope.from_plan(plan), settings, s3=s3, cloudtrail=None, now=NOW, retry=NO_WAIT)


def statuses(report) -> dict[tuple[str, str, str], str]:
    return {(c.account_id, c.region, c.log_type): c.status for c in report.cells}


# --- statuses and windows ---------------------------------------------------------------------


def test_a_cell_is_arriving_up_to_its_window_and_stale_one_second_after():
    window = timedelta(hours=6)
    at_edge = Newest("k", NOW - window)
    past_edge = Newest("k", NOW - window - timedelta(seconds=1))
    assert status_of(at_edge, window, NOW, expected=True) == "ARRIVING"
    assert status_of(past_edge, window, NOW, expected=True) == "STALE"
    assert status_of(None, window, NOW, expected=True) == "NONE"
    assert status_of(past_edge, window, NOW, expected=False) == "NOT_EXPECTED"


@pytest.mark.parametrize(
    ("age", "status"),
    [(timedelta(hours=6), "ARRIVING"), (timedelta(hours=6, minutes=1), "STALE")],
)
def test_the_default_cloudtrail_window_through_the_whole_scan(age, status):
    when = NOW - age
    key = trail_key(A, "us-east-1", when.year, when.month, when.day, when.strftime("%H%M"))
    report = run({key: NOW}, plan=plan_of({A: ("us-east-1",)}))
    assert statuses(report)[(A, "us-east-1", "cloudtrail")] == status


def test_a_freshness_setting_moves_the_threshold():
    when = NOW - timedelta(hours=7)
    key = trail_key(A, "us-east-1", when.year, when.month, when.day, when.strftime("%H%M"))
    wider = CoverageSettings(
        expect=("cloudtrail",), freshness={**DEFAULT_FRESHNESS, "cloudtrail": timedelta(hours=8)}
    )
    report = run({key: NOW}, settings=wider, plan=plan_of({A: ("us-east-1",)}))
    assert statuses(report)[(A, "us-east-1", "cloudtrail")] == "ARRIVING"
    assert report.exit_code == 0


# --- the newest object, by delimiter listings --------------------------------------------------


def test_the_newest_day_is_found_with_four_listings_however_many_days_exist():
    objects = {}
    for day in range(1, 366):
        when = utc(2025, 12, 1) + timedelta(days=day)
        objects[trail_key(A, "us-east-1", when.year, when.month, when.day, "0005")] = NOW
    s3 = FakeS3(objects)
    newest = archive(s3).newest(
        naming.log_layout("cloudtrail", A, ORG_ID).partition_prefix("us-east-1"), "/"
    )
    assert newest == Newest(trail_key(A, "us-east-1", 2026, 12, 1, "0005"), utc(2026, 12, 1, 0, 5))
    assert [kwargs["Delimiter"] for _, kwargs in s3.calls] == ["/", "/", "/", "/"]
    assert len(s3.calls) == 4  # years, months, days, that day's objects


def test_folders_that_are_not_dates_or_are_in_the_future_are_skipped():
    base = naming.log_layout("cloudtrail", A, ORG_ID).partition_prefix("us-east-1")
    good = trail_key(A, "us-east-1", 2026, 11, 29, "2355")
    objects = {
        good: NOW,
        f"{base}2026/13/01/x_20261301T0000Z_y.json.gz": NOW,  # month 13
        f"{base}2026/11/31/x.json.gz": NOW,  # 31 November
        f"{base}2026/11/3/x.json.gz": NOW,  # one digit
        f"{base}tmp/x.json.gz": NOW,
        f"{base}2099/01/01/x_20990101T0000Z_y.json.gz": NOW,  # a clock's mistake
        f"{base}2026/12/05/x_20261205T0000Z_y.json.gz": NOW,  # five days ahead
    }
    assert archive(FakeS3(objects)).newest(base, "/") == Newest(good, utc(2026, 11, 29, 23, 55))


def test_a_newest_day_without_objects_falls_back_to_the_day_before():
    base = naming.log_layout("cloudtrail", A, ORG_ID).partition_prefix("us-east-1")
    older = trail_key(A, "us-east-1", 2026, 11, 28, "1200")
    objects = {older: NOW, f"{base}2026/11/30/nested/deeper.json.gz": NOW}
    assert archive(FakeS3(objects)).newest(base, "/") == Newest(older, utc(2026, 11, 28, 12))


def test_the_newest_object_of_a_day_is_found_across_pages():
    base = naming.log_layout("cloudtrail", A, ORG_ID).partition_prefix("us-east-1")
    objects = {
        trail_key(A, "us-east-1", 2026, 11, 30, f"{m // 60:02d}{m % 60:02d}"): NOW
        for m in range(0, 1200)
    }
    s3 = FakeS3(objects, page_size=500)
    assert archive(s3).newest(base, "/").time == utc(2026, 11, 30, 19, 59)
    assert len(s3.calls) == 3 + 3  # three levels, then three pages of the day


@pytest.mark.parametrize(
    ("key", "when"),
    [
        (
            "a/111122223333_CloudTrail_us-east-2_20150801T0210Z_Mu0KsOhtH1ar15ZZ.json.gz",
            (2015, 8, 1, 2, 10),
        ),
        (
            "a/123456789012_vpcflowlogs_us-east-1_fl-1234abcd_20180620T1620Z_fe123456.log.gz",
            (2018, 6, 20, 16, 20),
        ),
        (
            "a/123456789012_elasticloadbalancing_us-east-2_app.my-lb.1234567890abcdef_20140215T2340Z_172.160.001.192_20sg8hgm.log.gz",
            (2014, 2, 15, 23, 40),
        ),
        (
            "CloudWatchLogs/1/us-east-1/2026/11/30/acme-org-logs-us-east-1-1-2026-11-30-20-55-07-4f1c.gz",
            (2026, 11, 30, 20, 55, 7),
        ),
        ("AWSLogs/1/CloudFront/E2EXAMPLE.2019-12-04-21.02e6e5b1.gz", (2019, 12, 4, 21)),
    ],
)
def test_the_delivery_time_is_read_from_each_writers_file_name(key, when):
    assert key_time(key) == utc(*when)


def test_an_object_without_a_time_in_its_name_counts_by_its_last_modified():
    base = naming.log_layout("vpcflowlogs", A, ORG_ID).partition_prefix("us-east-1")
    key = f"{base}2026/11/30/renamed-by-hand.log.gz"
    assert archive(FakeS3({key: utc(2026, 11, 30, 3)})).newest(base, "/") == Newest(
        key, utc(2026, 11, 30, 3)
    )


# --- the scan: every type's layout, the gaps, exclusions ---------------------------------------


def org_objects() -> dict:
    """A: every type arriving in both regions but stale flow logs; B: no CloudWatch Logs."""
    fresh, old = "2045", (2026, 11, 27)
    objects: dict = {}
    for account in (A, B):
        for region in ("us-east-1", "eu-west-1"):
            objects[trail_key(account, region, 2026, 11, 30, fresh)] = NOW
            flow = naming.log_layout("vpcflowlogs", account, ORG_ID).partition_prefix(region)
            y, m, d = old if account == A else (2026, 11, 30)
            stamp = f"{y}{m:02d}{d:02d}T{fresh}Z"
            objects[
                f"{flow}{y}/{m:02d}/{d:02d}/{account}_vpcflowlogs_{region}_fl-0a1b2c3d4e5f60718_{stamp}_fe123456.log.gz"
            ] = NOW
            elb = naming.log_layout("elb", account, ORG_ID).partition_prefix(region)
            objects[
                f"{elb}2026/11/30/{account}_elasticloadbalancing_{region}_app.my-lb.50dc6c495c0c9188_20261130T{fresh}Z_192.0.2.1_20sg8hgm.log.gz"
            ] = NOW
            vpc = f"vpc-0{account[:7]}{'1' if region == 'us-east-1' else '2'}"
            dns = naming.log_layout("route53resolver", account, ORG_ID).partition_prefix(vpc)
            record = json.dumps({"account_id": account, "region": region, "vpc_id": vpc})
            objects[
                f"{dns}2026/11/30/{account}_vpcdnsquerylogs_{vpc}_20261130T{fresh}Z_a1b2c3d4.log.gz"
            ] = (NOW, gz(record + "\n"))
            if account != B:
                cwl = naming.cloudwatch_logs_day_prefix(account, region, 2026, 11, 30)
                objects[f"{cwl}acme-org-logs-{region}-1-2026-11-30-20-45-00-0f1e2d3c.gz"] = NOW
        cloudfront = naming.log_layout("cloudfront", account, ORG_ID).prefix
        objects[f"{cloudfront}E2EXAMPLE1.2026-11-30-20.02e6e5b1.gz"] = NOW
        objects[f"{cloudfront}E2EXAMPLE1.2026-11-29-23.02e6e5b1.gz"] = NOW
    return objects


ORG = plan_of(
    {A: ("eu-west-1", "us-east-1"), B: ("eu-west-1", "us-east-1")},
    excluded=(
        Exclusion("555555555555", "in excluded OU ou-root-sandbox"),
        Exclusion(B, "opt-in region eu-central-2 is not enabled in the account", "eu-central-2"),
    ),
    regions=("us-east-1", "eu-west-1", "eu-central-2"),
)


def test_every_cell_of_an_organization_with_two_gaps():
    report = run(org_objects(), plan=ORG)
    expected = {}
    for account in (A, B):
        for region in ("eu-west-1", "us-east-1"):
            for log_type in naming.LOG_TYPES:
                if log_type != "cloudfront":
                    expected[(account, region, log_type)] = "ARRIVING"
        expected[(account, "global", "cloudfront")] = "ARRIVING"
    for region in ("us-east-1", "eu-west-1", "eu-central-2"):
        for log_type in naming.LOG_TYPES:
            if log_type != "cloudfront":
                expected[("555555555555", region, log_type)] = "NOT_EXPECTED"
    expected[("555555555555", "global", "cloudfront")] = "NOT_EXPECTED"
    for log_type in naming.LOG_TYPES:
        if log_type != "cloudfront":
            expected[(B, "eu-central-2", log_type)] = "NOT_EXPECTED"
    for region in ("eu-west-1", "us-east-1"):
        expected[(A, region, "vpcflowlogs")] = "STALE"
        expected[(B, region, "cloudwatchlogs")] = "NONE"
    assert statuses(report) == expected
    assert report.exit_code == 1
    assert {(c.account_id, c.region, c.log_type) for c in report.failing} == {
        (A, "eu-west-1", "vpcflowlogs"),
        (A, "us-east-1", "vpcflowlogs"),
        (B, "eu-west-1", "cloudwatchlogs"),
        (B, "us-east-1", "cloudwatchlogs"),
    }


def test_resolver_logs_are_placed_in_the_region_their_records_name():
    cells = {(c.account_id, c.region, c.log_type): c for c in run(org_objects(), plan=ORG).cells}
    assert "/vpc-01111111" + "1/" in cells[(A, "us-east-1", "route53resolver")].newest.key
    assert "/vpc-01111111" + "2/" in cells[(A, "eu-west-1", "route53resolver")].newest.key


def test_cloudfront_is_one_global_cell_per_account_with_its_newest_hour():
    cells = {(c.account_id, c.region, c.log_type): c for c in run(org_objects(), plan=ORG).cells}
    assert cells[(A, "global", "cloudfront")].newest.time == utc(2026, 11, 30, 20)


def test_types_not_expected_are_read_but_do_not_fail_the_run():
    report = run(org_objects(), settings=CoverageSettings(expect=("cloudtrail", "elb")), plan=ORG)
    cells = {(c.account_id, c.region, c.log_type): c for c in report.cells}
    stale = cells[(A, "us-east-1", "vpcflowlogs")]
    assert (stale.status, stale.newest.time) == ("NOT_EXPECTED", utc(2026, 11, 27, 20, 45))
    assert cells[(B, "us-east-1", "cloudwatchlogs")].status == "NOT_EXPECTED"
    assert report.exit_code == 0


def test_the_default_expectation_is_cloudtrail_and_cloudwatch_logs():
    report = run(org_objects(), settings=CoverageSettings(), plan=ORG)
    assert {c.log_type for c in report.failing} == {"cloudwatchlogs"}
    assert report.exit_code == 1


def test_nothing_is_read_for_excluded_accounts():
    s3 = FakeS3(org_objects())
    scan(Scope.from_plan(ORG), ALL, s3=s3, cloudtrail=None, now=NOW, retry=NO_WAIT)
    assert not [kwargs for _, kwargs in s3.calls if "555555555555" in kwargs.get("Prefix", "")]
    assert not [kwargs for _, kwargs in s3.calls if "eu-central-2" in kwargs.get("Prefix", "")]


def test_an_empty_bucket_is_none_everywhere_at_one_listing_per_account_and_type():
    report = run({}, plan=ORG)
    assert {c.status for c in report.cells if c.expected} == {"NONE"}
    assert report.requests == 1 + 2 * len(naming.LOG_TYPES)  # HeadBucket, then the type roots


# --- faults -------------------------------------------------------------------------------------


def test_throttling_is_retried_and_costs_only_time():
    throttled = []

    def fault(operation, kwargs):
        if operation == "ListObjectsV2" and len(throttled) < 3:
            throttled.append(kwargs)
            return client_error("SlowDown", "ListObjectsV2", 503)
        return None

    report = run(org_objects(), plan=ORG, fault=fault)
    assert len(throttled) == 3
    assert statuses(report) == statuses(run(org_objects(), plan=ORG))


@pytest.mark.parametrize(
    "page",
    [
        {"IsTruncated": True, "Contents": []},  # truncated without a token
        {"IsTruncated": False, "CommonPrefixes": "2026/"},  # not a list
        {"IsTruncated": False, "CommonPrefixes": [{"Prefix": "elsewhere/"}]},  # outside the prefix
        {"IsTruncated": False, "Contents": [{"Size": 3}]},  # an object without its key
    ],
)
def test_a_malformed_listing_leaves_the_cells_unknown_and_fails_the_run(page):
    def fault(operation, kwargs):
        flows = naming.log_layout("vpcflowlogs", A, ORG_ID).prefix
        if operation == "ListObjectsV2" and kwargs["Prefix"] == flows:
            return page
        return None

    report = run(org_objects(), plan=ORG, fault=fault)
    cells = statuses(report)
    assert cells[(A, "us-east-1", "vpcflowlogs")] == "UNKNOWN"
    assert cells[(A, "eu-west-1", "vpcflowlogs")] == "UNKNOWN"
    assert cells[(B, "us-east-1", "vpcflowlogs")] == "ARRIVING"
    assert report.exit_code == 1
    assert report.problems() == [report.errors[0]]
    assert report.errors[0].startswith(f"{A} vpcflowlogs: a ListObjectsV2 reply")


def test_access_denied_on_one_prefix_is_unknown_with_the_refusal():
    def fault(operation, kwargs):
        if kwargs.get("Prefix", "").startswith(f"CloudWatchLogs/{A}/"):
            return client_error("AccessDenied", "ListObjectsV2", 403)
        return None

    report = run(org_objects(), plan=ORG, fault=fault)
    assert statuses(report)[(A, "us-east-1", "cloudwatchlogs")] == "UNKNOWN"
    assert report.errors == (
        f"{A} cloudwatchlogs: ListObjectsV2 refused (AccessDenied): AccessDenied said S3",
    )


@pytest.mark.parametrize(
    ("error", "message"),
    [
        (client_error("404", "HeadBucket", 404), "does not exist there"),
        (client_error("403", "HeadBucket", 403), "cannot read the central bucket"),
    ],
)
def test_a_missing_or_unreadable_bucket_stops_before_any_listing(error, message):
    with pytest.raises(CoverageError, match=message):
        run({}, plan=ORG, bucket_error=error)


def test_a_plan_without_the_log_archive_stack_is_refused():
    plan = plan_of({A: ("us-east-1",)}).only(["source"])
    with pytest.raises(CoverageError, match="no log-archive stack"):
        Scope.from_plan(plan)


# --- settings ----------------------------------------------------------------------------------


def test_every_log_type_has_a_default_window_and_the_defaults_are_the_documented_ones():
    assert {t: int(w.total_seconds() // 3600) for t, w in DEFAULT_FRESHNESS.items()} == {
        "cloudtrail": 6,
        "vpcflowlogs": 6,
        "route53resolver": 6,
        "elb": 24,
        "cloudfront": 48,
        "cloudwatchlogs": 24,
    }
    assert tuple(DEFAULT_FRESHNESS) == naming.LOG_TYPES


def test_durations_and_types_are_checked_with_clear_messages():
    assert parse_duration("90m") == timedelta(minutes=90)
    assert parse_types("cloudwatchlogs, elb") == ("elb", "cloudwatchlogs")
    assert parse_freshness(["elb=2d"])["elb"] == timedelta(days=2)
    for bad, message in [
        (lambda: parse_duration("0h"), "not a duration"),
        (lambda: parse_duration("6 hours"), "not a duration"),
        (lambda: parse_types("cloudtrail,s3"), "unknown log type 's3'"),
        (lambda: parse_freshness(["elb"]), "TYPE=DURATION"),
        (lambda: parse_freshness(["waf=1h"]), "unknown log type 'waf'"),
    ]:
        with pytest.raises(CoverageUsageError, match=message):
            bad()


# --- output -------------------------------------------------------------------------------------


def test_the_json_report_has_the_documented_shape():
    report = run(org_objects(), plan=ORG)
    document = report.to_json()
    assert set(document) == {"cells", "summary"}
    assert {tuple(sorted(cell)) for cell in document["cells"]} == {
        ("accountId", "newest", "region", "status", "type")
    }
    stale = next(
        c
        for c in document["cells"]
        if (c["accountId"], c["region"], c["type"]) == (A, "us-east-1", "vpcflowlogs")
    )
    assert stale["status"] == "STALE"
    assert stale["newest"]["time"] == "2026-11-27T20:45:00Z"
    assert stale["newest"]["key"].startswith(f"AWSLogs/{A}/vpcflowlogs/us-east-1/2026/11/27/")
    summary = document["summary"]
    assert summary["types"]["cloudwatchlogs"] == {
        "ARRIVING": 2,
        "STALE": 0,
        "NONE": 2,
        "NOT_EXPECTED": 4,
        "UNKNOWN": 0,
    }
    assert summary["freshnessSeconds"]["cloudtrail"] == 6 * 3600
    assert (summary["failing"], summary["ok"], summary["bucket"]) == (4, False, BUCKET)
    assert json.loads(json.dumps(document)) == document


def test_the_table_names_the_gaps(capsys):
    console = Console(width=250, record=True)
    print_report(run(org_objects(), plan=ORG), console, Console(stderr=True), as_json=False)
    text = console.export_text()
    assert "4 expected cells not arriving" in text
    assert f"{A} │ us-east-1 │ vpcflowlogs    │ STALE" in text
    assert f"{B} │ eu-west-1 │ cloudwatchlogs │ NONE" in text


def test_without_a_terminal_progress_is_a_line_per_tenth():
    console = Console(file=__import__("io").StringIO(), force_terminal=False, width=120)
    with ScanProgress(20, console) as progress:
        for _ in range(20):
            progress(1)
    lines = console.file.getvalue().splitlines()
    assert lines[0] == "coverage: 20 account x log type listings"
    assert lines[1:] == [f"coverage: {n}/20" for n in range(2, 21, 2)]


def test_each_log_type_is_read_where_its_writer_writes():
    layouts = {t: naming.log_layout(t, A, ORG_ID) for t in naming.LOG_TYPES}
    assert {
        t: (layout.prefix, layout.partition, layout.partition_delimiter, layout.date_separator)
        for t, layout in layouts.items()
    } == {
        "cloudtrail": (f"AWSLogs/{ORG_ID}/{A}/CloudTrail/", "region", "/", "/"),
        "vpcflowlogs": (f"AWSLogs/{A}/vpcflowlogs/", "region", "/", "/"),
        "route53resolver": (f"AWSLogs/{A}/vpcdnsquerylogs/", "vpc", "/", "/"),
        "elb": (f"AWSLogs/{A}/elasticloadbalancing/", "region", "/", "/"),
        "cloudfront": (f"AWSLogs/{A}/CloudFront/", "distribution", ".", "-"),
        "cloudwatchlogs": (f"CloudWatchLogs/{A}/", "region", "/", "/"),
    }
    # The same prefixes the program configures its writers with.
    assert layouts["cloudwatchlogs"].partition_prefix("eu-west-1") == naming.cloudwatch_logs_prefix(
        A, "eu-west-1"
    )
    assert layouts["cloudtrail"].prefix.startswith(naming.trail_prefixes(ORG_ID, A)[0])
    conventions = naming.delivery_conventions(A)
    assert conventions["vpcFlowLogs"]["objectsUnder"] == layouts["vpcflowlogs"].prefix
    assert (
        conventions["route53ResolverQueryLogs"]["objectsUnder"] == layouts["route53resolver"].prefix
    )
    assert conventions["elasticLoadBalancing"]["objectsUnder"] == layouts["elb"].prefix
    assert conventions["cloudFront"]["objectsUnder"] == layouts["cloudfront"].prefix
    with pytest.raises(ValueError, match="unknown log type 'waf'"):
        naming.log_layout("waf", A, ORG_ID)
