"""Small Pulumi programs, like a team's stacks, each good or bad for one policy.

They are real pulumi-aws programs: rendered under mocks, their wire inputs are what the engine
would send the pack. `EXPECTED` says which mandatory policies must (and only those) fire. The
Organizations programs live in team_org_stacks.py (copy both files to use them elsewhere).
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pulumi_aws as aws
from team_org_stacks import (
    org_trail_single_region,
    org_with_both_scps,
    org_with_deny_everything_scp,
    org_with_leave_denied_on_some_resources,
    org_with_notaction_trick,
    org_with_oversized_scp,
    org_with_scps_on_an_ou_only,
    org_with_switched_off_deny,
    org_with_wildcard_exemption,
    org_with_wildcard_scps,
    org_without_scps,
)

ACCOUNT = "333333333333"
REGION = "us-east-1"
LOG_BUCKET = f"acme-logs-{ACCOUNT}-{REGION}"
TERSE = [
    {"name": "log_error_verbosity", "value": "terse"},
    {"name": "log_parameter_max_length", "value": "0"},
    {"name": "log_parameter_max_length_on_error", "value": "0"},
]


# ---- RDS -------------------------------------------------------------------------------------


def rds_postgres_terse() -> None:
    group = aws.rds.ParameterGroup(
        "pg", name="acme-orders-pg16", family="postgres16", parameters=TERSE
    )
    aws.rds.Instance(
        "orders",
        engine="postgres",
        instance_class="db.t4g.micro",
        allocated_storage=20,
        parameter_group_name=group.name,
    )
    cluster_group = aws.rds.ClusterParameterGroup(
        "apg", name="acme-ledger-apg16", family="aurora-postgresql16", parameters=TERSE
    )
    aws.rds.Cluster(
        "ledger", engine="aurora-postgresql", db_cluster_parameter_group_name=cluster_group.name
    )


def rds_postgres_default_group() -> None:
    aws.rds.Instance(
        "orders", engine="postgres", instance_class="db.t4g.micro", allocated_storage=20
    )


def rds_aurora_default_cluster_group() -> None:
    aws.rds.Cluster(
        "ledger",
        engine="aurora-postgresql",
        db_cluster_parameter_group_name="default.aurora-postgresql16",
    )


def rds_postgres_verbose_group() -> None:
    group = aws.rds.ParameterGroup(
        "pg",
        name="acme-orders-pg16",
        family="postgres16",
        parameters=[{"name": "log_error_verbosity", "value": "verbose"}],
    )
    aws.rds.Instance(
        "orders",
        engine="postgres",
        instance_class="db.t4g.micro",
        allocated_storage=20,
        parameter_group_name=group.name,
    )


def rds_mysql_default_group() -> None:
    aws.rds.Instance("shop", engine="mysql", instance_class="db.t4g.micro", allocated_storage=20)
    aws.rds.ParameterGroup("mysql", name="acme-shop-mysql8", family="mysql8.0", parameters=[])


# ---- load balancers, CloudFront, API Gateway, flow logs, log groups ----------------------------


def alb_access_logs_to_log_bucket() -> None:
    aws.lb.LoadBalancer("web", access_logs={"bucket": LOG_BUCKET, "enabled": True})


def alb_access_logs_with_prefix() -> None:
    aws.lb.LoadBalancer(
        "web", access_logs={"bucket": LOG_BUCKET, "prefix": "web-alb", "enabled": True}
    )


def alb_access_logs_elsewhere() -> None:
    aws.lb.LoadBalancer("web", access_logs={"bucket": "team-alb-logs", "enabled": True})


def alb_access_logs_disabled() -> None:
    aws.lb.LoadBalancer("web", access_logs={"bucket": "anything", "enabled": False})


def _distribution(logging_config: dict | None) -> None:
    aws.cloudfront.Distribution(
        "site",
        enabled=True,
        origins=[{"domain_name": "example.com", "origin_id": "web"}],
        default_cache_behavior={
            "allowed_methods": ["GET", "HEAD"],
            "cached_methods": ["GET", "HEAD"],
            "target_origin_id": "web",
            "viewer_protocol_policy": "redirect-to-https",
        },
        restrictions={"geo_restriction": {"restriction_type": "none"}},
        viewer_certificate={"cloudfront_default_certificate": True},
        logging_config=logging_config,
    )


def cloudfront_logs_to_convention() -> None:
    _distribution(
        {"bucket": f"{LOG_BUCKET}.s3.amazonaws.com", "prefix": f"AWSLogs/{ACCOUNT}/CloudFront/"}
    )


def cloudfront_logs_wrong_prefix() -> None:
    _distribution({"bucket": f"{LOG_BUCKET}.s3.amazonaws.com", "prefix": "cloudfront/"})


def api_stage_logs_to_apigateway_group() -> None:
    group = aws.cloudwatch.LogGroup(
        "access", name="/aws/apigateway/orders/prod", retention_in_days=30
    )
    aws.apigateway.Stage(
        "prod",
        rest_api="abc123",
        deployment="dep1",
        stage_name="prod",
        access_log_settings={
            "destination_arn": group.arn,
            "format": '{"requestId":"$context.requestId"}',
        },
    )


def api_stage_without_access_logs() -> None:
    aws.apigateway.Stage("prod", rest_api="abc123", deployment="dep1", stage_name="prod")


def api_stage_logs_to_other_group() -> None:
    aws.apigatewayv2.Stage(
        "prod",
        api_id="abc123",
        name="prod",
        access_log_settings={
            "destination_arn": f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:orders-access",
            "format": "$context.requestId",
        },
    )


def flow_logs_to_log_bucket() -> None:
    aws.ec2.FlowLog(
        "vpc",
        vpc_id="vpc-1",
        traffic_type="ALL",
        log_destination_type="s3",
        log_destination=f"arn:aws:s3:::{LOG_BUCKET}",
    )


def flow_logs_with_path() -> None:
    aws.ec2.FlowLog(
        "vpc",
        vpc_id="vpc-1",
        traffic_type="ALL",
        log_destination_type="s3",
        log_destination=f"arn:aws:s3:::{LOG_BUCKET}/flows/",
    )


def flow_logs_to_cloudwatch() -> None:
    aws.ec2.FlowLog(
        "vpc",
        vpc_id="vpc-1",
        traffic_type="ALL",
        log_destination_type="cloud-watch-logs",
        log_destination="arn:aws:logs:us-east-1:333333333333:log-group:/aws/vpc/flow",
    )


def log_group_service_named() -> None:
    aws.cloudwatch.LogGroup("eks", name="/aws/eks/payments/cluster", retention_in_days=90)


def log_group_unnamed() -> None:
    aws.cloudwatch.LogGroup("app", retention_in_days=90)


# ---- S3 ----------------------------------------------------------------------------------------


def bucket_following_convention() -> None:
    aws.s3.Bucket("data", bucket=f"acme-app-data-{ACCOUNT}-{REGION}")
    aws.s3.BucketV2("legacy", bucket=f"acme-reports-{ACCOUNT}-{REGION}")


def bucket_auto_named() -> None:
    aws.s3.Bucket("data")


def bucket_invalid_name() -> None:
    aws.s3.Bucket("data", bucket="Acme_Data")


def bucket_wrong_region() -> None:
    aws.s3.Bucket("data", bucket=f"acme-app-data-{ACCOUNT}-eu-west-1", region=REGION)


def bucket_reserved_log_purpose() -> None:
    aws.s3.BucketV2("data", bucket=f"acme-logs-extra-{ACCOUNT}-{REGION}")


def replication_keeps_delete_markers() -> None:
    aws.s3.BucketReplicationConfig(
        "copy",
        bucket="acme-app-data-333333333333-us-east-1",
        role="arn:aws:iam::333333333333:role/copy",
        rules=[
            {
                "id": "all",
                "status": "Enabled",
                "filter": {"prefix": ""},
                "delete_marker_replication": {"status": "Enabled"},
                "destination": {"bucket": "arn:aws:s3:::acme-app-copy-444444444444-us-east-1"},
            }
        ],
    )


def replication_into_central_other_prefix() -> None:
    aws.s3.BucketReplicationConfig(
        "sneaky",
        bucket="acme-app-data-333333333333-us-east-1",
        role="arn:aws:iam::333333333333:role/copy",
        rules=[
            {
                "id": "into-archive",
                "status": "Enabled",
                "filter": {"prefix": "AWSLogs/444444444444/"},
                "delete_marker_replication": {"status": "Disabled"},
                "destination": {
                    "bucket": "arn:aws:s3:::acme-org-logs-222222222222-us-east-1",
                    "account": "222222222222",
                    "access_control_translation": {"owner": "Destination"},
                },
            }
        ],
    )


def central_bucket_bare() -> None:
    aws.s3.Bucket("central", bucket="acme-org-logs-222222222222-us-east-1")


# ---- CloudWatch Logs destination -----------------------------------------------------------------


def destination_open_to_everyone() -> None:
    aws.cloudwatch.LogDestinationPolicy(
        "open",
        destination_name="acme-org-logs",
        access_policy=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"AWS": "*"},
                        "Action": "logs:PutSubscriptionFilter",
                        "Resource": "arn:aws:logs:us-east-1:222222222222:destination:acme-org-logs",
                    }
                ],
            }
        ),
    )


# name -> (program, mandatory policies that must fire, and nothing else mandatory)
EXPECTED: dict[str, tuple[Callable[[], None], set[str]]] = {
    "rds_postgres_terse": (rds_postgres_terse, set()),
    "rds_postgres_default_group": (rds_postgres_default_group, {"rds-terse-logging"}),
    "rds_aurora_default_cluster_group": (rds_aurora_default_cluster_group, {"rds-terse-logging"}),
    "rds_postgres_verbose_group": (
        rds_postgres_verbose_group,
        {"rds-terse-logging", "rds-terse-logging-groups"},
    ),
    "rds_mysql_default_group": (rds_mysql_default_group, set()),
    "alb_access_logs_to_log_bucket": (alb_access_logs_to_log_bucket, set()),
    "alb_access_logs_with_prefix": (alb_access_logs_with_prefix, {"log-delivery-prefix"}),
    "alb_access_logs_elsewhere": (alb_access_logs_elsewhere, {"log-delivery-prefix"}),
    "alb_access_logs_disabled": (alb_access_logs_disabled, set()),
    "cloudfront_logs_to_convention": (cloudfront_logs_to_convention, set()),
    "cloudfront_logs_wrong_prefix": (cloudfront_logs_wrong_prefix, {"log-delivery-prefix"}),
    "api_stage_logs_to_apigateway_group": (api_stage_logs_to_apigateway_group, set()),
    "api_stage_without_access_logs": (api_stage_without_access_logs, {"log-delivery-prefix"}),
    "api_stage_logs_to_other_group": (api_stage_logs_to_other_group, {"log-delivery-prefix"}),
    "flow_logs_to_log_bucket": (flow_logs_to_log_bucket, set()),
    "flow_logs_with_path": (flow_logs_with_path, {"log-delivery-prefix"}),
    "flow_logs_to_cloudwatch": (flow_logs_to_cloudwatch, set()),
    "log_group_service_named": (log_group_service_named, set()),
    "log_group_unnamed": (log_group_unnamed, set()),  # advisory only
    "bucket_following_convention": (bucket_following_convention, set()),
    "bucket_auto_named": (bucket_auto_named, {"s3-bucket-naming"}),
    "bucket_invalid_name": (bucket_invalid_name, {"s3-bucket-naming"}),
    "bucket_wrong_region": (bucket_wrong_region, {"s3-bucket-naming"}),
    "bucket_reserved_log_purpose": (bucket_reserved_log_purpose, {"s3-bucket-naming"}),
    "replication_keeps_delete_markers": (
        replication_keeps_delete_markers,
        {"log-replication-preserves-history"},
    ),
    "replication_into_central_other_prefix": (
        replication_into_central_other_prefix,
        {"log-replication-preserves-history"},
    ),
    "central_bucket_bare": (central_bucket_bare, {"central-bucket-hardened"}),
    "destination_open_to_everyone": (destination_open_to_everyone, {"log-destination-org-scoped"}),
    "org_with_both_scps": (org_with_both_scps, set()),
    "org_with_wildcard_scps": (org_with_wildcard_scps, set()),
    "org_without_scps": (org_without_scps, {"scp-presence"}),
    "org_with_notaction_trick": (org_with_notaction_trick, {"scp-presence"}),
    "org_with_switched_off_deny": (org_with_switched_off_deny, {"scp-presence"}),
    "org_with_scps_on_an_ou_only": (org_with_scps_on_an_ou_only, {"scp-presence"}),
    "org_with_oversized_scp": (org_with_oversized_scp, {"scp-size-limit"}),
    "org_trail_single_region": (org_trail_single_region, {"org-trail-hardened", "scp-presence"}),
    "org_with_wildcard_exemption": (org_with_wildcard_exemption, {"scp-presence"}),
    "org_with_deny_everything_scp": (org_with_deny_everything_scp, set()),
    "org_with_leave_denied_on_some_resources": (
        org_with_leave_denied_on_some_resources,
        {"scp-presence"},
    ),
}
