"""Render our Pulumi program for one stack config, in-process, under Pulumi's mocks.

What is captured is what the engine would receive from the program: every resource
registration (type, name, wire-format inputs, parent, provider, dependencies, property
dependencies) and the stack outputs. No CLI, no credentials, no network.

Each render runs in a fresh `contextvars.Context`, so many stacks render one after another
in one process without sharing Pulumi runtime state.
"""

from __future__ import annotations

import contextvars
import hashlib
import json
import runpy
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from google.protobuf import json_format

PROJECT_DIR = Path(__file__).resolve().parent.parent
PROJECT = "org-logging"
AWS_PROVIDER_VERSION = "7.51.1"

# The wire format's sentinels (pulumi/sdk/go/common/resource/plugin/rpc.go).
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
SIG_KEY = "4dabf18193072939515e22adb298388d"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"


class RenderError(Exception):
    """The program failed for this config; the message is what `pulumi preview` would print."""

    def __init__(self, message: str, resources: list[Registration] | None = None) -> None:
        super().__init__(message)
        self.resources = resources or []


@dataclass(frozen=True)
class OrgFacts:
    """What the organization looks like to the program's data sources (`getOrganization`...)."""

    org_id: str
    management_account_id: str
    root_id: str = "r-a1b2"
    scp_enabled: bool = True
    # SCP names already attached to each target, ours excluded.
    attached_scps: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # Services with trusted access (ListAWSServiceAccessForOrganization).
    service_access_principals: tuple[str, ...] = ("cloudtrail.amazonaws.com",)
    # Whether the log-archive stack's key exists (the management stack looks it up).
    central_key_exists: bool = True


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


def plain(value: Any) -> Any:
    """Wire JSON to plain values: secrets unwrapped, unknowns left as the UNKNOWN sentinel."""
    if isinstance(value, dict):
        if value.get(SIG_KEY) == SECRET_SIG:
            return plain(value.get("value"))
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value


# --------------------------------------------------------------------------------------------
# Mocks: what a provider would compute (ids, ARNs) and what data sources would return
# --------------------------------------------------------------------------------------------


def _partition(region: str) -> str:
    """The region's partition; a team stack may use a region our table lacks: assume aws."""
    from components import naming

    try:
        return naming.partition_of(region).name
    except ValueError:
        return "aws"


def config_string(value: Any) -> str:
    """Pulumi config holds strings; structured values are their JSON."""
    return value if isinstance(value, str) else json.dumps(value)


def _short_id(*parts: str) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:12]


def computed_outputs(token: str, name: str, inputs: dict, *, region: str, account: str) -> dict:
    """The id and ARN a real provider would return for the resources we and teams declare."""
    region = inputs.get("region") or region
    part = _partition(region)
    uid = _short_id(token, name)
    named = inputs.get("name") or name

    def arn(service: str, resource: str, *, reg: str = region, acct: str = account) -> str:
        return f"arn:{part}:{service}:{reg}:{acct}:{resource}"

    out: dict[str, Any] = {}
    if token == "aws:s3/bucket:Bucket" or token == "aws:s3/bucketV2:BucketV2":
        bucket = inputs.get("bucket") or f"{name}-{uid}"
        out = {"id": bucket, "bucket": bucket, "arn": f"arn:{part}:s3:::{bucket}"}
    elif token == "aws:iam/role:Role":
        out = {"id": named, "name": named, "arn": arn("iam", f"role/{named}", reg="")}
    elif token == "aws:kms/key:Key":
        key_id = f"{uid[:8]}-{uid[8:12]}-4000-8000-{uid}"
        out = {"id": key_id, "keyId": key_id, "arn": arn("kms", f"key/{key_id}")}
    elif token == "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream":
        out = {
            "id": arn("firehose", f"deliverystream/{named}"),
            "arn": arn("firehose", f"deliverystream/{named}"),
        }
    elif token == "aws:cloudwatch/logDestination:LogDestination":
        out = {"id": named, "arn": arn("logs", f"destination:{named}")}
    elif token == "aws:cloudwatch/logGroup:LogGroup":
        out = {"id": named, "arn": arn("logs", f"log-group:{named}")}
    elif token == "aws:cloudwatch/eventBus:EventBus":
        out = {"id": named, "arn": arn("events", f"event-bus/{named}")}
    elif token == "aws:cloudwatch/eventRule:EventRule":
        bus = inputs.get("eventBusName") or "default"
        path = f"rule/{named}" if bus == "default" else f"rule/{bus}/{named}"
        out = {"id": f"{bus}|{named}", "arn": arn("events", path)}
    elif token == "aws:sns/topic:Topic":
        out = {"id": arn("sns", named), "arn": arn("sns", named)}
    elif token == "aws:cloudtrail/trail:Trail":
        out = {"id": named, "arn": arn("cloudtrail", f"trail/{named}")}
    elif token == "aws:cloudwatch/metricAlarm:MetricAlarm":
        out = {"id": named, "arn": arn("cloudwatch", f"alarm:{named}")}
    elif token == "aws:organizations/policy:Policy":
        out = {
            "id": f"p-{uid[:8]}",
            "arn": f"arn:{part}:organizations::{account}:policy/p-{uid[:8]}",
        }
    return {**inputs, **out}


class OfflineMocks:
    """Pulumi mocks (duck-typed to `pulumi.runtime.Mocks`) with a sample org behind them."""

    def __init__(self, config: Mapping[str, Any], org: OrgFacts | None, preview: bool) -> None:
        def get(key: str) -> str:
            value = config.get(f"org-logging:{key}")
            return value if isinstance(value, str) else ""

        role = get("role")
        self.account = (
            {
                "management": get("managementAccountId"),
                "log-archive": get("logArchiveAccountId"),
            }.get(role)
            or get("accountId")
            or "123456789012"
        )
        self.region = str(config.get("aws:region") or get("homeRegion") or "us-east-1")
        self.org = org or OrgFacts(
            org_id=get("orgId") or "o-exampleorg1",
            management_account_id=get("managementAccountId") or self.account,
        )
        self.preview = preview
        self.invokes: list[str] = []

    def new_resource(self, args: Any) -> tuple[str | None, dict]:
        state = computed_outputs(
            args.typ, args.name, dict(args.inputs), region=self.region, account=self.account
        )
        if self.preview:
            # In a preview the provider has not created anything: ids and outputs are unknown.
            return None, dict(args.inputs)
        return state.pop("id", f"{args.name}-{_short_id(args.typ, args.name)}"), state

    def call(self, args: Any) -> tuple[dict, list]:
        self.invokes.append(args.token)
        org = self.org
        part = _partition(self.region)
        token = args.token
        if token == "aws:organizations/getOrganization:getOrganization":
            types = (
                [{"type": "SERVICE_CONTROL_POLICY", "status": "ENABLED"}] if org.scp_enabled else []
            )
            org_arn = f"arn:{part}:organizations::{org.management_account_id}"
            return {
                "id": org.org_id,
                "arn": f"{org_arn}:organization/{org.org_id}",
                "masterAccountId": org.management_account_id,
                "awsServiceAccessPrincipals": list(org.service_access_principals),
                "featureSet": "ALL",
                "roots": [
                    {
                        "id": org.root_id,
                        "name": "Root",
                        "arn": f"{org_arn}:root/{org.org_id}/{org.root_id}",
                        "policyTypes": types,
                    }
                ],
            }, []
        if token == "aws:organizations/getPoliciesForTarget:getPoliciesForTarget":
            names = org.attached_scps.get(args.args.get("targetId", ""), ())
            return {
                "ids": [f"p-{_short_id(n)[:8]}" for n in names],
                "id": args.args.get("targetId"),
            }, []
        if token == "aws:organizations/getPolicy:getPolicy":
            policy_id = args.args.get("policyId", "")
            names = {f"p-{_short_id(n)[:8]}": n for ns in org.attached_scps.values() for n in ns}
            return {"id": policy_id, "name": names.get(policy_id, policy_id)}, []
        if token == "aws:kms/getKey:getKey":
            # The key an alias ARN names, in the alias's account and region.
            key_id = str(args.args.get("keyId", ""))
            parts = key_id.split(":")
            if not org.central_key_exists:
                # As the engine reports a failed invoke: an error the program may catch.
                return {}, [("keyId", f"NotFoundException: Alias {key_id} is not found.")]
            if len(parts) < 6:
                return {}, []
            uid = _short_id("key", key_id)
            key = f"{uid[:8]}-{uid[8:12]}-4000-8000-{uid}"
            return {
                "id": key,
                "keyId": key_id,
                "arn": ":".join([*parts[:5], f"key/{key}"]),
            }, []
        if token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {"accountId": self.account, "arn": f"arn:{part}:iam::{self.account}:root"}, []
        if token == "aws:s3/getCanonicalUserId:getCanonicalUserId":
            return {"id": _short_id("canonical", self.account) * 5, "displayName": ""}, []
        if token == "aws:index/getRegion:getRegion":
            return {"name": self.region, "region": self.region}, []
        if token == "aws:index/getPartition:getPartition":
            return {"partition": part}, []
        return {}, []


# --------------------------------------------------------------------------------------------
# The recording monitor and the render itself
# --------------------------------------------------------------------------------------------


def _recording_monitor(mocks: OfflineMocks) -> Any:
    from pulumi.runtime.mocks import MockMonitor

    class RecordingMonitor(MockMonitor):
        def __init__(self) -> None:
            super().__init__(mocks)
            self.registrations: list[Registration] = []
            self.stack_outputs: dict[str, Any] = {}

        def RegisterResource(self, request: Any) -> Any:
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
                    inputs=plain(wire),
                    retain_on_delete=bool(request.retainOnDelete),
                )
            )
            return response

        def RegisterResourceOutputs(self, request: Any) -> Any:
            if request.urn.endswith(f"pulumi:pulumi:Stack::{PROJECT}-{self.stack_name}"):
                self.stack_outputs = plain(json_format.MessageToDict(request.outputs))
            return super().RegisterResourceOutputs(request)

    return RecordingMonitor()


def _skip_source_positions() -> None:
    """The SDK walks the Python stack for every registration to report source positions to the
    engine; mocks discard them, and the walk is ~15% of a render."""
    from pulumi.runtime import resource
    from pulumi.runtime.proto import source_pb2

    resource._get_stack_trace = source_pb2.StackTrace  # type: ignore[attr-defined]


def render(
    config: Mapping[str, Any],
    *,
    stack: str,
    preview: bool = False,
    org: OrgFacts | None = None,
    program: Callable[[], None] | None = None,
) -> Rendered:
    """Run the program (default: the project's `__main__.py`) for `config` under mocks.

    `config` maps full keys (`org-logging:role`, `aws:region`) to strings, or to lists and
    maps that are passed as JSON, as Pulumi config stores them.
    """
    return contextvars.Context().run(_render, dict(config), stack, preview, org, program)


def _render(
    config: dict[str, Any],
    stack: str,
    preview: bool,
    org: OrgFacts | None,
    program: Callable[[], None] | None,
) -> Rendered:
    from google.protobuf import empty_pb2
    from pulumi.runtime import config as pulumi_config
    from pulumi.runtime.mocks import MockEngine, MockSettings
    from pulumi.runtime.settings import configure
    from pulumi.runtime.stack import run_in_stack
    from pulumi.runtime.sync_await import _sync_await

    if str(PROJECT_DIR) not in sys.path:
        sys.path.insert(0, str(PROJECT_DIR))
    _skip_source_positions()
    mocks = OfflineMocks(config, org, preview)
    monitor = _recording_monitor(mocks)
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
    pulumi_config.set_all_config({key: config_string(value) for key, value in config.items()})
    entry = program or (
        lambda: runpy.run_path(str(PROJECT_DIR / "__main__.py"), run_name="__main__")
    )
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
