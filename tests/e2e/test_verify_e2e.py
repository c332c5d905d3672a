"""`org-logging verify` end to end: the real engine enrolls the emulated organization, the
delivery simulator (tests/e2e/delivery_sim.py) moves what AWS would move, following what was
deployed, and verify's canaries arrive; a broken replication role makes verify fail."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from enroll.demo.emulator import Emulator, fake_credentials, sample_org, sample_settings
from enroll.util.processes import HelperProcess, LineMatching
from enroll.verify.run import Pipeline, select_stacks
from tests.e2e import conftest as e2e_conftest
from tests.e2e.conftest import E2E_REGIONS
from tests.e2e.delivery_sim import DeliverySimulator, DeployedPipeline, admin_clients
from tests.e2e.engine import REPO

ADMIN = "OrgLoggingAdmin"


class VerifyEmulator(Emulator):
    """The emulator server with moto's context-free object-level policy check off
    (tests/e2e/object_policy_gap.py explains why)."""

    def __enter__(self) -> VerifyEmulator:
        self._server = HelperProcess(
            [sys.executable, "-m", "tests.e2e.object_policy_gap", "-H", "127.0.0.1", "-p", "0"],
            LineMatching(r"Running on (http://127\.0\.0\.1:\d+)", what="'Running on' line"),
            name="moto server",
            cwd=REPO,
            merge_stderr=True,
            startup_timeout=60.0,
        )
        self.endpoint_url = self._server.start()[1]
        return self


@pytest.fixture(scope="module")
def emulated_org(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """Overrides conftest's: this module's emulator lets objects be put and read."""
    with fake_credentials(), VerifyEmulator() as emulator:
        sample = sample_org(emulator)
        prepare = getattr(e2e_conftest, "before_bootstrap", None)  # as conftest's fixture does
        if prepare:
            prepare(emulator, sample)
        settings_file = tmp_path_factory.mktemp("org") / "org.yaml"
        settings_file.write_text(yaml.safe_dump(sample_settings(sample, regions=E2E_REGIONS)))
        yield emulator, sample, settings_file


@pytest.fixture(scope="module")
def enrolled(tmp_path_factory, engine_env, emulated_org, demo_plan) -> dict[str, Any]:
    """Every stack up (without the pack: test_enrollment runs it), then the simulator over
    what the engine recorded."""
    emulator, sample, settings = emulated_org
    backend = tmp_path_factory.mktemp("backend-verify")
    env = {**engine_env, "PULUMI_BACKEND_URL": backend.as_uri()}
    org = ["--settings", str(settings), "--endpoint-url", emulator.endpoint_url]
    state = ["--state-dir", str(tmp_path_factory.mktemp("state")), "--concurrency", "2"]
    up = subprocess.run(
        [sys.executable, "-m", "stacks", "up", *org, "--yes", "--skip-preflight", *state],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    assert up.returncode == 0, up.stdout[-5000:] + up.stderr[-3000:]
    archive = sample.log_archive_account_id
    pipeline = Pipeline("acme", archive, E2E_REGIONS[0])
    sources = [s for s in demo_plan.stacks if s.role == "source"]
    simulator = DeliverySimulator(
        admin_clients(ADMIN, emulator.endpoint_url),
        DeployedPipeline.from_states(backend),
        sources=[(s.account_id, s.region, pipeline.source_bucket(s)) for s in sources],
        archive=(archive, E2E_REGIONS[0]),
        org_id=sample.org_id,
    )
    return {"org": org, "env": env, "simulator": simulator, "sample": sample}


def run_verify(enrolled: dict, tmp_path: Path, *extra: str) -> tuple[int, dict, str]:
    """`python -m stacks verify` while the simulator delivers; its exit code, JSON report and
    stderr."""
    report = tmp_path / "verify.json"
    stop = threading.Event()

    def deliver() -> None:
        while not stop.wait(0.25):  # the pipeline's pace, not a wait for a result
            enrolled["simulator"].step()

    pump = threading.Thread(target=deliver, daemon=True)
    pump.start()
    try:
        poll = ["--poll-interval", "0.5", "--report", str(report)]
        done = subprocess.run(
            [sys.executable, "-m", "stacks", "verify", *enrolled["org"], *poll, *extra],
            cwd=REPO,
            env=enrolled["env"],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
    finally:
        stop.set()
        pump.join()
    assert report.exists(), done.stdout[-3000:] + done.stderr[-3000:]
    return done.returncode, json.loads(report.read_text()), done.stdout + done.stderr


def test_the_deployed_pipeline_carries_the_simulator(enrolled):
    pipeline = enrolled["simulator"].pipeline
    region = E2E_REGIONS[0]
    assert {s.region for s in pipeline.subscriptions} == {region}
    assert {d.arn.split(":")[3] for d in pipeline.destinations.values()} == {region}
    (stream,) = pipeline.streams.values()
    assert stream.gzip and stream.prefix.startswith("CloudWatchLogs/!{partitionKeyFromQuery")


def test_verify_passes_for_every_enrolled_account(enrolled, demo_plan, tmp_path):
    code, report, output = run_verify(enrolled, tmp_path, "--all", "--timeout", "120")

    assert code == 0, output[-5000:]
    sources = {s.name for s in demo_plan.stacks if s.role == "source"}
    assert {s["name"] for s in report["stacks"]} == sources
    for stack in report["stacks"]:
        assert stack["status"] == "passed", stack
        for path in stack["paths"].values():
            assert path["status"] == "arrived" and path["latencySeconds"] >= 0
    assert enrolled["simulator"].failures == []
    assert re.search(r"verify \S+: \d+/\d+ stacks passed", " ".join(output.split()))


def test_a_broken_replication_role_makes_verify_fail(enrolled, demo_plan, tmp_path):
    sample = enrolled["sample"]
    (chosen,) = select_stacks(
        demo_plan, avoid=(sample.log_archive_account_id, sample.management_account_id)
    )
    iam = enrolled["simulator"].clients("iam", chosen.account_id, chosen.region)
    role = f"acme-logging-replication-{chosen.region}"
    (name,) = iam.list_role_policies(RoleName=role)["PolicyNames"]
    document = iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]
    for statement in document["Statement"]:
        actions = statement["Action"]
        actions = actions if isinstance(actions, list) else [actions]
        statement["Action"] = [a for a in actions if not a.startswith("s3:Replicate")] or [
            "s3:ListBucket"
        ]
    iam.put_role_policy(RoleName=role, PolicyName=name, PolicyDocument=json.dumps(document))

    code, report, output = run_verify(enrolled, tmp_path, "--timeout", "10")

    assert code == 1, output[-5000:]
    (stack,) = report["stacks"]
    assert (stack["accountId"], stack["status"]) == (chosen.account_id, "failed")
    assert stack["paths"]["replication"]["status"] == "timeout"
    assert stack["paths"]["cloudwatchlogs"]["status"] == "arrived"
    assert any(
        f"role/{role} does not allow s3:ReplicateObject" in failure
        for failure in enrolled["simulator"].failures
    )
    assert "no replica at s3://" in " ".join(output.split())
