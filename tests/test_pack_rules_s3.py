"""S3 rules, AWSGuard style: one valid resource (or stack), then one case per mutated field, each
asserting which rule fired and its exact message.

Replication must never carry a deletion into the archive (delete markers, the V1 schema that
replicates them, an s3:ReplicateDelete grant on the central bucket); bucket names hold 3 to 63
characters (https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from pack_in_process import team_pack_client
from test_policy_pack import PACK_CONFIG, judge

from enroll.offline.analyzer.wire import Resource, make_urn

REPLICATION = "log-replication-preserves-history"
CENTRAL = "acme-org-logs-222222222222-us-east-1"
ARCHIVE_ARN = f"arn:aws:s3:::{CENTRAL}"
SOURCE = "acme-logs-333333333333-us-east-1"


@pytest.fixture(scope="module")
def client():
    with team_pack_client() as started:
        yield started


@pytest.fixture
def pack(client):
    client.configure(PACK_CONFIG)
    return client


def resource(kind: str, logical_name: str, **properties: Any) -> Resource:
    return Resource(
        type=kind,
        urn=make_urn("team", "team-app", kind, logical_name),
        name=logical_name,
        properties=properties,
    )


def fired(found, policy: str) -> list[str]:
    return [d.detail for d, _ in found if d.policy_name == policy]


def mutated(base: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """`base` with `changes` applied; a change to None removes the key."""
    result = {**base, **changes}
    return {key: value for key, value in result.items() if value is not None}


# ---- log-replication-preserves-history ------------------------------------------------------------

RULE = {
    "id": "into-archive",
    "status": "Enabled",
    "filter": {"prefix": "AWSLogs/333333333333/"},
    "deleteMarkerReplication": {"status": "Disabled"},
    "destination": {
        "bucket": ARCHIVE_ARN,
        "account": "222222222222",
        "accessControlTranslation": {"owner": "Destination"},
    },
}


def replication_of(pack, rule: dict[str, Any]) -> list[str]:
    config = resource(
        "aws:s3/bucketReplicationConfig:BucketReplicationConfig",
        "copy",
        bucket=SOURCE,
        role="arn:aws:iam::333333333333:role/replication",
        rules=[rule],
    )
    return fired(judge(pack, [config]), REPLICATION)


KEEP_DELETE_MARKERS = (
    "Replication rule into-archive must set deleteMarkerReplication.status to Disabled (it is "
    "{}): deleting a local copy must never hide the archived log."
)


def test_a_v2_rule_into_the_archive_without_delete_markers_passes(pack):
    assert replication_of(pack, RULE) == []


@pytest.mark.parametrize(
    ("marker", "shown"),
    [({"status": "Enabled"}, "'Enabled'"), ({"status": "enabled"}, "'enabled'"), (None, "None")],
)
def test_delete_marker_replication_must_be_disabled(pack, marker, shown):
    rule = mutated(RULE, deleteMarkerReplication=marker)
    assert replication_of(pack, rule) == [KEEP_DELETE_MARKERS.format(shown)]


def test_the_v1_schema_which_replicates_delete_markers_is_refused(pack):
    rule = mutated(RULE, prefix="AWSLogs/333333333333/", filter=None, deleteMarkerReplication=None)
    assert replication_of(pack, rule) == [
        "Replication rule into-archive uses the V1 schema (`prefix`), under which S3 replicates "
        "delete markers; use `filter: {prefix: ...}` and `deleteMarkerReplication: {status: "
        "Disabled}`.",
        KEEP_DELETE_MARKERS.format("None"),
        "Replication rule into-archive replicates into the central log bucket with filter prefix "
        "None; replicate exactly AWSLogs/<accountId>/.",
    ]


@pytest.mark.parametrize("prefix", ["AWSLogs/", "", "AWSLogs/333333333333", "logs/"])
def test_replication_into_the_archive_covers_exactly_one_account_prefix(pack, prefix):
    assert replication_of(pack, mutated(RULE, filter={"prefix": prefix})) == [
        "Replication rule into-archive replicates into the central log bucket with filter prefix "
        f"{prefix!r}; replicate exactly AWSLogs/<accountId>/."
    ]


def test_an_account_replicates_only_its_own_prefix(pack):
    rule = mutated(RULE, filter={"prefix": "AWSLogs/444444444444/"})
    assert replication_of(pack, rule) == [
        "Replication rule into-archive replicates 'AWSLogs/444444444444/' into the central log "
        "bucket, but its source bucket belongs to account 333333333333: an account may only "
        "replicate AWSLogs/333333333333/ (the archive refuses the rest)."
    ]


def test_replicas_in_the_archive_must_belong_to_the_archive(pack):
    destination = {"bucket": ARCHIVE_ARN, "account": "222222222222"}
    assert replication_of(pack, mutated(RULE, destination=destination)) == [
        "Replication rule into-archive must make replicas owned by the destination account: set "
        "destination.accessControlTranslation.owner to Destination."
    ]


def test_replication_elsewhere_is_judged_only_on_delete_markers(pack):
    elsewhere = mutated(
        RULE,
        filter={"prefix": ""},
        destination={"bucket": "arn:aws:s3:::acme-backup-333333333333-eu-west-1"},
    )
    assert replication_of(pack, elsewhere) == []
    enabled = mutated(elsewhere, deleteMarkerReplication={"status": "Enabled"})
    assert replication_of(pack, enabled) == [KEEP_DELETE_MARKERS.format("'Enabled'")]


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("Disabled", []),
        (
            "Enabled",
            [
                "Replication rule inline replicates delete markers; set "
                "deleteMarkerReplicationStatus to Disabled (better: use "
                "aws.s3.BucketReplicationConfig)."
            ],
        ),
    ],
)
def test_a_bucket_inline_replication_rule_must_not_replicate_delete_markers(pack, status, expected):
    bucket = resource(
        "aws:s3/bucket:Bucket",
        "data",
        bucket="acme-app-data-333333333333-us-east-1",
        replicationConfiguration={
            "role": "arn:aws:iam::333333333333:role/replication",
            "rules": [
                {"id": "inline", "status": "Enabled", "deleteMarkerReplicationStatus": status}
            ],
        },
    )
    assert fired(judge(pack, [bucket]), REPLICATION) == expected


# ---- central-bucket-hardened -------------------------------------------------------------------

TLS_ONLY = {
    "Sid": "DenyInsecureTransport",
    "Effect": "Deny",
    "Principal": "*",
    "Action": "s3:*",
    "Resource": [ARCHIVE_ARN, f"{ARCHIVE_ARN}/*"],
    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
}
REPLICATE_IN = {
    "Sid": "AcceptReplicas",
    "Effect": "Allow",
    "Principal": {"AWS": "arn:aws:iam::333333333333:role/replication"},
    "Action": ["s3:ReplicateObject", "s3:ReplicateTags", "s3:ObjectOwnerOverrideToBucketOwner"],
    "Resource": f"{ARCHIVE_ARN}/AWSLogs/333333333333/*",
}


def central_stack(*statements: dict[str, Any], drop: str = "") -> list[Resource]:
    """The central bucket with every hardening part; `drop` leaves one part out."""
    parts = {
        "versioning": (
            "aws:s3/bucketVersioning:BucketVersioning",
            {"versioningConfiguration": {"status": "Enabled"}},
        ),
        "ownership": (
            "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
            {"rule": {"objectOwnership": "BucketOwnerEnforced"}},
        ),
        "public-access": (
            "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
            {
                "blockPublicAcls": True,
                "blockPublicPolicy": True,
                "ignorePublicAcls": True,
                "restrictPublicBuckets": True,
            },
        ),
        "encryption": (
            "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
            {
                "rules": [
                    {
                        "applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms"},
                        "bucketKeyEnabled": True,
                    }
                ]
            },
        ),
        "policy": (
            "aws:s3/bucketPolicy:BucketPolicy",
            {"policy": json.dumps({"Version": "2012-10-17", "Statement": list(statements)})},
        ),
        "logging": (
            "aws:s3/bucketLogging:BucketLogging",
            {"targetBucket": "acme-org-logs-access-222222222222-us-east-1"},
        ),
    }
    stack = [resource("aws:s3/bucket:Bucket", "central", bucket=CENTRAL)]
    for name, (kind, props) in parts.items():
        if name != drop:
            stack.append(resource(kind, name, bucket=CENTRAL, **props))
    return stack


def hardening_of(pack, stack: list[Resource]) -> list[str]:
    return fired(judge(pack, stack), "central-bucket-hardened")


def not_hardened(problem: str) -> list[str]:
    return [f"Central log bucket {CENTRAL!r} is not hardened: {problem}."]


def test_a_fully_hardened_central_bucket_passes(pack):
    assert hardening_of(pack, central_stack(TLS_ONLY, REPLICATE_IN)) == []


@pytest.mark.parametrize(
    "grant",
    [
        "s3:ReplicateDelete",
        "S3:replicatedelete",
        "s3:Replicate*",
        "s3:*",
        "*",
        ["s3:ReplicateObject", "s3:ReplicateDelete"],
    ],
)
def test_a_bucket_policy_granting_replicate_delete_is_refused(pack, grant):
    statement = {**REPLICATE_IN, "Action": grant}
    assert hardening_of(pack, central_stack(TLS_ONLY, statement)) == not_hardened(
        "the bucket policy must not allow s3:ReplicateDelete (or s3:*)"
    )


def test_an_allow_not_action_grants_replicate_delete_unless_it_names_it(pack):
    others = {**REPLICATE_IN, "NotAction": "s3:GetObject"}
    del others["Action"]
    assert hardening_of(pack, central_stack(TLS_ONLY, others)) == not_hardened(
        "the bucket policy must not allow s3:ReplicateDelete (or s3:*)"
    )
    excluded = {**others, "NotAction": ["s3:ReplicateDelete", "s3:DeleteObject*"]}
    assert hardening_of(pack, central_stack(TLS_ONLY, excluded)) == []


def test_denying_replicate_delete_is_no_grant(pack):
    deny = {**REPLICATE_IN, "Effect": "Deny", "Action": "s3:ReplicateDelete"}
    assert hardening_of(pack, central_stack(TLS_ONLY, REPLICATE_IN, deny)) == []


@pytest.mark.parametrize(
    ("drop", "problem"),
    [
        ("versioning", "versioning must be Enabled (add aws.s3.BucketVersioning)"),
        ("ownership", "Object Ownership must be BucketOwnerEnforced"),
        (
            "public-access",
            "the public-access block must set blockPublicAcls, blockPublicPolicy, "
            "ignorePublicAcls, restrictPublicBuckets to true",
        ),
        ("encryption", "default encryption must be aws:kms with bucketKeyEnabled"),
        ("policy", "a bucket policy must deny non-TLS requests and deletions"),
        (
            "logging",
            "server access logging must go to the access-log bucket (aws.s3.BucketLogging)",
        ),
    ],
)
def test_each_missing_hardening_part_is_named(pack, drop, problem):
    stack = central_stack(TLS_ONLY, REPLICATE_IN, drop=drop)
    assert hardening_of(pack, stack) == not_hardened(problem)


def test_a_policy_without_the_tls_deny_is_refused(pack):
    assert hardening_of(pack, central_stack(REPLICATE_IN)) == not_hardened(
        "the bucket policy must deny requests without TLS (aws:SecureTransport false)"
    )


# ---- s3-bucket-naming: 3 to 63 characters ------------------------------------------------------


def naming_of(pack, name: str) -> list[str]:
    bucket = resource("aws:s3/bucket:Bucket", "data", bucket=name, region="us-east-1")
    return fired(judge(pack, [bucket]), "s3-bucket-naming")


def conventional(length: int) -> str:
    """acme-<purpose>-333333333333-us-east-1, its purpose padded to `length` characters."""
    fixed = len("acme--333333333333-us-east-1")
    return f"acme-{'a' * (length - fixed)}-333333333333-us-east-1"


def test_a_conventional_name_of_63_characters_passes_and_64_does_not(pack):
    assert naming_of(pack, conventional(63)) == []
    name = conventional(64)
    assert naming_of(pack, name) == [
        f"Bucket name {name!r} is not a valid S3 bucket name: it is 64 characters long; S3 "
        "allows 3 to 63. Rename it following {namePrefix}-{purpose}-{accountId}-{region}: "
        "acme-<purpose>-<accountId>-<region>."
    ]
