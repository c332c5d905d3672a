"""Every name, ARN and prefix of org-logging (DESIGN §4). Nothing else builds one.

Pure functions over strings: no Pulumi, no AWS calls, so the policy pack, the automation
and the tests share exactly the conventions the program deploys.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

# --------------------------------------------------------------------------------------------
# Partitions and regions
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Partition:
    name: str  # the ARN partition: aws, aws-us-gov, aws-cn
    dns_suffix: str  # service endpoints and kms:ViaService values end with it


AWS = Partition("aws", "amazonaws.com")
AWS_US_GOV = Partition("aws-us-gov", "amazonaws.com")
AWS_CN = Partition("aws-cn", "amazonaws.com.cn")

# From botocore's partitions.json (the SDK's own region table); regions of other partitions
# (ISO, EUSC) are refused because the services we use are not documented there.
REGIONS: dict[str, Partition] = {
    **{
        region: AWS
        for region in (
            "af-south-1",
            "ap-east-1",
            "ap-east-2",
            "ap-northeast-1",
            "ap-northeast-2",
            "ap-northeast-3",
            "ap-south-1",
            "ap-south-2",
            "ap-southeast-1",
            "ap-southeast-2",
            "ap-southeast-3",
            "ap-southeast-4",
            "ap-southeast-5",
            "ap-southeast-6",
            "ap-southeast-7",
            "ca-central-1",
            "ca-west-1",
            "eu-central-1",
            "eu-central-2",
            "eu-north-1",
            "eu-south-1",
            "eu-south-2",
            "eu-west-1",
            "eu-west-2",
            "eu-west-3",
            "il-central-1",
            "me-central-1",
            "me-south-1",
            "me-west-1",
            "mx-central-1",
            "sa-east-1",
            "sa-west-1",
            "us-east-1",
            "us-east-2",
            "us-west-1",
            "us-west-2",
        )
    },
    "us-gov-east-1": AWS_US_GOV,
    "us-gov-west-1": AWS_US_GOV,
    "cn-north-1": AWS_CN,
    "cn-northwest-1": AWS_CN,
}


def partition_of(region: str) -> Partition:
    """The partition a region belongs to; the region decides every ARN's partition."""
    try:
        return REGIONS[region]
    except KeyError:
        raise ValueError(f"unknown or unsupported AWS region {region!r}") from None


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
# Names (DESIGN §4)
# --------------------------------------------------------------------------------------------


def central_bucket_name(prefix: str, log_archive_account: str, home_region: str) -> str:
    return f"{prefix}-org-logs-{log_archive_account}-{home_region}"


def central_access_log_bucket_name(prefix: str, log_archive_account: str, home_region: str) -> str:
    return f"{prefix}-org-logs-access-{log_archive_account}-{home_region}"


def source_bucket_name(prefix: str, account: str, region: str) -> str:
    return f"{prefix}-logs-{account}-{region}"


def bucket_name(prefix: str, purpose: str, account: str, region: str) -> str:
    """Any other bucket, teams' included: `{prefix}-{purpose}-{account}-{region}`."""
    if not PURPOSE_PATTERN.fullmatch(purpose):
        raise ValueError(f"bucket purpose {purpose!r} must match {PURPOSE_PATTERN.pattern}")
    return f"{prefix}-{purpose}-{account}-{region}"


def org_logs_name(prefix: str) -> str:
    """The CloudWatch Logs destination (one per region) and the Firehose share this name."""
    return f"{prefix}-org-logs"


def destination_name(prefix: str) -> str:
    return org_logs_name(prefix)


def firehose_name(prefix: str) -> str:
    return org_logs_name(prefix)


def firehose_log_group(prefix: str) -> str:
    return f"/aws/kinesisfirehose/{firehose_name(prefix)}"


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
    """The rule on the central bus, and the detection rule in every source account x region."""
    return f"{prefix}-logging-replication-change"


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


def alert_forwarder_role_name(prefix: str, region: str) -> str:
    return f"{protected_name_prefix(prefix)}alert-forwarder-{region}"


def subscription_policy_name(prefix: str) -> str:
    return f"{prefix}-org-logs-subscription"


def scp_deny_leave_name(prefix: str) -> str:
    return f"{prefix}-deny-leave-organization"


def scp_protect_logging_name(prefix: str) -> str:
    return f"{prefix}-protect-logging"


# --------------------------------------------------------------------------------------------
# Object layout in the central bucket (DESIGN §4)
# --------------------------------------------------------------------------------------------

AWS_LOGS = "AWSLogs"
CLOUDWATCH_LOGS = "CloudWatchLogs"
FIREHOSE_ERRORS = "FirehoseErrors"


def account_logs_prefix(account: str) -> str:
    """Where an account's S3-delivered logs live, locally and (replicated unchanged) centrally."""
    return f"{AWS_LOGS}/{account}/"


def cloudfront_logs_prefix(account: str) -> str:
    return f"{account_logs_prefix(account)}CloudFront/"


def trail_prefixes(org_id: str, management_account: str) -> tuple[str, str]:
    """An organization trail writes under the org id, and under the management account."""
    return f"{AWS_LOGS}/{org_id}/", f"{AWS_LOGS}/{management_account}/"


# Firehose expressions: dynamic partitioning by the CWL record's owner and logGroup.
CLOUDWATCH_LOGS_OBJECT_PREFIX = (
    f"{CLOUDWATCH_LOGS}/!{{partitionKeyFromQuery:owner}}/!{{partitionKeyFromQuery:logGroup}}/"
    "!{timestamp:yyyy/MM/dd}/"
)
FIREHOSE_ERROR_PREFIX = (
    f"{FIREHOSE_ERRORS}/!{{firehose:error-output-type}}/!{{timestamp:yyyy/MM/dd}}/"
)


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

API_GATEWAY_LOG_GROUP_PREFIX = "/aws/apigateway/"


def delivery_conventions(account: str) -> dict[str, dict[str, str]]:
    """How each service must be pointed at the account's log bucket or log group.

    `s3Prefix` is what the service is configured with; `objectsUnder` is where the service
    then writes (it adds `AWSLogs/{account}/...` itself where it has a default layout).
    """
    logs = account_logs_prefix(account)
    return {
        "vpcFlowLogs": {"s3Prefix": "", "objectsUnder": f"{logs}vpcflowlogs/"},
        "route53ResolverQueryLogs": {"s3Prefix": "", "objectsUnder": f"{logs}vpcdnsquerylogs/"},
        "elasticLoadBalancing": {"s3Prefix": "", "objectsUnder": f"{logs}elasticloadbalancing/"},
        "cloudFront": {
            "s3Prefix": cloudfront_logs_prefix(account),
            "objectsUnder": cloudfront_logs_prefix(account),
        },
        "apiGatewayAccessLogs": {"logGroupPrefix": API_GATEWAY_LOG_GROUP_PREFIX},
    }


# --------------------------------------------------------------------------------------------
# Validity rules (used by settings, the policy pack and the property tests)
# --------------------------------------------------------------------------------------------

NAME_PREFIX_PATTERN = re.compile(r"^[a-z][a-z0-9-]{1,14}[a-z0-9]$")
PURPOSE_PATTERN = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
# https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html
_BUCKET_CHARS = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
S3_RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
S3_RESERVED_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")
_IAM_ROLE_NAME = re.compile(r"^[A-Za-z0-9_+=,.@-]{1,64}$")
_TRAIL_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{1,126}[A-Za-z0-9]$")
_FIREHOSE_NAME = re.compile(r"^[a-zA-Z0-9_.-]{1,64}$")
_EVENT_BUS_NAME = re.compile(r"^[/.\-_A-Za-z0-9]{1,256}$")
_EVENT_RULE_NAME = re.compile(r"^[.\-_A-Za-z0-9]{1,64}$")
_SNS_TOPIC_NAME = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
_KMS_ALIAS = re.compile(r"^alias/[a-zA-Z0-9/_-]{1,250}$")
_CWL_DESTINATION = re.compile(r"^[^:*]{1,512}$")
_LOG_GROUP_NAME = re.compile(r"^[.\-_/#A-Za-z0-9]{1,512}$")


NAME_PREFIX_RULE = (
    f"must match {NAME_PREFIX_PATTERN.pattern}, contain no '--' (CloudTrail names forbid "
    "adjacent dashes) and not start with an S3-reserved prefix (sthree-, amzn-s3-demo-)"
)


def is_valid_name_prefix(prefix: str) -> bool:
    """A prefix from which every generated name is valid in every region (property-tested)."""
    return (
        bool(NAME_PREFIX_PATTERN.fullmatch(prefix))
        and "--" not in prefix
        and not prefix.startswith(S3_RESERVED_PREFIXES)
    )


def bucket_name_problem(name: str) -> str | None:
    """Why `name` is not a valid general-purpose S3 bucket name, or None if it is."""
    if not 3 <= len(name) <= 63:
        return f"is {len(name)} characters long; S3 allows 3 to 63"
    if not _BUCKET_CHARS.fullmatch(name):
        return (
            "may only hold lowercase letters, digits, '.' and '-', "
            "and must begin and end with a letter or digit"
        )
    if ".." in name:
        return "must not contain two adjacent periods"
    try:
        ipaddress.IPv4Address(name)
    except ValueError:
        pass
    else:
        return "must not be formatted as an IP address"
    for reserved in S3_RESERVED_PREFIXES:
        if name.startswith(reserved):
            return f"must not start with the reserved prefix {reserved!r}"
    for reserved in S3_RESERVED_SUFFIXES:
        if name.endswith(reserved):
            return f"must not end with the reserved suffix {reserved!r}"
    return None


def is_valid_bucket_name(name: str) -> bool:
    return bucket_name_problem(name) is None


def is_valid_iam_role_name(name: str) -> bool:
    return bool(_IAM_ROLE_NAME.fullmatch(name))


def is_valid_trail_name(name: str) -> bool:
    # CloudTrail also forbids adjacent '.', '_' and '-' such as "my-_trail".
    return bool(_TRAIL_NAME.fullmatch(name)) and not re.search(r"[._-]{2}", name)


def is_valid_firehose_name(name: str) -> bool:
    return bool(_FIREHOSE_NAME.fullmatch(name))


def is_valid_event_bus_name(name: str) -> bool:
    return bool(_EVENT_BUS_NAME.fullmatch(name)) and name != "default"


def is_valid_event_rule_name(name: str) -> bool:
    return bool(_EVENT_RULE_NAME.fullmatch(name))


def is_valid_sns_topic_name(name: str) -> bool:
    return bool(_SNS_TOPIC_NAME.fullmatch(name))


def is_valid_kms_alias(name: str) -> bool:
    return bool(_KMS_ALIAS.fullmatch(name)) and not name.startswith("alias/aws/")


def is_valid_destination_name(name: str) -> bool:
    return bool(_CWL_DESTINATION.fullmatch(name))


def is_valid_log_group_name(name: str) -> bool:
    return bool(_LOG_GROUP_NAME.fullmatch(name))
