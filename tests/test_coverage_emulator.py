"""`org-logging coverage` end to end against the emulator (moto on 127.0.0.1): an archive
seeded by the demo's seeder (every type, laid out as the writers lay it out, two deliberate
gaps), read through the CLI with a saved plan; every cell's status, the JSON, the exit codes."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from components import naming
from enroll.cli import main
from enroll.coverage.scan import Scope
from enroll.demo.archive_seed import (
    Delivery,
    Gaps,
    create_central_bucket,
    demo_deliveries,
    object_key,
    seed_archive,
)
from enroll.demo.emulator import Emulator, fake_credentials
from enroll.org.model import Exclusion
from tests.coverage_world import plan_of

A, B, C = "111111111111", "333333333333", "444444444444"
EXCLUDED = "555555555555"
EMULATOR_ACCOUNT = "123456789012"  # moto's own account: the organization trail's
REGIONS = ("us-east-1", "eu-west-1", "eu-central-2")
ENROLLED = {A: ("eu-west-1", "us-east-1"), B: ("eu-west-1", "us-east-1"), C: REGIONS}
PLAN = plan_of(
    ENROLLED,
    regions=REGIONS,
    excluded=(
        Exclusion(EXCLUDED, "in excluded OU ou-5by1-bxitkti9"),
        Exclusion(A, "opt-in region eu-central-2 is not enabled in the account", "eu-central-2"),
        Exclusion(B, "opt-in region eu-central-2 is not enabled in the account", "eu-central-2"),
    ),
    management=EMULATOR_ACCOUNT,
)
GAPS = Gaps(stale_flow_logs=A, no_cloudwatch_logs=B)
NOW = datetime.now(UTC)


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    """The emulator with the central bucket seeded, and a saved plan file."""
    scope = Scope.from_plan(PLAN)
    deliveries = demo_deliveries(ENROLLED, NOW, GAPS)
    with fake_credentials(), Emulator() as emulator:
        s3 = emulator.client("s3")
        create_central_bucket(s3, scope.bucket, scope.home_region)
        seed_archive(s3, scope.bucket, deliveries, org_id=scope.org_id, name_prefix="acme")
        plan_file = tmp_path_factory.mktemp("coverage") / "plan.json"
        plan_file.write_text(json.dumps(PLAN.to_json()))
        yield emulator, str(plan_file), deliveries


def coverage(capsys, emulator, plan_file, *flags):
    code = main(["coverage", "--plan", plan_file, "--endpoint-url", emulator.endpoint_url, *flags])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def newest_keys(deliveries: list[Delivery]) -> dict[tuple[str, str, str], str]:
    newest: dict[tuple[str, str, str], Delivery] = {}
    for delivery in deliveries:
        cell = (delivery.account, delivery.region, delivery.log_type)
        if cell not in newest or delivery.time > newest[cell].time:
            newest[cell] = delivery
    return {
        cell: object_key(d, org_id=Scope.from_plan(PLAN).org_id, name_prefix="acme")
        for cell, d in newest.items()
    }


def test_every_cell_of_the_seeded_archive_including_the_gaps(seeded, capsys):
    emulator, plan_file, deliveries = seeded
    code, out, _ = coverage(
        capsys, emulator, plan_file, "--json", "--expect", ",".join(naming.LOG_TYPES)
    )
    cells = {(c["accountId"], c["region"], c["type"]): c for c in json.loads(out)["cells"]}
    expected_status = {}
    for account, regions in ENROLLED.items():
        for log_type in naming.LOG_TYPES:
            for region in ("global",) if log_type == "cloudfront" else regions:
                expected_status[(account, region, log_type)] = "ARRIVING"
    for region in ENROLLED[A]:
        expected_status[(A, region, "vpcflowlogs")] = "STALE"
        expected_status[(B, region, "cloudwatchlogs")] = "NONE"
    for account, regions in ((A, ("eu-central-2",)), (B, ("eu-central-2",)), (EXCLUDED, REGIONS)):
        for log_type in naming.LOG_TYPES:
            if log_type != "cloudfront":
                for region in regions:
                    expected_status[(account, region, log_type)] = "NOT_EXPECTED"
    expected_status[(EXCLUDED, "global", "cloudfront")] = "NOT_EXPECTED"
    assert {cell: c["status"] for cell, c in cells.items()} == expected_status
    # The newest object of every seeded cell is exactly the newest key the writer wrote.
    assert {
        cell: c["newest"]["key"] for cell, c in cells.items() if c["newest"] is not None
    } == newest_keys(deliveries)
    assert code == 1


def test_the_stale_cell_shows_when_its_logs_stopped(seeded, capsys):
    emulator, plan_file, _ = seeded
    _, out, _ = coverage(capsys, emulator, plan_file, "--json", "--expect", "vpcflowlogs")
    cell = next(
        c
        for c in json.loads(out)["cells"]
        if (c["accountId"], c["region"], c["type"]) == (A, "us-east-1", "vpcflowlogs")
    )
    stopped = datetime.fromisoformat(cell["newest"]["time"])
    assert timedelta(days=3) <= NOW - stopped <= timedelta(days=3, minutes=1)


def test_by_default_only_the_missing_cloudwatch_logs_fail(seeded, capsys):
    emulator, plan_file, _ = seeded
    code, out, _ = coverage(capsys, emulator, plan_file)
    assert code == 1
    assert "4 expected cells not arriving" not in out
    assert "2 expected cells not arriving" in out
    assert f"{B} │ eu-west-1 │ cloudwatchlogs │ NONE" in out


def test_every_expected_type_arriving_exits_0(seeded, capsys):
    emulator, plan_file, _ = seeded
    code, out, _ = coverage(capsys, emulator, plan_file, "--expect", "cloudtrail,elb")
    assert code == 0
    assert "every expected cell is ARRIVING" in out


def test_a_wider_window_turns_the_stale_flow_logs_arriving(seeded, capsys):
    emulator, plan_file, _ = seeded
    flags = ("--json", "--expect", "vpcflowlogs", "--freshness", "vpcflowlogs=4d")
    code, out, _ = coverage(capsys, emulator, plan_file, *flags)
    assert {c["status"] for c in json.loads(out)["cells"] if c["type"] == "vpcflowlogs"} == {
        "ARRIVING",
        "NOT_EXPECTED",
    }
    assert code == 0


def test_the_organization_trail_status_is_reported(seeded, capsys):
    emulator, plan_file, _ = seeded
    _, out, _ = coverage(capsys, emulator, plan_file, "--json")
    trail = json.loads(out)["summary"]["trail"]
    assert trail["name"] == "acme-org-trail"
    assert "TrailNotFoundException" in trail["error"]  # this archive has no trail yet
    cloudtrail = emulator.client("cloudtrail")
    scope = Scope.from_plan(PLAN)
    cloudtrail.create_trail(
        Name=scope.trail_name, S3BucketName=scope.bucket, IsOrganizationTrail=True
    )
    try:
        cloudtrail.start_logging(Name=scope.trail_name)
        code, out, _ = coverage(capsys, emulator, plan_file, "--json", "--expect", "cloudtrail")
        trail = json.loads(out)["summary"]["trail"]
        assert (trail["isLogging"], trail["latestDeliveryError"]) == (True, None)
        assert code == 0
        cloudtrail.stop_logging(Name=scope.trail_name)
        code, out, _ = coverage(capsys, emulator, plan_file, "--expect", "cloudtrail")
        assert "IsLogging NO" in out
        assert code == 1  # every cell arrives, but the trail stopped
    finally:
        cloudtrail.delete_trail(Name=scope.trail_name)


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (("--expect", "cloudtrail,s3"), "unknown log type 's3'"),
        (("--freshness", "elb=soon"), "is not a duration"),
        (("--concurrency", "0"), "must be at least 1"),
    ],
)
def test_usage_errors_exit_2_without_a_traceback(seeded, capsys, flags, message):
    emulator, plan_file, _ = seeded
    with pytest.raises(SystemExit) as exited:
        coverage(capsys, emulator, plan_file, *flags)
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err


def test_a_missing_bucket_exits_2_with_what_to_check(seeded, capsys, tmp_path):
    emulator, _, _ = seeded
    other = plan_of({A: ("us-east-1",)})
    config = dict(other.stacks[0].config)
    config["org-logging:namePrefix"] = "other"
    plan = {**other.to_json()}
    plan["stacks"][0]["config"] = config
    plan_file = tmp_path / "plan.json"
    plan_file.write_text(json.dumps(plan))
    code, _, err = coverage(capsys, emulator, str(plan_file))
    assert code == 2
    assert "the central bucket other-org-logs-222222222222-us-east-1 does not exist" in err
    assert "Traceback" not in err
