"""The offline preview's render fast path: the one place that leans on Pulumi SDK internals.

Rendering a stack under mocks is mostly the SDK's own machinery. Three parts of it cost CPU
without changing what is registered, and are replaced here while a preview renders:

* **monitor calls inline.** The SDK sends every monitor call (RegisterResource, Invoke, ...)
  through `loop.run_in_executor(None, ...)`: a thread pool hop and a loop wake-up per call, for
  a monitor that is a Python object in this process. `InlineLoop` runs the call on the spot
  and hands back a finished future. A mock Invoke re-enters the loop through `_sync_await`,
  which the SDK built to be re-entrant (pulumi/runtime/sync_await.py). Never use it with a
  real gRPC monitor: the call would block the loop.
* **`wait_for_rpcs` without the quadratic wait.** The SDK waits for the program's outstanding
  outputs with `asyncio.wait(pending, FIRST_COMPLETED)` in a loop, which re-registers a
  callback on every still-pending output each time one finishes. `linear_wait_for_rpcs`
  awaits them one by one: the same outputs, each awaited once. If several fail, the first in
  the set's order is raised rather than the first to finish (the set has no order either way).
* **the preview's mock round trip** (in render.py): in a preview our mocks return the inputs
  unchanged and no id, so the monitor answers with the request's own Struct instead of
  decoding it, calling the mock and encoding the result again.

All of this is pinned to one SDK version (`PINNED_SDK`), and the digests of the SDK functions
it replaces or relies on are recorded (`PINNED_SOURCES`). `tests/test_render_fastpath.py`
fails on an SDK upgrade until someone re-reads them, re-runs the render parity test and bumps
the pin. At run time a different SDK turns the fast path off (the stock path is correct, only
slower) and says so once on stderr.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import inspect
import sys
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Executor
from importlib import metadata
from typing import Any

PINNED_SDK = "3.272.0"

# sha256 of the source of each SDK function the fast path replaces or relies on, at PINNED_SDK.
PINNED_SOURCES = {
    "pulumi.runtime.stack.wait_for_rpcs": (
        "c0f9027f85ad09255ded0a1908033b490f76d303a3e40b50d3cf47a69265469d"
    ),
    "pulumi.runtime.stack.run_pulumi_func": (
        "17b787ffe00d4e2c8f1b27ccedc90bee7d3ccf961477b7b32582f06138ea0a20"
    ),
    "pulumi.runtime.sync_await._sync_await": (
        "77b69aaf7da77f1c3d4237099099b200a3e917b6da1f554743c00bfb17fa010b"
    ),
    "pulumi.runtime.mocks.MockMonitor.RegisterResource": (
        "756b6fbc95aee5833987b9b532b5d10c364e29c37c2f6a52363592ebab2565e5"
    ),
    "pulumi.runtime.mocks.MockMonitor.Invoke": (
        "c40e8a053d1a7f27f3344290164e254f7268283ed23f20e9bcbcf29daa8ccce1"
    ),
    "pulumi.runtime.resource.register_resource": (
        "633fd2207a3851a366731f9ec5b1f62ecb07b7fc823dfe5a0a789e8e1e5dada3"
    ),
}

_warned = False
_lock = threading.Lock()


@functools.cache
def sdk_version() -> str:
    """Read once per process: `available()` asks on every preview render."""
    return metadata.version("pulumi")


def source_digest(function: Callable[..., Any]) -> str:
    return hashlib.sha256(inspect.getsource(function).encode()).hexdigest()


def pinned_functions() -> dict[str, Callable[..., Any]]:
    """The SDK functions named in PINNED_SOURCES, by name."""
    from pulumi.runtime import mocks, resource, stack, sync_await

    return {
        "pulumi.runtime.stack.wait_for_rpcs": stack.wait_for_rpcs,
        "pulumi.runtime.stack.run_pulumi_func": stack.run_pulumi_func,
        "pulumi.runtime.sync_await._sync_await": sync_await._sync_await,
        "pulumi.runtime.mocks.MockMonitor.RegisterResource": mocks.MockMonitor.RegisterResource,
        "pulumi.runtime.mocks.MockMonitor.Invoke": mocks.MockMonitor.Invoke,
        "pulumi.runtime.resource.register_resource": resource.register_resource,
    }


def available() -> bool:
    """True if the installed SDK is the one the fast path was verified against."""
    global _warned
    version = sdk_version()
    if version == PINNED_SDK:
        return True
    if not _warned:
        _warned = True
        print(
            f"org-logging: the offline render's fast path is off: pulumi {version} is installed, "
            f"it was verified against {PINNED_SDK} (enroll/offline/sdk_fastpath.py); "
            "previews are correct but slower",
            file=sys.stderr,
        )
    return False


class InlineLoop(asyncio.SelectorEventLoop):
    """An event loop whose default executor is the caller: `run_in_executor(None, f)` runs `f`
    now and returns its finished future (see the module doc for why that is safe here)."""

    def run_in_executor(
        self, executor: Executor | None, func: Callable[..., Any], *args: Any
    ) -> asyncio.Future[Any]:
        if executor is not None:
            return super().run_in_executor(executor, func, *args)
        future = self.create_future()
        try:
            future.set_result(func(*args))
        except BaseException as error:  # handed to the awaiting coroutine
            future.set_exception(error)
        return future


async def linear_wait_for_rpcs(await_all_outstanding_tasks: bool = True) -> None:
    """`pulumi.runtime.stack.wait_for_rpcs` of PINNED_SDK with each output awaited once, in
    turn, instead of `asyncio.wait(FIRST_COMPLETED)` over all of them in a loop."""
    from pulumi.runtime.settings import SETTINGS, _get_rpc_manager

    rpc_manager = _get_rpc_manager()
    while True:
        while len(rpc_manager.rpcs) > 0:
            await asyncio.sleep(0)
            try:
                await rpc_manager.rpcs.pop()
            except Exception as exn:
                if rpc_manager.unhandled_exception is not None:
                    cause = rpc_manager.unhandled_exception.with_traceback(
                        rpc_manager.exception_traceback
                    )
                    raise exn from cause
                raise
        if rpc_manager.unhandled_exception is not None:
            raise rpc_manager.unhandled_exception.with_traceback(rpc_manager.exception_traceback)
        if await_all_outstanding_tasks:
            while True:
                with SETTINGS.lock:
                    if len(SETTINGS.outputs) == 0:
                        break
                    pending = list(SETTINGS.outputs)
                    SETTINGS.outputs.clear()
                for task in pending:
                    await task
        if len(rpc_manager.rpcs) == 0:
            break


_inline = threading.local()


def _thread_loop() -> asyncio.AbstractEventLoop | None:
    """The loop set for this thread, without creating one (asyncio's policy keeps it there)."""
    local = getattr(asyncio.get_event_loop_policy(), "_local", None)
    return getattr(local, "_loop", None)


@contextlib.contextmanager
def fast_render() -> Iterator[None]:
    """For one render on this thread: monitor calls inline and the linear `wait_for_rpcs`.

    The caller checks `available()` first. Each thread keeps one `InlineLoop`; the thread's own
    loop is put back afterwards, so a stock render after this one is stock. Renders on other
    threads wait: the SDK's `wait_for_rpcs` is a module global.
    """
    from pulumi.runtime import stack

    with _lock:
        loop = getattr(_inline, "loop", None)
        if loop is None:
            loop = _inline.loop = InlineLoop()
        previous = _thread_loop()
        stock = stack.wait_for_rpcs
        asyncio.set_event_loop(loop)
        stack.wait_for_rpcs = linear_wait_for_rpcs  # type: ignore[assignment]
        try:
            yield
        finally:
            stack.wait_for_rpcs = stock  # type: ignore[assignment]
            asyncio.set_event_loop(previous)
