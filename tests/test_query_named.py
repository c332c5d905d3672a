"""Every named query parses in Athena's dialect and, transpiled by sqlglot, runs in DuckDB over
the cited sample logs laid out as the writers lay them out (enroll/demo/archive_seed.py),
returning the rows asserted here. The text is the one the stack registers (test_query_layer)."""

from __future__ import annotations

import gzip
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import sqlglot

from components.named_queries import WINDOW_DAYS, named_queries
from enroll.demo.archive_seed import SAMPLES_DIR, Delivery, object_body, object_key
from enroll.query.engine import LocalArchive, QueryError, to_duckdb

ORG_ID = "o-a1b2c3d4e5"
BUCKET = "acme-org-logs-222222222222-us-east-1"
TODAY = date(2026, 11, 30)
NOW = datetime(2026, 11, 30, 21, 0, tzinfo=UTC)
CELLS = [("333333333333", "us-east-1"), ("444444444444", "eu-west-1")]
OLD = NOW - timedelta(days=WINDOW_DAYS + 3)  # outside every query's window
LOG_TYPES = ("cloudtrail", "vpcflowlogs", "route53resolver", "elb", "cloudfront", "cloudwatchlogs")


def put(root: Path, delivery: Delivery) -> str:
    key = object_key(delivery, org_id=ORG_ID, name_prefix="acme")
    (root / key).parent.mkdir(parents=True, exist_ok=True)
    (root / key).write_bytes(object_body(delivery))
    return key


def seed(root: Path) -> None:
    """Every log type for both cells today, but the first cell's load balancers today are an
    NLB and a CLB; the first cell's logs again, 10 days ago (out of today's window)."""
    for account, region in CELLS:
        for log_type in LOG_TYPES:
            put(
                root,
                Delivery(account, "global" if log_type == "cloudfront" else region, log_type, NOW),
            )
    account, region = CELLS[0]
    for log_type in ("cloudtrail", "vpcflowlogs", "elb", "cloudwatchlogs"):
        put(root, Delivery(account, region, log_type, OLD))
    alb = put(root, Delivery(account, region, "elb", NOW))
    for kind, sample in (
        ("net.my-network-loadbalancer", "elb-nlb.log"),
        ("my-loadbalancer", "elb-clb.log"),
    ):
        key = alb.replace("app.my-loadbalancer", kind)
        (root / key).write_bytes(gzip.compress((SAMPLES_DIR / sample).read_bytes(), mtime=0))
    (root / alb).unlink()


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    root = tmp_path_factory.mktemp("archive") / BUCKET
    seed(root)
    local = LocalArchive(root)
    yield local
    local.close()


def run(archive: LocalArchive, name: str) -> list[tuple]:
    query = next(q for q in named_queries("acme") if q.name == name)
    return archive.query(query.sql, today=TODAY)[1]


@pytest.mark.parametrize("query", named_queries("acme"), ids=lambda q: q.name)
def test_every_named_query_parses_in_athenas_dialect_and_transpiles(query):
    (tree,) = sqlglot.parse(query.sql, read="athena")
    assert tree is not None
    tables = {t.name for t in tree.find_all(sqlglot.exp.Table)}
    assert tables == set(query.tables), query.name
    assert to_duckdb(query.sql)


def test_the_archive_holds_the_seeded_objects(archive):
    assert archive.objects == {
        "cloudtrail": 3,
        "vpc_flow_logs": 3,
        "route53_resolver_query_logs": 2,
        "alb_access_logs": 4,
        "nlb_access_logs": 4,
        "clb_access_logs": 4,
        "cloudfront_logs": 2,
        "cloudwatch_logs": 3,
    }


def test_root_user_activity(archive):
    assert run(archive, "root-user-activity") == [
        (
            "333333333333",
            "2018-08-29T16:24:34Z",
            "signin.amazonaws.com",
            "ConsoleLogin",
            "us-east-1",
            "192.0.2.0",
            None,
        ),
        (
            "444444444444",
            "2018-08-29T16:24:34Z",
            "signin.amazonaws.com",
            "ConsoleLogin",
            "eu-west-1",
            "192.0.2.0",
            None,
        ),
    ]


def test_console_logins_without_mfa(archive):
    assert run(archive, "console-logins-without-mfa") == [
        (
            "333333333333",
            "2018-08-29T16:24:34Z",
            "Root",
            "arn:aws:iam::333333333333:root",
            "192.0.2.0",
            "Success",
        ),
        (
            "444444444444",
            "2018-08-29T16:24:34Z",
            "Root",
            "arn:aws:iam::444444444444:root",
            "192.0.2.0",
            "Success",
        ),
        (
            "333333333333",
            "2014-07-16T15:49:27Z",
            "IAMUser",
            "arn:aws:iam::333333333333:user/JohnDoe",
            "192.0.2.110",
            "Success",
        ),
        (
            "444444444444",
            "2014-07-16T15:49:27Z",
            "IAMUser",
            "arn:aws:iam::444444444444:user/JohnDoe",
            "192.0.2.110",
            "Success",
        ),
    ]


def test_logging_tampering(archive):
    assert run(archive, "logging-tampering") == [
        (
            "333333333333",
            "2016-07-14T19:15:45Z",
            "cloudtrail.amazonaws.com",
            "UpdateTrail",
            "arn:aws:iam::333333333333:user/Mary_Major",
            "TrailNotFoundException",
            "myTrail2",
        ),
        (
            "444444444444",
            "2016-07-14T19:15:45Z",
            "cloudtrail.amazonaws.com",
            "UpdateTrail",
            "arn:aws:iam::444444444444:user/Mary_Major",
            "TrailNotFoundException",
            "myTrail2",
        ),
    ]


def test_denied_calls_by_account(archive):
    assert run(archive, "denied-calls-by-account") == [
        ("333333333333", "Client.UnauthorizedOperation", 1, 1),
        ("444444444444", "Client.UnauthorizedOperation", 1, 1),
    ]


def test_rejected_flows_by_account_and_port(archive):
    assert run(archive, "rejected-flows-by-account-and-port") == [
        ("333333333333", 0, 1, 1, 4),
        ("333333333333", 3389, 6, 1, 20),
        ("444444444444", 0, 1, 1, 4),
        ("444444444444", 3389, 6, 1, 20),
    ]


def test_alb_5xx_by_account(archive):
    """The first cell's load balancer files today are NLB and CLB ones: their lines are
    nulls to the ALB table, so only the second cell answers."""
    assert run(archive, "alb-5xx-by-account") == [
        ("444444444444", "app/my-loadbalancer/50dc6c495c0c9188", 503, 1),
    ]


def test_errors_by_log_group(archive):
    assert run(archive, "errors-by-log-group") == [
        ("333333333333", "/aws/rds/instance/orders-db/postgresql", 1),
        ("444444444444", "/aws/rds/instance/orders-db/postgresql", 1),
    ]


def test_objects_per_account_per_day(archive):
    assert run(archive, "objects-per-account-per-day") == [
        ("cloudtrail", "333333333333", "2026/11/30", 1),
        ("cloudtrail", "444444444444", "2026/11/30", 1),
        ("cloudwatchlogs", "333333333333", "2026/11/30", 1),
        ("cloudwatchlogs", "444444444444", "2026/11/30", 1),
        ("elb", "333333333333", "2026/11/30", 2),
        ("elb", "444444444444", "2026/11/30", 1),
        ("vpcflowlogs", "333333333333", "2026/11/30", 1),
        ("vpcflowlogs", "444444444444", "2026/11/30", 1),
    ]


def test_a_window_that_ends_before_the_logs_finds_nothing_of_them(archive):
    before = OLD.date() - timedelta(days=WINDOW_DAYS + 1)
    for query in named_queries("acme"):
        assert archive.query(query.sql, today=before)[1] == [], query.name


def test_the_older_day_is_found_when_the_window_covers_it(archive):
    rows = archive.query(named_queries("acme")[-1].sql, today=OLD.date())[1]
    assert {(r[0], r[1], r[2]) for r in rows} == {
        (log_type, "333333333333", f"{OLD:%Y/%m/%d}")
        for log_type in ("cloudtrail", "cloudwatchlogs", "elb", "vpcflowlogs")
    }


def test_the_injected_vpc_partition_is_a_column(archive):
    columns, rows = archive.query(
        "SELECT account, vpc, count(*) AS queries FROM route53_resolver_query_logs "
        "GROUP BY account, vpc ORDER BY account"
    )
    assert columns == ["account", "vpc", "queries"]
    assert [(r[0], r[2]) for r in rows] == [("333333333333", 2), ("444444444444", 2)]
    assert all(r[1].startswith("vpc-") for r in rows)


def test_path_is_the_objects_s3_address(archive):
    _, rows = archive.query('SELECT DISTINCT "$path" FROM cloudfront_logs ORDER BY 1')
    assert len(rows) == 2
    assert all(r[0].startswith(f"s3://{BUCKET}/AWSLogs/") for r in rows)


@pytest.mark.parametrize(
    "sql",
    ["SELEC 1", "SELECT 1; SELECT 2", "SELECT nope FROM cloudtrail"],
    ids=["syntax", "two", "column"],
)
def test_bad_sql_is_a_query_error(archive, sql):
    with pytest.raises(QueryError):
        archive.query(sql)
