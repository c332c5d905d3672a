"""The bucket sub-resources (versioning, policy, public access block, ownership, encryption,
lifecycle, replication, logging, Object Lock, ACL): what each puts and removes."""

from __future__ import annotations

import json
from typing import Any

from .base import ApiError, Ctx, api, error_code
from .s3 import BucketPart, S3Call


def _owner(inputs: dict[str, Any]) -> dict[str, Any]:
    owner = inputs.get("expectedBucketOwner")
    return {"ExpectedBucketOwner": owner} if owner else {}


class BucketVersioning(BucketPart):
    required = ("bucket", "versioningConfiguration")
    put_call = remove_call = S3Call("s3:PutBucketVersioning", "PutBucketVersioning")

    def puts(self, inputs: dict[str, Any]) -> bool:
        return (inputs.get("versioningConfiguration") or {}).get("status") != "Disabled"

    def removes(self, state: dict[str, Any]) -> bool:
        return (state.get("versioningConfiguration") or {}).get("status") == "Enabled"

    def put(self, s3: Any, bucket: str, inputs: dict[str, Any]) -> None:
        config = api(inputs.get("versioningConfiguration") or {})
        if config.get("Status") == "Disabled":
            return  # a new bucket's versioning is disabled; AWS has no "Disabled" to put
        extra = {"MFA": inputs["mfa"]} if inputs.get("mfa") else {}
        s3.put_bucket_versioning(
            Bucket=bucket, VersioningConfiguration=config, **extra, **_owner(inputs)
        )

    def remove(self, s3: Any, bucket: str, state: dict[str, Any]) -> None:
        # Like the real provider: versioning cannot be removed, only suspended.
        status = (state.get("versioningConfiguration") or {}).get("status")
        if status == "Enabled":
            s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Suspended"})

    def get(self, s3: Any, bucket: str) -> Any:
        return s3.get_bucket_versioning(Bucket=bucket)


class BucketPolicy(BucketPart):
    required = ("bucket", "policy")
    put_call = S3Call("s3:PutBucketPolicy", "PutBucketPolicy")
    remove_call = S3Call("s3:DeleteBucketPolicy", "DeleteBucketPolicy")

    def put(self, s3: Any, bucket: str, inputs: dict[str, Any]) -> None:
        _check_resource_policy(str(inputs["policy"]), "PutBucketPolicy")
        s3.put_bucket_policy(Bucket=bucket, Policy=inputs["policy"], **_owner(inputs))

    def remove(self, s3: Any, bucket: str, state: dict[str, Any]) -> None:
        s3.delete_bucket_policy(Bucket=bucket)

    def get(self, s3: Any, bucket: str) -> Any:
        return s3.get_bucket_policy(Bucket=bucket)


def _check_resource_policy(document: str, operation: str) -> None:
    """moto gap: S3 stores any bucket policy; AWS rejects what is not a policy."""
    try:
        parsed = json.loads(document)
    except ValueError:
        raise ApiError("MalformedPolicy", "Policies must be valid JSON", operation) from None
    if not isinstance(parsed, dict) or "Statement" not in parsed:
        raise ApiError("MalformedPolicy", "Missing required field Statement", operation)
    statements = parsed["Statement"]
    for statement in statements if isinstance(statements, list) else [statements]:
        if not isinstance(statement, dict):
            raise ApiError("MalformedPolicy", "Statement is not an object", operation)
        if "Principal" not in statement and "NotPrincipal" not in statement:
            raise ApiError("MalformedPolicy", "Missing required field Principal", operation)
        if "Effect" not in statement:
            raise ApiError("MalformedPolicy", "Missing required field Effect", operation)


class BucketPublicAccessBlock(BucketPart):
    put_call = S3Call("s3:PutBucketPublicAccessBlock", "PutPublicAccessBlock")
    remove_call = S3Call("s3:PutBucketPublicAccessBlock", "DeletePublicAccessBlock")

    def put(self, s3: Any, bucket: str, inputs: dict[str, Any]) -> None:
        keys = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
        s3.put_public_access_block(
            Bucket=bucket,
            PublicAccessBlockConfiguration=api({k: bool(inputs.get(k)) for k in keys}),
            **_owner(inputs),
        )

    def remove(self, s3: Any, bucket: str, state: dict[str, Any]) -> None:
        s3.delete_public_access_block(Bucket=bucket)

    def get(self, s3: Any, bucket: str) -> Any:
        return s3.get_public_access_block(Bucket=bucket)


class BucketOwnershipControls(BucketPart):
    required = ("bucket", "rule")
    put_call = S3Call("s3:PutBucketOwnershipControls", "PutBucketOwnershipControls")
    remove_call = S3Call("s3:PutBucketOwnershipControls", "DeleteBucketOwnershipControls")

    def put(self, s3: Any, bucket: str, inputs: dict[str, Any]) -> None:
        s3.put_bucket_ownership_controls(
            Bucket=bucket, OwnershipControls={"Rules": [api(inputs["rule"])]}
        )

    def remove(self, s3: Any, bucket: str, state: dict[str, Any]) -> None:
        s3.delete_bucket_ownership_controls(Bucket=bucket)

    def get(self, s3: Any, bucket: str) -> Any:
        return s3.get_bucket_ownership_controls(Bucket=bucket)


class BucketEncryption(BucketPart):
    required = ("bucket", "rules")
    put_call = S3Call("s3:PutEncryptionConfiguration", "PutBucketEncryption")
    remove_call = S3Call("s3:PutEncryptionConfiguration", "DeleteBucketEncryption")

    def put(self, s3: Any, bucket: str, inputs: dict[str, Any]) -> None:
        s3.put_bucket_encryption(
            Bucket=bucket,
            ServerSideEncryptionConfiguration={"Rules": api(inputs["rules"])},
            **_owner(inputs),
        )

    def remove(self, s3: Any, bucket: str, state: dict[str, Any]) -> None:
        s3.delete_bucket_encryption(Bucket=bucket)

    def get(self, s3: Any, bucket: str) -> Any:
        return s3.get_bucket_encryption(Bucket=bucket)


class BucketLifecycle(BucketPart):
    put_call = S3Call("s3:PutLifecycleConfiguration", "PutBucketLifecycleConfiguration")
    remove_call = S3Call("s3:PutLifecycleConfiguration", "DeleteBucketLifecycle")

    def put(self, s3: Any, bucket: str, inputs: dict[str, Any]) -> None:
        extra = {}
        if inputs.get("transitionDefaultMinimumObjectSize"):
            extra["TransitionDefaultMinimumObjectSize"] = inputs[
                "transitionDefaultMinimumObjectSize"
            ]
        s3.put_bucket_lifecycle_configuration(
            Bucket=bucket,
            LifecycleConfiguration={"Rules": api(inputs.get("rules") or [])},
            **extra,
            **_owner(inputs),
        )

    def remove(self, s3: Any, bucket: str, state: dict[str, Any]) -> None:
        s3.delete_bucket_lifecycle(Bucket=bucket)

    def get(self, s3: Any, bucket: str) -> Any:
        return s3.get_bucket_lifecycle_configuration(Bucket=bucket)


class BucketReplication(BucketPart):
    required = ("bucket", "role", "rules")
    put_call = S3Call("s3:PutReplicationConfiguration", "PutBucketReplication")
    remove_call = S3Call("s3:PutReplicationConfiguration", "DeleteBucketReplication")

    def put(self, s3: Any, bucket: str, inputs: dict[str, Any]) -> None:
        extra = {"Token": inputs["token"]} if inputs.get("token") else {}
        s3.put_bucket_replication(
            Bucket=bucket,
            ReplicationConfiguration={"Role": inputs["role"], "Rules": api(inputs["rules"])},
            **extra,
        )

    def remove(self, s3: Any, bucket: str, state: dict[str, Any]) -> None:
        s3.delete_bucket_replication(Bucket=bucket)

    def get(self, s3: Any, bucket: str) -> Any:
        return s3.get_bucket_replication(Bucket=bucket)


class BucketLogging(BucketPart):
    required = ("bucket", "targetBucket", "targetPrefix")
    put_call = remove_call = S3Call("s3:PutBucketLogging", "PutBucketLogging")

    def put(self, s3: Any, bucket: str, inputs: dict[str, Any]) -> None:
        keys = ("targetBucket", "targetPrefix", "targetGrants", "targetObjectKeyFormat")
        enabled = api({k: inputs[k] for k in keys if k in inputs})
        s3.put_bucket_logging(
            Bucket=bucket, BucketLoggingStatus={"LoggingEnabled": enabled}, **_owner(inputs)
        )

    def remove(self, s3: Any, bucket: str, state: dict[str, Any]) -> None:
        s3.put_bucket_logging(Bucket=bucket, BucketLoggingStatus={})

    def get(self, s3: Any, bucket: str) -> Any:
        if "LoggingEnabled" not in s3.get_bucket_logging(Bucket=bucket):
            raise ApiError("NoSuchLoggingConfiguration", "logging is not enabled")


class BucketObjectLock(BucketPart):
    put_call = remove_call = S3Call(
        "s3:PutBucketObjectLockConfiguration", "PutObjectLockConfiguration"
    )

    def put(self, s3: Any, bucket: str, inputs: dict[str, Any]) -> None:
        config: dict[str, Any] = {"ObjectLockEnabled": inputs.get("objectLockEnabled") or "Enabled"}
        if inputs.get("rule"):
            config["Rule"] = api(inputs["rule"])
        extra = {"Token": inputs["token"]} if inputs.get("token") else {}
        s3.put_object_lock_configuration(
            Bucket=bucket, ObjectLockConfiguration=config, **extra, **_owner(inputs)
        )

    def remove(self, s3: Any, bucket: str, state: dict[str, Any]) -> None:
        # Object Lock cannot be switched off: like the real provider, drop the default rule.
        s3.put_object_lock_configuration(
            Bucket=bucket, ObjectLockConfiguration={"ObjectLockEnabled": "Enabled"}
        )

    def get(self, s3: Any, bucket: str) -> Any:
        return s3.get_object_lock_configuration(Bucket=bucket)


class BucketAcl(BucketPart):
    replace_on = ("bucket", "expectedBucketOwner", "region")
    put_call = S3Call("s3:PutBucketAcl", "PutBucketAcl")
    remove_call = None  # like the real provider: the ACL stays as it is

    def describe(self, ctx: Ctx) -> tuple[str, dict[str, Any]]:
        bucket = str(ctx.inputs["bucket"])
        acl = ctx.inputs.get("acl")
        return (f"{bucket},{acl}" if acl else bucket), {}

    def put(self, s3: Any, bucket: str, inputs: dict[str, Any]) -> None:
        # moto gap: moto takes an ACL whatever the bucket's Object Ownership; AWS refuses it
        # when ACLs are disabled (BucketOwnerEnforced, the default of a new bucket).
        if _object_ownership(s3, bucket) == "BucketOwnerEnforced":
            raise ApiError(
                "AccessControlListNotSupported", "The bucket does not allow ACLs", "PutBucketAcl"
            )
        request: dict[str, Any] = {"Bucket": bucket, **_owner(inputs)}
        if inputs.get("acl"):
            request["ACL"] = inputs["acl"]
        if inputs.get("accessControlPolicy"):
            request["AccessControlPolicy"] = api(inputs["accessControlPolicy"])
        s3.put_bucket_acl(**request)

    def remove(self, s3: Any, bucket: str, state: dict[str, Any]) -> None:
        return None


def _object_ownership(s3: Any, bucket: str) -> str:
    """The bucket's Object Ownership; a bucket without controls has AWS's default since April
    2023, BucketOwnerEnforced."""
    try:
        controls = s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]
    except Exception as error:
        if error_code(error) == "OwnershipControlsNotFoundError":
            return "BucketOwnerEnforced"
        raise
    rules = controls.get("Rules") or [{}]
    return str(rules[0].get("ObjectOwnership") or "BucketOwnerEnforced")
