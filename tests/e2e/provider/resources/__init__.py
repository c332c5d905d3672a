"""What each resource type does.

Every handler has a pure `describe` (the id and computed outputs, in the right partition:
what the provider says when there is no emulator, and which outputs are unknown in a
preview). Types moto supports are applied to it, so AWS's own validation runs; every other
type lives in memory only (inputs + a computed id/arn), so an unknown type never fails.

Where moto 5.2.5 skips a check AWS makes, a stand-in check raises the error AWS would
(`ApiError`): the trust-policy grammar on CreateRole, JSON in PutBucketPolicy, the size of an
SCP, the number of SCPs on one target, a bucket policy's Deny statements on the provider's own
bucket calls, ACLs on a bucket whose ownership is BucketOwnerEnforced, trusted access for an
organization trail, organizations access for a service-managed StackSet. Each is marked
"moto gap".

`base` holds what every handler shares (`ApiError`, `Ctx`, `Handler`, Pulumi input shapes as
API shapes); `s3` and `s3_parts`, `iam`, `organizations` and `others` (KMS, SNS, CloudWatch
Logs, EventBridge, CloudTrail) and `cloudformation` (StackSets) one service each; `registry`
which handler serves a type.
"""

from __future__ import annotations

from .base import ApiError, Ctx, error_code, require_region
from .registry import HANDLERS, autoname_property, check_failures, handler_for

__all__ = [
    "HANDLERS",
    "ApiError",
    "Ctx",
    "autoname_property",
    "check_failures",
    "error_code",
    "handler_for",
    "require_region",
]
