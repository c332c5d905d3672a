"""What a run says: the JSON report's shape, the exit code, the tables, the progress bar."""

from __future__ import annotations

import io
import json
import time
from pathlib import Path

import pytest
from rich.console import Console

from enroll.org.model import Exclusion, Plan, PlannedStack, StackResult, Violation
from enroll.run.orchestrator import RunOutcome, Tally
from enroll.run.report import (
    RichProgress,
    exit_code,
    first_problem,
    problems_table,
    summary_table,
    write_json_report,
)

MANDATORY = Violation("s3-bucket-naming", "mandatory", "bucket 'x' must start with acme-", "urn:b")
ADVISORY = Violation("rds-terse-logging", "advisory", "log_statement is all", "urn:d")


def planned(name: str, role: str) -> PlannedStack:
    return PlannedStack(name, role, "333333333333", "eu-west-1", {"org-logging:role": role})  # type: ignore[arg-type]


PLAN = Plan(
    (
        planned("log-archive", "log-archive"),
        planned("management", "management"),
        planned("source-a", "source"),
        planned("source-b", "source"),
        planned("source-c", "source"),
    ),
    (Exclusion("444444444444", "suspended"), Exclusion("555555555555", "opt-out tag")),
)


def outcome_of(*results: StackResult, resumed=(), **fields) -> RunOutcome:
    return RunOutcome("up", "run-7", list(results), resumed=frozenset(resumed), **fields)


def passed(name: str, role: str = "source", **fields) -> StackResult:
    return StackResult(name, role, "333333333333", "eu-west-1", "passed", **fields)


def mixed_outcome() -> RunOutcome:
    return outcome_of(
        passed("log-archive", "log-archive", resources=20, changes={"create": 20}),
        passed("management", "management", resources=5, violations=[ADVISORY]),
        StackResult(
            "source-a",
            "source",
            "333333333333",
            "eu-west-1",
            "failed",
            resources=9,
            violations=[MANDATORY],
            error="policy violations",
            attempts=2,
        ),
        StackResult(
            "source-b",
            "source",
            "333333333333",
            "eu-west-1",
            "error",
            error="AccessDenied: sts:AssumeRole [role/OrgLoggingAdmin]\n  at line 2",
        ),
        StackResult(
            "source-c",
            "source",
            "333333333333",
            "eu-west-1",
            "skipped",
            error="skipped: failure tolerance (1) exceeded",
            attempts=0,
        ),
        resumed={"log-archive"},
        stopped_early=True,
        stop_reason="failure tolerance (1) exceeded: 2 stacks failed",
        duration_seconds=12.3456,
    )


def render(renderable) -> str:
    console = Console(file=io.StringIO(), width=200, color_system=None)
    console.print(renderable)
    return console.file.getvalue()


# --- exit code ---------------------------------------------------------------------------


def test_exit_code_is_0_when_every_stack_passed_resumed_ones_included():
    outcome = outcome_of(passed("a"), passed("b", violations=[ADVISORY]), resumed={"a"})
    assert exit_code(outcome) == 0


def test_exit_code_is_0_for_an_empty_run():
    assert exit_code(outcome_of()) == 0


@pytest.mark.parametrize("status", ["failed", "error", "skipped"])
def test_exit_code_is_1_when_any_stack_did_not_pass(status):
    other = StackResult("b", "source", "1", "r", status, error="x")
    assert exit_code(outcome_of(passed("a"), other)) == 1


def test_exit_code_is_1_for_a_mandatory_violation_even_on_a_passed_stack():
    assert exit_code(outcome_of(passed("a", violations=[MANDATORY]))) == 1


# --- JSON report -------------------------------------------------------------------------


def test_the_json_report_has_the_documented_shape(tmp_path):
    outcome = mixed_outcome()
    path = tmp_path / "reports" / "up.json"
    write_json_report(outcome, path, action="up", plan=PLAN)

    report = json.loads(path.read_text())
    assert list(report) == [
        "action",
        "runId",
        "stacks",
        "excluded",
        "summary",
        "interrupted",
        "notes",
    ]
    assert report["interrupted"] is False and report["notes"] == []
    assert report["action"] == "up"
    assert report["runId"] == "run-7"
    assert report["stacks"] == [result.to_json() for result in outcome.results]
    assert report["excluded"] == [
        {"accountId": "444444444444", "reason": "suspended"},
        {"accountId": "555555555555", "reason": "opt-out tag"},
    ]
    assert report["summary"] == {
        "stacks": 5,
        "passed": 2,
        "failed": 1,
        "error": 1,
        "skipped": 1,
        "resumed": 1,
        "cached": 0,
        "mandatoryViolations": 1,
        "advisoryViolations": 1,
        "resources": 34,
        "retries": 1,
        "failures": 2,
        "durationSeconds": 12.346,
        "stoppedEarly": True,
        "stopReason": "failure tolerance (1) exceeded: 2 stacks failed",
        "exitCode": 1,
        "byRole": {
            "log-archive": {
                "stacks": 1,
                "passed": 1,
                "failed": 0,
                "error": 0,
                "skipped": 0,
                "resumed": 1,
                "cached": 0,
                "mandatoryViolations": 0,
                "advisoryViolations": 0,
                "resources": 20,
            },
            "management": {
                "stacks": 1,
                "passed": 1,
                "failed": 0,
                "error": 0,
                "skipped": 0,
                "resumed": 0,
                "cached": 0,
                "mandatoryViolations": 0,
                "advisoryViolations": 1,
                "resources": 5,
            },
            "source": {
                "stacks": 3,
                "passed": 0,
                "failed": 1,
                "error": 1,
                "skipped": 1,
                "resumed": 0,
                "cached": 0,
                "mandatoryViolations": 1,
                "advisoryViolations": 0,
                "resources": 9,
            },
        },
        "resumedStacks": ["log-archive"],
    }


def test_each_stack_entry_keeps_exactly_the_stack_result_shape(tmp_path):
    path = tmp_path / "r.json"
    write_json_report(mixed_outcome(), path, action="up", plan=PLAN)
    entries = json.loads(path.read_text())["stacks"]
    assert list(entries[0]) == [
        "name",
        "role",
        "accountId",
        "region",
        "status",
        "resources",
        "violations",
        "changes",
    ]
    assert "attempts" not in entries[2] and "durationSeconds" not in entries[2]


def test_the_report_is_replaced_atomically_and_leaves_no_temporary_file(tmp_path, monkeypatch):
    path = tmp_path / "report.json"
    write_json_report(outcome_of(passed("a")), path, action="up", plan=PLAN)
    before = path.read_text()

    def refuse(source, target):
        raise OSError("disk full")

    monkeypatch.setattr("enroll.util.files.os.replace", refuse)
    with pytest.raises(OSError, match="disk full"):
        write_json_report(mixed_outcome(), path, action="up", plan=PLAN)
    assert path.read_text() == before
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]

    monkeypatch.undo()
    write_json_report(mixed_outcome(), path, action="up", plan=PLAN)
    assert json.loads(path.read_text())["summary"]["stacks"] == 5
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]


def test_the_report_is_stable_for_the_same_outcome(tmp_path: Path):
    one, two = tmp_path / "1.json", tmp_path / "2.json"
    outcome = mixed_outcome()
    write_json_report(outcome, one, action="up", plan=PLAN)
    write_json_report(outcome, two, action="up", plan=PLAN)
    assert one.read_bytes() == two.read_bytes()


# --- tables ------------------------------------------------------------------------------


def test_the_summary_table_has_a_row_per_role_and_a_total():
    text = render(summary_table(mixed_outcome()))
    rows = {line.split("│")[1].strip(): line for line in text.splitlines() if line.count("│") > 5}
    assert list(rows) == ["log-archive", "management", "source", "total"]
    cells = [cell.strip() for cell in rows["total"].split("│")[2:-1]]
    assert cells == ["5", "2", "1", "1", "1", "1", "0", "1", "1", "34"]
    assert "stopped early: failure tolerance (1) exceeded" in " ".join(text.split())


def test_the_problems_table_lists_every_stack_that_did_not_pass():
    text = render(problems_table(mixed_outcome()))
    assert "3 stacks did not pass" in text
    assert "source-a" in text and "source-b" in text and "source-c" in text
    assert "log-archive" not in text and "management" not in text
    assert "s3-bucket-naming: bucket 'x' must start with acme-" in text
    # markup-looking text in a message is shown, not interpreted; newlines are flattened
    assert "AccessDenied: sts:AssumeRole [role/OrgLoggingAdmin] at line 2" in text
    assert "skipped: failure tolerance (1) exceeded" in text


def test_the_problems_table_can_be_capped():
    text = render(problems_table(mixed_outcome(), limit=1))
    assert "source-a" in text and "source-b" not in text
    assert "... and 2 more (see the JSON report)" in text


def test_first_problem_prefers_a_mandatory_violation_then_the_error_then_any_violation():
    assert first_problem(passed("a", violations=[ADVISORY, MANDATORY])) == (
        "s3-bucket-naming: bucket 'x' must start with acme-"
    )
    assert first_problem(passed("a", violations=[ADVISORY])) == (
        "rds-terse-logging (advisory): log_statement is all"
    )
    assert first_problem(passed("a", error="boom", violations=[MANDATORY])) == (
        "s3-bucket-naming: bucket 'x' must start with acme-"
    )
    assert first_problem(passed("a", error="boom", violations=[ADVISORY])) == "boom"
    long = first_problem(passed("a", error="word " * 200), width=50)
    assert len(long) == 50 and long.endswith("…")


# --- progress ----------------------------------------------------------------------------


def test_rich_progress_advances_to_the_total_with_the_counts():
    console = Console(file=io.StringIO(), width=160, color_system=None, force_terminal=True)
    with RichProgress(3, console=console) as bar:
        bar(passed("a"), Tally(total=3, passed=1))
        bar(passed("b"), Tally(total=3, passed=1, failed=1))
        bar(passed("c"), Tally(total=3, passed=1, failed=1, skipped=1))
        task = bar._progress.tasks[0]
        assert (task.completed, task.total) == (3, 3)
    output = console.file.getvalue()
    assert "stacks: passed 1  failed 1  error 0  skipped 1" in output
    assert "3/3" in output


def test_rich_progress_refuses_use_outside_its_block():
    with pytest.raises(RuntimeError):
        RichProgress(1)(passed("a"), Tally(total=1, passed=1))


def test_without_a_terminal_progress_prints_a_line_per_finished_stack():
    console = Console(file=io.StringIO(), width=160, color_system=None, force_terminal=False)
    with RichProgress(12, console=console, label="preview") as bar:
        bar(passed("source-a"), Tally(total=12, passed=1))
        bar(
            StackResult("source-b", "source", "1", "r", "failed", duration_seconds=2.25),
            Tally(total=12, passed=1, failed=1),
        )
    lines = [line[6:] for line in console.file.getvalue().splitlines()]  # minus "00:00 "
    assert lines == [
        "preview: 12 stacks",
        "[ 1/12] passed  source-a (0.0s)",
        "[ 2/12] failed  source-b (2.2s)",
    ]


def test_without_a_terminal_a_heartbeat_says_the_run_is_alive_while_nothing_finishes():
    console = Console(file=io.StringIO(), width=160, color_system=None, force_terminal=False)
    bar = RichProgress(3, console=console, heartbeat=0.05)
    with bar:
        bar(passed("a"), Tally(total=3, passed=1))
        deadline = time.monotonic() + 10
        while "finished" not in console.file.getvalue() and time.monotonic() < deadline:
            time.sleep(0.01)
    beats = [line for line in console.file.getvalue().splitlines() if "..." in line]
    assert beats, "no heartbeat in 10 s"
    assert beats[0].endswith("... 1/3 finished; stacks: passed 1  failed 0  error 0  skipped 0")


def test_on_a_terminal_there_is_no_line_per_stack_and_no_heartbeat():
    console = Console(file=io.StringIO(), width=160, color_system=None, force_terminal=True)
    with RichProgress(2, console=console, heartbeat=0.01) as bar:
        bar(passed("source-a"), Tally(total=2, passed=1))
        time.sleep(0.1)
    assert "[1/2]" not in console.file.getvalue()
    assert "finished;" not in console.file.getvalue()


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (  # the engine's framing goes; the AWS operation and code stay
            "code: 255\n stdout: \n stderr: \n  error: creating S3 Bucket Policy (acme-x): "
            "operation error S3: PutBucketPolicy, https response error StatusCode: 400, "
            "RequestID: 1, api error MalformedPolicyDocument: Policy has invalid action",
            "S3: PutBucketPolicy: MalformedPolicyDocument: Policy has invalid action",
        ),
        (
            "code: 255\nstdout:\nUpdating (source-x)\n    pulumi:pulumi:Stack  running\nstderr:\n"
            "error: update failed",
            "error: update failed",
        ),
        (
            "KeyError: 'boom' (trace: /s/logs/x.trace.log)",
            "KeyError: 'boom' (trace: /s/logs/x.trace.log)",
        ),
        ("AccessDenied: sts:AssumeRole\nat line 2", "AccessDenied: sts:AssumeRole at line 2"),
        ("code: 1\nstdout:\nstderr:", ""),
    ],
)
def test_the_first_problem_is_the_error_not_the_framing(error, expected):
    assert first_problem(passed("a", error=error)) == expected


def test_cached_stacks_are_counted_in_the_table_and_the_json_summary():
    outcome = outcome_of(
        passed("management", "management", resources=5, cached=True),
        passed("log-archive", "log-archive", resources=20),
    )
    cells = [cell.strip() for cell in render(summary_table(outcome)).splitlines()[-2].split("│")]
    assert cells[1:-1] == ["total", "2", "2", "0", "0", "0", "0", "1", "0", "0", "25"]
    assert outcome.summary().to_json()["cached"] == 1
    assert [r.to_json().get("cached") for r in outcome.results] == [True, None]
