"""atomic_write replaces a file whole, leaves nothing behind, and lets writers race safely."""

from __future__ import annotations

import os
import stat
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import MEMBER, stack_config

from enroll.org.model import PlannedStack
from enroll.run.automation import AutomationRunner
from enroll.util.files import atomic_write


def race(writers: list[Callable[[], None]], rounds: int = 200) -> list[BaseException]:
    """Run every writer `rounds` times, all at once from one barrier; what they raised."""
    start = threading.Barrier(len(writers))
    errors: list[BaseException] = []

    def run(write: Callable[[], None]) -> None:
        start.wait()
        try:
            for _ in range(rounds):
                write()
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=run, args=(write,)) for write in writers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


def test_the_content_is_replaced_whole_and_nothing_else_is_left(tmp_path):
    path = tmp_path / "settings.json"
    path.write_text("an old, longer content that must not survive in part\n")
    atomic_write(path, "new\n")
    assert path.read_text() == "new\n"
    atomic_write(path, b"\x00bytes\xff")
    assert path.read_bytes() == b"\x00bytes\xff"
    atomic_write(tmp_path / "fresh.txt", "caf\u00e9")
    assert (tmp_path / "fresh.txt").read_bytes() == "caf\u00e9".encode()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fresh.txt", "settings.json"]


def test_a_replaced_file_keeps_its_mode_and_a_new_one_gets_the_usual_mode(tmp_path):
    kept = tmp_path / "kept"
    kept.write_text("x")
    kept.chmod(0o640)
    atomic_write(kept, "y")
    assert stat.S_IMODE(kept.stat().st_mode) == 0o640

    plain, atomic = tmp_path / "plain", tmp_path / "atomic"
    plain.write_text("x")
    atomic_write(atomic, "x")
    assert stat.S_IMODE(atomic.stat().st_mode) == stat.S_IMODE(plain.stat().st_mode)


@pytest.mark.parametrize("failing", ["fsync", "replace"])
def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary_file(
    tmp_path, monkeypatch, failing
):
    path = tmp_path / "report.json"
    path.write_text("old\n")

    def refuse(*args):
        raise OSError("disk full")

    monkeypatch.setattr(f"enroll.util.files.os.{failing}", refuse)
    with pytest.raises(OSError, match="disk full"):
        atomic_write(path, "new\n")
    assert path.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]


def test_two_threads_writing_one_path_never_trip_over_each_other(tmp_path):
    path = tmp_path / "Pulumi.stack.yaml"
    one, two = "one\n" * 1000, "two\n" * 1000
    errors = race([lambda: atomic_write(path, one), lambda: atomic_write(path, two)])
    assert errors == []  # a shared temporary name raises FileNotFoundError here
    assert path.read_text() in (one, two)
    assert [p.name for p in tmp_path.iterdir()] == [path.name]


def test_two_runs_on_one_state_dir_write_a_stacks_config_at_once(tmp_path):
    """The bug: both runs wrote Pulumi.<stack>.tmp and one replaced it from under the other."""
    config = stack_config("source")
    stack = PlannedStack(f"source-{MEMBER}", "source", MEMBER, config["aws:region"], config)
    runs = [AutomationRunner(state_dir=tmp_path), AutomationRunner(state_dir=tmp_path)]
    runs[0].config_dir.mkdir(parents=True)
    errors = race([lambda run=run: run.write_config(stack) for run in runs], rounds=100)
    assert errors == []
    assert [p.name for p in runs[0].config_dir.iterdir()] == [f"Pulumi.{stack.name}.yaml"]


def test_the_temporary_file_is_in_the_target_directory(tmp_path, monkeypatch):
    """os.replace is atomic only within one filesystem: the temporary file sits beside the
    target, not in the system's temporary directory."""
    seen: list[Path] = []
    real_replace = os.replace

    def replace(source, target):
        seen.append(Path(source))
        real_replace(source, target)

    monkeypatch.setattr("enroll.util.files.os.replace", replace)
    (tmp_path / "dir").mkdir()
    atomic_write(tmp_path / "dir" / "file", "x")
    assert [p.parent for p in seen] == [tmp_path / "dir"]
