"""Build the one component of a stack's role and export what other stacks and teams need."""

from __future__ import annotations

import pulumi

from components.log_archive import LogArchive
from components.management import OrgGuardrails
from components.settings import Settings
from components.source_account import SourceAccountLogging


def deploy(settings: Settings) -> None:
    if settings.role == "log-archive":
        archive = LogArchive("log-archive", settings)
        pulumi.export("centralBucketName", archive.central_bucket_name)
        pulumi.export("centralBucketArn", archive.central_bucket_arn)
        pulumi.export("accessLogBucketName", archive.access_log_bucket_name)
        pulumi.export("kmsKeyArn", archive.kms_key_arn)
        pulumi.export("firehoseArns", archive.firehose_arns)
        pulumi.export("destinationArns", archive.destination_arns)
        pulumi.export("alertBusArn", archive.alert_bus_arn)
        pulumi.export("alertTopicArn", archive.alert_topic_arn)
        pulumi.export("excludedLogGroups", archive.excluded_log_groups)
    elif settings.role == "management":
        guardrails = OrgGuardrails("management", settings)
        pulumi.export("trailArn", guardrails.trail_arn)
        pulumi.export("scpIds", guardrails.scp_ids)
        pulumi.export("scpTargets", list(guardrails.scp_targets))
    else:
        source = SourceAccountLogging(f"source-{settings.region}", settings)
        pulumi.export("logBucketName", source.log_bucket_name)
        pulumi.export("logBucketArn", source.log_bucket_arn)
        pulumi.export("deliveryConventions", source.delivery_conventions)
        pulumi.export("destinationArn", source.destination_arn)
        pulumi.export("replicationRoleArn", source.replication_role_arn)
        pulumi.export("excludedLogGroups", list(source.excluded_log_groups))
