"""The conventions org-logging and its policy pack share: regions and partitions, bucket
names, the object layout.

This module lives in the pack so the pack stays self-contained when published with
`pulumi policy publish`; the program imports it through `components/naming.py`, which makes
every other name and ARN. Pure: no Pulumi, no AWS calls.
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


# Regions launched before 2019-03-20 are enabled in every account; every later region of the
# commercial partition is off until an account enables it ("opt-in"):
# https://docs.aws.amazon.com/global-infrastructure/latest/regions/aws-regions.html
DEFAULT_ENABLED_REGIONS = frozenset(
    {
        "ap-northeast-1",
        "ap-northeast-2",
        "ap-northeast-3",
        "ap-south-1",
        "ap-southeast-1",
        "ap-southeast-2",
        "ca-central-1",
        "eu-central-1",
        "eu-north-1",
        "eu-west-1",
        "eu-west-2",
        "eu-west-3",
        "sa-east-1",
        "us-east-1",
        "us-east-2",
        "us-west-1",
        "us-west-2",
    }
)


def is_opt_in_region(region: str) -> bool:
    """Off by default in every account (GovCloud and China have no opt-in regions)."""
    return partition_of(region) is AWS and region not in DEFAULT_ENABLED_REGIONS


def partition_of(region: str) -> Partition:
    """The partition a region belongs to; the region decides every ARN's partition."""
    try:
        return REGIONS[region]
    except KeyError:
        raise ValueError(f"unknown or unsupported AWS region {region!r}") from None


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


AWS_LOGS = "AWSLogs"


def account_logs_prefix(account: str) -> str:
    """Where an account's S3-delivered logs live, locally and (replicated unchanged) centrally."""
    return f"{AWS_LOGS}/{account}/"


def cloudfront_logs_prefix(account: str) -> str:
    return f"{account_logs_prefix(account)}CloudFront/"


API_GATEWAY_LOG_GROUP_PREFIX = "/aws/apigateway/"


# --------------------------------------------------------------------------------------------
# Validity rules (settings, the policy pack and the property tests)
# --------------------------------------------------------------------------------------------

NAME_PREFIX_PATTERN = re.compile(r"^[a-z][a-z0-9-]{1,14}[a-z0-9]$")
ACCOUNT_ID_PATTERN = re.compile(r"^[0-9]{12}$")  # not \d, which matches non-ASCII digits
# https://docs.aws.amazon.com/organizations/latest/userguide/orgs_reference_limits.html
SCP_MAX_CHARS = 5120
SCP_MAX_PER_TARGET = 5
PURPOSE_PATTERN = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
# https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html
_BUCKET_CHARS = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
S3_RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
S3_RESERVED_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")
LOG_GROUP_NAME_PATTERN = re.compile(r"^[.\-_/#A-Za-z0-9]{1,512}$")


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
