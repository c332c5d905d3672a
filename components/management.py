"""OrgGuardrails: the management account's organization trail and SCPs (DESIGN §5)."""

from __future__ import annotations

import json
from collections.abc import Sequence

import pulumi
import pulumi_aws as aws

from components import documents, naming
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


def resolve_scp_targets(settings: Settings) -> tuple[str, ...]:
    """`scpTargets`, or the organization root; checks the org matches the config (no guessing)."""
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
            # An alias ARN in another account is accepted:
            # https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_CreateTrail.html
            kms_key_id=naming.kms_alias_arn(
                home, s.log_archive_account_id, naming.key_alias(prefix)
            ),
            region=home,
            opts=child,
        )

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
