"""Send the canaries, then look for them in the central bucket until they arrive or the time
is up. The clock is a parameter: the tests run a 15-minute timeout in no time."""

from __future__ import annotations

import gzip
import json
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from botocore.exceptions import BotoCoreError, ClientError

from components import naming
from components.cwl_delivery import FIREHOSE_BUFFER_SECONDS
from enroll.org.model import Plan, PlannedStack
from enroll.verify.aws import CanaryCalls
from enroll.verify.model import Probe, StackCanary, VerifyReport, canary_body, new_run_id
from policy import conventions

# Firehose buffers up to FIREHOSE_BUFFER_SECONDS (300) before it writes; S3 replicates most
# objects within seconds, and 99.99 % within 15 minutes with Replication Time Control.
DEFAULT_TIMEOUT_SECONDS = 900
DEFAULT_POLL_SECONDS = 15.0
DEFAULT_CONCURRENCY = 16
# A Firehose object written before the canary was sent cannot hold it (with clock skew slack).
CLOCK_SKEW = timedelta(minutes=5)


@dataclass(frozen=True)
class Clock:
    now: Callable[[], float] = time.time
    sleep: Callable[[float], None] = time.sleep


WALL_CLOCK = Clock()


@dataclass(frozen=True)
class Pipeline:
    """Where the canaries go and arrive, from the organization's settings."""

    name_prefix: str
    log_archive_account: str
    home_region: str

    @property
    def central_bucket(self) -> str:
        return conventions.central_bucket_name(
            self.name_prefix, self.log_archive_account, self.home_region
        )

    def source_bucket(self, stack: PlannedStack) -> str:
        return conventions.source_bucket_name(self.name_prefix, stack.account_id, stack.region)


def select_stacks(
    plan: Plan,
    *,
    all_stacks: bool = False,
    shard: tuple[int, int] | None = None,
    avoid: Iterable[str] = (),
) -> list[PlannedStack]:
    """The source stacks to send a canary from: every one with `all_stacks`, else one per
    enrolled region (the first member account, preferring accounts not in `avoid`); then
    this shard's share of them."""
    sources = [stack for stack in plan.stacks if stack.role == "source"]
    if not all_stacks:
        avoided = set(avoid)
        chosen: dict[str, PlannedStack] = {}
        for stack in sorted(sources, key=lambda s: (s.account_id in avoided, s.account_id)):
            chosen.setdefault(stack.region, stack)
        sources = list(chosen.values())
    selected = Plan(tuple(sources))
    if shard:
        selected = selected.shard(*shard)
    return list(selected.stacks)


def holds_canary(data: bytes, *, run_id: str, account: str) -> bool:
    """Whether a Firehose object holds the canary event: a CloudWatch Logs DATA_MESSAGE record
    (newline-delimited, the object GZIP'd) of `account`'s canary log group with the run id."""
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    for line in data.splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if (
            isinstance(record, dict)
            and record.get("messageType") == "DATA_MESSAGE"
            and record.get("owner") == account
            and record.get("logGroup") == naming.CANARY_LOG_GROUP
            and any(
                isinstance(event, dict) and run_id in str(event.get("message", ""))
                for event in record.get("logEvents") or []
            )
        ):
            return True
    return False


def day_folders(account: str, region: str, since: float, until: float) -> list[str]:
    """Firehose's folders (UTC days) that objects written between the two can be in."""
    day = datetime.fromtimestamp(since, UTC).date()
    last = datetime.fromtimestamp(until, UTC).date()
    folders = []
    while day <= last:
        folders.append(
            naming.cloudwatch_logs_day_prefix(account, region, day.year, day.month, day.day)
        )
        day += timedelta(days=1)
    return folders


class Verifier:
    """Sends every canary, then looks for what is still on its way, a poll at a time, until
    all arrived or the timeout; `on_change` hears each path's arrival, timeout or error."""

    def __init__(
        self,
        calls: CanaryCalls,
        pipeline: Pipeline,
        *,
        clock: Clock = WALL_CLOCK,
        concurrency: int = DEFAULT_CONCURRENCY,
        on_change: Callable[[StackCanary, Probe], None] = lambda canary, probe: None,
    ) -> None:
        self.calls, self.pipeline, self.clock = calls, pipeline, clock
        self.concurrency = concurrency
        self.on_change = on_change

    def run(
        self,
        stacks: list[PlannedStack],
        *,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
        poll: float = DEFAULT_POLL_SECONDS,
        run_id: str | None = None,
    ) -> VerifyReport:
        started = self.clock.now()
        run_id = run_id or new_run_id(started)
        canaries = [StackCanary.for_stack(stack, run_id) for stack in stacks]
        self._each(canaries, self.send)
        deadline = started + timeout
        while True:
            self._each([c for c in canaries if c.waiting], self.look)
            if not any(c.waiting for c in canaries) or self.clock.now() >= deadline:
                break
            self.clock.sleep(min(poll, max(0.0, deadline - self.clock.now())))
        for canary in canaries:
            for probe in canary.waiting:
                probe.status, probe.error = "timeout", self._timeout_message(canary, probe, timeout)
                self.on_change(canary, probe)
        return VerifyReport(
            run_id=run_id,
            started_at=started,
            finished_at=self.clock.now(),
            timeout_seconds=timeout,
            poll_seconds=poll,
            central_bucket=self.pipeline.central_bucket,
            canaries=tuple(canaries),
        )

    def _each(self, canaries: list[StackCanary], work: Callable[[StackCanary], None]) -> None:
        if not canaries:
            return
        with ThreadPoolExecutor(max_workers=min(self.concurrency, len(canaries))) as pool:
            list(pool.map(work, canaries))

    # ---- sending ------------------------------------------------------------------------------

    def send(self, canary: StackCanary) -> None:
        stack = canary.stack
        account, region = stack.account_id, stack.region
        replication = canary.probes["replication"]
        sent_at = self.clock.now()
        body = canary_body(canary.run_id, account, region, sent_at)
        self._attempt(
            canary,
            replication,
            lambda: self.calls.put_object(
                account,
                region,
                self.pipeline.source_bucket(stack),
                replication.where,
                json.dumps(body).encode(),
            ),
            f"putting s3://{self.pipeline.source_bucket(stack)}/{replication.where}",
        )
        replication.sent_at = sent_at if replication.status == "waiting" else None
        events = canary.probes["cloudwatchlogs"]
        sent_at = self.clock.now()
        body = canary_body(canary.run_id, account, region, sent_at)
        self._attempt(
            canary,
            events,
            lambda: self.calls.put_event(account, region, json.dumps(body), int(sent_at * 1000)),
            f"putting the canary event into {naming.CANARY_LOG_GROUP} ({account}, {region})",
        )
        events.sent_at = sent_at if events.status == "waiting" else None

    def _attempt(
        self, canary: StackCanary, probe: Probe, action: Callable[[], object], doing: str
    ) -> bool:
        try:
            action()
        except (ClientError, BotoCoreError) as error:
            probe.status, probe.error = "error", f"{doing}: {error}"
            self.on_change(canary, probe)
            return False
        return True

    # ---- looking in the central bucket --------------------------------------------------------

    def look(self, canary: StackCanary) -> None:
        for probe in canary.waiting:
            finder = self._replica if probe.path == "replication" else self._firehose_record
            try:
                found = finder(canary, probe)
            except (ClientError, BotoCoreError) as error:
                where = f"s3://{self.pipeline.central_bucket}/{probe.where}"
                probe.status, probe.error = "error", f"looking in {where}: {error}"
                self.on_change(canary, probe)
                continue
            if found:
                probe.status, probe.found_at, probe.found_in = "arrived", self.clock.now(), found
                self.on_change(canary, probe)

    def _archive(self) -> tuple[str, str, str]:
        p = self.pipeline
        return p.log_archive_account, p.home_region, p.central_bucket

    def _replica(self, canary: StackCanary, probe: Probe) -> str | None:
        return probe.where if self.calls.exists(*self._archive(), probe.where) else None

    def _firehose_record(self, canary: StackCanary, probe: Probe) -> str | None:
        assert probe.sent_at is not None
        stack = canary.stack
        written_after = datetime.fromtimestamp(probe.sent_at, UTC) - CLOCK_SKEW
        for folder in day_folders(stack.account_id, stack.region, probe.sent_at, self.clock.now()):
            for key, modified in self.calls.list_objects(*self._archive(), folder):
                if key in probe.seen or modified < written_after:
                    continue
                probe.seen.add(key)
                data = self.calls.read(*self._archive(), key)
                if holds_canary(data, run_id=canary.run_id, account=stack.account_id):
                    return key
        return None

    def _timeout_message(self, canary: StackCanary, probe: Probe, timeout: float) -> str:
        stack, bucket = canary.stack, self.pipeline.central_bucket
        if probe.path == "replication":
            return (
                f"no replica at s3://{bucket}/{probe.where} after {timeout:g} s: check the "
                f"replication rule and role of {self.pipeline.source_bucket(stack)} (aws s3api "
                "get-bucket-replication; the canary object's ReplicationStatus) and the "
                "replication-failed alarm"
            )
        destination = naming.destination_name(self.pipeline.name_prefix)
        return (
            f"no Firehose record with run id {canary.run_id} under s3://{bucket}/{probe.where} "
            f"after {timeout:g} s (Firehose buffers up to {FIREHOSE_BUFFER_SECONDS} s): check "
            f"the account's subscription policy, the destination {destination} in "
            f"{stack.region}, and s3://{bucket}/{naming.FIREHOSE_ERRORS}/{stack.region}/"
        )
