"""The IAM roles org-logging creates: one trusted service, one inline policy each."""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pulumi_aws as aws


def service_role(
    parent: pulumi.Resource,
    logical_name: str,
    *,
    name: str,
    trust: dict[str, Any],
    policy: dict[str, Any],
    policy_logical_name: str | None = None,
) -> tuple[aws.iam.Role, aws.iam.RolePolicy]:
    """A role named `name` that only the trusted service may assume, and its inline policy.

    Logical names: `<logical_name>-role` and `<policy_logical_name or logical_name>`.
    """
    child = pulumi.ResourceOptions(parent=parent)
    role = aws.iam.Role(
        f"{logical_name}-role", name=name, assume_role_policy=json.dumps(trust), opts=child
    )
    inline = aws.iam.RolePolicy(
        policy_logical_name or logical_name,
        role=role.id,
        policy=json.dumps(policy),
        opts=child,
    )
    return role, inline
