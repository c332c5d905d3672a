"""What every handler shares: the errors AWS would return, one operation's context, Pulumi
input shapes as AWS API shapes, and `Handler`, the in-memory behaviour every type starts from."""

from __future__ import annotations

import datetime
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from enroll.offline.mocks import computed_outputs

from ..session import DISABLED_REGION_CODE, AwsSession


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


def aws_tags(inputs: dict[str, Any]) -> list[dict[str, str]]:
    return [{"Key": k, "Value": str(v)} for k, v in (inputs.get("tags") or {}).items()]


def as_int(value: Any) -> int:
    return int(float(value))


def iso_time(value: Any) -> str:
    return value.isoformat() if isinstance(value, datetime.datetime) else str(value)


def short_id(*parts: str) -> str:
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
        resource_id = state.pop("id", None) or f"{ctx.name}-{short_id(ctx.token, ctx.name)}"
        return str(resource_id), {k: v for k, v in state.items() if k not in ctx.inputs}

    def create(self, ctx: Ctx) -> tuple[str, dict[str, Any]]:
        return self.describe(ctx)

    def update(self, ctx: Ctx, resource_id: str, olds: dict[str, Any]) -> dict[str, Any]:
        return {}

    def delete(self, ctx: Ctx, resource_id: str, state: dict[str, Any]) -> None:
        return None

    def exists(self, ctx: Ctx, resource_id: str, state: dict[str, Any]) -> bool:
        return True
