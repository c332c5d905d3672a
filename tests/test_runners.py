"""The Automation API runner's own logic: which role, which config file, what is retried."""

from __future__ import annotations

import os

import pytest
import yaml
from conftest import LOG_ARCHIVE, MANAGEMENT, MEMBER, stack_config

from enroll.org.model import PlannedStack, RetryableError
from enroll.run.automation import AutomationRunner, assume_role_config, is_retryable
from enroll.util.paths import PROJECT_DIR


def planned(role: str, account: str, **overrides) -> PlannedStack:
    config = stack_config(role, **overrides)
    return PlannedStack(f"{role}-{account}", role, account, config["aws:region"], config)


def test_member_accounts_are_reached_as_the_admin_role_by_default():
    stack = planned("source", MEMBER)
    (assumed,) = assume_role_config(stack, None)
    assert assumed["roleArn"] == f"arn:aws:iam::{MEMBER}:role/OrgLoggingAdmin"
    assert assumed["sessionName"].startswith("org-logging-")


def test_the_management_stack_uses_the_callers_credentials():
    assert assume_role_config(planned("management", MANAGEMENT), None) is None


def test_the_management_accounts_source_stacks_run_as_the_admin_role_too():
    """Its log bucket's policy denies configuration changes to all but the admin role: run
    with the caller's credentials, the stack would lock itself out (only root could undo it)."""
    stack = planned("source", MANAGEMENT, accountId=MANAGEMENT)
    (assumed,) = assume_role_config(stack, None)
    assert assumed["roleArn"] == f"arn:aws:iam::{MANAGEMENT}:role/OrgLoggingAdmin"


def test_an_explicit_role_name_wins_and_empty_disables_assuming():
    stack = planned("log-archive", LOG_ARCHIVE)
    (assumed,) = assume_role_config(stack, "Deployer")
    assert assumed["roleArn"] == f"arn:aws:iam::{LOG_ARCHIVE}:role/Deployer"
    assert assume_role_config(stack, "") is None


def test_govcloud_role_arns_use_the_govcloud_partition():
    stack = PlannedStack(
        "s", "source", MEMBER, "us-gov-west-1", stack_config("source", "aws-us-gov")
    )
    (assumed,) = assume_role_config(stack, None)
    assert assumed["roleArn"].startswith("arn:aws-us-gov:iam::")


def test_generated_config_goes_to_the_state_dir_and_keeps_the_secrets_salt(tmp_path):
    runner = AutomationRunner(state_dir=tmp_path)
    stack = planned("source", MEMBER)
    path = runner.config_file(stack)
    path.parent.mkdir(parents=True)
    path.write_text(yaml.safe_dump({"encryptionsalt": "v1:abc", "config": {"old": "value"}}))
    runner.write_config(stack)
    written = yaml.safe_load(path.read_text())
    assert written["encryptionsalt"] == "v1:abc"
    assert written["config"]["org-logging:accountId"] == MEMBER
    assert "old" not in written["config"]
    assert written["config"]["aws:assumeRoles"][0]["roleArn"].endswith(":role/OrgLoggingAdmin")
    assert PROJECT_DIR not in path.parents


def test_account_ids_with_a_leading_zero_survive_pulumis_yaml_reader(tmp_path):
    runner = AutomationRunner(state_dir=tmp_path)
    stack = PlannedStack(
        "s", "source", "040449051105", "us-east-1", {"org-logging:accountId": "040449051105"}
    )
    runner.config_file(stack).parent.mkdir(parents=True)
    text = runner.write_config(stack).read_text()
    assert '"org-logging:accountId": "040449051105"' in text  # quoted: read as a string
    assert yaml.safe_load(text)["config"]["org-logging:accountId"] == "040449051105"


API_ERROR = (
    "error: updating urn:pulumi:s::org-logging::aws:s3/bucketPolicy:BucketPolicy::p: "
    "operation error S3: PutBucketPolicy, https response error StatusCode: {status}, "
    "RequestID: 1, api error {code}: {message}"
)


@pytest.mark.parametrize(
    "text, retried",
    [
        (API_ERROR.format(status=400, code="ThrottlingException", message="Rate exceeded"), True),
        (API_ERROR.format(status=400, code="Throttling", message="Rate exceeded"), True),
        (API_ERROR.format(status=503, code="SlowDown", message="Reduce your rate"), True),
        (API_ERROR.format(status=400, code="ThrottledException", message="x"), True),
        (API_ERROR.format(status=400, code="RequestThrottledException", message="x"), True),
        (API_ERROR.format(status=400, code="PriorRequestNotComplete", message="x"), True),
        (API_ERROR.format(status=400, code="EC2ThrottledException", message="x"), True),
        (API_ERROR.format(status=400, code="ConcurrentModificationException", message="x"), True),
        (
            "error: operation error Organizations: AttachPolicy, https response error "
            "StatusCode: 429, RequestID: 1",
            True,
        ),
        ("error: the stack is currently locked by 1 lock(s)", True),
        ("error: [409] Conflict: Another update is currently in progress.", True),
        (API_ERROR.format(status=403, code="AccessDenied", message="not authorized"), False),
        # A permanent error that merely mentions throttling is not retried.
        (
            API_ERROR.format(
                status=400,
                code="BadRequestException",
                message="invalid value for throttlingBurstLimit: Throttling settings",
            ),
            False,
        ),
        ("error: ThrottlingException mentioned in a program's own message", False),
    ],
)
def test_retries_are_decided_by_the_aws_error_code_or_a_bare_429(text, retried):
    from pulumi.automation import CommandError
    from pulumi.automation._cmd import CommandResult

    error = CommandError(CommandResult(stdout="", stderr=text, code=255))
    assert is_retryable(error) is retried


def test_a_concurrent_update_is_retried():
    from pulumi.automation import ConcurrentUpdateError
    from pulumi.automation._cmd import CommandResult

    error = ConcurrentUpdateError(CommandResult(stdout="", stderr="conflict", code=255))
    assert is_retryable(error)
    assert issubclass(RetryableError, Exception)


def test_a_lock_left_by_a_dead_process_of_this_host_is_stale():
    import socket
    import subprocess

    from enroll.run.automation import stale_lock

    gone = subprocess.Popen(["true"])
    gone.wait()
    dead = gone.pid
    host = socket.gethostname()
    message = (
        "error: the stack is currently locked by 1 lock(s). Either wait for the other "
        "process(es) to end or delete the lock file with `pulumi cancel`.\n"
        f"  file:///backend/.pulumi/locks/x.json: created by root@{host} (pid {dead}) at 2026-11-27T00:00:00Z"
    )
    assert stale_lock(message)
    assert not stale_lock(message.replace(f"(pid {dead})", f"(pid {os.getpid()})"))  # alive
    assert not stale_lock(message.replace(f"@{host} ", "@another-runner "))  # can't tell: wait
    assert not stale_lock("error: AccessDenied")


def test_the_workspace_runs_this_project_with_stack_settings_in_the_state_dir(tmp_path):
    runner = AutomationRunner(state_dir=tmp_path)
    runner._write_workspace_project()
    project = yaml.safe_load((tmp_path / "workspace" / "Pulumi.yaml").read_text())
    assert project["name"] == "org-logging"
    assert project["main"] == str(PROJECT_DIR)
    assert project["stackConfigDir"] == str((tmp_path / "config").resolve())
    assert project["runtime"]["options"]["virtualenv"] == str(PROJECT_DIR / ".venv")
