"""The end of the demo: `org-logging query` over the emulated central bucket the demo seeded
(enroll/demo/coverage_demo.py): three named queries, their answers, and queries.json."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from rich.console import Console

from components.named_queries import named_query
from enroll.query.command import name_prefix_of, plain, rows_table
from enroll.query.engine import LocalArchive
from enroll.query.fetch import download_archive

DEMO_QUERIES = (
    "denied-calls-by-account",
    "rejected-flows-by-account-and-port",
    "errors-by-log-group",
)


def show_queries(endpoint_url: str, report_file: Path, *, out: Console, err: Console) -> None:
    """Each of DEMO_QUERIES as `org-logging query NAME --endpoint-url URL` prints it."""
    answers = {}
    with tempfile.TemporaryDirectory(prefix="org-logging-demo-query-") as scratch:
        bucket, root = download_archive(endpoint_url, None, Path(scratch))
        archive = LocalArchive(root, bucket)
        try:
            for name in DEMO_QUERIES:
                query = named_query(name_prefix_of(bucket), name)
                err.print(
                    f"`org-logging query {name} --endpoint-url {endpoint_url}` "
                    f"({query.description}; the Athena workgroup runs the same SQL):",
                    highlight=False,
                )
                columns, rows = archive.query(query.sql)
                out.print(rows_table(name, columns, rows))
                answers[name] = [dict(zip(columns, map(plain, r), strict=True)) for r in rows]
        finally:
            archive.close()
    report_file.write_text(json.dumps(answers, indent=2) + "\n")
