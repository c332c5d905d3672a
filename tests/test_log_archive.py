"""LogArchive: each promise of the log-archive stack, asserted on the inputs the program registers:
its storage (the central and access-log buckets, the key) and the stack as a whole;
test_log_archive_policies.py has the bucket and key policies, test_log_archive_delivery.py the
delivery paths and alerts."""

from __future__ import annotations

from conftest import render_config, stack_config

CENTRAL = "acme-org-logs-222222222222-us-east-1"
ACCESS = "acme-org-logs-access-222222222222-us-east-1"


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


def test_central_bucket_moves_to_colder_storage_and_expires_after_retention(log_archive):
    lifecycle = child(
        log_archive,
        "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
        "log-archive-central-lifecycle",
    )
    rule = next(r for r in lifecycle.inputs["rules"] if r["id"] == "archive-then-expire")
    assert rule["expiration"] == {"days": 365}
    # Both stay readable by Athena (Deep Archive is an opt-in: test_query_storage.py).
    assert [t["storageClass"] for t in rule["transitions"]] == ["STANDARD_IA", "GLACIER_IR"]
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
        "glueDatabase",
        "athenaWorkgroup",
        "readerRoleArn",
    }
    assert log_archive.outputs["centralBucketArn"] == f"arn:aws:s3:::{CENTRAL}"


def test_every_child_is_parented_to_the_component(log_archive):
    """Directly, or through a component of its own (the query layer)."""
    component = log_archive.one("org-logging:log_archive:LogArchive")
    parents = {r.urn: r.parent for r in log_archive.resources}

    def ancestors(urn: str):
        while parents.get(urn):
            urn = parents[urn]
            yield urn

    children = [r for r in log_archive.resources if r.custom]
    assert children and all(component.urn in ancestors(r.urn) for r in children)
    nested = [r for r in log_archive.resources if not r.custom and r.parent == component.urn]
    assert "org-logging:query_layer:QueryLayer" in [r.type for r in nested]


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
