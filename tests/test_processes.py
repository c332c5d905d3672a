"""HelperProcess starts a child in its own group, knows when it is ready, drains it, stops it.

Every child here is a few lines of Python (or sh) that blocks until it is stopped; no test
sleeps: each waits for the child's own signal (a line, an exit) or for a short timeout.
"""

from __future__ import annotations

import os
import re
import select
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from enroll.util import processes
from enroll.util.processes import (
    HelperProcess,
    HelperStartError,
    LineMatching,
    PortOnFirstLine,
    live_group_members,
    wait_group_dead,
)

BLOCK = "signal.pause()"  # until a signal ends it


def python(*lines: str) -> list[str]:
    return [sys.executable, "-c", "import os, signal, subprocess, sys\n" + "\n".join(lines)]


def gone(pid: int) -> bool:
    """Dead: no such process, or a zombie waiting for its (foreign) parent to reap it."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] == "Z"


def tagged_env() -> tuple[dict[str, str], str]:
    """Our environment plus a token every process the helper starts inherits."""
    token = f"ORG_LOGGING_TEST_HELPER={uuid.uuid4().hex}"
    name, _, value = token.partition("=")
    return {**os.environ, name: value}, token


def alive_with(token: str) -> list[int]:
    """The live processes whose environment holds `token`, found whenever they started."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:  # gone meanwhile, or not ours
            continue
        if token.encode() in environ.split(b"\0") and not gone(int(entry.name)):
            found.append(int(entry.name))
    return found


# -- readiness --------------------------------------------------------------------------------


def test_ready_when_the_first_line_is_a_port_and_stopped_on_leaving():
    helper = HelperProcess(python("print(4242, flush=True)", BLOCK), PortOnFirstLine())
    with helper:
        assert helper.ready_value == 4242
        pid = helper.pid
        assert pid is not None and not gone(pid)
        assert helper.exit_status() is None
    assert helper.pid is None
    assert gone(pid)
    assert helper.exit_status() == "signal 15"  # SIGTERM, the default first signal
    assert helper.stdout == ""  # the port line is not output
    helper.stop()  # a second stop is harmless


def test_a_first_line_that_is_not_a_port_fails_the_start_naming_the_line():
    helper = HelperProcess(
        python("print('pid', os.getpid(), flush=True)", BLOCK),
        PortOnFirstLine(hint="a print() at import time causes this"),
        name="the pack",
    )
    with pytest.raises(HelperStartError) as raised:
        helper.start()
    problem = raised.value.problem
    assert re.fullmatch(
        r"wrote 'pid \d+' where its port belongs "
        r"\(the first stdout line; a print\(\) at import time causes this\)",
        problem,
    )
    assert str(raised.value) == f"the pack {problem}\n(nothing on stderr)"
    assert gone(int(problem.split()[2].strip("'")))  # stopped, not left running


def test_ready_at_the_first_line_the_pattern_matches_with_stderr_merged():
    helper = HelperProcess(
        python(
            "print('starting', file=sys.stderr, flush=True)",
            "print(' * Running on http://127.0.0.1:5123 (CTRL+C to quit)', flush=True)",
            BLOCK,
        ),
        LineMatching(r"Running on (http://127\.0\.0\.1:\d+)"),
        merge_stderr=True,
    )
    with helper as started:
        assert started.ready_value is not None
        assert started.ready_value[1] == "http://127.0.0.1:5123"
        assert started.stdout == "starting\n"  # stderr went to stdout; the ready line is not kept
        assert started.stderr == ""


def test_lines_before_the_pattern_matches_do_not_make_it_ready():
    helper = HelperProcess(
        python("print('ready soon', flush=True)", "print('READY 7', flush=True)", BLOCK),
        LineMatching(r"READY (\d+)"),
    )
    with helper:
        assert helper.ready_value is not None and helper.ready_value[1] == "7"
        assert helper.stdout == "ready soon\n"


def test_a_child_that_exits_before_ready_gives_its_exit_status_and_stderr_tail():
    env, token = tagged_env()
    helper = HelperProcess(
        python(
            "sys.stderr.write('x' * 5000 + '\\nTraceback: no config\\n')",
            "sys.exit(3)",
        ),
        PortOnFirstLine(),
        name="the helper",
        env=env,
        tail=40,
    )
    with pytest.raises(HelperStartError) as raised:
        helper.start()
    error = raised.value
    assert error.problem == "exited (rc=3) before printing its port"
    assert error.output_tail.endswith("xxxx\nTraceback: no config\n")
    assert error.output_tail.startswith("...") and len(error.output_tail) == 3 + 40
    assert str(error) == f"the helper {error.problem}\nstderr:\n{error.output_tail.rstrip()}"
    assert helper.exit_status() == "rc=3"
    assert alive_with(token) == []


def test_an_exit_is_seen_even_when_a_process_it_left_holds_stdout_open():
    env, token = tagged_env()
    helper = HelperProcess(
        python(
            # The grandchild inherits stdout: no end of file until it dies too.
            f"subprocess.Popen([sys.executable, '-c', 'import signal; {BLOCK}'])",
            "sys.exit(2)",
        ),
        PortOnFirstLine(),
        env=env,
        startup_timeout=60,
    )
    with pytest.raises(HelperStartError, match=r"exited \(rc=2\) before printing its port"):
        helper.start()
    assert alive_with(token) == []  # the grandchild went with it


def test_a_child_that_never_gets_ready_times_out_and_is_stopped():
    env, token = tagged_env()
    helper = HelperProcess(
        python("print('working on it', flush=True)", BLOCK),
        LineMatching("never printed", what="'never printed' line"),
        name="the slow helper",
        env=env,
        startup_timeout=0.5,
    )
    with pytest.raises(HelperStartError) as raised:
        helper.start()
    assert raised.value.problem == "printed no 'never printed' line within 0.5s"
    assert str(raised.value).startswith("the slow helper printed no 'never printed' line")
    assert alive_with(token) == []


def test_a_helper_starts_once():
    helper = HelperProcess(python("print(1, flush=True)", BLOCK), PortOnFirstLine())
    with helper, pytest.raises(RuntimeError, match="started already"):
        helper.start()


# -- stopping ---------------------------------------------------------------------------------


def with_a_child(*first: str) -> tuple[HelperProcess[re.Match[str]], int, int]:
    """A started helper that runs `first`, then starts a child that blocks; its pid, the
    child's."""
    helper = HelperProcess(
        python(
            *first,
            f"child = subprocess.Popen([sys.executable, '-c', 'import signal; {BLOCK}'])",
            "print(os.getpid(), child.pid, flush=True)",
            BLOCK,
        ),
        LineMatching(r"(\d+) (\d+)"),
    )
    match = helper.start()
    return helper, int(match[1]), int(match[2])


def test_stop_kills_the_whole_group_including_a_grandchild_that_ignores_the_first_signal():
    helper, leader, grandchild = with_a_child(
        "signal.signal(signal.SIGTERM, signal.SIG_IGN)"  # the grandchild inherits it
    )
    assert leader == helper.pid and not gone(grandchild)
    grandchild_exit = os.pidfd_open(grandchild)  # readable once it has exited, reaped or not

    helper.stop(signal.SIGTERM, grace=0.2)
    assert gone(leader)
    # stop returns only once the group is dead: no wait here, on however busy a machine.
    try:
        assert select.select([grandchild_exit], [], [], 0)[0], "the grandchild outlived stop"
    finally:
        os.close(grandchild_exit)
    assert gone(grandchild)
    assert helper.exit_status() == "signal 9"  # SIGTERM was ignored: SIGKILL after the grace


def test_the_group_members_alive_are_found_and_waited_for_until_dead():
    helper, leader, child = with_a_child()
    try:
        assert sorted(live_group_members(leader)) == sorted([leader, child])
        assert wait_group_dead(leader, 0.05) is False  # both still run
        os.kill(child, signal.SIGKILL)
        os.kill(leader, signal.SIGKILL)
        assert wait_group_dead(leader, 10) is True  # the leader, a zombie until reaped, is dead
        assert live_group_members(leader) == []
    finally:
        helper.stop(grace=0)


def test_stop_waits_for_the_group_to_die_before_reaping_the_leader(monkeypatch):
    # Reaping the leader first would free its pid, and so the group id we wait on, for reuse.
    seen = []
    real = processes.wait_group_dead

    def recording(pgid, timeout):
        dead = real(pgid, timeout)
        seen.append((pgid, dead, process.returncode))  # returncode None: not reaped yet
        return dead

    monkeypatch.setattr(processes, "wait_group_dead", recording)
    process = subprocess.Popen(python(BLOCK), start_new_session=True, stdout=subprocess.DEVNULL)
    processes.stop_process_group(process, signal.SIGTERM, grace=5)
    assert seen == [(process.pid, True, None)]
    assert process.returncode == -signal.SIGTERM


def test_output_after_readiness_is_captured_up_to_the_end():
    helper = HelperProcess(
        python(
            "def bye(*_):",
            "    print('stopping', flush=True)",
            "    print('bye', file=sys.stderr, flush=True)",
            "    sys.exit(0)",
            "signal.signal(signal.SIGTERM, bye)",
            # One write: the line after the port is in the pipe before the port is read.
            "sys.stdout.write('4242\\nafter ready\\n')",
            "sys.stdout.flush()",
            BLOCK,
        ),
        PortOnFirstLine(),
    )
    with helper:
        assert helper.ready_value == 4242
    assert helper.stdout == "after ready\nstopping\n"
    assert helper.stderr == "bye\n"
    assert helper.exit_status() == "rc=0"


def test_a_chatty_child_writing_megabytes_never_blocks():
    line = "y" * 999 + "\n"
    helper = HelperProcess(
        python(
            # 4 MB on each stream before it is ready, and a 1 MB line with no newline: unread,
            # a pipe fills at 64 KB and the child never gets to its ready line.
            f"for i in range(4096): sys.stdout.write({line!r}); sys.stderr.write({line!r})",
            "sys.stderr.write('z' * 1_000_000)",
            "sys.stdout.write('ready\\n')",
            "sys.stdout.flush()",
            BLOCK,
        ),
        LineMatching(r"^ready$"),
        keep=100_000,
        startup_timeout=30,
    )
    with helper:
        assert helper.ready_value is not None
        assert helper.stdout.endswith(line)  # kept: the end, whole lines, bounded
        assert 100_000 - len(line) < len(helper.stdout) <= 100_000
    assert helper.stderr.endswith("z" * 1000)
    assert len(helper.stderr) <= 100_000
