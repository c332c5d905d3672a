"""Organizations policies and their attachments, with the size and count limits AWS enforces
and moto does not."""

from __future__ import annotations

import json
from typing import Any

from .base import ApiError, Ctx, Handler, aws_tags, ignore_not_found, is_not_found, short_id

# AWS's limits (Organizations quotas): characters of a policy document, policies per target.
POLICY_SIZE_LIMITS = {
    "SERVICE_CONTROL_POLICY": 5120,
    "RESOURCE_CONTROL_POLICY": 5120,
    "TAG_POLICY": 10000,
    "BACKUP_POLICY": 10000,
    "AISERVICES_OPT_OUT_POLICY": 2500,
}
POLICIES_PER_TARGET = {"SERVICE_CONTROL_POLICY": 5, "RESOURCE_CONTROL_POLICY": 5}


def _check_org_policy(content: str, policy_type: str, operation: str) -> None:
    """moto gap: moto stores any content; AWS checks the JSON and the size."""
    try:
        parsed = json.loads(content)
    except ValueError:
        parsed = None
    if not isinstance(parsed, dict):
        raise ApiError(
            "MalformedPolicyDocumentException",
            "The provided policy document does not meet the requirements of the specified "
            "policy type.",
            operation,
        )
    limit = POLICY_SIZE_LIMITS.get(policy_type)
    if limit and len(content) > limit:
        raise ApiError(
            "ConstraintViolationException",
            f"You attempted to exceed the maximum size of a policy document: {len(content)} "
            f"characters, the maximum for {policy_type} is {limit} "
            "(Reason: POLICY_CONTENT_LIMIT_EXCEEDED)",
            operation,
        )


class OrgPolicy(Handler):
    replace_on = ("type",)
    required = ("name", "content")
    emulated = True

    @staticmethod
    def _type(ctx: Ctx) -> str:
        return str(ctx.inputs.get("type") or "SERVICE_CONTROL_POLICY")

    def describe(self, ctx: Ctx) -> tuple[str, dict[str, Any]]:
        policy_id = f"p-{short_id(ctx.token, ctx.name)[:8]}"
        path = f"{self._type(ctx).lower()}/{policy_id}"
        return policy_id, {
            "arn": f"arn:{ctx.partition}:organizations::{ctx.account}:policy/o-standin/{path}",
            "awsManaged": False,
            "type": self._type(ctx),
            "tagsAll": ctx.inputs.get("tags") or {},
        }

    def create(self, ctx: Ctx) -> tuple[str, dict[str, Any]]:
        _, outputs = self.describe(ctx)
        _check_org_policy(str(ctx.inputs["content"]), self._type(ctx), "CreatePolicy")
        request: dict[str, Any] = {
            "Content": ctx.inputs["content"],
            "Name": ctx.inputs["name"],
            "Type": self._type(ctx),
            "Description": ctx.inputs.get("description") or "",
        }
        if ctx.inputs.get("tags"):
            request["Tags"] = aws_tags(ctx.inputs)
        summary = ctx.client("organizations").create_policy(**request)["Policy"]["PolicySummary"]
        outputs.update(arn=summary["Arn"], awsManaged=bool(summary.get("AwsManaged")))
        return summary["Id"], outputs

    def update(self, ctx: Ctx, resource_id: str, olds: dict[str, Any]) -> dict[str, Any]:
        _check_org_policy(str(ctx.inputs["content"]), self._type(ctx), "UpdatePolicy")
        ctx.client("organizations").update_policy(
            PolicyId=resource_id,
            Name=ctx.inputs["name"],
            Description=ctx.inputs.get("description") or "",
            Content=ctx.inputs["content"],
        )
        return {"tagsAll": ctx.inputs.get("tags") or {}}

    def delete(self, ctx: Ctx, resource_id: str, state: dict[str, Any]) -> None:
        if state.get("skipDestroy"):
            return
        org = ctx.client("organizations")
        ignore_not_found(lambda: org.delete_policy(PolicyId=resource_id))

    def exists(self, ctx: Ctx, resource_id: str, state: dict[str, Any]) -> bool:
        try:
            ctx.client("organizations").describe_policy(PolicyId=resource_id)
        except Exception as error:
            if is_not_found(error):
                return False
            raise
        return True


class PolicyAttachment(Handler):
    replace_on = ("policyId", "targetId")
    required = ("policyId", "targetId")
    emulated = True

    def describe(self, ctx: Ctx) -> tuple[str, dict[str, Any]]:
        return f"{ctx.inputs['targetId']}:{ctx.inputs['policyId']}", {}

    def create(self, ctx: Ctx) -> tuple[str, dict[str, Any]]:
        org = ctx.client("organizations")
        policy_id, target_id = ctx.inputs["policyId"], ctx.inputs["targetId"]
        policy_type = org.describe_policy(PolicyId=policy_id)["Policy"]["PolicySummary"]["Type"]
        limit = POLICIES_PER_TARGET.get(policy_type)
        if limit:
            # moto gap: AWS allows at most 5 SCPs (RCPs) on a root, OU or account.
            attached = org.list_policies_for_target(TargetId=target_id, Filter=policy_type)
            ids = [p["Id"] for p in attached["Policies"]]
            if policy_id not in ids and len(ids) >= limit:
                raise ApiError(
                    "ConstraintViolationException",
                    f"You attempted to exceed the number of policies of type {policy_type} "
                    f"that can be attached to {target_id} ({limit}; attached: "
                    f"{', '.join(ids)}) (Reason: MAX_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED)",
                    "AttachPolicy",
                )
        org.attach_policy(PolicyId=policy_id, TargetId=target_id)
        return self.describe(ctx)

    def delete(self, ctx: Ctx, resource_id: str, state: dict[str, Any]) -> None:
        if state.get("skipDestroy"):
            return
        org = ctx.client("organizations")
        ignore_not_found(
            lambda: org.detach_policy(PolicyId=state["policyId"], TargetId=state["targetId"])
        )

    def exists(self, ctx: Ctx, resource_id: str, state: dict[str, Any]) -> bool:
        org = ctx.client("organizations")
        try:
            policy = org.describe_policy(PolicyId=state["policyId"])["Policy"]["PolicySummary"]
            attached = org.list_policies_for_target(
                TargetId=state["targetId"], Filter=policy["Type"]
            )["Policies"]
        except Exception as error:
            if is_not_found(error):
                return False
            raise
        return state["policyId"] in [p["Id"] for p in attached]
