"""Sample logs in the emulated central bucket, laid out as their writers lay them out: the
organization trail, VPC flow logs, Route 53 Resolver query logs, ELB, CloudFront (legacy
standard logging) and our Firehose. Bodies are the files of enroll/demo/samples (SOURCES.md
cites where each format comes from), gzipped as the writers gzip them, with the sample's
account and region replaced by the cell's.

`demo_deliveries` is the demo's archive: every type arriving for every enrolled account x
region, except two deliberate gaps (one account's flow logs stale, another's CloudWatch Logs
never sent).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import random
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from components import naming

SAMPLES_DIR = Path(__file__).resolve().parent / "samples"
SAMPLE_FILES = {
    "cloudtrail": "cloudtrail.json",
    "vpcflowlogs": "vpcflowlogs.log",
    "route53resolver": "route53resolver.log",
    "elb": "elb.log",
    "cloudfront": "cloudfront.log",
    "cloudwatchlogs": "cloudwatchlogs.json",
}
# The account and region the sample files are written for; each copy gets the cell's.
SAMPLE_ACCOUNT = "111122223333"
SAMPLE_REGION = "us-east-1"
GLOBAL_REGION = "global"  # CloudFront's cells (as coverage names them)


@dataclass(frozen=True)
class Delivery:
    """One object a writer delivered: `region` is GLOBAL_REGION for CloudFront."""

    account: str
    region: str
    log_type: str
    time: datetime


@cache
def sample(log_type: str) -> str:
    return (SAMPLES_DIR / SAMPLE_FILES[log_type]).read_text()


def object_body(delivery: Delivery) -> bytes:
    text = sample(delivery.log_type).replace(SAMPLE_ACCOUNT, delivery.account)
    if delivery.region != GLOBAL_REGION:
        text = text.replace(SAMPLE_REGION, delivery.region)
    if delivery.log_type == "route53resolver":
        text = "".join(
            json.dumps(resolver_record(json.loads(line), delivery), separators=(",", ":")) + "\n"
            for line in text.splitlines()
            if line.strip()
        )
    return gzip.compress(text.encode(), mtime=0)


def resolver_record(record: dict, delivery: Delivery) -> dict:
    """A query log record names its account, region and VPC; the key's folder is that VPC."""
    return {
        **record,
        "account_id": delivery.account,
        "region": delivery.region,
        "vpc_id": vpc_id(delivery.account, delivery.region),
    }


def _hex(seed: str, length: int) -> str:
    return hashlib.sha256(seed.encode()).hexdigest()[:length]


def vpc_id(account: str, region: str) -> str:
    return f"vpc-{_hex(f'vpc {account} {region}', 17)}"


def object_key(delivery: Delivery, *, org_id: str, name_prefix: str) -> str:
    """The key the writer gives this delivery (SOURCES.md lists the formats)."""
    account, region, when = delivery.account, delivery.region, delivery.time.astimezone(UTC)
    layout = naming.log_layout(delivery.log_type, account, org_id)
    day = when.strftime("%Y/%m/%d/")
    minute = when.strftime("%Y%m%dT%H%MZ")
    unique = _hex(f"{delivery}", 16)
    if delivery.log_type == "cloudtrail":
        name = f"{account}_CloudTrail_{region}_{minute}_{unique}.json.gz"
        return f"{layout.partition_prefix(region)}{day}{name}"
    if delivery.log_type == "vpcflowlogs":
        flow_log = f"fl-{_hex(f'fl {account} {region}', 17)}"
        name = f"{account}_vpcflowlogs_{region}_{flow_log}_{minute}_{unique[:8]}.log.gz"
        return f"{layout.partition_prefix(region)}{day}{name}"
    if delivery.log_type == "route53resolver":
        vpc = vpc_id(account, region)
        name = f"{account}_vpcdnsquerylogs_{vpc}_{minute}_{unique[:8]}.log.gz"
        return f"{layout.partition_prefix(vpc)}{day}{name}"
    if delivery.log_type == "elb":
        balancer = f"app.my-loadbalancer.{_hex(f'lb {account} {region}', 16)}"
        node = "192.0.2.1"  # the load balancer node that wrote the file
        name = f"{account}_elasticloadbalancing_{region}_{balancer}_{minute}_{node}_{unique[:8]}"
        return f"{layout.partition_prefix(region)}{day}{name}.log.gz"
    if delivery.log_type == "cloudfront":
        distribution = f"E{_hex(f'cf {account}', 12).upper()}"
        hour = when.strftime("%Y-%m-%d-%H")
        return f"{layout.prefix}{distribution}.{hour}.{unique[:8]}.gz"
    stream = naming.firehose_name(name_prefix, region)
    stamp = when.strftime("%Y-%m-%d-%H-%M-%S")
    uuid = f"{unique[:8]}-{unique[8:12]}-4{unique[13:16]}-8{_hex(unique, 3)}-{_hex(unique, 12)}"
    return f"{layout.partition_prefix(region)}{day}{stream}-1-{stamp}-{uuid}.gz"


def seed_archive(
    s3: Any,
    bucket: str,
    deliveries: Iterable[Delivery],
    *,
    org_id: str,
    name_prefix: str,
    concurrency: int = 8,
) -> int:
    """Put one object per delivery; returns how many."""

    def put(delivery: Delivery) -> None:
        s3.put_object(
            Bucket=bucket,
            Key=object_key(delivery, org_id=org_id, name_prefix=name_prefix),
            Body=object_body(delivery),
        )

    with ThreadPoolExecutor(concurrency) as pool:
        return sum(1 for _ in pool.map(put, deliveries))


def create_central_bucket(s3: Any, bucket: str, region: str) -> None:
    where = (
        {}
        if region == "us-east-1"
        else {"CreateBucketConfiguration": {"LocationConstraint": region}}
    )
    s3.create_bucket(Bucket=bucket, **where)


@dataclass(frozen=True)
class Gaps:
    """The demo's deliberate gaps: whose flow logs are stale (and since when), and who sends
    no CloudWatch Logs."""

    stale_flow_logs: str
    no_cloudwatch_logs: str
    stale_age: timedelta = timedelta(days=3)


def demo_deliveries(
    enrolled: Mapping[str, Iterable[str]],
    now: datetime,
    gaps: Gaps | None = None,
    *,
    history: int = 2,
    seed: int = 1,
) -> list[Delivery]:
    """Every type of every enrolled account x region (CloudFront once per account), `history`
    deliveries a day apart ending a few minutes ago, except the gaps."""
    rng = random.Random(seed)
    found: list[Delivery] = []
    for account in sorted(enrolled):
        regions = sorted(enrolled[account])
        for log_type in naming.LOG_TYPES:
            if gaps and log_type == "cloudwatchlogs" and account == gaps.no_cloudwatch_logs:
                continue
            newest = now - timedelta(minutes=rng.randint(2, 20))
            if gaps and log_type == "vpcflowlogs" and account == gaps.stale_flow_logs:
                newest = now - gaps.stale_age
            for region in [GLOBAL_REGION] if log_type == "cloudfront" else regions:
                found.extend(
                    Delivery(account, region, log_type, newest - timedelta(days=back))
                    for back in range(history)
                )
    return found
