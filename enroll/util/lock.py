"""One run at a time on a state dir: two runs on one state dir both ran every stack and raced
on its files. The lock is an flock, so a killed run's lock goes with its process."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

LOCK_FILE = "run.lock"


class LockHeld(Exception):
    """Another run holds the state dir; the message names it."""


@contextlib.contextmanager
def exclusive(state_dir: Path, command: str) -> Iterator[None]:
    """Hold `state_dir` for the whole run, or raise LockHeld naming the holder (pid, host,
    command, start time)."""
    path = state_dir / LOCK_FILE
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise LockHeld(
                f"the state dir {state_dir} is in use by another run ({_holder(path)}); wait "
                "for it to finish, or give this run another --state-dir"
            ) from None
        holder = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "command": command,
            "started": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        os.ftruncate(fd, 0)
        os.pwrite(fd, (json.dumps(holder) + "\n").encode(), 0)
        yield
    finally:
        os.close(fd)  # closing releases the flock


def _holder(path: Path) -> str:
    try:
        holder = json.loads(path.read_text())
        return (
            f"pid {holder['pid']} on {holder['host']}, `org-logging {holder['command']}`, "
            f"started {holder['started']}"
        )
    except (OSError, ValueError, KeyError, TypeError):
        return "its details are not readable"
