"""Delivery, alerts, the reader role and the telemetry rules: each builder called directly,
compared whole (Effect included) with what the AWS documentation asks for. Rendering a stack
checks that the documents reach their resources (test_log_archive*.py, test_management.py);
these pin the documents themselves, in milliseconds, so a mutation tool can check every
builder quickly. AWS's limits are written as numbers, never taken from the module under test.
"""

from __future__ import annotations

from document_literals import (
    CENTRAL,
    CENTRAL_ARN,
    LOG_ARCHIVE,
    MEMBER,
    ORG_ID,
    REGION,
    SOURCE,
)
from expected import (
    trusted_service,
)

from components.documents import (
    alerts,
    delivery,
    grammar,
    reader,
    telemetry,
)

# ---- delivery --------------------------------------------------------------------------------

MEMBER_BUCKET_ARN = "arn:aws:s3:::acme-logs-333333333333-eu-west-1"


def test_replication_is_assumed_by_s3_for_the_source_bucket_only():
    assert delivery.replication_trust_policy(
        region="eu-west-1", account=MEMBER, bucket="acme-logs-333333333333-eu-west-1"
    ) == grammar.policy(
        trusted_service(
            "s3.amazonaws.com",
            {
                "StringEquals": {"aws:SourceAccount": MEMBER},
                "ArnLike": {"aws:SourceArn": MEMBER_BUCKET_ARN},
            },
        )
    )


def test_replication_reads_its_prefix_and_replicates_into_the_same_prefix():
    # https://docs.aws.amazon.com/AmazonS3/latest/userguide/setting-repl-config-perm-overview.html
    assert delivery.replication_policy(
        region="eu-west-1",
        bucket="acme-logs-333333333333-eu-west-1",
        account=MEMBER,
        home_region=REGION,
        central_bucket=CENTRAL,
    ) == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ReadReplicationConfiguration",
                "Effect": "Allow",
                "Action": ["s3:GetReplicationConfiguration", "s3:ListBucket"],
                "Resource": MEMBER_BUCKET_ARN,
            },
            {
                "Sid": "ReadSourceVersions",
                "Effect": "Allow",
                "Action": [
                    "s3:GetObjectVersionForReplication",
                    "s3:GetObjectVersionAcl",
                    "s3:GetObjectVersionTagging",
                ],
                "Resource": f"{MEMBER_BUCKET_ARN}/AWSLogs/333333333333/*",
            },
            {
                "Sid": "ReplicateIntoOwnPrefix",
                "Effect": "Allow",
                "Action": [
                    "s3:ReplicateObject",
                    "s3:ReplicateTags",
                    "s3:ObjectOwnerOverrideToBucketOwner",
                ],
                "Resource": f"{CENTRAL_ARN}/AWSLogs/333333333333/*",
            },
            {
                "Sid": "CheckDestinationVersioning",
                "Effect": "Allow",
                "Action": "s3:GetBucketVersioning",
                "Resource": CENTRAL_ARN,
            },
        ],
    }


def test_the_subscription_role_is_assumed_by_logs_of_its_account_and_region():
    # https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/CreateSubscriptionFilter-IAMrole.html
    assert delivery.subscription_trust_policy(region="eu-west-1", account=MEMBER) == grammar.policy(
        trusted_service(
            "logs.amazonaws.com",
            {
                "StringEquals": {"aws:SourceAccount": MEMBER},
                "ArnLike": {"aws:SourceArn": "arn:aws:logs:eu-west-1:333333333333:*"},
            },
        )
    )
    assert delivery.subscription_role_policy(region="eu-west-1", account=MEMBER) == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ValidateOrgSubscription",
                "Effect": "Allow",
                "Action": "logs:PutLogEvents",
                "Resource": "arn:aws:logs:eu-west-1:333333333333:log-group:*",
            }
        ],
    }


def test_the_account_subscription_sends_every_event_randomly_distributed():
    # https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutAccountPolicy.html
    assert delivery.subscription_filter_policy(destination_arn="D", role_arn="R") == {
        "DestinationArn": "D",
        "RoleArn": "R",
        "FilterPattern": "",
        "Distribution": "Random",
    }


def test_excluded_log_groups_become_one_sorted_not_in_criterion():
    assert delivery.selection_criteria([]) is None
    assert delivery.selection_criteria(()) is None
    assert delivery.selection_criteria(["/b", "/a", "/b"]) == 'LogGroupName NOT IN ["/a", "/b"]'


def test_firehose_is_trusted_with_the_account_as_external_id_and_writes_two_prefixes():
    # https://docs.aws.amazon.com/firehose/latest/dev/controlling-access.html#using-iam-s3
    assert delivery.firehose_trust_policy(LOG_ARCHIVE) == grammar.policy(
        trusted_service("firehose.amazonaws.com", {"StringEquals": {"sts:ExternalId": LOG_ARCHIVE}})
    )
    assert delivery.firehose_delivery_policy(
        region=REGION, bucket=CENTRAL, key_arn="KEY", log_group_arn="GROUP"
    ) == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "BucketLocation",
                "Effect": "Allow",
                "Action": [
                    "s3:GetBucketLocation",
                    "s3:ListBucket",
                    "s3:ListBucketMultipartUploads",
                ],
                "Resource": CENTRAL_ARN,
            },
            {
                "Sid": "WriteCloudWatchLogsPrefixes",
                "Effect": "Allow",
                "Action": ["s3:AbortMultipartUpload", "s3:PutObject"],
                "Resource": [f"{CENTRAL_ARN}/CloudWatchLogs/*", f"{CENTRAL_ARN}/FirehoseErrors/*"],
            },
            {
                "Sid": "EncryptWithCentralKey",
                "Effect": "Allow",
                "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
                "Resource": "KEY",
                "Condition": {
                    "StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"},
                    "StringLike": {
                        "kms:EncryptionContext:aws:s3:arn": [CENTRAL_ARN, f"{CENTRAL_ARN}/*"]
                    },
                },
            },
            {
                "Sid": "ReportDeliveryErrors",
                "Effect": "Allow",
                "Action": "logs:PutLogEvents",
                "Resource": "GROUP",
            },
        ],
    }


def test_the_destination_role_is_assumed_by_logs_for_the_organization_in_each_region():
    # https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/Subscriptions-confused-deputy.html
    assert delivery.destination_trust_policy(REGION, ["us-east-1", "eu-west-1"], ORG_ID) == (
        grammar.policy(
            trusted_service(
                "logs.amazonaws.com",
                {
                    "StringLike": {
                        "aws:SourceArn": [
                            "arn:aws:logs:us-east-1:*:*",
                            "arn:aws:logs:eu-west-1:*:*",
                        ]
                    },
                    "StringEquals": {"aws:SourceOrgID": ORG_ID},
                },
            )
        )
    )
    assert delivery.destination_delivery_policy(["F1", "F2"]) == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "PutIntoCentralFirehose",
                "Effect": "Allow",
                "Action": ["firehose:PutRecord", "firehose:PutRecordBatch"],
                "Resource": ["F1", "F2"],
            }
        ],
    }


SUBSCRIBE = ["logs:PutSubscriptionFilter", "logs:PutAccountPolicy"]


def test_the_destination_accepts_the_organization_or_its_listed_accounts():
    # https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/Cross-Account-Log_Subscription-Update-policy-Account.html
    assert delivery.destination_access_policy("DEST", ORG_ID) == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AllowOrgSubscriptions",
                "Effect": "Allow",
                "Principal": {"AWS": "*"},
                "Action": SUBSCRIBE,
                "Resource": "DEST",
                "Condition": {"StringEquals": {"aws:PrincipalOrgID": ORG_ID}},
            }
        ],
    }
    assert delivery.destination_access_policy("DEST", ORG_ID, [MEMBER, LOG_ARCHIVE]) == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AllowMemberAccountSubscriptions",
                "Effect": "Allow",
                "Principal": {"AWS": [LOG_ARCHIVE, MEMBER]},
                "Action": SUBSCRIBE,
                "Resource": "DEST",
            }
        ],
    }
    assert delivery.destination_access_policy("DEST", ORG_ID, []) == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AllowMemberAccountSubscriptions",
                "Effect": "Allow",
                "Principal": {"AWS": []},
                "Action": SUBSCRIBE,
                "Resource": "DEST",
            }
        ],
    }


def test_an_aws_cn_destination_policy_grows_by_each_account_id_it_names():
    """Measured minified: 279 bytes with no account, each further id is 12 digits, 2 quotes
    and a comma (the first needs no comma)."""
    assert delivery.destination_policy_bytes([]) == 279
    assert delivery.destination_policy_bytes([MEMBER]) == 279 + 14
    assert delivery.destination_policy_bytes([MEMBER, LOG_ARCHIVE]) == 279 + 14 + 15


def test_the_most_accounts_a_destination_policy_holds_fit_in_5120_bytes_and_one_more_does_not():
    # PutDestinationPolicy takes at most 5,120 bytes:
    # https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutDestinationPolicy.html
    most = delivery.max_destination_policy_accounts()
    assert most == 322
    assert delivery.destination_policy_bytes([f"{i:012d}" for i in range(most)]) <= 5120
    assert delivery.destination_policy_bytes([f"{i:012d}" for i in range(most + 1)]) > 5120


# ---- alerts ----------------------------------------------------------------------------------


def cloudtrail_calls(service_name: str, events: list[str], **request: list[str]) -> dict:
    """An EventBridge pattern for CloudTrail management events:
    https://docs.aws.amazon.com/eventbridge/latest/ref/events-ref-cloudtrail.html"""
    detail: dict = {"eventSource": [f"{service_name}.amazonaws.com"], "eventName": events}
    if request:
        detail["requestParameters"] = request
    return {
        "source": [f"aws.{service_name}"],
        "detail-type": ["AWS API Call via CloudTrail"],
        "detail": detail,
    }


REPLICATION_CHANGES = cloudtrail_calls("s3", ["PutBucketReplication", "DeleteBucketReplication"])
BUCKET_EVENTS = [
    "PutBucketPolicy",
    "DeleteBucketPolicy",
    "PutBucketLifecycle",
    "DeleteBucketLifecycle",
    "PutBucketVersioning",
    "PutBucketEncryption",
    "DeleteBucketEncryption",
    "PutObjectLockConfiguration",
    "PutBucketOwnershipControls",
    "PutBucketPublicAccessBlock",
    "DeleteBucketPublicAccessBlock",
]
ACCOUNT_POLICY_CHANGES = cloudtrail_calls("logs", ["PutAccountPolicy", "DeleteAccountPolicy"])
ALARM_CHANGES = {
    "source": ["aws.cloudwatch"],
    "detail-type": ["CloudWatch Alarm State Change"],
    "detail": {"alarmName": [{"prefix": "acme-logging-"}]},
}


def test_a_member_forwards_replication_bucket_subscription_and_its_own_alarm_changes():
    assert alerts.source_detection_pattern(SOURCE, ["acme-logging-b", "acme-logging-a"]) == {
        "$or": [
            REPLICATION_CHANGES,
            cloudtrail_calls("s3", BUCKET_EVENTS, bucketName=[SOURCE]),
            ACCOUNT_POLICY_CHANGES,
            {
                "source": ["aws.cloudwatch"],
                "detail-type": ["CloudWatch Alarm State Change"],
                "detail": {"alarmName": ["acme-logging-a", "acme-logging-b"]},
            },
        ]
    }


def test_the_archive_watches_its_buckets_and_its_key():
    assert alerts.archive_detection_pattern(["b1", "b2"]) == {
        "$or": [
            cloudtrail_calls("s3", BUCKET_EVENTS, bucketName=["b1"]),
            cloudtrail_calls("s3", BUCKET_EVENTS, bucketName=["b2"]),
            cloudtrail_calls(
                "kms",
                [
                    "PutKeyPolicy",
                    "ScheduleKeyDeletion",
                    "DisableKey",
                    "DisableKeyRotation",
                    "UpdateAlias",
                    "DeleteAlias",
                ],
            ),
        ]
    }


def test_the_central_rule_hears_every_forwarded_change_and_the_trail():
    assert alerts.central_alert_pattern("acme") == {
        "$or": [
            REPLICATION_CHANGES,
            cloudtrail_calls("s3", BUCKET_EVENTS),
            ACCOUNT_POLICY_CHANGES,
            cloudtrail_calls(
                "cloudtrail",
                [
                    "StopLogging",
                    "DeleteTrail",
                    "UpdateTrail",
                    "PutEventSelectors",
                    "PutInsightSelectors",
                ],
            ),
            ALARM_CHANGES,
            # https://docs.aws.amazon.com/AmazonS3/latest/userguide/ev-events.html
            {
                "source": ["aws.s3"],
                "detail-type": ["Object Created"],
                "detail": {"object": {"key": [{"prefix": "FirehoseErrors/"}]}},
            },
        ]
    }


def test_one_pattern_needs_no_or():
    assert alerts.any_of(ALARM_CHANGES) == ALARM_CHANGES
    assert alerts.any_of(ALARM_CHANGES, REPLICATION_CHANGES) == {
        "$or": [ALARM_CHANGES, REPLICATION_CHANGES]
    }


def test_only_the_organizations_forwarder_roles_put_events_on_the_alert_bus():
    assert alerts.alert_forwarder_pattern(REGION, "acme") == (
        "arn:aws:iam::*:role/acme-logging-alert-forwarder-*"
    )
    assert alerts.alert_bus_policy("BUS", ORG_ID, region=REGION, name_prefix="acme") == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AllowOrgForwardersPutEvents",
                "Effect": "Allow",
                "Principal": {"AWS": "*"},
                "Action": "events:PutEvents",
                "Resource": "BUS",
                "Condition": {
                    "StringEquals": {"aws:PrincipalOrgID": ORG_ID},
                    "ArnLike": {
                        "aws:PrincipalArn": "arn:aws:iam::*:role/acme-logging-alert-forwarder-*"
                    },
                },
            }
        ],
    }


def test_the_alert_topic_takes_only_the_alert_rules_over_tls():
    # https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-use-resource-based.html#eb-sns-permissions
    assert alerts.alert_topic_policy("TOPIC", ["RULE"]) == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AllowAlertRulePublish",
                "Effect": "Allow",
                "Principal": {"Service": "events.amazonaws.com"},
                "Action": "sns:Publish",
                "Resource": "TOPIC",
                "Condition": {"ArnEquals": {"aws:SourceArn": ["RULE"]}},
            },
            {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": {"AWS": "*"},
                "Action": "sns:Publish",
                "Resource": "TOPIC",
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            },
        ],
    }


def test_the_forwarder_role_is_assumed_by_its_rule_and_puts_on_the_central_bus_only():
    assert alerts.alert_forwarder_trust_policy(account=MEMBER, rule_arn="RULE") == grammar.policy(
        trusted_service(
            "events.amazonaws.com",
            {"StringEquals": {"aws:SourceAccount": MEMBER}, "ArnEquals": {"aws:SourceArn": "RULE"}},
        )
    )
    assert alerts.alert_forwarder_policy("CENTRAL_BUS") == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ForwardToCentralBus",
                "Effect": "Allow",
                "Action": "events:PutEvents",
                "Resource": "CENTRAL_BUS",
            }
        ],
    }


def test_every_bucket_is_watched_when_no_bucket_is_named():
    assert alerts.log_bucket_changes() == cloudtrail_calls("s3", BUCKET_EVENTS)
    assert alerts.log_bucket_changes("b") == cloudtrail_calls("s3", BUCKET_EVENTS, bucketName=["b"])


def test_the_archive_forwards_its_own_alarms_and_firehose_error_objects():
    # https://docs.aws.amazon.com/AmazonS3/latest/userguide/ev-events.html
    assert alerts.archive_alarm_pattern(CENTRAL, ["acme-logging-z", "acme-logging-y"]) == {
        "$or": [
            {
                "source": ["aws.cloudwatch"],
                "detail-type": ["CloudWatch Alarm State Change"],
                "detail": {"alarmName": ["acme-logging-y", "acme-logging-z"]},
            },
            {
                "source": ["aws.s3"],
                "detail-type": ["Object Created"],
                "detail": {
                    "bucket": {"name": [CENTRAL]},
                    "object": {"key": [{"prefix": "FirehoseErrors/"}]},
                },
            },
        ]
    }


# ---- the reader role -------------------------------------------------------------------------

RESULTS = "acme-org-logs-results-222222222222-us-east-1"
RESULTS_ARN = f"arn:aws:s3:::{RESULTS}"


def test_the_reader_is_assumed_from_inside_the_organization_only():
    def trust(principals):
        return reader.reader_trust_policy(
            region=REGION, account=LOG_ARCHIVE, org_id=ORG_ID, principal_arns=principals
        )["Statement"]

    def trusted(principal):
        return [
            {
                "Sid": "TrustedReaders",
                "Effect": "Allow",
                "Principal": {"AWS": principal},
                "Action": ["sts:AssumeRole", "sts:SetSourceIdentity"],
                "Condition": {"StringEquals": {"aws:PrincipalOrgID": ORG_ID}},
            }
        ]

    one = "arn:aws:iam::222222222222:role/analyst"
    two = "arn:aws:iam::444444444444:role/soc"
    assert trust([]) == trusted("arn:aws:iam::222222222222:root")
    assert trust([one]) == trusted(one)
    assert trust((one, two)) == trusted([one, two])


def test_the_reader_reads_logs_tables_and_its_query_results_and_nothing_else():
    # https://docs.aws.amazon.com/athena/latest/ug/workgroups-iam-policy.html
    assert reader.reader_policy(
        region=REGION,
        account=LOG_ARCHIVE,
        central_bucket=CENTRAL,
        results_bucket=RESULTS,
        key_arn="KEY",
        database="acme_logs",
        workgroup="acme-logs",
    ) == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ReadLogs",
                "Effect": "Allow",
                "Action": "s3:GetObject",
                "Resource": [f"{CENTRAL_ARN}/AWSLogs/*", f"{CENTRAL_ARN}/CloudWatchLogs/*"],
            },
            {
                "Sid": "ListLogs",
                "Effect": "Allow",
                "Action": "s3:ListBucket",
                "Resource": CENTRAL_ARN,
                "Condition": {"StringLike": {"s3:prefix": ["AWSLogs/*", "CloudWatchLogs/*"]}},
            },
            {
                "Sid": "LocateBuckets",
                "Effect": "Allow",
                "Action": "s3:GetBucketLocation",
                "Resource": [CENTRAL_ARN, RESULTS_ARN],
            },
            {
                "Sid": "DecryptLogsAndResults",
                "Effect": "Allow",
                "Action": ["kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"],
                "Resource": "KEY",
                "Condition": {"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}},
            },
            {
                "Sid": "ReadTables",
                "Effect": "Allow",
                "Action": [
                    "glue:GetDatabase",
                    "glue:GetDatabases",
                    "glue:GetTable",
                    "glue:GetTables",
                    "glue:GetPartition",
                    "glue:GetPartitions",
                    "glue:BatchGetPartition",
                ],
                "Resource": [
                    "arn:aws:glue:us-east-1:222222222222:catalog",
                    "arn:aws:glue:us-east-1:222222222222:database/acme_logs",
                    "arn:aws:glue:us-east-1:222222222222:table/acme_logs/*",
                ],
            },
            {
                "Sid": "QueryInWorkgroup",
                "Effect": "Allow",
                "Action": [
                    "athena:GetWorkGroup",
                    "athena:StartQueryExecution",
                    "athena:StopQueryExecution",
                    "athena:GetQueryExecution",
                    "athena:GetQueryResults",
                    "athena:GetQueryResultsStream",
                    "athena:ListQueryExecutions",
                    "athena:BatchGetQueryExecution",
                    "athena:GetNamedQuery",
                    "athena:ListNamedQueries",
                    "athena:BatchGetNamedQuery",
                ],
                "Resource": "arn:aws:athena:us-east-1:222222222222:workgroup/acme-logs",
            },
            {
                "Sid": "KeepQueryResults",
                "Effect": "Allow",
                "Action": [
                    "s3:GetObject",
                    "s3:PutObject",
                    "s3:AbortMultipartUpload",
                    "s3:ListMultipartUploadParts",
                ],
                "Resource": f"{RESULTS_ARN}/*",
            },
            {
                "Sid": "ListQueryResults",
                "Effect": "Allow",
                "Action": ["s3:ListBucket", "s3:ListBucketMultipartUploads"],
                "Resource": RESULTS_ARN,
            },
        ],
    }


# ---- organization telemetry rules ------------------------------------------------------------


def test_a_telemetry_rule_sends_its_kind_to_cloudwatch_logs_in_the_enrolled_regions():
    # https://docs.aws.amazon.com/cloudwatch/latest/observabilityadmin/API_TelemetryRule.html
    assert telemetry.telemetry_rule("vpcFlowLogs", ["us-east-1", "eu-west-1"]) == {
        "telemetry_type": "Logs",
        "resource_type": "AWS::EC2::VPC",
        "telemetry_source_types": ["VPC_FLOW_LOGS"],
        "destination_configuration": {
            "destination_type": "cloud-watch-logs",
            "retention_in_days": 30,
            "destination_pattern": "/aws/vpc/flow-logs/<resourceId>",
            "vpc_flow_log_parameters": {"traffic_type": "ALL", "max_aggregation_interval": 600},
        },
        "regions": ["eu-west-1", "us-east-1"],
    }
    assert telemetry.telemetry_rule("eksControlPlaneLogs", ["us-east-1"]) == {
        "telemetry_type": "Logs",
        "resource_type": "AWS::EKS::Cluster",
        "telemetry_source_types": [
            "EKS_API_LOGS",
            "EKS_AUDIT_LOGS",
            "EKS_AUTHENTICATOR_LOGS",
            "EKS_CONTROLLER_MANAGER_LOGS",
            "EKS_SCHEDULER_LOGS",
        ],
        "destination_configuration": {
            "destination_type": "cloud-watch-logs",
            "retention_in_days": 30,
        },
        "regions": ["us-east-1"],
    }


def test_a_rule_kind_becomes_a_lowercase_hyphenated_slug():
    assert telemetry.rule_kind_slug("eksControlPlaneLogs") == "eks-control-plane-logs"
    assert telemetry.rule_kind_slug("vpcFlowLogs") == "vpc-flow-logs"
    assert telemetry.rule_kind_slug("abc") == "abc"
