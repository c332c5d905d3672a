"""What each resource type does.

Every handler has a pure `describe` (the id and computed outputs, in the right partition:
what the provider says when there is no emulator, and which outputs are unknown in a
preview). Types moto supports are applied to it, so AWS's own validation runs; every other
type lives in memory only (inputs + a computed id/arn), so an unknown type never fails.

Where moto 5.2.5 skips a check AWS makes, a stand-in check raises the error AWS would
(`ApiError`): the trust-policy grammar on CreateRole, JSON in PutBucketPolicy, the size of an
SCP, the number of SCPs on one target, a bucket policy's Deny statements on the provider's own
bucket calls, ACLs on a bucket whose ownership is BucketOwnerEnforced, trusted access for an
organization trail. Each is marked "moto gap".
"""

from __future__ import annotations

import datetime
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

from enroll.offline.mocks import computed_outputs

from .policy_eval import Request, applying_statements
from .session import DISABLED_REGION_CODE, AwsSession, dns_suffix


class ApiError(Exception):
    """An error AWS would return, raised by a stand-in check (shown like a botocore error)."""

    def __init__(self, code: str, message: str, operation: str = "") -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.operation = operation


def error_code(error: BaseException) -> str:
    if isinstance(error, ApiError):
        return error.code
    response = getattr(error, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code", ""))
    return ""


def is_not_found(error: BaseException) -> bool:
    code = error_code(error)
    status = getattr(error, "response", {}).get("ResponseMetadata", {}).get("HTTPStatusCode")
    return (
        code.startswith("NoSuch")
        or "NotFound" in code
        or code in ("404", "PolicyNotAttachedException", "TrailNotFoundException")
        or status == 404
    )


def ignore_not_found(call: Callable[[], Any]) -> None:
    try:
        call()
    except Exception as error:
        if not is_not_found(error):
            raise


@dataclass
class Ctx:
    """One resource operation: its type, logical name, plain inputs and where it lives."""

    token: str
    name: str
    urn: str
    inputs: dict[str, Any]
    aws: AwsSession

    @property
    def region(self) -> str:
        region = self.inputs.get("region")
        return region if isinstance(region, str) and region else self.aws.region

    @property
    def account(self) -> str:
        return self.aws.account

    @property
    def partition(self) -> str:
        return self.aws.partition

    def client(self, service: str) -> Any:
        return self.aws.client(service, self.region)

    def arn(self, service: str, resource: str, *, region: str | None = None) -> str:
        region = self.region if region is None else region
        return f"arn:{self.partition}:{service}:{region}:{self.account}:{resource}"

    def require_region(self, operation: str) -> None:
        """A resource in another region than the provider's (checked at Configure) fails, like
        in AWS, when that region is opt-in and the account has not enabled it."""
        if self.region != self.aws.region:
            require_region(self.aws, self.region, operation)


def require_region(aws: AwsSession, region: str, operation: str) -> None:
    problem = aws.region_problem(region)
    if problem:
        raise ApiError(DISABLED_REGION_CODE, problem, operation)


# --------------------------------------------------------------------------------------------
# Pulumi input shapes -> AWS API shapes
# --------------------------------------------------------------------------------------------

_RENAMES = {
    "id": "ID",
    "sseAlgorithm": "SSEAlgorithm",
    "kmsMasterKeyId": "KMSMasterKeyID",
    "replicaKmsKeyId": "ReplicaKmsKeyID",
    "uri": "URI",
    "mfaDelete": "MFADelete",
}
_INTEGER_STRINGS = {"objectSizeGreaterThan", "objectSizeLessThan"}


def api(value: Any, key: str = "") -> Any:
    """camelCase Pulumi inputs as PascalCase API parameters; empty lists and nulls dropped,
    whole floats as ints, tag maps as [{Key, Value}]."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for name, item in value.items():
            if item is None or item == []:
                continue
            if name == "tags" and isinstance(item, dict):
                out["Tags"] = [{"Key": k, "Value": str(v)} for k, v in item.items()]
                continue
            out[_RENAMES.get(name, name[:1].upper() + name[1:])] = api(item, name)
        return out
    if isinstance(value, list):
        return [api(item, key) for item in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if key in _INTEGER_STRINGS and isinstance(value, str) and value.isdigit():
        return int(value)
    return value


def _tags(inputs: dict[str, Any]) -> list[dict[str, str]]:
    return [{"Key": k, "Value": str(v)} for k, v in (inputs.get("tags") or {}).items()]


def _int(value: Any) -> int:
    return int(float(value))


def _iso(value: Any) -> str:
    return value.isoformat() if isinstance(value, datetime.datetime) else str(value)


def _short_id(*parts: str) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:12]


# --------------------------------------------------------------------------------------------
# The handlers
# --------------------------------------------------------------------------------------------


class Handler:
    """In memory: the id and outputs a real provider would compute, no AWS calls."""

    replace_on: tuple[str, ...] = ("region", "name")
    required: tuple[str, ...] = ()
    autoname: str | None = None  # the property Check fills from the resource name
    emulated = False  # applied to moto when there is an emulator

    def describe(self, ctx: Ctx) -> tuple[str, dict[str, Any]]:
        state = computed_outputs(
            ctx.token, ctx.name, ctx.inputs, region=ctx.region, account=ctx.account
        )
        resource_id = state.pop("id", None) or f"{ctx.name}-{_short_id(ctx.token, ctx.name)}"
        return str(resource_id), {k: v for k, v in state.items() if k not in ctx.inputs}

    def create(self, ctx: Ctx) -> tuple[str, dict[str, Any]]:
        return self.describe(ctx)

    def update(self, ctx: Ctx, resource_id: str, olds: dict[str, Any]) -> dict[str, Any]:
        return {}

    def delete(self, ctx: Ctx, resource_id: str, state: dict[str, Any]) -> None:
        return None

    def exists(self, ctx: Ctx, resource_id: str, state: dict[str, Any]) -> bool:
        return True


# --- S3 --------------------------------------------------------------------------------------


class S3Call(NamedTuple):
    """A bucket call: the IAM action that authorizes it (Service Authorization Reference) and
    the API operation."""

    action: str
    operation: str


# The bucket owner's root user may always manage the bucket policy, whatever it says:
# https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketPolicy.html
OWNER_ROOT_ACTIONS = frozenset(
    {"s3:GetBucketPolicy", "s3:PutBucketPolicy", "s3:DeleteBucketPolicy"}
)


def authorize_bucket_call(ctx: Ctx, bucket: str, call: S3Call) -> None:
    """moto gap: moto applies no bucket policy to a call; AWS refuses one that a Deny statement
    of the bucket's policy covers, the provider's own calls included."""
    s3 = ctx.client("s3")
    try:
        document = s3.get_bucket_policy(Bucket=bucket)["Policy"]
    except Exception as error:
        if error_code(error) == "NoSuchBucketPolicy":
            return
        raise
    aws = ctx.aws
    if call.action in OWNER_ROOT_ACTIONS and aws.is_root:
        owned = [b["Name"] for b in s3.list_buckets().get("Buckets", [])]
        if bucket in owned:
            return
    arn = f"arn:{ctx.partition}:s3:::{bucket}"
    request = Request(aws.caller(), call.action, arn, aws.request_context())
    if any(s["Effect"] == "Deny" for s in applying_statements(document, request)):
        raise ApiError(
            "AccessDenied",
            f"User: {aws.caller_arn} is not authorized to perform: {call.action} on resource: "
            f'"{arn}" with an explicit deny in a resource-based policy',
            call.operation,
        )


TAGGING = S3Call("s3:PutBucketTagging", "PutBucketTagging")
UNTAGGING = S3Call("s3:PutBucketTagging", "DeleteBucketTagging")
DELETE_BUCKET = S3Call("s3:DeleteBucket", "DeleteBucket")


class Bucket(Handler):
    replace_on = ("bucket", "bucketPrefix", "objectLockEnabled", "region")
    autoname = "bucket"
    emulated = True

    def describe(self, ctx: Ctx) -> tuple[str, dict[str, Any]]:
        bucket = str(ctx.inputs["bucket"])
        suffix = dns_suffix(ctx.partition)
        return bucket, {
            "arn": f"arn:{ctx.partition}:s3:::{bucket}",
            "bucketDomainName": f"{bucket}.s3.{suffix}",
            "bucketRegionalDomainName": f"{bucket}.s3.{ctx.region}.{suffix}",
            "region": ctx.region,
            "tagsAll": ctx.inputs.get("tags") or {},
        }

    def create(self, ctx: Ctx) -> tuple[str, dict[str, Any]]:
        bucket_id, outputs = self.describe(ctx)
        request: dict[str, Any] = {"Bucket": bucket_id}
        if ctx.region != "us-east-1":
            request["CreateBucketConfiguration"] = {"LocationConstraint": ctx.region}
        if ctx.inputs.get("objectLockEnabled"):
            request["ObjectLockEnabledForBucket"] = True
        s3 = ctx.client("s3")
        s3.create_bucket(**request)
        if ctx.inputs.get("tags"):
            s3.put_bucket_tagging(Bucket=bucket_id, Tagging={"TagSet": _tags(ctx.inputs)})
        return bucket_id, outputs

    def update(self, ctx: Ctx, resource_id: str, olds: dict[str, Any]) -> dict[str, Any]:
        s3 = ctx.client("s3")
        if ctx.inputs.get("tags"):
            authorize_bucket_call(ctx, resource_id, TAGGING)
            s3.put_bucket_tagging(Bucket=resource_id, Tagging={"TagSet": _tags(ctx.inputs)})
        elif olds.get("tags"):
            authorize_bucket_call(ctx, resource_id, UNTAGGING)
            ignore_not_found(lambda: s3.delete_bucket_tagging(Bucket=resource_id))
        return {"tagsAll": ctx.inputs.get("tags") or {}}

    def delete(self, ctx: Ctx, resource_id: str, state: dict[str, Any]) -> None:
        s3 = ctx.client("s3")
        if state.get("forceDestroy"):
            ignore_not_found(lambda: self._empty(s3, resource_id))

        def delete_bucket() -> None:
            authorize_bucket_call(ctx, resource_id, DELETE_BUCKET)
            s3.delete_bucket(Bucket=resource_id)

        ignore_not_found(delete_bucket)

    @staticmethod
    def _empty(s3: Any, bucket: str) -> None:
        for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
            objects = [
                {"Key": v["Key"], "VersionId": v["VersionId"]}
                for v in page.get("Versions", []) + page.get("DeleteMarkers", [])
            ]
            if objects:
                s3.delete_objects(
                    Bucket=bucket,
                    Delete={"Objects": objects, "Quiet": True},
                    BypassGovernanceRetention=True,
                )

    def exists(self, ctx: Ctx, resource_id: str, state: dict[str, Any]) -> bool:
        try:
            ctx.client("s3").head_bucket(Bucket=resource_id)
        except Exception as error:
            if is_not_found(error):
                return False
            raise
        return True


class BucketPart(Handler):
    """A bucket sub-resource (versioning, policy, ...): id = the bucket; put on create and
    update, removed on delete (a bucket already gone is fine). Each call is first authorized
    against the bucket's policy (`put_call`, `remove_call`)."""

    replace_on = ("bucket", "expectedBucketOwner", "region")
    required: tuple[str, ...] = ("bucket",)
    emulated = True
    put_call: S3Call
    remove_call: S3Call | None = None

    def describe(self, ctx: Ctx) -> tuple[str, dict[str, Any]]:
        return str(ctx.inputs["bucket"]), {}

    def puts(self, inputs: dict[str, Any]) -> bool:
        """Whether `put` calls AWS at all."""
        return True

    def removes(self, state: dict[str, Any]) -> bool:
        """Whether `remove` calls AWS at all."""
        return self.remove_call is not None

    def put(self, s3: Any, bucket: str, inputs: dict[str, Any]) -> None:
        raise NotImplementedError

    def remove(self, s3: Any, bucket: str, state: dict[str, Any]) -> None:
        raise NotImplementedError

    def get(self, s3: Any, bucket: str) -> Any:
        return None

    def _put(self, ctx: Ctx, bucket: str) -> None:
        if self.puts(ctx.inputs):
            authorize_bucket_call(ctx, bucket, self.put_call)
        self.put(ctx.client("s3"), bucket, ctx.inputs)

    def create(self, ctx: Ctx) -> tuple[str, dict[str, Any]]:
        bucket_id, outputs = self.describe(ctx)
        self._put(ctx, str(ctx.inputs["bucket"]))
        return bucket_id, outputs

    def update(self, ctx: Ctx, resource_id: str, olds: dict[str, Any]) -> dict[str, Any]:
        self._put(ctx, str(ctx.inputs["bucket"]))
        return {}

    def delete(self, ctx: Ctx, resource_id: str, state: dict[str, Any]) -> None:
        s3 = ctx.client("s3")
        bucket = str(state.get("bucket") or resource_id)

        def remove() -> None:
            if self.remove_call is not None and self.removes(state):
                authorize_bucket_call(ctx, bucket, self.remove_call)
            self.remove(s3, bucket, state)

        ignore_not_found(remove)

    def exists(self, ctx: Ctx, resource_id: str, state: dict[str, Any]) -> bool:
        try:
            self.get(ctx.client("s3"), str(state.get("bucket") or resource_id))
        except Exception as error:
            if is_not_found(error):
                return False
            raise
        return True


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


# --- IAM -------------------------------------------------------------------------------------


class Role(Handler):
    replace_on = ("name", "namePrefix", "path")
    required = ("assumeRolePolicy",)
    autoname = "name"
    emulated = True

    def describe(self, ctx: Ctx) -> tuple[str, dict[str, Any]]:
        name = str(ctx.inputs["name"])
        path = str(ctx.inputs.get("path") or "/")
        return name, {
            "arn": f"arn:{ctx.partition}:iam::{ctx.account}:role{path}{name}",
            "uniqueId": "AROA" + _short_id(ctx.account, name).upper(),
            "createDate": "2024-01-01T00:00:00Z",
            "tagsAll": ctx.inputs.get("tags") or {},
        }

    def create(self, ctx: Ctx) -> tuple[str, dict[str, Any]]:
        name, outputs = self.describe(ctx)
        inputs = ctx.inputs
        iam = ctx.client("iam")
        request: dict[str, Any] = {
            "RoleName": name,
            "AssumeRolePolicyDocument": inputs["assumeRolePolicy"],
            "Path": inputs.get("path") or "/",
        }
        if inputs.get("description"):
            request["Description"] = inputs["description"]
        if inputs.get("maxSessionDuration"):
            request["MaxSessionDuration"] = _int(inputs["maxSessionDuration"])
        if inputs.get("permissionsBoundary"):
            request["PermissionsBoundary"] = inputs["permissionsBoundary"]
        if inputs.get("tags"):
            request["Tags"] = _tags(inputs)
        role = iam.create_role(**request)["Role"]
        try:
            # moto gap: CreateRole stores any trust policy; UpdateAssumeRolePolicy runs the
            # grammar check AWS makes on CreateRole.
            iam.update_assume_role_policy(RoleName=name, PolicyDocument=inputs["assumeRolePolicy"])
            for arn in inputs.get("managedPolicyArns") or []:
                iam.attach_role_policy(RoleName=name, PolicyArn=arn)
            for inline in inputs.get("inlinePolicies") or []:
                if inline.get("name") and inline.get("policy"):
                    iam.put_role_policy(
                        RoleName=name, PolicyName=inline["name"], PolicyDocument=inline["policy"]
                    )
        except Exception:
            self._delete(iam, name, force=True)
            raise
        outputs.update(
            arn=role["Arn"], uniqueId=role["RoleId"], createDate=_iso(role["CreateDate"])
        )
        return name, outputs

    def update(self, ctx: Ctx, resource_id: str, olds: dict[str, Any]) -> dict[str, Any]:
        iam = ctx.client("iam")
        inputs = ctx.inputs
        if inputs.get("assumeRolePolicy") != olds.get("assumeRolePolicy"):
            iam.update_assume_role_policy(
                RoleName=resource_id, PolicyDocument=inputs["assumeRolePolicy"]
            )
        changes: dict[str, Any] = {}
        if inputs.get("description") != olds.get("description"):
            changes["Description"] = inputs.get("description") or ""
        if inputs.get("maxSessionDuration") != olds.get("maxSessionDuration"):
            changes["MaxSessionDuration"] = _int(inputs.get("maxSessionDuration") or 3600)
        if changes:
            iam.update_role(RoleName=resource_id, **changes)
        if inputs.get("tags"):
            iam.tag_role(RoleName=resource_id, Tags=_tags(inputs))
        return {"tagsAll": inputs.get("tags") or {}}

    def delete(self, ctx: Ctx, resource_id: str, state: dict[str, Any]) -> None:
        iam = ctx.client("iam")
        ignore_not_found(
            lambda: self._delete(iam, resource_id, force=bool(state.get("forceDetachPolicies")))
        )

    @staticmethod
    def _delete(iam: Any, name: str, force: bool) -> None:
        if force:
            for policy in iam.list_role_policies(RoleName=name)["PolicyNames"]:
                iam.delete_role_policy(RoleName=name, PolicyName=policy)
            for attached in iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]:
                iam.detach_role_policy(RoleName=name, PolicyArn=attached["PolicyArn"])
        iam.delete_role(RoleName=name)

    def exists(self, ctx: Ctx, resource_id: str, state: dict[str, Any]) -> bool:
        try:
            ctx.client("iam").get_role(RoleName=resource_id)
        except Exception as error:
            if is_not_found(error):
                return False
            raise
        return True


def _role_name(role: str) -> str:
    return role.rsplit("/", 1)[-1] if role.startswith("arn:") else role


class RolePolicy(Handler):
    replace_on = ("name", "namePrefix", "role")
    required = ("role", "policy")
    autoname = "name"
    emulated = True

    def describe(self, ctx: Ctx) -> tuple[str, dict[str, Any]]:
        return f"{_role_name(str(ctx.inputs['role']))}:{ctx.inputs['name']}", {}

    def create(self, ctx: Ctx) -> tuple[str, dict[str, Any]]:
        self.update(ctx, "", {})
        return self.describe(ctx)

    def update(self, ctx: Ctx, resource_id: str, olds: dict[str, Any]) -> dict[str, Any]:
        ctx.client("iam").put_role_policy(
            RoleName=_role_name(str(ctx.inputs["role"])),
            PolicyName=ctx.inputs["name"],
            PolicyDocument=ctx.inputs["policy"],
        )
        return {}

    def delete(self, ctx: Ctx, resource_id: str, state: dict[str, Any]) -> None:
        role, _, name = resource_id.partition(":")
        iam = ctx.client("iam")
        ignore_not_found(lambda: iam.delete_role_policy(RoleName=role, PolicyName=name))

    def exists(self, ctx: Ctx, resource_id: str, state: dict[str, Any]) -> bool:
        role, _, name = resource_id.partition(":")
        try:
            ctx.client("iam").get_role_policy(RoleName=role, PolicyName=name)
        except Exception as error:
            if is_not_found(error):
                return False
            raise
        return True


# --- Organizations ---------------------------------------------------------------------------

# AWS's limits (Organizations quotas): characters of a policy document, policies per target.
POLICY_SIZE_LIMITS = {
    "SERVICE_CONTROL_POLICY": 5120,
    "RESOURCE_CONTROL_POLICY": 5120,
    "TAG_POLICY": 10000,
    "BACKUP_POLICY": 10000,
    "AISERVICES_OPT_OUT_POLICY": 2500,
}
POLICIES_PER_TARGET = {"SERVICE_CONTROL_POLICY": 5, "RESOURCE_CONTROL_POLICY": 5}


def _check_org_policy(content: str, policy_type: str, operation: str) -> None:
    """moto gap: moto stores any content; AWS checks the JSON and the size."""
    try:
        parsed = json.loads(content)
    except ValueError:
        parsed = None
    if not isinstance(parsed, dict):
        raise ApiError(
            "MalformedPolicyDocumentException",
            "The provided policy document does not meet the requirements of the specified "
            "policy type.",
            operation,
        )
    limit = POLICY_SIZE_LIMITS.get(policy_type)
    if limit and len(content) > limit:
        raise ApiError(
            "ConstraintViolationException",
            f"You attempted to exceed the maximum size of a policy document: {len(content)} "
            f"characters, the maximum for {policy_type} is {limit} "
            "(Reason: POLICY_CONTENT_LIMIT_EXCEEDED)",
            operation,
        )


class OrgPolicy(Handler):
    replace_on = ("type",)
    required = ("name", "content")
    emulated = True

    @staticmethod
    def _type(ctx: Ctx) -> str:
        return str(ctx.inputs.get("type") or "SERVICE_CONTROL_POLICY")

    def describe(self, ctx: Ctx) -> tuple[str, dict[str, Any]]:
        policy_id = f"p-{_short_id(ctx.token, ctx.name)[:8]}"
        path = f"{self._type(ctx).lower()}/{policy_id}"
        return policy_id, {
            "arn": f"arn:{ctx.partition}:organizations::{ctx.account}:policy/o-standin/{path}",
            "awsManaged": False,
            "type": self._type(ctx),
            "tagsAll": ctx.inputs.get("tags") or {},
        }

    def create(self, ctx: Ctx) -> tuple[str, dict[str, Any]]:
        _, outputs = self.describe(ctx)
        _check_org_policy(str(ctx.inputs["content"]), self._type(ctx), "CreatePolicy")
        request: dict[str, Any] = {
            "Content": ctx.inputs["content"],
            "Name": ctx.inputs["name"],
            "Type": self._type(ctx),
            "Description": ctx.inputs.get("description") or "",
        }
        if ctx.inputs.get("tags"):
            request["Tags"] = _tags(ctx.inputs)
        summary = ctx.client("organizations").create_policy(**request)["Policy"]["PolicySummary"]
        outputs.update(arn=summary["Arn"], awsManaged=bool(summary.get("AwsManaged")))
        return summary["Id"], outputs

    def update(self, ctx: Ctx, resource_id: str, olds: dict[str, Any]) -> dict[str, Any]:
        _check_org_policy(str(ctx.inputs["content"]), self._type(ctx), "UpdatePolicy")
        ctx.client("organizations").update_policy(
            PolicyId=resource_id,
            Name=ctx.inputs["name"],
            Description=ctx.inputs.get("description") or "",
            Content=ctx.inputs["content"],
        )
        return {"tagsAll": ctx.inputs.get("tags") or {}}

    def delete(self, ctx: Ctx, resource_id: str, state: dict[str, Any]) -> None:
        if state.get("skipDestroy"):
            return
        org = ctx.client("organizations")
        ignore_not_found(lambda: org.delete_policy(PolicyId=resource_id))

    def exists(self, ctx: Ctx, resource_id: str, state: dict[str, Any]) -> bool:
        try:
            ctx.client("organizations").describe_policy(PolicyId=resource_id)
        except Exception as error:
            if is_not_found(error):
                return False
            raise
        return True


class PolicyAttachment(Handler):
    replace_on = ("policyId", "targetId")
    required = ("policyId", "targetId")
    emulated = True

    def describe(self, ctx: Ctx) -> tuple[str, dict[str, Any]]:
        return f"{ctx.inputs['targetId']}:{ctx.inputs['policyId']}", {}

    def create(self, ctx: Ctx) -> tuple[str, dict[str, Any]]:
        org = ctx.client("organizations")
        policy_id, target_id = ctx.inputs["policyId"], ctx.inputs["targetId"]
        policy_type = org.describe_policy(PolicyId=policy_id)["Policy"]["PolicySummary"]["Type"]
        limit = POLICIES_PER_TARGET.get(policy_type)
        if limit:
            # moto gap: AWS allows at most 5 SCPs (RCPs) on a root, OU or account.
            attached = org.list_policies_for_target(TargetId=target_id, Filter=policy_type)
            ids = [p["Id"] for p in attached["Policies"]]
            if policy_id not in ids and len(ids) >= limit:
                raise ApiError(
                    "ConstraintViolationException",
                    f"You attempted to exceed the number of policies of type {policy_type} "
                    f"that can be attached to {target_id} ({limit}; attached: "
                    f"{', '.join(ids)}) (Reason: MAX_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED)",
                    "AttachPolicy",
                )
        org.attach_policy(PolicyId=policy_id, TargetId=target_id)
        return self.describe(ctx)

    def delete(self, ctx: Ctx, resource_id: str, state: dict[str, Any]) -> None:
        if state.get("skipDestroy"):
            return
        org = ctx.client("organizations")
        ignore_not_found(
            lambda: org.detach_policy(PolicyId=state["policyId"], TargetId=state["targetId"])
        )

    def exists(self, ctx: Ctx, resource_id: str, state: dict[str, Any]) -> bool:
        org = ctx.client("organizations")
        try:
            policy = org.describe_policy(PolicyId=state["policyId"])["Policy"]["PolicySummary"]
            attached = org.list_policies_for_target(
                TargetId=state["targetId"], Filter=policy["Type"]
            )["Policies"]
        except Exception as error:
            if is_not_found(error):
                return False
            raise
        return state["policyId"] in [p["Id"] for p in attached]


# --- KMS, SNS, CloudWatch Logs, EventBridge, CloudTrail ---------------------------------------


class KmsKey(Handler):
    replace_on = ("region", "customerMasterKeySpec", "keyUsage", "multiRegion")
    emulated = True

    def create(self, ctx: Ctx) -> tuple[str, dict[str, Any]]:
        _, outputs = self.describe(ctx)
        inputs = ctx.inputs
        request: dict[str, Any] = {}
        for key, param in (
            ("description", "Description"),
            ("keyUsage", "KeyUsage"),
            ("customerMasterKeySpec", "KeySpec"),
            ("policy", "Policy"),
            ("multiRegion", "MultiRegion"),
        ):
            if inputs.get(key) not in (None, ""):
                request[param] = inputs[key]
        if inputs.get("tags"):
            request["Tags"] = [{"TagKey": k, "TagValue": v} for k, v in inputs["tags"].items()]
        kms = ctx.client("kms")
        metadata = kms.create_key(**request)["KeyMetadata"]
        key_id = metadata["KeyId"]
        if inputs.get("enableKeyRotation"):
            kms.enable_key_rotation(KeyId=key_id)
        if inputs.get("isEnabled") is False:
            kms.disable_key(KeyId=key_id)
        outputs.update(keyId=key_id, arn=metadata["Arn"])
        return key_id, outputs

    def update(self, ctx: Ctx, resource_id: str, olds: dict[str, Any]) -> dict[str, Any]:
        kms = ctx.client("kms")
        inputs = ctx.inputs
        if inputs.get("policy") and inputs.get("policy") != olds.get("policy"):
            kms.put_key_policy(KeyId=resource_id, PolicyName="default", Policy=inputs["policy"])
        if inputs.get("description") != olds.get("description"):
            kms.update_key_description(
                KeyId=resource_id, Description=inputs.get("description") or ""
            )
        if bool(inputs.get("enableKeyRotation")) != bool(olds.get("enableKeyRotation")):
            if inputs.get("enableKeyRotation"):
                kms.enable_key_rotation(KeyId=resource_id)
            else:
                kms.disable_key_rotation(KeyId=resource_id)
        return {}

    def delete(self, ctx: Ctx, resource_id: str, state: dict[str, Any]) -> None:
        kms = ctx.client("kms")
        days = _int(state.get("deletionWindowInDays") or 30)
        try:
            kms.schedule_key_deletion(KeyId=resource_id, PendingWindowInDays=days)
        except Exception as error:
            if not (is_not_found(error) or error_code(error) == "KMSInvalidStateException"):
                raise


class KmsAlias(Handler):
    replace_on = ("name", "namePrefix", "region")
    required = ("targetKeyId",)
    emulated = True

    def describe(self, ctx: Ctx) -> tuple[str, dict[str, Any]]:
        name = str(ctx.inputs.get("name") or f"alias/{ctx.name}")
        target = str(ctx.inputs["targetKeyId"])
        target_arn = target if target.startswith("arn:") else ctx.arn("kms", f"key/{target}")
        return name, {"name": name, "arn": ctx.arn("kms", name), "targetKeyArn": target_arn}

    def create(self, ctx: Ctx) -> tuple[str, dict[str, Any]]:
        name, outputs = self.describe(ctx)
        kms = ctx.client("kms")
        kms.create_alias(AliasName=name, TargetKeyId=ctx.inputs["targetKeyId"])
        metadata = kms.describe_key(KeyId=ctx.inputs["targetKeyId"])["KeyMetadata"]
        outputs["targetKeyArn"] = metadata["Arn"]
        return name, outputs

    def update(self, ctx: Ctx, resource_id: str, olds: dict[str, Any]) -> dict[str, Any]:
        kms = ctx.client("kms")
        kms.update_alias(AliasName=resource_id, TargetKeyId=ctx.inputs["targetKeyId"])
        return {
            "targetKeyArn": kms.describe_key(KeyId=ctx.inputs["targetKeyId"])["KeyMetadata"]["Arn"]
        }

    def delete(self, ctx: Ctx, resource_id: str, state: dict[str, Any]) -> None:
        kms = ctx.client("kms")
        ignore_not_found(lambda: kms.delete_alias(AliasName=resource_id))


_TOPIC_ATTRIBUTES = {
    "displayName": "DisplayName",
    "policy": "Policy",
    "deliveryPolicy": "DeliveryPolicy",
    "kmsMasterKeyId": "KmsMasterKeyId",
    "fifoTopic": "FifoTopic",
    "contentBasedDeduplication": "ContentBasedDeduplication",
    "signatureVersion": "SignatureVersion",
    "tracingConfig": "TracingConfig",
    "archivePolicy": "ArchivePolicy",
}


def _attribute(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


class SnsTopic(Handler):
    replace_on = ("name", "namePrefix", "fifoTopic", "region")
    autoname = "name"
    emulated = True

    def describe(self, ctx: Ctx) -> tuple[str, dict[str, Any]]:
        arn = ctx.arn("sns", str(ctx.inputs["name"]))
        return arn, {"arn": arn, "owner": ctx.account, "tagsAll": ctx.inputs.get("tags") or {}}

    def create(self, ctx: Ctx) -> tuple[str, dict[str, Any]]:
        _, outputs = self.describe(ctx)
        attributes = {
            param: _attribute(ctx.inputs[key])
            for key, param in _TOPIC_ATTRIBUTES.items()
            if ctx.inputs.get(key) not in (None, "")
        }
        request: dict[str, Any] = {"Name": ctx.inputs["name"], "Attributes": attributes}
        if ctx.inputs.get("tags"):
            request["Tags"] = _tags(ctx.inputs)
        arn = ctx.client("sns").create_topic(**request)["TopicArn"]
        outputs["arn"] = arn
        return arn, outputs

    def update(self, ctx: Ctx, resource_id: str, olds: dict[str, Any]) -> dict[str, Any]:
        sns = ctx.client("sns")
        for key, param in _TOPIC_ATTRIBUTES.items():
            if key in ("fifoTopic",) or ctx.inputs.get(key) == olds.get(key):
                continue
            sns.set_topic_attributes(
                TopicArn=resource_id,
                AttributeName=param,
                AttributeValue=_attribute(ctx.inputs.get(key) or ""),
            )
        return {}

    def delete(self, ctx: Ctx, resource_id: str, state: dict[str, Any]) -> None:
        sns = ctx.client("sns")
        ignore_not_found(lambda: sns.delete_topic(TopicArn=resource_id))


# The values CloudWatch Logs accepts (the real provider checks them in Check).
LOG_RETENTION_DAYS = (
    0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557,
    2922, 3288, 3653,
)  # fmt: skip


class LogGroup(Handler):
    replace_on = ("name", "namePrefix", "region")
    autoname = "name"
    emulated = True

    def describe(self, ctx: Ctx) -> tuple[str, dict[str, Any]]:
        name = str(ctx.inputs["name"])
        return name, {
            "arn": ctx.arn("logs", f"log-group:{name}"),
            "tagsAll": ctx.inputs.get("tags") or {},
        }

    def create(self, ctx: Ctx) -> tuple[str, dict[str, Any]]:
        name, outputs = self.describe(ctx)
        request: dict[str, Any] = {"logGroupName": name}
        if ctx.inputs.get("kmsKeyId"):
            request["kmsKeyId"] = ctx.inputs["kmsKeyId"]
        if ctx.inputs.get("tags"):
            request["tags"] = {k: str(v) for k, v in ctx.inputs["tags"].items()}
        logs = ctx.client("logs")
        logs.create_log_group(**request)
        self._retention(logs, name, ctx.inputs)
        return name, outputs

    @staticmethod
    def _retention(logs: Any, name: str, inputs: dict[str, Any]) -> None:
        days = _int(inputs.get("retentionInDays") or 0)
        if days:
            logs.put_retention_policy(logGroupName=name, retentionInDays=days)
        else:
            ignore_not_found(lambda: logs.delete_retention_policy(logGroupName=name))

    def update(self, ctx: Ctx, resource_id: str, olds: dict[str, Any]) -> dict[str, Any]:
        self._retention(ctx.client("logs"), resource_id, ctx.inputs)
        return {}

    def delete(self, ctx: Ctx, resource_id: str, state: dict[str, Any]) -> None:
        if state.get("skipDestroy"):
            return
        logs = ctx.client("logs")
        ignore_not_found(lambda: logs.delete_log_group(logGroupName=resource_id))


class EventBus(Handler):
    required = ("name",)
    emulated = True

    def describe(self, ctx: Ctx) -> tuple[str, dict[str, Any]]:
        name = str(ctx.inputs["name"])
        return name, {"arn": ctx.arn("events", f"event-bus/{name}")}

    def create(self, ctx: Ctx) -> tuple[str, dict[str, Any]]:
        name, outputs = self.describe(ctx)
        request: dict[str, Any] = {"Name": name}
        if ctx.inputs.get("eventSourceName"):
            request["EventSourceName"] = ctx.inputs["eventSourceName"]
        if ctx.inputs.get("tags"):
            request["Tags"] = _tags(ctx.inputs)
        outputs["arn"] = ctx.client("events").create_event_bus(**request)["EventBusArn"]
        return name, outputs

    def delete(self, ctx: Ctx, resource_id: str, state: dict[str, Any]) -> None:
        events = ctx.client("events")
        ignore_not_found(lambda: events.delete_event_bus(Name=resource_id))


_TRAIL_PARAMS = {
    "s3BucketName": "S3BucketName",
    "s3KeyPrefix": "S3KeyPrefix",
    "snsTopicName": "SnsTopicName",
    "includeGlobalServiceEvents": "IncludeGlobalServiceEvents",
    "isMultiRegionTrail": "IsMultiRegionTrail",
    "enableLogFileValidation": "EnableLogFileValidation",
    "cloudWatchLogsGroupArn": "CloudWatchLogsLogGroupArn",
    "cloudWatchLogsRoleArn": "CloudWatchLogsRoleArn",
    "kmsKeyId": "KmsKeyId",
    "isOrganizationTrail": "IsOrganizationTrail",
}


CLOUDTRAIL_PRINCIPAL = "cloudtrail.amazonaws.com"


def _check_trusted_access(ctx: Ctx, operation: str) -> None:
    """moto gap: moto creates an organization trail whatever the organization allows; AWS needs
    trusted access between CloudTrail and Organizations first."""
    if not ctx.inputs.get("isOrganizationTrail"):
        return
    org = ctx.client("organizations")
    enabled = [
        service["ServicePrincipal"]
        for page in org.get_paginator("list_aws_service_access_for_organization").paginate()
        for service in page.get("EnabledServicePrincipals", [])
    ]
    if CLOUDTRAIL_PRINCIPAL not in enabled:
        raise ApiError(
            "CloudTrailAccessNotEnabledException",
            "This exception is thrown when trusted access has not been enabled between "
            "CloudTrail and Organizations. For more information, see Enabling Trusted Access "
            "with Other AWS Services and Prepare For Creating a Trail For Your Organization.",
            operation,
        )


class Trail(Handler):
    # pulumi-aws auto-names a trail, like a bucket or a role.
    required = ("s3BucketName",)
    autoname = "name"
    emulated = True

    def describe(self, ctx: Ctx) -> tuple[str, dict[str, Any]]:
        # Since v6 (terraform-provider-aws 5) a trail's id is its ARN.
        arn = ctx.arn("cloudtrail", f"trail/{ctx.inputs['name']}")
        return arn, {"arn": arn, "homeRegion": ctx.region, "tagsAll": ctx.inputs.get("tags") or {}}

    def _params(self, ctx: Ctx) -> dict[str, Any]:
        return {
            param: ctx.inputs[key]
            for key, param in _TRAIL_PARAMS.items()
            if ctx.inputs.get(key) not in (None, "")
        }

    def create(self, ctx: Ctx) -> tuple[str, dict[str, Any]]:
        _, outputs = self.describe(ctx)
        _check_trusted_access(ctx, "CreateTrail")
        cloudtrail = ctx.client("cloudtrail")
        request = {"Name": ctx.inputs["name"], **self._params(ctx)}
        if ctx.inputs.get("tags"):
            request["TagsList"] = _tags(ctx.inputs)
        arn = cloudtrail.create_trail(**request)["TrailARN"]
        if ctx.inputs.get("enableLogging", True):
            cloudtrail.start_logging(Name=arn)
        outputs["arn"] = arn
        return arn, outputs

    def update(self, ctx: Ctx, resource_id: str, olds: dict[str, Any]) -> dict[str, Any]:
        _check_trusted_access(ctx, "UpdateTrail")
        cloudtrail = ctx.client("cloudtrail")
        cloudtrail.update_trail(Name=resource_id, **self._params(ctx))
        if ctx.inputs.get("enableLogging", True):
            cloudtrail.start_logging(Name=resource_id)
        else:
            cloudtrail.stop_logging(Name=resource_id)
        return {}

    def delete(self, ctx: Ctx, resource_id: str, state: dict[str, Any]) -> None:
        cloudtrail = ctx.client("cloudtrail")
        ignore_not_found(lambda: cloudtrail.delete_trail(Name=resource_id))


# --------------------------------------------------------------------------------------------
# Registry
# --------------------------------------------------------------------------------------------

IN_MEMORY = Handler()
_NAMED_IN_MEMORY = {
    "aws:cloudwatch/eventRule:EventRule": "name",
    "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream": "name",
    "aws:iam/policy:Policy": "name",
}


def _bucket_parts() -> dict[str, Handler]:
    parts: dict[str, Handler] = {
        "BucketVersioning": BucketVersioning(),
        "BucketPolicy": BucketPolicy(),
        "BucketPublicAccessBlock": BucketPublicAccessBlock(),
        "BucketOwnershipControls": BucketOwnershipControls(),
        "BucketServerSideEncryptionConfiguration": BucketEncryption(),
        "BucketLifecycleConfiguration": BucketLifecycle(),
        "BucketReplicationConfig": BucketReplication(),
        "BucketLogging": BucketLogging(),
        "BucketObjectLockConfiguration": BucketObjectLock(),
        "BucketAcl": BucketAcl(),
    }
    # The deprecated v6 spellings that v7 still has.
    with_v2 = {
        "BucketVersioning", "BucketServerSideEncryptionConfiguration",
        "BucketLifecycleConfiguration", "BucketLogging", "BucketObjectLockConfiguration",
        "BucketAcl",
    }  # fmt: skip
    tokens: dict[str, Handler] = {}
    for kind, handler in parts.items():
        module = kind[:1].lower() + kind[1:]
        tokens[f"aws:s3/{module}:{kind}"] = handler
        if kind in with_v2:
            tokens[f"aws:s3/{module}V2:{kind}V2"] = handler
    return tokens


HANDLERS: dict[str, Handler] = {
    "aws:s3/bucket:Bucket": Bucket(),
    "aws:s3/bucketV2:BucketV2": Bucket(),
    **_bucket_parts(),
    "aws:iam/role:Role": Role(),
    "aws:iam/rolePolicy:RolePolicy": RolePolicy(),
    "aws:organizations/policy:Policy": OrgPolicy(),
    "aws:organizations/policyAttachment:PolicyAttachment": PolicyAttachment(),
    "aws:kms/key:Key": KmsKey(),
    "aws:kms/alias:Alias": KmsAlias(),
    "aws:sns/topic:Topic": SnsTopic(),
    "aws:cloudwatch/logGroup:LogGroup": LogGroup(),
    "aws:cloudwatch/eventBus:EventBus": EventBus(),
    "aws:cloudtrail/trail:Trail": Trail(),
}


def handler_for(token: str) -> Handler:
    return HANDLERS.get(token, IN_MEMORY)


def autoname_property(token: str) -> str | None:
    handler = HANDLERS.get(token)
    return handler.autoname if handler is not None else _NAMED_IN_MEMORY.get(token)


def check_failures(token: str, inputs: dict[str, Any]) -> list[tuple[str, str]]:
    """(property, reason) for inputs the real provider would reject in Check."""
    failures = [
        (key, f"Missing required property '{key}'")
        for key in handler_for(token).required
        if inputs.get(key) in (None, "")
    ]
    if token == "aws:cloudwatch/logGroup:LogGroup" and inputs.get("retentionInDays") is not None:
        days = inputs["retentionInDays"]
        if isinstance(days, (int, float)) and days not in LOG_RETENTION_DAYS:
            allowed = " ".join(str(d) for d in LOG_RETENTION_DAYS)
            failures.append(
                (
                    "retentionInDays",
                    f"expected retention_in_days to be one of [{allowed}], got {_int(days)}",
                )
            )
    return failures
