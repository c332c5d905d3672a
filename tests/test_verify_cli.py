"""`org-logging verify` as a command: which stacks it picks, its table, its JSON and report, its
exit codes, and bad input (exit 2 before anything is sent)."""

from __future__ import annotations

import gzip
import io
import itertools
import json
import time
from datetime import UTC, datetime

import pytest
import yaml
from rich.console import Console

from components import naming
from enroll.cli import build_parser, main
from enroll.demo.emulator import Emulator, fake_credentials, sample_org, sample_settings
from enroll.org.model import Plan, PlannedStack
from enroll.verify.command import VerifyProgress, command_verify
from enroll.verify.model import StackCanary
from enroll.verify.run import Clock, select_stacks

# ---- which stacks ------------------------------------------------------------------------------


def source(account: str, region: str) -> PlannedStack:
    return PlannedStack(f"source-{account}-{region}", "source", account, region, {})


PLAN = Plan(
    (
        PlannedStack("log-archive", "log-archive", "222222222222", "us-east-1", {}),
        *(
            source(account, region)
            for account in ("111111111111", "222222222222", "333333333333", "444444444444")
            for region in ("us-east-1", "eu-west-1")
        ),
    )
)


def names(stacks: list[PlannedStack]) -> list[str]:
    return [s.name for s in stacks]


def test_by_default_one_member_account_per_enrolled_region():
    chosen = select_stacks(PLAN, avoid=("111111111111", "222222222222"))
    assert names(chosen) == ["source-333333333333-eu-west-1", "source-333333333333-us-east-1"]


def test_the_log_archive_or_management_account_only_when_nothing_else_is_enrolled():
    only_archive = Plan((source("222222222222", "us-east-1"),))
    assert names(select_stacks(only_archive, avoid=("222222222222",))) == [
        "source-222222222222-us-east-1"
    ]


def test_all_takes_every_source_stack_and_shards_split_them():
    every = select_stacks(PLAN, all_stacks=True)
    assert len(every) == 8 and all(s.role == "source" for s in every)
    shards = [names(select_stacks(PLAN, all_stacks=True, shard=(i, 3))) for i in (1, 2, 3)]
    assert sorted(itertools.chain(*shards)) == sorted(names(every))
    assert [len(shard) for shard in shards] == [3, 3, 2]


# ---- the command, against an emulated organization -------------------------------------------


class Pipeline:
    """Calls where every canary arrives at once (`arrive`), or never."""

    def __init__(self, arrive: bool) -> None:
        self.arrive = arrive
        self.sent: list[tuple[str, str, str]] = []
        self.central: dict[str, bytes] = {}

    def put_object(self, account, region, bucket, key, body):
        self.sent.append((account, region, key))
        if self.arrive:
            self.central[key] = body

    def put_event(self, account, region, message, timestamp_ms):
        if self.arrive:
            day = datetime.fromtimestamp(timestamp_ms / 1000, UTC)
            folder = naming.cloudwatch_logs_day_prefix(
                account, region, day.year, day.month, day.day
            )
            record = {
                "messageType": "DATA_MESSAGE",
                "owner": account,
                "logGroup": naming.CANARY_LOG_GROUP,
                "logEvents": [{"id": "1", "timestamp": timestamp_ms, "message": message}],
            }
            body = gzip.compress((json.dumps(record) + "\n").encode())
            self.central[f"{folder}acme-org-logs-{region}-1-x.gz"] = body

    def exists(self, account, region, bucket, key):
        return key in self.central

    def list_objects(self, account, region, bucket, prefix):
        now = datetime.now(UTC)
        return [(key, now) for key in self.central if key.startswith(prefix)]

    def read(self, account, region, bucket, key):
        return self.central[key]


@pytest.fixture(scope="module")
def org(tmp_path_factory):
    with fake_credentials(), Emulator() as emulator:
        sample = sample_org(emulator)
        settings = tmp_path_factory.mktemp("org") / "org.yaml"
        settings.write_text(yaml.safe_dump(sample_settings(sample)))
        yield emulator, sample, settings


def run(org, calls, *flags: str):
    emulator, _, settings = org
    args = build_parser().parse_args(
        ["verify", "--settings", str(settings), "--endpoint-url", emulator.endpoint_url, *flags]
    )
    out, err = (Console(file=io.StringIO(), record=True, width=200) for _ in range(2))
    now = [datetime.now(UTC).timestamp()]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    clock = Clock(now=lambda: now[0], sleep=sleep)
    with fake_credentials():
        code = command_verify(args, out, err, shard=None, clock=clock, calls=calls)
    return code, out.export_text(), err.export_text()


def test_every_canary_arriving_is_exit_0_with_a_json_report(org, tmp_path, capsys):
    _, sample, _ = org
    calls = Pipeline(arrive=True)
    report_file = tmp_path / "verify.json"

    code, _, err = run(org, calls, "--json", "--report", str(report_file))

    assert code == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed == json.loads(report_file.read_text())
    assert {(s["region"], s["status"]) for s in printed["stacks"]} == {
        ("us-east-1", "passed"),
        ("eu-west-1", "passed"),
    }
    chosen = {s["accountId"] for s in printed["stacks"]}
    assert not chosen & {sample.log_archive_account_id, sample.management_account_id}
    assert printed["summary"]["passed"] == 2 and printed["summary"]["failed"] == 0
    assert printed["centralBucket"] == f"acme-org-logs-{sample.log_archive_account_id}-us-east-1"
    assert {key for _, _, key in calls.sent} == {
        f"AWSLogs/{s['accountId']}/org-logging-canary/{s['region']}/{printed['runId']}.json"
        for s in printed["stacks"]
    }
    assert "Firehose buffers up to 300 s" in err


def test_a_timeout_is_exit_1_and_the_table_says_which_path(org):
    code, out, err = run(org, Pipeline(arrive=False), "--timeout", "30", "--poll-interval", "10")

    assert code == 1
    assert "0/2 stacks passed" in out
    assert out.count("timeout") >= 4 and "failed" in out
    assert "no replica at s3://" in err and "no Firehose record with run id" in err


# ---- bad input: exit 2, nothing sent -----------------------------------------------------------


@pytest.mark.parametrize(
    ("flags", "says"),
    [
        (("--timeout", "0"), "'0' must be at least 1 seconds"),
        (("--timeout", "soon"), "'soon' is not a number of seconds"),
        (("--timeout", "inf"), "'inf' must be at least 1 seconds"),
        (("--poll-interval", "0"), "'0' must be at least 0.1 seconds"),
        (("--concurrency", "0"), "'0' must be at least 1"),
        (("--unknown",), "unrecognized arguments: --unknown"),
    ],
    ids=["timeout-0", "timeout-word", "timeout-inf", "poll-0", "concurrency-0", "unknown"],
)
def test_bad_flags_exit_2_with_the_flag_named(flags, says, capsys):
    with pytest.raises(SystemExit) as exited:
        main(["verify", *flags])
    assert exited.value.code == 2
    assert says in " ".join(capsys.readouterr().err.split())


@pytest.mark.parametrize(
    ("flags", "says"),
    [
        (("--shard", "3/2"), "--shard '3/2' must satisfy 1 <= i <= n"),
        (("--shard", "half"), "--shard 'half' must look like i/n"),
        (("--settings", "missing.yaml"), "settings file missing.yaml not found"),
        (("--report", "."), "--report '.' is a directory"),
    ],
    ids=["shard-range", "shard-form", "settings-missing", "report-dir"],
)
def test_bad_values_exit_2_before_anything_is_sent(flags, says, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["verify", *flags]) == 2
    assert says in " ".join(capsys.readouterr().err.split())


def test_help_says_how_long_it_takes_and_what_it_leaves(capsys):
    with pytest.raises(SystemExit) as exited:
        main(["verify", "--help"])
    assert exited.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "Firehose buffers up to 300 s" in text
    assert "Nothing is deleted" in text


# ---- progress while Firehose buffers ---------------------------------------------------------


def test_without_a_terminal_each_path_is_a_line_and_a_heartbeat_says_verify_is_waiting():
    console = Console(file=io.StringIO(), width=160, color_system=None, force_terminal=False)
    canary = StackCanary.for_stack(source("333333333333", "eu-west-1"), "run-1")
    replication = canary.probes["replication"]
    replication.status, replication.sent_at, replication.found_at = "arrived", 10.0, 25.0
    with VerifyProgress(2, console, heartbeat=0.05) as progress:
        progress(canary, replication)
        deadline = time.monotonic() + 10
        while "settled" not in console.file.getvalue() and time.monotonic() < deadline:
            time.sleep(0.01)
    lines = console.file.getvalue().splitlines()
    assert lines[:2] == [
        "verify: waiting for 2 paths",
        "  source-333333333333-eu-west-1 replica (S3): arrived in 15 s",
    ]
    assert any(line.startswith("verify: ... 1/2 paths settled, ") for line in lines[2:])
    assert progress.settled == 1


def test_on_a_terminal_verify_shows_a_bar_and_no_heartbeat():
    console = Console(file=io.StringIO(), width=160, color_system=None, force_terminal=True)
    with VerifyProgress(2, console, heartbeat=0.01):
        time.sleep(0.1)
    assert "paths settled," not in console.file.getvalue()
