"""How settings are checked: every problem collected, each naming the key, the value and the
rule (docs/architecture.md, "Config contract"). Used by `components.settings`."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any

from policy import conventions

_KIND_WORDS = {list: "list", dict: "map"}


def _number_for_id(value: int | float, pattern: re.Pattern[str]) -> str:
    """An unquoted id read as a number. YAML 1.1 reads 012345670123 (a leading 0, digits 0-7)
    as the octal number 1402433619; say so, with the id it was."""
    if isinstance(value, int) and value > 0 and len(octal := f"0{value:o}") == 12:
        return (
            f"was read as a number: unquoted, {octal} is octal to YAML (a leading 0), which "
            f'makes it {value}; quote it: "{octal}"'
        )
    return f"must be a quoted string matching {pattern.pattern} (unquoted, it is read as a number)"


class SettingsError(ValueError):
    """Every problem found in a configuration, one line each."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("invalid org-logging configuration:\n  " + "\n  ".join(problems))


def show(value: Any) -> str:
    """A value as the user wrote it: strings quoted, everything else as JSON."""
    if isinstance(value, str):
        return repr(value)
    try:
        return json.dumps(value)
    except TypeError:
        return repr(value)


class Checker:
    """Collects problems so that a user sees all of them in one run."""

    def __init__(self, values: Mapping[str, Any], role: str, label: Callable[[str], str]) -> None:
        self.values = values
        self.role = role
        self.label = label
        self.problems: list[str] = []

    def name(self, key: str) -> str:
        return key if ":" in key else self.label(key)

    def fail(self, key: str, value: Any, rule: str) -> None:
        self.problems.append(f"{self.name(key)} {show(value)} {rule}")

    def required(self, key: str) -> Any:
        value = self.values.get(key)
        if value is None or value == "":
            self.problems.append(f"{self.name(key)} is required for role {self.role!r}")
            return None
        return value

    def string(self, key: str, pattern: re.Pattern[str], *, required: bool = True) -> str:
        value = self.required(key) if required else self.values.get(key)
        if value is None:
            return ""
        if isinstance(value, int | float) and not isinstance(value, bool):
            self.fail(key, value, _number_for_id(value, pattern))
            return ""
        if not isinstance(value, str) or not pattern.fullmatch(value):
            self.fail(key, value, f"must match {pattern.pattern}")
            return ""
        return value

    def region(self, key: str, value: Any) -> str:
        if not isinstance(value, str) or value not in conventions.REGIONS:
            self.fail(key, value, "must be an AWS region of partition aws, aws-us-gov or aws-cn")
            return ""
        return value

    def integer(self, key: str, default: int, low: int, high: int, *, what: str = "days") -> int:
        value = self.values.get(key)
        if value is None or value == "":
            return default
        number = value
        if isinstance(value, str) and re.fullmatch(r"[0-9]+", value.strip()):
            number = int(value)
        if isinstance(number, bool) or not isinstance(number, int) or not low <= number <= high:
            self.fail(key, value, f"must be a whole number of {what} from {low} to {high}")
            return default
        return number

    def boolean(self, key: str) -> bool:
        value = self.values.get(key)
        if value is None or value == "":
            return False
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        self.fail(key, value, "must be true or false")
        return False

    def structured(self, key: str, kind: type) -> Any:
        """A list or map: native, or a JSON string as Pulumi config stores it."""
        value = self.values.get(key)
        if value is None or value == "":
            return None
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except json.JSONDecodeError:
                # From a settings file it is a plain word; from `pulumi config set`, JSON text.
                example = '["a", "b"]' if kind is list else '{"key": "value"}'
                self.fail(
                    key,
                    self.values[key],
                    f"must be a {_KIND_WORDS[kind]} (in Pulumi config, JSON text like {example})",
                )
                return None
        if not isinstance(value, kind):
            self.fail(key, value, f"must be a {_KIND_WORDS[kind]}")
            return None
        return value

    def string_list(self, key: str, pattern: re.Pattern[str], rule: str) -> tuple[str, ...]:
        items = self.structured(key, list)
        if items is None:
            return ()
        good: list[str] = []
        for item in items:
            if not isinstance(item, str) or not pattern.fullmatch(item):
                self.fail(key, item, f"(an item) {rule}")
            elif item in good:
                self.fail(key, item, "(an item) is listed twice")
            else:
                good.append(item)
        return tuple(good)
