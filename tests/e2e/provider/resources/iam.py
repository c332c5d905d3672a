"""IAM roles and their inline policies."""

from __future__ import annotations

from typing import Any

from .base import Ctx, Handler, as_int, aws_tags, ignore_not_found, is_not_found, iso_time, short_id


class Role(Handler):
    replace_on = ("name", "namePrefix", "path")
    required = ("assumeRolePolicy",)
    autoname = "name"
    emulated = True

    def describe(self, ctx: Ctx) -> tuple[str, dict[str, Any]]:
        name = str(ctx.inputs["name"])
        path = str(ctx.inputs.get("path") or "/")
        return name, {
            "arn": f"arn:{ctx.partition}:iam::{ctx.account}:role{path}{name}",
            "uniqueId": "AROA" + short_id(ctx.account, name).upper(),
            "createDate": "2024-01-01T00:00:00Z",
            "tagsAll": ctx.inputs.get("tags") or {},
        }

    def create(self, ctx: Ctx) -> tuple[str, dict[str, Any]]:
        name, outputs = self.describe(ctx)
        inputs = ctx.inputs
        iam = ctx.client("iam")
        request: dict[str, Any] = {
            "RoleName": name,
            "AssumeRolePolicyDocument": inputs["assumeRolePolicy"],
            "Path": inputs.get("path") or "/",
        }
        if inputs.get("description"):
            request["Description"] = inputs["description"]
        if inputs.get("maxSessionDuration"):
            request["MaxSessionDuration"] = as_int(inputs["maxSessionDuration"])
        if inputs.get("permissionsBoundary"):
            request["PermissionsBoundary"] = inputs["permissionsBoundary"]
        if inputs.get("tags"):
            request["Tags"] = aws_tags(inputs)
        role = iam.create_role(**request)["Role"]
        try:
            # moto gap: CreateRole stores any trust policy; UpdateAssumeRolePolicy runs the
            # grammar check AWS makes on CreateRole.
            iam.update_assume_role_policy(RoleName=name, PolicyDocument=inputs["assumeRolePolicy"])
            for arn in inputs.get("managedPolicyArns") or []:
                iam.attach_role_policy(RoleName=name, PolicyArn=arn)
            for inline in inputs.get("inlinePolicies") or []:
                if inline.get("name") and inline.get("policy"):
                    iam.put_role_policy(
                        RoleName=name, PolicyName=inline["name"], PolicyDocument=inline["policy"]
                    )
        except Exception:
            self._delete(iam, name, force=True)
            raise
        outputs.update(
            arn=role["Arn"], uniqueId=role["RoleId"], createDate=iso_time(role["CreateDate"])
        )
        return name, outputs

    def update(self, ctx: Ctx, resource_id: str, olds: dict[str, Any]) -> dict[str, Any]:
        iam = ctx.client("iam")
        inputs = ctx.inputs
        if inputs.get("assumeRolePolicy") != olds.get("assumeRolePolicy"):
            iam.update_assume_role_policy(
                RoleName=resource_id, PolicyDocument=inputs["assumeRolePolicy"]
            )
        changes: dict[str, Any] = {}
        if inputs.get("description") != olds.get("description"):
            changes["Description"] = inputs.get("description") or ""
        if inputs.get("maxSessionDuration") != olds.get("maxSessionDuration"):
            changes["MaxSessionDuration"] = as_int(inputs.get("maxSessionDuration") or 3600)
        if changes:
            iam.update_role(RoleName=resource_id, **changes)
        if inputs.get("tags"):
            iam.tag_role(RoleName=resource_id, Tags=aws_tags(inputs))
        return {"tagsAll": inputs.get("tags") or {}}

    def delete(self, ctx: Ctx, resource_id: str, state: dict[str, Any]) -> None:
        iam = ctx.client("iam")
        ignore_not_found(
            lambda: self._delete(iam, resource_id, force=bool(state.get("forceDetachPolicies")))
        )

    @staticmethod
    def _delete(iam: Any, name: str, force: bool) -> None:
        if force:
            for policy in iam.list_role_policies(RoleName=name)["PolicyNames"]:
                iam.delete_role_policy(RoleName=name, PolicyName=policy)
            for attached in iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]:
                iam.detach_role_policy(RoleName=name, PolicyArn=attached["PolicyArn"])
        iam.delete_role(RoleName=name)

    def exists(self, ctx: Ctx, resource_id: str, state: dict[str, Any]) -> bool:
        try:
            ctx.client("iam").get_role(RoleName=resource_id)
        except Exception as error:
            if is_not_found(error):
                return False
            raise
        return True


def _role_name(role: str) -> str:
    return role.rsplit("/", 1)[-1] if role.startswith("arn:") else role


class RolePolicy(Handler):
    replace_on = ("name", "namePrefix", "role")
    required = ("role", "policy")
    autoname = "name"
    emulated = True

    def describe(self, ctx: Ctx) -> tuple[str, dict[str, Any]]:
        return f"{_role_name(str(ctx.inputs['role']))}:{ctx.inputs['name']}", {}

    def create(self, ctx: Ctx) -> tuple[str, dict[str, Any]]:
        self.update(ctx, "", {})
        return self.describe(ctx)

    def update(self, ctx: Ctx, resource_id: str, olds: dict[str, Any]) -> dict[str, Any]:
        ctx.client("iam").put_role_policy(
            RoleName=_role_name(str(ctx.inputs["role"])),
            PolicyName=ctx.inputs["name"],
            PolicyDocument=ctx.inputs["policy"],
        )
        return {}

    def delete(self, ctx: Ctx, resource_id: str, state: dict[str, Any]) -> None:
        role, _, name = resource_id.partition(":")
        iam = ctx.client("iam")
        ignore_not_found(lambda: iam.delete_role_policy(RoleName=role, PolicyName=name))

    def exists(self, ctx: Ctx, resource_id: str, state: dict[str, Any]) -> bool:
        role, _, name = resource_id.partition(":")
        try:
            ctx.client("iam").get_role_policy(RoleName=role, PolicyName=name)
        except Exception as error:
            if is_not_found(error):
                return False
            raise
        return True
