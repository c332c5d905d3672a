"""`AutomationRunner.run` against a fake engine: the stack object the Automation API hands back
streams the engine's events (built with `EngineEvent.from_json`, from the JSON the CLI writes
to its event log) and returns or raises as `pulumi preview/up/destroy` would. No CLI, no network.

What a stack's result must say: a mandatory policy violation fails it, whatever the command's
exit status; an advisory one passes it with its warnings; an engine error fails it with the
error's last lines and the log's path; throttling and lock conflicts are retried, not reported.
"""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Callable
from typing import Any

import pytest
from pulumi import automation as auto
from pulumi.automation._cmd import CommandResult
from pulumi.automation.events import EngineEvent

from enroll.org.model import PlannedStack, RetryableError
from enroll.run.automation import AutomationRunner

ACCOUNT = "333333333333"
URN = "urn:pulumi:source-333333333333-us-east-1::org-logging::aws:s3/bucket:Bucket::data"
PACK = "/work/policy"


def planned() -> PlannedStack:
    config = {
        "org-logging:role": "source",
        "org-logging:accountId": ACCOUNT,
        "org-logging:adminRoleName": "OrgLoggingAdmin",
        "aws:region": "us-east-1",
    }
    return PlannedStack("source-333333333333-us-east-1", "source", ACCOUNT, "us-east-1", config)


def policy_event(level: str, policy: str = "s3-bucket-naming", message: str = "") -> EngineEvent:
    """A policy violation as the engine's JSON event stream carries it."""
    return EngineEvent.from_json(
        {
            "sequence": 3,
            "timestamp": 1764547200,
            "policyEvent": {
                "resourceUrn": URN,
                "message": message or f"{policy} violated",
                "color": "never",
                "policyName": policy,
                "policyPackName": "org-logging-guardrails",
                "policyPackVersion": "0.1.0",
                "policyPackVersionTag": "0.1.0",
                "enforcementLevel": level,
            },
        }
    )


def other_events() -> list[EngineEvent]:
    """What every run streams besides violations: a prelude, a diagnostic, a summary."""
    return [
        EngineEvent.from_json({"sequence": 0, "timestamp": 1, "preludeEvent": {"config": {}}}),
        EngineEvent.from_json(
            {
                "sequence": 1,
                "timestamp": 2,
                "diagnosticEvent": {
                    "message": "warning: something",
                    "color": "never",
                    "severity": "warning",
                },
            }
        ),
        EngineEvent.from_json(
            {
                "sequence": 9,
                "timestamp": 3,
                "summaryEvent": {
                    "maybeCorrupt": False,
                    "durationSeconds": 1,
                    "resourceChanges": {"create": 2},
                    "PolicyPacks": {},
                },
            }
        ),
    ]


def summary(changes: dict[str, int] | None) -> Any:
    return auto.UpdateSummary(
        kind="update",
        start_time=None,
        message="",
        environment={},
        config={},
        result="succeeded",
        resource_changes=changes,
    )


def command_error(stderr: str, code: int = 255) -> auto.CommandError:
    return auto.CommandError(CommandResult(stdout="", stderr=stderr, code=code))


class FakeStack:
    """The `auto.Stack` of one stack: each command streams `events` to `on_event`, writes
    `output` through `on_output`, then returns its result or raises `error`."""

    def __init__(
        self,
        events: list[EngineEvent] = (),
        *,
        error: BaseException | None = None,
        changes: dict[str, int] | None = None,
        output: tuple[str, ...] = ("Previewing update (source):",),
    ) -> None:
        self.events = list(events)
        self.error = error
        self.changes = {"create": 2, "same": 5} if changes is None else changes
        self.output = output
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.cancelled = 0

    def _run(self, command: str, kwargs: dict[str, Any]) -> None:
        self.calls.append((command, kwargs))
        for line in self.output:
            kwargs["on_output"](line)
        for event in self.events:
            kwargs["on_event"](event)
        if self.error is not None:
            raise self.error

    def preview(self, **kwargs: Any) -> auto.PreviewResult:
        self._run("preview", kwargs)
        return auto.PreviewResult(stdout="", stderr="", change_summary=dict(self.changes))

    def up(self, **kwargs: Any) -> auto.UpResult:
        self._run("up", kwargs)
        return auto.UpResult(stdout="", stderr="", summary=summary(self.changes), outputs={})

    def destroy(self, **kwargs: Any) -> auto.DestroyResult:
        self._run("destroy", kwargs)
        return auto.DestroyResult(stdout="", stderr="", summary=summary(self.changes))

    def cancel(self) -> None:
        self.cancelled += 1


@pytest.fixture
def engine(monkeypatch, tmp_path) -> Callable[..., tuple[AutomationRunner, FakeStack]]:
    """A runner whose workspace is never built (no CLI) and whose stack is a FakeStack."""

    def make(
        stack: FakeStack, *, packs: tuple[str, ...] = (), exists: bool = True
    ) -> tuple[AutomationRunner, FakeStack]:
        runner = AutomationRunner(state_dir=tmp_path, policy_packs=packs)
        runner.config_dir.mkdir(parents=True, exist_ok=True)
        runner.log_dir.mkdir(parents=True, exist_ok=True)
        monkeypatch.setattr(runner, "_workspace", lambda: "workspace")
        selected: list[str] = []

        def select(name: str, workspace: Any) -> FakeStack:
            assert workspace == "workspace"
            selected.append(name)
            if not exists:
                raise auto.StackNotFoundError(CommandResult("", "no stack named", 255))
            return stack

        def create(name: str, workspace: Any) -> FakeStack:
            assert (name, workspace) == (planned().name, "workspace")
            stack.created = True
            return stack

        monkeypatch.setattr(auto.Stack, "select", staticmethod(select))
        monkeypatch.setattr(auto.Stack, "create", staticmethod(create))
        stack.selected = selected
        return runner, stack

    return make


def violation(level: str, policy: str = "s3-bucket-naming") -> dict[str, str]:
    return {
        "policy": policy,
        "level": level,
        "message": f"{policy} violated",
        "resource": URN,
    }


# ---- policy violations decide the status ---------------------------------------------------------


def test_a_clean_preview_passes_with_its_resources_and_changes(engine):
    runner, stack = engine(FakeStack(other_events(), changes={"create": 3, "same": 4}))
    result = runner.run(planned(), "preview")
    assert (result.status, result.ok, result.error) == ("passed", True, None)
    assert result.violations == []
    assert result.changes == {"create": 3, "same": 4}
    assert result.resources == 7
    assert result.duration_seconds > 0
    assert stack.selected == [planned().name]


def test_a_mandatory_violation_fails_the_stack_even_when_the_command_succeeds(engine):
    events = [*other_events(), policy_event("mandatory")]
    runner, _ = engine(FakeStack(events))
    result = runner.run(planned(), "preview")
    assert result.status == "failed"
    assert result.ok is False
    assert [v.to_json() for v in result.violations] == [violation("mandatory")]
    assert result.error is None


def test_a_mandatory_violation_that_stops_the_update_fails_it_with_the_violation_and_error(
    engine,
):
    error = command_error("error: preview failed\n  mandatory policy violations: 1")
    runner, _ = engine(FakeStack([policy_event("mandatory")], error=error))
    result = runner.run(planned(), "up")
    assert result.status == "failed"
    assert [v.to_json() for v in result.violations] == [violation("mandatory")]
    log = runner.log_dir / f"{planned().name}.up.log"
    assert result.error == (
        "code: 255\n stdout: \n stderr: error: preview failed\n"
        f"  mandatory policy violations: 1 (full log: {log})"
    )


def test_an_advisory_violation_passes_the_stack_with_the_warning(engine):
    events = [policy_event("advisory", "rds-terse-logging")]
    runner, _ = engine(FakeStack(events))
    result = runner.run(planned(), "preview")
    assert (result.status, result.ok) == ("passed", True)
    assert [v.to_json() for v in result.violations] == [violation("advisory", "rds-terse-logging")]
    assert result.mandatory_violations == []


def test_one_mandatory_among_advisories_fails_and_every_violation_is_kept_in_order(engine):
    events = [
        policy_event("advisory", "rds-terse-logging"),
        policy_event("Mandatory", "scp-size-limit"),  # the level is compared case-insensitively
        policy_event("advisory", "log-group-naming"),
    ]
    runner, _ = engine(FakeStack(events))
    result = runner.run(planned(), "preview")
    assert result.status == "failed"
    assert [v.to_json() for v in result.violations] == [
        violation("advisory", "rds-terse-logging"),
        violation("mandatory", "scp-size-limit"),
        violation("advisory", "log-group-naming"),
    ]


def test_a_violation_without_a_resource_is_kept_with_an_empty_urn(engine):
    event = policy_event("mandatory", "scp-presence")
    event.policy_event.resource_urn = None  # a stack policy's violation names no resource
    runner, _ = engine(FakeStack([event]))
    (found,) = runner.run(planned(), "preview").violations
    assert found.resource == ""


# ---- engine errors ------------------------------------------------------------------------------


def test_an_engine_error_fails_the_stack_with_its_last_lines_and_the_log(engine):
    lines = [f"  line {n}" for n in range(20)]
    stderr = "\n".join(["error: update failed", *lines, "", "   "])
    runner, _ = engine(FakeStack(other_events(), error=command_error(stderr)))
    result = runner.run(planned(), "up")
    assert result.status == "failed"
    assert result.violations == []
    log = runner.log_dir / f"{planned().name}.up.log"
    # The last 12 lines that are not blank, as the engine wrote them.
    assert result.error == "\n".join(f"  line {n}" for n in range(8, 20)) + f" (full log: {log})"
    assert result.resources == 0 and result.changes == {}


def test_an_access_denied_is_not_retried(engine):
    stderr = (
        "error: operation error S3: PutBucketPolicy, https response error StatusCode: 403, "
        "RequestID: 1, api error AccessDenied: not authorized"
    )
    runner, _ = engine(FakeStack(error=command_error(stderr)))
    result = runner.run(planned(), "up")
    assert result.status == "failed"
    assert "api error AccessDenied: not authorized" in result.error


def test_throttling_is_raised_for_the_orchestrator_to_retry(engine):
    stderr = (
        "error: operation error CloudWatch Logs: PutAccountPolicy, https response error "
        "StatusCode: 400, RequestID: 1, api error ThrottlingException: Rate exceeded"
    )
    runner, stack = engine(FakeStack(error=command_error(stderr)))
    with pytest.raises(RetryableError, match="api error ThrottlingException: Rate exceeded"):
        runner.run(planned(), "up")
    assert stack.cancelled == 0


def test_a_stale_lock_of_a_dead_local_process_is_cleared_and_retried(engine):
    gone = subprocess.Popen(["true"])
    gone.wait()
    stderr = (
        "error: the stack is currently locked by 1 lock(s). Either wait for the other "
        "process(es) to end or delete the lock file with `pulumi cancel`.\n"
        f"  file:///b/.pulumi/locks/x.json: created by root@{socket.gethostname()} "
        f"(pid {gone.pid}) at 2026-11-27T00:00:00Z"
    )
    runner, stack = engine(FakeStack(error=command_error(stderr)))
    with pytest.raises(RetryableError) as raised:
        runner.run(planned(), "up")
    # The error's last 3 lines: its stdout and stderr headers and the lock's holder.
    assert str(raised.value) == f"cleared a stale lock:  stdout: \n stderr: {stderr}"
    assert stack.cancelled == 1


def test_an_exception_other_than_a_command_error_is_not_swallowed(engine):
    runner, _ = engine(FakeStack(error=OSError("disk full")))
    with pytest.raises(OSError, match="disk full"):
        runner.run(planned(), "preview")


# ---- what each command is given --------------------------------------------------------------


def test_preview_and_up_run_the_policy_packs_and_destroy_does_not(engine):
    runner, stack = engine(FakeStack(), packs=(PACK,))
    for action in ("preview", "up", "destroy"):
        runner.run(planned(), action)
    config_file = str(runner.config_file(planned()))
    packs = {
        "policy_packs": [PACK],
        "policy_pack_configs": [str(runner.pack_config_dir / "0.json")],
    }
    for (command, kwargs), action in zip(stack.calls, ("preview", "up", "destroy"), strict=True):
        assert command == action
        assert kwargs["config_file"] == config_file
        assert kwargs["color"] == "never"
        given = {k: kwargs[k] for k in ("policy_packs", "policy_pack_configs") if k in kwargs}
        assert given == ({} if action == "destroy" else packs)


def test_without_policy_packs_no_pack_argument_is_given(engine):
    runner, stack = engine(FakeStack())
    runner.run(planned(), "preview")
    ((_, kwargs),) = stack.calls
    assert "policy_packs" not in kwargs and "policy_pack_configs" not in kwargs


def test_up_and_destroy_count_what_they_changed_but_not_deletions(engine):
    changes = {"create": 2, "update": 1, "same": 4, "delete": 3}
    runner, _ = engine(FakeStack(changes=changes))
    result = runner.run(planned(), "up")
    assert (result.status, result.resources, result.changes) == ("passed", 7, changes)
    runner, _ = engine(FakeStack(changes={"delete": 9}))
    result = runner.run(planned(), "destroy")
    assert (result.status, result.resources, result.changes) == ("passed", 0, {"delete": 9})


def test_the_engines_output_goes_to_the_stacks_log_file(engine):
    runner, _ = engine(FakeStack(output=("Previewing update", "Resources: 7 unchanged")))
    runner.run(planned(), "preview")
    log = runner.log_dir / f"{planned().name}.preview.log"
    assert log.read_text() == "Previewing update\nResources: 7 unchanged\n"


def test_a_new_stack_is_created_and_its_config_written(engine):
    runner, stack = engine(FakeStack(), exists=False)
    result = runner.run(planned(), "preview")
    assert result.status == "passed"
    assert stack.created is True
    text = runner.config_file(planned()).read_text()
    assert '"org-logging:accountId": "333333333333"' in text
    assert ":role/OrgLoggingAdmin" in text  # the stack runs as the admin role
