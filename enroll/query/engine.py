"""The archive's tables in DuckDB, over a local copy of the central bucket.

Every table is the one the log-archive stack registers in Glue (components/archive_tables.py):
a file belongs to a table when its key matches the table's `storage.location.template` (the
placeholders become the partition columns, as projection makes them), and its rows are read by
the table's SerDe (enroll/query/serde.py). Queries are written in Athena's dialect and
transpiled by sqlglot; `"$path"` is the object's s3:// address, as in Athena.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import sqlglot
from sqlglot import exp

from components.archive_tables import LogTable, Projection, log_tables, placeholders
from enroll.query.serde import parse_type, rows

ATHENA = "athena"
# What each placeholder matches in a key; the org id is unknown locally, so it is one too.
ORG_PLACEHOLDER = "${org_id}"
PLACEHOLDER_PATTERNS = {
    "org_id": r"o-[a-z0-9]{10,32}",
    "account": r"[0-9]{12}",
    "region": r"[a-z]{2}(?:-[a-z]+)+-[0-9]",
    "vpc": r"vpc-[0-9a-f]+",
}
PATH = "$path"


class QueryError(Exception):
    """SQL that does not parse in Athena's dialect, or fails in DuckDB."""


def local_tables() -> list[LogTable]:
    """The tables with any org, account and region: a local copy holds what it holds."""
    return log_tables(Projection(ORG_PLACEHOLDER, (), (), ()))


def key_pattern(table: LogTable) -> re.Pattern[str]:
    """The keys under the table's template, with the partition values as named groups."""
    template = table.template
    pattern, position = "", 0
    dates = {key.name: key.date_format for key in table.partitions if key.kind == "date"}
    for match in re.finditer(r"\$\{([a-z_]+)\}", template):
        pattern += re.escape(template[position : match.start()])
        name = match.group(1)
        if name in dates:
            value = re.sub(r"yyyy|MM|dd", lambda m: "[0-9]" * len(m.group()), dates[name])
        else:
            value = PLACEHOLDER_PATTERNS[name]
        pattern += f"(?P<{name}>{value})"
        position = match.end()
    return re.compile(pattern + re.escape(template[position:]) + r".+")


@dataclass(frozen=True)
class ArchiveObject:
    key: str
    path: Path


def objects(root: Path) -> Iterator[ArchiveObject]:
    for path in sorted(root.rglob("*")):
        if path.is_file():
            yield ArchiveObject(path.relative_to(root).as_posix(), path)


def partition_columns(table: LogTable) -> list[str]:
    return [name for name in placeholders(table.template) if name != "org_id"]


def create_table(connection: duckdb.DuckDBPyConnection, table: LogTable) -> None:
    columns = [f'"{c.name}" {parse_type(c.type).duckdb()}' for c in table.columns]
    columns += [f'"{name}" VARCHAR' for name in partition_columns(table)]
    columns.append(f'"{PATH}" VARCHAR')
    connection.execute(f'CREATE TABLE "{table.name}" ({", ".join(columns)})')


def load(
    connection: duckdb.DuckDBPyConnection,
    table: LogTable,
    archive: Iterable[ArchiveObject],
    bucket: str,
) -> int:
    """Read every object of `table` into it; returns how many objects."""
    pattern, names = key_pattern(table), partition_columns(table)
    found = 0
    batch: list[list[Any]] = []
    for obj in archive:
        match = pattern.fullmatch(obj.key)
        if not match:
            continue
        found += 1
        extra = [match.group(name) for name in names] + [f"s3://{bucket}/{obj.key}"]
        batch.extend(row + extra for row in rows(table, obj.path.read_bytes()))
    if batch:
        marks = ", ".join("?" * len(batch[0]))
        connection.executemany(f'INSERT INTO "{table.name}" VALUES ({marks})', batch)
    return found


class LocalArchive:
    """A DuckDB database with every table of the archive, read from `root`."""

    def __init__(self, root: Path, bucket: str | None = None) -> None:
        self.root, self.bucket = root, bucket or root.name
        self.connection = duckdb.connect()
        self.objects: dict[str, int] = {}
        archive = list(objects(root))
        for table in local_tables():
            create_table(self.connection, table)
            self.objects[table.name] = load(self.connection, table, archive, self.bucket)

    def query(self, sql: str, *, today: date | None = None) -> tuple[list[str], list[tuple]]:
        """Run Athena SQL; `today` stands in for current_date (a query's window)."""
        duck = to_duckdb(sql, today=today)
        try:
            result = self.connection.execute(duck)
        except duckdb.Error as error:
            raise QueryError(f"DuckDB could not run the query: {error}\n{duck}") from None
        return [d[0] for d in result.description], result.fetchall()

    def close(self) -> None:
        self.connection.close()


def to_duckdb(sql: str, *, today: date | None = None) -> str:
    """Athena (Trino) SQL in DuckDB's dialect, with current_date pinned to `today`."""
    try:
        statements = sqlglot.parse(sql, read=ATHENA)
    except sqlglot.errors.ParseError as error:
        raise QueryError(f"not valid Athena SQL: {error}") from None
    if len(statements) != 1 or statements[0] is None:
        raise QueryError("give exactly one SQL statement")
    tree = statements[0]
    if today is not None:
        pinned = exp.cast(exp.Literal.string(today.isoformat()), exp.DataType.Type.DATE)
        tree = tree.transform(
            lambda node: pinned.copy() if isinstance(node, exp.CurrentDate) else node
        )
    return tree.sql(dialect="duckdb")
