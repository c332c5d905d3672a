"""CloudFormation StackSets: the StackSet goes to moto; an instance deploys the StackSet's
template (its IAM roles: all our template has) into every active account under its target
OUs but the management account, as StackSets' execution role would, and fails like AWS when
more accounts fail than the operation's failure tolerance allows (a role of that name already
there fails its account: CloudFormation does not adopt resources).

moto gap: moto creates and updates a SERVICE_MANAGED StackSet, and its instances, whatever
the organization allows. AWS needs the caller to be the organization's management account and
StackSets' organizations access activated (ActivateOrganizationsAccess; the emulator's stand-in,
enroll/demo/emulator_access.py, answers DescribeOrganizationsAccess).
"""

from __future__ import annotations

import json
from typing import Any

from .base import ApiError, Ctx, Handler, ignore_not_found, is_not_found, short_id

SERVICE_MANAGED = "SERVICE_MANAGED"
# https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/stacksets-orgs-activate-trusted-access.html
ACCESS_NOT_ACTIVATED = "You must enable organizations access to operate a service managed stack set"
NOT_MANAGEMENT_ACCOUNT = (
    "You must be the management account or delegated admin account of an organization before "
    "operating a SERVICE_MANAGED stack set"
)


def check_organizations_access(ctx: Ctx, operation: str) -> None:
    """A service-managed StackSet needs organizations access activated, from the management
    account, or AWS refuses with ValidationError (400), as the docs above say."""
    cloudformation = ctx.client("cloudformation")
    try:
        status = cloudformation.describe_organizations_access()["Status"]
    except Exception as error:
        if "not the management account" in str(error):
            raise ApiError("ValidationError", NOT_MANAGEMENT_ACCOUNT, operation) from None
        raise
    if status != "ENABLED":
        raise ApiError("ValidationError", ACCESS_NOT_ACTIVATED, operation)


def _stack_set_params(inputs: dict[str, Any]) -> dict[str, Any]:
    params: dict[str, Any] = {
        "StackSetName": inputs["name"],
        "TemplateBody": inputs["templateBody"],
        "Capabilities": inputs.get("capabilities") or [],
    }
    if inputs.get("description"):
        params["Description"] = inputs["description"]
    return params


class StackSet(Handler):
    # terraform-provider-aws: a new name or permission model is a new StackSet.
    replace_on = ("region", "name", "permissionModel")
    required = ("templateBody",)
    autoname = "name"
    emulated = True

    def describe(self, ctx: Ctx) -> tuple[str, dict[str, Any]]:
        name = str(ctx.inputs["name"])
        stack_set_id = f"{name}:{short_id(ctx.account, name)}"
        return name, {
            "arn": ctx.arn("cloudformation", f"stackset/{stack_set_id}"),
            "stackSetId": stack_set_id,
            "tagsAll": ctx.inputs.get("tags") or {},
        }

    @staticmethod
    def _service_managed(ctx: Ctx) -> bool:
        return ctx.inputs.get("permissionModel") == SERVICE_MANAGED

    def create(self, ctx: Ctx) -> tuple[str, dict[str, Any]]:
        name, outputs = self.describe(ctx)
        if self._service_managed(ctx):
            check_organizations_access(ctx, "CreateStackSet")
        cloudformation = ctx.client("cloudformation")
        cloudformation.create_stack_set(
            **_stack_set_params(ctx.inputs),
            PermissionModel=ctx.inputs.get("permissionModel") or "SELF_MANAGED",
        )
        described = cloudformation.describe_stack_set(StackSetName=name)["StackSet"]
        outputs.update(arn=described["StackSetARN"], stackSetId=described["StackSetId"])
        return name, outputs

    def update(self, ctx: Ctx, resource_id: str, olds: dict[str, Any]) -> dict[str, Any]:
        if self._service_managed(ctx):
            check_organizations_access(ctx, "UpdateStackSet")
        ctx.client("cloudformation").update_stack_set(**_stack_set_params(ctx.inputs))
        return {}

    def delete(self, ctx: Ctx, resource_id: str, state: dict[str, Any]) -> None:
        cloudformation = ctx.client("cloudformation")
        ignore_not_found(lambda: cloudformation.delete_stack_set(StackSetName=resource_id))

    def exists(self, ctx: Ctx, resource_id: str, state: dict[str, Any]) -> bool:
        try:
            ctx.client("cloudformation").describe_stack_set(StackSetName=resource_id)
        except Exception as error:
            if is_not_found(error):
                return False
            raise
        return True


class StackSetInstance(Handler):
    """In memory, once the StackSet is there and, for a service-managed one, organizations
    access allows it (CreateStackInstances fails like CreateStackSet otherwise)."""

    replace_on = ("region", "stackSetName", "stackSetInstanceRegion", "deploymentTargets")
    required = ("stackSetName",)
    emulated = True

    def describe(self, ctx: Ctx) -> tuple[str, dict[str, Any]]:
        # terraform-provider-aws' id: stack set name, account or OU ids ("/"), region.
        inputs = ctx.inputs
        targets = (inputs.get("deploymentTargets") or {}).get("organizationalUnitIds") or []
        where = "/".join(targets) or str(inputs.get("accountId") or ctx.account)
        region = str(inputs.get("stackSetInstanceRegion") or ctx.region)
        return f"{inputs['stackSetName']},{where},{region}", {
            "stackInstanceSummaries": [
                {"organizationalUnitId": ou, "accountId": "", "stackId": ""} for ou in targets
            ],
        }

    def _check(self, ctx: Ctx, operation: str) -> None:
        cloudformation = ctx.client("cloudformation")
        name = ctx.inputs["stackSetName"]
        stack_set = cloudformation.describe_stack_set(StackSetName=name)["StackSet"]
        if stack_set.get("PermissionModel") == SERVICE_MANAGED:
            check_organizations_access(ctx, operation)

    def create(self, ctx: Ctx) -> tuple[str, dict[str, Any]]:
        self._check(ctx, "CreateStackInstances")
        resource_id, outputs = self.describe(ctx)
        deploy_roles(ctx)
        return resource_id, outputs

    def update(self, ctx: Ctx, resource_id: str, olds: dict[str, Any]) -> dict[str, Any]:
        self._check(ctx, "UpdateStackInstances")
        return {}


# Marks what an instance created, as CloudFormation knows its own stack's resources: creating
# the instance again (a run killed mid-create, then resumed) finds them and carries on.
STACK_SET_TAG = "standin:stack-set"


def accounts_under(ctx: Ctx, targets: list[str]) -> list[str]:
    """Active accounts under the target roots or OUs, nested OUs included, but the caller's
    (the management account): StackSets never deploy there."""
    organizations = ctx.client("organizations")
    accounts: list[str] = []
    parents = list(targets)
    while parents:
        parent = parents.pop()
        for page in organizations.get_paginator("list_accounts_for_parent").paginate(
            ParentId=parent
        ):
            accounts += [
                a["Id"]
                for a in page["Accounts"]
                if a["Status"] == "ACTIVE" and a["Id"] != ctx.account
            ]
        for page in organizations.get_paginator("list_organizational_units_for_parent").paginate(
            ParentId=parent
        ):
            parents += [ou["Id"] for ou in page["OrganizationalUnits"]]
    return sorted(set(accounts))


def deploy_roles(ctx: Ctx) -> None:
    """Create the template's roles in each target account; AWS stops the operation (FAILED)
    when the failed accounts exceed FailureTolerancePercentage of them:
    https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_StackSetOperationPreferences.html
    """
    inputs = ctx.inputs
    targets = (inputs.get("deploymentTargets") or {}).get("organizationalUnitIds") or []
    name = inputs["stackSetName"]
    body = ctx.client("cloudformation").describe_stack_set(StackSetName=name)["StackSet"]
    template = json.loads(body["TemplateBody"])
    roles = [
        r["Properties"] for r in template["Resources"].values() if r["Type"] == "AWS::IAM::Role"
    ]
    preferences = inputs.get("operationPreferences") or {}
    tolerance = int(preferences.get("failureTolerancePercentage") or 0)
    accounts = accounts_under(ctx, targets)
    failed = []
    for account in accounts:
        iam = ctx.aws.client("iam", "us-east-1", account=account)
        for role in roles:
            try:
                iam.create_role(
                    RoleName=role["RoleName"],
                    AssumeRolePolicyDocument=json.dumps(role["AssumeRolePolicyDocument"]),
                    Tags=[{"Key": STACK_SET_TAG, "Value": name}],
                    **({"Description": role["Description"]} if role.get("Description") else {}),
                )
            except Exception as error:
                if "EntityAlreadyExists" not in str(error):
                    raise
                tags = iam.get_role(RoleName=role["RoleName"])["Role"].get("Tags") or []
                if {"Key": STACK_SET_TAG, "Value": name} not in tags:
                    failed.append(f"{account}: Role {role['RoleName']} already exists")
                continue  # this StackSet's own stack instance is already there
            for policy in role.get("Policies", []):
                iam.put_role_policy(
                    RoleName=role["RoleName"],
                    PolicyName=policy["PolicyName"],
                    PolicyDocument=json.dumps(policy["PolicyDocument"]),
                )
    if accounts and len(failed) * 100 > tolerance * len(accounts):
        raise ApiError(
            "OperationFailed",
            f"stack set operation for {name} FAILED: {len(failed)} of {len(accounts)} accounts "
            f"failed, over the failure tolerance of {tolerance} %: " + "; ".join(failed[:5]),
            "CreateStackInstances",
        )
