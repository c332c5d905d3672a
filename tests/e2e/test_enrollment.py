"""The real engine enrolls the emulated organization with `python -m stacks`: a run killed
mid-way and resumed, run again (no changes), and destroyed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.e2e.engine import REPO, member_s3


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


def command(enrollment: dict, action: str, *extra: str, concurrency: int = 4) -> list[str]:
    packs = ["--policy-pack", "policy"] if action != "destroy" else []
    return [
        sys.executable,
        "-m",
        "stacks",
        action,
        *enrollment["args"],
        *packs,
        "--concurrency",
        str(concurrency),
        "--yes",  # no terminal here: up and destroy would ask
        *extra,
    ]


def run_stacks(enrollment: dict, action: str, *extra: str) -> dict:
    """Run `python -m stacks <action>` to the end; it must exit 0. Returns its JSON report."""
    done = subprocess.run(
        command(enrollment, action, *extra),
        cwd=REPO,
        env=enrollment["env"],
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-5000:] + done.stderr[-3000:]
    return report_of(done)


def ledger_passes(path: Path) -> list[dict]:
    if not path.exists():
        return []
    records = [
        json.loads(line) for line in path.read_text().splitlines() if line.strip().startswith("{")
    ]
    return [r for r in records if r.get("status") == "passed"]


def report_of(run: subprocess.CompletedProcess[str]) -> dict:
    return report_of_text(run.stdout)


def report_of_text(output: str) -> dict:
    line = next(line for line in reversed(output.splitlines()) if line.startswith("report: "))
    return json.loads(Path(line.removeprefix("report: ").strip()).read_text())


def test_a_killed_enrollment_resumes_without_redoing_finished_stacks(enrollment, demo_plan):
    total = len(demo_plan.stacks)
    log = enrollment["state"] / "killed-run.log"
    started_logs = enrollment["state"] / "logs"

    def started() -> int:  # the runner opens a stack's log when the stack starts
        return len(list(started_logs.glob("*.up.log"))) if started_logs.exists() else 0

    with log.open("w") as output:
        process = subprocess.Popen(
            command(enrollment, "up", concurrency=2),
            cwd=REPO,
            env=enrollment["env"],
            stdout=output,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        # Interrupt once two stacks passed and at least two have not started, whatever the
        # machine's speed: concurrency 2 keeps the rest waiting, so the interruption must
        # leave stacks that never ran.
        deadline = time.monotonic() + 900
        while not (len(ledger_passes(enrollment["ledger"])) >= 2 and total - started() >= 2):
            assert process.poll() is None, (
                f"the run ended before the interruption:\n{log.read_text()[-5000:]}"
            )
            assert time.monotonic() < deadline, "no progress"
            time.sleep(0.2)
        os.killpg(process.pid, signal.SIGINT)  # Ctrl-C: what stops a run in practice
        assert process.wait(timeout=600) == 130, log.read_text()[-5000:]
    output_text = " ".join(log.read_text().split())
    assert "interrupted: the stacks in flight finished and were recorded" in output_text
    assert "To carry on: org-logging up " in output_text and "--resume" in output_text
    interrupted = report_of_text(log.read_text())
    assert interrupted["interrupted"] is True
    assert any(s.get("error") == "skipped: the run was interrupted" for s in interrupted["stacks"])
    finished_before = {r["stack"] for r in ledger_passes(enrollment["ledger"])}
    assert {s["name"] for s in interrupted["stacks"] if s["status"] == "passed"} == finished_before
    assert 2 <= len(finished_before) <= total - 2

    report = run_stacks(enrollment, "up", "--resume")
    assert set(report["summary"]["resumedStacks"]) == finished_before
    assert report["summary"]["passed"] == total
    ran_again = [
        r["stack"] for r in ledger_passes(enrollment["ledger"]) if r["runId"] == report["runId"]
    ]
    assert set(ran_again) == {s.name for s in demo_plan.stacks} - finished_before


def test_a_second_enrollment_reports_no_changes(enrollment, demo_plan):
    report = run_stacks(enrollment, "up")
    assert report["summary"]["passed"] == len(demo_plan.stacks)
    for stack in report["stacks"]:
        changed = {k: v for k, v in stack.get("changes", {}).items() if k != "same" and v}
        assert changed == {}, (stack["name"], stack.get("changes"))


def test_destroy_removes_every_stack_but_keeps_the_logs(enrollment, demo_plan, engine_env):
    report = run_stacks(enrollment, "destroy")
    assert report["summary"]["passed"] == len(demo_plan.stacks)
    assert all(s.get("changes", {}).get("delete", 0) > 0 for s in report["stacks"])
    archive = next(s for s in demo_plan.stacks if s.role == "log-archive")
    s3 = member_s3(
        engine_env["AWS_ENDPOINT_URL"],
        archive.account_id,
        archive.config["org-logging:adminRoleName"],
    )
    central = f"acme-org-logs-{archive.account_id}-us-east-1"
    assert central in {b["Name"] for b in s3.list_buckets()["Buckets"]}  # retained
    assert s3.get_bucket_versioning(Bucket=central)["Status"] == "Enabled"
    # Nothing the runs generated is in the repo: stack config lives in the state dir.
    untouched = subprocess.run(
        ["git", "status", "--porcelain", "--ignored", "--", "stacks", "Pulumi.yaml"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    assert untouched.stdout == ""
