"""The Automation API runner: each stack through the real engine (a LocalWorkspace on this
project, stack config in the state dir). The orchestrator drives it like the offline runner.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from components import naming
from components.contract import AWS_PROVIDER_VERSION, config_key
from enroll.org.model import Action, PlannedStack, RetryableError, StackResult, Violation
from enroll.util.awserrors import THROTTLING_CODES, TRANSIENT_CODES
from enroll.util.files import atomic_write
from enroll.util.paths import POLICY_PACK_DIR, PROJECT_DIR

# --------------------------------------------------------------------------------------------
# Automation API: the real engine
# --------------------------------------------------------------------------------------------

# The engine's errors are text: terraform-provider-aws writes
# "operation error S3: PutBucketPolicy, https response error StatusCode: 403, ... api error
# AccessDenied: ...". Retry by the code (or a bare 429), never by words in the message.
API_ERROR_CODE = re.compile(r"\bapi error (?P<code>[A-Za-z0-9.]+):")
HTTP_STATUS = re.compile(r"\bStatusCode: (?P<status>\d{3})\b")
# A stack lock held by another update (file backend, or the service's 409).
LOCK_CONFLICT = re.compile(
    r"conflict: Another update is currently in progress|the stack is currently locked|"
    r"\[409\] Conflict"
)


_LOCK_HOLDER = re.compile(r"created by [^@\s]*@(?P<host>\S+) \(pid (?P<pid>\d+)\)")


def stale_lock(message: str) -> bool:
    """A file-backend lock error whose every holder was a process of this host that is gone."""
    if "currently locked" not in message:
        return False
    holders = list(_LOCK_HOLDER.finditer(message))
    if not holders:
        return False
    host = socket.gethostname()
    return all(h["host"] == host and not _alive(int(h["pid"])) for h in holders)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def is_retryable(error: BaseException) -> bool:
    """Throttling, a transient AWS error or a lock conflict; nothing else, however it is
    worded."""
    from pulumi.automation import ConcurrentUpdateError

    text = str(error)
    if isinstance(error, ConcurrentUpdateError) or LOCK_CONFLICT.search(text):
        return True
    codes = {match["code"] for match in API_ERROR_CODE.finditer(text)}
    if codes & (THROTTLING_CODES | TRANSIENT_CODES):
        return True
    return any(match["status"] == "429" for match in HTTP_STATUS.finditer(text))


def pulumi_yaml(document: Mapping[str, Any]) -> str:
    """A stack config file as Pulumi reads it. JSON is YAML, and quotes every string: PyYAML
    writes 040449051105 bare (not a YAML 1.1 int), which Pulumi's YAML 1.2 reads as a number
    and so drops the account id's leading zero."""
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def ensure_pack_virtualenv(pack: Path) -> None:
    """`pulumi preview --policy-pack` needs the pack's virtualenv and does not create it."""
    project = yaml.safe_load((pack / "PulumiPolicy.yaml").read_text()) or {}
    runtime = project.get("runtime") or {}
    options = runtime.get("options", {}) if isinstance(runtime, dict) else {}
    name = options.get("virtualenv")
    if not name or (pack / name / "bin" / "python").exists():
        return
    subprocess.run([sys.executable, "-m", "venv", str(pack / name)], check=True)
    subprocess.run(
        [
            str(pack / name / "bin" / "python"),
            "-m",
            "pip",
            "install",
            "--quiet",
            "-r",
            str(pack / "requirements.txt"),
        ],
        check=True,
    )


def admin_role_name(stack: PlannedStack) -> str:
    return str(stack.config.get(config_key("adminRoleName"), ""))


def assume_role_config(stack: PlannedStack, role_name: str | None) -> Any:
    """Every log-archive and source stack runs as `role_name`, by default the stack's
    adminRoleName: the SCPs and the bucket and key policies let only that role change the
    logging resources once they are in place. That includes the management account's own
    source stacks: its log bucket's policy binds the caller's credentials too, and only that
    account's root user could undo a lockout. The management stack (trail, SCPs) runs with
    the automation's credentials, which are the management account's."""
    role_name = admin_role_name(stack) if role_name is None else role_name
    if not role_name or stack.role == "management":
        return None
    return [
        {
            "roleArn": naming.iam_role_arn(stack.region, stack.account_id, role_name),
            "sessionName": f"org-logging-{stack.name}"[:64],
        }
    ]


class AutomationRunner:
    """Runs each stack with the Automation API (a `LocalWorkspace` running this project).

    The generated per-stack config files live in `state_dir/config`, never in the repo. The
    backend is `backend_url` (default: a file backend in the state dir).
    """

    def __init__(
        self,
        *,
        state_dir: Path,
        backend_url: str | None = None,
        role_name: str | None = None,
        policy_packs: tuple[str, ...] = (),
        policy_pack_config: Mapping[str, Any] | None = None,
        env: Mapping[str, str] | None = None,
        pulumi_command: Any = None,
    ) -> None:
        """`policy_pack_config`: our pack's config (policy/) as `--policy-pack-config` reads it,
        so that the engine judges our stacks as the offline preview does; other packs run with
        their defaults."""
        self.state_dir = state_dir
        self.config_dir = state_dir / "config"
        self.workspace_dir = state_dir / "workspace"
        self.log_dir = state_dir / "logs"
        self.backend_url = backend_url or (state_dir / "backend").resolve().as_uri()
        self.role_name = role_name
        self.policy_packs = tuple(str(Path(p).resolve()) for p in policy_packs)
        self.policy_pack_config = dict(policy_pack_config or {})
        self.pack_config_dir = state_dir / "policy-pack-config"
        self.env = {
            "PULUMI_BACKEND_URL": self.backend_url,
            "PULUMI_SKIP_UPDATE_CHECK": "true",
            **(env or {}),
        }
        self.pulumi_command = pulumi_command
        self._init_lock = threading.Lock()

    # -- once, before the fan-out -------------------------------------------------------------

    def prepare(self) -> None:
        """Check the CLI, log in, and make sure the aws plugin is installed once."""
        for directory in (self.config_dir, self.log_dir):
            directory.mkdir(parents=True, exist_ok=True)
        self._write_workspace_project()
        if self.backend_url.startswith("file://"):
            Path(self.backend_url.removeprefix("file://")).mkdir(parents=True, exist_ok=True)
            if "PULUMI_CONFIG_PASSPHRASE" not in {**os.environ, **self.env} and (
                "PULUMI_CONFIG_PASSPHRASE_FILE" not in {**os.environ, **self.env}
            ):
                raise RuntimeError(
                    "a file backend needs PULUMI_CONFIG_PASSPHRASE (or _FILE) for stack secrets"
                )
        for pack in self.policy_packs:
            ensure_pack_virtualenv(Path(pack))
        for index, pack in enumerate(self.policy_packs):
            ours = Path(pack) == POLICY_PACK_DIR.resolve()
            self.pack_config_dir.mkdir(parents=True, exist_ok=True)
            atomic_write(
                self.pack_config_dir / f"{index}.json",
                json.dumps(self.policy_pack_config if ours else {}, indent=2, sort_keys=True)
                + "\n",
            )
        workspace = self._workspace()
        installed = {(p.name, p.version) for p in workspace.list_plugins()}
        if ("aws", AWS_PROVIDER_VERSION) not in installed:
            workspace.install_plugin("aws", f"v{AWS_PROVIDER_VERSION}")

    def _packs(self) -> dict[str, Any]:
        if not self.policy_packs:
            return {}
        return {
            "policy_packs": list(self.policy_packs),
            "policy_pack_configs": [
                str(self.pack_config_dir / f"{index}.json")
                for index in range(len(self.policy_packs))
            ],
        }

    def _workspace(self) -> Any:
        """A LocalWorkspace running this project, whose stack config lives in the state dir.

        The CLI reads and writes a stack's settings at `<stackConfigDir>/Pulumi.<stack>.yaml`
        in more commands than take `--config-file` (`stack init` saves the secrets salt there,
        `stack output` re-saves it): run from the repo, it overwrote
        stacks/Pulumi.log-archive.yaml (the example of the same name) and left a file per
        source stack. So the workspace is a project file in the state dir whose `main` is this
        project and whose stackConfigDir is the state dir: the program is ours, the generated
        settings never touch the repo.
        """
        from pulumi import automation as auto

        return auto.LocalWorkspace(
            work_dir=str(self.workspace_dir),
            env_vars=self.env,
            pulumi_command=self.pulumi_command,
        )

    def _write_workspace_project(self) -> None:
        """The workspace's Pulumi.yaml: this project, with stack settings in the state dir."""
        self.workspace_dir.mkdir(parents=True, exist_ok=True)
        project = yaml.safe_load((PROJECT_DIR / "Pulumi.yaml").read_text())
        runtime = dict(project["runtime"])
        options = dict(runtime.get("options") or {})
        if "virtualenv" in options:
            options["virtualenv"] = str((PROJECT_DIR / options["virtualenv"]).resolve())
        runtime["options"] = options
        settings = {
            **{k: v for k, v in project.items() if k != "stackConfigDir"},
            "runtime": runtime,
            "main": str(PROJECT_DIR),
            "stackConfigDir": str(self.config_dir.resolve()),
        }
        atomic_write(self.workspace_dir / "Pulumi.yaml", pulumi_yaml(settings))

    # -- one stack ----------------------------------------------------------------------------

    def config_file(self, stack: PlannedStack) -> Path:
        return self.config_dir / f"Pulumi.{stack.name}.yaml"

    def write_config(self, stack: PlannedStack) -> Path:
        """The stack's config file, keeping any secrets-provider keys the CLI put in it."""
        path = self.config_file(stack)
        existing: dict[str, Any] = {}
        if path.exists():
            existing = yaml.safe_load(path.read_text()) or {}
        config = dict(stack.config)
        assume = assume_role_config(stack, self.role_name)
        if assume:
            config["aws:assumeRoles"] = assume
        document = {k: v for k, v in existing.items() if k != "config"}
        document["config"] = config
        atomic_write(path, pulumi_yaml(document))
        return path

    def _select(self, stack: PlannedStack) -> Any:
        """Select the stack, creating it if it is new (its salt lands in its config file)."""
        from pulumi import automation as auto

        workspace = self._workspace()
        with self._init_lock:
            try:
                return auto.Stack.select(stack.name, workspace)
            except auto.StackNotFoundError:
                created = auto.Stack.create(stack.name, workspace)
        self.write_config(stack)  # `stack init` rewrote the file with its salt: add the config
        return created

    def run(self, stack: PlannedStack, action: Action) -> StackResult:
        from pulumi import automation as auto

        started = time.perf_counter()
        self.write_config(stack)
        log = self.log_dir / f"{stack.name}.{action}.log"
        violations: list[Violation] = []

        def on_event(event: Any) -> None:
            policy = getattr(event, "policy_event", None)
            if policy is not None:
                violations.append(
                    Violation(
                        policy=policy.policy_name,
                        level=policy.enforcement_level.lower(),
                        message=policy.message,
                        resource=policy.resource_urn or "",
                    )
                )

        selected = None
        try:
            selected = self._select(stack)
            common = {
                "config_file": str(self.config_file(stack)),
                "on_event": on_event,
                "color": "never",
            }
            with log.open("w") as output:
                common["on_output"] = lambda line: output.write(line + "\n")
                if action == "preview":
                    outcome = selected.preview(**self._packs(), **common)
                    changes = dict(outcome.change_summary)
                elif action == "up":
                    outcome = selected.up(**self._packs(), **common)
                    changes = dict(outcome.summary.resource_changes or {})
                else:
                    outcome = selected.destroy(**common)
                    changes = dict(outcome.summary.resource_changes or {})
        except auto.CommandError as error:
            if selected is not None and stale_lock(str(error)):
                # A run killed mid-update (Ctrl-C, a cancelled CI job) left its lock; its
                # process is gone, so nobody else is updating the stack: clear it, try again.
                selected.cancel()
                raise RetryableError(
                    f"cleared a stale lock: {_last_lines(str(error), 3)}"
                ) from error
            if is_retryable(error):
                raise RetryableError(str(error)) from error
            return StackResult.for_stack(
                stack,
                "failed",
                violations=violations,
                error=_last_lines(str(error)) + f" (full log: {log})",
                duration_seconds=time.perf_counter() - started,
            )
        failed = any(v.level == "mandatory" for v in violations)
        resources = sum(count for kind, count in changes.items() if kind != "delete")
        return StackResult.for_stack(
            stack,
            "failed" if failed else "passed",
            resources=resources,
            violations=violations,
            changes=changes,
            duration_seconds=time.perf_counter() - started,
        )


def _last_lines(text: str, count: int = 12) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return "\n".join(lines[-count:])
