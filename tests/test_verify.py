"""`verify` against moto: the canary arrives by both paths when the pipeline delivers, times out
when it does not, and a broken replication role fails the replication path only."""

from __future__ import annotations

import gzip
import json

import pytest
from conftest import LOG_ARCHIVE, MEMBER
from moto import mock_aws
from moto.s3.models import FakeBucket
from verify_world import HOME, PIPELINE, SOURCE_REGION, SOURCE_STACK, build_world

from components import naming
from enroll.verify.aws import CanaryAws
from enroll.verify.run import Verifier, holds_canary
from tests.e2e.delivery_sim import excluded_log_groups
from tests.e2e.object_policy_gap import neutral_get_permission

CENTRAL = PIPELINE.central_bucket
RUN_ID = "20261130T212233Z-1a2b3c4d"


@pytest.fixture
def world(monkeypatch):
    monkeypatch.setattr(FakeBucket, "get_permission", neutral_get_permission)
    for key in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        yield build_world()


def verify(world, *, timeout: float = 900, poll: float = 15):
    calls = CanaryAws(admin_role_name="OrgLoggingAdmin")
    verifier = Verifier(calls, PIPELINE, clock=world.stepping.clock, concurrency=2)
    return verifier.run([SOURCE_STACK], timeout=timeout, poll=poll, run_id=RUN_ID)


def test_both_canaries_arrive_through_the_simulated_pipeline(world):
    report = verify(world)

    assert report.ok, report.dumps()
    (canary,) = report.to_json()["stacks"]
    key = f"AWSLogs/{MEMBER}/org-logging-canary/{SOURCE_REGION}/{RUN_ID}.json"
    assert canary["status"] == "passed"
    assert canary["paths"]["replication"]["foundIn"] == key
    assert canary["paths"]["replication"]["latencySeconds"] == 15.0  # one poll
    firehose_key = canary["paths"]["cloudwatchlogs"]["foundIn"]
    day = world.stepping.utc().strftime("%Y/%m/%d")
    assert firehose_key.startswith(f"CloudWatchLogs/{MEMBER}/{SOURCE_REGION}/{day}/")
    assert canary["paths"]["cloudwatchlogs"]["latencySeconds"] == 15.0
    assert world.simulator.failures == []
    # The canary object is in the source bucket, and the replica beside it is the same.
    archive = world.clients("s3", LOG_ARCHIVE, HOME)
    replica = json.loads(archive.get_object(Bucket=CENTRAL, Key=key)["Body"].read())
    assert replica["runId"] == RUN_ID and replica["accountId"] == MEMBER


def test_the_firehose_record_names_the_canary_group_and_account(world):
    verify(world)
    archive = world.clients("s3", LOG_ARCHIVE, HOME)
    prefix = naming.cloudwatch_logs_prefix(MEMBER, SOURCE_REGION)
    (item,) = archive.list_objects_v2(Bucket=CENTRAL, Prefix=prefix)["Contents"]
    body = gzip.decompress(archive.get_object(Bucket=CENTRAL, Key=item["Key"])["Body"].read())
    (record,) = [json.loads(line) for line in body.splitlines()]
    assert (record["messageType"], record["owner"], record["logGroup"]) == (
        "DATA_MESSAGE",
        MEMBER,
        "/aws/org-logging/canary",
    )
    assert json.loads(record["logEvents"][0]["message"])["runId"] == RUN_ID


def test_without_delivery_both_paths_time_out_and_say_where_to_look(world):
    world.stepping.on_sleep = lambda: None  # nothing moves

    report = verify(world, timeout=900, poll=60)

    assert not report.ok
    assert sum(world.stepping.slept) == 900  # waited the whole timeout, in polls
    paths = report.to_json()["stacks"][0]["paths"]
    assert {p["status"] for p in paths.values()} == {"timeout"}
    assert "Firehose buffers up to 300 s" in paths["cloudwatchlogs"]["error"]
    assert "replication rule and role" in paths["replication"]["error"]
    assert report.to_json()["summary"] == {
        "stacks": 1,
        "passed": 0,
        "failed": 1,
        "maxLatencySeconds": {"replication": None, "cloudwatchlogs": None},
    }


def test_a_broken_replication_role_fails_replication_and_nothing_else(world):
    role = world.break_replication_role()

    report = verify(world, timeout=120, poll=30)

    paths = report.to_json()["stacks"][0]["paths"]
    assert (paths["replication"]["status"], paths["cloudwatchlogs"]["status"]) == (
        "timeout",
        "arrived",
    )
    (failure,) = world.simulator.failures
    assert f"the role arn:aws:iam::{MEMBER}:role/{role} does not allow s3:ReplicateObject" in (
        failure
    )


def test_the_canary_object_cannot_be_sent_without_the_local_bucket(world):
    source = world.clients("s3", MEMBER, SOURCE_REGION)
    bucket = PIPELINE.source_bucket(SOURCE_STACK)
    source.delete_bucket_replication(Bucket=bucket)
    source.delete_bucket_policy(Bucket=bucket)
    for version in source.list_object_versions(Bucket=bucket).get("Versions", []):
        source.delete_object(Bucket=bucket, Key=version["Key"], VersionId=version["VersionId"])
    source.delete_bucket(Bucket=bucket)

    report = verify(world, timeout=60, poll=30)

    paths = report.to_json()["stacks"][0]["paths"]
    assert paths["replication"]["status"] == "error"
    assert "NoSuchBucket" in paths["replication"]["error"]
    assert paths["replication"]["sentAt"] is None
    assert paths["cloudwatchlogs"]["status"] == "arrived"


# ---- what counts as the canary's Firehose record --------------------------------------------


def record(**overrides) -> bytes:
    fields = {
        "messageType": "DATA_MESSAGE",
        "owner": MEMBER,
        "logGroup": naming.CANARY_LOG_GROUP,
        "logStream": "verify",
        "logEvents": [{"id": "1", "timestamp": 0, "message": json.dumps({"runId": RUN_ID})}],
    }
    return (json.dumps({**fields, **overrides}) + "\n").encode()


@pytest.mark.parametrize(
    "data",
    [
        record(),
        gzip.compress(record()),
        gzip.compress(b'{"messageType": "CONTROL_MESSAGE"}\n' + record()),
    ],
    ids=["plain", "gzip", "after-a-control-message"],
)
def test_a_record_of_the_canary_group_with_the_run_id_is_the_canary(data):
    assert holds_canary(data, run_id=RUN_ID, account=MEMBER)


@pytest.mark.parametrize(
    "data",
    [
        record(owner=LOG_ARCHIVE),
        record(logGroup="/aws/lambda/other"),
        record(messageType="CONTROL_MESSAGE"),
        record(logEvents=[{"id": "1", "timestamp": 0, "message": "another run"}]),
        b"not json\n",
    ],
    ids=["other-account", "other-group", "control", "other-run", "garbage"],
)
def test_anything_else_is_not_the_canary(data):
    assert not holds_canary(data, run_id=RUN_ID, account=MEMBER)


def test_the_simulator_reads_exclusions_as_account_policies_write_them():
    assert excluded_log_groups('LogGroupName NOT IN ["/a", "/b"]') == {"/a", "/b"}
    assert excluded_log_groups(None) == frozenset()
    with pytest.raises(ValueError, match="does not model"):
        excluded_log_groups('LogGroupName IN ["/a"]')
