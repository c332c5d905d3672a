"""The organization's settings file (`stacks/org.yaml`): the stack config keys of every stack, and
which accounts to leave out. Validated with the stack config's own rules and messages.

`orgId` and `managementAccountId` are not in the file: discovery reads them from the
organization (DescribeOrganization), so the file cannot disagree with the credentials. The
plan fills in `memberAccountIds` (the enrolled accounts) for the log-archive stack.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from components.contract import ROLES
from components.settings import (
    ACCOUNT_ID_PATTERN,
    COMMON_KEYS,
    DEFAULT_FIREHOSE_PARTITION_QUOTA,
    ROLE_KEYS,
    SettingsError,
    parse_settings,
    show,
)
from enroll.util import strictyaml

DISCOVERED_KEYS = ("role", "orgId", "managementAccountId", "accountId", "memberAccountIds")
RUN_KEYS = ("bootstrap",)  # set for one run by a flag (`up --bootstrap`), never in the file
FILE_KEYS = tuple(
    key
    for key in (*COMMON_KEYS, *(k for keys in ROLE_KEYS.values() for k in keys))
    if key not in DISCOVERED_KEYS and key not in RUN_KEYS
)
EXCLUDE_KEYS = ("accountIds", "ouIds", "optOutTag")
OU_ID_PATTERN = re.compile(r"^ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}$")
TAG_KEY_PATTERN = re.compile(r"^[\w.:/=+@ -]{1,128}$", re.ASCII)
# Stand-ins for the discovered values while the file is checked on its own.
PLACEHOLDER_ORG_ID = "o-placeholder0"
PLACEHOLDER_ACCOUNT_ID = "000000000000"


@dataclass(frozen=True)
class Exclusions:
    account_ids: frozenset[str] = frozenset()
    ou_ids: frozenset[str] = frozenset()
    opt_out_tag: str | None = None


@dataclass(frozen=True)
class OrgSettings:
    path: str
    values: Mapping[str, Any]  # the file's stack config keys, as written
    exclude: Exclusions

    @property
    def name_prefix(self) -> str:
        return self.values["namePrefix"]

    @property
    def log_archive_account_id(self) -> str:
        return self.values["logArchiveAccountId"]

    @property
    def home_region(self) -> str:
        return self.values["homeRegion"]

    @property
    def regions(self) -> tuple[str, ...]:
        return tuple(self.values["regions"])

    @property
    def firehose_partition_quota(self) -> int:
        return int(self.values.get("firehosePartitionQuota") or DEFAULT_FIREHOSE_PARTITION_QUOTA)

    def stack_values(
        self,
        role: str,
        *,
        org_id: str,
        management_account_id: str,
        account_id: str | None = None,
        member_account_ids: list[str] | None = None,
    ) -> dict[str, Any]:
        """The stack config values (short keys) of one stack of `role`."""
        values: dict[str, Any] = {
            "role": role,
            "orgId": org_id,
            "managementAccountId": management_account_id,
        }
        values.update({k: self.values[k] for k in COMMON_KEYS if k in self.values})
        values.update({k: self.values[k] for k in ROLE_KEYS[role] if k in self.values})
        if role == "source":
            values["accountId"] = account_id
        if role == "log-archive" and member_account_ids is not None:
            values["memberAccountIds"] = list(member_account_ids)
        return values


def _label(path: str) -> Any:
    return lambda key: f"{path}: {key}"


def _check_exclusions(path: str, raw: Any, problems: list[str]) -> Exclusions:
    if raw is None:
        return Exclusions()
    if not isinstance(raw, Mapping):
        problems.append(f"{path}: exclude {show(raw)} must be a map of {', '.join(EXCLUDE_KEYS)}")
        return Exclusions()
    for key in sorted(set(raw) - set(EXCLUDE_KEYS)):
        problems.append(
            f"{path}: exclude.{key} is not a known key; known keys: {', '.join(EXCLUDE_KEYS)}"
        )

    def ids(key: str, pattern: re.Pattern[str], what: str) -> frozenset[str]:
        items = raw.get(key) or []
        if not isinstance(items, list):
            problems.append(f"{path}: exclude.{key} {show(items)} must be a list")
            return frozenset()
        good = set()
        for item in items:
            item = str(item) if isinstance(item, int) else item
            if not isinstance(item, str) or not pattern.fullmatch(item):
                problems.append(
                    f"{path}: exclude.{key} {show(item)} (an item) must be {what} "
                    f"({pattern.pattern})"
                )
            else:
                good.add(item)
        return frozenset(good)

    tag = raw.get("optOutTag")
    if tag is not None and not (isinstance(tag, str) and TAG_KEY_PATTERN.fullmatch(tag)):
        problems.append(f"{path}: exclude.optOutTag {show(tag)} must be a tag key (1-128 chars)")
        tag = None
    return Exclusions(
        account_ids=ids("accountIds", ACCOUNT_ID_PATTERN, "an account id"),
        ou_ids=ids("ouIds", OU_ID_PATTERN, "an OU id"),
        opt_out_tag=tag,
    )


def parse_org_settings(raw: Any, path: str) -> OrgSettings:
    """Validate a parsed settings file; every problem at once, as SettingsError."""
    if not isinstance(raw, Mapping):
        raise SettingsError([f"{path}: must be a map of settings, not {show(raw)}"])
    problems: list[str] = []
    for key in sorted(set(raw) - set(FILE_KEYS) - {"exclude"}):
        if key in DISCOVERED_KEYS:
            problems.append(
                f"{path}: {key} is not set in the file: it is discovered from the organization "
                "(orgId, managementAccountId, memberAccountIds) or per account (role, accountId)"
            )
        elif key in RUN_KEYS:
            problems.append(
                f"{path}: {key} is not set in the file: `org-logging up --bootstrap` sets it "
                "for the one run that creates adminRoleName before the log-archive stack exists"
            )
        else:
            problems.append(
                f"{path}: {key} is not a known key; known keys: {', '.join(FILE_KEYS)}, exclude"
            )
    exclude = _check_exclusions(path, raw.get("exclude"), problems)
    values = {k: v for k, v in raw.items() if k in FILE_KEYS}
    settings = OrgSettings(path, values, exclude)
    # Each role's keys, checked by the stack config's own rules (messages name the file).
    for role in ROLES:
        try:
            parse_settings(
                settings.stack_values(
                    role,
                    org_id=PLACEHOLDER_ORG_ID,
                    management_account_id=PLACEHOLDER_ACCOUNT_ID,
                    account_id=PLACEHOLDER_ACCOUNT_ID,
                    member_account_ids=[PLACEHOLDER_ACCOUNT_ID],
                ),
                stack_region=values.get("homeRegion") if role == "source" else None,
                label=_label(path),
            )
        except SettingsError as error:
            problems.extend(p for p in error.problems if p not in problems)
    if problems:
        raise SettingsError(problems)
    return settings


def load_org_settings(path: str | Path) -> OrgSettings:
    file = Path(path)
    try:
        text = file.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise SettingsError([f"settings file {file} not found (see stacks/org.yaml)"]) from None
    except IsADirectoryError:
        raise SettingsError([f"settings file {file} is a directory, not a YAML file"]) from None
    except OSError as error:
        raise SettingsError([f"settings file {file} cannot be read: {error.strerror}"]) from None
    except UnicodeDecodeError as error:
        raise SettingsError(
            [
                f"settings file {file} is not UTF-8 text (byte 0x{error.object[error.start]:02x} "
                f"at offset {error.start}); save it as UTF-8"
            ]
        ) from None
    try:
        raw = strictyaml.load(text)
    except strictyaml.YamlProblem as error:
        raise SettingsError([f"{file}: {error}"]) from None
    return parse_org_settings(raw, str(file))
