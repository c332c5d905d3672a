"""The real Pulumi engine runs our stacks, our policy pack and our enrollment end to end.

In order: each role with `pulumi preview --policy-pack` and `pulumi up`; then the enrollment
(`python -m stacks up`) of the emulated organization killed mid-way and resumed, run again
(no changes), and destroyed.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import boto3
import pytest

from stacks.model import PlannedStack
from stacks.runners import assume_role_config
from tests.e2e.engine import REPO, project_copy, pulumi, stack_outputs, write_stack_config

ROLES = ("log-archive", "management", "source")


def first_of(plan, role: str) -> PlannedStack:
    return next(s for s in plan.stacks if s.role == role)


@pytest.fixture(scope="module")
def project(tmp_path_factory, engine_env):
    copy = project_copy(tmp_path_factory.mktemp("project"))
    backend = tmp_path_factory.mktemp("backend-roles")
    pulumi(["login", backend.as_uri()], cwd=copy, env=engine_env)
    return copy


@pytest.mark.parametrize("role", ROLES)
def test_each_role_previews_with_the_pack_and_deploys(project, engine_env, demo_plan, role):
    stack = first_of(demo_plan, role)
    config = dict(stack.config)
    management = str(config["org-logging:managementAccountId"])
    assume = assume_role_config(stack, None, management)
    if assume:
        config["aws:assumeRoles"] = assume
    write_stack_config(project, stack.name, config)
    pulumi(["stack", "init", stack.name], cwd=project, env=engine_env)

    preview = pulumi(
        ["preview", "--stack", stack.name, "--policy-pack", "policy"], cwd=project, env=engine_env
    )
    assert "org-logging-guardrails" in preview.stdout, preview.stdout[-3000:]
    assert "mandatory" not in preview.stdout.lower(), preview.stdout[-3000:]

    up = pulumi(
        ["up", "--yes", "--skip-preview", "--stack", stack.name, "--policy-pack", "policy"],
        cwd=project,
        env=engine_env,
    )
    assert "created" in up.stdout
    outputs = stack_outputs(project, stack.name, engine_env)
    if role == "log-archive":
        assert outputs["centralBucketName"].startswith(f"acme-org-logs-{stack.account_id}-")
    elif role == "management":
        assert set(outputs["scpIds"]) == {"deny-leave", "protect-logging"}
    else:
        assert outputs["logBucketName"] == f"acme-logs-{stack.account_id}-{stack.region}"


def test_the_resources_really_landed_in_the_emulator(project, engine_env, demo_plan):
    archive = first_of(demo_plan, "log-archive")
    role_arn = (
        f"arn:aws:iam::{archive.account_id}:role/{archive.config['org-logging:adminRoleName']}"
    )
    sts = boto3.client("sts", endpoint_url=engine_env["AWS_ENDPOINT_URL"], region_name="us-east-1")
    credentials = sts.assume_role(RoleArn=role_arn, RoleSessionName="e2e-check")["Credentials"]
    s3 = boto3.client(
        "s3",
        endpoint_url=engine_env["AWS_ENDPOINT_URL"],
        region_name="us-east-1",
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )
    buckets = {b["Name"] for b in s3.list_buckets()["Buckets"]}
    central = f"acme-org-logs-{archive.account_id}-us-east-1"
    assert central in buckets
    assert s3.get_bucket_versioning(Bucket=central)["Status"] == "Enabled"
    policy = json.loads(s3.get_bucket_policy(Bucket=central)["Policy"])
    assert any(s.get("Sid") == "DenyReplicatedDeletes" for s in policy["Statement"])


# ---- enrollment through the Automation API ------------------------------------------------


@pytest.fixture(scope="module")
def enrollment(tmp_path_factory, engine_env, emulated_org):
    emulator, _, settings = emulated_org
    state = tmp_path_factory.mktemp("state")
    env = {**engine_env, "PULUMI_BACKEND_URL": tmp_path_factory.mktemp("backend-org").as_uri()}
    args = [
        "--settings",
        str(settings),
        "--endpoint-url",
        emulator.endpoint_url,
        "--state-dir",
        str(state),
    ]
    return {"state": state, "env": env, "args": args, "ledger": state / "ledger.jsonl"}


def command(enrollment: dict, action: str, *extra: str) -> list[str]:
    packs = ["--policy-pack", "policy"] if action != "destroy" else []
    return [
        sys.executable,
        "-m",
        "stacks",
        action,
        *enrollment["args"],
        *packs,
        "--concurrency",
        "4",
        *extra,
    ]


def ledger_passes(path: Path) -> list[dict]:
    if not path.exists():
        return []
    records = [
        json.loads(line) for line in path.read_text().splitlines() if line.strip().startswith("{")
    ]
    return [r for r in records if r.get("status") == "passed"]


def report_of(run: subprocess.CompletedProcess[str]) -> dict:
    line = next(line for line in reversed(run.stdout.splitlines()) if line.startswith("report: "))
    return json.loads(Path(line.removeprefix("report: ").strip()).read_text())


def test_a_killed_enrollment_resumes_without_redoing_finished_stacks(enrollment, demo_plan):
    total = len(demo_plan.stacks)
    process = subprocess.Popen(
        command(enrollment, "up"),
        cwd=REPO,
        env=enrollment["env"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    deadline = time.monotonic() + 900
    while len(ledger_passes(enrollment["ledger"])) < 4 and process.poll() is None:
        assert time.monotonic() < deadline, "no progress"
        time.sleep(1)
    os.killpg(process.pid, signal.SIGINT)  # Ctrl-C: what stops a run in practice
    process.wait(timeout=600)
    finished_before = {r["stack"] for r in ledger_passes(enrollment["ledger"])}
    assert 4 <= len(finished_before) < total

    resumed = subprocess.run(
        command(enrollment, "up", "--resume"),
        cwd=REPO,
        env=enrollment["env"],
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    assert resumed.returncode == 0, resumed.stdout[-5000:] + resumed.stderr[-3000:]
    report = report_of(resumed)
    assert set(report["summary"]["resumedStacks"]) == finished_before
    assert report["summary"]["passed"] == total
    ran_again = [
        r["stack"] for r in ledger_passes(enrollment["ledger"]) if r["runId"] == report["runId"]
    ]
    assert set(ran_again) == {s.name for s in demo_plan.stacks} - finished_before


def test_a_second_enrollment_reports_no_changes(enrollment, demo_plan):
    again = subprocess.run(
        command(enrollment, "up"),
        cwd=REPO,
        env=enrollment["env"],
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    assert again.returncode == 0, again.stdout[-5000:]
    report = report_of(again)
    assert report["summary"]["passed"] == len(demo_plan.stacks)
    for stack in report["stacks"]:
        changed = {k: v for k, v in stack.get("changes", {}).items() if k != "same" and v}
        assert changed == {}, (stack["name"], stack.get("changes"))


def test_destroy_removes_every_stack(enrollment, demo_plan, engine_env):
    destroyed = subprocess.run(
        command(enrollment, "destroy"),
        cwd=REPO,
        env=enrollment["env"],
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    assert destroyed.returncode == 0, destroyed.stdout[-5000:]
    report = report_of(destroyed)
    assert report["summary"]["passed"] == len(demo_plan.stacks)
    assert all(s.get("changes", {}).get("delete", 0) > 0 for s in report["stacks"])
    generated = list((REPO / "stacks").glob("Pulumi.source-*.yaml"))
    assert [p.name for p in generated] == ["Pulumi.source-333333333333-eu-west-1.yaml"]
