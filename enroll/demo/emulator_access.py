"""Stand-ins for the access rules moto 5.2.5 lacks, installed into the emulator's server
(emulator_server.py): CloudFormation's organizations access for StackSets, and (opt-in) the
rule that an IAM role must exist and trust the caller before STS lets anyone assume it.

StackSets organizations access (DescribeOrganizationsAccess, ActivateOrganizationsAccess):
moto has neither. The state lives in this server process, one flag per organization:
- DescribeOrganizationsAccess says DISABLED until ActivateOrganizationsAccess ran, whatever
  Organizations' list of trusted services holds: enabling the service principal there alone
  leaves service-managed StackSets failing with "You must enable organizations access to
  operate a service managed stack set";
- ActivateOrganizationsAccess works only from the management account, and also enables
  trusted access for member.org.stacksets.cloudformation.amazonaws.com in Organizations:
  https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/stacksets-orgs-activate-trusted-access.html
- disabling that service principal in Organizations turns the access off again.

AssumeRole: moto lets anyone assume any role ARN, existing or not. With the rule on, the role
must exist in the target account (moto's IAM is per account) and its trust policy must let
the caller's account in, as AWS requires; otherwise AccessDenied, AWS's code for both:
https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from moto.cloudformation.responses import CloudFormationResponse
from moto.core.exceptions import AccessDeniedError, ServiceException
from moto.core.responses import ActionResult, EmptyResult
from moto.iam.models import iam_backends
from moto.organizations.models import OrganizationsBackend, organizations_backends
from moto.sts.models import STSBackend

STACKSETS_PRINCIPAL = "member.org.stacksets.cloudformation.amazonaws.com"

# Organization ids whose StackSets organizations access was activated (this process only).
_ACTIVATED: set[str] = set()


class StandInError(ServiceException):
    """An AWS error as moto serializes it for the service's protocol."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(code, message)


def organization_of(account: str) -> Any:
    """The moto organization `account` belongs to, or None."""
    own = organizations_backends[account]["aws"].org
    if own is not None:
        return own
    owner = organizations_backends.master_accounts.get(account)
    if owner is None:
        return None
    return organizations_backends[owner[0]][owner[1]].org


# --------------------------------------------------------------------------------------------
# CloudFormation: StackSets organizations access
# --------------------------------------------------------------------------------------------


def _management_backend(caller: str, operation: str) -> Any:
    """The caller's Organizations backend, if the caller is a management account."""
    organization = organization_of(caller)
    if organization is None or organization.master_account_id != caller:
        # CloudFormation's code for organization-scope refusals (ValidationError, 400).
        raise StandInError(
            "ValidationError",
            f"{operation}: account {caller} is not the management account of an "
            "organization; organizations access for StackSets is managed from there",
        )
    return organizations_backends[caller]["aws"]


def organizations_access(caller: str) -> str:
    """DescribeOrganizationsAccess: ENABLED once activated, else DISABLED."""
    backend = _management_backend(caller, "DescribeOrganizationsAccess")
    return "ENABLED" if backend.org.id in _ACTIVATED else "DISABLED"


def activate_organizations_access(caller: str) -> None:
    backend = _management_backend(caller, "ActivateOrganizationsAccess")
    backend.enable_aws_service_access(ServicePrincipal=STACKSETS_PRINCIPAL)
    _ACTIVATED.add(backend.org.id)


def _deactivating(original: Callable[..., Any]) -> Callable[..., Any]:
    """Disabling the StackSets principal in Organizations turns the access off."""

    def disable_aws_service_access(self: OrganizationsBackend, **kwargs: str) -> None:
        original(self, **kwargs)
        if kwargs.get("ServicePrincipal") == STACKSETS_PRINCIPAL and self.org is not None:
            _ACTIVATED.discard(self.org.id)

    return disable_aws_service_access


def _describe_organizations_access(self: CloudFormationResponse) -> ActionResult:
    return ActionResult({"Status": organizations_access(self.current_account)})


def _activate_organizations_access(self: CloudFormationResponse) -> EmptyResult:
    activate_organizations_access(self.current_account)
    return EmptyResult()


# --------------------------------------------------------------------------------------------
# STS: a role must exist and trust the caller
# --------------------------------------------------------------------------------------------


def _as_list(value: Any) -> list:
    return value if isinstance(value, list) else [value]


def trusts(document: str | dict, caller: str) -> bool:
    """Whether a role's trust policy lets principals of account `caller` assume it (an Allow
    of sts:AssumeRole naming the account, its root, one of its principals' ARNs, or *)."""
    policy = json.loads(document) if isinstance(document, str) else document
    for statement in _as_list(policy.get("Statement", [])):
        actions = {a.lower() for a in _as_list(statement.get("Action", []))}
        if statement.get("Effect") != "Allow" or not actions & {"sts:assumerole", "sts:*", "*"}:
            continue
        principal = statement.get("Principal", {})
        names = ["*"] if principal == "*" else _as_list(principal.get("AWS", []))
        if any(name == "*" or name == caller or f":{caller}:" in name for name in names):
            return True
    return False


def may_assume(caller: str, role_arn: str) -> bool:
    """Whether account `caller` may assume `role_arn`: it exists and trusts the caller."""
    parts = role_arn.split(":")
    if len(parts) < 6 or not parts[5].startswith("role/"):
        return True  # moto's own validation answers malformed ARNs
    account, partition, name = parts[4], parts[1], parts[5].rsplit("/", 1)[-1]
    roles = iam_backends[account][partition].roles.values()
    role = next((r for r in roles if r.name == name), None)
    return role is not None and trusts(role.assume_role_policy_document, caller)


def _enforcing(original: Callable[..., Any]) -> Callable[..., Any]:
    def assume_role(self: STSBackend, **kwargs: Any) -> Any:
        role_arn = kwargs.get("role_arn") or ""
        if not may_assume(self.account_id, role_arn):
            # AWS's words and status (403) for a role that is missing or does not trust you.
            raise AccessDeniedError(
                user_arn=f"arn:{self.partition}:iam::{self.account_id}:root",
                action=f"sts:AssumeRole on resource: {role_arn}",
            )
        return original(self, **kwargs)

    return assume_role


def install(*, enforce_role_trust: bool) -> None:
    """Add the organizations access operations to moto's CloudFormation, and, if asked, the
    AssumeRole rule to moto's STS."""
    CloudFormationResponse.describe_organizations_access = _describe_organizations_access
    CloudFormationResponse.activate_organizations_access = _activate_organizations_access
    OrganizationsBackend.disable_aws_service_access = _deactivating(
        OrganizationsBackend.disable_aws_service_access
    )
    if enforce_role_trust and not getattr(STSBackend.assume_role, "enforcing", False):
        STSBackend.assume_role = _enforcing(STSBackend.assume_role)
        STSBackend.assume_role.enforcing = True
