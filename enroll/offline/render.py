"""Render our Pulumi program for one stack config, in-process, under Pulumi's mocks.

What is captured is what the engine would receive from the program: every resource
registration (type, name, wire-format inputs, parent, provider, dependencies, property
dependencies) and the stack outputs. No CLI, no credentials, no network.

Each render runs in a fresh `contextvars.Context`, so many stacks render one after another
in one process without sharing Pulumi runtime state.
"""

from __future__ import annotations

import contextvars
import functools
import types
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import CodeType
from typing import Any

from google.protobuf import json_format

from components.contract import PROJECT, config_string
from enroll.offline import sdk_fastpath
from enroll.offline.analyzer.wire import unwrap_secrets
from enroll.offline.mocks import OfflineMocks
from enroll.org.model import OrgFacts
from enroll.util.paths import PROJECT_DIR

STACK_TYPE = "pulumi:pulumi:Stack"


class RenderError(Exception):
    """The program failed for this config; the message is what `pulumi preview` would print."""

    def __init__(self, message: str, resources: list[Registration] | None = None) -> None:
        super().__init__(message)
        self.resources = resources or []


@dataclass
class Registration:
    urn: str
    type: str
    name: str
    custom: bool
    parent: str
    provider: str
    dependencies: list[str]
    property_dependencies: dict[str, list[str]]
    wire_inputs: dict[str, Any]  # JSON form of the Struct the engine receives
    inputs: dict[str, Any]  # the same with secrets unwrapped; unknowns stay UNKNOWN
    retain_on_delete: bool = False


@dataclass
class Rendered:
    stack: str
    resources: list[Registration]
    outputs: dict[str, Any]
    invokes: list[str]

    def of_type(self, type_: str) -> list[Registration]:
        return [r for r in self.resources if r.type == type_]

    def one(self, type_: str, name: str | None = None) -> Registration:
        found = [r for r in self.of_type(type_) if name is None or r.name == name]
        if len(found) != 1:
            names = [r.name for r in self.of_type(type_)]
            raise LookupError(f"expected one {type_} named {name!r}; have {names}")
        return found[0]

    def by_urn(self, urn: str) -> Registration:
        return next(r for r in self.resources if r.urn == urn)


# --------------------------------------------------------------------------------------------
# The recording monitor and the render itself
# --------------------------------------------------------------------------------------------


def _recording_monitor(mocks: OfflineMocks, echo: bool) -> Any:
    """`echo`: answer a registration with its own inputs and no id, without the mock round
    trip. That is what the mock answers in a preview (`OfflineMocks.new_resource`), so only
    the decode, the call and the re-encode are saved (sdk_fastpath.py)."""
    from pulumi.runtime.mocks import MockMonitor
    from pulumi.runtime.proto import resource_pb2

    class RecordingMonitor(MockMonitor):
        def __init__(self) -> None:
            super().__init__(mocks)
            self.registrations: list[Registration] = []
            self.stack_outputs: dict[str, Any] = {}

        def make_urn(self, parent: str, type_: str, name: str) -> str:
            """The engine's URN: a child of the root stack does not carry the stack's type
            (resource.NewURN in pulumi/sdk/go/common/resource/urn.go); the SDK's mock does.
            The parity test against the engine found it."""
            if parent.split("::")[2:3] == [STACK_TYPE]:
                parent = ""
            return super().make_urn(parent, type_, name)

        def RegisterResource(self, request: Any) -> Any:
            if echo:
                response = resource_pb2.RegisterResourceResponse(
                    urn=self.make_urn(request.parent, request.type, request.name)
                )
                if request.type != STACK_TYPE:
                    response.object.CopyFrom(request.object)
            else:
                response = super().RegisterResource(request)
            wire = json_format.MessageToDict(request.object)
            self.registrations.append(
                Registration(
                    urn=response.urn,
                    type=request.type,
                    name=request.name,
                    custom=bool(request.custom),
                    parent=request.parent,
                    provider=request.provider,
                    dependencies=list(request.dependencies),
                    property_dependencies={
                        key: list(deps.urns) for key, deps in request.propertyDependencies.items()
                    },
                    wire_inputs=wire,
                    inputs=unwrap_secrets(wire),
                    retain_on_delete=bool(request.retainOnDelete),
                )
            )
            return response

        def RegisterResourceOutputs(self, request: Any) -> Any:
            if request.urn.endswith(f"pulumi:pulumi:Stack::{PROJECT}-{self.stack_name}"):
                self.stack_outputs = unwrap_secrets(json_format.MessageToDict(request.outputs))
            return super().RegisterResourceOutputs(request)

    return RecordingMonitor()


def _skip_source_positions() -> None:
    """The SDK walks the Python stack for every registration to report source positions to the
    engine; mocks discard them, and the walk is ~15% of a render."""
    from pulumi.runtime import resource
    from pulumi.runtime.proto import source_pb2

    resource._get_stack_trace = source_pb2.StackTrace  # type: ignore[attr-defined]


@functools.cache
def _compiled(path: Path, mtime_ns: int) -> CodeType:
    return compile(path.read_bytes(), str(path), "exec")


def run_project_main() -> None:
    """The project's `__main__.py`, as `runpy.run_path(..., run_name="__main__")` runs it, but
    compiled once per process (and again if the file changes)."""
    path = PROJECT_DIR / "__main__.py"
    code = _compiled(path, path.stat().st_mtime_ns)
    module = types.ModuleType("__main__")
    module.__file__ = str(path)
    exec(code, module.__dict__)  # our own program, as runpy would run it


def render(
    config: Mapping[str, Any],
    *,
    stack: str,
    preview: bool = False,
    org: OrgFacts | None = None,
    program: Callable[[], None] | None = None,
    fast: bool | None = None,
) -> Rendered:
    """Run the program (default: the project's `__main__.py`) for `config` under mocks.

    `config` maps full keys (`org-logging:role`, `aws:region`) to strings, or to lists and
    maps that are passed as JSON, as Pulumi config stores them. `fast` (default: in a preview,
    if the SDK is the pinned one) takes the fast path of sdk_fastpath.py; the registrations
    are the same either way (tests/test_render_fastpath.py).
    """
    if fast is None:
        fast = preview and sdk_fastpath.available()
    if fast and not preview:
        raise ValueError("the render fast path answers as a preview does: use it with preview=True")
    run = contextvars.Context().run
    if not fast:
        return run(_render, dict(config), stack, preview, org, program, False)
    with sdk_fastpath.fast_render():
        return run(_render, dict(config), stack, preview, org, program, True)


def _render(
    config: dict[str, Any],
    stack: str,
    preview: bool,
    org: OrgFacts | None,
    program: Callable[[], None] | None,
    fast: bool,
) -> Rendered:
    from google.protobuf import empty_pb2
    from pulumi.runtime import config as pulumi_config
    from pulumi.runtime.mocks import MockEngine, MockSettings
    from pulumi.runtime.settings import configure
    from pulumi.runtime.stack import run_in_stack
    from pulumi.runtime.sync_await import _sync_await

    _skip_source_positions()
    mocks = OfflineMocks(config, org, preview)
    monitor = _recording_monitor(mocks, echo=fast)
    monitor.stack_name = stack
    configure(
        MockSettings(
            monitor=monitor,
            monitor_features=set(monitor.GetDeploymentInfo(empty_pb2.Empty()).supportedFeatures),
            engine=MockEngine(None),
            project=PROJECT,
            stack=stack,
            dry_run=preview,
            organization="organization",
            callbacks=None,
        )
    )
    if fast:
        sdk_fastpath.track_outputs_of_this_render()
    pulumi_config.set_all_config({key: config_string(value) for key, value in config.items()})
    entry = program or run_project_main
    try:
        _sync_await(run_in_stack(entry))
    except Exception as error:
        from pulumi import RunError

        message = str(error) if isinstance(error, RunError) else f"{type(error).__name__}: {error}"
        raise RenderError(message, monitor.registrations) from error
    return Rendered(
        stack=stack,
        resources=monitor.registrations,
        outputs=monitor.stack_outputs,
        invokes=list(mocks.invokes),
    )
