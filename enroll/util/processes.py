"""The helper processes we start (policy pack, emulator, stand-in provider): launched in their
own process group, ready when stdout says so, drained for their whole life, stopped with all
they started."""

from __future__ import annotations

import collections
import contextlib
import os
import re
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Generic, Protocol, TypeVar

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)

# A line longer than this is read in pieces: a child writing without newlines cannot grow one
# line without bound.
_LINE_LIMIT = 64 * 1024
# After the helper exits with its stdout still open (a process it started holds it), how long
# the reader may take to reach a port it wrote just before.
_CATCH_UP = 1.0
# How long `stop` waits for the readers to see the end of the streams (a process that left the
# group may hold them open; the readers are daemons and do not keep us alive).
_DRAIN = 5.0
# How long `stop` waits, after SIGKILL, for the group's members to be gone.
_KILLED_WITHIN = 5.0


# Linux only: run the helper through this shim, which asks the kernel to SIGKILL it when we
# die, even by SIGKILL (its own process group keeps it from a terminal's Ctrl-C, so nothing else
# would reach it), then execs it. A shim, not preexec_fn: Python code between fork and exec can
# crash next to gRPC's threads. prctl(2): PR_SET_PDEATHSIG = 1; the signal follows the *thread*
# that started the child, so start helpers from a thread that outlives them (the main thread).
_DIE_WITH_PARENT = """\
import ctypes, os, signal, sys
ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)
if os.getppid() != int(sys.argv[1]):
    os._exit(1)
os.execvp(sys.argv[2], sys.argv[2:])
"""


def die_with_parent(argv: Sequence[str]) -> list[str]:
    """`argv`, run so that it dies with this process (Linux), or as it is elsewhere."""
    if not sys.platform.startswith("linux"):
        return list(argv)
    return [sys.executable, "-I", "-S", "-c", _DIE_WITH_PARENT, str(os.getpid()), *argv]


def exit_with_parent(parent: int, poll: float = 0.5) -> None:
    """For a worker process we started (multiprocessing's): exit as soon as its parent, pid
    `parent` (passed in: by the time the worker runs this it may have died already), is gone,
    whatever killed it. A daemon thread watches the parent pid: unlike PDEATHSIG it does not
    depend on which of the parent's threads started the worker."""
    if os.getppid() != parent:
        os._exit(1)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(poll)
        os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


class Readiness(Protocol[T_co]):
    """What a helper prints on stdout when it is ready. Called on each stdout line until it
    returns a value (ready: `start` returns that value) or raises ValueError (the start failed;
    the error's text completes the sentence "<helper name> ...")."""

    @property
    def what(self) -> str:
        """What the helper prints, for messages: "port"."""
        ...

    def __call__(self, line: str) -> T_co | None: ...


class PortOnFirstLine:
    """Ready when the first stdout line is a TCP port, as Pulumi plugins print it; any other
    first line fails the start. `hint` says why a first line may be something else."""

    what = "port"

    def __init__(self, hint: str = "") -> None:
        self.hint = hint

    def __call__(self, line: str) -> int:
        text = line.strip()
        if not (text.isascii() and text.isdigit()):
            hint = f"; {self.hint}" if self.hint else ""
            raise ValueError(f"wrote {text!r} where its port belongs (the first stdout line{hint})")
        return int(text)


class LineMatching:
    """Ready at the first stdout line `pattern` finds something in; the value is the match."""

    def __init__(self, pattern: str | re.Pattern[str], what: str | None = None) -> None:
        self.pattern = re.compile(pattern)
        self.what = what or f"line matching {self.pattern.pattern!r}"

    def __call__(self, line: str) -> re.Match[str] | None:
        return self.pattern.search(line)


class HelperStartError(RuntimeError):
    """A helper that did not get ready (it has been stopped): `problem` says why, `output_tail`
    is the end of what it wrote to stderr (or to stdout, when stderr is merged into it)."""

    def __init__(self, name: str, problem: str, output_tail: str, stream: str) -> None:
        self.problem = problem
        self.output_tail = output_tail
        if output_tail.strip():
            shown = f"\n{stream}:\n{output_tail.rstrip()}"
        else:
            shown = f"\n(nothing on {stream})"
        super().__init__(f"{name} {problem}{shown}")


class _Kept:
    """The last `limit` characters of a stream, kept whole lines at a time (thread-safe)."""

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._lines: collections.deque[str] = collections.deque()
        self._size = 0
        self.cut = False
        self._lock = threading.Lock()

    def append(self, line: str) -> None:
        with self._lock:
            self._lines.append(line)
            self._size += len(line)
            while self._size > self._limit and len(self._lines) > 1:
                self._size -= len(self._lines.popleft())
                self.cut = True

    def text(self) -> str:
        with self._lock:
            return "".join(self._lines)


class HelperProcess(Generic[T]):
    """One helper process; use it as a context manager, or `start()` and `stop()`.

    It runs `argv` in its own process group with stdin closed, so one signal reaches all it
    starts. Reader threads drain stdout and stderr for its whole life (a full pipe would block
    it) and keep the last `keep` characters of each as `stdout` and `stderr`; the line `ready`
    accepted is not kept. Error messages show the last `tail` characters of stderr, or of stdout
    when `merge_stderr` sends stderr there.
    """

    def __init__(
        self,
        argv: Sequence[str | os.PathLike[str]],
        ready: Readiness[T],
        *,
        name: str | None = None,
        cwd: str | os.PathLike[str] | None = None,
        env: Mapping[str, str] | None = None,
        merge_stderr: bool = False,
        startup_timeout: float = 60.0,
        keep: int = 1_000_000,
        tail: int = 8000,
    ) -> None:
        """`env` is the child's whole environment (None: ours); `name` starts error messages."""
        self.argv = [os.fspath(arg) for arg in argv]
        self.ready = ready
        self.name = name or Path(self.argv[0]).name
        self.cwd = cwd
        self.env = dict(env) if env is not None else None
        self.merge_stderr = merge_stderr
        self.startup_timeout = startup_timeout
        self.ready_value: T | None = None
        self._tail = tail
        self._stdout = _Kept(keep)
        self._stderr = _Kept(keep)
        self._process: subprocess.Popen[bytes] | None = None
        self._started = False
        self._final_status: str | None = None
        self._stop_lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        # Guarded by _changed: what the start is waiting to hear.
        self._changed = threading.Condition()
        self._settled = False  # `ready` gave a value or refused a line
        self._problem: str | None = None
        self._stdout_closed = False
        self._exited = False

    # -- lifecycle ---------------------------------------------------------------------------

    def __enter__(self) -> HelperProcess[T]:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> T:
        """Launch it and wait until `ready` accepts a stdout line; returns what `ready` made of
        it. Raises HelperStartError, after stopping the group, if the helper exits first, if
        `ready` refuses a line, or after `startup_timeout` seconds."""
        if self._started:
            raise RuntimeError(f"{self.name} was started already; make a new HelperProcess")
        self._started = True
        process = subprocess.Popen(
            die_with_parent(self.argv),
            cwd=self.cwd,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT if self.merge_stderr else subprocess.PIPE,
            start_new_session=True,  # its own process group: one signal reaches every child
        )
        self._process = process
        try:
            assert process.stdout is not None
            self._spawn(self._read_stdout, process.stdout)
            if process.stderr is not None:
                self._spawn(self._read_stderr, process.stderr)
            with contextlib.suppress(AttributeError, OSError):  # not Linux: stdout's end must do
                self._spawn(self._watch_exit, os.pidfd_open(process.pid))
            problem = self._await_ready(process)
        except BaseException:
            self.stop(signal.SIGKILL, 0.0)
            raise
        if problem is None:
            return self.ready_value  # type: ignore[return-value]
        self.stop(signal.SIGKILL, 0.0)  # it will not get ready: no need to ask nicely
        stream = "output" if self.merge_stderr else "stderr"
        raise HelperStartError(self.name, problem, self.output_tail(), stream)

    def _spawn(self, target: Any, arg: Any) -> None:
        thread = threading.Thread(target=target, args=(arg,), daemon=True)
        thread.start()
        self._threads.append(thread)

    def _await_ready(self, process: subprocess.Popen[bytes]) -> str | None:
        """None once ready; otherwise why it will not be."""
        deadline = time.monotonic() + self.startup_timeout
        with self._changed:
            self._changed.wait_for(
                lambda: self._settled or self._stdout_closed or self._exited, self.startup_timeout
            )
            if not (self._settled or self._stdout_closed) and self._exited:
                # Something it started holds stdout open: a port written just before the exit
                # may still be on its way to the reader.
                self._changed.wait_for(lambda: self._settled or self._stdout_closed, _CATCH_UP)
            if self._settled:
                return self._problem
            ended = self._stdout_closed or self._exited
        if not ended:
            return f"printed no {self.ready.what} within {self.startup_timeout}s"
        wait_unreaped(process, max(0.0, deadline - time.monotonic()))  # to say how it ended
        how = self.exit_status() or "closed its stdout"
        return f"exited ({how}) before printing its {self.ready.what}"

    def stop(self, first_signal: signal.Signals = signal.SIGTERM, grace: float = 10.0) -> None:
        """Send `first_signal` to the whole group; after `grace` seconds SIGKILL what is left;
        reap the leader and let the readers finish the streams. Safe to call again."""
        with self._stop_lock:
            process, self._process = self._process, None
        if process is None:
            return
        stop_process_group(process, first_signal, grace)
        self._final_status = _describe(process.returncode)
        for thread in self._threads:
            thread.join(timeout=_DRAIN)

    # -- what it said, how it ended ------------------------------------------------------------

    @property
    def pid(self) -> int | None:
        """The leader's pid (and group id) while it is ours to signal: None before `start` and
        once `stop` has begun."""
        process = self._process
        return process.pid if process is not None else None

    @property
    def stdout(self) -> str:
        """What it wrote to stdout (the last `keep` characters), but the line `ready` took."""
        return self._stdout.text()

    @property
    def stderr(self) -> str:
        """What it wrote to stderr (the last `keep` characters); empty when merged."""
        return self._stderr.text()

    def output_tail(self) -> str:
        """The last `tail` characters of stderr (of stdout when merged), "..." first if cut."""
        kept = self._stdout if self.merge_stderr else self._stderr
        text = kept.text()
        if len(text) > self._tail:
            return "..." + text[-self._tail :]
        return "..." + text if kept.cut else text

    def exit_status(self) -> str | None:
        """How it ended ("rc=1", "signal 9"), or None while it runs (or before `start`).

        Read without reaping it, so that `stop` can still signal its process group safely.
        """
        process = self._process
        if process is None:
            return self._final_status
        if process.returncode is not None:
            return _describe(process.returncode)
        try:
            status = os.waitid(os.P_PID, process.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        except ChildProcessError:
            return "rc unknown"
        if status is None:
            return None
        if status.si_code == os.CLD_EXITED:
            return f"rc={status.si_status}"
        return f"signal {status.si_status}"

    # -- reader threads ------------------------------------------------------------------------

    def _read_stdout(self, stream: IO[bytes]) -> None:
        for raw in iter(lambda: stream.readline(_LINE_LIMIT), b""):
            line = raw.decode(errors="replace")
            if not self._settled and self._is_ready_line(line):
                continue
            self._stdout.append(line)
        stream.close()
        with self._changed:
            self._stdout_closed = True
            self._changed.notify_all()

    def _is_ready_line(self, line: str) -> bool:
        try:
            value = self.ready(line)
        except Exception as error:  # this thread must go on draining, whatever `ready` does
            problem = str(error) if isinstance(error, ValueError) else repr(error)
            value = None
        else:
            if value is None:
                return False
            problem = None
        with self._changed:
            self.ready_value = value
            self._problem = problem
            self._settled = True
            self._changed.notify_all()
        return problem is None

    def _read_stderr(self, stream: IO[bytes]) -> None:
        for raw in iter(lambda: stream.readline(_LINE_LIMIT), b""):
            self._stderr.append(raw.decode(errors="replace"))
        stream.close()

    def _watch_exit(self, pidfd: int) -> None:
        # The pidfd turns readable when the leader exits, reaped or not: no polling.
        try:
            _wait_readable(pidfd, None)
        finally:
            os.close(pidfd)
        with self._changed:
            self._exited = True
            self._changed.notify_all()


def _describe(returncode: int | None) -> str | None:
    if returncode is None:
        return None
    return f"signal {-returncode}" if returncode < 0 else f"rc={returncode}"


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
    # SIGKILL is delivered, not yet acted on: a member may run on for a moment on a busy
    # machine. Return only once none is left alive, so "stopped" means stopped.
    wait_group_dead(process.pid, _KILLED_WITHIN)
    process.wait()


def live_group_members(pgid: int) -> list[int]:
    """The pids of process group `pgid` that are alive (zombies are dead), from /proc; empty
    where there is no /proc. proc(5): after ")" in /proc/PID/stat come state, ppid, pgrp."""
    members = []
    for entry in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = entry.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):  # gone meanwhile
            continue
        if int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
            members.append(int(entry.parent.name))
    return members


def wait_group_dead(pgid: int, timeout: float) -> bool:
    """Wait up to `timeout` for every member of group `pgid` to die; False if some still live."""
    deadline = time.monotonic() + timeout
    while live_group_members(pgid):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.005)
    return True


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
        _wait_readable(pidfd, timeout)
    finally:
        os.close(pidfd)


def _wait_readable(fd: int, timeout: float | None) -> None:
    # poll, not select: select refuses a descriptor numbered 1024 or more.
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    poller.poll(None if timeout is None else max(0, round(timeout * 1000)))
