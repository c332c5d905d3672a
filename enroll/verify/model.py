"""What verify sends, where it looks for it, and what it found: pure data and the report."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from components import naming
from enroll.org.model import PlannedStack

Path = Literal["replication", "cloudwatchlogs"]
PATHS: tuple[Path, ...] = ("replication", "cloudwatchlogs")
# arrived: seen in the central bucket; timeout: not seen before the deadline; error: the canary
# could not be sent or looked for (the message says why).
PathStatus = Literal["arrived", "timeout", "error", "waiting"]


def new_run_id(now: float, token: str | None = None) -> str:
    """Sortable by time and unique per run: `20261130T212233Z-1a2b3c4d`."""
    stamp = datetime.fromtimestamp(now, UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"{stamp}-{token or secrets.token_hex(4)}"


def iso(moment: float | None) -> str | None:
    if moment is None:
        return None
    return datetime.fromtimestamp(moment, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def canary_body(run_id: str, account: str, region: str, sent_at: float) -> dict[str, str]:
    """The canary object's content and the canary event's message: the same facts."""
    return {
        "canary": naming.CANARY_SERVICE,
        "runId": run_id,
        "accountId": account,
        "region": region,
        "sentAt": iso(sent_at) or "",
    }


@dataclass
class Probe:
    """One path of one stack: sent at `sent_at`, seen in the central bucket at `found_at`."""

    path: Path
    where: str  # the replica's key, or the Firehose folder looked in
    status: PathStatus = "waiting"
    sent_at: float | None = None
    found_at: float | None = None
    found_in: str | None = None  # the central object that held it
    error: str | None = None
    seen: set[str] = field(default_factory=set)  # Firehose objects already read

    @property
    def latency(self) -> float | None:
        if self.sent_at is None or self.found_at is None:
            return None
        return round(self.found_at - self.sent_at, 1)

    def to_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "where": self.where,
            "sentAt": iso(self.sent_at),
            "foundAt": iso(self.found_at),
            "foundIn": self.found_in,
            "latencySeconds": self.latency,
            "error": self.error,
        }


@dataclass
class StackCanary:
    """The canary of one source stack (account x region): both paths."""

    stack: PlannedStack
    run_id: str
    probes: dict[Path, Probe]

    @classmethod
    def for_stack(cls, stack: PlannedStack, run_id: str) -> StackCanary:
        account, region = stack.account_id, stack.region
        return cls(
            stack,
            run_id,
            {
                "replication": Probe(
                    "replication", naming.canary_object_key(account, region, run_id)
                ),
                "cloudwatchlogs": Probe(
                    "cloudwatchlogs", naming.cloudwatch_logs_prefix(account, region)
                ),
            },
        )

    @property
    def passed(self) -> bool:
        return all(probe.status == "arrived" for probe in self.probes.values())

    @property
    def waiting(self) -> list[Probe]:
        return [probe for probe in self.probes.values() if probe.status == "waiting"]

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.stack.name,
            "accountId": self.stack.account_id,
            "region": self.stack.region,
            "status": "passed" if self.passed else "failed",
            "paths": {path: probe.to_json() for path, probe in self.probes.items()},
        }


@dataclass(frozen=True)
class VerifyReport:
    run_id: str
    started_at: float
    finished_at: float
    timeout_seconds: float
    poll_seconds: float
    central_bucket: str
    canaries: tuple[StackCanary, ...]

    @property
    def ok(self) -> bool:
        return all(canary.passed for canary in self.canaries)

    def to_json(self) -> dict[str, Any]:
        passed = sum(canary.passed for canary in self.canaries)
        latencies = {
            path: [
                probe.latency
                for canary in self.canaries
                for probe in (canary.probes[path],)
                if probe.latency is not None
            ]
            for path in PATHS
        }
        return {
            "runId": self.run_id,
            "startedAt": iso(self.started_at),
            "finishedAt": iso(self.finished_at),
            "timeoutSeconds": self.timeout_seconds,
            "pollSeconds": self.poll_seconds,
            "centralBucket": self.central_bucket,
            "stacks": [canary.to_json() for canary in self.canaries],
            "summary": {
                "stacks": len(self.canaries),
                "passed": passed,
                "failed": len(self.canaries) - passed,
                "maxLatencySeconds": {
                    path: max(values) if values else None for path, values in latencies.items()
                },
            },
        }

    def dumps(self) -> str:
        return json.dumps(self.to_json(), indent=2)
