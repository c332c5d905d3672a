"""What adminRoleName may do: for every resource type the log-archive and source stacks
register, the IAM actions the aws provider calls to create, read, update and delete it, by
the statement (scope) whose resources they apply to (docs/security.md, "The admin role").

Each scope is one statement of the role's policy: `bootstrap.scope_resources` names its
resources (our names, in any region and account of the partition) and `"*"` stands alone in
`NO_RESOURCE_TYPE`, for the actions IAM gives no resource type. The actions follow the
provider's calls; the IAM names come from the Service Authorization Reference
(https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html).

What the stacks keep on `destroy` (`retain_on_delete`: the log buckets and everything that
protects them, the key and its alias) gets no delete action: the provider never calls one, so
the role cannot delete a log bucket, re-policy it away or schedule the key's deletion.
"""

from __future__ import annotations

# Scopes: one statement each (bootstrap.scope_resources gives the resources).
LOG_BUCKETS = "LogBuckets"
LOGGING_ROLES = "LoggingRoles"
LOGGING_ALARMS = "LoggingAlarms"
DETECTION = "Detection"
DELIVERY_LOGS = "DeliveryLogs"
LOG_SUBSCRIPTIONS = "LogSubscriptions"
DELIVERY_STREAMS = "DeliveryStreams"
CENTRAL_KEY = "CentralKey"
ALERT_TOPIC = "AlertTopic"
CANARY_WRITES = "CanaryWrites"
CANARY_READS = "CanaryReads"
QUERY_LAYER = "QueryLayer"
NO_RESOURCE_TYPE = "NoResourceType"
SCOPES = (
    LOG_BUCKETS,
    LOGGING_ROLES,
    LOGGING_ALARMS,
    DETECTION,
    DELIVERY_LOGS,
    LOG_SUBSCRIPTIONS,
    DELIVERY_STREAMS,
    CENTRAL_KEY,
    ALERT_TOPIC,
    CANARY_WRITES,
    CANARY_READS,
    QUERY_LAYER,
    NO_RESOURCE_TYPE,
)

Actions = dict[str, tuple[str, ...]]

# Passing a logging role to the service that assumes it (S3 replication, CloudWatch Logs,
# EventBridge, Firehose) needs iam:PassRole on the role:
# https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_passrole.html
PASS_ROLE: Actions = {LOGGING_ROLES: ("iam:PassRole",)}


def _bucket_part(*actions: str) -> Actions:
    return {LOG_BUCKETS: actions}


S3_ACTIONS: dict[str, Actions] = {
    # CreateBucket with Object Lock also needs PutBucketObjectLockConfiguration and
    # PutBucketVersioning; reading a bucket reads every sub-resource the provider tracks.
    "aws:s3/bucket:Bucket": _bucket_part(
        "s3:CreateBucket",
        "s3:ListBucket",
        "s3:GetBucketPolicy",
        "s3:GetBucketAcl",
        "s3:GetBucketCORS",
        "s3:GetBucketWebsite",
        "s3:GetBucketVersioning",
        "s3:GetAccelerateConfiguration",
        "s3:GetBucketRequestPayment",
        "s3:GetBucketLogging",
        "s3:GetLifecycleConfiguration",
        "s3:GetReplicationConfiguration",
        "s3:GetEncryptionConfiguration",
        "s3:GetBucketObjectLockConfiguration",
        "s3:GetBucketTagging",
        "s3:PutBucketTagging",
        "s3:PutBucketObjectLockConfiguration",
        "s3:PutBucketVersioning",
    ),
    "aws:s3/bucketVersioning:BucketVersioning": _bucket_part(
        "s3:PutBucketVersioning", "s3:GetBucketVersioning"
    ),
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": _bucket_part(
        "s3:PutBucketOwnershipControls", "s3:GetBucketOwnershipControls"
    ),
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": _bucket_part(
        "s3:PutBucketPublicAccessBlock", "s3:GetBucketPublicAccessBlock"
    ),
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": (
        _bucket_part("s3:PutEncryptionConfiguration", "s3:GetEncryptionConfiguration")
    ),
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": _bucket_part(
        "s3:PutLifecycleConfiguration", "s3:GetLifecycleConfiguration"
    ),
    # Not retained: DeleteBucketReplication is authorized as s3:PutReplicationConfiguration.
    "aws:s3/bucketReplicationConfig:BucketReplicationConfig": {
        **_bucket_part("s3:PutReplicationConfiguration", "s3:GetReplicationConfiguration"),
        **PASS_ROLE,
    },
    "aws:s3/bucketPolicy:BucketPolicy": _bucket_part("s3:PutBucketPolicy", "s3:GetBucketPolicy"),
    "aws:s3/bucketLogging:BucketLogging": _bucket_part(
        "s3:PutBucketLogging", "s3:GetBucketLogging"
    ),
    "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration": _bucket_part(
        "s3:PutBucketObjectLockConfiguration", "s3:GetBucketObjectLockConfiguration"
    ),
    "aws:s3/bucketAcl:BucketAcl": _bucket_part("s3:PutBucketAcl", "s3:GetBucketAcl"),
    # The central bucket's EventBridge switch; deleting it is a Put of an empty configuration.
    "aws:s3/bucketNotification:BucketNotification": _bucket_part(
        "s3:PutBucketNotification", "s3:GetBucketNotification"
    ),
}

IAM_ACTIONS: dict[str, Actions] = {
    "aws:iam/role:Role": {
        LOGGING_ROLES: (
            "iam:CreateRole",
            "iam:GetRole",
            "iam:UpdateRole",
            "iam:UpdateRoleDescription",
            "iam:UpdateAssumeRolePolicy",
            "iam:TagRole",
            "iam:UntagRole",
            "iam:ListRolePolicies",
            "iam:ListAttachedRolePolicies",
            "iam:ListInstanceProfilesForRole",
            "iam:DeleteRole",
        )
    },
    "aws:iam/rolePolicy:RolePolicy": {
        LOGGING_ROLES: ("iam:PutRolePolicy", "iam:GetRolePolicy", "iam:DeleteRolePolicy")
    },
}

MONITORING_ACTIONS: dict[str, Actions] = {
    "aws:cloudwatch/metricAlarm:MetricAlarm": {
        LOGGING_ALARMS: (
            "cloudwatch:PutMetricAlarm",
            "cloudwatch:DescribeAlarms",
            "cloudwatch:ListTagsForResource",
            "cloudwatch:TagResource",
            "cloudwatch:UntagResource",
            "cloudwatch:DeleteAlarms",
        )
    },
    "aws:cloudwatch/eventRule:EventRule": {
        DETECTION: (
            "events:PutRule",
            "events:DescribeRule",
            "events:EnableRule",
            "events:DisableRule",
            "events:ListTagsForResource",
            "events:TagResource",
            "events:UntagResource",
            "events:DeleteRule",
        )
    },
    "aws:cloudwatch/eventTarget:EventTarget": {
        DETECTION: ("events:PutTargets", "events:ListTargetsByRule", "events:RemoveTargets"),
        **PASS_ROLE,
    },
    "aws:cloudwatch/eventBus:EventBus": {
        DETECTION: (
            "events:CreateEventBus",
            "events:DescribeEventBus",
            "events:UpdateEventBus",
            "events:ListTagsForResource",
            "events:TagResource",
            "events:UntagResource",
            "events:DeleteEventBus",
        )
    },
    # PutPermission and RemovePermission take the bus by name, with no resource type.
    "aws:cloudwatch/eventBusPolicy:EventBusPolicy": {
        DETECTION: ("events:DescribeEventBus",),
        NO_RESOURCE_TYPE: ("events:PutPermission", "events:RemovePermission"),
    },
}

LOGS_ACTIONS: dict[str, Actions] = {
    # https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutAccountPolicy.html:
    # a subscription filter policy also needs logs:PutSubscriptionFilter and iam:PassRole;
    # deleting it, logs:DeleteSubscriptionFilter.
    "aws:cloudwatch/logAccountPolicy:LogAccountPolicy": {
        NO_RESOURCE_TYPE: (
            "logs:PutAccountPolicy",
            "logs:DescribeAccountPolicies",
            "logs:DeleteAccountPolicy",
        ),
        LOG_SUBSCRIPTIONS: ("logs:PutSubscriptionFilter", "logs:DeleteSubscriptionFilter"),
        **PASS_ROLE,
    },
    "aws:cloudwatch/logGroup:LogGroup": {
        DELIVERY_LOGS: (
            "logs:CreateLogGroup",
            "logs:PutRetentionPolicy",
            "logs:DeleteRetentionPolicy",
            "logs:ListTagsForResource",
            "logs:TagResource",
            "logs:UntagResource",
            "logs:DeleteLogGroup",
        ),
        NO_RESOURCE_TYPE: ("logs:DescribeLogGroups",),
    },
    "aws:cloudwatch/logStream:LogStream": {
        DELIVERY_LOGS: ("logs:CreateLogStream", "logs:DescribeLogStreams", "logs:DeleteLogStream")
    },
    "aws:cloudwatch/logDestination:LogDestination": {
        DELIVERY_LOGS: (
            "logs:PutDestination",
            "logs:ListTagsForResource",
            "logs:TagResource",
            "logs:UntagResource",
            "logs:DeleteDestination",
        ),
        NO_RESOURCE_TYPE: ("logs:DescribeDestinations",),
        **PASS_ROLE,
    },
    "aws:cloudwatch/logDestinationPolicy:LogDestinationPolicy": {
        DELIVERY_LOGS: ("logs:PutDestinationPolicy",),
        NO_RESOURCE_TYPE: ("logs:DescribeDestinations",),
    },
    "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream": {
        DELIVERY_STREAMS: (
            "firehose:CreateDeliveryStream",
            "firehose:DescribeDeliveryStream",
            "firehose:UpdateDestination",
            "firehose:ListTagsForDeliveryStream",
            "firehose:TagDeliveryStream",
            "firehose:UntagDeliveryStream",
            "firehose:DeleteDeliveryStream",
        ),
        **PASS_ROLE,
    },
}

KEY_AND_ALERT_ACTIONS: dict[str, Actions] = {
    # The key's id is random: its statement names every key of the account (the alias comes
    # after the key). Retained: no DisableKey, no ScheduleKeyDeletion.
    "aws:kms/key:Key": {
        NO_RESOURCE_TYPE: ("kms:CreateKey",),
        CENTRAL_KEY: (
            "kms:DescribeKey",
            "kms:GetKeyPolicy",
            "kms:PutKeyPolicy",
            "kms:GetKeyRotationStatus",
            "kms:EnableKeyRotation",
            "kms:UpdateKeyDescription",
            "kms:ListResourceTags",
            "kms:TagResource",
            "kms:UntagResource",
        ),
    },
    # Creating or moving an alias needs the action on the alias and on the key:
    # https://docs.aws.amazon.com/kms/latest/developerguide/alias-access.html
    "aws:kms/alias:Alias": {
        CENTRAL_KEY: ("kms:CreateAlias", "kms:UpdateAlias"),
        NO_RESOURCE_TYPE: ("kms:ListAliases",),
    },
    "aws:sns/topic:Topic": {
        ALERT_TOPIC: (
            "sns:CreateTopic",
            "sns:GetTopicAttributes",
            "sns:SetTopicAttributes",
            "sns:ListTagsForResource",
            "sns:TagResource",
            "sns:UntagResource",
            "sns:DeleteTopic",
        )
    },
    "aws:sns/topicPolicy:TopicPolicy": {
        ALERT_TOPIC: ("sns:SetTopicAttributes", "sns:GetTopicAttributes")
    },
    "aws:sns/topicSubscription:TopicSubscription": {
        ALERT_TOPIC: ("sns:Subscribe", "sns:ListSubscriptionsByTopic"),
        NO_RESOURCE_TYPE: (
            "sns:GetSubscriptionAttributes",
            "sns:SetSubscriptionAttributes",
            "sns:Unsubscribe",
        ),
    },
}

# The log-archive's query layer: the Glue database and tables, the Athena workgroup and its
# named queries. Glue authorizes on the catalog, the database and the table; deleting a
# database also deletes its tables:
# https://docs.aws.amazon.com/glue/latest/dg/glue-specifying-resource-arns.html
# https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonathena.html
QUERY_ACTIONS: dict[str, Actions] = {
    "aws:glue/catalogDatabase:CatalogDatabase": {
        QUERY_LAYER: (
            "glue:CreateDatabase",
            "glue:GetDatabase",
            "glue:UpdateDatabase",
            "glue:DeleteDatabase",
            "glue:GetTags",
            "glue:TagResource",
            "glue:UntagResource",
        )
    },
    "aws:glue/catalogTable:CatalogTable": {
        QUERY_LAYER: ("glue:CreateTable", "glue:GetTable", "glue:UpdateTable", "glue:DeleteTable")
    },
    "aws:athena/workgroup:Workgroup": {
        QUERY_LAYER: (
            "athena:CreateWorkGroup",
            "athena:GetWorkGroup",
            "athena:UpdateWorkGroup",
            "athena:DeleteWorkGroup",
            "athena:ListTagsForResource",
            "athena:TagResource",
            "athena:UntagResource",
        )
    },
    "aws:athena/namedQuery:NamedQuery": {
        QUERY_LAYER: ("athena:CreateNamedQuery", "athena:GetNamedQuery", "athena:DeleteNamedQuery")
    },
}

# Every resource type the member stacks (log-archive, source) register.
RESOURCE_ACTIONS: dict[str, Actions] = {
    **S3_ACTIONS,
    **IAM_ACTIONS,
    **MONITORING_ACTIONS,
    **LOGS_ACTIONS,
    **KEY_AND_ALERT_ACTIONS,
    **QUERY_ACTIONS,
}

# The data sources they call.
INVOKE_ACTIONS: dict[str, Actions] = {
    "aws:s3/getCanonicalUserId:getCanonicalUserId": {NO_RESOURCE_TYPE: ("s3:ListAllMyBuckets",)},
}

# What the provider itself calls: the account of its credentials (aws:allowedAccountIds).
PROVIDER_ACTIONS: Actions = {NO_RESOURCE_TYPE: ("sts:GetCallerIdentity",)}

# `org-logging verify`: put the canary object and event (only under the canary prefix and into
# the canary log group), then read them back from the central bucket. GetObject on SSE-KMS
# objects also needs kms:Decrypt on the key (HeadObject is authorized as s3:GetObject):
# https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html
VERIFY_ACTIONS: Actions = {
    CANARY_WRITES: ("s3:PutObject", "logs:CreateLogStream", "logs:PutLogEvents"),
    CANARY_READS: ("s3:GetObject",),
    CENTRAL_KEY: ("kms:Decrypt",),
}


def actions_by_scope() -> dict[str, list[str]]:
    """Every action of the tables above, by scope, once each, in table order."""
    merged: dict[str, list[str]] = {scope: [] for scope in SCOPES}
    tables = (*RESOURCE_ACTIONS.values(), *INVOKE_ACTIONS.values(), PROVIDER_ACTIONS)
    for table in (*tables, VERIFY_ACTIONS):
        for scope, actions in table.items():
            merged[scope].extend(a for a in actions if a not in merged[scope])
    return {scope: actions for scope, actions in merged.items() if actions}
