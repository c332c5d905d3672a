"""`org-logging query`: a named query or your SQL over a local copy of the archive or the
emulator's bucket, as a table, JSON or CSV; every bad input is exit 2; the demo's queries."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from rich.console import Console

from enroll.cli import main
from enroll.demo.archive_seed import Delivery, create_central_bucket, object_body, object_key
from enroll.demo.emulator import Emulator, fake_credentials
from enroll.demo.query_demo import DEMO_QUERIES, show_queries

BUCKET = "acme-org-logs-222222222222-us-east-1"
NOW = datetime(2026, 11, 30, 21, 0, tzinfo=UTC)
ACCOUNT = "333333333333"


def deliveries() -> list[Delivery]:
    return [Delivery(ACCOUNT, "us-east-1", t, NOW) for t in ("cloudtrail", "vpcflowlogs")]


def key(delivery: Delivery) -> str:
    return object_key(delivery, org_id="o-a1b2c3d4e5", name_prefix="acme")


@pytest.fixture(scope="module")
def archive(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("copy") / BUCKET
    for delivery in deliveries():
        (root / key(delivery)).parent.mkdir(parents=True, exist_ok=True)
        (root / key(delivery)).write_bytes(object_body(delivery))
    return root


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_a_named_query_over_a_local_copy_as_json(capsys, archive):
    code, out, _ = run(
        capsys,
        "query",
        "denied-calls-by-account",
        "--archive",
        str(archive),
        "--today",
        "2026-11-30",
        "--json",
    )
    assert code == 0
    assert json.loads(out) == {
        "query": "denied-calls-by-account",
        "columns": ["account", "errorcode", "calls", "principals"],
        "rows": [
            {
                "account": ACCOUNT,
                "errorcode": "Client.UnauthorizedOperation",
                "calls": 1,
                "principals": 1,
            }
        ],
    }


def test_your_sql_in_athenas_dialect_as_csv(capsys, archive):
    sql = (
        "SELECT account, action, count(*) AS flows FROM vpc_flow_logs "
        "WHERE action <> '-' GROUP BY account, action ORDER BY action"
    )
    code, out, _ = run(capsys, "query", "--sql", sql, "--archive", str(archive), "--csv")
    assert code == 0
    assert list(csv.reader(io.StringIO(out))) == [
        ["account", "action", "flows"],
        [ACCOUNT, "ACCEPT", "2"],
        [ACCOUNT, "REJECT", "2"],
    ]


def test_the_table_names_the_query_and_counts_its_rows(capsys, archive):
    code, out, _ = run(
        capsys, "query", "root-user-activity", "--archive", str(archive), "--today", "2026-11-30"
    )
    assert code == 0
    assert "root-user-activity (1 rows)" in out
    assert "ConsoleLogin" in out


def test_outside_the_window_nothing_is_found(capsys, archive):
    code, out, _ = run(
        capsys,
        "query",
        "root-user-activity",
        "--archive",
        str(archive),
        "--today",
        "2027-01-31",
        "--json",
    )
    assert (code, json.loads(out)["rows"]) == (0, [])


def test_list_names_every_query(capsys):
    code, out, _ = run(capsys, "query", "--list")
    assert code == 0
    assert "logging-tampering" in out and "objects-per-account-per-day" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["query", "nope", "--archive", "."], "unknown query 'nope'"),
        (["query", "--archive", "."], "give a query NAME or --sql SQL"),
        (["query", "root-user-activity", "--sql", "SELECT 1", "--archive", "."], "one of them"),
        (["query", "root-user-activity"], "give --archive DIR"),
        (["query", "root-user-activity", "--archive", "/nonexistent/dir"], "is not a directory"),
        (["query", "--sql", "SELEC 1", "--archive", "."], "not valid Athena SQL"),
    ],
)
def test_bad_input_is_exit_2_with_the_reason(capsys, argv, message):
    code, _, err = run(capsys, *argv)
    assert code == 2
    assert message in " ".join(err.split())


@pytest.fixture(scope="module")
def emulator():
    with fake_credentials(), Emulator() as running:
        s3 = running.client("s3")
        create_central_bucket(s3, BUCKET, "us-east-1")
        for delivery in deliveries():
            s3.put_object(Bucket=BUCKET, Key=key(delivery), Body=object_body(delivery))
        yield running


def test_a_named_query_over_the_emulators_bucket(capsys, emulator):
    with fake_credentials():
        code, out, _ = run(
            capsys,
            "query",
            "rejected-flows-by-account-and-port",
            "--endpoint-url",
            emulator.endpoint_url,
            "--today",
            "2026-11-30",
            "--json",
        )
    assert code == 0
    assert json.loads(out)["rows"] == [
        {"account": ACCOUNT, "dstport": 0, "protocol": 1, "flows": 1, "packets": 4},
        {"account": ACCOUNT, "dstport": 3389, "protocol": 6, "flows": 1, "packets": 20},
    ]


def test_the_demo_shows_its_queries_and_writes_their_answers(emulator, tmp_path):
    report = tmp_path / "queries.json"
    out = Console(file=io.StringIO(), width=200)
    with fake_credentials():
        show_queries(emulator.endpoint_url, report, out=out, err=Console(file=io.StringIO()))
    answers = json.loads(report.read_text())
    assert list(answers) == list(DEMO_QUERIES)
    shown = out.file.getvalue()  # type: ignore[attr-defined]
    assert all(name in shown for name in DEMO_QUERIES)
