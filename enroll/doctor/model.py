"""What a check found, and the report of every check: ok, warn or fail, what is wrong, and the
command or setting that fixes it (and, for the few safe fixes, the one call `--fix` makes)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

Status = Literal["ok", "warn", "fail"]
STATUSES: tuple[Status, ...] = ("ok", "warn", "fail")
EXIT_OK, EXIT_FAILED = 0, 1


@dataclass(frozen=True)
class FixCall:
    """One AWS call `doctor --fix` may make: safe and reversible (trusted access, a policy
    type). `service` is boto3's name of the service, `operation` the API's."""

    service: str
    operation: str
    params: Mapping[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        args = " ".join(f"{key}={value}" for key, value in self.params.items())
        return f"{self.service} {self.operation}" + (f" {args}" if args else "")


@dataclass(frozen=True)
class Result:
    """What one check function returns."""

    status: Status
    problem: str  # what is wrong; for ok, what was found
    fix: str = ""  # the exact command or setting that fixes it
    call: FixCall | None = None  # what --fix does about it, if it may
    details: tuple[str, ...] = ()  # every item (account, target...), for --json


def ok(found: str, details: tuple[str, ...] = ()) -> Result:
    return Result("ok", found, details=details)


@dataclass(frozen=True)
class Finding:
    """A check's result, with the check's id and title."""

    id: str
    title: str
    result: Result

    @property
    def status(self) -> Status:
        return self.result.status

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "check": self.title,
            "status": self.result.status,
            "problem": self.result.problem,
            "fix": self.result.fix,
            "fixCall": str(self.result.call) if self.result.call else None,
            "details": list(self.result.details),
        }


@dataclass(frozen=True)
class FixOutcome:
    """A call `--fix` made, and what came of it ("" when it succeeded)."""

    call: FixCall
    error: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"call": str(self.call), "ok": not self.error, "error": self.error or None}


@dataclass(frozen=True)
class Report:
    findings: tuple[Finding, ...]
    fixed: tuple[FixOutcome, ...] = ()

    def count(self, status: Status) -> int:
        return sum(1 for finding in self.findings if finding.status == status)

    @property
    def exit_code(self) -> int:
        """0 when no check fails (warnings allowed), 1 when one does."""
        return EXIT_FAILED if self.count("fail") else EXIT_OK

    @property
    def fixable(self) -> tuple[FixCall, ...]:
        """The calls --fix would make: one per failing or warning check that has one."""
        calls: list[FixCall] = []
        for finding in self.findings:
            call = finding.result.call
            if finding.status != "ok" and call is not None and call not in calls:
                calls.append(call)
        return tuple(calls)

    def summary(self) -> str:
        counts = ", ".join(f"{self.count(status)} {status}" for status in STATUSES)
        return f"{len(self.findings)} checks: {counts}"

    def to_json(self) -> dict[str, Any]:
        document: dict[str, Any] = {"checks": [finding.to_json() for finding in self.findings]}
        if self.fixed:
            document["fixed"] = [outcome.to_json() for outcome in self.fixed]
        document["summary"] = {
            **{status: self.count(status) for status in STATUSES},
            "exitCode": self.exit_code,
        }
        return document
