"""OrgGuardrails: the management account's organization trail and SCPs (DESIGN §5)."""

from __future__ import annotations

import json
from collections.abc import Sequence

import pulumi
import pulumi_aws as aws

from components import documents, naming
from components.roles import service_role
from components.settings import NAMESPACE, Settings


class OrganizationMismatch(pulumi.RunError):
    """The organization the credentials see is not the one the config describes."""


def minified(document: dict) -> str:
    """SCP content as AWS counts it against the 5,120-character limit."""
    return json.dumps(document, separators=(",", ":"))


def check_scp_size(name: str, content: str) -> None:
    if len(content) > documents.SCP_MAX_CHARS:
        raise pulumi.RunError(
            f"SCP {name} is {len(content)} characters minified; "
            f"AWS allows {documents.SCP_MAX_CHARS}"
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


def resolve_scp_targets(settings: Settings) -> tuple[str, ...]:
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
        if len(others) + len(our_names) > documents.SCP_MAX_PER_TARGET:
            raise pulumi.RunError(
                f"target {target} already has {len(others)} other SCPs attached; adding "
                f"{len(our_names)} would pass the AWS quota of {documents.SCP_MAX_PER_TARGET} per "
                f"target. Detach one, or set {NAMESPACE}:scpTargets to OUs with room"
            )


class OrgGuardrails(pulumi.ComponentResource):
    """The organization trail into the central bucket, and the SCPs that keep logs flowing."""

    trail_arn: pulumi.Output[str]
    scp_ids: dict[str, pulumi.Output[str]]
    scp_targets: tuple[str, ...]

    def __init__(
        self, name: str, args: Settings, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("org-logging:management:OrgGuardrails", name, None, opts)
        s = args
        home = s.home_region
        prefix = s.name_prefix
        child = pulumi.ResourceOptions(parent=self)

        scps = {
            "deny-leave": (
                naming.scp_deny_leave_name(prefix),
                "org-logging: no account may leave the organization",
                documents.deny_leave_scp(),
            ),
            "protect-logging": (
                naming.scp_protect_logging_name(prefix),
                f"org-logging: only {s.admin_role_name} may stop, redirect or delete logs",
                documents.protect_logging_scp(
                    region=home, name_prefix=prefix, admin_role_name=s.admin_role_name
                ),
            ),
        }
        # Every check runs before the first resource is registered.
        contents = {key: minified(document) for key, (_, _, document) in scps.items()}
        for key, content in contents.items():
            check_scp_size(scps[key][0], content)
        self.scp_targets = resolve_scp_targets(s)
        check_scp_quota(self.scp_targets, [scp_name for scp_name, _, _ in scps.values()])

        trail = aws.cloudtrail.Trail(
            f"{name}-org-trail",
            name=naming.trail_name(prefix),
            s3_bucket_name=s.central_bucket,
            is_organization_trail=True,
            is_multi_region_trail=True,
            include_global_service_events=True,
            enable_log_file_validation=True,
            enable_logging=True,
            # CloudTrail stores the key ARN: an alias here would show a diff on every update.
            kms_key_id=central_key_arn(s),
            region=home,
            opts=child,
        )
        self._trail_detection(name, s)

        self.scp_ids = {}
        for key, (scp_name, description, _) in scps.items():
            scp = aws.organizations.Policy(
                f"{name}-scp-{key}",
                name=scp_name,
                description=description,
                type="SERVICE_CONTROL_POLICY",
                content=contents[key],
                opts=child,
            )
            for target in self.scp_targets:
                aws.organizations.PolicyAttachment(
                    f"{name}-scp-{key}-{target}",
                    policy_id=scp.id,
                    target_id=target,
                    opts=child,
                )
            self.scp_ids[key] = scp.id

        self.trail_arn = trail.arn
        self.register_outputs(
            {"trail_arn": self.trail_arn, "scp_ids": self.scp_ids, "scp_targets": self.scp_targets}
        )

    def _trail_detection(self, name: str, s: Settings) -> None:
        """SCPs do not bind the management account, where the trail lives: an admin there can
        stop or narrow it. This rule tells the central alert bus when anyone does."""
        home, prefix, account = s.home_region, s.name_prefix, s.management_account_id
        rule_name = naming.trail_detection_rule_name(prefix)
        central_bus_arn = naming.events_bus_arn(
            home, s.log_archive_account_id, naming.alert_bus_name(prefix)
        )
        forwarder_role, forwarder_policy = service_role(
            self,
            f"{name}-trail-alert-forwarder",
            name=naming.alert_forwarder_role_name(prefix, "trail"),
            trust=documents.alert_forwarder_trust_policy(
                account=account, rule_arn=naming.events_rule_arn(home, account, rule_name)
            ),
            policy=documents.alert_forwarder_policy(central_bus_arn),
        )
        rule = aws.cloudwatch.EventRule(
            f"{name}-trail-detection",
            name=rule_name,
            description="org-logging: a trail was stopped, deleted or changed in the management "
            "account (its SCPs do not apply there)",
            event_pattern=json.dumps(documents.trail_changes()),
            region=home,
            opts=pulumi.ResourceOptions(parent=self),
        )
        aws.cloudwatch.EventTarget(
            f"{name}-trail-detection-to-central-bus",
            rule=rule.name,
            arn=central_bus_arn,
            role_arn=forwarder_role.arn,
            region=home,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[forwarder_policy]),
        )


def central_key_arn(s: Settings) -> pulumi.Output[str]:
    """The ARN of the log archive's key, looked up by its alias (the key policy lets the
    management account describe it). Before the log-archive stack has created it, a preview
    shows it as unknown, like any output of a resource yet to be created; an update fails."""
    alias_arn = naming.kms_alias_arn(
        s.home_region, s.log_archive_account_id, naming.key_alias(s.name_prefix)
    )
    try:
        return pulumi.Output.from_input(aws.kms.get_key(key_id=alias_arn, region=s.home_region).arn)
    except Exception as error:
        if pulumi.runtime.is_dry_run():
            return pulumi.Output(set(), _value(None), _value(False))  # unknown
        raise pulumi.RunError(
            f"the central key {alias_arn} cannot be described ({error}); deploy the "
            "log-archive stack first"
        ) from None


async def _value(value: object) -> object:
    return value
