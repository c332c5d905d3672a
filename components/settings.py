"""Typed, validated settings from the stack config (docs/architecture.md, "Config contract").
No AWS calls.

`parse_settings` takes plain values (a YAML file, the automation) or Pulumi config strings
(JSON for lists and maps) and checks everything before any resource is registered. Every
problem is reported at once, each naming the key, the value and the rule.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from components import naming
from components.checker import Checker, SettingsError, show
from components.contract import NAMESPACE, ROLE_ACCOUNT_KEY, ROLES, Role, config_key
from components.documents.alarms import FIREHOSE_MAX_RECORD_AGE_SECONDS
from components.documents.alarms import PERIOD_SECONDS as ALARM_PERIOD_SECONDS
from components.documents.bootstrap import TRUST_POLICY_MAX_CHARS, admin_trust_policy, policy_chars
from components.documents.delivery import (
    DESTINATION_POLICY_MAX_BYTES,
    FIREHOSE_BUFFER_SECONDS,
    destination_policy_bytes,
    max_destination_policy_accounts,
)
from components.documents.telemetry import TELEMETRY_KINDS, TELEMETRY_PARTITIONS
from policy import conventions

ACCOUNT_ID_PATTERN = conventions.ACCOUNT_ID_PATTERN
ORG_ID_PATTERN = re.compile(r"^o-[a-z0-9]{10,32}$")
# https://docs.aws.amazon.com/organizations/latest/APIReference/API_AttachPolicy.html (TargetId)
SCP_TARGET_PATTERN = re.compile(r"^(r-[0-9a-z]{4,32}|ou-[0-9a-z]{4,32}-[a-z0-9]{8,32})$")
IAM_ROLE_NAME_PATTERN = re.compile(r"^[A-Za-z0-9_+=,.@-]{1,64}$")
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
OBJECT_LOCK_MODES = ("GOVERNANCE", "COMPLIANCE")
# A COMPLIANCE lock longer than this needs objectLock.<LONG_COMPLIANCE_ACK>: true.
LONG_COMPLIANCE_DAYS = 365
LONG_COMPLIANCE_ACK = "acknowledgeLongCompliance"
MAX_RETENTION_DAYS = 36500
TELEMETRY_KIND_PATTERN = re.compile("|".join(TELEMETRY_KINDS))

COMMON_KEYS = (
    "role",
    "namePrefix",
    "orgId",
    "managementAccountId",
    "logArchiveAccountId",
    "homeRegion",
    "regions",
    "adminRoleName",
)
ROLE_KEYS: dict[str, tuple[str, ...]] = {
    "management": ("scpTargets", "deployerRoleArns", "telemetryRules", "bootstrap"),
    "log-archive": (
        "retentionDays",
        "alarmFreshnessMarginSeconds",
        "objectLock",
        "alertEmails",
        "memberAccountIds",
        "firehosePartitionQuota",
        "readerPrincipalArns",
        "athenaBytesScannedCutoff",
        "deepArchiveAfterDays",
    ),
    "source": (
        "accountId",
        "logGroupExclusions",
        "localRetentionDays",
        "cloudFrontLegacyLogging",
        "replicationTimeControl",
        "alarmReplicationLatencySeconds",
        "alarmDeliveryErrorEvents",
        "alarmDeliveryThrottledEvents",
    ),
}
ALL_KEYS = COMMON_KEYS + tuple(key for keys in ROLE_KEYS.values() for key in keys)

# SelectionCriteria of an account policy is at most 25 KB:
# https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutAccountPolicy.html
MAX_SELECTION_CRITERIA_CHARS = 25_000

DEFAULT_RETENTION_DAYS = 365
DEFAULT_LOCAL_RETENTION_DAYS = 30
# Alarm thresholds (docs/monitoring.md, "Alarms"). Freshness: buffer + 600 s = 900 s,
# the 15 minutes AWS suggests alarming DataFreshness over; a margin that puts the threshold past
# Firehose's 24-hour retry window would never fire.
DEFAULT_ALARM_FRESHNESS_MARGIN_SECONDS = 600
MIN_ALARM_FRESHNESS_MARGIN_SECONDS = ALARM_PERIOD_SECONDS
MAX_ALARM_FRESHNESS_MARGIN_SECONDS = FIREHOSE_MAX_RECORD_AGE_SECONDS - FIREHOSE_BUFFER_SECONDS
# S3 Replication Time Control's SLA: 15 minutes (https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-time-control.html).
DEFAULT_ALARM_REPLICATION_LATENCY_SECONDS = 900
MAX_ALARM_REPLICATION_LATENCY_SECONDS = 86_400
# Log events per 5 minutes that failed (or were throttled) before the alarm fires: any.
DEFAULT_ALARM_DELIVERY_EVENTS = 0
MAX_ALARM_DELIVERY_EVENTS = 1_000_000_000
# Active partitions per Firehose stream: 500 by default, 5,000 at most after an increase:
# https://docs.aws.amazon.com/firehose/latest/dev/dynamic-partitioning-buffering.html
DEFAULT_FIREHOSE_PARTITION_QUOTA = 500
# Athena's per-query data usage control: at least 10 MB; we default to 10 GB (about $0.05):
# https://docs.aws.amazon.com/athena/latest/ug/workgroups-setting-control-limits-cloudwatch.html
MIN_ATHENA_BYTES_SCANNED_CUTOFF = 10 * 1024**2
DEFAULT_ATHENA_BYTES_SCANNED_CUTOFF = 10 * 1024**3
MAX_ATHENA_BYTES_SCANNED_CUTOFF = 1024**5
DEEP_ARCHIVE_MIN_DAYS = 180  # Deep Archive bills an object 180 days at least
# Who may assume the archive's reader role: IAM roles or users, or an account (its root).
READER_PRINCIPAL_ARN_PATTERN = re.compile(
    r"^arn:(aws|aws-us-gov|aws-cn):iam::([0-9]{12}):(root|(role|user)/(?:[\w+=,.@-]+/)*"
    r"[\w+=,.@-]{1,64})$",
    re.ASCII,
)
READER_PRINCIPAL_ARN_RULE = (
    "must be the ARN of an IAM role or user, or an account's root, "
    "arn:<partition>:iam::<account>:(root|role/<name>|user/<name>)"
)
MAX_FIREHOSE_PARTITION_QUOTA = 5000
ADMIN_ROLE_PATH_RULE = (
    "must be a role name without a path: the SCPs and the bucket and key policies exempt "
    "arn:<partition>:iam::<account>:role/<name>, which a role under a path (such as IAM "
    "Identity Center's aws-reserved/sso.amazonaws.com/) does not match, so it would be locked out"
)
# A role of the management account that may assume adminRoleName; a path is allowed:
# https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html#identifiers-arns
DEPLOYER_ROLE_ARN_PATTERN = re.compile(
    r"^arn:(aws|aws-us-gov|aws-cn):iam::([0-9]{12}):role/((?:[\w+=,.@-]+/){0,64})"
    r"([\w+=,.@-]{1,64})$",
    re.ASCII,
)
DEPLOYER_ROLE_ARN_RULE = (
    "must be the ARN of an IAM role, arn:<partition>:iam::<account>:role/[<path>/]<name>"
)
# A settings file is checked before discovery, with this stand-in for managementAccountId
# (enroll/org/settings.py): the deployers' account is checked in each stack's config.
UNDISCOVERED_ACCOUNT_ID = "000000000000"


@dataclass(frozen=True)
class ObjectLock:
    mode: Literal["GOVERNANCE", "COMPLIANCE"]
    days: int


@dataclass(frozen=True)
class Settings:
    role: Role
    name_prefix: str
    org_id: str
    management_account_id: str
    log_archive_account_id: str
    home_region: str
    regions: tuple[str, ...]
    admin_role_name: str
    region: str  # the stack's own region: `aws:region`, or the home region when unset
    account_id: str  # the account this stack deploys into
    retention_days: int = DEFAULT_RETENTION_DAYS
    object_lock: ObjectLock | None = None
    alert_emails: tuple[str, ...] = ()
    log_group_exclusions: tuple[str, ...] = ()
    local_retention_days: int = DEFAULT_LOCAL_RETENTION_DAYS
    scp_targets: tuple[str, ...] = ()
    deployer_role_arns: tuple[str, ...] = ()  # empty: the role that deploys the management stack
    cloudfront_legacy_logging: bool = False
    replication_time_control: bool = False
    member_account_ids: tuple[str, ...] | None = None  # enrolled accounts, from the plan
    firehose_partition_quota: int = DEFAULT_FIREHOSE_PARTITION_QUOTA
    alarm_freshness_margin_seconds: int = DEFAULT_ALARM_FRESHNESS_MARGIN_SECONDS
    alarm_replication_latency_seconds: int = DEFAULT_ALARM_REPLICATION_LATENCY_SECONDS
    alarm_delivery_error_events: int = DEFAULT_ALARM_DELIVERY_EVENTS
    alarm_delivery_throttled_events: int = DEFAULT_ALARM_DELIVERY_EVENTS
    telemetry_rules: tuple[str, ...] = ()  # organization telemetry rules (management)
    # `up --bootstrap`: the management stack without what needs the log-archive stack
    bootstrap: bool = False
    reader_principal_arns: tuple[str, ...] = ()  # empty: the log-archive account's IAM
    athena_bytes_scanned_cutoff: int = DEFAULT_ATHENA_BYTES_SCANNED_CUTOFF
    deep_archive_after_days: int | None = None  # opt-in: Athena skips Deep Archive objects

    @property
    def partition(self) -> conventions.Partition:
        return conventions.partition_of(self.home_region)

    @property
    def central_bucket(self) -> str:
        return conventions.central_bucket_name(
            self.name_prefix, self.log_archive_account_id, self.home_region
        )


def parse_settings(
    values: Mapping[str, Any],
    *,
    stack_region: str | None = None,
    label: Callable[[str], str] = config_key,
) -> Settings:
    """Validate `values` (keys without the namespace) and build Settings, or raise SettingsError.

    `stack_region` is the stack's `aws:region`; a source stack's region is that region.
    `label` names a key in messages: `org-logging:<key>` for stack config, the file and key
    for a settings file.
    """
    check = Checker(values, _role(values, label), label)
    role = check.role
    _unknown_keys(check)
    name_prefix = _name_prefix(check)
    org_id = check.string("orgId", ORG_ID_PATTERN)
    management_account_id = check.string("managementAccountId", ACCOUNT_ID_PATTERN)
    log_archive_account_id = check.string("logArchiveAccountId", ACCOUNT_ID_PATTERN)
    admin_role_name = _admin_role_name(check)
    home_region = check.required("homeRegion")
    home_region = check.region("homeRegion", home_region) if home_region is not None else ""
    partition = conventions.partition_of(home_region) if home_region else None
    regions = _regions(check, home_region, partition)
    _check_stack_region(check, stack_region, regions)
    account_id = {
        "managementAccountId": management_account_id,
        "logArchiveAccountId": log_archive_account_id,
        "accountId": check.string("accountId", ACCOUNT_ID_PATTERN, required=role == "source"),
    }[ROLE_ACCOUNT_KEY[role]]
    retention_days = check.integer("retentionDays", DEFAULT_RETENTION_DAYS, 1, MAX_RETENTION_DAYS)
    local_retention_days = check.integer(
        "localRetentionDays", DEFAULT_LOCAL_RETENTION_DAYS, 1, MAX_RETENTION_DAYS
    )
    object_lock = _object_lock(check, retention_days)
    alert_emails = check.string_list("alertEmails", EMAIL_PATTERN, "must be an email address")
    log_group_exclusions = _log_group_exclusions(check)
    scp_targets = _scp_targets(check)
    deployer_role_arns = _deployer_role_arns(check, partition, home_region, management_account_id)
    cloudfront_legacy_logging = _cloudfront_legacy_logging(check, partition)
    replication_time_control = check.boolean("replicationTimeControl")
    firehose_partition_quota = check.integer(
        "firehosePartitionQuota",
        DEFAULT_FIREHOSE_PARTITION_QUOTA,
        1,
        MAX_FIREHOSE_PARTITION_QUOTA,
        what="active partitions",
    )
    member_account_ids = _member_account_ids(check, partition)
    alarms = _alarm_thresholds(check)
    telemetry_rules = _telemetry_rules(check, partition)
    bootstrap = check.boolean("bootstrap")
    reader_principal_arns = _reader_principal_arns(check, partition, home_region)
    athena_bytes_scanned_cutoff = check.integer(
        "athenaBytesScannedCutoff",
        DEFAULT_ATHENA_BYTES_SCANNED_CUTOFF,
        MIN_ATHENA_BYTES_SCANNED_CUTOFF,
        MAX_ATHENA_BYTES_SCANNED_CUTOFF,
        what="bytes",
    )
    deep_archive_after_days = _deep_archive_after_days(check, retention_days)
    if check.problems:
        raise SettingsError(check.problems)
    return Settings(
        role=role,
        name_prefix=name_prefix,
        org_id=org_id,
        management_account_id=management_account_id,
        log_archive_account_id=log_archive_account_id,
        home_region=home_region,
        regions=tuple(regions),
        admin_role_name=admin_role_name,
        region=stack_region or home_region,
        account_id=account_id,
        retention_days=retention_days,
        object_lock=object_lock,
        alert_emails=alert_emails,
        log_group_exclusions=log_group_exclusions,
        local_retention_days=local_retention_days,
        scp_targets=scp_targets,
        deployer_role_arns=deployer_role_arns,
        cloudfront_legacy_logging=cloudfront_legacy_logging,
        replication_time_control=replication_time_control,
        member_account_ids=member_account_ids,
        firehose_partition_quota=firehose_partition_quota,
        **alarms,
        telemetry_rules=telemetry_rules,
        bootstrap=bootstrap,
        reader_principal_arns=reader_principal_arns,
        athena_bytes_scanned_cutoff=athena_bytes_scanned_cutoff,
        deep_archive_after_days=deep_archive_after_days,
    )


def _role(values: Mapping[str, Any], label: Callable[[str], str]) -> Role:
    """The role decides which keys apply: without a valid one nothing else can be checked."""
    role = values.get("role")
    if role not in ROLES:
        raise SettingsError(
            [f"{label('role')} {show(role)} must be one of {', '.join(ROLES)}"]
            if role is not None
            else [f"{label('role')} is required: one of {', '.join(ROLES)}"]
        )
    return role


def _unknown_keys(check: Checker) -> None:
    """A misspelt key, or another role's, is an error: silently ignored it would change nothing."""
    allowed = set(COMMON_KEYS) | set(ROLE_KEYS[check.role])
    for key in sorted(set(check.values) - allowed):
        value = check.values[key]
        if key in ALL_KEYS:
            owners = [name for name, keys in ROLE_KEYS.items() if key in keys]
            check.fail(key, value, f"applies to role {owners[0]!r} only, not {check.role!r}")
        else:
            check.fail(key, value, f"is not a known key; known keys: {', '.join(ALL_KEYS)}")


def _name_prefix(check: Checker) -> str:
    name_prefix = check.required("namePrefix")
    if name_prefix is not None and not (
        isinstance(name_prefix, str) and conventions.is_valid_name_prefix(name_prefix)
    ):
        check.fail("namePrefix", name_prefix, conventions.NAME_PREFIX_RULE)
    return name_prefix


def _regions(
    check: Checker, home_region: str, partition: conventions.Partition | None
) -> list[str]:
    """The enrolled regions: known, once each, one partition, the home region among them."""
    regions: list[str] = []
    region_list = check.structured("regions", list)
    if check.values.get("regions") in (None, ""):
        check.required("regions")
    for region in region_list or []:
        if not check.region("regions", region):
            continue
        if region in regions:
            check.fail("regions", region, "(an item) is listed twice")
        elif partition and (other := conventions.partition_of(region)) != partition:
            check.fail(
                "regions",
                region,
                f"(an item) is in partition {other.name}, but homeRegion "
                f"{home_region!r} is in {partition.name}; one organization is one partition",
            )
        else:
            regions.append(region)
    if region_list is not None and not region_list:
        check.fail("regions", region_list, "must list at least one region")
    if home_region and region_list and home_region not in regions:
        check.fail("regions", region_list, f"must include homeRegion {home_region!r}")
    return regions


def _check_stack_region(check: Checker, stack_region: str | None, regions: list[str]) -> None:
    """A source stack enrolls its `aws:region`, which must be an enrolled region."""
    if check.role != "source":
        return
    if not stack_region:
        check.problems.append(
            "aws:region is required for role 'source': it is the region this stack enrolls"
        )
    elif check.region("aws:region", stack_region) and regions and stack_region not in regions:
        check.fail("aws:region", stack_region, f"must be one of regions {show(regions)}")


def _log_group_exclusions(check: Checker) -> tuple[str, ...]:
    exclusions = check.string_list(
        "logGroupExclusions",
        conventions.LOG_GROUP_NAME_PATTERN,
        "must be a log group name (1-512 of letters, digits and . - _ / #)",
    )
    if naming.CANARY_LOG_GROUP in exclusions:
        check.fail(
            "logGroupExclusions",
            naming.CANARY_LOG_GROUP,
            "must not be excluded: `org-logging verify` proves the subscription with it",
        )
    criteria = len(json.dumps(list(exclusions))) + len("LogGroupName NOT IN ")
    if criteria > MAX_SELECTION_CRITERIA_CHARS:
        check.fail(
            "logGroupExclusions",
            f"<{len(exclusions)} names>",
            f"make a selection criteria of {criteria} characters; CloudWatch Logs allows "
            f"{MAX_SELECTION_CRITERIA_CHARS}",
        )
    return exclusions


def _scp_targets(check: Checker) -> tuple[str, ...]:
    targets = check.string_list(
        "scpTargets", SCP_TARGET_PATTERN, f"must be a root or OU id ({SCP_TARGET_PATTERN.pattern})"
    )
    if check.values.get("scpTargets") is not None and not targets and not check.problems:
        check.fail("scpTargets", check.values["scpTargets"], "must list at least one root or OU id")
    return targets


def _deployer_role_arns(
    check: Checker,
    partition: conventions.Partition | None,
    home_region: str,
    management_account_id: str,
) -> tuple[str, ...]:
    """Roles of the management account, in the organization's partition, that may assume
    adminRoleName; their trust policy must fit IAM's quota."""
    key = "deployerRoleArns"
    arns = check.string_list(key, DEPLOYER_ROLE_ARN_PATTERN, DEPLOYER_ROLE_ARN_RULE)
    if check.values.get(key) in ([], "[]"):
        check.fail(key, [], "must list at least one role ARN (or be left out)")
    account_known = management_account_id not in ("", UNDISCOVERED_ACCOUNT_ID)
    good = []
    for arn in arns:
        account = arn.split(":", 5)[4]
        if not _in_partition(check, key, arn, partition, home_region):
            continue
        if account_known and account != management_account_id:
            check.fail(
                key,
                arn,
                f"(an item) is a role of account {account}; a deployer must be a role of the "
                f"management account {management_account_id}",
            )
        else:
            good.append(arn)
    if good and home_region and management_account_id:
        trust = admin_trust_policy(
            region=home_region, management_account=management_account_id, deployer_arns=good
        )
        if (size := policy_chars(trust)) > TRUST_POLICY_MAX_CHARS:
            check.fail(
                key,
                f"<{len(good)} roles>",
                f"make a trust policy of {size} characters; IAM allows {TRUST_POLICY_MAX_CHARS} "
                "(the default quota)",
            )
    return tuple(good)


def _deep_archive_after_days(check: Checker, retention_days: int) -> int | None:
    """Deep Archive after Glacier Instant Retrieval's 90 billable days, and kept there its own
    180 before expiry; queries skip those objects until someone restores them."""
    key = "deepArchiveAfterDays"
    if check.values.get(key) in (None, ""):
        return None
    days = check.integer(key, 0, DEEP_ARCHIVE_MIN_DAYS, MAX_RETENTION_DAYS)
    if days and retention_days < days + DEEP_ARCHIVE_MIN_DAYS:
        check.fail(
            key,
            days,
            f"must leave {DEEP_ARCHIVE_MIN_DAYS} days (Deep Archive's minimum) before "
            f"retentionDays ({retention_days})",
        )
    return days or None


def _reader_principal_arns(
    check: Checker, partition: conventions.Partition | None, home_region: str
) -> tuple[str, ...]:
    """Who may assume the archive's reader role; IAM principals of the organization's
    partition."""
    key = "readerPrincipalArns"
    arns = check.string_list(key, READER_PRINCIPAL_ARN_PATTERN, READER_PRINCIPAL_ARN_RULE)
    good = []
    for arn in arns:
        if _in_partition(check, key, arn, partition, home_region):
            good.append(arn)
    return tuple(good)


def _in_partition(
    check: Checker, key: str, arn: str, partition: conventions.Partition | None, home_region: str
) -> bool:
    """An ARN of the organization's partition (the one of homeRegion); else a problem."""
    arn_partition = arn.split(":")[1]
    if partition and arn_partition != partition.name:
        check.fail(
            key,
            arn,
            f"(an item) is in partition {arn_partition}, but homeRegion {home_region!r} is "
            f"in {partition.name}; one organization is one partition",
        )
        return False
    return True


def _cloudfront_legacy_logging(check: Checker, partition: conventions.Partition | None) -> bool:
    legacy = check.boolean("cloudFrontLegacyLogging")
    if legacy and partition and partition.name != "aws":
        check.fail(
            "cloudFrontLegacyLogging",
            True,
            f"is only available in partition aws (CloudFront's log-delivery account), "
            f"not {partition.name}",
        )
    return legacy


def _admin_role_name(check: Checker) -> str:
    value = check.required("adminRoleName")
    if value is None:
        return ""
    if isinstance(value, str) and ("/" in value or value.startswith("arn:")):
        check.fail("adminRoleName", value, ADMIN_ROLE_PATH_RULE)
        return ""
    return check.string("adminRoleName", IAM_ROLE_NAME_PATTERN)


def _member_account_ids(
    check: Checker, partition: conventions.Partition | None
) -> tuple[str, ...] | None:
    """The enrolled accounts (the plan fills them in). aws-cn destination policies name them,
    since aws:PrincipalOrgID is not accepted there (AWS's Landing Zone Accelerator does this)."""
    if check.role != "log-archive":
        return None
    accounts = check.string_list(
        "memberAccountIds", ACCOUNT_ID_PATTERN, "must be a 12-digit account id"
    )
    given = check.values.get("memberAccountIds") not in (None, "")
    if partition is not None and partition.name == conventions.AWS_CN.name:
        if not given:
            check.problems.append(
                f"{check.name('memberAccountIds')} is required in partition aws-cn: its "
                "CloudWatch Logs destination policies list the member accounts (the plan sets it)"
            )
            return None
        size = destination_policy_bytes(accounts)
        if size > DESTINATION_POLICY_MAX_BYTES:
            check.fail(
                "memberAccountIds",
                f"<{len(accounts)} accounts>",
                f"make a destination policy of {size} bytes; CloudWatch Logs allows "
                f"{DESTINATION_POLICY_MAX_BYTES} (about "
                f"{max_destination_policy_accounts()} accounts in aws-cn)",
            )
    return accounts if given else None


def _object_lock(check: Checker, retention_days: int) -> ObjectLock | None:
    value = check.structured("objectLock", dict)
    if value is None:
        return None
    mode, days = value.get("mode"), value.get("days")
    acknowledged = value.get(LONG_COMPLIANCE_ACK, False)
    extra = sorted(set(value) - {"mode", "days", LONG_COMPLIANCE_ACK})
    if extra:
        check.fail(
            "objectLock",
            value,
            f"has unknown fields {extra}; allowed: mode, days, {LONG_COMPLIANCE_ACK}",
        )
    if mode not in OBJECT_LOCK_MODES:
        check.fail("objectLock", value, "mode must be GOVERNANCE or COMPLIANCE")
        return None
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= retention_days:
        # A lock longer than the retention keeps objects the lifecycle is meant to expire.
        check.fail(
            "objectLock",
            value,
            f"days must be a whole number from 1 to retentionDays ({retention_days})",
        )
        return None
    if not isinstance(acknowledged, bool):
        check.fail("objectLock", value, f"{LONG_COMPLIANCE_ACK} must be true or false")
        return None
    if mode == "COMPLIANCE" and days > LONG_COMPLIANCE_DAYS and not acknowledged:
        # https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock.html: in compliance
        # mode nobody, the root user included, can shorten the retention or delete the object.
        check.fail(
            "objectLock",
            value,
            f"a COMPLIANCE lock of {days} days (more than {LONG_COMPLIANCE_DAYS}) cannot be "
            "shortened or lifted by anyone, the root user included, and every object costs "
            f"storage until it expires; set objectLock.{LONG_COMPLIANCE_ACK}: true to confirm",
        )
        return None
    return ObjectLock(mode=mode, days=days)


def _alarm_thresholds(check: Checker) -> dict[str, int]:
    """The alarm thresholds (each role reads its own; the others keep their defaults)."""
    return {
        "alarm_freshness_margin_seconds": check.integer(
            "alarmFreshnessMarginSeconds",
            DEFAULT_ALARM_FRESHNESS_MARGIN_SECONDS,
            MIN_ALARM_FRESHNESS_MARGIN_SECONDS,
            MAX_ALARM_FRESHNESS_MARGIN_SECONDS,
            what="seconds",
        ),
        "alarm_replication_latency_seconds": check.integer(
            "alarmReplicationLatencySeconds",
            DEFAULT_ALARM_REPLICATION_LATENCY_SECONDS,
            ALARM_PERIOD_SECONDS,
            MAX_ALARM_REPLICATION_LATENCY_SECONDS,
            what="seconds",
        ),
        "alarm_delivery_error_events": check.integer(
            "alarmDeliveryErrorEvents",
            DEFAULT_ALARM_DELIVERY_EVENTS,
            0,
            MAX_ALARM_DELIVERY_EVENTS,
            what="log events",
        ),
        "alarm_delivery_throttled_events": check.integer(
            "alarmDeliveryThrottledEvents",
            DEFAULT_ALARM_DELIVERY_EVENTS,
            0,
            MAX_ALARM_DELIVERY_EVENTS,
            what="log events",
        ),
    }


def _telemetry_rules(check: Checker, partition: conventions.Partition | None) -> tuple[str, ...]:
    """Organization telemetry rules to create (docs/configuration.md, "Coverage by default")."""
    kinds = check.string_list(
        "telemetryRules",
        TELEMETRY_KIND_PATTERN,
        f"must be one of {', '.join(TELEMETRY_KINDS)}",
    )
    if kinds and partition and partition.name not in TELEMETRY_PARTITIONS:
        check.fail(
            "telemetryRules",
            list(kinds),
            f"is only available in partition {', '.join(TELEMETRY_PARTITIONS)} (organization "
            f"telemetry rules are not documented in {partition.name}), not {partition.name}",
        )
        return ()
    return kinds


def from_pulumi_config() -> Settings:
    """Settings of the running Pulumi stack (namespace `org-logging`, region `aws:region`)."""
    import pulumi
    from pulumi.runtime.config import CONFIG

    prefix = config_key("")
    # Read every key of the namespace so that a misspelt key is reported, not silently ignored.
    keys = [key[len(prefix) :] for key in CONFIG.get() if key.startswith(prefix)]
    config = pulumi.Config(NAMESPACE)
    values = {key: config.get(key) for key in keys}
    return parse_settings(values, stack_region=pulumi.Config("aws").get("region"))
