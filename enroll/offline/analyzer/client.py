"""Run a Python CrossGuard policy pack the way the Pulumi engine does, without the engine.

Where there is no Pulumi CLI, `preview --offline` launches the pack itself and
speaks the engine's analyzer gRPC protocol to it. Measured against pulumi 3.272.0 and
pulumi-policy 1.21.0; the engine side follows the pulumi/pulumi Go sources (analyzer_plugin.go,
step_generator.go, ReconcilePolicyPackConfig).

What the engine does, and so what this client does:

* Launch `<python> -u -m pulumi.policy <engine-address> .` with cwd = the pack directory (what the
  `pulumi-analyzer-policy-python` shim runs). The first stdout line is the gRPC port on 127.0.0.1.
* Handshake (pulumi-policy 1.21 answers UNIMPLEMENTED, which the engine tolerates), ConfigureStack,
  GetAnalyzerInfo, Configure with the reconciled config of every policy, Analyze per resource
  (inputs), AnalyzeStack once with every resource, then stop the process.

One client serves many stacks: ConfigureStack may be sent again for each stack and Configure is
sent once. pulumi-policy 1.21 takes only `tags` from ConfigureStack; the stack name, project and
stack config that `pulumi.get_stack()` / `pulumi.Config` see inside the pack come from `PULUMI_*`
environment variables fixed at launch (see `StackInfo.env`).
"""

from __future__ import annotations

import collections
import contextlib
import os
import signal
import sys
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

import grpc
from google.protobuf import empty_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc

from enroll.offline.analyzer.config import load_pack_project, reconcile_config
from enroll.offline.analyzer.wire import (
    AnalyzerError,
    AnalyzeResult,
    AnalyzerInfo,
    EncodedResource,
    PolicyConfig,
    Resource,
    StackInfo,
    analyze_result_from,
    analyzer_info_from,
    encode_resources,
    policy_config_proto,
)
from enroll.util.paths import PROJECT_DIR
from enroll.util.processes import HelperProcess, HelperStartError, PortOnFirstLine

DEFAULT_PACK_DIR = PROJECT_DIR / "policy"

# pulumi-policy's server accepts 400 MB; a whole stack in one AnalyzeStack can be large.
_MAX_MESSAGE = 400 * 1024 * 1024
_CHANNEL_OPTIONS = [
    ("grpc.max_receive_message_length", _MAX_MESSAGE),
    ("grpc.max_send_message_length", _MAX_MESSAGE),
]
# Inherited from a surrounding `pulumi` run they would describe some other stack to the pack.
_STACK_ENV = (
    "PULUMI_CONFIG",
    "PULUMI_CONFIG_SECRET_KEYS",
    "PULUMI_PROJECT",
    "PULUMI_STACK",
    "PULUMI_ORGANIZATION",
    "PULUMI_DRY_RUN",
)
_STDERR_TAIL = 8000


# --------------------------------------------------------------------------------------------
# The client
# --------------------------------------------------------------------------------------------


class AnalyzerClient:
    """One running policy pack, driven like the engine drives it; use it as a context manager.

    Calls may come from several threads: the gRPC channel is thread-safe. The pack serves at most
    4 RPCs at once under one GIL, so `analyze_many` (pipelined) is the fast path.
    """

    def __init__(
        self,
        pack_dir: str | os.PathLike[str] = DEFAULT_PACK_DIR,
        python: str | os.PathLike[str] = sys.executable,
        *,
        stack: StackInfo | None = None,
        engine_address: str = "127.0.0.1:0",
        env: Mapping[str, str] | None = None,
        startup_timeout: float = 60.0,
        rpc_timeout: float | None = 120.0,
    ) -> None:
        """`stack` fixes the `PULUMI_*` environment of the pack for its lifetime and is sent by
        ConfigureStack at start; leave it None for a client that serves many stacks.

        The engine address is never dialled by pulumi-policy 1.21, so a placeholder is enough.
        """
        self.pack_dir = Path(pack_dir).resolve()
        self.python = str(python)
        self.stack = stack
        self.engine_address = engine_address
        self.port: int | None = None
        self._extra_env = dict(env or {})
        self._startup_timeout = startup_timeout
        self._rpc_timeout = rpc_timeout
        self._pack_version = ""
        self._started = False
        self._pack: HelperProcess[int] | None = None
        self._channel: grpc.Channel | None = None
        self._stub: analyzer_pb2_grpc.AnalyzerStub | None = None
        self._info: AnalyzerInfo | None = None
        self._configured: dict[str, PolicyConfig] | None = None
        self._configure_lock = threading.Lock()
        self._attached = False

    @classmethod
    def attach(cls, port: int, *, rpc_timeout: float | None = 120.0) -> AnalyzerClient:
        """A client of a pack another client started and configured (e.g. in a parent process).

        It neither launches nor stops the pack, and never sends Configure: the owner did.
        """
        client = cls(rpc_timeout=rpc_timeout)
        client._attached = True
        client.port = port
        return client

    # -- lifecycle -------------------------------------------------------------------------

    def __enter__(self) -> AnalyzerClient:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def pid(self) -> int | None:
        return self._pack.pid if self._pack is not None else None

    @property
    def stdout(self) -> str:
        """The pack's stdout after the port line: `print()` in policies lands here."""
        return self._pack.stdout if self._pack is not None else ""

    @property
    def stderr(self) -> str:
        """The pack's stderr: with no engine to log to, `pulumi.log.*` lands here."""
        return self._pack.stderr if self._pack is not None else ""

    def start(self) -> None:
        if self._started:
            # A new process would silently lose the config sent to the old one.
            raise AnalyzerError("this client has already started its pack; make a new client")
        self._started = True
        if self._attached:
            self._connect()
            self._configured = {}  # the owner configured the pack
            return
        project = load_pack_project(self.pack_dir)
        self._pack_version = str(project.get("version") or "")
        env = {key: value for key, value in os.environ.items() if key not in _STACK_ENV}
        if self.stack is not None:
            env.update(self.stack.env())
        env.update(self._extra_env)
        self._pack = HelperProcess(
            # -u: without it the port stays in the stdout buffer and startup hangs.
            [self.python, "-u", "-m", "pulumi.policy", self.engine_address, "."],
            # Like the engine: a module-level print() in the pack takes the port's place.
            PortOnFirstLine(hint="a print() at import time causes this"),
            name=f"policy pack {self.pack_dir}",
            cwd=self.pack_dir,
            env=env,
            startup_timeout=self._startup_timeout,
            tail=_STDERR_TAIL,
        )
        try:
            self.port = self._pack.start()
            self._connect()
            self._handshake()
            if self.stack is not None:
                self.configure_stack(self.stack)
        except HelperStartError as error:
            self.close()
            raise AnalyzerError(
                f"policy pack {self.pack_dir} {error.problem}{self._stderr_tail()}"
            ) from None
        except BaseException:
            self.close()
            raise

    def _connect(self) -> None:
        self._channel = grpc.insecure_channel(f"127.0.0.1:{self.port}", options=_CHANNEL_OPTIONS)
        try:
            grpc.channel_ready_future(self._channel).result(timeout=self._startup_timeout)
        except grpc.FutureTimeoutError:
            raise AnalyzerError(
                f"policy pack {self.pack_dir} did not accept connections on port {self.port}"
                f"{self._stderr_tail()}"
            ) from None
        self._stub = analyzer_pb2_grpc.AnalyzerStub(self._channel)

    def close(self, grace: float = 5.0) -> None:
        """Stop the pack: SIGINT lets it stop its server and exit 0; SIGKILL if it won't.

        Safe to call twice. The engine itself only kills the plugin; the interrupt first keeps
        the pack's own shutdown path exercised.
        """
        if self._stub is not None and not self._attached:
            # pulumi-policy 1.21 leaves Cancel UNIMPLEMENTED; the engine ignores that too.
            with contextlib.suppress(grpc.RpcError):
                self._stub.Cancel(empty_pb2.Empty(), timeout=2.0)
        self._stub = None
        if self._channel is not None:
            self._channel.close()
            self._channel = None
        if self._pack is not None:
            self._pack.stop(signal.SIGINT, grace)

    def _stderr_tail(self) -> str:
        text = self._pack.output_tail() if self._pack is not None else ""
        if not text.strip():
            return "\n(the pack wrote nothing to stderr)"
        return f"\npack stderr:\n{text.rstrip()}"

    # -- RPCs ------------------------------------------------------------------------------

    @property
    def stub(self) -> analyzer_pb2_grpc.AnalyzerStub:
        if self._stub is None:
            raise AnalyzerError("the policy pack is not running (use the client as a context)")
        return self._stub

    def _failed(self, what: str, error: grpc.RpcError) -> AnalyzerError:
        code = error.code().name if isinstance(error, grpc.Call) else "error"
        details = error.details() if isinstance(error, grpc.Call) else str(error)
        status = self._pack.exit_status() if self._pack is not None else None
        state = f" (the pack has exited, {status})" if status else ""
        return AnalyzerError(f"{what} failed{state}: {code}: {details}{self._stderr_tail()}")

    def _handshake(self) -> None:
        request = analyzer_pb2.AnalyzerHandshakeRequest(
            engine_address=self.engine_address,
            root_directory=str(self.pack_dir),
            program_directory=str(self.pack_dir),
        )
        try:
            self.stub.Handshake(request, timeout=self._rpc_timeout)
        except grpc.RpcError as error:
            unimplemented = isinstance(error, grpc.Call) and (
                error.code() == grpc.StatusCode.UNIMPLEMENTED
            )
            if not unimplemented:  # pulumi-policy 1.21 does not implement it; the engine copes
                raise self._failed("Handshake", error) from None

    def configure_stack(self, stack: StackInfo) -> None:
        """Tell the pack which stack comes next; send it again before each stack's resources."""
        request = analyzer_pb2.AnalyzerStackConfigureRequest(
            stack=stack.stack,
            project=stack.project,
            organization=stack.organization,
            dry_run=stack.dry_run,
            config=dict(stack.config),
            config_secret_keys=list(stack.config_secret_keys),
            tags=dict(stack.tags),
        )
        try:
            self.stub.ConfigureStack(request, timeout=self._rpc_timeout)
        except grpc.RpcError as error:
            raise self._failed(f"ConfigureStack({stack.stack})", error) from None

    def plugin_version(self) -> str:
        """The pulumi-policy SDK version the pack runs on."""
        try:
            info = self.stub.GetPluginInfo(empty_pb2.Empty(), timeout=self._rpc_timeout)
        except grpc.RpcError as error:
            raise self._failed("GetPluginInfo", error) from None
        return str(info.version)

    def analyzer_info(self) -> AnalyzerInfo:
        """The pack's policies with their default levels and config schemas (cached)."""
        if self._info is None:
            try:
                message = self.stub.GetAnalyzerInfo(empty_pb2.Empty(), timeout=self._rpc_timeout)
            except grpc.RpcError as error:
                raise self._failed("GetAnalyzerInfo", error) from None
            self._info = analyzer_info_from(message, self._pack_version)
        return self._info

    def configure(
        self, config: Mapping[str, PolicyConfig] | None = None
    ) -> dict[str, PolicyConfig]:
        """Send the reconciled config of every policy (see `reconcile_config`); returns it.

        Without this call the first Analyze sends the defaults, as the engine always does, so
        schema defaults reach the policies either way.
        """
        with self._configure_lock:
            return self._configure(config or {})

    def _configure(self, config: Mapping[str, PolicyConfig]) -> dict[str, PolicyConfig]:
        sent = reconcile_config(self.analyzer_info(), config)
        request = analyzer_pb2.ConfigureAnalyzerRequest(
            policyConfig={name: policy_config_proto(name, cfg) for name, cfg in sent.items()}
        )
        try:
            self.stub.Configure(request, timeout=self._rpc_timeout)
        except grpc.RpcError as error:
            raise self._failed("Configure", error) from None
        self._configured = sent
        return sent

    @property
    def policy_config(self) -> dict[str, PolicyConfig] | None:
        """What the last Configure sent, or None before any."""
        return self._configured

    def _ensure_configured(self) -> None:
        if self._configured is None:
            with self._configure_lock:
                if self._configured is None:
                    self._configure({})

    def analyze(self, resource: Resource | EncodedResource) -> AnalyzeResult:
        """Resource policies over one resource's inputs."""
        self._ensure_configured()
        (encoded,) = encode_resources([resource])
        try:
            response = self.stub.Analyze(encoded.analyze_request(), timeout=self._rpc_timeout)
        except grpc.RpcError as error:
            raise self._failed(f"Analyze({encoded.resource.urn})", error) from None
        return analyze_result_from(response, self._pack_version)

    def analyze_many(
        self, resources: Iterable[Resource | EncodedResource], window: int = 8
    ) -> list[AnalyzeResult]:
        """`analyze` for many resources, `window` RPCs in flight on the one channel, in order.

        Overlapping round-trips is where the throughput is: the pack runs policies under one GIL.
        Pass `encode_resources(...)` to share the encoding with `analyze_stack`.
        """
        if window < 1:
            raise ValueError("window must be at least 1")
        self._ensure_configured()
        analyze = self.stub.Analyze
        results: list[AnalyzeResult] = []
        pending: collections.deque[tuple[str, Any]] = collections.deque()

        def collect() -> None:
            urn, future = pending.popleft()
            try:
                response = future.result()
            except grpc.RpcError as error:
                raise self._failed(f"Analyze({urn})", error) from None
            results.append(analyze_result_from(response, self._pack_version))

        try:
            for encoded in encode_resources(resources):
                request = encoded.analyze_request()
                urn = encoded.resource.urn
                pending.append((urn, analyze.future(request, timeout=self._rpc_timeout)))
                if len(pending) >= window:
                    collect()
            while pending:
                collect()
        finally:
            for _, future in pending:
                future.cancel()
        return results

    def analyze_stack(self, resources: Iterable[Resource | EncodedResource]) -> AnalyzeResult:
        """Stack policies over every resource at once.

        Send the whole stack: pulumi-policy drops a parent or dependency whose URN is not among
        the request's resources, silently.
        """
        self._ensure_configured()
        request = analyzer_pb2.AnalyzeStackRequest(
            resources=[encoded.analyzer_resource() for encoded in encode_resources(resources)]
        )
        try:
            response = self.stub.AnalyzeStack(request, timeout=self._rpc_timeout)
        except grpc.RpcError as error:
            raise self._failed("AnalyzeStack", error) from None
        return analyze_result_from(response, self._pack_version)
