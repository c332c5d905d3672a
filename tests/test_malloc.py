"""Capping glibc's malloc arenas: the process keeps to the cap, and the command line and the
render workers set it before their threads start."""

from __future__ import annotations

import ctypes
import os
import re
import subprocess
import sys
import tempfile
import threading

import pytest

import enroll.cli
from enroll.offline.runner import OfflineRunner, pack_config
from enroll.util.malloc import cap_malloc_arenas

# Eight threads, each allocating blocks too big for Python's small-object allocator (so malloc
# serves them) and kept alive together; then glibc's malloc_stats(3) prints one "Arena N:" block
# per arena to stderr.
THREADS = """
import ctypes, sys, threading
from enroll.util.malloc import cap_malloc_arenas
if sys.argv[1] == "capped":
    assert cap_malloc_arenas(2)
barrier = threading.Barrier(8)
def allocate():
    kept = [bytes(2000) for _ in range(200)]
    barrier.wait()
threads = [threading.Thread(target=allocate) for _ in range(8)]
for thread in threads: thread.start()
for thread in threads: thread.join()
ctypes.CDLL(None).malloc_stats()
"""


def arenas(mode: str) -> int:
    done = subprocess.run(
        [sys.executable, "-c", THREADS, mode], capture_output=True, text=True, check=True
    )
    return len(re.findall(r"^Arena \d+:", done.stderr, re.MULTILINE))


def test_a_capped_process_keeps_to_its_arenas_where_an_uncapped_one_takes_more():
    assert arenas("uncapped") > 2  # the control: glibc's default is up to 8 per core
    assert arenas("capped") == 2


def test_the_cap_must_be_one_or_more_and_the_error_names_the_value():
    with pytest.raises(ValueError, match="arenas must be 1 or more, not 0"):
        cap_malloc_arenas(0)
    assert cap_malloc_arenas(2) is True  # glibc here: mallopt accepted it


class Capped(Exception):
    pass


def test_the_command_line_caps_the_arenas_before_running_a_command(monkeypatch):
    def cap() -> bool:
        raise Capped  # stops main right there: nothing ran before it but argument parsing

    monkeypatch.setattr(enroll.cli, "cap_malloc_arenas", cap)
    with pytest.raises(Capped):
        enroll.cli.main(["plan"])


def arenas_after_eight_threads() -> int:
    """Run in a render worker: the arenas left once eight threads allocated together."""
    barrier = threading.Barrier(8)

    def allocate() -> None:
        kept = [bytes(2000) for _ in range(200)]
        barrier.wait()
        del kept

    threads = [threading.Thread(target=allocate) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with tempfile.TemporaryFile("w+") as stats:
        saved = os.dup(2)
        os.dup2(stats.fileno(), 2)  # malloc_stats(3) writes to the process's stderr
        try:
            ctypes.CDLL(None).malloc_stats()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        stats.seek(0)
        return len(re.findall(r"^Arena \d+:", stats.read(), re.MULTILINE))


def test_a_render_worker_caps_its_arenas_when_it_starts():
    with OfflineRunner(
        org=None, policy_config=pack_config("acme"), workers=1, cross_check_every=0
    ) as runner:
        assert runner._pool is not None
        assert runner._pool.submit(arenas_after_eight_threads).result(timeout=120) == 2
