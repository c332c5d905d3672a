"""Stopping the helper processes we start (policy pack, emulator, provider) and all they started."""

from __future__ import annotations

import contextlib
import os
import select
import signal
import subprocess
from typing import Any


def stop_process_group(
    process: subprocess.Popen[Any], first: signal.Signals = signal.SIGTERM, grace: float = 10.0
) -> None:
    """Ask the process group started with `start_new_session=True` to stop with `first`; after
    `grace` seconds, SIGKILL whatever is left of the group; then reap the leader.

    The leader is left unreaped while the group is signalled, so its group id cannot have been
    reused by an unrelated process.
    """
    _signal_group(process.pid, first)
    wait_unreaped(process, grace)
    _signal_group(process.pid, signal.SIGKILL)
    process.wait()


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def wait_unreaped(process: subprocess.Popen[Any], timeout: float) -> None:
    """Wait up to `timeout` for `process` to exit without reaping it: a pidfd turns readable on
    exit, so there is no polling and no sleep."""
    try:
        pidfd = os.pidfd_open(process.pid)
    except (AttributeError, OSError):  # not Linux, or already reaped
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=timeout)
        return
    try:
        select.select([pidfd], [], [], timeout)
    finally:
        os.close(pidfd)
