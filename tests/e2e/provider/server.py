"""The ResourceProvider gRPC service the engine talks to (pulumi/proto/pulumi/provider.proto)."""

from __future__ import annotations

import functools
import hashlib
import json
import os
import signal
import sys
import threading
import traceback
from collections.abc import Callable
from concurrent import futures
from typing import Any

import grpc
from google.protobuf import empty_pb2
from pulumi.runtime.proto import plugin_pb2, provider_pb2, provider_pb2_grpc

from enroll.offline.analyzer.wire import unwrap_secrets

from . import PLUGIN_NAME, PLUGIN_VERSION, RPC_LOG_ENV
from .invokes import UnsupportedInvoke, invoke
from .resources import ApiError, Ctx, autoname_property, check_failures, handler_for
from .session import AwsSession, ConfigError, ProviderConfig
from .wire import UNKNOWN, from_struct, has_unknown, to_struct

DIFF_NONE = provider_pb2.DiffResponse.DIFF_NONE
DIFF_SOME = provider_pb2.DiffResponse.DIFF_SOME
Kind = provider_pb2.PropertyDiff


class OperationError(Exception):
    """A failed resource operation; the message is what the engine shows for the resource."""


def _type_and_name(request: Any) -> tuple[str, str]:
    urn = getattr(request, "urn", "") or ""
    parts = urn.split("::")
    token = getattr(request, "type", "") or (parts[2].split("$")[-1] if len(parts) > 3 else "")
    name = getattr(request, "name", "") or (parts[3] if len(parts) > 3 else "")
    return token, name


def _error_text(error: BaseException) -> str:
    from botocore.exceptions import BotoCoreError, ClientError

    if isinstance(error, ClientError):
        details = error.response.get("Error", {})
        code, message = details.get("Code", "?"), details.get("Message", str(error))
        return f"operation error {error.operation_name}, api error {code}: {message}"
    if isinstance(error, ApiError):
        return f"operation error {error.operation}, api error {error.code}: {error.message}"
    if isinstance(error, BotoCoreError | ConfigError | UnsupportedInvoke):
        return str(error)
    return f"{type(error).__name__}: {error}"


def _operation(verb: str, token: str) -> str:
    """The API operation a resource's failure names when no AWS call made it (`CreateBucket`)."""
    return verb + token.rsplit(":", 1)[-1]


def _in_region(ctx: Ctx, verb: str, call: Callable[[], Any]) -> Callable[[], Any]:
    """`call`, after checking the resource's region is enabled in the account."""

    def run() -> Any:
        if ctx.aws.emulated:
            ctx.require_region(_operation(verb, ctx.token))
        return call()

    return run


def _is_expected(error: BaseException) -> bool:
    from botocore.exceptions import BotoCoreError, ClientError

    return isinstance(error, ClientError | BotoCoreError | ApiError | ConfigError)


def rpc(method: Callable[..., Any]) -> Callable[..., Any]:
    """Trace the call; turn failures into gRPC errors carrying the AWS message."""

    @functools.wraps(method)
    def handle(self: StandInProvider, request: Any, context: grpc.ServicerContext) -> Any:
        self.trace(method.__name__, request)
        try:
            return method(self, request, context)
        except OperationError as error:
            message = str(error)
        except ConfigError as error:
            message = str(error)
        except Exception as error:
            traceback.print_exc(file=sys.stderr)
            message = f"stand-in aws provider: {_error_text(error)}"
        self.trace(f"{method.__name__}!", request, message)
        context.abort(grpc.StatusCode.UNKNOWN, message)

    return handle


class StandInProvider(provider_pb2_grpc.ResourceProviderServicer):
    def __init__(self, rpc_log: str | None = None) -> None:
        self.aws: AwsSession | None = None
        self.engine_address = ""
        self._rpc_log = rpc_log
        self._log_lock = threading.Lock()

    # --- plumbing -------------------------------------------------------------------------

    def trace(self, method: str, request: Any, detail: str = "") -> None:
        if not self._rpc_log:
            return
        token, name = _type_and_name(request)
        subject = getattr(request, "tok", "") or (f"{token}::{name}" if token else "")
        line = " ".join(part for part in (method, subject, detail.replace("\n", " ")) if part)
        with self._log_lock, open(self._rpc_log, "a", encoding="utf-8") as log:
            log.write(line + "\n")

    def _session(self) -> AwsSession:
        if self.aws is None:
            raise ConfigError("the stand-in aws provider was not configured (Configure)")
        return self.aws

    def _operate(self, verb: str, token: str, ident: str, call: Callable[[], Any]) -> Any:
        try:
            return call()
        except Exception as error:
            if not _is_expected(error):
                traceback.print_exc(file=sys.stderr)
            raise OperationError(f"{verb} {token} ({ident}): {_error_text(error)}") from error

    # --- plugin ---------------------------------------------------------------------------

    @rpc
    def Handshake(self, request: Any, context: Any) -> Any:
        self.engine_address = request.engine_address
        return provider_pb2.ProviderHandshakeResponse(
            accept_secrets=True, accept_resources=True, accept_outputs=False
        )

    @rpc
    def GetPluginInfo(self, request: Any, context: Any) -> Any:
        return plugin_pb2.PluginInfo(version=PLUGIN_VERSION)

    @rpc
    def GetSchema(self, request: Any, context: Any) -> Any:
        schema = {"name": PLUGIN_NAME, "version": PLUGIN_VERSION, "resources": {}, "functions": {}}
        return provider_pb2.GetSchemaResponse(schema=json.dumps(schema))

    @rpc
    def Attach(self, request: Any, context: Any) -> Any:
        self.engine_address = request.address
        return empty_pb2.Empty()

    @rpc
    def Cancel(self, request: Any, context: Any) -> Any:
        return empty_pb2.Empty()

    @rpc
    def GetMapping(self, request: Any, context: Any) -> Any:
        return provider_pb2.GetMappingResponse(provider="", data=b"")

    @rpc
    def GetMappings(self, request: Any, context: Any) -> Any:
        return provider_pb2.GetMappingsResponse(providers=[])

    # --- provider configuration -------------------------------------------------------------

    @rpc
    def CheckConfig(self, request: Any, context: Any) -> Any:
        return provider_pb2.CheckResponse(inputs=request.news)

    @rpc
    def DiffConfig(self, request: Any, context: Any) -> Any:
        olds = from_struct(request.old_inputs if request.HasField("old_inputs") else request.olds)
        news = from_struct(request.news)
        changed = sorted(
            key
            for key in set(olds) | set(news)
            if key != "version" and unwrap_secrets(olds.get(key)) != unwrap_secrets(news.get(key))
        )
        if not changed:
            return provider_pb2.DiffResponse(changes=DIFF_NONE)
        return provider_pb2.DiffResponse(changes=DIFF_SOME, diffs=changed)

    @rpc
    def Configure(self, request: Any, context: Any) -> Any:
        values = from_struct(request.args) if request.HasField("args") else {}
        if not values:
            for key, value in request.variables.items():
                for prefix in ("aws:config:", "aws:"):
                    if key.startswith(prefix):
                        values[key[len(prefix) :]] = value
                        break
        self.trace("Configure:keys", request, " ".join(sorted(values)))
        self.aws = AwsSession(ProviderConfig.parse(values))
        return provider_pb2.ConfigureResponse(
            acceptSecrets=True, supportsPreview=True, acceptResources=True, acceptOutputs=False
        )

    # --- resources --------------------------------------------------------------------------

    @rpc
    def Check(self, request: Any, context: Any) -> Any:
        token, name = _type_and_name(request)
        news = from_struct(request.news)
        olds = from_struct(request.olds) if request.HasField("olds") else {}
        inputs = dict(news)
        prop = autoname_property(token)
        if prop and inputs.get(prop) in (None, ""):
            if olds.get(prop) not in (None, ""):
                inputs[prop] = olds[prop]
            else:
                seed = request.randomSeed or request.urn.encode()
                suffix = hashlib.sha256(seed + name.encode()).hexdigest()[:7]
                prefix = unwrap_secrets(inputs.get(f"{prop}Prefix"))
                generated = f"{prefix}{suffix}" if prefix else f"{name}-{suffix}"
                inputs[prop] = generated.lower() if prop == "bucket" else generated
        failures = [
            provider_pb2.CheckFailure(property=key, reason=reason)
            for key, reason in check_failures(token, unwrap_secrets(inputs))
        ]
        return provider_pb2.CheckResponse(inputs=to_struct(inputs), failures=failures)

    @rpc
    def Diff(self, request: Any, context: Any) -> Any:
        token, _ = _type_and_name(request)
        news = from_struct(request.news)
        if request.HasField("old_inputs"):
            olds = from_struct(request.old_inputs)
            keys = set(olds) | set(news)
        else:  # old outputs: only what the program sets can differ
            olds = from_struct(request.olds)
            keys = set(news)
        keys -= set(request.ignoreChanges) | {"__defaults"}
        replace_on = set(handler_for(token).replace_on)
        detailed: dict[str, Any] = {}
        for key in sorted(keys):
            old, new = olds.get(key), news.get(key)
            if not has_unknown(new) and unwrap_secrets(old) == unwrap_secrets(new):
                continue
            if key not in olds:
                kind = Kind.ADD_REPLACE if key in replace_on else Kind.ADD
            elif key not in news:
                kind = Kind.DELETE_REPLACE if key in replace_on else Kind.DELETE
            else:
                kind = Kind.UPDATE_REPLACE if key in replace_on else Kind.UPDATE
            detailed[key] = provider_pb2.PropertyDiff(kind=kind, inputDiff=True)
        if not detailed:
            return provider_pb2.DiffResponse(changes=DIFF_NONE, hasDetailedDiff=True)
        return provider_pb2.DiffResponse(
            changes=DIFF_SOME,
            diffs=list(detailed),
            replaces=[key for key in detailed if key in replace_on],
            detailedDiff=detailed,
            hasDetailedDiff=True,
        )

    def _describe(self, ctx: Ctx) -> dict[str, Any]:
        try:
            return handler_for(ctx.token).describe(ctx)[1]
        except (KeyError, TypeError):  # inputs still unknown in a preview
            return {}

    @rpc
    def Create(self, request: Any, context: Any) -> Any:
        token, name = _type_and_name(request)
        aws = self._session()
        wire = from_struct(request.properties)
        ctx = Ctx(token, name, request.urn, unwrap_secrets(wire), aws)
        handler = handler_for(token)
        if request.preview:
            unknown = {k: UNKNOWN for k in self._describe(ctx) if k not in wire}
            return provider_pb2.CreateResponse(id="", properties=to_struct({**wire, **unknown}))
        run = handler.create if handler.emulated and aws.emulated else handler.describe
        resource_id, computed = self._operate(
            "creating", token, name, _in_region(ctx, "Create", lambda: run(ctx))
        )
        outputs = {**wire, **{k: v for k, v in computed.items() if k not in wire}}
        outputs["id"] = resource_id
        return provider_pb2.CreateResponse(id=resource_id, properties=to_struct(outputs))

    @rpc
    def Update(self, request: Any, context: Any) -> Any:
        token, name = _type_and_name(request)
        aws = self._session()
        olds = unwrap_secrets(from_struct(request.olds))
        old_inputs = (
            unwrap_secrets(from_struct(request.old_inputs))
            if request.HasField("old_inputs")
            else olds
        )
        wire = from_struct(request.news)
        ctx = Ctx(token, name, request.urn, unwrap_secrets(wire), aws)
        handler = handler_for(token)
        described = self._describe(ctx)
        emulated = handler.emulated and aws.emulated
        # Ids and ARNs AWS assigned stay what they were; in memory they follow the inputs.
        computed = (
            {**described, **{k: olds[k] for k in described if k in olds}} if emulated else described
        )
        if request.preview:
            outputs = {**wire, **{k: computed.get(k, UNKNOWN) for k in described if k not in wire}}
            return provider_pb2.UpdateResponse(properties=to_struct(outputs))
        if emulated:
            update = _in_region(ctx, "Update", lambda: handler.update(ctx, request.id, old_inputs))
        else:
            update = _in_region(ctx, "Update", dict)
        computed.update(self._operate("updating", token, request.id, update))
        outputs = {**wire, **{k: v for k, v in computed.items() if k not in wire}}
        outputs["id"] = request.id
        return provider_pb2.UpdateResponse(properties=to_struct(outputs))

    @rpc
    def Delete(self, request: Any, context: Any) -> Any:
        token, name = _type_and_name(request)
        aws = self._session()
        state = unwrap_secrets(from_struct(request.properties))
        handler = handler_for(token)
        ctx = Ctx(token, name, request.urn, state, aws)
        if handler.emulated and aws.emulated:
            delete = _in_region(ctx, "Delete", lambda: handler.delete(ctx, request.id, state))
        else:
            delete = _in_region(ctx, "Delete", dict)
        self._operate("deleting", token, request.id, delete)
        return empty_pb2.Empty()

    @rpc
    def Read(self, request: Any, context: Any) -> Any:
        token, name = _type_and_name(request)
        aws = self._session()
        state = unwrap_secrets(from_struct(request.properties))
        handler = handler_for(token)
        if handler.emulated and aws.emulated and state:
            ctx = Ctx(token, name, request.urn, state, aws)
            found = self._operate(
                "reading", token, request.id, lambda: handler.exists(ctx, request.id, state)
            )
            if not found:
                return provider_pb2.ReadResponse(id="")  # gone: the engine drops it
        properties = request.properties if state else to_struct({"id": request.id})
        return provider_pb2.ReadResponse(
            id=request.id, properties=properties, inputs=request.inputs
        )

    # --- data sources -------------------------------------------------------------------------

    @rpc
    def Invoke(self, request: Any, context: Any) -> Any:
        aws = self._session()
        args = unwrap_secrets(from_struct(request.args))
        result = self._operate(
            "invoking", request.tok, "data source", lambda: invoke(aws, request.tok, args)
        )
        return provider_pb2.InvokeResponse(**{"return": to_struct(result)})


def serve(argv: list[str]) -> None:
    """Serve on 127.0.0.1:<free port>, print ONLY the port on stdout, run until killed."""
    # Anything else on stdout before the port breaks the engine: from here on, fd 1 is stderr.
    port_out = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=32),
        options=[
            ("grpc.max_receive_message_length", 400 * 1024 * 1024),
            ("grpc.max_send_message_length", 400 * 1024 * 1024),
        ],
    )
    provider = StandInProvider(rpc_log=os.environ.get(RPC_LOG_ENV) or None)
    if argv:
        provider.engine_address = argv[0]
    provider_pb2_grpc.add_ResourceProviderServicer_to_server(provider, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    port_out.write(f"{port}\n")
    port_out.flush()
    stop.wait()
    server.stop(grace=1).wait()
