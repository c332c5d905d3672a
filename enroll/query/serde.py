"""The SerDes of the archive's tables, in Python: each file becomes rows the way Athena reads
it, so that a query gives locally the rows it gives in Athena.

- CloudTrail: a file is `{"Records": [...]}`, one row per record (CloudTrailInputFormat);
  a string column holding an object keeps it as JSON text (requestparameters, ...).
- JSON (OpenX JsonSerDe): one object per line; keys match columns case-insensitively.
- Regex (RegexSerDe): the whole line must match; a line that does not reads as a row of nulls.
- Delimited (LazySimpleSerDe): split on the delimiter after the header lines; a value that is
  not a number in a number column is null.
"""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from components.archive_tables import LogTable


@dataclass(frozen=True)
class HiveType:
    kind: str  # string, int, bigint, double, boolean, date, array, map, struct
    items: tuple[tuple[str, HiveType], ...] = ()  # struct fields; array: ("", t); map: k, v

    def duckdb(self) -> str:
        if self.kind == "array":
            return f"{self.items[0][1].duckdb()}[]"
        if self.kind == "map":
            return f"MAP({self.items[0][1].duckdb()}, {self.items[1][1].duckdb()})"
        if self.kind == "struct":
            fields = ", ".join(f'"{name}" {t.duckdb()}' for name, t in self.items)
            return f"STRUCT({fields})"
        return SCALARS[self.kind]


SCALARS = {
    "string": "VARCHAR",
    "int": "INTEGER",
    "bigint": "BIGINT",
    "double": "DOUBLE",
    "float": "DOUBLE",
    "boolean": "BOOLEAN",
    "date": "DATE",
}


def parse_type(text: str) -> HiveType:
    parsed, rest = _parse(text.replace(" ", "").lower())
    if rest:
        raise ValueError(f"unexpected {rest!r} in type {text!r}")
    return parsed


def _parse(text: str) -> tuple[HiveType, str]:
    match = re.match(r"[a-z]+", text)
    if not match:
        raise ValueError(f"no type at {text!r}")
    kind, rest = match.group(), text[match.end() :]
    if kind not in ("array", "map", "struct"):
        if kind not in SCALARS:
            raise ValueError(f"unknown type {kind!r}")
        return HiveType(kind), rest
    rest = rest[1:]  # <
    items: list[tuple[str, HiveType]] = []
    while True:
        name = ""
        if kind == "struct":
            name, rest = rest.split(":", 1)
        item, rest = _parse(rest)
        items.append((name, item))
        separator, rest = rest[0], rest[1:]
        if separator == ">":
            return HiveType(kind, tuple(items)), rest


# ---- values ---------------------------------------------------------------------------------

INTEGER = re.compile(r"-?[0-9]+")
NUMBER = re.compile(r"-?([0-9]+\.?[0-9]*|\.[0-9]+)([eE]-?[0-9]+)?")
DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def from_text(value: str | None, t: HiveType) -> Any:
    """A field of a text line: what Hive reads for the column's type (null when it can't)."""
    if value is None:
        return None
    if t.kind in ("int", "bigint"):
        return int(value) if INTEGER.fullmatch(value) else None
    if t.kind in ("double", "float"):
        return float(value) if NUMBER.fullmatch(value) else None
    if t.kind == "boolean":
        return {"true": True, "false": False}.get(value.lower())
    if t.kind == "date":
        return value if DATE.fullmatch(value) else None
    return value


def from_json(value: Any, t: HiveType) -> Any:
    """A JSON value for the column's type (objects as JSON text in string columns)."""
    if value is None:
        return None
    if t.kind == "struct":
        if not isinstance(value, dict):
            return None
        lowered = {str(k).lower(): v for k, v in value.items()}
        return {name: from_json(lowered.get(name), sub) for name, sub in t.items}
    if t.kind == "array":
        return [from_json(v, t.items[0][1]) for v in value] if isinstance(value, list) else None
    if t.kind == "map":
        if not isinstance(value, dict):
            return None
        return {str(k): from_json(v, t.items[1][1]) for k, v in value.items()}
    if t.kind == "string":
        if isinstance(value, dict | list):
            return json.dumps(value, separators=(",", ":"))
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(value)
    if isinstance(value, bool):
        return value if t.kind == "boolean" else None
    return from_text(str(value), t)


# ---- files ----------------------------------------------------------------------------------


def text_of(body: bytes) -> str:
    """Writers gzip (by content, whatever the name says)."""
    if body[:2] == b"\x1f\x8b":
        body = gzip.decompress(body)
    return body.decode("utf-8", errors="replace")


def rows(table: LogTable, body: bytes) -> Iterator[list[Any]]:
    """The rows of one file, one value per column of `table`, in column order."""
    types = [(c.name, parse_type(c.type)) for c in table.columns]
    text = text_of(body)
    if table.reader == "cloudtrail":
        records = _json_or_none(text)
        for record in (records or {}).get("Records", []) if isinstance(records, dict) else []:
            yield _json_row(record, types)
    elif table.reader == "json":
        for line in text.splitlines():
            if line.strip():
                yield _json_row(_json_or_none(line), types)
    elif table.reader == "regex":
        pattern = re.compile(table.regex)
        for line in text.splitlines():
            match = pattern.fullmatch(line)
            groups = match.groups() if match else [None] * len(types)
            yield [from_text(v, t) for v, (_, t) in zip(groups, types, strict=True)]
    else:
        delimiter = table.serde_parameters["field.delim"]
        for line in text.splitlines()[table.skip_header_lines :]:
            fields = line.split(delimiter)
            fields += [None] * (len(types) - len(fields))  # type: ignore[list-item]
            yield [from_text(v, t) for v, (_, t) in zip(fields, types, strict=False)]


def _json_or_none(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return None


def _json_row(record: Any, types: list[tuple[str, HiveType]]) -> list[Any]:
    lowered = {str(k).lower(): v for k, v in record.items()} if isinstance(record, dict) else {}
    return [from_json(lowered.get(name), t) for name, t in types]
