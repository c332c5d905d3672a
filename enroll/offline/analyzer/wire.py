"""The engine's analyzer protocol, our side of it: property values on the wire (unknowns,
secrets), the requests and results a policy pack sees, and their proto messages."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, cast

from google.protobuf import json_format, struct_pb2
from pulumi.runtime.proto import analyzer_pb2

# The wire format's sentinels (pulumi/sdk/go/common/resource/plugin/rpc.go).
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
SIG_KEY = "4dabf18193072939515e22adb298388d"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"

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


@dataclass(frozen=True)
class EncodedResource:
    """A resource's proto parts, built once per stack and shared by its Analyze and AnalyzeStack.

    A message given to a proto constructor or `CopyFrom` is copied, so the requests are the
    same bytes as if each had built its own parts.
    """

    resource: Resource
    properties: struct_pb2.Struct
    options: analyzer_pb2.AnalyzerResourceOptions
    provider: analyzer_pb2.AnalyzerProviderResource | None

    def analyze_request(self) -> analyzer_pb2.AnalyzeRequest:
        """AnalyzeRequest has no parent field: resource policies see it as `args.opts.parent`."""
        resource = self.resource
        request = analyzer_pb2.AnalyzeRequest(
            type=resource.type,
            urn=resource.urn,
            name=resource.name,
            properties=self.properties,
            options=self.options,
        )
        if self.provider is not None:
            request.provider.CopyFrom(self.provider)
        return request

    def analyzer_resource(self) -> analyzer_pb2.AnalyzerResource:
        resource = self.resource
        message = analyzer_pb2.AnalyzerResource(
            type=resource.type,
            urn=resource.urn,
            name=resource.name,
            properties=self.properties,
            options=self.options,
            parent=resource.parent,
            dependencies=list(resource.dependencies),
        )
        for key, urns in resource.property_dependencies.items():
            if urns:  # the engine leaves out properties without dependencies
                message.propertyDependencies[key].urns.extend(urns)
        if self.provider is not None:
            message.provider.CopyFrom(self.provider)
        return message


def encode_resources(resources: Iterable[Resource | EncodedResource]) -> list[EncodedResource]:
    """Each resource's parts once; a provider shared by many resources (the default `aws` one)
    is encoded once too. Already encoded resources pass unchanged."""
    providers: dict[int, analyzer_pb2.AnalyzerProviderResource] = {}
    encoded: list[EncodedResource] = []
    for resource in resources:
        if isinstance(resource, EncodedResource):
            encoded.append(resource)
            continue
        provider = None
        if resource.provider is not None:
            # Keyed by identity: `encoded` keeps every provider alive, so no id is reused.
            provider = providers.get(id(resource.provider))
            if provider is None:
                provider = providers[id(resource.provider)] = _provider_proto(resource.provider)
        encoded.append(
            EncodedResource(
                resource, to_struct(resource.properties), _options_proto(resource), provider
            )
        )
    return encoded


def policy_config_proto(name: str, config: PolicyConfig) -> analyzer_pb2.PolicyConfig:
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


def analyzer_info_from(message: analyzer_pb2.AnalyzerInfo, pack_version: str) -> AnalyzerInfo:
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


def analyze_result_from(response: analyzer_pb2.AnalyzeResponse, pack_version: str) -> AnalyzeResult:
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


def unwrap_secrets(value: Any) -> Any:
    """Wire JSON to plain values: secrets unwrapped, unknowns left as the UNKNOWN sentinel."""
    if isinstance(value, dict):
        if value.get(SIG_KEY) == SECRET_SIG:
            return unwrap_secrets(value.get("value"))
        return {key: unwrap_secrets(item) for key, item in value.items()}
    if isinstance(value, list):
        return [unwrap_secrets(item) for item in value]
    return value
