"""The reader's templates and the writers' layout are one: every table's
`storage.location.template`, expanded with its projection values, is exactly where our writers
put that account x region x day (replication from the source buckets, the organization trail,
the Firehose streams; components/naming.py), for any account, region and date."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from components import naming
from components.archive_tables import LogTable, Projection, log_tables, partition_regions
from enroll.demo.archive_seed import Delivery, object_key
from enroll.query.engine import key_pattern, local_tables
from policy import conventions

ORG_ID = "o-a1b2c3d4e5"
MANAGEMENT = "111111111111"
accounts = st.from_regex(r"[0-9]{12}", fullmatch=True)
regions = st.sampled_from(sorted(conventions.REGIONS))
days = st.dates(min_value=date(2020, 1, 1), max_value=date(2099, 12, 31))
vpcs = st.from_regex(r"vpc-[0-9a-f]{17}", fullmatch=True)


def java_date(day: date, pattern: str) -> str:
    """What Athena's date projection (a Java DateTimeFormatter pattern) makes of `day`."""
    return (
        pattern.replace("yyyy", f"{day:%Y}").replace("MM", f"{day:%m}").replace("dd", f"{day:%d}")
    )


def expand(table: LogTable, values: dict[str, str], day: date) -> str:
    def value(match: re.Match[str]) -> str:
        key = next(k for k in table.partitions if k.name == match.group(1))
        return java_date(day, key.date_format) if key.kind == "date" else values[key.name]

    return re.sub(r"\$\{([a-z_]+)\}", value, table.template)


def tables_for(account: str, region: str) -> dict[str, LogTable]:
    projection = Projection(ORG_ID, (account,), (region,), partition_regions(region))
    return {t.name: t for t in log_tables(projection)}


def firehose_prefix(region: str, account: str, day: date) -> str:
    """The Firehose stream's S3 prefix expression, evaluated as Firehose does."""
    expression = naming.cloudwatch_logs_object_prefix(region)
    expression = expression.replace("!{partitionKeyFromQuery:owner}", account)
    return re.sub(r"!\{timestamp:([^}]+)\}", lambda m: java_date(day, m.group(1)), expression)


@settings(deadline=None)  # a shared 2-CPU machine: no per-example deadline
@given(accounts, regions, days)
def test_firehose_writes_exactly_where_the_cloudwatch_logs_table_reads(account, region, day):
    table = tables_for(account, region)["cloudwatch_logs"]
    expanded = expand(table, {"account": account, "region": region}, day)
    assert expanded == firehose_prefix(region, account, day)
    assert expanded == naming.cloudwatch_logs_day_prefix(
        account, region, day.year, day.month, day.day
    )


@settings(deadline=None)  # a shared 2-CPU machine: no per-example deadline
@given(accounts, regions, days)
def test_the_org_trail_writes_exactly_where_the_cloudtrail_table_reads(account, region, day):
    table = tables_for(account, region)["cloudtrail"]
    expanded = expand(table, {"account": account, "region": region}, day)
    trail_prefix, _ = naming.trail_prefixes(ORG_ID, MANAGEMENT)
    assert expanded == f"{trail_prefix}{account}/CloudTrail/{region}/{day:%Y/%m/%d}/"
    assert region in table.partitions[1].values  # the trail writes every region


@settings(deadline=None)  # a shared 2-CPU machine: no per-example deadline
@given(accounts, regions, days, vpcs)
def test_replicated_logs_are_read_under_the_source_accounts_own_prefix(account, region, day, vpc):
    """Replication copies `AWSLogs/{account}/` unchanged: each table reads, under it, the
    folder its service writes (naming.delivery_conventions / log_layout)."""
    found = tables_for(account, region)
    conventions_of = naming.delivery_conventions(account)
    cases = {
        "vpc_flow_logs": ("vpcFlowLogs", {"region": region}),
        "alb_access_logs": ("elasticLoadBalancing", {"region": region}),
        "nlb_access_logs": ("elasticLoadBalancing", {"region": region}),
        "clb_access_logs": ("elasticLoadBalancing", {"region": region}),
        "route53_resolver_query_logs": ("route53ResolverQueryLogs", {"vpc": vpc}),
    }
    for name, (service, folder) in cases.items():
        expanded = expand(found[name], {"account": account, **folder}, day)
        under = conventions_of[service]["objectsUnder"]
        assert expanded == f"{under}{next(iter(folder.values()))}/{day:%Y/%m/%d}/", name
        assert expanded.startswith(conventions.account_logs_prefix(account)), name
    cloudfront = expand(found["cloudfront_logs"], {"account": account}, day)
    assert cloudfront == conventions_of["cloudFront"]["objectsUnder"]


@settings(deadline=None)  # a shared 2-CPU machine: no per-example deadline
@given(accounts, regions, days)
def test_every_object_a_writer_delivers_belongs_to_its_tables_with_its_partition_values(
    account, region, day
):
    """The demo's writers (enroll/demo/archive_seed.py) name objects as AWS does; the local
    reader files each under the tables whose template it matches, with the same values."""
    when = datetime(day.year, day.month, day.day, 12, 30, tzinfo=UTC)
    readers: dict[str, list[str]] = {}
    for table in local_tables():
        readers.setdefault(table.log_type, []).append(table.name)
    for log_type in naming.LOG_TYPES:
        cell = "global" if log_type == "cloudfront" else region
        key = object_key(Delivery(account, cell, log_type, when), org_id=ORG_ID, name_prefix="acme")
        matching = []
        for table in local_tables():
            match = key_pattern(table).fullmatch(key)
            if match:
                matching.append(table.name)
                assert match.group("account") == account
                if "day" in match.groupdict():
                    assert match.group("day") == f"{day:%Y/%m/%d}"
                if "region" in match.groupdict():
                    assert match.group("region") == region
        assert matching == readers[log_type], key


def test_every_template_names_each_partition_once_and_only_its_partitions():
    for table in tables_for(MANAGEMENT, "us-east-1").values():
        found = re.findall(r"\$\{([a-z_]+)\}", table.template)
        assert found == [k.name for k in table.partitions], table.name
        assert "${" not in table.location("b"), table.name


@settings(deadline=None)  # a shared 2-CPU machine: no per-example deadline
@given(
    st.lists(accounts, min_size=1, max_size=20, unique=True),
    st.sampled_from(["us-east-1", "cn-north-1", "us-gov-west-1"]),
)
def test_projection_enumerates_the_accounts_and_the_regions_it_is_given(members, home):
    enrolled = (home,)
    projection = Projection(ORG_ID, tuple(members), enrolled, partition_regions(home))
    for table in log_tables(projection):
        params = table.parameters("bucket")
        assert params["projection.account.values"].split(",") == members
        if "projection.region.values" in params:
            expected = partition_regions(home) if table.name == "cloudtrail" else enrolled
            assert params["projection.region.values"].split(",") == list(expected)
            assert all(
                conventions.partition_of(r) is conventions.partition_of(home) for r in expected
            )
