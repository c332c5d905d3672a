"""The automation's data: a plan of stacks, and what running one stack produced.

Shared by discovery/planning, the runners (offline and Automation API) and the orchestrator.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any, Literal, Protocol

from components.contract import ROLES, Role, config_key

Action = Literal["preview", "up", "destroy"]
# passed: the operation succeeded (and, for previews, no mandatory violation);
# failed: it ran and failed, or a mandatory policy was violated;
# error: it could not run (bad config, program error, unreachable account...);
# skipped: not run (failure tolerance reached, an earlier phase failed, already done).
Status = Literal["passed", "failed", "error", "skipped"]
ROLE_ORDER: dict[str, int] = {role: position for position, role in enumerate(ROLES)}


@dataclass(frozen=True)
class OrgFacts:
    """What the organization looks like to the program's data sources (`getOrganization`...)."""

    org_id: str
    management_account_id: str
    root_id: str = "r-a1b2"
    scp_enabled: bool = True
    # SCP names already attached to each target, ours excluded.
    attached_scps: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # Services with trusted access (ListAWSServiceAccessForOrganization).
    service_access_principals: tuple[str, ...] = ("cloudtrail.amazonaws.com",)
    # Whether the log-archive stack's key exists (the management stack looks it up).
    central_key_exists: bool = True


@dataclass(frozen=True)
class PlannedStack:
    name: str
    role: Role
    account_id: str
    region: str
    config: Mapping[str, Any]  # full keys: "org-logging:role", "aws:region", ...

    def __post_init__(self) -> None:
        # Interned, as a StackResult's are: a run's results share the plan's strings.
        for attribute in ("name", "role", "account_id", "region"):
            object.__setattr__(self, attribute, sys.intern(getattr(self, attribute)))

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "role": self.role,
            "accountId": self.account_id,
            "region": self.region,
            "config": dict(self.config),
        }

    @property
    def phase(self) -> int:
        """log-archive first, then management, then every source (in any order)."""
        return ROLE_ORDER[self.role]


@dataclass(frozen=True)
class Exclusion:
    """An account left out (or, with `region`, one account x region: an opt-in region the
    account has not enabled)."""

    account_id: str
    reason: str
    region: str | None = None

    def to_json(self) -> dict[str, str]:
        found = {"accountId": self.account_id, "reason": self.reason}
        if self.region is not None:
            found["region"] = self.region
        return found


def order_key(stack: PlannedStack) -> tuple[int, str]:
    return stack.phase, stack.name


@dataclass(frozen=True)
class Plan:
    stacks: tuple[PlannedStack, ...]
    excluded: tuple[Exclusion, ...] = ()
    warnings: tuple[str, ...] = ()  # what will work, but not well (e.g. a Firehose quota)

    def __post_init__(self) -> None:
        ordered = tuple(sorted(self.stacks, key=order_key))
        object.__setattr__(self, "stacks", ordered)
        excluded = tuple(
            sorted(self.excluded, key=lambda e: (e.account_id, e.region or "", e.reason))
        )
        object.__setattr__(self, "excluded", excluded)

    def to_json(self) -> dict[str, Any]:
        return {
            "stacks": [stack.to_json() for stack in self.stacks],
            "excluded": [exclusion.to_json() for exclusion in self.excluded],
            "warnings": list(self.warnings),
        }

    def shard(self, index: int, count: int) -> Plan:
        """Shard `index` of `count` (1-based): every stack lands in exactly one shard.

        Round-robin over the ordered plan, so every shard gets a fair share of sources.
        """
        if count < 1 or not 1 <= index <= count:
            raise ValueError(f"shard {index}/{count} must satisfy 1 <= i <= n")
        return Plan(
            tuple(s for position, s in enumerate(self.stacks) if position % count == index - 1),
            self.excluded,
            self.warnings,
        )

    def only(self, roles: Iterable[str]) -> Plan:
        wanted = set(roles)
        return Plan(tuple(s for s in self.stacks if s.role in wanted), self.excluded, self.warnings)

    def bootstrap(self) -> Plan:
        """`up --bootstrap`: the management stack alone, told to leave out what needs the
        log-archive stack (the trail), so that adminRoleName exists before that stack runs."""
        key = config_key("bootstrap")
        stacks = tuple(
            replace(s, config={**s.config, key: "true"})
            for s in self.stacks
            if s.role == "management"
        )
        return Plan(stacks, self.excluded, self.warnings)


@dataclass(frozen=True)
class Violation:
    policy: str
    level: str  # "mandatory" | "advisory" | ...
    message: str  # the policy's own message, without the description pulumi-policy prepends
    resource: str  # URN of the resource it concerns

    def to_json(self) -> dict[str, str]:
        return {
            "policy": self.policy,
            "level": self.level,
            "message": self.message,
            "resource": self.resource,
        }


@dataclass(slots=True)
class StackResult:
    """What running one stack produced; `to_json` is one entry of the report's `stacks`.

    A run keeps one per stack for its table and report: slots, and its strings interned (a
    result shares the plan's name and the few roles, regions, statuses), keep that at 40 % of
    a plain dataclass.
    """

    name: str
    role: str
    account_id: str
    region: str
    status: Status
    resources: int = 0  # registered resources, the root Stack excluded
    violations: list[Violation] = field(default_factory=list)
    error: str | None = None
    changes: dict[str, int] = field(default_factory=dict)  # "create": 3, "same": 12, ...
    attempts: int = 1
    duration_seconds: float = 0.0
    cached: bool = False  # reused from an earlier run with the same fingerprint, not run

    def __post_init__(self) -> None:
        for attribute in ("name", "role", "account_id", "region", "status"):
            setattr(self, attribute, sys.intern(getattr(self, attribute)))

    def __reduce__(self) -> tuple[type[StackResult], tuple[Any, ...]]:
        # Unpickled through __init__, so a result from a render worker is interned too.
        return type(self), tuple(getattr(self, f.name) for f in fields(self))

    @classmethod
    def for_stack(cls, stack: PlannedStack, status: Status, **fields: Any) -> StackResult:
        return cls(stack.name, stack.role, stack.account_id, stack.region, status, **fields)

    @property
    def mandatory_violations(self) -> list[Violation]:
        return [v for v in self.violations if v.level == "mandatory"]

    @property
    def ok(self) -> bool:
        """The one definition of a stack that passed: its operation succeeded and no mandatory
        policy was violated (whatever status a runner chose). The orchestrator, the ledger's
        resume and the report all use it."""
        return self.status == "passed" and not self.mandatory_violations

    def to_json(self) -> dict[str, Any]:
        report: dict[str, Any] = {
            "name": self.name,
            "role": self.role,
            "accountId": self.account_id,
            "region": self.region,
            "status": self.status,
            "resources": self.resources,
            "violations": [violation.to_json() for violation in self.violations],
        }
        if self.error is not None:
            report["error"] = self.error
        if self.changes:
            report["changes"] = dict(self.changes)  # up / destroy only
        if self.cached:
            report["cached"] = True
        return report

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> StackResult:
        """The inverse of to_json (attempts and duration are not part of it): the ledger's
        records and the offline cache's entries."""
        return cls(
            name=data["name"],
            role=data["role"],
            account_id=data["accountId"],
            region=data["region"],
            status=data["status"],
            resources=int(data.get("resources", 0)),
            violations=[
                Violation(v["policy"], v["level"], v["message"], v["resource"])
                for v in data.get("violations", [])
            ],
            error=data.get("error"),
            changes={str(k): int(v) for k, v in data.get("changes", {}).items()},
            cached=data.get("cached") is True,
        )


class StackRunner(Protocol):
    """Runs one stack. The Automation API runner and the offline runner both fit.

    A runner raises only for retryable trouble (throttling, a concurrent update holding the
    stack's lock): the orchestrator retries those with backoff. Everything else is a result.
    """

    def run(self, stack: PlannedStack, action: Action) -> StackResult: ...


class RetryableError(Exception):
    """Worth another attempt: throttling, a lock held by a concurrent update."""
