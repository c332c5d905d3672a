"""A stand-in `aws` resource provider for end-to-end tests with the real Pulumi engine.

The real `pulumi-resource-aws` plugin cannot be downloaded here. This package speaks the
engine's ResourceProvider gRPC protocol (`python -u -m tests.e2e.provider <engine-address>`,
port on the first stdout line) and applies resources to a moto server (`AWS_ENDPOINT_URL`)
where moto supports them, so AWS's own validation runs; every other type is kept in memory.
Tests only: it never talks to anything but the endpoint it is given.

Use it one of two ways:

- `install_plugin(pulumi, pulumi_home)` installs it as `aws` v7.51.1 into a (test) PULUMI_HOME,
  for `pulumi up` with the real CLI;
- `ProviderProcess()` starts it exactly as the engine does and hands you a gRPC stub.

This module imports nothing heavy: the plugin process imports it too.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

from enroll.util.processes import HelperProcess, PortOnFirstLine

PLUGIN_NAME = "aws"
PLUGIN_VERSION = "7.51.1"
PROVIDER_DIR = Path(__file__).resolve().parent
REPO_ROOT = PROVIDER_DIR.parent.parent.parent
PLUGIN_SCRIPT = PROVIDER_DIR / "pulumi-resource-aws"
PYTHON_ENV = "ORG_LOGGING_PROVIDER_PYTHON"
# Append-only trace of the RPCs the provider served, one "Method detail" line each.
RPC_LOG_ENV = "ORG_LOGGING_PROVIDER_LOG"


def provider_python(env: Mapping[str, str] | None = None) -> str:
    """The interpreter the plugin runs on: $ORG_LOGGING_PROVIDER_PYTHON or the repo's .venv."""
    env = os.environ if env is None else env
    return env.get(PYTHON_ENV) or str(REPO_ROOT / ".venv" / "bin" / "python")


def write_wrapper(directory: Path | str, python: str | None = None) -> Path:
    """Write `pulumi-resource-aws` into `directory`: a script with this repository's absolute
    path and interpreter baked in, so it still works after `pulumi plugin install` copies it."""
    wrapper = Path(directory) / "pulumi-resource-aws"
    python = python or provider_python()
    wrapper.write_text(
        "#!/bin/sh\n"
        "# The org-logging stand-in aws provider (tests only), installed by\n"
        "# tests.e2e.provider.install_plugin: runs the repository's plugin script by path.\n"
        f'if [ -z "${{{PYTHON_ENV}:-}}" ]; then {PYTHON_ENV}={shlex.quote(python)}; fi\n'
        f"export {PYTHON_ENV}\n"
        f'exec /bin/sh {shlex.quote(str(PLUGIN_SCRIPT))} "$@"\n'
    )
    wrapper.chmod(0o755)
    return wrapper


def install_plugin(
    pulumi: str | os.PathLike[str],
    pulumi_home: str | os.PathLike[str],
    env: Mapping[str, str] | None = None,
) -> Path:
    """Install the stand-in as resource plugin `aws` v7.51.1 into `pulumi_home`.

    `pulumi` is the CLI to run, `env` the environment to run it in (default: this process's;
    PULUMI_HOME is always `pulumi_home`). Returns the installed executable,
    `<pulumi_home>/plugins/resource-aws-v7.51.1/pulumi-resource-aws`.
    """
    run_env = dict(os.environ if env is None else env)
    run_env.update(PULUMI_HOME=str(pulumi_home), PULUMI_SKIP_UPDATE_CHECK="1")
    with tempfile.TemporaryDirectory(prefix="org-logging-plugin-") as tmp:
        wrapper = write_wrapper(tmp, provider_python(run_env))
        done = subprocess.run(
            [
                str(pulumi),
                "plugin",
                "install",
                "resource",
                PLUGIN_NAME,
                PLUGIN_VERSION,
                "--file",
                str(wrapper),
            ],
            env=run_env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    if done.returncode != 0:
        raise RuntimeError(
            f"pulumi plugin install failed ({done.returncode}):\n{done.stdout}{done.stderr}"
        )
    installed = (
        Path(pulumi_home)
        / "plugins"
        / f"resource-{PLUGIN_NAME}-v{PLUGIN_VERSION}"
        / f"pulumi-resource-{PLUGIN_NAME}"
    )
    if not (installed.is_file() and os.access(installed, os.X_OK)):
        raise RuntimeError(f"pulumi plugin install did not produce {installed}")
    return installed


class ProviderProcess:
    """The plugin started as the engine starts it: `<plugin> <engine-address>`, the port read
    from the first stdout line. `stub` is a ResourceProviderStub; leaving the block stops it."""

    def __init__(
        self,
        env: Mapping[str, str] | None = None,
        executable: str | os.PathLike[str] = PLUGIN_SCRIPT,
        engine_address: str = "127.0.0.1:1",
        cwd: str | os.PathLike[str] | None = None,
        startup_timeout: float = 60.0,
    ) -> None:
        self.env = dict(os.environ if env is None else env)
        self.executable = str(executable)
        self.engine_address = engine_address
        self.cwd = cwd
        self.startup_timeout = startup_timeout
        self.port = 0
        self.stub: Any = None
        self._plugin: HelperProcess[int] | None = None
        self._channel: Any = None

    @property
    def stderr(self) -> str:
        """What the plugin logged: with stdout reserved for the port, all of it goes here."""
        return self._plugin.stderr if self._plugin is not None else ""

    def __enter__(self) -> ProviderProcess:
        import grpc
        from pulumi.runtime.proto import provider_pb2_grpc

        self._plugin = HelperProcess(
            [self.executable, self.engine_address],
            PortOnFirstLine(hint="the plugin must print nothing before it"),
            name="the stand-in provider",
            cwd=self.cwd,
            env=self.env,
            startup_timeout=self.startup_timeout,
        )
        self.port = self._plugin.start()
        try:
            self._channel = grpc.insecure_channel(f"127.0.0.1:{self.port}")
            grpc.channel_ready_future(self._channel).result(timeout=self.startup_timeout)
        except BaseException:
            self.__exit__(None, None, None)
            raise
        self.stub = provider_pb2_grpc.ResourceProviderStub(self._channel)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._channel is not None:
            self._channel.close()
            self._channel = None
        if self._plugin is not None:
            self._plugin.stop()
