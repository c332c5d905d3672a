"""After SIGKILL of `preview --offline` or `demo`, no process of ours survives: not the policy
pack, not the render workers, not moto. Nothing can clean up after a SIGKILL, so the children
must die with their parent (PDEATHSIG for the helpers, a parent watch in the workers)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from enroll.demo.emulator import Emulator, fake_credentials, sample_org, sample_settings

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")

WAIT = 60.0


def processes() -> dict[int, tuple[int, str, str]]:
    """pid -> (parent pid, state, command line) of every process."""
    table = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        table[int(entry.name)] = (int(fields[1]), fields[0], cmdline)
    return table


def descendants(pid: int) -> dict[int, str]:
    table = processes()
    found: dict[int, str] = {}
    frontier = [pid]
    while frontier:
        parent = frontier.pop()
        for child, (ppid, _, cmdline) in table.items():
            if ppid == parent and child not in found:
                found[child] = cmdline
                frontier.append(child)
    return found


def alive(pids) -> dict[int, str]:
    table = processes()
    return {pid: table[pid][2] for pid in pids if pid in table and table[pid][1] != "Z"}


def kill_when(process: subprocess.Popen, ready) -> dict[int, str]:
    """SIGKILL `process` once `ready(its descendants)`; return the descendants it had."""
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        children = descendants(process.pid)
        if ready(children):
            process.kill()
            process.wait()
            return children
        assert process.poll() is None, "it ended before its children were all up"
        time.sleep(0.05)
    process.kill()
    process.wait()
    pytest.fail(f"its children never all started: {descendants(process.pid)}")


def assert_all_gone(children: dict[int, str]) -> None:
    deadline = time.monotonic() + 15
    while alive(children) and time.monotonic() < deadline:
        time.sleep(0.1)
    left = alive(children)
    for pid in left:  # do not leave them to the next test
        os.kill(pid, signal.SIGKILL)
    assert not left, f"still running after their parent's SIGKILL: {left}"


def is_pack(cmdline: str) -> bool:
    return "pulumi.policy" in cmdline


def is_worker(cmdline: str) -> bool:
    return "multiprocessing" in cmdline and "spawn_main" in cmdline


@pytest.fixture(scope="module")
def saved_plan(tmp_path_factory) -> Path:
    """A plan of about 150 stacks: long enough to be killed in the middle."""
    directory = tmp_path_factory.mktemp("plan")
    with fake_credentials(), Emulator() as emulator:
        sample = sample_org(emulator, extra_accounts=60)
        settings = directory / "org.yaml"
        settings.write_text(yaml.safe_dump(sample_settings(sample)))
        plan = directory / "plan.json"
        out = subprocess.run(
            [
                sys.executable,
                "-m",
                "stacks",
                "plan",
                "--json",
                "--settings",
                str(settings),
                "--endpoint-url",
                emulator.endpoint_url,
            ],
            capture_output=True,
            text=True,
            check=True,
            timeout=300,
        )
        plan.write_text(out.stdout)
    return plan


def test_sigkill_of_preview_offline_leaves_no_pack_and_no_worker(saved_plan, tmp_path):
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "stacks",
            "preview",
            "--offline",
            "--plan",
            str(saved_plan),
            "--workers",
            "2",
            "--state-dir",
            str(tmp_path / "state"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    children = kill_when(
        process,
        lambda found: (
            any(map(is_pack, found.values())) and sum(map(is_worker, found.values())) >= 2
        ),
    )
    assert_all_gone(children)


def test_sigkill_of_the_demo_leaves_no_emulator_pack_or_worker(tmp_path):
    process = subprocess.Popen(
        [sys.executable, "-m", "stacks", "demo", "--out", str(tmp_path / "demo"), "--workers", "2"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    children = kill_when(
        process,
        lambda found: (
            any("emulator_server" in c for c in found.values())
            and any(map(is_pack, found.values()))
            and sum(map(is_worker, found.values())) >= 1
        ),
    )
    assert_all_gone(children)
