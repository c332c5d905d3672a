"""Progress for long work: a bar on a terminal; without one (CI, nohup), where a bar would print
nothing until the end, lines, and a heartbeat line every `heartbeat` seconds while nothing is
said. `up`'s stacks and `coverage`'s listings both show theirs this way."""

from __future__ import annotations

import threading
import time
from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)


class LinesOrBar:
    """The bar or the lines; subclasses say what a line and a heartbeat read."""

    def __init__(
        self, total: int, console: Console, *, heartbeat: float = 30.0, transient: bool = False
    ) -> None:
        self.total = total
        self.console = console
        self.lines = not console.is_terminal
        self.heartbeat = heartbeat
        self._progress = Progress(
            TextColumn("{task.description}", markup=False),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=transient,
        )
        self._task: TaskID | None = None
        self._started = self._last_line = time.monotonic()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._beat: threading.Thread | None = None

    # ---- what subclasses say -------------------------------------------------------------------

    def first_line(self) -> str:
        """Said when the work starts, without a terminal."""
        raise NotImplementedError

    def heartbeat_line(self) -> str:
        """Said every `heartbeat` seconds while nothing else is, without a terminal."""
        raise NotImplementedError

    def description(self) -> str:
        """The bar's label."""
        raise NotImplementedError

    def prefix(self, line: str) -> str:
        return line

    # ---- the machinery -------------------------------------------------------------------------

    def __enter__(self) -> LinesOrBar:
        self._started = self._last_line = time.monotonic()
        if self.lines:
            self.say(self.first_line())
            self._beat = threading.Thread(target=self._heartbeat, name="heartbeat", daemon=True)
            self._beat.start()
        else:
            self._progress.start()
        self._task = self._progress.add_task(self.description(), total=self.total)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._stop.set()
        if self._beat is not None:
            self._beat.join()
        if not self.lines:
            self._progress.stop()

    def advance_to(self, completed: int) -> None:
        if self._task is None:
            raise RuntimeError(f"{type(self).__name__} is used outside its `with` block")
        self._progress.update(self._task, completed=completed, description=self.description())

    def elapsed(self) -> float:
        return time.monotonic() - self._started

    def say(self, line: str) -> None:
        with self._lock:
            self.console.print(self.prefix(line), markup=False, highlight=False, soft_wrap=True)
            self._last_line = time.monotonic()

    def _heartbeat(self) -> None:
        while not self._stop.wait(min(self.heartbeat, 1.0)):
            if time.monotonic() - self._last_line >= self.heartbeat:
                self.say(self.heartbeat_line())
