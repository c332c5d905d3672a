"""From an empty organization to enrolled, with the real engine: no adminRoleName anywhere, and
an emulator that lets a role be assumed only if it exists and trusts the caller (as AWS does).
A plain `up` stops at its preflight; `up --bootstrap` creates the roles (the StackSet in every
member account, a plain role in the management account); then `up` enrolls every stack."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from enroll.demo.emulator import Emulator, fake_credentials, sample_org, sample_settings
from tests.e2e import conftest as e2e_conftest
from tests.e2e.conftest import E2E_REGIONS
from tests.e2e.engine import REPO


@pytest.fixture(scope="module")
def emulated_org(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """Overrides conftest's: AssumeRole needs the role to exist and trust the caller."""
    with fake_credentials(), Emulator(enforce_role_trust=True) as emulator:
        sample = sample_org(emulator)
        e2e_conftest.before_bootstrap(emulator, sample)
        settings_file = tmp_path_factory.mktemp("org") / "org.yaml"
        settings_file.write_text(yaml.safe_dump(sample_settings(sample, regions=E2E_REGIONS)))
        yield emulator, sample, settings_file


@pytest.fixture(scope="module")
def run(tmp_path_factory, engine_env, emulated_org):
    emulator, _, settings = emulated_org
    backend = tmp_path_factory.mktemp("backend").as_uri()
    env = {**engine_env, "PULUMI_BACKEND_URL": backend, "COLUMNS": "200"}  # tables unwrapped

    def run_stacks(*extra: str) -> tuple[int, str, dict[str, Any] | None]:
        report = tmp_path_factory.mktemp("report") / "report.json"
        done = subprocess.run(
            [
                *(sys.executable, "-m", "stacks", "up", "--yes", "--policy-pack", "policy"),
                *("--settings", str(settings), "--endpoint-url", emulator.endpoint_url),
                *("--state-dir", str(tmp_path_factory.mktemp("state")), "--concurrency", "4"),
                *("--report", str(report)),
                *extra,
            ],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=1800,
            check=False,
        )
        output = done.stdout + done.stderr
        return done.returncode, output, json.loads(report.read_text()) if report.exists() else None

    return run_stacks


def test_on_an_empty_organization_up_stops_at_its_preflight(run):
    code, output, report = run()
    assert code == 1, output[-4000:]
    assert "adminRoleName can be assumed" in output
    assert "up stopped: a prerequisite check failed" in output
    assert report is None  # nothing ran


def test_bootstrap_creates_the_admin_role_then_up_enrolls_everything(run, emulated_org, demo_plan):
    code, output, report = run("--bootstrap")
    assert code == 0, output[-4000:]
    assert [(s["name"], s["status"]) for s in report["stacks"]] == [("management", "passed")]

    emulator, sample, _ = emulated_org
    role = sample_settings(sample)["adminRoleName"]
    for account in (sample.management_account_id, sample.log_archive_account_id):
        assert emulator.client("iam", account).get_role(RoleName=role)["Role"]["RoleName"] == role

    code, output, report = run()
    assert code == 0, output[-4000:]
    statuses = {s["name"]: s["status"] for s in report["stacks"]}
    assert statuses == {s.name: "passed" for s in demo_plan.stacks}
