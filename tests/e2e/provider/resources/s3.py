"""S3 buckets: the bucket itself, the authorization of the provider's own bucket calls against
the bucket's policy (a moto gap), and `BucketPart`, what every bucket sub-resource does."""

from __future__ import annotations

from typing import Any, NamedTuple

from ..policy_eval import Request, applying_statements
from ..session import dns_suffix
from .base import ApiError, Ctx, Handler, aws_tags, error_code, ignore_not_found, is_not_found


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
            s3.put_bucket_tagging(Bucket=bucket_id, Tagging={"TagSet": aws_tags(ctx.inputs)})
        return bucket_id, outputs

    def update(self, ctx: Ctx, resource_id: str, olds: dict[str, Any]) -> dict[str, Any]:
        s3 = ctx.client("s3")
        if ctx.inputs.get("tags"):
            authorize_bucket_call(ctx, resource_id, TAGGING)
            s3.put_bucket_tagging(Bucket=resource_id, Tagging={"TagSet": aws_tags(ctx.inputs)})
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
