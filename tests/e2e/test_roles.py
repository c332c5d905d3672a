"""The real Pulumi engine runs each role's stack with `pulumi preview --policy-pack` and
`pulumi up`, against an emulated organization (the stand-in aws provider over moto)."""

from __future__ import annotations

import json
import re

import pytest

from enroll.org.model import PlannedStack
from enroll.run.automation import assume_role_config
from tests.e2e.engine import member_s3, project_copy, pulumi, stack_outputs, write_stack_config

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
    assume = assume_role_config(stack, None)
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
    s3 = member_s3(
        engine_env["AWS_ENDPOINT_URL"],
        archive.account_id,
        archive.config["org-logging:adminRoleName"],
    )
    buckets = {b["Name"] for b in s3.list_buckets()["Buckets"]}
    central = f"acme-org-logs-{archive.account_id}-us-east-1"
    assert central in buckets
    assert s3.get_bucket_versioning(Bucket=central)["Status"] == "Enabled"
    policy = json.loads(s3.get_bucket_policy(Bucket=central)["Policy"])
    assert any(s.get("Sid") == "DenyReplicatedDeletes" for s in policy["Statement"])


def test_the_admin_role_bootstrap_landed_in_the_emulator(project, engine_env, demo_plan):
    """The management stack's StackSet is in moto, service-managed, and the management
    account has its own adminRoleName, trusting the deployer (moto's root credentials here)."""
    import boto3

    management = first_of(demo_plan, "management")
    endpoint = engine_env["AWS_ENDPOINT_URL"]
    cloudformation = boto3.client("cloudformation", endpoint_url=endpoint, region_name="us-east-1")
    stack_set = cloudformation.describe_stack_set(StackSetName="acme-logging-admin-role")
    assert stack_set["StackSet"]["PermissionModel"] == "SERVICE_MANAGED"
    assert stack_set["StackSet"]["Status"] == "ACTIVE"
    role_name = management.config["org-logging:adminRoleName"]
    iam = boto3.client("iam", endpoint_url=endpoint, region_name="us-east-1")
    trust = iam.get_role(RoleName=role_name)["Role"]["AssumeRolePolicyDocument"]
    trust = json.loads(trust) if isinstance(trust, str) else trust
    root = f"arn:aws:iam::{management.account_id}:root"
    assert trust["Statement"] == [
        {
            "Sid": "ManagementAccountDeployers",
            "Effect": "Allow",
            "Principal": {"AWS": root},
            "Action": ["sts:AssumeRole", "sts:SetSourceIdentity"],
            "Condition": {"ArnEquals": {"aws:PrincipalArn": [root]}},
        }
    ]
    names = iam.list_role_policies(RoleName=role_name)["PolicyNames"]
    assert names and all(re.fullmatch(r"acme-logging-admin-\d+", n) for n in names), names
    # The StackSet's instance created the same role in the member accounts (none had it).
    archive = first_of(demo_plan, "log-archive")
    member_iam = boto3.client("iam", endpoint_url=endpoint, region_name="us-east-1")
    member_iam.meta.events.register(
        "before-sign.iam",
        lambda request, **_: request.headers.__setitem__("x-moto-account-id", archive.account_id),
    )
    member_role = member_iam.get_role(RoleName=role_name)["Role"]
    member_trust = member_role["AssumeRolePolicyDocument"]
    member_trust = json.loads(member_trust) if isinstance(member_trust, str) else member_trust
    assert member_trust["Statement"] == trust["Statement"]
    assert member_iam.list_role_policies(RoleName=role_name)["PolicyNames"] == names
