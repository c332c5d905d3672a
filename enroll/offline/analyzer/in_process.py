"""The policy pack judged in this process: pulumi-policy's own servicer, the same requests.

`AnalyzerClient` launches the pack and speaks gRPC to it, as the engine does. Here the pack's
`__main__.py` runs in this process instead: the `_PolicyAnalyzerServicer` that `PolicyPack`
would have served is kept, and `InProcessAnalyzerClient` hands it the very protobuf requests
`AnalyzerClient` builds, without the socket (about 5 ms per stack instead of 21).

What the socket gave for free is kept on purpose:

* a policy's `print()` went to the pack's stdout, and what it wrote to stderr (`pulumi.log.*`
  too: with no engine to log to, pulumi.log prints there) to the pack's stderr; here each line
  goes to stderr prefixed with the policy and the stack that wrote it, and `stderr` for the
  latter;
* a policy that raised failed the RPC; here it raises `AnalyzerError` naming the policy, the
  stack and the resource, with the traceback.

Like the launched pack, the servicer never reconfigures Pulumi's runtime: the launched pack's
environment has no `PULUMI_*` stack variables (see `client._STACK_ENV`), so it would not either.
"""

from __future__ import annotations

import io
import runpy
import sys
import traceback
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any, TextIO

import pulumi_policy
from pulumi_policy import policy as policy_sdk

from enroll.offline.analyzer.client import DEFAULT_PACK_DIR, AnalyzerClient
from enroll.offline.analyzer.config import load_pack_project
from enroll.offline.analyzer.wire import AnalyzerError

_SERVICER_FILE = policy_sdk.__file__
_JUDGING = ("Analyze", "AnalyzeStack")


class _CapturedPack(Exception):
    def __init__(self, servicer: Any) -> None:
        super().__init__("policy pack captured")
        self.servicer = servicer


def _import_from_pack_dir(pack_dir: Path) -> None:
    """As `python -m pulumi.policy` with cwd = the pack: its top-level modules import by name."""
    if str(pack_dir) not in sys.path:
        sys.path.insert(0, str(pack_dir))


def pack_servicer(
    pack_dir: Path = DEFAULT_PACK_DIR,
    prepare_imports: Callable[[Path], None] = _import_from_pack_dir,
) -> Any:
    """The servicer `PolicyPack(...)` in the pack's `__main__.py` builds, without serving it.

    `prepare_imports` makes the pack's own modules importable; the tests under mutation alias
    them to `policy.*` so each file has one module name.
    """
    prepare_imports(pack_dir)
    original = pulumi_policy.PolicyPack

    class Capture:
        def __init__(self, name: str, policies: list[Any], enforcement_level: Any = None) -> None:
            level = enforcement_level or pulumi_policy.EnforcementLevel.ADVISORY
            raise _CapturedPack(policy_sdk._PolicyAnalyzerServicer(name, "0.0.1", policies, level))

    pulumi_policy.PolicyPack = Capture  # type: ignore[misc,assignment]
    try:
        runpy.run_path(str(pack_dir / "__main__.py"), run_name="__main__")
    except _CapturedPack as captured:
        servicer = captured.servicer
    else:
        raise AnalyzerError(f"{pack_dir / '__main__.py'} built no PolicyPack")
    finally:
        pulumi_policy.PolicyPack = original  # type: ignore[misc]
    servicer._configure_runtime_settings = lambda: None  # see the module doc
    return servicer


# --------------------------------------------------------------------------------------------
# Attribution: which policy is running, from the servicer's own frame
# --------------------------------------------------------------------------------------------


def _policy_of_frame(frame: FrameType | None) -> tuple[str, str] | None:
    """(policy, resource URN or "") if `frame` is the servicer judging one policy."""
    if frame is None or frame.f_code.co_filename != _SERVICER_FILE:
        return None
    if frame.f_code.co_name not in _JUDGING or "policy" not in frame.f_locals:
        return None
    request = frame.f_locals.get("request")
    urn = getattr(request, "urn", "") if frame.f_code.co_name == "Analyze" else ""
    return str(frame.f_locals["policy"].name), urn


def _running_policy() -> tuple[str, str] | None:
    frame: FrameType | None = sys._getframe(1)
    while frame is not None:
        found = _policy_of_frame(frame)
        if found:
            return found
        frame = frame.f_back
    return None


def _crashed_policy(tb: TracebackType | None) -> tuple[str, str] | None:
    found = None
    while tb is not None:
        found = _policy_of_frame(tb.tb_frame) or found
        tb = tb.tb_next
    return found


class _PolicyOutput(io.TextIOBase):
    """stdout or stderr while the pack judges: each line to `sink`, prefixed with its policy and
    stack (and `stream`, for stderr)."""

    def __init__(self, stack: Callable[[], str], sink: TextIO, stream: str = "") -> None:
        self._stack = stack
        self._sink = sink
        self._stream = f" {stream}" if stream else ""
        self._pending: dict[str, str] = {}

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        policy, _ = _running_policy() or ("(the pack)", "")
        lines = (self._pending.pop(policy, "") + text).split("\n")
        for line in lines[:-1]:
            self._emit(policy, line)
        if lines[-1]:
            self._pending[policy] = lines[-1]
        return len(text)

    def flush_pending(self) -> None:
        for policy, line in self._pending.items():
            self._emit(policy, line)
        self._pending.clear()

    def _emit(self, policy: str, line: str) -> None:
        self._sink.write(f"policy {policy} (stack {self._stack()}){self._stream}: {line}\n")
        self._sink.flush()


# --------------------------------------------------------------------------------------------
# The stub `AnalyzerClient` calls, answered by the servicer
# --------------------------------------------------------------------------------------------


class _Method:
    """One RPC: called, or `.future(...)` as `analyze_many` pipelines it."""

    def __init__(self, rpc: str, handler: Any, stub: _Stub) -> None:
        self._rpc = rpc
        self._handler = handler
        self._stub = stub

    def __call__(self, request: Any, timeout: float | None = None) -> Any:
        def stack() -> str:
            return self._stub.stack

        output = _PolicyOutput(stack, self._stub.sink)
        errors = _PolicyOutput(stack, self._stub.sink, "stderr")
        saved = sys.stdout, sys.stderr
        sys.stdout, sys.stderr = output, errors
        try:
            return self._handler(request, None)
        except AnalyzerError:
            raise
        except Exception as error:
            raise self._crash(error) from None
        finally:
            sys.stdout, sys.stderr = saved
            output.flush_pending()
            errors.flush_pending()

    def _crash(self, error: Exception) -> AnalyzerError:
        policy, urn = _crashed_policy(error.__traceback__) or ("(the pack)", "")
        where = f", resource {urn}" if urn else ""
        trace = "".join(traceback.format_exception(error)).rstrip()
        return AnalyzerError(
            f"policy {policy} crashed (stack {self._stub.stack}{where}) in {self._rpc}: "
            f"{type(error).__name__}: {error}\n{trace}"
        )

    def future(self, request: Any, timeout: float | None = None) -> Future:
        done: Future = Future()
        try:
            done.set_result(self(request, timeout))
        except Exception as error:
            done.set_exception(error)
        return done


class _Stub:
    def __init__(self, servicer: Any, sink: TextIO) -> None:
        self._servicer = servicer
        self.sink = sink
        self.stack = "(no stack yet)"

    def __getattr__(self, rpc: str) -> _Method:
        return _Method(rpc, getattr(self._servicer, rpc), self)

    def Handshake(self, request: Any, timeout: float | None = None) -> None:
        return None  # pulumi-policy 1.21 leaves it unimplemented

    def Cancel(self, request: Any, timeout: float | None = None) -> None:
        return None

    def ConfigureStack(self, request: Any, timeout: float | None = None) -> Any:
        self.stack = request.stack
        return _Method("ConfigureStack", self._servicer.ConfigureStack, self)(request)


class InProcessAnalyzerClient(AnalyzerClient):
    """`AnalyzerClient` whose pack is the servicer in this process (see the module doc).

    `prints` receives the policies' attributed output (default: this process's stderr).
    """

    def __init__(
        self,
        pack_dir: str | Path = DEFAULT_PACK_DIR,
        *,
        prepare_imports: Callable[[Path], None] = _import_from_pack_dir,
        prints: TextIO | None = None,
        **options: Any,
    ) -> None:
        super().__init__(pack_dir, **options)
        self._prepare_imports = prepare_imports
        self._prints = prints

    def start(self) -> None:
        if self._started:
            raise AnalyzerError("this client has already started its pack; make a new client")
        self._started = True
        self._pack_version = str(load_pack_project(self.pack_dir).get("version") or "")
        servicer = pack_servicer(self.pack_dir, self._prepare_imports)
        self._stub = _Stub(servicer, self._prints or sys.stderr)  # type: ignore[assignment]
        if self.stack is not None:
            self.configure_stack(self.stack)

    def close(self, grace: float = 5.0) -> None:
        self._stub = None
