"""Helpers of the e2e tests: the engine, project copies, pulumi commands."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from enroll.run.automation import pulumi_yaml

REPO = Path(__file__).resolve().parents[2]


def engine_bin() -> Path:
    built = subprocess.run(
        ["sh", str(REPO / "engine" / "build.sh")], capture_output=True, text=True, check=False
    )
    if built.returncode != 0:
        pytest.fail(f"the engine is not built (make engine):\n{built.stderr[-3000:]}")
    return Path(built.stdout.strip().splitlines()[-1])


def project_copy(destination: Path) -> Path:
    """The project as a team would check it out: the program, the pack, its virtualenvs."""
    for name in ("Pulumi.yaml", "__main__.py", "requirements.txt"):
        shutil.copy(REPO / name, destination / name)
    for name in ("components", "policy"):
        shutil.copytree(
            REPO / name, destination / name, ignore=shutil.ignore_patterns("__pycache__", "venv")
        )
    (destination / "stacks").mkdir()
    (destination / ".venv").symlink_to(REPO / ".venv")
    # The pack's own virtualenv would be built from policy/requirements.txt; the repo's
    # virtualenv already holds those pins.
    (destination / "policy" / "venv").symlink_to(REPO / ".venv")
    return destination


def pulumi(
    args: list[str], *, cwd: Path, env: dict[str, str], check: bool = True, timeout: int = 900
) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        ["pulumi", *args, "--non-interactive"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if check and done.returncode != 0:
        pytest.fail(
            f"pulumi {' '.join(args)} failed ({done.returncode}):\n{done.stdout[-6000:]}\n{done.stderr[-4000:]}"
        )
    return done


def write_stack_config(project: Path, stack: str, config: dict[str, Any]) -> None:
    (project / "stacks" / f"Pulumi.{stack}.yaml").write_text(pulumi_yaml({"config": config}))


def stack_outputs(project: Path, stack: str, env: dict[str, str]) -> dict[str, Any]:
    done = pulumi(["stack", "output", "--json", "--stack", stack], cwd=project, env=env)
    return json.loads(done.stdout)


def member_s3(endpoint_url: str, account: str, role_name: str) -> Any:
    """An S3 client of a member account of the emulator, reached by assuming `role_name`."""
    import boto3

    sts = boto3.client("sts", endpoint_url=endpoint_url, region_name="us-east-1")
    credentials = sts.assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/{role_name}", RoleSessionName="e2e-check"
    )["Credentials"]
    return boto3.client(
        "s3",
        endpoint_url=endpoint_url,
        region_name="us-east-1",
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )
