"""adminRoleName in every account, from the management stack (docs/security.md, "The admin
role"): a service-managed StackSet creates it in every member account under the SCP targets
(now and as accounts join), and a plain role creates it in the management account, where
StackSets never deploy. Same name, trust and policies everywhere."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components import naming
from components.documents.bootstrap import (
    ROLE_DESCRIPTION,
    admin_role_policies,
    admin_role_template,
    admin_trust_policy,
    size_problems,
    template_body,
)
from policy import conventions

# Creating stack instances in an account whose role exists already fails there; past this
# share of failed accounts the operation stops. Accounts are deployed all at once otherwise.
# https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_StackSetOperationPreferences.html
OPERATION_PREFERENCES = {
    "failure_tolerance_percentage": 10,
    "max_concurrent_percentage": 100,
    "region_concurrency_type": "PARALLEL",
}


@dataclass(frozen=True)
class AdminRoleArgs:
    name_prefix: str
    management_account_id: str
    home_region: str
    admin_role_name: str
    deployer_role_arns: tuple[str, ...] = ()


@dataclass(frozen=True)
class AdminRoles:
    role_arn: pulumi.Output[str]  # the management account's
    stack_set_name: pulumi.Output[str] | None  # None in aws-cn
    stack_set_targets: list[str]
    deployer_role_arns: list[str]
    template: str


def deployer_role_arns(args: AdminRoleArgs) -> tuple[str, ...]:
    """`deployerRoleArns`, or the role these credentials come from.

    GetSessionContext gives an assumed role's role ARN with its path (the assumed-role ARN
    drops it), and any other ARN unchanged:
    https://www.pulumi.com/registry/packages/aws/api-docs/iam/getsessioncontext/
    """
    if args.deployer_role_arns:
        return args.deployer_role_arns
    caller = aws.get_caller_identity()
    issuer = aws.iam.get_session_context(arn=caller.arn).issuer_arn or caller.arn
    account = issuer.split(":")[4] if issuer.count(":") >= 5 else ""
    if account != args.management_account_id:
        raise pulumi.RunError(
            f"the deployer {issuer} is not in the management account "
            f"{args.management_account_id}; run the management stack there, or set "
            "org-logging:deployerRoleArns"
        )
    if ":role/" not in issuer and not pulumi.runtime.is_dry_run():
        pulumi.log.warn(
            f"adminRoleName trusts the deployer {issuer}, which is not a role (a root user "
            "cannot assume roles); set org-logging:deployerRoleArns to the roles that deploy"
        )
    return (issuer,)


def admin_roles(
    parent: pulumi.Resource, name: str, args: AdminRoleArgs, targets: Sequence[str]
) -> AdminRoles:
    """The StackSet and its one instance (every account under `targets`, the home region
    only: the role is global, a second region would find it there already), and the
    management account's own role. Checks every size before registering anything."""
    region, prefix = args.home_region, args.name_prefix
    deployers = deployer_role_arns(args)
    trust = admin_trust_policy(
        region=region, management_account=args.management_account_id, deployer_arns=deployers
    )
    policies = admin_role_policies(
        region=region, name_prefix=prefix, admin_role_name=args.admin_role_name
    )
    body = template_body(
        admin_role_template(
            name_prefix=prefix,
            admin_role_name=args.admin_role_name,
            trust=trust,
            policies=policies,
        )
    )
    problems = size_problems(trust, policies, body)
    if problems:
        raise pulumi.RunError("; ".join(problems))
    role_arn = _management_account_role(parent, name, args, trust, policies)
    if conventions.partition_of(region) is conventions.AWS_CN:
        # https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/stacksets-prereqs.html:
        # no trusted access between StackSets and Organizations in the China Regions.
        pulumi.log.warn(
            "aws-cn has no service-managed StackSets: create adminRoleName in each member "
            "account from the adminRoleTemplate output (docs/security.md, China)"
        )
        return AdminRoles(role_arn, None, [], list(deployers), body)
    stack_set = _stack_set(parent, name, args, body, targets)
    return AdminRoles(role_arn, stack_set.name, list(targets), list(deployers), body)


def _management_account_role(
    parent: pulumi.Resource,
    name: str,
    args: AdminRoleArgs,
    trust: dict,
    policies: list[dict],
) -> pulumi.Output[str]:
    """StackSets never deploy to the management account:
    https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_DeploymentTargets.html
    Kept on destroy, like the members' (the stacks destroyed after this one still need it)."""
    kept = pulumi.ResourceOptions(parent=parent, retain_on_delete=True)
    role = aws.iam.Role(
        f"{name}-admin-role",
        name=args.admin_role_name,
        description=ROLE_DESCRIPTION,
        assume_role_policy=json.dumps(trust),
        opts=kept,
    )
    for part, document in enumerate(policies, start=1):
        aws.iam.RolePolicy(
            f"{name}-admin-role-policy-{part}",
            name=naming.admin_role_policy_name(args.name_prefix, part),
            role=role.id,
            policy=json.dumps(document),
            opts=kept,
        )
    return role.arn


def _stack_set(
    parent: pulumi.Resource, name: str, args: AdminRoleArgs, body: str, targets: Sequence[str]
) -> aws.cloudformation.StackSet:
    child = pulumi.ResourceOptions(parent=parent)
    stack_set = aws.cloudformation.StackSet(
        f"{name}-admin-role-stack-set",
        name=naming.admin_role_stack_set_name(args.name_prefix),
        description=f"org-logging: {args.admin_role_name} in every member account",
        template_body=body,
        permission_model="SERVICE_MANAGED",
        call_as="SELF",
        # Accounts that join get the role; an account that leaves keeps it.
        auto_deployment={"enabled": True, "retain_stacks_on_account_removal": True},
        capabilities=["CAPABILITY_NAMED_IAM"],
        managed_execution={"active": True},
        operation_preferences=OPERATION_PREFERENCES,
        region=args.home_region,
        opts=child,
    )
    aws.cloudformation.StackSetInstance(
        f"{name}-admin-role-stack-set-instance",
        stack_set_name=stack_set.name,
        deployment_targets={"organizational_unit_ids": list(targets)},
        stack_set_instance_region=args.home_region,
        call_as="SELF",
        operation_preferences=OPERATION_PREFERENCES,
        # Destroy removes the instance but keeps the roles: the log-archive stack, destroyed
        # after this one, is reached through its account's role.
        retain_stack=True,
        opts=child,
    )
    return stack_set
