"""`org-logging doctor` through main() against an emulated organization: the table, `--json`,
`--fix` (asks, --yes, prints each call, checks again, refuses without a terminal), exit codes
0/1/2, and `up`, which runs the same checks first and stops on a failure unless
--skip-preflight (with a stand-in for AutomationRunner: no Pulumi CLI)."""

from __future__ import annotations

import io
import json

import pytest
import yaml

import enroll.cli as cli
from enroll.demo.emulator import Emulator, fake_credentials, sample_org, sample_settings
from enroll.doctor.run import CHECK_IDS
from enroll.org.model import PlannedStack, StackResult

ACTIVATE = "cloudformation ActivateOrganizationsAccess"


def emulated_org(directory):
    emulator = Emulator(enforce_role_trust=True)
    emulator.__enter__()
    sample = sample_org(emulator)
    settings = directory / "org.yaml"
    settings.write_text(yaml.safe_dump(sample_settings(sample)))
    return emulator, sample, settings


@pytest.fixture(scope="module")
def org(tmp_path_factory):
    """An emulated organization whose StackSets organizations access is not activated."""
    with fake_credentials():
        emulator, sample, settings = emulated_org(tmp_path_factory.mktemp("org"))
        try:
            yield emulator, sample, settings
        finally:
            emulator.__exit__(None, None, None)


@pytest.fixture
def fresh(tmp_path):
    """The same, for a test that fixes it."""
    with fake_credentials():
        emulator, sample, settings = emulated_org(tmp_path)
        try:
            yield emulator, sample, settings
        finally:
            emulator.__exit__(None, None, None)


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def terminal(monkeypatch):
    """A terminal on stdin that answers `reply`."""
    monkeypatch.delenv("CI", raising=False)
    return lambda reply: monkeypatch.setattr("sys.stdin", Terminal(reply + "\n"))


def doctor(capsys, target, *argv: str) -> tuple[int, str, str]:
    emulator, _, settings = target
    code = cli.main(
        ["doctor", "--settings", str(settings), "--endpoint-url", emulator.endpoint_url, *argv]
    )
    captured = capsys.readouterr()
    return code, captured.out, " ".join(captured.err.split())


def statuses(out: str) -> dict[str, str]:
    return {check["id"]: check["status"] for check in json.loads(out)["checks"]}


# ---- doctor --------------------------------------------------------------------------------------


def test_doctor_prints_every_check_with_its_fix_and_exits_1_on_a_failure(org, capsys):
    code, out, _ = doctor(capsys, org)
    assert code == 1
    assert "doctor: 11 checks: 9 ok, 1 warn, 1 fail" in out
    flat = " ".join(out.split())
    assert "StackSets organizations access" in out and "fail" in out
    assert "aws cloudformation activate-organizations-access" in flat
    assert "aws-controltower-BaselineCloudTrail" in flat


def test_doctor_json_lists_every_check_for_machines(org, capsys):
    code, out, err = doctor(capsys, org, "--json")
    document = json.loads(out)
    assert code == 1 and err == ""
    assert [check["id"] for check in document["checks"]] == list(CHECK_IDS)
    assert document["summary"] == {"ok": 9, "warn": 1, "fail": 1, "exitCode": 1}
    assert statuses(out)["stacksets-access"] == "fail"


def test_fix_without_a_terminal_is_refused_with_exit_2_and_changes_nothing(
    org, capsys, monkeypatch
):
    monkeypatch.setenv("CI", "true")
    code, _, err = doctor(capsys, org, "--fix")
    assert code == 2
    assert "error: doctor --fix of 1 call needs confirmation and there is no terminal" in err
    assert "pass --yes" in err and "calling" not in err
    assert statuses(doctor(capsys, org, "--json")[1])["stacksets-access"] == "fail"


def test_fix_asks_first_and_a_no_changes_nothing(org, capsys, terminal):
    terminal("n")
    code, out, err = doctor(capsys, org, "--fix")
    assert code == 1
    assert (
        f"--fix would make 1 call: {ACTIVATE} make these 1 call? [y/N] nothing was changed" in err
    )
    assert "doctor: 11 checks: 9 ok, 1 warn, 1 fail" in out and "after --fix" not in out


def test_fix_yes_prints_each_call_makes_it_then_checks_again(fresh, capsys):
    code, out, err = doctor(capsys, fresh, "--fix", "--yes")
    assert code == 0
    assert f"calling {ACTIVATE}" in err and "make these" not in err
    before, after = out.split("after --fix")
    assert "1 fail" in before and "11 checks: 10 ok, 1 warn, 0 fail" in after
    code, out, err = doctor(capsys, fresh, "--fix")  # nothing left that --fix may change
    assert code == 0 and "--fix: nothing it may change" in err
    assert "doctor: 11 checks: 10 ok, 1 warn, 0 fail" in out


def test_fix_on_a_terminal_with_json_asks_on_stderr_and_reports_the_calls(fresh, capsys, terminal):
    terminal("y")
    code, out, err = doctor(capsys, fresh, "--fix", "--json")
    document = json.loads(out)
    assert code == 0 and "make these 1 call? [y/N]" in err
    assert document["fixed"] == [{"call": ACTIVATE, "ok": True, "error": None}]
    assert statuses(out)["stacksets-access"] == "ok"


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["--settings", "no-such.yaml"], "settings file no-such.yaml not found"),
        (["--endpoint-url", "http://127.0.0.1:9"], "cannot reach the Organizations API"),
    ],
)
def test_doctor_usage_errors_exit_2(capsys, argv, says):
    with fake_credentials():
        code = cli.main(["doctor", *argv])
    err = " ".join(capsys.readouterr().err.split())
    assert code == 2 and says in err and "Traceback" not in err


def test_doctor_flags_it_does_not_have_exit_2(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["doctor", "--shard", "1/2"])
    assert exit_info.value.code == 2


# ---- up's preflight ------------------------------------------------------------------------------


class StandInRunner:
    """AutomationRunner without Pulumi: every stack passes."""

    made: list[StandInRunner] = []
    ran: list[str] = []

    def __init__(self, **kwargs) -> None:
        StandInRunner.made.append(self)

    def prepare(self) -> None:
        pass

    def run(self, stack: PlannedStack, action) -> StackResult:
        StandInRunner.ran.append(stack.name)
        return StackResult.for_stack(stack, "passed", resources=1)


@pytest.fixture
def up(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(cli, "AutomationRunner", StandInRunner)
    monkeypatch.setattr(StandInRunner, "made", [])
    monkeypatch.setattr(StandInRunner, "ran", [])

    def run(target, *extra: str) -> tuple[int, str, str]:
        emulator, _, settings = target
        code = cli.main(
            [
                "up",
                "--yes",
                *("--settings", str(settings), "--endpoint-url", emulator.endpoint_url),
                *("--state-dir", str(tmp_path / "state"), *extra),
            ]
        )
        captured = capsys.readouterr()
        return code, captured.out, " ".join(captured.err.split())

    return run


def test_up_runs_the_checks_first_and_stops_on_a_failure(org, up):
    code, out, err = up(org)
    assert code == 1
    assert "preflight: 11 checks: 9 ok, 1 warn, 1 fail" in out
    assert "up stopped: a prerequisite check failed" in err and "--skip-preflight" in err
    assert StandInRunner.made == [] and StandInRunner.ran == []


def test_skip_preflight_runs_up_anyway(org, up):
    code, out, _ = up(org, "--skip-preflight")
    assert code == 0 and "preflight: " not in out
    assert StandInRunner.ran[:2] == ["log-archive", "management"]
    assert len(StandInRunner.ran) == 2 + 17 * 2


def test_up_goes_on_when_only_warnings_are_left(fresh, up):
    emulator, _, _ = fresh
    emulator.client("cloudformation").activate_organizations_access()
    code, out, _ = up(fresh)
    assert code == 0
    assert "preflight: 11 checks: 10 ok, 1 warn, 0 fail" in out
    assert len(StandInRunner.made) == 1 and len(StandInRunner.ran) == 2 + 17 * 2
