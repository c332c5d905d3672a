"""`org-logging query [NAME | --sql SQL] [--archive DIR | --endpoint-url URL]`: a named query
of the archive, or any SQL in Athena's dialect, run locally with DuckDB over a copy of the
central bucket (`aws s3 sync`), or over the emulator's bucket. For small windows and incident
response without Athena; the whole archive belongs to the Athena workgroup (README).

Exit codes: 0 the query ran; 2 usage errors (unknown query, bad SQL, no archive).
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import sys
import tempfile
from datetime import date
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from components.named_queries import named_queries
from enroll.query.engine import LocalArchive, QueryError
from enroll.query.fetch import download_archive

EXIT_OK, EXIT_USAGE = 0, 2
# The central bucket's name, {namePrefix}-org-logs-{account}-{region}, gives the prefix.
CENTRAL_BUCKET = re.compile(r"^(?P<prefix>[a-z][a-z0-9-]*?)-org-logs-[0-9]{12}-[a-z0-9-]+$")
DEFAULT_NAME_PREFIX = "acme"


def add_query_parser(commands: Any) -> None:
    names = [q.name for q in named_queries(DEFAULT_NAME_PREFIX)]
    query = commands.add_parser(
        "query",
        help="run a named query (or your SQL) over a local copy of the archive with DuckDB",
        description="Run one of the archive's named Athena queries, or your own SQL in "
        "Athena's dialect, with DuckDB over a local copy of the central bucket (aws s3 sync) "
        "or the emulator's bucket. For small windows; query the whole archive with Athena. "
        f"Named queries: {', '.join(names)}.",
    )
    query.add_argument("name", nargs="?", metavar="NAME", help="a named query (--list shows them)")
    query.add_argument("--sql", help="your own query, in Athena's dialect")
    query.add_argument("--list", action="store_true", help="list the named queries")
    source = query.add_mutually_exclusive_group()
    source.add_argument("--archive", metavar="DIR", help="a local copy of the central bucket")
    source.add_argument(
        "--endpoint-url", metavar="URL", help="read the bucket from this S3 endpoint (emulator)"
    )
    query.add_argument("--bucket", help="the central bucket (default: the archive dir's name)")
    query.add_argument(
        "--name-prefix",
        help="namePrefix of the named queries (default: from the bucket's name)",
    )
    query.add_argument(
        "--today",
        type=date.fromisoformat,
        metavar="YYYY-MM-DD",
        help="the last day of the queries' window (default: today)",
    )
    output = query.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="print the rows as JSON")
    output.add_argument("--csv", action="store_true", help="print the rows as CSV")


def name_prefix_of(bucket: str) -> str:
    match = CENTRAL_BUCKET.match(bucket)
    return match.group("prefix") if match else DEFAULT_NAME_PREFIX


def command_query(args: argparse.Namespace, out: Console, err: Console) -> int:
    try:
        return _run(args, out, err)
    except QueryError as error:
        err.print("[bold red]error:[/]", escape(str(error)), highlight=False)
        return EXIT_USAGE


def _run(args: argparse.Namespace, out: Console, err: Console) -> int:
    if args.list:
        for q in named_queries(args.name_prefix or DEFAULT_NAME_PREFIX):
            out.print(f"[bold]{q.name}[/]  {escape(q.description)}", highlight=False)
        return EXIT_OK
    if bool(args.name) == bool(args.sql):
        raise QueryError("give a query NAME or --sql SQL (one of them); --list shows the names")
    if not args.archive and not args.endpoint_url:
        raise QueryError("give --archive DIR (a copy of the central bucket) or --endpoint-url")
    with tempfile.TemporaryDirectory(prefix="org-logging-query-") as scratch:
        if args.archive:
            root = Path(args.archive)
            if not root.is_dir():
                raise QueryError(f"--archive {args.archive!r} is not a directory")
            bucket = args.bucket or root.resolve().name
        else:
            bucket, root = download_archive(args.endpoint_url, args.bucket, Path(scratch))
        title, sql = _query_text(args, args.name_prefix or name_prefix_of(bucket))
        archive = LocalArchive(root, bucket)
        try:
            columns, rows = archive.query(sql, today=args.today)
        finally:
            archive.close()
    _print(title, columns, rows, args, out)
    return EXIT_OK


def _query_text(args: argparse.Namespace, prefix: str) -> tuple[str, str]:
    if args.sql:
        return "your query", args.sql
    for query in named_queries(prefix):
        if query.name == args.name:
            return query.name, query.sql
    known = ", ".join(q.name for q in named_queries(prefix))
    raise QueryError(f"unknown query {args.name!r}; one of {known}")


def plain(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def _print(
    title: str, columns: list[str], rows: list[tuple], args: argparse.Namespace, out: Console
) -> None:
    if args.json:
        records = [dict(zip(columns, map(plain, row), strict=True)) for row in rows]
        print(json.dumps({"query": title, "columns": columns, "rows": records}, indent=2))
    elif args.csv:
        writer = csv.writer(sys.stdout)
        writer.writerow(columns)
        writer.writerows([[plain(v) for v in row] for row in rows])
    else:
        out.print(rows_table(title, columns, rows))


def rows_table(title: str, columns: list[str], rows: list[tuple]) -> Table:
    table = Table(title=f"{title} ({len(rows)} rows)", title_justify="left")
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*("" if v is None else escape(str(plain(v))) for v in row))
    return table
