"""Which handler serves a resource type, which property Check auto-names, and the inputs the
real provider rejects in Check."""

from __future__ import annotations

from typing import Any

from .base import Handler, as_int
from .cloudformation import StackSet, StackSetInstance
from .cloudwatch import METRIC_ALARM, MetricAlarm, metric_alarm_conflicts
from .iam import Role, RolePolicy
from .organizations import OrgPolicy, PolicyAttachment
from .others import LOG_RETENTION_DAYS, EventBus, KmsAlias, KmsKey, LogGroup, SnsTopic, Trail
from .s3 import Bucket
from .s3_parts import (
    BucketAcl,
    BucketEncryption,
    BucketLifecycle,
    BucketLogging,
    BucketObjectLock,
    BucketOwnershipControls,
    BucketPolicy,
    BucketPublicAccessBlock,
    BucketReplication,
    BucketVersioning,
)

IN_MEMORY = Handler()
_NAMED_IN_MEMORY = {
    "aws:cloudwatch/eventRule:EventRule": "name",
    "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream": "name",
    "aws:iam/policy:Policy": "name",
}


def _bucket_parts() -> dict[str, Handler]:
    parts: dict[str, Handler] = {
        "BucketVersioning": BucketVersioning(),
        "BucketPolicy": BucketPolicy(),
        "BucketPublicAccessBlock": BucketPublicAccessBlock(),
        "BucketOwnershipControls": BucketOwnershipControls(),
        "BucketServerSideEncryptionConfiguration": BucketEncryption(),
        "BucketLifecycleConfiguration": BucketLifecycle(),
        "BucketReplicationConfig": BucketReplication(),
        "BucketLogging": BucketLogging(),
        "BucketObjectLockConfiguration": BucketObjectLock(),
        "BucketAcl": BucketAcl(),
    }
    # The deprecated v6 spellings that v7 still has.
    with_v2 = {
        "BucketVersioning", "BucketServerSideEncryptionConfiguration",
        "BucketLifecycleConfiguration", "BucketLogging", "BucketObjectLockConfiguration",
        "BucketAcl",
    }  # fmt: skip
    tokens: dict[str, Handler] = {}
    for kind, handler in parts.items():
        module = kind[:1].lower() + kind[1:]
        tokens[f"aws:s3/{module}:{kind}"] = handler
        if kind in with_v2:
            tokens[f"aws:s3/{module}V2:{kind}V2"] = handler
    return tokens


HANDLERS: dict[str, Handler] = {
    "aws:s3/bucket:Bucket": Bucket(),
    "aws:s3/bucketV2:BucketV2": Bucket(),
    **_bucket_parts(),
    "aws:iam/role:Role": Role(),
    "aws:iam/rolePolicy:RolePolicy": RolePolicy(),
    "aws:organizations/policy:Policy": OrgPolicy(),
    "aws:organizations/policyAttachment:PolicyAttachment": PolicyAttachment(),
    "aws:kms/key:Key": KmsKey(),
    "aws:kms/alias:Alias": KmsAlias(),
    "aws:sns/topic:Topic": SnsTopic(),
    "aws:cloudwatch/logGroup:LogGroup": LogGroup(),
    "aws:cloudwatch/eventBus:EventBus": EventBus(),
    "aws:cloudtrail/trail:Trail": Trail(),
    METRIC_ALARM: MetricAlarm(),
    "aws:cloudformation/stackSet:StackSet": StackSet(),
    "aws:cloudformation/stackSetInstance:StackSetInstance": StackSetInstance(),
}


def handler_for(token: str) -> Handler:
    return HANDLERS.get(token, IN_MEMORY)


def autoname_property(token: str) -> str | None:
    handler = HANDLERS.get(token)
    return handler.autoname if handler is not None else _NAMED_IN_MEMORY.get(token)


def check_failures(token: str, inputs: dict[str, Any]) -> list[tuple[str, str]]:
    """(property, reason) for inputs the real provider would reject in Check."""
    failures = [
        (key, f"Missing required property '{key}'")
        for key in handler_for(token).required
        if inputs.get(key) in (None, "")
    ]
    if token == "aws:cloudwatch/logGroup:LogGroup" and inputs.get("retentionInDays") is not None:
        days = inputs["retentionInDays"]
        if isinstance(days, (int, float)) and days not in LOG_RETENTION_DAYS:
            allowed = " ".join(str(d) for d in LOG_RETENTION_DAYS)
            failures.append(
                (
                    "retentionInDays",
                    f"expected retention_in_days to be one of [{allowed}], got {as_int(days)}",
                )
            )
    if token == METRIC_ALARM:
        failures += metric_alarm_conflicts(inputs)
    return failures
