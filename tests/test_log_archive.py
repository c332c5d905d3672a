"""LogArchive: each promise of the log-archive stack, asserted on the inputs the program registers:
its storage (the central and access-log buckets, the bucket policy, the key) and the stack as a
whole; test_log_archive_delivery.py has its delivery paths and alerts."""

from __future__ import annotations

import json

from conftest import (
    ADMIN_ROLE,
    LOG_ARCHIVE,
    MANAGEMENT,
    ORG_ID,
    as_list,
    policy_doc,
    render_config,
    stack_config,
    statements,
)

CENTRAL = "acme-org-logs-222222222222-us-east-1"
ACCESS = "acme-org-logs-access-222222222222-us-east-1"
TRAIL_ARN = "arn:aws:cloudtrail:us-east-1:111111111111:trail/acme-org-trail"
ADMIN_ARN = f"arn:aws:iam::{LOG_ARCHIVE}:role/{ADMIN_ROLE}"
S3 = "aws:s3/"


def child(rendered, token: str, name: str):
    return rendered.one(token, name)


# ---- central bucket ------------------------------------------------------------------------


def test_central_bucket_is_named_by_convention_in_the_home_region(log_archive):
    bucket = log_archive.one("aws:s3/bucket:Bucket", "log-archive-central")
    assert bucket.inputs["bucket"] == CENTRAL
    assert bucket.inputs["region"] == "us-east-1"


def test_central_bucket_versioning_is_on(log_archive):
    versioning = child(
        log_archive, "aws:s3/bucketVersioning:BucketVersioning", "log-archive-central-versioning"
    )
    assert versioning.inputs["versioningConfiguration"] == {"status": "Enabled"}


def test_central_bucket_owner_is_enforced(log_archive):
    ownership = child(
        log_archive,
        "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
        "log-archive-central-ownership",
    )
    assert ownership.inputs["rule"] == {"objectOwnership": "BucketOwnerEnforced"}


def test_central_bucket_blocks_all_public_access(log_archive):
    block = child(
        log_archive,
        "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
        "log-archive-central-public-access-block",
    )
    for flag in (
        "blockPublicAcls",
        "blockPublicPolicy",
        "ignorePublicAcls",
        "restrictPublicBuckets",
    ):
        assert block.inputs[flag] is True, flag


def test_central_bucket_is_sse_kms_with_bucket_key_under_a_rotating_cmk(log_archive):
    encryption = child(
        log_archive,
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        "log-archive-central-encryption",
    )
    (rule,) = encryption.inputs["rules"]
    key = log_archive.one("aws:kms/key:Key")
    assert rule["bucketKeyEnabled"] is True
    assert rule["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "aws:kms"
    assert rule["applyServerSideEncryptionByDefault"]["kmsMasterKeyId"].startswith(
        "arn:aws:kms:us-east-1:222222222222:key/"
    )
    assert key.inputs["enableKeyRotation"] is True


def test_central_bucket_denies_requests_without_tls(log_archive):
    policy = policy_doc(
        child(log_archive, "aws:s3/bucketPolicy:BucketPolicy", "log-archive-central-policy")
    )
    deny = statements(policy)["DenyInsecureTransport"]
    assert deny["Effect"] == "Deny" and deny["Action"] == "s3:*"
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert set(deny["Resource"]) == {f"arn:aws:s3:::{CENTRAL}", f"arn:aws:s3:::{CENTRAL}/*"}


def test_central_bucket_moves_to_colder_storage_and_expires_after_retention(log_archive):
    lifecycle = child(
        log_archive,
        "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
        "log-archive-central-lifecycle",
    )
    rule = next(r for r in lifecycle.inputs["rules"] if r["id"] == "archive-then-expire")
    assert rule["expiration"] == {"days": 365}
    assert [t["storageClass"] for t in rule["transitions"]] == [
        "STANDARD_IA",
        "GLACIER_IR",
        "DEEP_ARCHIVE",
    ]
    assert all(t["days"] < 365 for t in rule["transitions"])


def test_short_retention_keeps_only_the_transitions_it_outlasts():
    rendered = render_config(stack_config("log-archive", retentionDays=100), "log-archive")
    lifecycle = rendered.one(
        "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
        "log-archive-central-lifecycle",
    )
    rule = next(r for r in lifecycle.inputs["rules"] if r["id"] == "archive-then-expire")
    assert rule["expiration"] == {"days": 100}
    assert [t["storageClass"] for t in rule["transitions"]] == ["STANDARD_IA"]


def test_object_lock_is_optional_and_applied_when_configured(log_archive):
    assert (
        log_archive.of_type("aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration")
        == []
    )
    assert (
        "objectLockEnabled"
        not in log_archive.one("aws:s3/bucket:Bucket", "log-archive-central").inputs
    )
    locked = render_config(
        stack_config("log-archive", objectLock={"mode": "COMPLIANCE", "days": 90}), "log-archive"
    )
    assert (
        locked.one("aws:s3/bucket:Bucket", "log-archive-central").inputs["objectLockEnabled"]
        is True
    )
    lock = locked.one("aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration")
    assert lock.inputs["rule"] == {"defaultRetention": {"mode": "COMPLIANCE", "days": 90}}


def test_access_logging_goes_to_a_separate_sse_s3_bucket_that_is_never_locked():
    rendered = render_config(
        stack_config("log-archive", objectLock={"mode": "GOVERNANCE", "days": 30}), "log-archive"
    )
    logging = rendered.one("aws:s3/bucketLogging:BucketLogging")
    access = rendered.one("aws:s3/bucket:Bucket", "log-archive-access-logs")
    assert access.inputs["bucket"] == ACCESS
    assert logging.inputs["targetBucket"] == ACCESS
    assert logging.inputs["bucket"] == CENTRAL
    assert logging.inputs["targetPrefix"] == f"{CENTRAL}/"
    encryption = rendered.one(
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        "log-archive-access-logs-encryption",
    )
    assert encryption.inputs["rules"][0]["applyServerSideEncryptionByDefault"] == {
        "sseAlgorithm": "AES256"
    }
    assert "objectLockEnabled" not in access.inputs
    locks = rendered.of_type("aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration")
    assert [lock.inputs["bucket"] for lock in locks] == [CENTRAL]
    policy = statements(
        policy_doc(
            rendered.one("aws:s3/bucketPolicy:BucketPolicy", "log-archive-access-logs-policy")
        )
    )
    delivery = policy["AllowServerAccessLogDelivery"]
    assert delivery["Principal"] == {"Service": "logging.s3.amazonaws.com"}
    assert delivery["Condition"]["ArnLike"] == {"aws:SourceArn": f"arn:aws:s3:::{CENTRAL}"}
    assert delivery["Condition"]["StringEquals"] == {"aws:SourceAccount": LOG_ARCHIVE}


# ---- central bucket policy ---------------------------------------------------------------


def central_policy(rendered):
    return statements(
        policy_doc(rendered.one("aws:s3/bucketPolicy:BucketPolicy", "log-archive-central-policy"))
    )


def test_replication_is_allowed_only_from_the_org_into_the_principals_own_prefix(log_archive):
    allow = central_policy(log_archive)["AllowOrgReplicationIntoOwnPrefix"]
    assert allow["Effect"] == "Allow"
    assert set(allow["Action"]) == {
        "s3:ReplicateObject",
        "s3:ReplicateTags",
        "s3:ObjectOwnerOverrideToBucketOwner",
    }
    assert allow["Resource"] == f"arn:aws:s3:::{CENTRAL}/AWSLogs/${{aws:PrincipalAccount}}/*"
    assert allow["Condition"]["StringEquals"] == {"aws:PrincipalOrgID": ORG_ID}
    assert allow["Condition"]["ArnLike"] == {
        "aws:PrincipalArn": "arn:aws:iam::*:role/acme-logging-replication-*"
    }


def test_no_one_may_replicate_deletes_into_the_archive(log_archive):
    policy = central_policy(log_archive)
    allowed = [a for s in policy.values() if s["Effect"] == "Allow" for a in as_list(s["Action"])]
    assert "s3:ReplicateDelete" not in allowed
    deny = policy["DenyReplicatedDeletes"]
    assert (deny["Effect"], deny["Action"], deny["Principal"]) == (
        "Deny",
        "s3:ReplicateDelete",
        {"AWS": "*"},
    )


def test_org_trail_writes_only_its_prefixes_with_the_trail_as_source(log_archive):
    policy = central_policy(log_archive)
    write = policy["AllowOrgTrailWrite"]
    assert write["Principal"] == {"Service": "cloudtrail.amazonaws.com"}
    assert write["Action"] == "s3:PutObject"
    assert set(write["Resource"]) == {
        f"arn:aws:s3:::{CENTRAL}/AWSLogs/{ORG_ID}/*",
        f"arn:aws:s3:::{CENTRAL}/AWSLogs/{MANAGEMENT}/*",
    }
    assert write["Condition"]["StringEquals"]["aws:SourceArn"] == TRAIL_ARN
    acl = policy["AllowCloudTrailAclCheck"]
    assert (acl["Action"], acl["Resource"]) == ("s3:GetBucketAcl", f"arn:aws:s3:::{CENTRAL}")
    assert acl["Condition"] == {"StringEquals": {"aws:SourceArn": TRAIL_ARN}}


def test_deletes_and_lifecycle_or_policy_changes_are_denied_to_all_but_the_admin_role(log_archive):
    policy = central_policy(log_archive)
    bucket_deny = policy["DenyBucketTamperingExceptAdmin"]
    object_deny = policy["DenyObjectDeletionExceptAdmin"]
    for deny in (bucket_deny, object_deny):
        assert deny["Effect"] == "Deny" and deny["Principal"] == {"AWS": "*"}
        assert deny["Condition"] == {"ArnNotLike": {"aws:PrincipalArn": ADMIN_ARN}}
    assert {
        "s3:PutLifecycleConfiguration",
        "s3:PutBucketPolicy",
        "s3:DeleteBucketPolicy",
        "s3:DeleteBucket",
    } <= set(bucket_deny["Action"])
    assert {"s3:DeleteObject", "s3:DeleteObjectVersion"} <= set(object_deny["Action"])
    assert object_deny["Resource"] == f"arn:aws:s3:::{CENTRAL}/*"


# ---- KMS key policy ------------------------------------------------------------------------


def key_policy(rendered):
    return statements(policy_doc(rendered.one("aws:kms/key:Key")))


def test_key_lets_cloudtrail_encrypt_only_for_the_management_accounts_trail(log_archive):
    encrypt = key_policy(log_archive)["AllowOrgTrailEncrypt"]
    assert encrypt["Principal"] == {"Service": "cloudtrail.amazonaws.com"}
    assert encrypt["Action"] == "kms:GenerateDataKey*"
    assert encrypt["Condition"] == {
        "StringLike": {
            "kms:EncryptionContext:aws:cloudtrail:arn": f"arn:aws:cloudtrail:*:{MANAGEMENT}:trail/*"
        },
        "StringEquals": {"aws:SourceArn": TRAIL_ARN},
    }


def test_key_lets_the_firehose_role_encrypt_through_s3_only(log_archive):
    firehose = key_policy(log_archive)["AllowFirehoseDelivery"]
    assert firehose["Principal"] == {
        "AWS": f"arn:aws:iam::{LOG_ARCHIVE}:role/acme-logging-firehose"
    }
    assert firehose["Condition"]["StringEquals"] == {"kms:ViaService": "s3.us-east-1.amazonaws.com"}


def test_key_grants_nothing_to_replication_because_replicas_of_sse_s3_stay_sse_s3(log_archive):
    policy = key_policy(log_archive)
    assert "AllowOrgReplicaEncryption" not in policy
    assert not any("replication" in json.dumps(s) for s in policy.values())


def test_key_cannot_be_destroyed_or_repoliced_but_by_the_admin_role(log_archive):
    deny = key_policy(log_archive)["DenyKeyDestructionExceptAdmin"]
    assert {"kms:ScheduleKeyDeletion", "kms:DisableKey", "kms:PutKeyPolicy"} <= set(deny["Action"])
    assert deny["Condition"] == {"ArnNotLike": {"aws:PrincipalArn": ADMIN_ARN}}


# ---- the stack as a whole ----------------------------------------------------------------


def test_exports(log_archive):
    assert set(log_archive.outputs) == {
        "centralBucketName",
        "centralBucketArn",
        "accessLogBucketName",
        "kmsKeyArn",
        "firehoseArns",
        "destinationArns",
        "alertBusArn",
        "alertTopicArn",
        "excludedLogGroups",
    }
    assert log_archive.outputs["centralBucketArn"] == f"arn:aws:s3:::{CENTRAL}"


def test_every_child_is_parented_to_the_component(log_archive):
    component = log_archive.one("org-logging:log_archive:LogArchive")
    children = [r for r in log_archive.resources if r.custom]
    assert children and all(r.parent == component.urn for r in children)


def test_destroy_keeps_the_logs_their_buckets_protections_and_the_key(log_archive):
    """`pulumi destroy` un-enrolls; it never deletes a log, or the key that decrypts it."""
    kept = {(r.type.split(":")[-1], r.name) for r in log_archive.resources if r.retain_on_delete}
    for bucket in ("log-archive-central", "log-archive-access-logs"):
        assert ("Bucket", bucket) in kept
        for part in (
            "Versioning",
            "Policy",
            "PublicAccessBlock",
            "OwnershipControls",
            "LifecycleConfiguration",
        ):
            assert any(t == f"Bucket{part}" and n.startswith(bucket) for t, n in kept), (
                bucket,
                part,
            )
    assert ("Key", "log-archive-key") in kept
    deletable = {
        r.type.split(":")[-1] for r in log_archive.resources if r.custom and not r.retain_on_delete
    }
    assert {"FirehoseDeliveryStream", "LogDestination", "Role", "EventRule"} <= deletable


def test_access_logging_waits_for_the_target_buckets_policy(log_archive):
    logging = log_archive.one("aws:s3/bucketLogging:BucketLogging")
    policy = log_archive.one("aws:s3/bucketPolicy:BucketPolicy", "log-archive-access-logs-policy")
    assert policy.urn in logging.dependencies
