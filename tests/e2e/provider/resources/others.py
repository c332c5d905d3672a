"""KMS keys and aliases, SNS topics, CloudWatch Logs groups, EventBridge buses and CloudTrail
trails (with the trusted access an organization trail needs)."""

from __future__ import annotations

from typing import Any

from .base import (
    ApiError,
    Ctx,
    Handler,
    as_int,
    aws_tags,
    error_code,
    ignore_not_found,
    is_not_found,
)


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
        days = as_int(state.get("deletionWindowInDays") or 30)
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
            request["Tags"] = aws_tags(ctx.inputs)
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
        days = as_int(inputs.get("retentionInDays") or 0)
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
            request["Tags"] = aws_tags(ctx.inputs)
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
            request["TagsList"] = aws_tags(ctx.inputs)
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
