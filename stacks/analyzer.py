"""Run a Python CrossGuard policy pack the way the Pulumi engine does, without the engine.

There is no Pulumi CLI here (DESIGN §8), so `preview --offline` launches the pack itself and
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
import json
import os
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Literal, cast

import grpc
import yaml
from google.protobuf import empty_pb2, json_format, struct_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc

from stacks.processes import stop_process_group, wait_unreaped
from stacks.render import PROJECT_DIR, SECRET_SIG, SIG_KEY
from stacks.render import UNKNOWN as UNKNOWN  # re-exported beside the typed sentinels

DEFAULT_PACK_DIR = PROJECT_DIR / "policy"

# Typed unknown sentinels: the engine sends these instead of UNKNOWN when it knows the type.
UNKNOWN_BOOL = "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7"
UNKNOWN_NUMBER = "3eeb2bf0-c639-47a8-9e75-3b44932eb421"
UNKNOWN_ARRAY = "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2"
UNKNOWN_OBJECT = "dd056dcd-154b-4c76-9bd3-c8f88648b5ff"

EnforcementLevel = Literal["advisory", "mandatory", "disabled", "remediate"]

_LEVEL_TO_PROTO: dict[str, int] = {
    "advisory": analyzer_pb2.ADVISORY,
    "mandatory": analyzer_pb2.MANDATORY,
    "disabled": analyzer_pb2.DISABLED,
    "remediate": analyzer_pb2.REMEDIATE,
}
_PROTO_TO_LEVEL: dict[int, EnforcementLevel] = {
    number: cast(EnforcementLevel, level) for level, number in _LEVEL_TO_PROTO.items()
}
_SEVERITY: dict[int, str] = {
    analyzer_pb2.POLICY_SEVERITY_UNSPECIFIED: "",
    analyzer_pb2.POLICY_SEVERITY_LOW: "low",
    analyzer_pb2.POLICY_SEVERITY_MEDIUM: "medium",
    analyzer_pb2.POLICY_SEVERITY_HIGH: "high",
    analyzer_pb2.POLICY_SEVERITY_CRITICAL: "critical",
}
_POLICY_TYPE: dict[int, str] = {
    analyzer_pb2.POLICY_TYPE_UNKNOWN: "unknown",
    analyzer_pb2.POLICY_TYPE_RESOURCE: "resource",
    analyzer_pb2.POLICY_TYPE_STACK: "stack",
}

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


class AnalyzerError(RuntimeError):
    """The pack could not be started, or an RPC to it failed; the message carries the cause."""


# --------------------------------------------------------------------------------------------
# Property values on the wire
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Secret:
    """A value the engine would send as a secret (pulumi-policy unwraps it for the policy)."""

    value: Any


def encode_value(value: Any) -> Any:
    """Plain values to the engine's JSON wire form; already-encoded wire values pass unchanged.

    Unknowns are one of the UNKNOWN* sentinel strings. Integers arrive in the pack as floats, as
    they do from the engine: a protobuf Struct only holds doubles.
    """
    if isinstance(value, Secret):
        return {SIG_KEY: SECRET_SIG, "value": encode_value(value.value)}
    if isinstance(value, Mapping):
        return {str(key): encode_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [encode_value(item) for item in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    raise TypeError(f"cannot send a {type(value).__name__} as a property value")


def to_struct(props: Mapping[str, Any]) -> struct_pb2.Struct:
    struct = struct_pb2.Struct()
    struct.update(encode_value(props))
    return struct


def struct_to_dict(struct: struct_pb2.Struct) -> dict[str, Any]:
    """The wire form back (sig objects stay dicts), as pulumi-policy itself reads a Struct."""
    return json_format.MessageToDict(struct)


def make_urn(stack: str, project: str, type_: str, name: str, parent_type: str = "") -> str:
    """`parent_type` is the parent's qualified type; the engine omits the root Stack's."""
    qualified = f"{parent_type}${type_}" if parent_type else type_
    return f"urn:pulumi:{stack}::{project}::{qualified}::{name}"


# --------------------------------------------------------------------------------------------
# Requests and results
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ResourceOptions:
    """The options the engine forwards; `parent` is taken from `Resource.parent`."""

    protect: bool = False
    ignore_changes: Sequence[str] = ()
    delete_before_replace: bool | None = None
    aliases: Sequence[str] = ()
    additional_secret_outputs: Sequence[str] = ()
    custom_timeouts: tuple[float, float, float] | None = None  # create, update, delete (s)


@dataclass(frozen=True)
class ProviderResource:
    """The provider instance of a custom resource; policies read e.g. its `region`."""

    type: str
    urn: str
    name: str
    properties: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Resource:
    """A resource as the engine describes it: its inputs, parent, dependencies and provider."""

    type: str
    urn: str
    name: str
    properties: Mapping[str, Any] = field(default_factory=dict)
    parent: str = ""
    dependencies: Sequence[str] = ()
    property_dependencies: Mapping[str, Sequence[str]] = field(default_factory=dict)
    options: ResourceOptions = field(default_factory=ResourceOptions)
    provider: ProviderResource | None = None


@dataclass(frozen=True)
class PolicyConfig:
    """One policy's config. A level of None means "keep what the pack and defaults say"."""

    enforcement_level: EnforcementLevel | None = None
    properties: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class StackInfo:
    """The stack being analyzed, as the engine tells the pack (ConfigureStack and environment)."""

    stack: str
    project: str
    organization: str = "organization"
    dry_run: bool = True
    config: Mapping[str, str] = field(default_factory=dict)  # "<namespace>:<key>" -> string
    config_secret_keys: Sequence[str] = ()
    tags: Mapping[str, str] = field(default_factory=dict)

    def env(self) -> dict[str, str]:
        """The engine's `PULUMI_*` variables: pulumi-policy reads stack identity only here."""
        env = {
            "PULUMI_PROJECT": self.project,
            "PULUMI_STACK": self.stack,
            "PULUMI_ORGANIZATION": self.organization,
            "PULUMI_DRY_RUN": "true" if self.dry_run else "false",
        }
        if self.config:
            env["PULUMI_CONFIG"] = json.dumps(dict(self.config))
        if self.config_secret_keys:
            env["PULUMI_CONFIG_SECRET_KEYS"] = json.dumps(list(self.config_secret_keys))
        return env


@dataclass(frozen=True)
class PolicyInfo:
    name: str
    description: str
    enforcement_level: EnforcementLevel
    policy_type: str
    config_schema: Mapping[str, Any]
    required_config: tuple[str, ...]
    display_name: str = ""


@dataclass(frozen=True)
class AnalyzerInfo:
    name: str
    version: str
    supports_config: bool
    policies: tuple[PolicyInfo, ...]
    initial_config: Mapping[str, PolicyConfig]


@dataclass(frozen=True)
class Diagnostic:
    policy_name: str
    policy_pack_name: str
    policy_pack_version: str
    description: str
    message: str
    enforcement_level: EnforcementLevel
    urn: str  # "" from resource policies: the engine attributes it to the analyzed resource
    severity: str

    @property
    def detail(self) -> str:
        """The policy's own message: pulumi-policy sends "<description>\\n<message>".

        A violation reported without a message, and the "can't run during preview" notice for
        unknowns, carry no such prefix; their message is returned whole.
        """
        prefix = f"{self.description}\n"
        if self.description and self.message.startswith(prefix):
            return self.message[len(prefix) :]
        return self.message


@dataclass(frozen=True)
class AnalyzeResult:
    diagnostics: tuple[Diagnostic, ...]
    not_applicable: tuple[tuple[str, str], ...]  # (policy name, reason)


# --------------------------------------------------------------------------------------------
# Config reconciliation (the engine's ReconcilePolicyPackConfig)
# --------------------------------------------------------------------------------------------


def reconcile_config(
    info: AnalyzerInfo, config: Mapping[str, PolicyConfig]
) -> dict[str, PolicyConfig]:
    """One entry per policy: its level and schema defaults, then initialConfig, then `config`.

    The Configure RPC replaces the pack's whole config and a missing level reads as ADVISORY (the
    proto default), so every policy must be sent with its level or a mandatory policy is
    silently downgraded. `"all"` sets every policy's level. A policy name the pack does not have
    is a typo that would silently apply nothing, so it raises, as does config the policy's
    schema rejects (the engine validates too).
    """
    known = {policy.name for policy in info.policies}
    unknown = sorted(set(config) - known - {"all"})
    if unknown:
        raise ValueError(
            f"policy config names {unknown}, which pack {info.name!r} does not have; "
            f"its policies: {sorted(known)}"
        )
    result: dict[str, PolicyConfig] = {}
    for policy in info.policies:
        defaults = {
            key: schema["default"]
            for key, schema in policy.config_schema.items()
            if isinstance(schema, Mapping) and "default" in schema
        }
        result[policy.name] = PolicyConfig(policy.enforcement_level, defaults)
    for layer in (info.initial_config, config):
        every = layer.get("all")
        if every is not None and every.enforcement_level is not None:
            level = every.enforcement_level
            result = {name: PolicyConfig(level, cfg.properties) for name, cfg in result.items()}
        for name, given in layer.items():
            if name not in result:
                continue
            base = result[name]
            result[name] = PolicyConfig(
                given.enforcement_level or base.enforcement_level,
                {**base.properties, **given.properties},
            )
    problems = _schema_problems(info, result)
    if problems:
        raise ValueError("invalid policy config:\n  " + "\n  ".join(problems))
    return result


def _schema_problems(info: AnalyzerInfo, config: Mapping[str, PolicyConfig]) -> list[str]:
    try:
        import jsonschema
    except ImportError:  # pinned in requirements.txt; without it, check `required` only
        jsonschema = None
    problems: list[str] = []
    for policy in info.policies:
        props = dict(config[policy.name].properties)
        if jsonschema is None:
            missing = [key for key in policy.required_config if key not in props]
            problems += [f"{policy.name}: {key!r} is required" for key in missing]
            continue
        schema: dict[str, Any] = {"type": "object", "properties": dict(policy.config_schema)}
        if policy.required_config:
            schema["required"] = list(policy.required_config)
        validator = jsonschema.Draft7Validator(schema)
        problems += [f"{policy.name}: {error.message}" for error in validator.iter_errors(props)]
    return problems


# --------------------------------------------------------------------------------------------
# Proto conversion
# --------------------------------------------------------------------------------------------


def _options_proto(resource: Resource) -> analyzer_pb2.AnalyzerResourceOptions:
    opts = resource.options
    create, update, delete = opts.custom_timeouts or (0.0, 0.0, 0.0)
    return analyzer_pb2.AnalyzerResourceOptions(
        protect=opts.protect,
        ignoreChanges=list(opts.ignore_changes),
        deleteBeforeReplace=bool(opts.delete_before_replace),
        deleteBeforeReplaceDefined=opts.delete_before_replace is not None,
        additionalSecretOutputs=list(opts.additional_secret_outputs),
        aliases=list(opts.aliases),
        # The engine always sends customTimeouts, zeros when unset.
        customTimeouts=analyzer_pb2.AnalyzerResourceOptions.CustomTimeouts(
            create=create, update=update, delete=delete
        ),
        parent=resource.parent,
    )


def _provider_proto(provider: ProviderResource) -> analyzer_pb2.AnalyzerProviderResource:
    return analyzer_pb2.AnalyzerProviderResource(
        type=provider.type,
        urn=provider.urn,
        name=provider.name,
        properties=to_struct(provider.properties),
    )


def analyze_request(resource: Resource) -> analyzer_pb2.AnalyzeRequest:
    """AnalyzeRequest has no parent field: resource policies see it as `args.opts.parent`."""
    request = analyzer_pb2.AnalyzeRequest(
        type=resource.type,
        urn=resource.urn,
        name=resource.name,
        properties=to_struct(resource.properties),
        options=_options_proto(resource),
    )
    if resource.provider is not None:
        request.provider.CopyFrom(_provider_proto(resource.provider))
    return request


def analyzer_resource(resource: Resource) -> analyzer_pb2.AnalyzerResource:
    message = analyzer_pb2.AnalyzerResource(
        type=resource.type,
        urn=resource.urn,
        name=resource.name,
        properties=to_struct(resource.properties),
        options=_options_proto(resource),
        parent=resource.parent,
        dependencies=list(resource.dependencies),
    )
    for key, urns in resource.property_dependencies.items():
        if urns:  # the engine leaves out properties without dependencies
            message.propertyDependencies[key].urns.extend(urns)
    if resource.provider is not None:
        message.provider.CopyFrom(_provider_proto(resource.provider))
    return message


def _policy_config_proto(name: str, config: PolicyConfig) -> analyzer_pb2.PolicyConfig:
    if config.enforcement_level is None:
        # Sending it anyway would read as ADVISORY: a silent downgrade.
        raise ValueError(f"policy {name!r} has no enforcement level to send")
    return analyzer_pb2.PolicyConfig(
        enforcementLevel=cast(Any, _LEVEL_TO_PROTO[config.enforcement_level]),
        properties=to_struct(config.properties),
    )


def _initial_config(message: analyzer_pb2.PolicyConfig) -> PolicyConfig:
    properties = struct_to_dict(message.properties)
    level: EnforcementLevel | None = _PROTO_TO_LEVEL[message.enforcementLevel]
    if level == "advisory" and properties:
        # pulumi-policy leaves the level unset (= ADVISORY, 0) for an initial_config entry that
        # gives only properties; the engine then downgrades that policy. Keep its own level.
        level = None
    return PolicyConfig(level, properties)


def _analyzer_info(message: analyzer_pb2.AnalyzerInfo, pack_version: str) -> AnalyzerInfo:
    return AnalyzerInfo(
        name=message.name,
        # Python packs always answer "0.0.1"; the engine shows PulumiPolicy.yaml's version.
        version=pack_version or message.version,
        supports_config=message.supportsConfig,
        policies=tuple(
            PolicyInfo(
                name=policy.name,
                description=policy.description,
                enforcement_level=_PROTO_TO_LEVEL[policy.enforcementLevel],
                policy_type=_POLICY_TYPE.get(policy.policy_type, "unknown"),
                config_schema=struct_to_dict(policy.configSchema.properties),
                required_config=tuple(policy.configSchema.required),
                display_name=policy.displayName,
            )
            for policy in message.policies
        ),
        initial_config={
            name: _initial_config(config) for name, config in message.initialConfig.items()
        },
    )


def _analyze_result(response: analyzer_pb2.AnalyzeResponse, pack_version: str) -> AnalyzeResult:
    return AnalyzeResult(
        diagnostics=tuple(
            Diagnostic(
                policy_name=d.policyName,
                policy_pack_name=d.policyPackName,
                policy_pack_version=pack_version or d.policyPackVersion,
                description=d.description,
                message=d.message,
                enforcement_level=_PROTO_TO_LEVEL[d.enforcementLevel],
                urn=d.urn,
                severity=_SEVERITY.get(d.severity, ""),
            )
            for d in response.diagnostics
        ),
        not_applicable=tuple((n.policy_name, n.reason) for n in response.not_applicable),
    )


def _load_pack_project(pack_dir: Path) -> dict[str, Any]:
    """Fail before launching, with the engine's reasons, rather than on an obscure startup."""
    path = pack_dir / "PulumiPolicy.yaml"
    try:
        project = yaml.safe_load(path.read_text()) or {}
    except FileNotFoundError:
        raise AnalyzerError(f"no policy pack at {pack_dir}: PulumiPolicy.yaml is missing") from None
    except yaml.YAMLError as error:
        raise AnalyzerError(f"{path} is not valid YAML: {error}") from None
    runtime = project.get("runtime")
    runtime_name = runtime.get("name") if isinstance(runtime, Mapping) else runtime
    if runtime_name != "python":
        raise AnalyzerError(f"{path}: runtime is {runtime_name!r}; only python packs can run here")
    return project


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
        self._proc: subprocess.Popen[bytes] | None = None
        self._channel: grpc.Channel | None = None
        self._stub: analyzer_pb2_grpc.AnalyzerStub | None = None
        self._port_line: queue.Queue[str | None] = queue.Queue()
        self._stdout: list[str] = []
        self._stderr: list[str] = []
        self._threads: list[threading.Thread] = []
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
        return self._proc.pid if self._proc is not None else None

    @property
    def stdout(self) -> str:
        """The pack's stdout after the port line: `print()` in policies lands here."""
        return "".join(self._stdout)

    @property
    def stderr(self) -> str:
        """The pack's stderr: with no engine to log to, `pulumi.log.*` lands here."""
        return "".join(self._stderr)

    def start(self) -> None:
        if self._started:
            # A new process would silently lose the config sent to the old one.
            raise AnalyzerError("this client has already started its pack; make a new client")
        self._started = True
        if self._attached:
            self._connect()
            self._configured = {}  # the owner configured the pack
            return
        project = _load_pack_project(self.pack_dir)
        self._pack_version = str(project.get("version") or "")
        env = {key: value for key, value in os.environ.items() if key not in _STACK_ENV}
        if self.stack is not None:
            env.update(self.stack.env())
        env.update(self._extra_env)
        self._proc = subprocess.Popen(
            # -u: without it the port stays in the stdout buffer and startup hangs.
            [self.python, "-u", "-m", "pulumi.policy", self.engine_address, "."],
            cwd=self.pack_dir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,  # its own process group: one signal reaches every child
        )
        try:
            self.port = self._read_port()
            self._connect()
            self._handshake()
            if self.stack is not None:
                self.configure_stack(self.stack)
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
        proc, self._proc = self._proc, None
        if proc is not None:
            stop_process_group(proc, signal.SIGINT, grace)
        for thread in self._threads:
            thread.join(timeout=grace)
        self._threads = []

    def _read_port(self) -> int:
        proc = self._proc
        assert proc is not None and proc.stdout is not None and proc.stderr is not None
        self._threads = [
            threading.Thread(target=self._pump_stdout, args=(proc.stdout,), daemon=True),
            threading.Thread(target=self._pump_stderr, args=(proc.stderr,), daemon=True),
        ]
        for thread in self._threads:
            thread.start()
        try:
            line = self._port_line.get(timeout=self._startup_timeout)
        except queue.Empty:
            raise AnalyzerError(
                f"policy pack {self.pack_dir} printed no port within {self._startup_timeout}s"
                f"{self._stderr_tail()}"
            ) from None
        if line is None:
            wait_unreaped(proc, self._startup_timeout)
            for thread in self._threads:
                thread.join(timeout=5)
            how = self._exit_status() or "closed its stdout"
            raise AnalyzerError(
                f"policy pack {self.pack_dir} exited ({how}) before printing its port"
                f"{self._stderr_tail()}"
            )
        # Like the engine: a module-level print() in the pack takes the port's place.
        try:
            return int(line.strip())
        except ValueError:
            raise AnalyzerError(
                f"policy pack {self.pack_dir} wrote {line.strip()!r} where its port belongs "
                f"(the first stdout line; a print() at import time causes this)"
                f"{self._stderr_tail()}"
            ) from None

    def _pump_stdout(self, stream: IO[bytes]) -> None:
        # Drained for the pack's whole life: a full pipe would block its policies.
        first = True
        for raw in iter(stream.readline, b""):
            text = raw.decode(errors="replace")
            if first:
                self._port_line.put(text)
                first = False
            else:
                self._stdout.append(text)
        if first:
            self._port_line.put(None)
        stream.close()

    def _pump_stderr(self, stream: IO[bytes]) -> None:
        for raw in iter(stream.readline, b""):
            self._stderr.append(raw.decode(errors="replace"))
        stream.close()

    def _stderr_tail(self) -> str:
        text = self.stderr
        if not text.strip():
            return "\n(the pack wrote nothing to stderr)"
        if len(text) > _STDERR_TAIL:
            text = "..." + text[-_STDERR_TAIL:]
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
        status = self._exit_status()
        state = f" (the pack has exited, {status})" if status else ""
        return AnalyzerError(f"{what} failed{state}: {code}: {details}{self._stderr_tail()}")

    def _exit_status(self) -> str | None:
        """How the pack ended ("rc=1", "signal 9"), or None while it runs.

        Read without reaping it, so that `close` can still sweep its process group safely.
        """
        proc = self._proc
        if proc is None:
            return None
        if proc.returncode is not None:
            return f"rc={proc.returncode}"
        try:
            status = os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        except ChildProcessError:
            return "rc unknown"
        if status is None:
            return None
        if status.si_code == os.CLD_EXITED:
            return f"rc={status.si_status}"
        return f"signal {status.si_status}"

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
            self._info = _analyzer_info(message, self._pack_version)
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
            policyConfig={name: _policy_config_proto(name, cfg) for name, cfg in sent.items()}
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

    def analyze(self, resource: Resource) -> AnalyzeResult:
        """Resource policies over one resource's inputs."""
        self._ensure_configured()
        try:
            response = self.stub.Analyze(analyze_request(resource), timeout=self._rpc_timeout)
        except grpc.RpcError as error:
            raise self._failed(f"Analyze({resource.urn})", error) from None
        return _analyze_result(response, self._pack_version)

    def analyze_many(self, resources: Iterable[Resource], window: int = 8) -> list[AnalyzeResult]:
        """`analyze` for many resources, `window` RPCs in flight on the one channel, in order.

        Overlapping round-trips is where the throughput is: the pack runs policies under one GIL.
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
            results.append(_analyze_result(response, self._pack_version))

        try:
            for resource in resources:
                request = analyze_request(resource)
                pending.append((resource.urn, analyze.future(request, timeout=self._rpc_timeout)))
                if len(pending) >= window:
                    collect()
            while pending:
                collect()
        finally:
            for _, future in pending:
                future.cancel()
        return results

    def analyze_stack(self, resources: Iterable[Resource]) -> AnalyzeResult:
        """Stack policies over every resource at once.

        Send the whole stack: pulumi-policy drops a parent or dependency whose URN is not among
        the request's resources, silently.
        """
        self._ensure_configured()
        request = analyzer_pb2.AnalyzeStackRequest(
            resources=[analyzer_resource(resource) for resource in resources]
        )
        try:
            response = self.stub.AnalyzeStack(request, timeout=self._rpc_timeout)
        except grpc.RpcError as error:
            raise self._failed("AnalyzeStack", error) from None
        return _analyze_result(response, self._pack_version)
