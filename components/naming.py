"""Every name, ARN and prefix of org-logging (docs/architecture.md, "Names"). Nothing else
builds one.

Pure functions over strings: no Pulumi, no AWS calls. The conventions the policy pack checks
too (regions and partitions, bucket names, the object layout, validity rules) live in
`policy/conventions.py`, so that the pack stays self-contained; import them from there.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from policy.conventions import (
    API_GATEWAY_LOG_GROUP_PREFIX,
    AWS_LOGS,
    account_logs_prefix,
    bucket_name,
    cloudfront_logs_prefix,
    partition_of,
)


def service_principal(service: str) -> str:
    """Service principals are `<service>.amazonaws.com` in every partition we support.

    China included: https://docs.amazonaws.cn/en_us/aws/latest/userguide/iam.html lists
    `<service>.amazonaws.com` principals for policies in the aws-cn partition.
    """
    return f"{service}.amazonaws.com"


def service_endpoint(service: str, region: str) -> str:
    """The regional endpoint host, the value of `kms:ViaService`."""
    return f"{service}.{region}.{partition_of(region).dns_suffix}"


# --------------------------------------------------------------------------------------------
# ARNs
# --------------------------------------------------------------------------------------------


def arn(region_for_partition: str, service: str, region: str, account: str, resource: str) -> str:
    """The one place an ARN is assembled; the partition always comes from a region."""
    return f"arn:{partition_of(region_for_partition).name}:{service}:{region}:{account}:{resource}"


def s3_bucket_arn(region: str, bucket: str) -> str:
    return arn(region, "s3", "", "", bucket)


def s3_objects_arn(region: str, bucket: str, key_pattern: str = "*") -> str:
    return f"{s3_bucket_arn(region, bucket)}/{key_pattern}"


def iam_role_arn(region: str, account: str, role_name: str) -> str:
    return arn(region, "iam", "", account, f"role/{role_name}")


def account_root_arn(region: str, account: str) -> str:
    return arn(region, "iam", "", account, "root")


def kms_alias_arn(region: str, account: str, alias: str) -> str:
    return arn(region, "kms", region, account, alias)


def kms_any_key_arn(region: str, account: str) -> str:
    return arn(region, "kms", region, account, "key/*")


def cloudtrail_trail_arn(region: str, account: str, trail: str) -> str:
    return arn(region, "cloudtrail", region, account, f"trail/{trail}")


def firehose_arn(region: str, account: str, stream: str) -> str:
    return arn(region, "firehose", region, account, f"deliverystream/{stream}")


def logs_destination_arn(region: str, account: str, destination: str) -> str:
    return arn(region, "logs", region, account, f"destination:{destination}")


def logs_group_arn(region: str, account: str, log_group: str) -> str:
    return arn(region, "logs", region, account, f"log-group:{log_group}:*")


def events_bus_arn(region: str, account: str, bus: str) -> str:
    return arn(region, "events", region, account, f"event-bus/{bus}")


def events_rule_arn(region: str, account: str, rule: str, bus: str | None = None) -> str:
    path = f"rule/{bus}/{rule}" if bus and bus != "default" else f"rule/{rule}"
    return arn(region, "events", region, account, path)


def sns_topic_arn(region: str, account: str, topic: str) -> str:
    return arn(region, "sns", region, account, topic)


# --------------------------------------------------------------------------------------------
# Names
# --------------------------------------------------------------------------------------------


def source_stack_name(account: str, region: str) -> str:
    """The stack of one member account x region (docs/architecture.md, "Roles")."""
    return f"source-{account}-{region}"


def org_logs_name(prefix: str) -> str:
    """The CloudWatch Logs destination of every enrolled region."""
    return f"{prefix}-org-logs"


def destination_name(prefix: str) -> str:
    return org_logs_name(prefix)


def firehose_name(prefix: str, region: str) -> str:
    """The stream that carries `region`'s CloudWatch Logs; every stream lives in the home
    region, beside the central bucket."""
    return f"{org_logs_name(prefix)}-{region}"


def firehose_log_group(prefix: str) -> str:
    return f"/aws/kinesisfirehose/{org_logs_name(prefix)}"


def firehose_log_stream(region: str) -> str:
    """Each stream reports its delivery errors to its own log stream of the one log group."""
    return f"DestinationDelivery-{region}"


def archive_own_log_groups(prefix: str) -> list[str]:
    """Log groups of the delivery path itself: subscribing them would loop (recursion guard)."""
    return [firehose_log_group(prefix)]


def trail_name(prefix: str) -> str:
    return f"{prefix}-org-trail"


def key_alias(prefix: str) -> str:
    return f"alias/{prefix}-org-logs"


def alert_bus_name(prefix: str) -> str:
    return f"{prefix}-org-logging-alerts"


def alert_topic_name(prefix: str) -> str:
    return f"{prefix}-org-logging-alerts"


def alert_rule_name(prefix: str) -> str:
    """The rule on the central bus that sends every forwarded event to the alert topic."""
    return f"{protected_name_prefix(prefix)}alerts"


def detection_rule_name(prefix: str) -> str:
    """The rule on every source account x region's default bus (forwards to the central bus)."""
    return f"{protected_name_prefix(prefix)}detection"


def trail_detection_rule_name(prefix: str) -> str:
    """The management account's rule on changes to trails (SCPs do not bind that account)."""
    return f"{protected_name_prefix(prefix)}trail-detection"


def archive_detection_rule_name(prefix: str) -> str:
    """The log-archive account's rule on changes to the central buckets and key."""
    return f"{protected_name_prefix(prefix)}archive-detection"


def replication_alarm_name(prefix: str) -> str:
    return f"{protected_name_prefix(prefix)}replication-failed"


# ---- alarms (docs/monitoring.md, "Alarms"): all under the protected prefix, so the
# protect-logging SCP guards them and the detection rules hear their state changes ----------


def replication_latency_alarm_name(prefix: str) -> str:
    return f"{protected_name_prefix(prefix)}replication-latency"


def subscription_alarm_name(prefix: str, signal: str) -> str:
    """A source account x region's CloudWatch Logs subscription: `delivery-errors` or
    `delivery-throttling` (one alarm per signal in each region)."""
    return f"{protected_name_prefix(prefix)}cwl-{signal}"


def firehose_alarm_name(prefix: str, region: str, signal: str) -> str:
    """One alarm per signal of the stream that carries `region`'s CloudWatch Logs."""
    return f"{protected_name_prefix(prefix)}firehose-{region}-{signal}"


def archive_alarm_rule_name(prefix: str) -> str:
    """The log archive's rule on its default bus that forwards its alarms and its Firehose
    error objects to the central bus."""
    return f"{protected_name_prefix(prefix)}archive-alarms"


ARCHIVE_FORWARDER = "archive"  # the log archive's alert-forwarder role: ...-alert-forwarder-archive


def telemetry_rule_name(prefix: str, kind: str) -> str:
    """An organization telemetry rule (management account); `kind` is the lowercase,
    hyphenated telemetryRules item (API pattern [0-9A-Za-z-]+, 1-100 characters)."""
    return f"{prefix}-org-logs-{kind}"


# Log groups the VPC flow-log telemetry rule creates in every member account: /aws/<service>/
# like every log group the subscription ships, so the source service shows in the name.
TELEMETRY_VPC_FLOW_LOG_GROUP_PATTERN = "/aws/vpc/flow-logs/<resourceId>"


# Every IAM role and EventBridge rule org-logging creates starts with this, so one SCP ARN
# pattern protects them all.
def protected_name_prefix(prefix: str) -> str:
    return f"{prefix}-logging-"


def firehose_role_name(prefix: str) -> str:
    return f"{protected_name_prefix(prefix)}firehose"


def destination_role_name(prefix: str) -> str:
    return f"{protected_name_prefix(prefix)}cwl-destination"


def replication_role_name(prefix: str, region: str) -> str:
    return f"{protected_name_prefix(prefix)}replication-{region}"


def subscription_role_name(prefix: str, region: str) -> str:
    return f"{protected_name_prefix(prefix)}cwl-subscription-{region}"


def alert_forwarder_role_name(prefix: str, where: str) -> str:
    """`where`: a source stack's region, or `trail` for the management account's rule."""
    return f"{protected_name_prefix(prefix)}alert-forwarder-{where}"


def reader_role_name(prefix: str) -> str:
    """The one role besides `adminRoleName` that may read logs from the central bucket."""
    return f"{protected_name_prefix(prefix)}reader"


# ---- the query layer (docs/querying.md) -------------------------------------

ATHENA_RESULTS_PURPOSE = "athena-results"


def glue_database_name(prefix: str) -> str:
    """Glue and Athena names take lowercase letters, digits and underscores only."""
    return f"{prefix.replace('-', '_')}_org_logs"


def athena_workgroup_name(prefix: str) -> str:
    return f"{prefix}-org-logs"


def athena_results_bucket_name(prefix: str, account: str, region: str) -> str:
    return bucket_name(prefix, ATHENA_RESULTS_PURPOSE, account, region)


def athena_workgroup_arn(region: str, account: str, workgroup: str) -> str:
    return arn(region, "athena", region, account, f"workgroup/{workgroup}")


def glue_arns(region: str, account: str, database: str) -> list[str]:
    """The catalog, the database and its tables: what reading a Glue table is authorized on."""
    return [
        arn(region, "glue", region, account, "catalog"),
        arn(region, "glue", region, account, f"database/{database}"),
        arn(region, "glue", region, account, f"table/{database}/*"),
    ]


def subscription_policy_name(prefix: str) -> str:
    return f"{prefix}-org-logs-subscription"


def scp_deny_leave_name(prefix: str) -> str:
    return f"{prefix}-deny-leave-organization"


def scp_protect_logging_name(prefix: str) -> str:
    return f"{prefix}-protect-logging"


def log_bucket_name_patterns(prefix: str) -> list[str]:
    """Every bucket org-logging creates: the source buckets, and the central and access-log
    buckets of the archive."""
    return [f"{prefix}-logs-*", f"{prefix}-org-logs-*"]


# --------------------------------------------------------------------------------------------
# Bootstrap: adminRoleName in every account (docs/security.md, "The admin role")
# --------------------------------------------------------------------------------------------

# Service-managed StackSets act in member accounts through a role named stacksets-exec-*:
# https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/stacksets-custom-execution-role.html
STACKSETS_EXECUTION_ROLE_PATTERN = "stacksets-exec-*"
# Trusted access between StackSets and Organizations (what ActivateOrganizationsAccess enables):
# https://docs.aws.amazon.com/organizations/latest/userguide/services-that-can-integrate-cloudformation.html
STACKSETS_SERVICE_PRINCIPAL = "member.org.stacksets.cloudformation.amazonaws.com"


def admin_role_stack_set_name(prefix: str) -> str:
    """The service-managed StackSet that creates adminRoleName in every member account."""
    return f"{protected_name_prefix(prefix)}admin-role"


def admin_role_policy_name(prefix: str, part: int) -> str:
    """The inline policies of adminRoleName, numbered from 1."""
    return f"{protected_name_prefix(prefix)}admin-{part}"


# --------------------------------------------------------------------------------------------
# Object layout in the central bucket
# --------------------------------------------------------------------------------------------

CLOUDWATCH_LOGS = "CloudWatchLogs"
FIREHOSE_ERRORS = "FirehoseErrors"


def trail_prefixes(org_id: str, management_account: str) -> tuple[str, str]:
    """An organization trail writes under the org id, and under the management account."""
    return f"{AWS_LOGS}/{org_id}/", f"{AWS_LOGS}/{management_account}/"


def cloudwatch_logs_prefix(account: str, region: str) -> str:
    """Where the Firehose of `region` writes the CloudWatch Logs of `account`."""
    return f"{CLOUDWATCH_LOGS}/{account}/{region}/"


def cloudwatch_logs_object_prefix(region: str) -> str:
    """The Firehose prefix: partitioned by the record's owner (the account) only. The log
    group stays inside each record, so partitions grow with accounts, not log groups."""
    return f"{CLOUDWATCH_LOGS}/!{{partitionKeyFromQuery:owner}}/{region}/!{{timestamp:yyyy/MM/dd}}/"


def firehose_error_prefix(region: str) -> str:
    return f"{FIREHOSE_ERRORS}/{region}/!{{firehose:error-output-type}}/!{{timestamp:yyyy/MM/dd}}/"


# --------------------------------------------------------------------------------------------
# The canary of `org-logging verify` (docs/monitoring.md)
# --------------------------------------------------------------------------------------------

# Every source stack owns this log group; the account's subscription ships it like any other.
CANARY_LOG_GROUP = "/aws/org-logging/canary"
CANARY_LOG_STREAM = "verify"
# Canary events only need to outlive Firehose's buffer; 1 day is CloudWatch Logs' shortest.
CANARY_RETENTION_DAYS = 1
CANARY_SERVICE = "org-logging-canary"


def canary_prefix(account: str) -> str:
    """The canary objects of `account`: inside the replicated prefix, beside real logs."""
    return f"{account_logs_prefix(account)}{CANARY_SERVICE}/"


def canary_object_key(account: str, region: str, run_id: str) -> str:
    """One canary object per account x region x run, same key locally and in the archive."""
    return f"{canary_prefix(account)}{region}/{run_id}.json"


def cloudwatch_logs_day_prefix(account: str, region: str, year: int, month: int, day: int) -> str:
    """The folder Firehose writes `account`'s records of `region` into on that (UTC) day."""
    return f"{cloudwatch_logs_prefix(account, region)}{year:04d}/{month:02d}/{day:02d}/"


# --------------------------------------------------------------------------------------------
# Where each service delivers logs (source accounts)
# --------------------------------------------------------------------------------------------

# Regions opened before August 2022 deliver ELB access logs from a regional ELB account; newer
# regions use the logdelivery.elasticloadbalancing service principal:
# https://docs.aws.amazon.com/elasticloadbalancing/latest/application/enable-access-logging.html
ELB_LOG_DELIVERY_ACCOUNTS = {
    "us-east-1": "127311923021",
    "us-east-2": "033677994240",
    "us-west-1": "027434742980",
    "us-west-2": "797873946194",
    "af-south-1": "098369216593",
    "ap-east-1": "754344448648",
    "ap-southeast-3": "589379963580",
    "ap-south-1": "718504428378",
    "ap-northeast-3": "383597477331",
    "ap-northeast-2": "600734575887",
    "ap-southeast-1": "114774131450",
    "ap-southeast-2": "783225319266",
    "ap-northeast-1": "582318560864",
    "ca-central-1": "985666609251",
    "eu-central-1": "054676820928",
    "eu-west-1": "156460612806",
    "eu-west-2": "652711504416",
    "eu-south-1": "635631232127",
    "eu-west-3": "009996457667",
    "eu-north-1": "897822967062",
    "me-south-1": "076674570225",
    "sa-east-1": "507241528517",
    "us-gov-west-1": "048591011584",
    "us-gov-east-1": "190560391635",
    "cn-north-1": "638102146993",
    "cn-northwest-1": "037604701340",
}
ELB_LOG_DELIVERY_SERVICE = "logdelivery.elasticloadbalancing"

# Legacy CloudFront standard logging writes as this account, granted by a bucket ACL:
# https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/AccessLogs.html
CLOUDFRONT_LOG_DELIVERY_CANONICAL_ID = (
    "c4c1ede66af53448b93c283ce9448c4ba468c9432aa01d700d3878632f77d2d0"
)


def delivery_conventions(account: str) -> dict[str, dict[str, str]]:
    """How each service must be pointed at the account's log bucket or log group.

    `s3Prefix` is what the service is configured with; `objectsUnder` is where the service
    then writes (it adds `AWSLogs/{account}/...` itself where it has a default layout).
    """
    logs = account_logs_prefix(account)
    return {
        "vpcFlowLogs": {"s3Prefix": "", "objectsUnder": f"{logs}{VPC_FLOW_LOGS_FOLDER}/"},
        "route53ResolverQueryLogs": {
            "s3Prefix": "",
            "objectsUnder": f"{logs}{RESOLVER_QUERY_LOGS_FOLDER}/",
        },
        "elasticLoadBalancing": {"s3Prefix": "", "objectsUnder": f"{logs}{ELB_LOGS_FOLDER}/"},
        "cloudFront": {
            "s3Prefix": cloudfront_logs_prefix(account),
            "objectsUnder": cloudfront_logs_prefix(account),
        },
        "apiGatewayAccessLogs": {"logGroupPrefix": API_GATEWAY_LOG_GROUP_PREFIX},
    }


# --------------------------------------------------------------------------------------------
# Log types in the central bucket (`org-logging coverage`; docs/monitoring.md)
# --------------------------------------------------------------------------------------------

# The folder each service adds under `AWSLogs/{account}/` (and CloudTrail's, under the org's):
# https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs-s3-path.html
# https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/resolver-query-logs-choosing-target-resource.html
# https://docs.aws.amazon.com/elasticloadbalancing/latest/application/enable-access-logging.html
# https://docs.aws.amazon.com/awscloudtrail/latest/userguide/get-and-view-cloudtrail-log-files.html
VPC_FLOW_LOGS_FOLDER = "vpcflowlogs"
RESOLVER_QUERY_LOGS_FOLDER = "vpcdnsquerylogs"
ELB_LOGS_FOLDER = "elasticloadbalancing"
CLOUDTRAIL_FOLDER = "CloudTrail"

# The log types as the CLI and the reports name them.
LOG_TYPES = ("cloudtrail", "vpcflowlogs", "route53resolver", "elb", "cloudfront", "cloudwatchlogs")
# What a type's first folder level is: a region; a VPC id (Resolver query logs carry their
# region only inside the records); a CloudFront distribution (global, no region at all).
LayoutPartition = Literal["region", "vpc", "distribution"]


@dataclass(frozen=True)
class LogLayout:
    """Where one log type of one account lands in the central bucket: under `prefix`, one
    folder per partition (ending in `partition_delimiter`), then the delivery date (UTC) as
    yyyy, MM, dd, each followed by `date_separator`, then the writer's objects."""

    log_type: str
    prefix: str
    partition: LayoutPartition
    partition_delimiter: str = "/"
    date_separator: str = "/"

    def partition_prefix(self, partition: str) -> str:
        return f"{self.prefix}{partition}{self.partition_delimiter}"


def log_layout(log_type: str, account: str, org_id: str) -> LogLayout:
    """The layout of `log_type` (one of LOG_TYPES) for `account`, as its writer lays it out."""
    logs = account_logs_prefix(account)
    layouts = {
        # The organization trail: AWSLogs/{orgId}/{account}/CloudTrail/{region}/yyyy/MM/dd/
        "cloudtrail": LogLayout(
            "cloudtrail",
            f"{trail_prefixes(org_id, account)[0]}{account}/{CLOUDTRAIL_FOLDER}/",
            "region",
        ),
        "vpcflowlogs": LogLayout("vpcflowlogs", f"{logs}{VPC_FLOW_LOGS_FOLDER}/", "region"),
        "route53resolver": LogLayout(
            "route53resolver", f"{logs}{RESOLVER_QUERY_LOGS_FOLDER}/", "vpc"
        ),
        "elb": LogLayout("elb", f"{logs}{ELB_LOGS_FOLDER}/", "region"),
        # Legacy standard logging: {prefix}{distributionId}.yyyy-MM-dd-HH.{unique}.gz
        # https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/standard-logging-legacy-s3.html
        "cloudfront": LogLayout(
            "cloudfront", cloudfront_logs_prefix(account), "distribution", ".", "-"
        ),
        # Firehose: cloudwatch_logs_object_prefix, CloudWatchLogs/{account}/{region}/yyyy/MM/dd/
        "cloudwatchlogs": LogLayout("cloudwatchlogs", f"{CLOUDWATCH_LOGS}/{account}/", "region"),
    }
    try:
        return layouts[log_type]
    except KeyError:
        raise ValueError(f"unknown log type {log_type!r}; one of {', '.join(LOG_TYPES)}") from None
