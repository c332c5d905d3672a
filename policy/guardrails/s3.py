"""S3: bucket naming, the central bucket's hardening, replication that keeps history."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import conventions
from guardrails.values import (
    any_matches,
    as_list,
    config_of,
    declare_config,
    first,
    get,
    is_true,
    is_unknown,
    name_prefix,
    never_crash,
    parse_document,
    provider_config,
    resource_region,
    statements,
    unproxied,
)
from pulumi_policy import EnforcementLevel, ResourceValidationPolicy, StackValidationPolicy

BUCKET_TYPES = ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2")
REPLICATION_CONFIG = "aws:s3/bucketReplicationConfig:BucketReplicationConfig"
# Purposes that name org-logging's own buckets: anything else starting so would be mistaken for
# one (and be protected by the SCP's name patterns).
LOG_PURPOSES = ("logs", "org-logs", "org-logs-access")
NAMING_HELP = "{namePrefix}-{purpose}-{accountId}-{region}"
NAMING = "s3-bucket-naming"
REPLICATION = "log-replication-preserves-history"
CENTRAL_BUCKET = "central-bucket-hardened"
NAME_PREFIX = {
    "namePrefix": {
        "type": "string",
        "description": "The organization's namePrefix (default: the stack's "
        "org-logging:namePrefix).",
    }
}


def convention_pattern(prefix: str) -> re.Pattern[str]:
    return re.compile(
        rf"^{re.escape(prefix)}-(?P<purpose>[a-z0-9]+(?:-[a-z0-9]+)*)-(?P<account>[0-9]{{12}})"
        r"-(?P<region>[a-z]{2}(?:-[a-z]+)+-[0-9]+)$"
    )


def bucket_name_violation(
    name: str, prefix: str | None, region: str | None, extra: list[str], allowed_accounts: list
) -> str | None:
    """Why `name` breaks S3's rules or the convention, or None."""
    example = f"{prefix or '<namePrefix>'}-<purpose>-<accountId>-<region>"
    problem = conventions.bucket_name_problem(name)
    if problem:
        return (
            f"Bucket name {name!r} is not a valid S3 bucket name: it {problem}. "
            f"Rename it following {NAMING_HELP}: {example}."
        )
    if any(re.fullmatch(pattern, name) for pattern in extra):
        return None
    if prefix is None:
        return None
    match = convention_pattern(prefix).fullmatch(name)
    if not match:
        return (
            f"Bucket name {name!r} does not follow the naming convention {NAMING_HELP} with "
            f"namePrefix {prefix!r} (purpose: lowercase words joined by '-'). Rename it, e.g. "
            f"{prefix}-app-data-123456789012-us-east-1, or add a pattern to this policy's "
            "allowedPatterns."
        )
    purpose, account, named_region = match["purpose"], match["account"], match["region"]
    if named_region not in conventions.REGIONS:
        return (
            f"Bucket name {name!r} ends in {named_region!r}, which is not an AWS region; "
            f"rename it to end in the bucket's region."
        )
    if region and named_region != region:
        return (
            f"Bucket name {name!r} names region {named_region!r} but the bucket is created in "
            f"{region!r}; use {prefix}-{purpose}-{account}-{region}."
        )
    if allowed_accounts and account not in allowed_accounts:
        return (
            f"Bucket name {name!r} names account {account}, but this stack deploys into "
            f"{', '.join(allowed_accounts)} (provider allowedAccountIds); rename it to "
            f"{prefix}-{purpose}-{allowed_accounts[0]}-{named_region}."
        )
    if purpose.startswith(("logs", "org-logs")) and purpose not in LOG_PURPOSES:
        return (
            f"Bucket purpose {purpose!r} is reserved for org-logging's log buckets: use exactly "
            f"{prefix}-logs-{account}-{named_region} (the account's log bucket), or another "
            "purpose."
        )
    return None


@never_crash(NAMING)
def validate_bucket_naming(args: Any, report_violation: Any) -> None:
    if args.resource_type not in BUCKET_TYPES:
        return
    config = config_of(args, NAMING)
    props = unproxied(args.props)
    name = props.get("bucket")
    if is_unknown(name):
        return  # computed from another resource: judged at `pulumi up`
    prefix = name_prefix(config)
    example = f"{prefix or '<namePrefix>'}-<purpose>-<accountId>-<region>"
    if not name:
        how = "uses bucketPrefix" if props.get("bucketPrefix") else "has no explicit name"
        report_violation(
            f"Bucket {args.name!r} {how}, so Pulumi or AWS picks a random name. Set `bucket` "
            f"explicitly, following {NAMING_HELP}: {example}."
        )
        return
    if not isinstance(name, str):
        report_violation(
            f"Bucket {args.name!r} has a non-text name {name!r}; set `bucket` to {example}."
        )
        return
    allowed_accounts = [
        a for a in as_list(provider_config(args, "allowedAccountIds")) if isinstance(a, str)
    ]
    problem = bucket_name_violation(
        name,
        prefix,
        resource_region(args, props),
        [p for p in as_list(config.get("allowedPatterns")) if isinstance(p, str)],
        allowed_accounts,
    )
    if problem:
        report_violation(problem)


s3_bucket_naming = ResourceValidationPolicy(
    name=NAMING,
    description=(
        "Every S3 bucket has an explicit name that is a valid S3 name and follows "
        f"{NAMING_HELP}; log buckets follow org-logging's names exactly."
    ),
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=validate_bucket_naming,
    config_schema=declare_config(
        NAMING,
        {
            **NAME_PREFIX,
            "allowedPatterns": {
                "type": "array",
                "items": {"type": "string"},
                "description": "Full-match regular expressions (Python syntax) of bucket names "
                "exempt from the convention (still checked against S3's rules).",
            },
        },
        regex_properties=["allowedPatterns"],
    ),
)


# ---- replication keeps history ---------------------------------------------------------------


def central_bucket_arn_pattern(prefix: str | None) -> re.Pattern[str]:
    who = re.escape(prefix) if prefix else "[a-z0-9-]+"
    return re.compile(rf"^arn:[a-z-]+:s3:::{who}-org-logs-[0-9]{{12}}-[a-z0-9-]+$")


def replication_rule_problems(
    rule: Mapping[str, Any], index: int, prefix: str | None, source_account: str | None
) -> list[str]:
    where = f"Replication rule {rule.get('id') or index}"
    problems = []
    if rule.get("prefix") not in (None, "") and rule.get("filter") is None:
        problems.append(
            f"{where} uses the V1 schema (`prefix`), under which S3 replicates delete markers; "
            "use `filter: {prefix: ...}` and `deleteMarkerReplication: {status: Disabled}`."
        )
    marker = get(first(rule.get("deleteMarkerReplication")), "status")
    if not is_unknown(marker) and marker != "Disabled":
        problems.append(
            f"{where} must set deleteMarkerReplication.status to Disabled (it is {marker!r}): "
            "deleting a local copy must never hide the archived log."
        )
    destination = first(rule.get("destination")) or {}
    bucket_arn = get(destination, "bucket")
    if isinstance(bucket_arn, str) and central_bucket_arn_pattern(prefix).fullmatch(bucket_arn):
        filter_prefix = get(first(rule.get("filter")), "prefix")
        if not is_unknown(filter_prefix) and not (
            isinstance(filter_prefix, str)
            and re.fullmatch(rf"{conventions.AWS_LOGS}/[0-9]{{12}}/", filter_prefix)
        ):
            problems.append(
                f"{where} replicates into the central log bucket with filter prefix "
                f"{filter_prefix!r}; replicate exactly {conventions.AWS_LOGS}/<accountId>/."
            )
        elif (
            source_account
            and not is_unknown(filter_prefix)
            and filter_prefix != conventions.account_logs_prefix(source_account)
        ):
            problems.append(
                f"{where} replicates {filter_prefix!r} into the central log bucket, but its source "
                f"bucket belongs to account {source_account}: an account may only replicate "
                f"{conventions.account_logs_prefix(source_account)} (the archive refuses the rest)."
            )
        owner = get(first(destination.get("accessControlTranslation")), "owner")
        account = destination.get("account")
        if account and not is_unknown(owner) and owner != "Destination":
            problems.append(
                f"{where} must make replicas owned by the destination account: set "
                "destination.accessControlTranslation.owner to Destination."
            )
    return problems


@never_crash(REPLICATION)
def validate_replication(args: Any, report_violation: Any) -> None:
    if args.resource_type != REPLICATION_CONFIG and args.resource_type not in BUCKET_TYPES:
        return
    props = unproxied(args.props)
    prefix = name_prefix(config_of(args, REPLICATION))
    if args.resource_type == REPLICATION_CONFIG:
        rules = props.get("rules")
    else:
        # The deprecated inline replicationConfiguration of a bucket.
        rules = get(first(props.get("replicationConfiguration")), "rules")
        for index, rule in enumerate(as_list(rules)):
            if isinstance(rule, Mapping) and rule.get("deleteMarkerReplicationStatus") == "Enabled":
                report_violation(
                    f"Replication rule {rule.get('id') or index} replicates delete markers; set "
                    "deleteMarkerReplicationStatus to Disabled (better: use "
                    "aws.s3.BucketReplicationConfig)."
                )
        return
    if is_unknown(rules):
        return
    source = props.get("bucket")
    named = (
        convention_pattern(prefix).fullmatch(source) if prefix and isinstance(source, str) else None
    )
    for index, rule in enumerate(as_list(rules)):
        if isinstance(rule, Mapping):
            for problem in replication_rule_problems(
                rule, index, prefix, named["account"] if named else None
            ):
                report_violation(problem)


log_replication_preserves_history = ResourceValidationPolicy(
    name=REPLICATION,
    description=(
        "S3 replication never replicates deletions: V2 rules with delete-marker replication "
        "disabled; replication into the central bucket covers exactly AWSLogs/<account>/ and "
        "hands replicas to the destination account."
    ),
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=validate_replication,
    config_schema=declare_config(REPLICATION, NAME_PREFIX),
)


# ---- the central bucket's hardening (stack) --------------------------------------------------


def attached_to(resource: Any, bucket: Any, bucket_name: str) -> bool:
    """Whether a bucket sub-resource configures `bucket`: by name, or wired by dependency."""
    props = unproxied(resource.props)
    if props.get("bucket") == bucket_name:
        return True
    return any(dep.urn == bucket.urn for dep in resource.property_dependencies.get("bucket", []))


def grants(statement: Mapping[str, Any], action: str) -> bool:
    """Whether an Allow statement covers `action`: by a wildcard too, or by NotAction."""
    if statement.get("Effect") != "Allow":
        return False
    if "NotAction" in statement:
        return not any_matches(as_list(statement.get("NotAction")), action)
    return any_matches(as_list(statement.get("Action")), action)


def central_bucket_problems(bucket_name: str, parts: dict[str, list[dict[str, Any]]]) -> list[str]:
    problems = []

    def one(kind: str) -> dict[str, Any] | None:
        found = parts.get(kind) or []
        return found[0] if found else None

    versioning = one("aws:s3/bucketVersioning:BucketVersioning")
    status = get(first(get(versioning, "versioningConfiguration")), "status")
    if not is_unknown(status) and status != "Enabled":
        problems.append("versioning must be Enabled (add aws.s3.BucketVersioning)")
    ownership = one("aws:s3/bucketOwnershipControls:BucketOwnershipControls")
    mode = get(first(get(ownership, "rule")), "objectOwnership")
    if not is_unknown(mode) and mode != "BucketOwnerEnforced":
        problems.append("Object Ownership must be BucketOwnerEnforced")
    block = one("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock") or {}
    flags = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
    off = [f for f in flags if not is_unknown(block.get(f)) and not is_true(block.get(f))]
    if off:
        problems.append(f"the public-access block must set {', '.join(off)} to true")
    encryption = one(
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
    )
    rule = first(get(encryption, "rules")) or {}
    algorithm = get(first(rule.get("applyServerSideEncryptionByDefault")), "sseAlgorithm")
    if not is_unknown(algorithm) and (
        algorithm != "aws:kms" or not is_true(rule.get("bucketKeyEnabled"))
    ):
        problems.append("default encryption must be aws:kms with bucketKeyEnabled")
    policy = one("aws:s3/bucketPolicy:BucketPolicy")
    if policy is None:
        problems.append("a bucket policy must deny non-TLS requests and deletions")
    elif not is_unknown(policy.get("policy")):
        document, error = parse_document(policy.get("policy"))
        if document is None:
            problems.append(f"its bucket policy {error}")
        else:
            denies_tls = any(
                s.get("Effect") == "Deny"
                and get(s, "Condition", "Bool", "aws:SecureTransport") in ("false", False)
                for s in statements(document)
            )
            if not denies_tls:
                problems.append(
                    "the bucket policy must deny requests without TLS (aws:SecureTransport false)"
                )
            if any(grants(s, "s3:ReplicateDelete") for s in statements(document)):
                problems.append("the bucket policy must not allow s3:ReplicateDelete (or s3:*)")
    if not parts.get("aws:s3/bucketLogging:BucketLogging"):
        problems.append(
            "server access logging must go to the access-log bucket (aws.s3.BucketLogging)"
        )
    return problems


@never_crash(CENTRAL_BUCKET)
def validate_central_bucket(args: Any, report_violation: Any) -> None:
    if not any(r.resource_type in BUCKET_TYPES for r in args.resources):
        return
    prefix = name_prefix(config_of(args, CENTRAL_BUCKET))
    who = re.escape(prefix) if prefix else "[a-z0-9-]+"
    pattern = re.compile(rf"^{who}-org-logs-[0-9]{{12}}-[a-z0-9-]+$")
    for bucket in args.resources:
        if bucket.resource_type not in BUCKET_TYPES:
            continue
        name = unproxied(bucket.props).get("bucket")
        if not isinstance(name, str) or not pattern.fullmatch(name):
            continue
        parts: dict[str, list[dict[str, Any]]] = {}
        for resource in args.resources:
            if (
                resource.resource_type.startswith("aws:s3/")
                and resource is not bucket
                and attached_to(resource, bucket, name)
            ):
                parts.setdefault(resource.resource_type, []).append(unproxied(resource.props))
        problems = central_bucket_problems(name, parts)
        if problems:
            report_violation(
                f"Central log bucket {name!r} is not hardened: " + "; ".join(problems) + ".",
                bucket.urn,
            )


central_bucket_hardened = StackValidationPolicy(
    name=CENTRAL_BUCKET,
    description=(
        "The central log bucket is versioned, BucketOwnerEnforced, fully blocked from public "
        "access, SSE-KMS with a bucket key, TLS-only, never grants ReplicateDelete, and logs "
        "its access."
    ),
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=validate_central_bucket,
    config_schema=declare_config(CENTRAL_BUCKET, NAME_PREFIX),
)
