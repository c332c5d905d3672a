"""CloudFormation StackSets: the StackSet goes to moto; its instances are recorded in memory,
their template is not deployed (the sample organization has adminRoleName in every account
already, as the StackSet would have made it).

moto gap: moto creates and updates a SERVICE_MANAGED StackSet, and its instances, whatever
the organization allows. AWS needs the caller to be the organization's management account and
StackSets' organizations access activated (ActivateOrganizationsAccess; the emulator's stand-in,
enroll/demo/emulator_access.py, answers DescribeOrganizationsAccess).
"""

from __future__ import annotations

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
        return self.describe(ctx)

    def update(self, ctx: Ctx, resource_id: str, olds: dict[str, Any]) -> dict[str, Any]:
        self._check(ctx, "UpdateStackInstances")
        return {}
