"""The stand-in `aws` provider (tests/e2e/provider) for what the management stack registers and
invokes to bootstrap adminRoleName: getSessionContext, and the service-managed StackSet and its
instance, refused as AWS refuses them until StackSets' organizations access is activated.

Each provider is started exactly as the engine starts it, against a moto server holding a fresh
organization (tests/standin.py).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any

import boto3
import pytest
from standin import as_role, client, rpc_error, starter

from enroll.demo.emulator import Emulator, fake_credentials

STACK_SET = "aws:cloudformation/stackSet:StackSet"
INSTANCE = "aws:cloudformation/stackSetInstance:StackSetInstance"
SESSION_CONTEXT = "aws:iam/getSessionContext:getSessionContext"
STACKSETS = "member.org.stacksets.cloudformation.amazonaws.com"
MANAGEMENT = "123456789012"  # moto's account for the base credentials
TEMPLATE = json.dumps(
    {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
    }
)


def stack_set_inputs(**overrides: Any) -> dict[str, Any]:
    return {
        "name": "acme-logging-admin-role",
        "templateBody": TEMPLATE,
        "permissionModel": "SERVICE_MANAGED",
        "callAs": "SELF",
        "autoDeployment": {"enabled": True, "retainStacksOnAccountRemoval": True},
        "capabilities": ["CAPABILITY_NAMED_IAM"],
        "managedExecution": {"active": True},
        "region": "us-east-1",
        **overrides,
    }


@pytest.fixture
def org() -> Iterator[tuple[Emulator, str, str]]:
    """A fresh emulator with an organization: (emulator, root id, a member account id).
    StackSets' organizations access is not activated."""
    with fake_credentials(), Emulator() as emulator:
        organizations = client(emulator, "organizations")
        organizations.create_organization(FeatureSet="ALL")
        root = organizations.list_roots()["Roots"][0]["Id"]
        member = organizations.create_account(Email="m@example.com", AccountName="member")
        yield emulator, root, member["CreateAccountStatus"]["AccountId"]


@pytest.fixture
def start(org: tuple[Emulator, str, str]) -> Iterator[Any]:
    with ExitStack() as stack:
        yield starter(stack, org[0])


def test_a_service_managed_stack_set_needs_organizations_access_activated(org, start):
    emulator, root, _ = org
    provider = start(region="us-east-1")
    cloudformation = client(emulator, "cloudformation")
    refused = (
        f"creating {STACK_SET} (admin-role): operation error CreateStackSet, api error "
        "ValidationError: You must enable organizations access to operate a service managed "
        "stack set"
    )
    assert rpc_error(lambda: provider.create(STACK_SET, "admin-role", stack_set_inputs())) == (
        refused
    )
    # Trusted access for the service principal alone is not enough (AWS's console and CLI
    # activate it through CloudFormation, which also enables the principal).
    client(emulator, "organizations").enable_aws_service_access(ServicePrincipal=STACKSETS)
    assert rpc_error(lambda: provider.create(STACK_SET, "admin-role", stack_set_inputs())) == (
        refused
    )
    assert cloudformation.list_stack_sets()["Summaries"] == []

    cloudformation.activate_organizations_access()  # what `doctor --fix` calls
    name, outputs = provider.create(STACK_SET, "admin-role", stack_set_inputs())
    assert name == "acme-logging-admin-role"
    described = cloudformation.describe_stack_set(StackSetName=name)["StackSet"]
    assert outputs["stackSetId"] == described["StackSetId"]
    assert outputs["arn"].startswith(f"arn:aws:cloudformation:us-east-1:{MANAGEMENT}:stackset/")
    assert described["PermissionModel"] == "SERVICE_MANAGED"

    instance = {
        "stackSetName": name,
        "deploymentTargets": {"organizationalUnitIds": [root]},
        "stackSetInstanceRegion": "us-east-1",
        "callAs": "SELF",
        "retainStack": True,
    }
    instance_id, _ = provider.create(INSTANCE, "admin-role-instance", instance)
    assert instance_id == f"{name},{root},us-east-1"

    # Disabling the principal in Organizations turns the access off again: every later
    # operation on the StackSet is refused.
    client(emulator, "organizations").disable_aws_service_access(ServicePrincipal=STACKSETS)
    assert rpc_error(lambda: provider.create(INSTANCE, "again", instance)) == (
        f"creating {INSTANCE} (again): operation error CreateStackInstances, api error "
        "ValidationError: You must enable organizations access to operate a service managed "
        "stack set"
    )


def test_a_self_managed_stack_set_needs_no_organizations_access(org, start):
    provider = start(region="us-east-1")
    name, _ = provider.create(
        STACK_SET, "self", stack_set_inputs(name="self-managed", permissionModel="SELF_MANAGED")
    )
    summaries = client(org[0], "cloudformation").list_stack_sets()["Summaries"]
    assert [(s["StackSetName"], s["Status"]) for s in summaries] == [(name, "ACTIVE")]


def test_only_the_management_account_operates_a_service_managed_stack_set(org, start):
    emulator, _, member = org
    client(emulator, "cloudformation").activate_organizations_access()
    provider = start(
        region="us-east-1", assumeRoles=as_role(member, "OrganizationAccountAccessRole")
    )
    assert rpc_error(lambda: provider.create(STACK_SET, "admin-role", stack_set_inputs())) == (
        f"creating {STACK_SET} (admin-role): operation error CreateStackSet, api error "
        "ValidationError: You must be the management account or delegated admin account of an "
        "organization before operating a SERVICE_MANAGED stack set"
    )


def test_an_instance_of_a_stack_set_that_does_not_exist_fails(org, start):
    provider = start(region="us-east-1")
    instance = {
        "stackSetName": "missing",
        "deploymentTargets": {"organizationalUnitIds": [org[1]]},
        "stackSetInstanceRegion": "us-east-1",
    }
    assert "StackSetNotFoundException" in rpc_error(
        lambda: provider.create(INSTANCE, "orphan", instance)
    )


def test_destroy_deletes_the_stack_set_and_keeps_the_instances_stacks(org, start):
    emulator, root, _ = org
    cloudformation = client(emulator, "cloudformation")
    cloudformation.activate_organizations_access()
    provider = start(region="us-east-1")
    name, outputs = provider.create(STACK_SET, "admin-role", stack_set_inputs())
    instance = {
        "stackSetName": name,
        "deploymentTargets": {"organizationalUnitIds": [root]},
        "stackSetInstanceRegion": "us-east-1",
        "retainStack": True,
    }
    instance_id, instance_state = provider.create(INSTANCE, "admin-role-instance", instance)
    provider.delete(INSTANCE, "admin-role-instance", instance_id, instance_state)
    provider.delete(STACK_SET, "admin-role", name, outputs)
    statuses = [s["Status"] for s in cloudformation.list_stack_sets()["Summaries"]]
    assert statuses == ["DELETED"]
    provider.delete(STACK_SET, "admin-role", name, outputs)  # already gone: no error


def test_get_session_context_gives_an_assumed_roles_role_with_its_path(org, start):
    emulator, _, _ = org
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": MANAGEMENT}, "Action": "sts:AssumeRole"}
        ],
    }
    role = client(emulator, "iam").create_role(
        RoleName="Deployer", Path="/ci/", AssumeRolePolicyDocument=json.dumps(trust)
    )["Role"]
    deployer = start(
        region="us-east-1",
        assumeRoles=[{"roleArn": role["Arn"], "sessionName": "pipeline"}],
    )
    caller = deployer.invoke("aws:index/getCallerIdentity:getCallerIdentity")["arn"]
    assert caller == f"arn:aws:sts::{MANAGEMENT}:assumed-role/Deployer/pipeline"
    context = deployer.invoke(SESSION_CONTEXT, arn=caller)
    assert {k: context[k] for k in ("issuerArn", "issuerId", "issuerName", "sessionName")} == {
        "issuerArn": f"arn:aws:iam::{MANAGEMENT}:role/ci/Deployer",
        "issuerId": role["RoleId"],
        "issuerName": "Deployer",
        "sessionName": "pipeline",
    }
    # Any other ARN (the root user here) is its own issuer.
    root = start(region="us-east-1")
    root_arn = root.invoke("aws:index/getCallerIdentity:getCallerIdentity")["arn"]
    assert root_arn == f"arn:aws:iam::{MANAGEMENT}:root"
    assert root.invoke(SESSION_CONTEXT, arn=root_arn)["issuerArn"] == root_arn


ROLE_TEMPLATE = json.dumps(
    {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Resources": {
            "AdminRole": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "RoleName": "OrgLoggingAdmin",
                    "AssumeRolePolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Principal": {"AWS": f"arn:aws:iam::{MANAGEMENT}:root"},
                                "Action": "sts:AssumeRole",
                            }
                        ],
                    },
                    "Policies": [
                        {
                            "PolicyName": "acme-logging-admin-1",
                            "PolicyDocument": {
                                "Version": "2012-10-17",
                                "Statement": [
                                    {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*"}
                                ],
                            },
                        }
                    ],
                },
            }
        },
    }
)


def role_instance(provider, root: str, tolerance: int) -> Any:
    name, _ = provider.create(STACK_SET, "admin-role", stack_set_inputs(templateBody=ROLE_TEMPLATE))
    return {
        "stackSetName": name,
        "deploymentTargets": {"organizationalUnitIds": [root]},
        "stackSetInstanceRegion": "us-east-1",
        "operationPreferences": {"failureTolerancePercentage": tolerance},
        "retainStack": True,
    }


def member_iam(emulator: Emulator, account: str) -> Any:
    sts = client(emulator, "sts")
    credentials = sts.assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/OrganizationAccountAccessRole", RoleSessionName="test"
    )["Credentials"]
    return boto3.client(
        "iam",
        endpoint_url=emulator.endpoint_url,
        region_name="us-east-1",
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )


def test_an_instance_creates_the_templates_role_in_every_member_but_not_the_management(org, start):
    emulator, root, member = org
    client(emulator, "cloudformation").activate_organizations_access()
    provider = start(region="us-east-1")
    provider.create(INSTANCE, "admin-role-instance", role_instance(provider, root, 10))
    role = member_iam(emulator, member).get_role(RoleName="OrgLoggingAdmin")["Role"]
    assert role["Arn"] == f"arn:aws:iam::{member}:role/OrgLoggingAdmin"
    assert member_iam(emulator, member).list_role_policies(RoleName="OrgLoggingAdmin")[
        "PolicyNames"
    ] == ["acme-logging-admin-1"]
    with pytest.raises(Exception, match="NoSuchEntity"):
        client(emulator, "iam").get_role(RoleName="OrgLoggingAdmin")  # the management account


def test_an_instance_fails_like_aws_when_a_role_of_that_name_exists_beyond_the_tolerance(
    org, start
):
    emulator, root, member = org
    client(emulator, "cloudformation").activate_organizations_access()
    member_iam(emulator, member).create_role(
        RoleName="OrgLoggingAdmin", AssumeRolePolicyDocument=json.dumps({"Statement": []})
    )
    provider = start(region="us-east-1")
    instance = role_instance(provider, root, 10)  # 1 of 1 accounts failing is over 10 %
    assert rpc_error(lambda: provider.create(INSTANCE, "admin-role-instance", instance)) == (
        f"creating {INSTANCE} (admin-role-instance): operation error CreateStackInstances, api "
        "error OperationFailed: stack set operation for acme-logging-admin-role FAILED: 1 of 1 "
        f"accounts failed, over the failure tolerance of 10 %: {member}: Role OrgLoggingAdmin "
        "already exists"
    )


def test_an_instance_created_again_finds_its_own_roles_and_carries_on(org, start):
    """A run killed while the instance was being created creates it again on resume."""
    emulator, root, member = org
    client(emulator, "cloudformation").activate_organizations_access()
    provider = start(region="us-east-1")
    instance = role_instance(provider, root, 0)
    provider.create(INSTANCE, "admin-role-instance", instance)
    provider.create(INSTANCE, "admin-role-instance", instance)
    assert member_iam(emulator, member).get_role(RoleName="OrgLoggingAdmin")["Role"]["RoleName"]
