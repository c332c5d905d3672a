"""The run ledger: whole lines, fsynced, readable after a kill, resume-relevant queries."""

from __future__ import annotations

import json
import os
import stat
import threading
from pathlib import Path

import pytest

from enroll.org.model import PlannedStack, StackResult, Violation
from enroll.run.ledger import Ledger, fingerprint, program_files
from enroll.util.paths import PROJECT_DIR


def planned(name: str = "source-1", **config) -> PlannedStack:
    base = {"org-logging:role": "source", "aws:region": "eu-west-1", "org-logging:regions": ["a"]}
    return PlannedStack(name, "source", "333333333333", "eu-west-1", {**base, **config})


def result(stack: PlannedStack, status="passed", **fields) -> StackResult:
    return StackResult.for_stack(stack, status, **fields)


@pytest.fixture
def ledger(tmp_path: Path) -> Ledger:
    return Ledger(tmp_path / "state" / "ledger.jsonl")


def test_a_record_is_one_json_line_with_the_documented_keys(ledger):
    stack = planned()
    outcome = result(stack, resources=4, changes={"create": 4})
    ledger.record("run-1", "up", stack, outcome)

    (line,) = ledger.path.read_text().splitlines()
    record = json.loads(line)
    assert list(record) == ["runId", "action", "stack", "fingerprint", "status", "result", "at"]
    assert record["runId"] == "run-1"
    assert record["stack"] == "source-1"
    assert record["fingerprint"] == fingerprint(stack)
    assert record["status"] == "passed"
    assert record["result"] == outcome.to_json()
    assert record["at"].endswith("+00:00")


def test_completed_returns_passed_stacks_with_fingerprint_and_result(ledger):
    passed, failed = planned("a"), planned("b")
    ledger.record("run-1", "up", passed, result(passed, resources=2))
    ledger.record("run-1", "up", failed, result(failed, "failed", error="denied"))

    done = ledger.completed("up")
    assert list(done) == ["a"]
    assert done["a"] == (fingerprint(passed), result(passed, resources=2).to_json())
    assert ledger.completed("preview") == {}


def test_a_pass_with_a_mandatory_violation_is_not_completed_so_resume_reruns_it(ledger):
    """The orchestrator blocks on such a stack; resume must not skip it forever."""
    stack = planned()
    violation = Violation("scp-presence", "mandatory", "no deny-leave SCP", "urn:x")
    ledger.record("run-1", "up", stack, result(stack, violations=[violation]))
    assert ledger.completed("up") == {}
    advisory = Violation("scp-presence", "advisory", "note", "urn:x")
    ledger.record("run-2", "up", stack, result(stack, violations=[advisory]))
    assert list(ledger.completed("up")) == ["source-1"]


def test_the_latest_record_of_a_stack_wins(ledger):
    stack = planned()
    ledger.record("run-1", "up", stack, result(stack))
    ledger.record("run-2", "up", stack, result(stack, "error", error="throttled"))
    assert ledger.completed("up") == {}
    ledger.record("run-3", "up", stack, result(stack))
    assert list(ledger.completed("up")) == ["source-1"]


def test_a_later_destroy_makes_an_up_pass_stale_and_the_reverse(ledger):
    stack = planned()
    ledger.record("run-1", "up", stack, result(stack))
    ledger.record("run-2", "destroy", stack, result(stack, "failed", error="in use"))
    assert ledger.completed("up") == {}
    ledger.record("run-3", "destroy", stack, result(stack))
    assert list(ledger.completed("destroy")) == ["source-1"]
    ledger.record("run-4", "up", stack, result(stack))
    assert ledger.completed("destroy") == {}
    ledger.record("run-5", "preview", stack, result(stack))
    assert list(ledger.completed("up")) == ["source-1"]  # a preview changes nothing


def test_a_missing_ledger_is_empty(ledger):
    assert ledger.completed("up") == {}
    assert ledger.last_run_id("up") is None
    assert list(ledger.records()) == []


def test_a_torn_last_line_is_skipped_and_the_next_record_stays_whole(ledger):
    a, b = planned("a"), planned("b")
    ledger.record("run-1", "up", a, result(a))
    with open(ledger.path, "ab") as file:
        file.write(b'{"runId":"run-1","action":"up","stack":"b","fingerp')  # killed mid-write

    assert list(ledger.completed("up")) == ["a"]
    ledger.record("run-2", "up", b, result(b))
    assert sorted(ledger.completed("up")) == ["a", "b"]
    assert ledger.path.read_bytes().endswith(b"\n")


@pytest.mark.parametrize(
    "garbage",
    [
        b"not json at all",
        b"\xff\xfe\x00 binary",
        b"[1, 2, 3]",
        b'"a string"',
        b"{}",
        b'{"runId":"r","action":"up","stack":"x","fingerprint":"f","status":"passed",'
        b'"result":{"name":"x"},"at":"t"}',
        b'{"runId":"r","action":"up","stack":"x","fingerprint":"f","status":"maybe",'
        b'"result":{"name":"x","role":"source","accountId":"1","region":"r","status":"maybe"},'
        b'"at":"t"}',
        b'{"runId":"r","action":"up","stack":"y","fingerprint":"f","status":"passed",'
        b'"result":{"name":"x","role":"source","accountId":"1","region":"r","status":"passed"},'
        b'"at":"t"}',
        b'{"runId":7,"action":"up","stack":"x","fingerprint":"f","status":"passed",'
        b'"result":{"name":"x","role":"source","accountId":"1","region":"r","status":"passed"},'
        b'"at":"t"}',
    ],
)
def test_garbage_lines_are_skipped(ledger, garbage):
    a = planned("a")
    ledger.record("run-1", "up", a, result(a))
    with open(ledger.path, "ab") as file:
        file.write(garbage + b"\n\n")
    b = planned("b")
    ledger.record("run-2", "up", b, result(b))
    assert sorted(ledger.completed("up")) == ["a", "b"]
    assert [r["stack"] for r in ledger.records()] == ["a", "b"]


def test_last_run_id_is_the_latest_run_of_that_action(ledger):
    stack = planned()
    ledger.record("run-1", "up", stack, result(stack))
    ledger.record("run-2", "preview", stack, result(stack))
    ledger.record("run-3", "up", stack, result(stack, "failed"))
    assert ledger.last_run_id("up") == "run-3"
    assert ledger.last_run_id("preview") == "run-2"
    assert ledger.last_run_id("destroy") is None


def test_records_from_many_threads_are_all_whole_lines(ledger):
    long_error = "x" * 20_000  # larger than any write buffer
    stacks = [planned(f"s{i}") for i in range(16)]

    def write(stack: PlannedStack) -> None:
        for run in range(25):
            ledger.record(f"run-{run}", "up", stack, result(stack, "error", error=long_error))

    threads = [threading.Thread(target=write, args=(stack,)) for stack in stacks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    lines = ledger.path.read_bytes().split(b"\n")
    assert lines[-1] == b""
    assert len(lines) - 1 == 16 * 25
    assert all(json.loads(line)["result"]["error"] == long_error for line in lines[:-1])


def test_every_record_is_fsynced(ledger, monkeypatch):
    synced: list[int] = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (synced.append(fd), real_fsync(fd)))
    stack = planned()
    ledger.record("run-1", "up", stack, result(stack))
    ledger.record("run-1", "up", stack, result(stack))
    assert len(synced) >= 2  # each line (and the new file's directory once)


def test_the_fingerprint_ignores_key_order_and_sees_every_value():
    one = planned(**{"org-logging:a": 1, "org-logging:b": [1, 2]})
    reordered = PlannedStack(
        one.name, one.role, one.account_id, one.region, dict(reversed(list(one.config.items())))
    )
    assert fingerprint(one) == fingerprint(reordered)
    assert fingerprint(one) != fingerprint(planned(**{"org-logging:a": 1, "org-logging:b": [2, 1]}))
    assert fingerprint(one) != fingerprint(
        planned(**{"org-logging:a": "1", "org-logging:b": [1, 2]})
    )
    assert len(fingerprint(one)) == 64


def test_result_from_json_inverts_to_json():
    stack = planned()
    original = result(
        stack,
        "failed",
        resources=7,
        violations=[Violation("p", "mandatory", "bad", "urn:x")],
        error="policy violated",
        changes={"create": 2, "same": 5},
    )
    assert StackResult.from_json(original.to_json()) == original


def test_a_changed_program_changes_every_fingerprint(tmp_path):
    from enroll.run.ledger import program_digest

    (tmp_path / "components").mkdir()
    (tmp_path / "Pulumi.yaml").write_text("name: org-logging\n")
    (tmp_path / "components" / "naming.py").write_text("PREFIX = 'a'\n")
    before = program_digest.__wrapped__(tmp_path)
    (tmp_path / "components" / "naming.py").write_text("PREFIX = 'b'\n")
    assert program_digest.__wrapped__(tmp_path) != before


def test_the_program_digest_covers_every_program_module_subpackages_included():
    covered = {path.relative_to(PROJECT_DIR).as_posix() for path in program_files()}
    program = {
        path.relative_to(PROJECT_DIR).as_posix()
        for path in (PROJECT_DIR / "components").rglob("*.py")
    }
    assert program <= covered
    assert "components/documents/scp.py" in covered


def test_the_fingerprint_hashes_the_config_as_compact_sorted_json_and_the_program():
    import hashlib

    from enroll.run.ledger import program_digest

    stack = PlannedStack("s", "source", "333333333333", "eu-west-1", {"b": [1, 2], "a": "x"})
    canonical = '{"a":"x","b":[1,2]}'  # sorted keys, no whitespace
    expected = hashlib.sha256((canonical + program_digest()).encode()).hexdigest()
    assert fingerprint(stack) == expected


def test_a_record_is_compact_json(ledger):
    stack = planned()
    ledger.record("run-1", "up", stack, result(stack))
    line = ledger.path.read_text()
    assert line.startswith('{"runId":"run-1","action":"up","stack":"source-1","fingerprint":"')
    assert line.endswith("\n") and ", " not in line and '": ' not in line


def test_the_ledger_creates_missing_directories_and_a_new_file_in_an_existing_one(tmp_path):
    stack = planned()
    nested = Ledger(tmp_path / "a" / "b" / "c" / "ledger.jsonl")
    nested.record("run-1", "up", stack, result(stack))
    existing = Ledger(tmp_path / "ledger.jsonl")  # its directory is already there
    existing.record("run-1", "up", stack, result(stack))
    assert [r["runId"] for r in nested.records()] == ["run-1"]
    assert [r["runId"] for r in existing.records()] == ["run-1"]


def test_a_result_without_resources_violations_or_changes_reads_as_none_of_them():
    read = StackResult.from_json(
        {"name": "s", "role": "source", "accountId": "1", "region": "r", "status": "passed"}
    )
    assert (read.resources, read.violations, read.changes, read.error) == (0, [], {}, None)


def test_a_record_whose_result_cannot_be_read_is_skipped(ledger):
    stack = planned()
    ledger.record("run-1", "up", stack, result(stack))
    record = json.loads(ledger.path.read_text())
    record["result"]["resources"] = "many"  # int() refuses it
    with ledger.path.open("a") as file:
        file.write(json.dumps(record) + "\n")
    assert len(list(ledger.records())) == 1


@pytest.mark.parametrize("cached", [True, False])
def test_a_cached_result_reads_back_as_cached_and_a_run_one_as_run(cached):
    original = result(planned(), "passed", resources=3, cached=cached)
    record = original.to_json()
    assert ("cached" in record) is cached
    assert StackResult.from_json(record).cached is cached
    assert StackResult.from_json(record) == original


# --- group commit ------------------------------------------------------------------------

WAIT = 10  # seconds an Event may take before a test calls it a deadlock


class FileFsyncs:
    """os.fsync that counts the fsyncs of regular files, can hold the first one until released
    and fail the second, and remembers the file size each one made durable."""

    def __init__(self, monkeypatch, *, hold_first: bool = False, fail_second: bool = False):
        self.real = os.fsync
        self.hold_first = hold_first
        self.fail_second = fail_second
        self.entered = threading.Event()
        self.release = threading.Event()
        self.durable: list[int] = []  # file size after each fsync of the ledger
        self.directories = 0
        self.lock = threading.Lock()
        monkeypatch.setattr(os, "fsync", self)

    @property
    def files(self) -> int:
        return len(self.durable)

    def __call__(self, fd: int) -> None:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            self.directories += 1
            return self.real(fd)
        with self.lock:
            count = len(self.durable) + 1
        if count == 1 and self.hold_first:
            self.entered.set()
            assert self.release.wait(WAIT), "the held fsync was never released"
        if count == 2 and self.fail_second:
            with self.lock:
                self.durable.append(-1)
            raise OSError(5, "Input/output error")
        self.real(fd)
        with self.lock:
            self.durable.append(os.fstat(fd).st_size)


def waiting(ledger: Ledger) -> threading.Semaphore:
    """Released once each time a record starts waiting for a commit under way."""
    waits = threading.Semaphore(0)
    real_wait = ledger._committed.wait

    def wait(timeout=None):
        waits.release()
        return real_wait(timeout)

    ledger._committed.wait = wait
    return waits


class Recording(threading.Thread):
    """One `record` on its own (daemon) thread; keeps what it raised."""

    def __init__(self, ledger: Ledger, name: str, run_id: str = "run-1"):
        super().__init__(daemon=True)
        self.ledger, self.stack, self.run_id = ledger, planned(name), run_id
        self.error: BaseException | None = None
        self.start()

    def run(self) -> None:
        try:
            self.ledger.record(self.run_id, "up", self.stack, result(self.stack))
        except BaseException as exc:
            self.error = exc

    def finish(self) -> BaseException | None:
        self.join(WAIT)
        assert not self.is_alive(), f"record of {self.stack.name} never returned"
        return self.error


def held_commit(ledger: Ledger, fsyncs: FileFsyncs, followers: int) -> tuple[Recording, list]:
    """`a` commits alone and is held in its fsync; `followers` records queue meanwhile and wait."""
    waits = waiting(ledger)
    leader = Recording(ledger, "a")
    assert fsyncs.entered.wait(WAIT), "the first record never reached its fsync"
    queued = [Recording(ledger, f"s{i}") for i in range(followers)]
    for _ in queued:
        assert waits.acquire(timeout=WAIT), "a record did not wait for the commit under way"
    assert fsyncs.files == 0
    return leader, queued


def test_records_that_arrive_during_a_commit_share_the_next_fsync(ledger, monkeypatch):
    first = planned("first")
    ledger.record("run-0", "up", first, result(first))  # the file and its directory exist
    fsyncs = FileFsyncs(monkeypatch, hold_first=True)
    leader, queued = held_commit(ledger, fsyncs, followers=5)

    fsyncs.release.set()
    assert [r.finish() for r in [leader, *queued]] == [None] * 6
    assert fsyncs.files == 2  # a's own, then one for the five that queued while it ran
    assert fsyncs.directories == 0
    names = [r["stack"] for r in ledger.records()]
    assert names[:2] == ["first", "a"]
    assert sorted(names[2:]) == [f"s{i}" for i in range(5)]
    assert fsyncs.durable[-1] == ledger.path.stat().st_size


def test_no_record_returns_before_an_fsync_covers_its_line(ledger, monkeypatch):
    fsyncs = FileFsyncs(monkeypatch)
    start = threading.Barrier(8)
    covered: dict[tuple[str, str], int] = {}  # (stack, run) -> durable size when it returned

    def write(name: str) -> None:
        stack = planned(name)
        start.wait(WAIT)
        for run in range(20):
            ledger.record(f"run-{run}", "up", stack, result(stack))
            with fsyncs.lock:
                covered[(name, f"run-{run}")] = max(fsyncs.durable)

    threads = [threading.Thread(target=write, args=(f"s{i}",), daemon=True) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT)
        assert not thread.is_alive()

    end = 0
    for line in ledger.path.read_bytes().splitlines(keepends=True):
        end += len(line)
        record = json.loads(line)
        assert end <= covered.pop((record["stack"], record["runId"]))
    assert covered == {}
    assert fsyncs.files <= 8 * 20


def test_a_failed_commit_fails_every_record_of_its_batch_and_the_next_one_commits(
    ledger, monkeypatch
):
    first = planned("first")
    ledger.record("run-0", "up", first, result(first))
    fsyncs = FileFsyncs(monkeypatch, hold_first=True, fail_second=True)
    leader, queued = held_commit(ledger, fsyncs, followers=3)

    fsyncs.release.set()
    assert leader.finish() is None
    errors = [r.finish() for r in queued]
    assert all(isinstance(e, OSError) and e.errno == 5 for e in errors)
    assert fsyncs.files == 2

    after = planned("after")
    ledger.record("run-2", "up", after, result(after))  # the failure left no commit stuck
    assert fsyncs.files == 3 and fsyncs.durable[-1] == ledger.path.stat().st_size
    assert "after" in ledger.completed("up")


def test_a_write_cut_short_fails_the_batch_and_the_next_record_repairs_the_torn_line(
    ledger, monkeypatch
):
    a, b, c = planned("a"), planned("b"), planned("c")
    ledger.record("run-1", "up", a, result(a))
    real_write = os.write
    calls = []

    def short_write(fd, data):
        calls.append(len(data))
        if len(calls) == 1:
            return real_write(fd, bytes(data[: len(data) // 2]))
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "write", short_write)
    with pytest.raises(OSError, match="No space left"):
        ledger.record("run-1", "up", b, result(b))
    monkeypatch.setattr(os, "write", real_write)
    assert not ledger.path.read_bytes().endswith(b"\n")
    assert [r["stack"] for r in ledger.records()] == ["a"]

    ledger.record("run-1", "up", c, result(c))
    assert [r["stack"] for r in ledger.records()] == ["a", "c"]
    lines = ledger.path.read_bytes().split(b"\n")
    assert len(lines) == 4 and lines[-1] == b""  # a, the torn half of b, c


def test_a_write_is_retried_until_the_whole_batch_is_written(ledger, monkeypatch):
    real_write = os.write
    monkeypatch.setattr(os, "write", lambda fd, data: real_write(fd, bytes(data[:7])))
    stack = planned()
    ledger.record("run-1", "up", stack, result(stack))
    assert [r["stack"] for r in ledger.records()] == ["source-1"]


def test_a_kill_anywhere_in_a_batch_leaves_whole_lines_then_a_torn_one_the_next_record_ends(
    tmp_path,
):
    """A batch is one write of its lines, so a kill leaves any prefix of them: cut there."""
    stacks = [planned(name) for name in ("a", "b", "c")]
    whole = Ledger(tmp_path / "whole.jsonl")
    for stack in stacks:
        whole.record("run-1", "up", stack, result(stack))
    data = whole.path.read_bytes()
    ends = [i + 1 for i, byte in enumerate(data) if byte == ord("\n")]
    cuts = sorted({1, 2, *range(3, len(data), 11), *(e + d for e in ends for d in (-1, 0, 1))})
    after = planned("after")
    for cut in (c for c in cuts if 0 < c < len(data)):
        killed = Ledger(tmp_path / f"killed-{cut}.jsonl")
        killed.path.write_bytes(data[:cut])
        # a line cut just before its newline is whole JSON still: it reads, and is then ended
        survivors = [s.name for s, end in zip(stacks, ends, strict=True) if end - 1 <= cut]
        assert [r["stack"] for r in killed.records()] == survivors
        killed.record("run-2", "up", after, result(after))
        assert [r["stack"] for r in killed.records()] == [*survivors, "after"]
        assert killed.path.read_bytes().endswith(b"\n")


def test_the_directory_of_a_new_ledger_is_made_and_fsynced_once(tmp_path, monkeypatch):
    fsyncs = FileFsyncs(monkeypatch)
    ledger = Ledger(tmp_path / "a" / "b" / "ledger.jsonl")
    stack = planned()
    ledger.record("run-1", "up", stack, result(stack))
    assert (fsyncs.files, fsyncs.directories) == (1, 1)
    ledger.record("run-2", "up", stack, result(stack))
    assert (fsyncs.files, fsyncs.directories) == (2, 1)


def test_a_new_ledger_file_gets_the_usual_permissions(ledger):
    umask = os.umask(0o022)
    try:
        stack = planned()
        ledger.record("run-1", "up", stack, result(stack))
    finally:
        os.umask(umask)
    assert stat.S_IMODE(ledger.path.stat().st_mode) == 0o644
