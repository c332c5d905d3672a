"""Writing files so that a reader, or a crash, never sees half of one."""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path


def atomic_write(path: str | os.PathLike[str], content: str | bytes) -> None:
    """Replace `path` with `content` (text is written as UTF-8) in one step: a reader sees the
    old file or the whole new one, never a mix.

    The content goes to a temporary file of its own in the same directory (so two writers of
    one path never share it), reaches the disk, then `os.replace` puts it in place; the
    directory is synced too, where the platform allows. On any error the temporary file goes.
    The file keeps the mode of the one it replaces; a new one gets what `open()` would give it.
    """
    target = Path(path)
    data = content.encode("utf-8") if isinstance(content, str) else content
    fd, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), _mode_for(target))  # mkstemp makes it 0o600
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    _sync_directory(target.parent)


def _mode_for(target: Path) -> int:
    try:
        return stat.S_IMODE(target.stat().st_mode)
    except FileNotFoundError:
        return 0o666 & ~_umask()


def _umask() -> int:
    # Read, not set: os.umask() would change it for every thread for a moment.
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    umask = os.umask(0o022)  # no /proc (not Linux): set it and put it back at once
    os.umask(umask)
    return umask


def _sync_directory(directory: Path) -> None:
    # Makes the rename itself durable; best effort: not every platform or filesystem allows it.
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
