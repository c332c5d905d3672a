"""The demo's data: sample logs laid out as their writers lay them out (keys and bodies), and
`make demo`'s coverage step over the sample organization, which shows exactly the two gaps."""

from __future__ import annotations

import gzip
import json
import re
from datetime import UTC, datetime, timedelta

import pytest
import yaml
from rich.console import Console

from components import naming
from enroll.cli import main
from enroll.demo import archive_seed
from enroll.demo.archive_seed import Delivery, Gaps, demo_deliveries, object_body, object_key
from enroll.demo.coverage_demo import show_coverage
from enroll.demo.demo import DEMO_REGIONS, NO_CLOUDWATCH_LOGS, STALE_FLOW_LOGS
from enroll.demo.emulator import Emulator, fake_credentials, sample_org, sample_settings
from enroll.org.discovery import discover, organizations_client
from enroll.org.plan import build_plan
from enroll.org.settings import load_org_settings

ACCOUNT, REGION, ORG_ID = "734062642190", "eu-west-1", "o-abcdefghij"
WHEN = datetime(2026, 11, 30, 21, 5, 42, tzinfo=UTC)

# The writers' object names, from their documentation (enroll/demo/samples/SOURCES.md).
KEYS = {
    "cloudtrail": rf"AWSLogs/{ORG_ID}/{ACCOUNT}/CloudTrail/{REGION}/2026/11/30/"
    rf"{ACCOUNT}_CloudTrail_{REGION}_20261130T2105Z_[0-9a-f]{{16}}\.json\.gz",
    "vpcflowlogs": rf"AWSLogs/{ACCOUNT}/vpcflowlogs/{REGION}/2026/11/30/"
    rf"{ACCOUNT}_vpcflowlogs_{REGION}_fl-[0-9a-f]{{17}}_20261130T2105Z_[0-9a-f]{{8}}\.log\.gz",
    "route53resolver": rf"AWSLogs/{ACCOUNT}/vpcdnsquerylogs/(vpc-[0-9a-f]{{17}})/2026/11/30/"
    rf"{ACCOUNT}_vpcdnsquerylogs_\1_20261130T2105Z_[0-9a-f]{{8}}\.log\.gz",
    "elb": rf"AWSLogs/{ACCOUNT}/elasticloadbalancing/{REGION}/2026/11/30/{ACCOUNT}_"
    rf"elasticloadbalancing_{REGION}_app\.my-loadbalancer\.[0-9a-f]{{16}}_20261130T2105Z_"
    rf"192\.0\.2\.1_[0-9a-f]{{8}}\.log\.gz",
    "cloudfront": rf"AWSLogs/{ACCOUNT}/CloudFront/E[0-9A-F]{{12}}\.2026-11-30-21\.[0-9a-f]{{8}}\.gz",
    "cloudwatchlogs": rf"CloudWatchLogs/{ACCOUNT}/{REGION}/2026/11/30/acme-org-logs-{REGION}-1-"
    rf"2026-11-30-21-05-42-[0-9a-f]{{8}}-[0-9a-f]{{4}}-4[0-9a-f]{{3}}-8[0-9a-f]{{3}}-[0-9a-f]{{12}}\.gz",
}


@pytest.mark.parametrize("log_type", naming.LOG_TYPES)
def test_each_sample_lands_under_its_writers_key(log_type):
    region = "global" if log_type == "cloudfront" else REGION
    key = object_key(Delivery(ACCOUNT, region, log_type, WHEN), org_id=ORG_ID, name_prefix="acme")
    assert re.fullmatch(KEYS[log_type], key), key
    assert key.startswith(naming.log_layout(log_type, ACCOUNT, ORG_ID).prefix)


def body(log_type: str) -> str:
    region = "global" if log_type == "cloudfront" else REGION
    return gzip.decompress(object_body(Delivery(ACCOUNT, region, log_type, WHEN))).decode()


def test_bodies_are_the_samples_gzipped_for_the_cells_account_and_region():
    trail = json.loads(body("cloudtrail"))["Records"]
    assert {r["recipientAccountId"] for r in trail} == {ACCOUNT}
    assert REGION in {r["awsRegion"] for r in trail}
    header, *records = body("vpcflowlogs").splitlines()
    assert header.split()[:3] == ["version", "account-id", "interface-id"]
    assert {line.split()[1] for line in records} == {ACCOUNT}
    dns = [json.loads(line) for line in body("route53resolver").splitlines()]
    vpc = archive_seed.vpc_id(ACCOUNT, REGION)
    assert {(r["account_id"], r["region"], r["vpc_id"]) for r in dns} == {(ACCOUNT, REGION, vpc)}
    key = object_key(
        Delivery(ACCOUNT, REGION, "route53resolver", WHEN), org_id=ORG_ID, name_prefix="acme"
    )
    assert f"/vpcdnsquerylogs/{vpc}/" in key
    messages = [json.loads(line) for line in body("cloudwatchlogs").splitlines()]
    assert {(m["messageType"], m["owner"]) for m in messages} == {("DATA_MESSAGE", ACCOUNT)}
    assert body("cloudfront").startswith("#Version: 1.0\n#Fields: date time x-edge-location")
    assert f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:targetgroup/" in body("elb")
    assert archive_seed.SAMPLE_ACCOUNT not in "".join(body(t) for t in naming.LOG_TYPES)


def test_the_demo_archive_has_every_type_but_the_two_gaps():
    now = WHEN
    gaps = Gaps(stale_flow_logs="111111111111", no_cloudwatch_logs="333333333333")
    enrolled = {"111111111111": ("us-east-1",), "333333333333": ("us-east-1",)}
    newest: dict[tuple[str, str, str], datetime] = {}
    for d in demo_deliveries(enrolled, now, gaps):
        cell = (d.account, d.region, d.log_type)
        newest[cell] = max(newest.get(cell, d.time), d.time)
    assert ("333333333333", "us-east-1", "cloudwatchlogs") not in newest
    assert now - newest[("111111111111", "us-east-1", "vpcflowlogs")] == timedelta(days=3)
    assert len(newest) == 2 * len(naming.LOG_TYPES) - 1
    assert all(
        now - when <= timedelta(minutes=20)
        for cell, when in newest.items()
        if cell != ("111111111111", "us-east-1", "vpcflowlogs")
    )


def test_the_demos_coverage_shows_exactly_the_two_gaps(tmp_path, capsys):
    with fake_credentials(), Emulator() as emulator:
        sample = sample_org(emulator)
        settings_file = tmp_path / "org.yaml"
        settings_file.write_text(yaml.safe_dump(sample_settings(sample, regions=DEMO_REGIONS)))
        settings = load_org_settings(settings_file)
        client = organizations_client(emulator.endpoint_url, region=settings.home_region)
        org = discover(client, tag_key=settings.exclude.opt_out_tag, regions=settings.regions)
        plan = build_plan(settings, org)
        gaps = Gaps(sample.accounts[STALE_FLOW_LOGS], sample.accounts[NO_CLOUDWATCH_LOGS])
        console = Console(width=250, record=True)
        report = show_coverage(
            emulator, plan, gaps, tmp_path / "coverage.json", out=console, err=Console(stderr=True)
        )
        # The command itself, discovering the organization, with the default expectation.
        capsys.readouterr()
        argv = ["coverage", "--settings", str(settings_file), "--endpoint-url"]
        code = main([*argv, emulator.endpoint_url, "--json"])
        by_default = json.loads(capsys.readouterr().out)
    stale, silent = gaps.stale_flow_logs, gaps.no_cloudwatch_logs
    failing = {(c.account_id, c.region, c.log_type, c.status) for c in report.failing}
    assert failing == {(stale, r, "vpcflowlogs", "STALE") for r in DEMO_REGIONS} | {
        (silent, r, "cloudwatchlogs", "NONE") for r in DEMO_REGIONS
    }
    enrolled = {s.account_id for s in plan.stacks if s.role == "source"}
    for cell in report.cells:
        if cell.account_id not in enrolled or (cell.account_id, cell.region) in {
            (e.account_id, e.region) for e in plan.excluded
        }:
            assert cell.status == "NOT_EXPECTED"
        elif not cell.failing:
            assert cell.status == "ARRIVING"
    assert report.trail is not None and report.trail.is_logging is True
    saved = json.loads((tmp_path / "coverage.json").read_text())
    assert saved["summary"]["failing"] == 6
    assert "6 expected cells not arriving" in console.export_text()
    assert code == 1
    assert {
        (c["accountId"], c["region"], c["type"], c["status"])
        for c in by_default["cells"]
        if c["status"] in ("STALE", "NONE")
    } == {(silent, r, "cloudwatchlogs", "NONE") for r in DEMO_REGIONS}
