"""Alerts: what EventBridge listens for (detection patterns), who may put events on the central
alert bus, and who may publish to the alert topic."""

from __future__ import annotations

from components import naming
from components.documents.grammar import (
    EVERYONE,
    Document,
    allow,
    deny,
    policy,
    service,
    trust_policy,
)

API_CALL = "AWS API Call via CloudTrail"


ALARM_STATE_CHANGE = "CloudWatch Alarm State Change"


REPLICATION_CHANGE_EVENTS = ["PutBucketReplication", "DeleteBucketReplication"]


# CloudTrail's event names for the calls that change what keeps a log bucket's objects.
LOG_BUCKET_CHANGE_EVENTS = [
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


ACCOUNT_POLICY_EVENTS = ["PutAccountPolicy", "DeleteAccountPolicy"]


TRAIL_CHANGE_EVENTS = [
    "StopLogging",
    "DeleteTrail",
    "UpdateTrail",
    "PutEventSelectors",
    "PutInsightSelectors",
]


KEY_CHANGE_EVENTS = [
    "PutKeyPolicy",
    "ScheduleKeyDeletion",
    "DisableKey",
    "DisableKeyRotation",
    "UpdateAlias",
    "DeleteAlias",
]


def api_calls(service_name: str, event_names: list[str], **request: list[str]) -> Document:
    """CloudTrail management events of `service_name` (EventBridge needs a logging trail for
    them: the organization trail is one in every account and region)."""
    detail: Document = {
        "eventSource": [naming.service_principal(service_name)],
        "eventName": list(event_names),
    }
    if request:
        detail["requestParameters"] = request
    return {"source": [f"aws.{service_name}"], "detail-type": [API_CALL], "detail": detail}


def replication_changes() -> Document:
    """A replication configuration put or deleted on any bucket: the way to redirect logs."""
    return api_calls("s3", REPLICATION_CHANGE_EVENTS)


def log_bucket_changes(bucket: str | None = None) -> Document:
    """Policy, lifecycle, versioning, encryption or lock changes of `bucket` (of any bucket
    when None: the central rule hears what the sources already filtered)."""
    if bucket is None:
        return api_calls("s3", LOG_BUCKET_CHANGE_EVENTS)
    return api_calls("s3", LOG_BUCKET_CHANGE_EVENTS, bucketName=[bucket])


def account_policy_changes() -> Document:
    """CloudWatch Logs account policies put or deleted: ours is the account's subscription."""
    return api_calls("logs", ACCOUNT_POLICY_EVENTS)


def trail_changes() -> Document:
    """Stopping, deleting or narrowing a trail: SCPs do not bind the management account."""
    return api_calls("cloudtrail", TRAIL_CHANGE_EVENTS)


def key_changes() -> Document:
    return api_calls("kms", KEY_CHANGE_EVENTS)


def alarm_changes(prefix: str) -> Document:
    """State changes of org-logging's alarms (all named under the protected prefix)."""
    return {
        "source": ["aws.cloudwatch"],
        "detail-type": [ALARM_STATE_CHANGE],
        "detail": {"alarmName": [{"prefix": naming.protected_name_prefix(prefix)}]},
    }


def named_alarm_changes(names: list[str]) -> Document:
    """State changes of these alarms only: each account x region forwards its own alarms, so
    an alarm is never forwarded twice (the log archive is often a source account too)."""
    return {
        "source": ["aws.cloudwatch"],
        "detail-type": [ALARM_STATE_CHANGE],
        "detail": {"alarmName": sorted(names)},
    }


# S3's event for a new object, sent to EventBridge when the bucket's notification turns it on:
# https://docs.aws.amazon.com/AmazonS3/latest/userguide/ev-events.html
OBJECT_CREATED = "Object Created"


def firehose_error_objects(bucket: str | None = None) -> Document:
    """A new object under FirehoseErrors/ of `bucket` (of any bucket when None: the central
    rule hears what the log archive's forwarder already filtered): records Firehose could not
    process or partition."""
    detail: Document = {"object": {"key": [{"prefix": f"{naming.FIREHOSE_ERRORS}/"}]}}
    if bucket is not None:
        detail = {"bucket": {"name": [bucket]}, **detail}
    return {"source": ["aws.s3"], "detail-type": [OBJECT_CREATED], "detail": detail}


def archive_alarm_pattern(bucket: str, alarm_names: list[str]) -> Document:
    """What the log archive forwards to the central bus: its alarms, and Firehose's errors."""
    return any_of(named_alarm_changes(alarm_names), firehose_error_objects(bucket))


def any_of(*patterns: Document) -> Document:
    """One rule for several patterns: `$or` works at the top level of a pattern:
    https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html"""
    return {"$or": list(patterns)} if len(patterns) > 1 else patterns[0]


def source_detection_pattern(bucket: str, alarm_names: list[str]) -> Document:
    """What a member account x region forwards to the central alert bus."""
    return any_of(
        replication_changes(),
        log_bucket_changes(bucket),
        account_policy_changes(),
        named_alarm_changes(alarm_names),
    )


def archive_detection_pattern(buckets: list[str]) -> Document:
    """Changes to the central and access-log buckets and to the keys of the log archive."""
    return any_of(*(log_bucket_changes(bucket) for bucket in buckets), key_changes())


def central_alert_pattern(prefix: str) -> Document:
    """Everything the forwarders send; the bus accepts nothing but theirs."""
    return any_of(
        replication_changes(),
        log_bucket_changes(),
        account_policy_changes(),
        trail_changes(),
        alarm_changes(prefix),
        firehose_error_objects(),
    )


def alert_forwarder_pattern(region: str, prefix: str) -> str:
    """Every role that forwards alerts to the central bus, in any account of the org."""
    return naming.iam_role_arn(region, "*", naming.alert_forwarder_role_name(prefix, "*"))


def alert_bus_policy(bus_arn: str, org_id: str, *, region: str, name_prefix: str) -> Document:
    """Only org-logging's forwarder roles, in the organization, may put events: a member
    cannot flood the alert topic."""
    return policy(
        allow(
            "AllowOrgForwardersPutEvents",
            "events:PutEvents",
            bus_arn,
            principal=EVERYONE,
            condition={
                "StringEquals": {"aws:PrincipalOrgID": org_id},
                "ArnLike": {"aws:PrincipalArn": alert_forwarder_pattern(region, name_prefix)},
            },
        )
    )


def alert_topic_policy(topic_arn: str, rule_arns: list[str]) -> Document:
    return policy(
        allow(
            "AllowAlertRulePublish",
            "sns:Publish",
            topic_arn,
            principal=service("events"),
            condition={"ArnEquals": {"aws:SourceArn": rule_arns}},
        ),
        deny(
            "DenyInsecureTransport",
            "sns:Publish",
            topic_arn,
            principal=EVERYONE,
            condition={"Bool": {"aws:SecureTransport": "false"}},
        ),
    )


def alert_forwarder_trust_policy(*, account: str, rule_arn: str) -> Document:
    return trust_policy(
        "events",
        {
            "StringEquals": {"aws:SourceAccount": account},
            "ArnEquals": {"aws:SourceArn": rule_arn},
        },
    )


def alert_forwarder_policy(central_bus_arn: str) -> Document:
    return policy(allow("ForwardToCentralBus", "events:PutEvents", central_bus_arn))
