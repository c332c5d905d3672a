"""A plan saved with `plan --json`, read back for `--plan FILE`: its whole shape is checked
before anything runs, and every problem is reported at once (a plan whose `stacks` is `{}`
used to run nothing and exit 0; a non-map `config` crashed after earlier phases deployed)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from components.contract import ROLES
from enroll.org.model import Exclusion, Plan, PlannedStack
from policy import conventions

# Pulumi stack names: letters, digits, '-', '_' and '.', at most 100 characters.
STACK_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")
CONFIG_KEY = re.compile(r"^[A-Za-z0-9_.-]+:[A-Za-z0-9_.-]+$")


class PlanError(ValueError):
    def __init__(self, path: str, problems: list[str]) -> None:
        self.problems = problems
        super().__init__(
            f"--plan {path} is not a plan saved with `plan --json`:\n  " + "\n  ".join(problems)
        )


ConfigValue = str | bool | int | list[Any] | dict[str, Any]


class _Stack(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    name: str = Field(pattern=STACK_NAME.pattern)
    role: Literal[ROLES]  # type: ignore[valid-type]
    accountId: str = Field(pattern=conventions.ACCOUNT_ID_PATTERN.pattern)
    region: str
    config: dict[str, ConfigValue]

    @field_validator("region")
    @classmethod
    def _known_region(cls, region: str) -> str:
        if region not in conventions.REGIONS:
            raise ValueError("is not an AWS region of aws, aws-us-gov or aws-cn")
        return region

    @field_validator("config")
    @classmethod
    def _config_keys(cls, config: dict[str, ConfigValue]) -> dict[str, ConfigValue]:
        bad = [key for key in config if not CONFIG_KEY.fullmatch(key)]
        if bad:
            raise ValueError(f"has keys {bad} that are not stack config keys (<namespace>:<key>)")
        return config


class _Exclusion(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    accountId: str
    reason: str
    region: str | None = None


class _Plan(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    stacks: list[_Stack] = Field(min_length=1)
    excluded: list[_Exclusion] = []
    warnings: list[str] = []


def _where(location: tuple[Any, ...], document: Any) -> str:
    """`stacks[3].config` (with the stack's name when it has one)."""
    parts: list[str] = []
    node = document
    for step in location:
        if isinstance(step, int):
            name = (
                node[step].get("name")
                if isinstance(node, list) and isinstance(node[step], dict)
                else None
            )
            parts[-1] += f"[{step}]" + (f" ({name})" if isinstance(name, str) else "")
        else:
            parts.append(str(step))
        try:
            node = node[step]
        except (KeyError, IndexError, TypeError):
            node = None
    return ".".join(parts) or "the plan"


RULES = {
    "name": "must be a Pulumi stack name (1-100 of letters, digits, '-', '_', '.')",
    "role": f"must be one of {', '.join(ROLES)}",
    "accountId": "must be a 12-digit account id",
}
KINDS = {"list_type": "a list", "dict_type": "a map", "string_type": "a string"}


def _problem(error: dict[str, Any], document: Any) -> str:
    where, kind = _where(error["loc"], document), error["type"]
    field = error["loc"][-1] if error["loc"] else ""
    value = f" {error['input']!r}" if kind not in ("missing", "extra_forbidden") else ""
    if kind == "extra_forbidden":
        return f"{where} is not a field of a plan"
    if kind == "missing":
        return f"{where} is missing"
    if kind in KINDS:
        return f"{where}{value} must be {KINDS[kind]}"
    if kind == "too_short":
        return f"{where} must list at least one stack"
    if field in RULES and kind in ("string_pattern_mismatch", "literal_error"):
        return f"{where}{value} {RULES[field]}"
    if field == "config":
        value = ""
    return f"{where}{value} {error['msg'].removeprefix('Value error, ')}"


def parse_plan(document: Any, path: str) -> Plan:
    try:
        parsed = _Plan.model_validate(document)
    except ValidationError as error:
        raise PlanError(path, [_problem(e, document) for e in error.errors()]) from None
    problems = []
    seen: dict[str, int] = {}
    for index, stack in enumerate(parsed.stacks):
        if stack.name in seen:
            problems.append(
                f"stacks[{index}] ({stack.name}) has the name of stacks[{seen[stack.name]}]: "
                "stack names are unique"
            )
        seen.setdefault(stack.name, index)
    if problems:
        raise PlanError(path, problems)
    return Plan(
        tuple(PlannedStack(s.name, s.role, s.accountId, s.region, s.config) for s in parsed.stacks),
        tuple(Exclusion(e.accountId, e.reason, e.region) for e in parsed.excluded),
        tuple(parsed.warnings),
    )


def load_plan(path: str) -> Plan:
    """The plan in `path`, or PlanError naming every problem."""
    try:
        text = Path(path).read_bytes().decode("utf-8")
    except OSError as error:
        raise PlanError(path, [f"cannot be read: {error.strerror}"]) from None
    except UnicodeDecodeError:
        raise PlanError(path, ["is not UTF-8 text"]) from None
    if not text.strip():
        raise PlanError(path, ["is empty"])
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise PlanError(path, [f"is not JSON ({error.msg} at line {error.lineno})"]) from None
    except RecursionError:
        raise PlanError(path, ["is nested too deeply to be a plan"]) from None
    if not isinstance(document, dict):
        raise PlanError(path, ["must be a JSON object with `stacks`"])
    return parse_plan(document, path)
