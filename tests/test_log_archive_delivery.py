"""LogArchive: each promise of the log-archive stack, asserted on the inputs the program registers:
its delivery paths (Firehose, CloudWatch Logs destinations, the IAM roles) and its alerts."""

from __future__ import annotations

import json

import jq
from conftest import (
    LOG_ARCHIVE,
    ORG_ID,
    as_list,
    policy_doc,
    render_config,
    stack_config,
)

from components.cwl_delivery import PARTITION_QUERY

CENTRAL = "acme-org-logs-222222222222-us-east-1"


# ---- Firehose --------------------------------------------------------------------------------

REGIONS = ("us-east-1", "eu-west-1", "ap-southeast-2")


def firehose_config(rendered, region: str = "us-east-1"):
    stream = rendered.one(
        "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream",
        f"log-archive-firehose-{region}",
    )
    return stream, stream.inputs["extendedS3Configuration"]


def test_one_firehose_per_enrolled_region_all_beside_the_central_bucket(log_archive):
    streams = log_archive.of_type("aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream")
    assert sorted((s.inputs["name"], s.inputs["region"]) for s in streams) == sorted(
        (f"acme-org-logs-{region}", "us-east-1") for region in REGIONS
    )
    for region in REGIONS:
        _, s3 = firehose_config(log_archive, region)
        assert s3["bucketArn"] == f"arn:aws:s3:::{CENTRAL}"
        assert s3["prefix"] == (
            f"CloudWatchLogs/!{{partitionKeyFromQuery:owner}}/{region}/!{{timestamp:yyyy/MM/dd}}/"
        )
        assert s3["errorOutputPrefix"] == (
            f"FirehoseErrors/{region}/!{{firehose:error-output-type}}/!{{timestamp:yyyy/MM/dd}}/"
        )
        assert s3["compressionFormat"] == "GZIP"
        assert s3["kmsKeyArn"].startswith("arn:aws:kms:us-east-1:222222222222:key/")


def test_firehose_decompresses_and_partitions_by_account_only_without_lambda(log_archive):
    _, s3 = firehose_config(log_archive)
    processors = s3["processingConfiguration"]["processors"]
    assert [p["type"] for p in processors] == [
        "Decompression",
        "MetadataExtraction",
        "AppendDelimiterToRecord",
    ]
    assert s3["dynamicPartitioningConfiguration"] == {"enabled": True}
    assert "logGroup" not in s3["prefix"]
    params = {p["parameterName"]: p["parameterValue"] for p in processors[1]["parameters"]}
    assert params == {"MetadataExtractionQuery": PARTITION_QUERY, "JsonParsingEngine": "JQ-1.6"}
    assert s3["bufferingSize"] >= 64  # dynamic partitioning's minimum


def test_partition_query_keys_by_account_and_keeps_control_messages_out_of_the_way():
    query = jq.compile(PARTITION_QUERY)
    data = {
        "messageType": "DATA_MESSAGE",
        "owner": "333333333333",
        "logGroup": "/aws/rds/instance/db/postgresql",
    }
    control = {
        "messageType": "CONTROL_MESSAGE",
        "owner": "CloudwatchLogs",
        "logGroup": "",
        "logEvents": [],
    }
    # One partition per account: the log group stays inside the record.
    assert query.input_value(data).first() == {"owner": "333333333333"}
    # A control message would otherwise make a partition of CloudWatch Logs' own account.
    assert query.input_value(control).first() == {"owner": "_control"}


def test_each_firehose_logs_its_delivery_errors_to_its_own_stream(log_archive):
    for region in REGIONS:
        _, s3 = firehose_config(log_archive, region)
        assert s3["cloudwatchLoggingOptions"] == {
            "enabled": True,
            "logGroupName": "/aws/kinesisfirehose/acme-org-logs",
            "logStreamName": f"DestinationDelivery-{region}",
        }
    streams = log_archive.of_type("aws:cloudwatch/logStream:LogStream")
    assert sorted(s.inputs["name"] for s in streams) == sorted(
        f"DestinationDelivery-{region}" for region in REGIONS
    )


# ---- CloudWatch Logs destinations ------------------------------------------------------------


def test_each_regions_destination_targets_that_regions_firehose(log_archive):
    destinations = log_archive.of_type("aws:cloudwatch/logDestination:LogDestination")
    assert sorted((d.inputs["region"], d.inputs["targetArn"]) for d in destinations) == sorted(
        (r, f"arn:aws:firehose:us-east-1:222222222222:deliverystream/acme-org-logs-{r}")
        for r in REGIONS
    )
    assert {d.inputs["name"] for d in destinations} == {"acme-org-logs"}
    assert log_archive.outputs["destinationArns"] == {
        r: f"arn:aws:logs:{r}:222222222222:destination:acme-org-logs" for r in REGIONS
    }


def test_destination_policies_allow_subscriptions_only_from_the_org(log_archive):
    for policy in log_archive.of_type("aws:cloudwatch/logDestinationPolicy:LogDestinationPolicy"):
        region = policy.inputs["region"]
        assert policy_doc(policy, "accessPolicy") == {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "AllowOrgSubscriptions",
                    "Effect": "Allow",
                    "Principal": {"AWS": "*"},
                    "Action": ["logs:PutSubscriptionFilter", "logs:PutAccountPolicy"],
                    "Resource": f"arn:aws:logs:{region}:222222222222:destination:acme-org-logs",
                    "Condition": {"StringEquals": {"aws:PrincipalOrgID": ORG_ID}},
                }
            ],
        }


# ---- IAM roles -----------------------------------------------------------------------------


def test_every_role_has_a_confused_deputy_condition(log_archive):
    """Service roles name their source; the reader role, the one assumed by people
    (readerPrincipalArns), is assumed only from inside the organization."""
    for role in log_archive.of_type("aws:iam/role:Role"):
        (trust,) = policy_doc(role, "assumeRolePolicy")["Statement"]
        conditions = {key for test in trust["Condition"].values() for key in test}
        if role.inputs["name"] == "acme-logging-reader":
            assert (set(trust["Principal"]), conditions) == ({"AWS"}, {"aws:PrincipalOrgID"})
            continue
        assert conditions & {"aws:SourceArn", "aws:SourceAccount", "sts:ExternalId"}, role.name
        assert "Service" in trust["Principal"], role.name


def test_firehose_role_is_trusted_only_for_this_account(log_archive):
    role = log_archive.one("aws:iam/role:Role", "log-archive-firehose-role")
    assert policy_doc(role, "assumeRolePolicy") == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "TrustedService",
                "Effect": "Allow",
                "Principal": {"Service": "firehose.amazonaws.com"},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"sts:ExternalId": LOG_ARCHIVE}},
            }
        ],
    }


def test_destination_role_is_assumable_by_logs_of_the_enrolled_regions_only(log_archive):
    role = log_archive.one("aws:iam/role:Role", "log-archive-destination-role")
    (trust,) = policy_doc(role, "assumeRolePolicy")["Statement"]
    assert trust == {
        "Sid": "TrustedService",
        "Effect": "Allow",
        "Principal": {"Service": "logs.amazonaws.com"},
        "Action": "sts:AssumeRole",
        "Condition": {
            "StringLike": {
                "aws:SourceArn": [
                    "arn:aws:logs:us-east-1:*:*",
                    "arn:aws:logs:eu-west-1:*:*",
                    "arn:aws:logs:ap-southeast-2:*:*",
                ]
            },
            # Without it, any account's CloudWatch Logs could assume the role.
            "StringEquals": {"aws:SourceOrgID": ORG_ID},
        },
    }


def test_role_policies_are_least_privilege(log_archive):
    for role_policy in log_archive.of_type("aws:iam/rolePolicy:RolePolicy"):
        for statement in policy_doc(role_policy)["Statement"]:
            assert statement["Effect"] == "Allow"
            assert not any(a.endswith("*") for a in as_list(statement["Action"])), statement
            assert "*" not in as_list(statement["Resource"]), statement
    delivery = policy_doc(
        log_archive.one("aws:iam/rolePolicy:RolePolicy", "log-archive-destination-delivery")
    )
    assert delivery["Statement"] == [
        {
            "Sid": "PutIntoCentralFirehose",
            "Effect": "Allow",
            "Action": ["firehose:PutRecord", "firehose:PutRecordBatch"],
            "Resource": [
                f"arn:aws:firehose:us-east-1:222222222222:deliverystream/acme-org-logs-{r}"
                for r in REGIONS
            ],
        }
    ]


def test_the_firehose_role_writes_its_prefixes_and_encrypts_only_through_s3(log_archive):
    central = f"arn:aws:s3:::{CENTRAL}"
    firehose = policy_doc(
        log_archive.one("aws:iam/rolePolicy:RolePolicy", "log-archive-firehose-delivery")
    )
    assert firehose["Statement"] == [
        {
            "Sid": "BucketLocation",
            "Effect": "Allow",
            "Action": ["s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"],
            "Resource": central,
        },
        {
            "Sid": "WriteCloudWatchLogsPrefixes",
            "Effect": "Allow",
            "Action": ["s3:AbortMultipartUpload", "s3:PutObject"],
            "Resource": [f"{central}/CloudWatchLogs/*", f"{central}/FirehoseErrors/*"],
        },
        {
            "Sid": "EncryptWithCentralKey",
            "Effect": "Allow",
            "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
            "Resource": log_archive.outputs["kmsKeyArn"],
            "Condition": {
                "StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"},
                # With an S3 Bucket Key the encryption context is the bucket's ARN.
                "StringLike": {"kms:EncryptionContext:aws:s3:arn": [central, f"{central}/*"]},
            },
        },
        {
            "Sid": "ReportDeliveryErrors",
            "Effect": "Allow",
            "Action": "logs:PutLogEvents",
            "Resource": (
                f"arn:aws:logs:us-east-1:{LOG_ARCHIVE}:log-group:/aws/kinesisfirehose/acme-org-logs:*"
            ),
        },
    ]


# ---- alerts --------------------------------------------------------------------------------


def test_central_bus_accepts_events_only_from_the_orgs_forwarder_roles(log_archive):
    assert policy_doc(log_archive.one("aws:cloudwatch/eventBusPolicy:EventBusPolicy")) == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AllowOrgForwardersPutEvents",
                "Effect": "Allow",
                "Principal": {"AWS": "*"},
                "Action": "events:PutEvents",
                "Resource": "arn:aws:events:us-east-1:222222222222:event-bus/acme-org-logging-alerts",
                "Condition": {
                    "StringEquals": {"aws:PrincipalOrgID": ORG_ID},
                    "ArnLike": {
                        "aws:PrincipalArn": "arn:aws:iam::*:role/acme-logging-alert-forwarder-*"
                    },
                },
            }
        ],
    }


CENTRAL_RULE_ARN = (
    "arn:aws:events:us-east-1:222222222222:rule/acme-org-logging-alerts/acme-logging-alerts"
)
ARCHIVE_RULE_ARN = "arn:aws:events:us-east-1:222222222222:rule/acme-logging-archive-detection"


def test_a_rule_on_the_bus_sends_everything_forwarded_to_the_topic(log_archive):
    rule = log_archive.one("aws:cloudwatch/eventRule:EventRule", "log-archive-alert-rule")
    assert rule.inputs["eventBusName"] == "acme-org-logging-alerts"
    alternatives = json.loads(rule.inputs["eventPattern"])["$or"]
    assert {(a["source"][0], tuple(a["detail-type"])) for a in alternatives} == {
        ("aws.s3", ("AWS API Call via CloudTrail",)),
        ("aws.logs", ("AWS API Call via CloudTrail",)),
        ("aws.cloudtrail", ("AWS API Call via CloudTrail",)),
        ("aws.cloudwatch", ("CloudWatch Alarm State Change",)),
        ("aws.s3", ("Object Created",)),  # Firehose's error objects (components/alarms.py)
    }
    target = log_archive.one("aws:cloudwatch/eventTarget:EventTarget", "log-archive-alert-target")
    topic = log_archive.one("aws:sns/topic:Topic")
    assert target.inputs["arn"] == "arn:aws:sns:us-east-1:222222222222:acme-org-logging-alerts"
    assert topic.inputs["kmsMasterKeyId"].startswith("arn:aws:kms:")
    assert policy_doc(log_archive.one("aws:sns/topicPolicy:TopicPolicy"))["Statement"] == [
        {
            "Sid": "AllowAlertRulePublish",
            "Effect": "Allow",
            "Principal": {"Service": "events.amazonaws.com"},
            "Action": "sns:Publish",
            "Resource": "arn:aws:sns:us-east-1:222222222222:acme-org-logging-alerts",
            "Condition": {"ArnEquals": {"aws:SourceArn": [CENTRAL_RULE_ARN, ARCHIVE_RULE_ARN]}},
        },
        {
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": {"AWS": "*"},
            "Action": "sns:Publish",
            "Resource": "arn:aws:sns:us-east-1:222222222222:acme-org-logging-alerts",
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        },
    ]


def test_email_subscriptions_are_optional(log_archive):
    assert log_archive.of_type("aws:sns/topicSubscription:TopicSubscription") == []
    rendered = render_config(
        stack_config("log-archive", alertEmails=["soc@example.com"]), "log-archive"
    )
    (subscription,) = rendered.of_type("aws:sns/topicSubscription:TopicSubscription")
    assert (subscription.inputs["protocol"], subscription.inputs["endpoint"]) == (
        "email",
        "soc@example.com",
    )


def test_the_archives_own_delivery_log_groups_are_excluded_from_subscriptions(log_archive):
    groups = {g.inputs["name"] for g in log_archive.of_type("aws:cloudwatch/logGroup:LogGroup")}
    assert groups == {"/aws/kinesisfirehose/acme-org-logs"}
    assert set(log_archive.outputs["excludedLogGroups"]) == groups
