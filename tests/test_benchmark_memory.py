"""The benchmarks' memory sampler counts every descendant, whichever thread started it."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

BENCHMARK = Path(__file__).resolve().parent.parent / "benchmarks" / "offline_preview.py"
_spec = importlib.util.spec_from_file_location("offline_preview", BENCHMARK)
offline_preview = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(offline_preview)
TreeMemory = offline_preview.TreeMemory

# Touches 64 MiB so that it is resident, says so, and waits for its stdin to close.
HOLD_64_MIB = (
    "import sys; b = bytearray(64 << 20); b[::4096] = b'x' * (16 << 10); "
    "print('ready', flush=True); sys.stdin.read()"
)


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads /proc (Linux)")
def test_a_child_started_by_another_thread_is_in_the_tree():
    started: list[subprocess.Popen[str]] = []
    checked = threading.Event()
    ready = threading.Event()

    def start() -> None:
        started.append(
            subprocess.Popen(
                [sys.executable, "-c", HOLD_64_MIB],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
        )
        ready.set()
        checked.wait()  # alive while checked: when a thread ends, its children move to another

    thread = threading.Thread(target=start)
    thread.start()
    ready.wait()
    (child,) = started
    try:
        assert child.stdout.readline() == "ready\n"
        sampler = TreeMemory()
        child_kib = sampler._tree_rss(child.pid)
        assert child_kib > 64 << 10
        assert child.pid in TreeMemory._children(os.getpid())
        assert sampler._tree_rss(os.getpid()) > child_kib
    finally:
        checked.set()
        thread.join()
        child.stdin.close()
        child.wait(timeout=30)
