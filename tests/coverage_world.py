"""Shared by the coverage tests and the benchmark: a plan of an organization, and an S3
stand-in that answers ListObjectsV2 as S3 does (prefix, delimiter, pages, lexicographic order),
with faults on demand."""

from __future__ import annotations

import gzip
import io
from collections.abc import Callable
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

from botocore.exceptions import ClientError

from components.contract import config_key
from enroll.org.model import Exclusion, Plan, PlannedStack

ORG_ID = "o-abcdefghij"
MANAGEMENT = "999999999999"
ARCHIVE = "222222222222"
PREFIX = "acme"
HOME = "us-east-1"
BUCKET = f"{PREFIX}-org-logs-{ARCHIVE}-{HOME}"


def plan_of(
    enrolled: dict[str, tuple[str, ...]],
    regions: tuple[str, ...] = ("us-east-1", "eu-west-1"),
    excluded: tuple[Exclusion, ...] = (),
    management: str = MANAGEMENT,
) -> Plan:
    config = {
        config_key("namePrefix"): PREFIX,
        config_key("logArchiveAccountId"): ARCHIVE,
        config_key("homeRegion"): HOME,
        config_key("regions"): list(regions),
        config_key("orgId"): ORG_ID,
        config_key("managementAccountId"): management,
        "aws:region": HOME,
    }
    stacks = [PlannedStack("log-archive", "log-archive", ARCHIVE, HOME, config)]
    stacks += [
        PlannedStack(
            f"source-{account}-{region}", "source", account, region, {"aws:region": region}
        )
        for account, account_regions in enrolled.items()
        for region in account_regions
    ]
    return Plan(tuple(stacks), excluded)


def client_error(code: str, operation: str, status: int = 400) -> ClientError:
    return ClientError(
        {
            "Error": {"Code": code, "Message": f"{code} said S3"},
            "ResponseMetadata": {"HTTPStatusCode": status},
        },
        operation,
    )


class Events:
    def __init__(self) -> None:
        self.handlers: list[Callable[..., None]] = []

    def register(self, name: str, handler: Callable[..., None]) -> None:
        self.handlers.append(handler)

    def fire(self) -> None:
        for handler in self.handlers:
            handler()


class FakeS3:
    """`objects`: key -> LastModified (or key -> (LastModified, body)). `fault(operation,
    kwargs)` may return an exception to raise or a page to return instead."""

    def __init__(
        self,
        objects: dict[str, Any],
        *,
        page_size: int = 1000,
        fault: Callable[[str, dict], Any] | None = None,
        bucket_error: ClientError | None = None,
    ) -> None:
        self.objects = dict(objects)
        self.page_size = page_size
        self.fault = fault
        self.bucket_error = bucket_error
        self.meta = SimpleNamespace(events=Events())
        self.calls: list[tuple[str, dict]] = []

    def _request(self, operation: str, kwargs: dict) -> Any:
        self.meta.events.fire()
        self.calls.append((operation, kwargs))
        if self.fault:
            injected = self.fault(operation, kwargs)
            if isinstance(injected, Exception):
                raise injected
            return injected
        return None

    def head_bucket(self, **kwargs: Any) -> dict:
        self._request("HeadBucket", kwargs)
        if self.bucket_error:
            raise self.bucket_error
        return {}

    def list_objects_v2(self, **kwargs: Any) -> dict:
        injected = self._request("ListObjectsV2", kwargs)
        if injected is not None:
            return injected
        prefix, delimiter = kwargs.get("Prefix", ""), kwargs.get("Delimiter")
        entries: list[tuple[str, str]] = []  # (sort key, kind) over keys and common prefixes
        seen: set[str] = set()
        for key in sorted(self.objects):
            if not key.startswith(prefix):
                continue
            rest = key[len(prefix) :]
            if delimiter and delimiter in rest:
                folder = prefix + rest[: rest.index(delimiter) + len(delimiter)]
                if folder not in seen:
                    seen.add(folder)
                    entries.append((folder, "prefix"))
            else:
                entries.append((key, "key"))
        start = int(kwargs.get("ContinuationToken", "0"))
        page = entries[start : start + self.page_size]
        reply: dict[str, Any] = {"IsTruncated": start + self.page_size < len(entries)}
        if reply["IsTruncated"]:
            reply["NextContinuationToken"] = str(start + self.page_size)
        contents = [
            {"Key": key, "LastModified": self._modified(key)} for key, kind in page if kind == "key"
        ]
        folders = [{"Prefix": folder} for folder, kind in page if kind == "prefix"]
        if contents:
            reply["Contents"] = contents
        if folders:
            reply["CommonPrefixes"] = folders
        return reply

    def _modified(self, key: str) -> datetime:
        value = self.objects[key]
        return value[0] if isinstance(value, tuple) else value

    def get_object(self, **kwargs: Any) -> dict:
        self._request("GetObject", kwargs)
        value = self.objects[kwargs["Key"]]
        body = value[1] if isinstance(value, tuple) else b""
        first, last = kwargs["Range"].removeprefix("bytes=").split("-")
        return {"Body": io.BytesIO(body[int(first) : int(last) + 1])}


def gz(text: str) -> bytes:
    return gzip.compress(text.encode(), mtime=0)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)
