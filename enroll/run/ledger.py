"""The run ledger: one JSON line per finished stack, appended as soon as the stack finishes.

It is what makes `up --resume` safe after a kill: a line is written whole, flushed and fsynced
before the next stack is reported, and reading tolerates a torn last line and any line it does
not understand. It lives in the state dir the caller chooses (never in the repository).
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


class Ledger:
    """Append-only JSON Lines record of finished stacks; `record` is safe from many threads."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()

    def record(self, run_id: str, action: Action, stack: PlannedStack, result: StackResult) -> None:
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
        data = (line + "\n").encode("utf-8")
        with self._lock:
            created = not self.path.exists()
            if created:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.path, "a+b") as ledger:
                if _ends_torn(ledger):
                    # A kill mid-write left a partial line: end it, so this record stays whole.
                    data = b"\n" + data
                ledger.write(data)
                ledger.flush()
                os.fsync(ledger.fileno())
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


def _ends_torn(ledger: Any) -> bool:
    ledger.seek(0, os.SEEK_END)
    if ledger.tell() == 0:
        return False
    ledger.seek(-1, os.SEEK_END)
    return ledger.read(1) != b"\n"


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
