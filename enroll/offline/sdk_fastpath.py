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
* **one future per resource property, not four and a task.** Registering a resource gives it
  an `Output` for every property it declares (`rpc.transfer_properties`): four futures, a
  coroutine and a task that gathers them, for each of ~12 properties per resource, most of
  which nothing reads. `transfer_properties` here gives each property one future, resolved
  with the same `_OutputData` the task would have built, or failed with the same exception.
* **output tracking without the settings lookups.** Every `Output` is added to the render's
  `SETTINGS.outputs` so that `wait_for_rpcs` can wait for it, and a done-callback takes it out
  again once it resolves. While a fast render runs, `Output._track` adds it to that same set,
  read once per render, and leaves it there: `linear_wait_for_rpcs` awaits a finished output
  without suspending, and raises a failed one as the stock path does (failed outputs stay in
  the set there too). An `Output` made outside a fast render is tracked the stock way.
* **no URN computed for a monitor that is there.** Before each register and read call the SDK
  computes the URN it would answer with if there were no monitor (`create_urn`: three
  outputs and their tasks), and uses it only in that case. In a fast render there is always
  a monitor, so at those two call sites (`do_register`, `do_read`) nothing is computed;
  everywhere else (aliases, the public `pulumi.create_urn`) it is the SDK's own.
* **debug logs nobody reads.** The SDK logs ~100 debug lines per stack to the mock engine,
  which hands them to the root logger; unless that logger is enabled for DEBUG they are
  dropped, and then the fast path drops them without building the request.
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
import contextvars
import functools
import hashlib
import inspect
import logging
import sys
import threading
import types
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
    "pulumi.runtime.resource.read_resource": (
        "fe8d3624c32db0b7726965c102a01f8bd518e103d584e0ffa994cdf41b244e8f"
    ),
    "pulumi.runtime.resource.create_urn": (
        "b4efa209c920a83ac0a652e3f00fa7e987bdb7e438231fc88146f4c372c85596"
    ),
    "pulumi.runtime.rpc.transfer_properties": (
        "0e7c02ffa04ff20b31cd58a4829188d173300ed40eae0cb7bb48435121c233d9"
    ),
    "pulumi.output.Output.__init__": (
        "f883e4f64c918cfb82b9461f13ec626edfed42e3e1ccea18e601a7e4663be894"
    ),
    "pulumi.output.Output._track": (
        "72569ad70fd52b205d4b8dcf517861bb6755f8e6d3c3feba6708e16a33a78749"
    ),
    "pulumi.output.Output._untrack": (
        "6e6e07e5f9c49cde1c091ef6c5079819110e19b7c484e273db0019b9ba834e66"
    ),
    "pulumi.output.Output._from_data": (
        "cd70e3b38ee181f636ca736cac9db7f62887d8f700257567aed3e7261b2d3a4b"
    ),
    "pulumi.output._OutputData": (
        "71b7d20a16cca36688b0cee34220780c297076bc2dfe8516ce3d7ee2d10885ee"
    ),
    "pulumi.log.debug": ("381cd6115cca6ca19ddc9416014d9afb086d7b7a9cb3ca8d80f2be24bdb44d6f"),
    "pulumi.log._log": ("185613096f9dc351865f2df9bd6613990ffd142409e78f01681158ed52743939"),
    "pulumi.runtime.mocks.MockEngine.Log": (
        "2902a687f523c712a4e845dce698673490647b5aae251b62287b588db1e8fe51"
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
    from pulumi import log, output
    from pulumi.runtime import mocks, resource, rpc, stack, sync_await

    return {
        "pulumi.runtime.stack.wait_for_rpcs": stack.wait_for_rpcs,
        "pulumi.runtime.stack.run_pulumi_func": stack.run_pulumi_func,
        "pulumi.runtime.sync_await._sync_await": sync_await._sync_await,
        "pulumi.runtime.mocks.MockMonitor.RegisterResource": mocks.MockMonitor.RegisterResource,
        "pulumi.runtime.mocks.MockMonitor.Invoke": mocks.MockMonitor.Invoke,
        "pulumi.runtime.resource.register_resource": resource.register_resource,
        "pulumi.runtime.resource.read_resource": resource.read_resource,
        "pulumi.runtime.resource.create_urn": resource.create_urn,
        "pulumi.runtime.rpc.transfer_properties": rpc.transfer_properties,
        "pulumi.output.Output.__init__": output.Output.__init__,
        "pulumi.output.Output._track": output.Output._track,
        "pulumi.output.Output._untrack": output.Output._untrack,
        "pulumi.output.Output._from_data": output.Output._from_data,
        "pulumi.output._OutputData": output._OutputData,
        "pulumi.log.debug": log.debug,
        "pulumi.log._log": log._log,
        "pulumi.runtime.mocks.MockEngine.Log": mocks.MockEngine.Log,
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


# The outputs of the fast render running in this context (its `SETTINGS.outputs`); unset
# outside one, where the stock `_track` and `_untrack` run.
_TRACKED: contextvars.ContextVar[set[Any]] = contextvars.ContextVar("org_logging_tracked")


def track_outputs_of_this_render() -> None:
    """Called by the render, inside its own context, once the SDK's settings are configured."""
    from pulumi.runtime.settings import SETTINGS

    _TRACKED.set(SETTINGS.outputs)


def transfer_properties(res: Any, props: Any, custom: bool) -> dict[str, Callable[..., None]]:
    """`pulumi.runtime.rpc.transfer_properties` of PINNED_SDK with one future per property.

    The stock resolver sets four futures (deps, value, known, secret) that a task gathers into
    an `_OutputData`; this one builds that `_OutputData` itself, or fails the future with the
    same exception, with the same dependency set: the given ones plus the resource itself.
    """
    from pulumi.output import Output, _OutputData

    loop = asyncio.get_event_loop()
    resolvers: dict[str, Callable[..., None]] = {}
    for name in props:
        if name == "urn" or (name == "id" and custom):
            continue  # resolved elsewhere, as in the SDK
        data = loop.create_future()

        def do_resolve(
            value: Any,
            is_known: bool,
            is_secret: bool,
            deps: Any,
            failed: Exception | None,
            data: asyncio.Future[Any] = data,
        ) -> None:
            if failed is not None:
                data.set_exception(failed)
                return
            resources = set(deps) if deps else set()
            resources.add(res)
            data.set_result(
                _OutputData(
                    resources=resources, value=value, is_known=is_known, is_secret=is_secret
                )
            )

        resolvers[name] = do_resolve
        res.__dict__[name] = Output._from_data(data)
    return resolvers


@functools.cache
def _make_tracking(stock: Callable[..., None], change: str) -> Callable[..., None]:
    """`Output._track` (`change="add"`) or `Output._untrack` (`"discard"`): on this fast
    render's set, or the stock method outside one."""

    def method(self: Any) -> None:
        outputs = _TRACKED.get(None)
        if outputs is None:
            stock(self)
        else:
            getattr(outputs, change)(self._data)

    return method


class _NoUrn:
    """What `create_urn` gives the register and read calls of a fast render: they await its
    `future()` and use the value only if there is no monitor."""

    async def future(self) -> None:
        return None


_NO_URN = _NoUrn()


@functools.cache
def _make_create_urn(stock_create_urn: Callable[..., Any]) -> Callable[..., Any]:
    from pulumi.runtime import resource

    sites = frozenset(
        constant
        for function in (resource.register_resource, resource.read_resource)
        for constant in function.__code__.co_consts
        if isinstance(constant, types.CodeType) and constant.co_name in ("do_register", "do_read")
    )

    def create_urn(
        name: Any, type_: Any, parent: Any = None, project: Any = None, stack: Any = None
    ) -> Any:
        if _TRACKED.get(None) is not None and sys._getframe(1).f_code in sites:
            return _NO_URN
        return stock_create_urn(name, type_, parent, project, stack)

    return create_urn


@functools.cache
def _make_debug(stock_debug: Callable[..., None]) -> Callable[..., None]:
    def debug(
        msg: str, resource: Any = None, stream_id: int | None = None, ephemeral: bool | None = None
    ) -> None:
        # In a fast render the engine is MockEngine(None): the root logger's debug.
        if (
            resource is None
            and _TRACKED.get(None) is not None
            and not logging.getLogger().isEnabledFor(logging.DEBUG)
        ):
            return
        stock_debug(msg, resource, stream_id, ephemeral)

    return debug


def _replacements() -> tuple[tuple[Any, str, Callable[[Any], Any]], ...]:
    """What a fast render replaces: (owner, attribute, the replacement made from the stock)."""
    from pulumi import log
    from pulumi.output import Output
    from pulumi.runtime import resource, rpc, stack

    return (
        (stack, "wait_for_rpcs", lambda _: linear_wait_for_rpcs),
        (rpc, "transfer_properties", lambda _: transfer_properties),
        (Output, "_track", lambda stock: _make_tracking(stock, "add")),
        (Output, "_untrack", lambda stock: _make_tracking(stock, "discard")),
        (log, "debug", _make_debug),
        (resource, "create_urn", _make_create_urn),
    )


_inline = threading.local()


def _thread_loop() -> asyncio.AbstractEventLoop | None:
    """The loop set for this thread, without creating one (asyncio's policy keeps it there)."""
    local = getattr(asyncio.get_event_loop_policy(), "_local", None)
    return getattr(local, "_loop", None)


@contextlib.contextmanager
def fast_render() -> Iterator[None]:
    """For one render on this thread: the replacements of the module doc.

    The caller checks `available()` first, and calls `track_outputs_of_this_render()` inside
    the render's context. Each thread keeps one `InlineLoop`; the thread's own loop and the
    SDK's functions are put back afterwards, so a stock render after this one is stock. Renders
    on other threads wait: what is replaced are module globals.
    """
    with _lock:
        loop = getattr(_inline, "loop", None)
        if loop is None:
            loop = _inline.loop = InlineLoop()
        previous = _thread_loop()
        replaced = _replacements()
        stock = [getattr(owner, name) for owner, name, _ in replaced]
        asyncio.set_event_loop(loop)
        for (owner, name, make), original in zip(replaced, stock, strict=True):
            setattr(owner, name, make(original))
        try:
            yield
        finally:
            for (owner, name, _), original in zip(replaced, stock, strict=True):
                setattr(owner, name, original)
            asyncio.set_event_loop(previous)
