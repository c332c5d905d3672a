"""One run at a time per state dir: the second gets LockHeld naming the first."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap

import pytest

from enroll.util.lock import LockHeld, exclusive


def test_a_second_run_on_the_same_state_dir_is_refused_naming_the_first(tmp_path):
    with exclusive(tmp_path, "up"), pytest.raises(LockHeld) as refused:  # noqa: SIM117
        with exclusive(tmp_path, "destroy"):
            pytest.fail("two runs held the state dir at once")
    message = str(refused.value)
    assert f"the state dir {tmp_path} is in use by another run (pid {os.getpid()} on " in message
    assert f"on {socket.gethostname()}, `org-logging up`, started 20" in message
    assert message.endswith("wait for it to finish, or give this run another --state-dir")


def test_the_lock_is_free_again_once_the_run_ends(tmp_path):
    with exclusive(tmp_path, "up"):
        pass
    with exclusive(tmp_path, "up"):
        pass


def test_the_lock_is_free_again_once_the_run_ends_with_an_error(tmp_path):
    with pytest.raises(RuntimeError), exclusive(tmp_path, "up"):
        raise RuntimeError("the run failed")
    with exclusive(tmp_path, "up"):
        pass


def test_a_killed_runs_lock_goes_with_its_process(tmp_path):
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                f"""
                import sys, time
                from pathlib import Path
                from enroll.util.lock import exclusive
                with exclusive(Path({str(tmp_path)!r}), "up"):
                    print("held", flush=True)
                    time.sleep(600)
                """
            ),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline() == "held\n"
        with pytest.raises(LockHeld, match=rf"pid {holder.pid} on "), exclusive(tmp_path, "up"):
            pass
    finally:
        holder.kill()
        holder.wait()
        holder.stdout.close()
    with exclusive(tmp_path, "up"):  # SIGKILL released it: no stale lock to clear by hand
        pass
