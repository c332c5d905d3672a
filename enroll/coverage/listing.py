"""Reading the central bucket for coverage: the newest object under a prefix, found by walking
delimiter listings down the date folders (yyyy, then MM, then dd, newest first), never by
listing every object.

Each listing retries throttling (S3's SlowDown, 503) on its own (enroll.org.awscalls). A
listing that breaks S3's contract (truncated without a token, an entry without its key) is
MalformedReply; folders that do not look like the layout (a month 13, a stray `tmp/`, a date
in the future) are skipped, as if absent.
"""

from __future__ import annotations

import json
import re
import threading
import zlib
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from components.naming import LogLayout
from enroll.coverage.model import Newest
from enroll.org.awscalls import DEFAULT_RETRY, MalformedReply, Retry, call

# Delivery times in the writers' file names (UTC), tried in order:
# CloudTrail, flow logs, Resolver query logs, ELB: ..._20261130T2105Z_...
# Firehose: {stream}-{version}-2026-11-30-21-05-00-{uuid}
# CloudFront (legacy): {distribution}.2026-11-30-21.{unique}.gz
KEY_TIMES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"_(\d{8}T\d{4}Z)_"), "%Y%m%dT%H%MZ"),
    (re.compile(r"-(\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2})-"), "%Y-%m-%d-%H-%M-%S"),
    (re.compile(r"\.(\d{4}-\d{2}-\d{2}-\d{2})\."), "%Y-%m-%d-%H"),
)
# A date folder or file time later than now plus this is a clock's or a writer's mistake.
FUTURE_TOLERANCE = timedelta(days=1)
# Enough of a gzip stream to hold its first record (Resolver query log records are ~1 KB).
FIRST_RECORD_BYTES = 65536

DATE_PART = {0: re.compile(r"^\d{4}$"), 1: re.compile(r"^(0[1-9]|1[0-2])$")}
DAY_PART = re.compile(r"^(0[1-9]|[12]\d|3[01])$")


def key_time(key: str) -> datetime | None:
    """The delivery time the writer put in the object's file name, if any."""
    name = key.rsplit("/", 1)[-1]
    for pattern, layout in KEY_TIMES:
        match = pattern.search(name)
        if match:
            try:
                return datetime.strptime(match.group(1), layout).replace(tzinfo=UTC)
            except ValueError:
                return None
    return None


class Archive:
    """Listings of one bucket through one S3 client (thread-safe), counting the requests."""

    def __init__(
        self,
        client: Any,
        bucket: str,
        *,
        now: datetime,
        retry: Retry = DEFAULT_RETRY,
    ) -> None:
        self.client = client
        self.bucket = bucket
        self.now = now
        self.retry = retry
        self._requests = 0
        self._lock = threading.Lock()
        client.meta.events.register("before-send.s3", self._count)

    def _count(self, **_: Any) -> None:
        with self._lock:
            self._requests += 1

    @property
    def requests(self) -> int:
        """HTTP requests sent, retries included."""
        return self._requests

    # --- listings ---------------------------------------------------------------------------

    def listing(self, prefix: str, delimiter: str | None) -> tuple[list[str], list[dict]]:
        """Every common prefix and object directly under `prefix`, all pages."""
        folders: list[str] = []
        objects: list[dict] = []
        token: str | None = None
        while True:
            kwargs: dict[str, Any] = {"Bucket": self.bucket, "Prefix": prefix}
            if delimiter:
                kwargs["Delimiter"] = delimiter
            if token:
                kwargs["ContinuationToken"] = token
            page = call(self.client, "list_objects_v2", self.retry, **kwargs)
            for entry in _entries(page, "CommonPrefixes"):
                folder = entry.get("Prefix")
                if not isinstance(folder, str) or not folder.startswith(prefix):
                    raise MalformedReply(f"a ListObjectsV2 reply under {prefix!r} has {entry!r}")
                folders.append(folder)
            for entry in _entries(page, "Contents"):
                if not isinstance(entry.get("Key"), str):
                    raise MalformedReply(f"a ListObjectsV2 reply under {prefix!r} has {entry!r}")
                objects.append(entry)
            if not page.get("IsTruncated"):
                return folders, objects
            token = page.get("NextContinuationToken")
            if not token:
                raise MalformedReply(
                    f"a ListObjectsV2 reply under {prefix!r} is truncated without a "
                    "NextContinuationToken"
                )

    def partitions(self, layout: LogLayout, valid: Callable[[str], bool]) -> list[str]:
        """The partition names (regions, VPC ids, distributions) under a type's prefix."""
        folders, _ = self.listing(layout.prefix, layout.partition_delimiter)
        cut = len(layout.partition_delimiter)
        names = [folder[len(layout.prefix) : -cut] for folder in folders]
        return sorted(name for name in names if valid(name))

    def newest(self, prefix: str, separator: str) -> Newest | None:
        """The newest object under `prefix`/yyyy/MM/dd (with `separator` after each part):
        the newest valid day first; a day without objects falls back to the one before."""
        return self._descend(prefix, separator, ())

    def _descend(self, prefix: str, separator: str, parts: tuple[int, ...]) -> Newest | None:
        if len(parts) == 3:
            _, objects = self.listing(prefix, separator if separator == "/" else None)
            return self._newest_object(objects)
        folders, _ = self.listing(prefix, separator)
        candidates = []
        for folder in folders:
            part = folder[len(prefix) : -len(separator)]
            value = _date_part(part, parts)
            if value is not None and not self._future((*parts, value)):
                candidates.append((value, folder))
        for value, folder in sorted(candidates, reverse=True):
            found = self._descend(folder, separator, (*parts, value))
            if found is not None:
                return found
        return None

    def _future(self, parts: tuple[int, ...]) -> bool:
        latest = (self.now + FUTURE_TOLERANCE).date()
        return parts > (latest.year, latest.month, latest.day)[: len(parts)]

    def _newest_object(self, objects: list[dict]) -> Newest | None:
        latest = self.now + FUTURE_TOLERANCE
        found: list[Newest] = []
        for entry in objects:
            key = entry["Key"]
            when = key_time(key)
            if when is None or when > latest:
                modified = entry.get("LastModified")
                if not isinstance(modified, datetime):
                    continue
                when = modified if modified.tzinfo else modified.replace(tzinfo=UTC)
            found.append(Newest(key, when.astimezone(UTC)))
        return max(found, key=lambda n: (n.time, n.key), default=None)

    # --- contents -----------------------------------------------------------------------------

    def first_record(self, key: str) -> dict | None:
        """The first JSON record of a gzip'd JSON-lines object, from its first bytes only."""
        reply = call(
            self.client,
            "get_object",
            self.retry,
            Bucket=self.bucket,
            Key=key,
            Range=f"bytes=0-{FIRST_RECORD_BYTES - 1}",
        )
        head = reply["Body"].read()
        try:
            text = zlib.decompressobj(wbits=31).decompress(head)  # a gzip stream, maybe cut
        except zlib.error:
            return None
        line = text.split(b"\n", 1)[0]
        try:
            record = json.loads(line)
        except ValueError:
            return None
        return record if isinstance(record, dict) else None


def _entries(page: dict, key: str) -> list[dict]:
    found = page.get(key, [])
    if not isinstance(found, list) or not all(isinstance(e, dict) for e in found):
        raise MalformedReply(f"a ListObjectsV2 reply has a {key} that is not a list of entries")
    return found


def _date_part(text: str, parts: tuple[int, ...]) -> int | None:
    """The year, month or day a folder names, or None when it is not one (or no such date)."""
    if len(parts) < 2:
        return int(text) if DATE_PART[len(parts)].fullmatch(text) else None
    if not DAY_PART.fullmatch(text):
        return None
    try:
        return date(parts[0], parts[1], int(text)).day
    except ValueError:  # 31 April, 29 February of a common year
        return None
