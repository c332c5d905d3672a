"""`up`, `destroy` and `preview` through `main()` with a stand-in runner: confirmation, the
state-dir lock, SIGTERM and Ctrl-C, where the report goes, the demo's seed."""

from __future__ import annotations

import io
import json
import os
import signal
import threading
import time

import pytest
from rich.console import Console

import enroll.cli as cli
from enroll.demo.emulator import Emulator, fake_credentials, sample_org
from enroll.org.model import Plan, PlannedStack, StackResult
from enroll.org.planfile import parse_plan
from enroll.preflight import UsageError, confirm
from enroll.run.execute import write_report
from enroll.run.orchestrator import RunOutcome


def stack(name: str, role: str, account: str) -> dict:
    config = {"org-logging:role": role, "aws:region": "us-east-1"}
    return {
        "name": name,
        "role": role,
        "accountId": account,
        "region": "us-east-1",
        "config": config,
    }


PLAN = {
    "stacks": [
        stack("log-archive", "log-archive", "222222222222"),
        stack("management", "management", "111111111111"),
        *[stack(f"source-33333333333{i}-us-east-1", "source", f"33333333333{i}") for i in range(4)],
    ]
}


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


# --- confirmation --------------------------------------------------------------------------


def plan_of(document=PLAN) -> Plan:
    return parse_plan(document, "plan.json")


def test_confirmation_shows_the_count_per_role_and_takes_yes():
    asked = []
    answer = confirm(
        "destroy",
        plan_of(),
        yes=False,
        ask=lambda prompt: asked.append(prompt) or "y",
        stdin=Terminal(),
        env={},
    )
    assert answer is True
    assert asked == ["destroy 6 stacks (1 log-archive, 1 management, 4 source)? [y/N] "]


@pytest.mark.parametrize("reply", ["", "n", "no", "yes please", "Y E S"])
def test_anything_but_y_or_yes_declines(reply):
    assert not confirm("up", plan_of(), yes=False, ask=lambda _: reply, stdin=Terminal(), env={})


def test_yes_skips_the_question_and_one_stack_needs_none():
    never = lambda _: pytest.fail("asked")  # noqa: E731
    assert confirm("up", plan_of(), yes=True, ask=never, stdin=io.StringIO(), env={"CI": "1"})
    one = {"stacks": PLAN["stacks"][:1]}
    assert confirm("up", plan_of(one), yes=False, ask=never, stdin=io.StringIO(), env={})


@pytest.mark.parametrize(
    ("stdin", "env"), [(io.StringIO(), {}), (Terminal(), {"CI": "true"}), (None, {})]
)
def test_without_a_terminal_or_in_ci_confirmation_needs_yes(stdin, env):
    with pytest.raises(UsageError) as refused:
        confirm("up", plan_of(), yes=False, ask=lambda _: "y", stdin=stdin, env=env)
    assert str(refused.value) == (
        "up of 6 stacks (1 log-archive, 1 management, 4 source) needs confirmation and there "
        "is no terminal to ask on; pass --yes"
    )


# --- a whole `up` through main() with a stand-in runner -----------------------------------------


class StandInRunner:
    """What AutomationRunner does, minus Pulumi: `behaviour(stack)` runs in the stack's thread."""

    behaviour = staticmethod(lambda stack: None)
    ran: list[str] = []

    def __init__(self, **kwargs) -> None:
        self.kwargs = kwargs

    def prepare(self) -> None:
        pass

    def run(self, stack: PlannedStack, action) -> StackResult:
        StandInRunner.ran.append(stack.name)
        StandInRunner.behaviour(stack)
        return StackResult.for_stack(stack, "passed", resources=1)


@pytest.fixture
def up(tmp_path, monkeypatch, capsys):
    (tmp_path / "plan.json").write_text(json.dumps(PLAN))
    monkeypatch.setattr(cli, "AutomationRunner", StandInRunner)
    monkeypatch.setattr(StandInRunner, "ran", [])
    monkeypatch.delenv("CI", raising=False)
    state = tmp_path / "state"

    def run(*extra: str) -> tuple[int, str, str]:
        code = cli.main(
            ["up", "--plan", str(tmp_path / "plan.json"), "--state-dir", str(state), *extra]
        )
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run, state


def test_up_with_yes_runs_every_stack_and_writes_the_report(up):
    run, state = up
    code, out, _ = run("--yes", "--concurrency", "2")
    assert code == 0
    assert len(StandInRunner.ran) == 6
    (report,) = (state / "reports").iterdir()
    assert json.loads(report.read_text())["summary"]["passed"] == 6
    assert f"report: {report}" in out
    assert not (state / "logs").exists() or not list((state / "logs").iterdir())


def test_sigterm_finishes_the_stacks_in_flight_reports_and_exits_130(up, monkeypatch):
    run, state = up

    def terminated(stack: PlannedStack) -> None:
        if stack.name == "log-archive":
            os.kill(os.getpid(), signal.SIGTERM)  # what a cancelled CI job sends
            time.sleep(0.5)  # the main thread takes it while this stack is still in flight

    monkeypatch.setattr(StandInRunner, "behaviour", staticmethod(terminated))
    code, _, err = run("--yes")

    assert code == 130
    assert StandInRunner.ran == ["log-archive"]
    (report_file,) = (state / "reports").iterdir()
    report = json.loads(report_file.read_text())
    assert report["interrupted"] is True
    assert [s["status"] for s in report["stacks"]] == ["passed"] + ["skipped"] * 5
    flat = " ".join(err.split())
    assert "interrupted: the stacks in flight finished and were recorded" in flat
    assert (
        f"To carry on: org-logging up --plan {state.parent / 'plan.json'} --state-dir {state} "
        "--yes --resume"
    ) in flat
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # main() put it back


def test_the_resume_command_resumes_only_what_is_left(up, monkeypatch):
    run, _ = up

    def terminated(stack: PlannedStack) -> None:
        if stack.name == "log-archive":
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(0.5)

    monkeypatch.setattr(StandInRunner, "behaviour", staticmethod(terminated))
    assert run("--yes")[0] == 130
    monkeypatch.setattr(StandInRunner, "behaviour", staticmethod(lambda stack: None))
    StandInRunner.ran.clear()
    code, _, _ = run("--yes", "--resume")
    assert code == 0
    assert "log-archive" not in StandInRunner.ran and len(StandInRunner.ran) == 5


def test_a_runner_exception_is_one_line_on_screen_and_a_trace_file(up, monkeypatch):
    run, state = up

    def broken(stack: PlannedStack) -> None:
        if stack.name.startswith("source-333333333331"):
            raise KeyError("boom")

    monkeypatch.setattr(StandInRunner, "behaviour", staticmethod(broken))
    code, out, err = run("--yes")
    assert code == 1
    trace = state / "logs" / "source-333333333331-us-east-1.up.trace.log"
    assert "KeyError: 'boom'" in trace.read_text()
    assert "Traceback" not in out + err
    (report,) = (state / "reports").iterdir()
    (broken_stack,) = [
        s for s in json.loads(report.read_text())["stacks"] if s["status"] == "error"
    ]
    assert broken_stack["error"] == f"KeyError: 'boom' (trace: {trace})"
    assert "KeyError: 'boom'" in out  # the problems table


def test_up_refuses_a_state_dir_another_run_holds(up):
    from enroll.util.lock import exclusive

    run, state = up
    state.mkdir()
    with exclusive(state, "destroy"):
        code, _, err = run("--yes")
    assert code == 2
    assert "is in use by another run" in " ".join(err.split())
    assert StandInRunner.ran == []


def test_declining_the_confirmation_runs_nothing(up, monkeypatch):
    run, state = up
    monkeypatch.setattr(cli, "confirm", lambda *a, **k: False)
    code, _, err = run()
    assert code == 2 and "nothing was run" in err
    assert StandInRunner.ran == [] and not state.exists()


# --- the report ------------------------------------------------------------------------------


def test_a_report_that_cannot_be_written_falls_back_to_the_state_dir(tmp_path):
    outcome = RunOutcome("up", "run-1", [])
    err = Console(file=io.StringIO(), width=200)
    gone = tmp_path / "removed-after-the-check" / "run.json"
    fallback = tmp_path / "state" / "reports" / "up-run-1.json"
    written = write_report(outcome, plan_of(), gone, fallback, err)
    assert written == fallback and json.loads(fallback.read_text())["runId"] == "run-1"
    text = " ".join(err.file.getvalue().split())
    assert f"the report went to {fallback} instead" in text


def test_when_no_report_can_be_written_the_run_still_ends_with_a_message(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    err = Console(file=io.StringIO(), width=200)
    outcome = RunOutcome("up", "run-1", [])
    assert write_report(outcome, plan_of(), blocker / "r.json", blocker / "f.json", err) is None
    assert err.file.getvalue().count("cannot write the report") == 2


# --- the demo's seed ------------------------------------------------------------------------------


def sample_ids(seed: int) -> tuple:
    with fake_credentials(), Emulator() as emulator:
        emulator.seed(seed)
        sample = sample_org(emulator)
        return sample.org_id, sample.root_id, tuple(sorted(sample.accounts.values()))


def test_the_same_seed_gives_the_same_organization_and_another_seed_another():
    assert sample_ids(7) == sample_ids(7)
    assert sample_ids(7)[2] != sample_ids(8)[2]


def test_the_demo_seed_is_fixed_by_default():
    args = cli.build_parser().parse_args(["demo"])
    assert args.seed == 1
    assert cli.build_parser().parse_args(["demo", "--seed", "42"]).seed == 42


def test_the_sigterm_handler_is_only_installed_on_the_main_thread():
    result = []
    thread = threading.Thread(target=lambda: result.append(cli._interrupt_on_sigterm()))
    thread.start()
    thread.join()
    result[0]()  # a no-op undo
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
