"""The run ledger: one JSON line per finished stack, appended as soon as the stack finishes.

It is what makes `up --resume` safe after a kill: a line is written whole, flushed and fsynced
before the next stack is reported, and reading tolerates a torn last line and any line it does
not understand. It lives in the state dir the caller chooses (never in the repository).

Records that arrive together are committed together (group commit): the first thread to find no
commit under way writes every queued line in one write and one fsync, while the others wait;
then each of them returns, or the next one commits what queued meanwhile. No `record` returns
before an fsync that covers its own line, so one fsync serves a whole wave of finished stacks
instead of each stack waiting for the fsyncs of all those ahead of it.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from enroll.org.model import Action, PlannedStack, StackResult
from enroll.util.paths import PROJECT_DIR

# Actions that change a stack's resources: a later one of the other kind makes a pass stale.
_STATE_CHANGING = frozenset({"up", "destroy"})
_STATUSES = frozenset({"passed", "failed", "error", "skipped"})
_RECORD_KEYS = ("runId", "action", "stack", "fingerprint", "status", "result", "at")


PROGRAM_FILES = (
    "Pulumi.yaml",
    "__main__.py",
    "requirements.txt",
    "components/**/*.py",
    "policy/**/*.py",
)


def program_files(root: Path = PROJECT_DIR) -> list[Path]:
    return sorted({p for pattern in PROGRAM_FILES for p in root.glob(pattern)})


@functools.cache
def program_digest(root: Path = PROJECT_DIR) -> str:
    """sha256 of the program and pack sources: a changed program reruns every stack on resume."""
    digest = hashlib.sha256()
    for path in program_files(root):
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def fingerprint(stack: PlannedStack) -> str:
    """sha256 of the stack's config as canonical JSON (sorted keys, no whitespace) and of the
    program that deploys it."""
    canonical = json.dumps(dict(stack.config), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256((canonical + program_digest()).encode("utf-8")).hexdigest()


class _Line:
    """One record waiting for its commit: `done` once an fsync covers it, or `error` failed it."""

    __slots__ = ("data", "done", "error")

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.done = False
        self.error: BaseException | None = None


class Ledger:
    """Append-only JSON Lines record of finished stacks; `record` is safe from many threads."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._committed = threading.Condition(self._lock)
        self._queue: list[_Line] = []  # lines no commit has taken yet
        self._committing = False  # a thread is writing and fsyncing a batch, without the lock

    def record(self, run_id: str, action: Action, stack: PlannedStack, result: StackResult) -> None:
        """Append the stack's line and return once it is durable: written and fsynced, alone or
        with the lines of the records that arrived while the previous commit ran. Raises what
        the commit of its line raised (so does every other record of that batch)."""
        line = json.dumps(
            {
                "runId": run_id,
                "action": action,
                "stack": stack.name,
                "fingerprint": fingerprint(stack),
                "status": result.status,
                "result": result.to_json(),
                "at": datetime.now(UTC).isoformat(timespec="milliseconds"),
            },
            separators=(",", ":"),
        )
        pending = _Line((line + "\n").encode("utf-8"))
        with self._committed:
            self._queue.append(pending)
            while not pending.done:
                if self._committing:
                    self._committed.wait()
                else:
                    self._commit()
        if pending.error is not None:
            raise pending.error

    def _commit(self) -> None:
        """With the lock held: take every queued line, write and fsync them without the lock,
        then mark them done and wake their threads."""
        batch, self._queue = self._queue, []
        self._committing = True
        error = None
        self._lock.release()
        try:
            self._append(b"".join(line.data for line in batch))
        except BaseException as exc:  # every record of the batch raises it, this one included
            error = exc
        finally:
            self._lock.acquire()
            self._committing = False
        for line in batch:
            line.error = error
            line.done = True
        self._committed.notify_all()

    def _append(self, data: bytes) -> None:
        created = not self.path.exists()
        if created:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o666)
        try:
            if _ends_torn(fd):
                # A kill mid-write left a partial line: end it, so these records stay whole.
                data = b"\n" + data
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        if created:
            _fsync_dir(self.path.parent)

    def records(self) -> Iterator[dict[str, Any]]:
        """Every well-formed record in file order; torn, garbage or foreign lines are skipped."""
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return
        for line in raw.split(b"\n"):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except (UnicodeDecodeError, ValueError):
                continue
            if _well_formed(record):
                yield record

    def completed(self, action: Action) -> dict[str, tuple[str, dict[str, Any]]]:
        """Stacks whose latest `action` record is ok (StackResult.ok: passed, and no mandatory
        violation): name -> (fingerprint, result JSON).

        A later record of the other state-changing action (a `destroy` after an `up`, or the
        reverse; either one after a `preview`) makes that pass stale, so the stack is left out.
        """
        done: dict[str, tuple[str, dict[str, Any]]] = {}
        for record in self.records():
            name = record["stack"]
            if record["action"] == action:
                if StackResult.from_json(record["result"]).ok:
                    done[name] = (record["fingerprint"], record["result"])
                else:
                    done.pop(name, None)
            elif record["action"] in _STATE_CHANGING:
                done.pop(name, None)
        return done

    def last_run_id(self, action: Action) -> str | None:
        last = None
        for record in self.records():
            if record["action"] == action:
                last = record["runId"]
        return last


def _ends_torn(fd: int) -> bool:
    size = os.lseek(fd, 0, os.SEEK_END)
    return size > 0 and os.pread(fd, 1, size - 1) != b"\n"


def _fsync_dir(directory: Path) -> None:
    """Make the new file's directory entry durable too (best effort: not every OS allows it)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _well_formed(record: Any) -> bool:
    if not isinstance(record, dict) or any(key not in record for key in _RECORD_KEYS):
        return False
    if not all(isinstance(record[key], str) for key in _RECORD_KEYS if key != "result"):
        return False
    result = record["result"]
    if not isinstance(result, dict) or result.get("name") != record["stack"]:
        return False
    if record["status"] not in _STATUSES or result.get("status") != record["status"]:
        return False
    try:
        StackResult.from_json(result)
    except (KeyError, TypeError, ValueError, AttributeError):
        return False
    return True
