"""OrgGuardrails: the management account's organization trail and SCPs, the rule that
watches the trail, and adminRoleName in every account (docs/architecture.md, "Roles")."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components import naming
from components.bootstrap import AdminRoleArgs, admin_roles
from components.contract import NAMESPACE
from components.documents.alerts import (
    trail_changes,
)
from components.documents.scp import deny_leave_scp, protect_logging_scp
from components.forwarding import forward_to_alert_bus
from components.outputs import as_dict
from components.settings import Settings
from components.telemetry import register_telemetry_rules
from policy import conventions
from policy.conventions import SCP_MAX_CHARS, SCP_MAX_PER_TARGET


class OrganizationMismatch(pulumi.RunError):
    """The organization the credentials see is not the one the config describes."""


def minified(document: dict) -> str:
    """SCP content as AWS counts it against the 5,120-character limit."""
    return json.dumps(document, separators=(",", ":"))


def check_scp_size(name: str, content: str) -> None:
    if len(content) > SCP_MAX_CHARS:
        raise pulumi.RunError(
            f"SCP {name} is {len(content)} characters minified; AWS allows {SCP_MAX_CHARS}"
        )


CLOUDTRAIL_PRINCIPAL = naming.service_principal("cloudtrail")


def check_trusted_access(org: aws.organizations.GetOrganizationResult) -> None:
    """An organization trail needs trusted access between CloudTrail and Organizations, or
    CreateTrail fails with CloudTrailAccessNotEnabledException:
    https://docs.aws.amazon.com/organizations/latest/userguide/services-that-can-integrate-cloudtrail.html
    """
    if CLOUDTRAIL_PRINCIPAL not in (org.aws_service_access_principals or []):
        raise OrganizationMismatch(
            f"trusted access for CloudTrail ({CLOUDTRAIL_PRINCIPAL}) is not enabled in "
            f"organization {org.id}, so the organization trail cannot be created; enable it with "
            f"`aws organizations enable-aws-service-access --service-principal "
            f"{CLOUDTRAIL_PRINCIPAL}`"
        )


def resolve_scp_targets(settings: OrgGuardrailsArgs) -> tuple[str, ...]:
    """`scpTargets`, or the organization root; checks the org matches the config (no guessing)
    and that it can hold an organization trail."""
    org = aws.organizations.get_organization()
    if org.id != settings.org_id:
        raise OrganizationMismatch(
            f"{NAMESPACE}:orgId {settings.org_id!r} does not match the organization of these "
            f"credentials ({org.id!r}); run the management stack in that organization's "
            "management account"
        )
    if org.master_account_id != settings.management_account_id:
        raise OrganizationMismatch(
            f"{NAMESPACE}:managementAccountId {settings.management_account_id!r} does not match "
            f"the organization's management account ({org.master_account_id!r})"
        )
    check_trusted_access(org)
    if settings.scp_targets:
        return settings.scp_targets
    if not org.roots:
        raise OrganizationMismatch(f"organization {org.id} reports no root to attach SCPs to")
    root = org.roots[0]
    enabled = {p.type for p in (root.policy_types or []) if p.status == "ENABLED"}
    if "SERVICE_CONTROL_POLICY" not in enabled:
        raise OrganizationMismatch(
            f"service control policies are not enabled on root {root.id}; enable them with "
            f"`aws organizations enable-policy-type --root-id {root.id} "
            "--policy-type SERVICE_CONTROL_POLICY`"
        )
    return (root.id,)


def check_scp_quota(targets: Sequence[str], our_names: Sequence[str]) -> None:
    """Fail before deploying if attaching ours would pass the 5-SCPs-per-target quota."""
    for target in targets:
        attached = aws.organizations.get_policies_for_target(
            target_id=target, filter="SERVICE_CONTROL_POLICY"
        ).ids
        others = [
            policy_id
            for policy_id in attached
            if aws.organizations.get_policy(policy_id=policy_id).name not in our_names
        ]
        if len(others) + len(our_names) > SCP_MAX_PER_TARGET:
            raise pulumi.RunError(
                f"target {target} already has {len(others)} other SCPs attached; adding "
                f"{len(our_names)} would pass the AWS quota of {SCP_MAX_PER_TARGET} per "
                f"target. Detach one, or set {NAMESPACE}:scpTargets to OUs with room"
            )


@dataclass(frozen=True)
class OrgGuardrailsArgs:
    """What the management stack uses of the settings."""

    name_prefix: str
    org_id: str
    management_account_id: str
    log_archive_account_id: str
    home_region: str
    admin_role_name: str
    scp_targets: tuple[str, ...] = ()
    deployer_role_arns: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    telemetry_rules: tuple[str, ...] = ()
    bootstrap: bool = False

    @classmethod
    def from_settings(cls, s: Settings) -> OrgGuardrailsArgs:
        return cls(
            name_prefix=s.name_prefix,
            org_id=s.org_id,
            management_account_id=s.management_account_id,
            log_archive_account_id=s.log_archive_account_id,
            home_region=s.home_region,
            admin_role_name=s.admin_role_name,
            scp_targets=s.scp_targets,
            deployer_role_arns=s.deployer_role_arns,
            regions=s.regions,
            telemetry_rules=s.telemetry_rules,
            bootstrap=s.bootstrap,
        )

    @property
    def central_bucket(self) -> str:
        return conventions.central_bucket_name(
            self.name_prefix, self.log_archive_account_id, self.home_region
        )

    @property
    def admin_role(self) -> AdminRoleArgs:
        return AdminRoleArgs(
            name_prefix=self.name_prefix,
            management_account_id=self.management_account_id,
            home_region=self.home_region,
            admin_role_name=self.admin_role_name,
            deployer_role_arns=self.deployer_role_arns,
        )


@dataclass(frozen=True)
class OrgGuardrailsOutputs:
    trail_arn: pulumi.Output[str] | None  # None in a bootstrap run
    scp_ids: dict[str, pulumi.Output[str]]
    scp_targets: list[str]
    # adminRoleName: the management account's role, the StackSet that creates it in every
    # member account under its targets (none in aws-cn), who may assume it, and its template.
    admin_role_arn: pulumi.Output[str]
    admin_role_stack_set_name: pulumi.Output[str] | None
    admin_role_stack_set_targets: list[str]
    deployer_role_arns: list[str]
    admin_role_template: str


class OrgGuardrails(pulumi.ComponentResource):
    """The organization trail into the central bucket, and the SCPs that keep logs flowing."""

    outputs: OrgGuardrailsOutputs

    def __init__(
        self, name: str, args: OrgGuardrailsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("org-logging:management:OrgGuardrails", name, None, opts)
        self._name, self._args = name, args
        scps = self._scp_documents()
        # Every check runs before the first resource is registered.
        targets = resolve_scp_targets(args)
        check_scp_quota(targets, [scp_name for scp_name, _, _ in scps.values()])
        roles = admin_roles(self, name, args.admin_role, targets)
        # The trail writes into the log archive with its key: `up --bootstrap` creates
        # adminRoleName (which deploys the log-archive stack) and the SCPs before it exists.
        trail_arn = None if args.bootstrap else self._watched_trail()
        register_telemetry_rules(
            self,
            name,
            prefix=args.name_prefix,
            home_region=args.home_region,
            regions=args.regions,
            kinds=args.telemetry_rules,
        )
        self.outputs = OrgGuardrailsOutputs(
            trail_arn=trail_arn,
            scp_ids=self._scps(scps, targets),
            scp_targets=list(targets),
            admin_role_arn=roles.role_arn,
            admin_role_stack_set_name=roles.stack_set_name,
            admin_role_stack_set_targets=roles.stack_set_targets,
            deployer_role_arns=roles.deployer_role_arns,
            admin_role_template=roles.template,
        )
        self.register_outputs(as_dict(self.outputs))

    def _watched_trail(self) -> pulumi.Output[str]:
        """The organization trail, and the rule that forwards its changes to the alert bus."""
        args = self._args
        trail = self._trail()
        forward_to_alert_bus(
            self,
            f"{self._name}-trail",
            prefix=args.name_prefix,
            account=args.management_account_id,
            region=args.home_region,
            home_region=args.home_region,
            log_archive_account=args.log_archive_account_id,
            rule_name=naming.trail_detection_rule_name(args.name_prefix),
            forwarder="trail",
            description="org-logging: a trail was stopped, deleted or changed in the management "
            "account (its SCPs do not apply there)",
            pattern=trail_changes(),
        )
        return trail.arn

    def _scp_documents(self) -> dict[str, tuple[str, str, str]]:
        """Each SCP's name, description and minified content, checked against AWS's size."""
        args, prefix = self._args, self._args.name_prefix
        scps = {
            "deny-leave": (
                naming.scp_deny_leave_name(prefix),
                "org-logging: no account may leave the organization",
                deny_leave_scp(),
            ),
            "protect-logging": (
                naming.scp_protect_logging_name(prefix),
                f"org-logging: only {args.admin_role_name} may stop, redirect or delete logs",
                protect_logging_scp(
                    region=args.home_region,
                    name_prefix=prefix,
                    admin_role_name=args.admin_role_name,
                ),
            ),
        }
        contents = {}
        for key, (scp_name, description, document) in scps.items():
            content = minified(document)
            check_scp_size(scp_name, content)
            contents[key] = (scp_name, description, content)
        return contents

    def _trail(self) -> aws.cloudtrail.Trail:
        args = self._args
        return aws.cloudtrail.Trail(
            f"{self._name}-org-trail",
            name=naming.trail_name(args.name_prefix),
            s3_bucket_name=args.central_bucket,
            is_organization_trail=True,
            is_multi_region_trail=True,
            include_global_service_events=True,
            enable_log_file_validation=True,
            enable_logging=True,
            # CloudTrail stores the key ARN: an alias here would show a diff on every update.
            kms_key_id=central_key_arn(args),
            region=args.home_region,
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _scps(
        self, scps: dict[str, tuple[str, str, str]], targets: tuple[str, ...]
    ) -> dict[str, pulumi.Output[str]]:
        ids = {}
        for key, (scp_name, description, content) in scps.items():
            scp = aws.organizations.Policy(
                f"{self._name}-scp-{key}",
                name=scp_name,
                description=description,
                type="SERVICE_CONTROL_POLICY",
                content=content,
                opts=pulumi.ResourceOptions(parent=self),
            )
            for target in targets:
                aws.organizations.PolicyAttachment(
                    f"{self._name}-scp-{key}-{target}",
                    policy_id=scp.id,
                    target_id=target,
                    opts=pulumi.ResourceOptions(parent=self),
                )
            ids[key] = scp.id
        return ids


def central_key_arn(args: OrgGuardrailsArgs) -> pulumi.Output[str]:
    """The ARN of the log archive's key, looked up by its alias (the key policy lets the
    management account describe it). Before the log-archive stack has created it, a preview
    shows it as unknown, like any output of a resource yet to be created; an update fails."""
    alias_arn = naming.kms_alias_arn(
        args.home_region, args.log_archive_account_id, naming.key_alias(args.name_prefix)
    )
    try:
        key = aws.kms.get_key(key_id=alias_arn, region=args.home_region)
    except Exception as error:
        if pulumi.runtime.is_dry_run():
            return pulumi.Output(set(), _value(None), _value(False))  # unknown
        raise pulumi.RunError(
            f"the central key {alias_arn} cannot be described ({error}); deploy the "
            "log-archive stack first"
        ) from None
    return pulumi.Output.from_input(key.arn)


async def _value(value: object) -> object:
    return value
