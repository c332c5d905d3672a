"""A stack's requests are encoded once and shared by Analyze and AnalyzeStack: the same bytes
the engine's messages have, each resource's properties and the default provider built once."""

from __future__ import annotations

from concurrent.futures import Future
from typing import Any

import pytest
from conftest import example_stack_config
from google.protobuf import struct_pb2
from pulumi.runtime.proto import analyzer_pb2

from enroll.offline.analyzer import wire
from enroll.offline.analyzer.client import AnalyzerClient
from enroll.offline.analyzer.wire import (
    SECRET_SIG,
    SIG_KEY,
    UNKNOWN,
    ProviderResource,
    Resource,
    ResourceOptions,
    Secret,
    encode_resources,
    make_urn,
)
from enroll.offline.preview import _judge, registrations_to_resources
from enroll.offline.render import render

STACK, PROJECT = "dev", "team-app"
BUCKET = "aws:s3/bucket:Bucket"
PROVIDER_TYPE = "pulumi:providers:aws"
PROVIDER = ProviderResource(
    PROVIDER_TYPE,
    make_urn(STACK, PROJECT, PROVIDER_TYPE, "default_7_0_0"),
    "default_7_0_0",
    {"region": "eu-west-1", "version": "7.0.0"},
)
LOGS = Resource(
    BUCKET,
    make_urn(STACK, PROJECT, BUCKET, "logs"),
    "logs",
    {"bucket": "acme-logs", "tags": {"team": "a"}, "key": Secret("s3cr3t"), "arn": UNKNOWN},
    parent=make_urn(STACK, PROJECT, "pulumi:pulumi:Stack", f"{PROJECT}-{STACK}"),
    dependencies=(PROVIDER.urn,),
    property_dependencies={"bucket": (PROVIDER.urn,), "tags": ()},
    provider=PROVIDER,
)
ARCHIVE = Resource(
    BUCKET,
    make_urn(STACK, PROJECT, BUCKET, "archive"),
    "archive",
    {"bucket": "acme-archive", "size": 3},
    options=ResourceOptions(
        protect=True,
        ignore_changes=("tags",),
        delete_before_replace=True,
        aliases=("urn:old",),
        additional_secret_outputs=("arn",),
        custom_timeouts=(1.0, 2.0, 3.0),
    ),
    provider=PROVIDER,
)
STACK_RESOURCES = [
    Resource(PROVIDER_TYPE, PROVIDER.urn, PROVIDER.name, PROVIDER.properties),
    LOGS,
    ARCHIVE,
]


def struct(value: dict[str, Any]) -> struct_pb2.Struct:
    message = struct_pb2.Struct()
    message.update(value)
    return message


NO_TIMEOUTS = analyzer_pb2.AnalyzerResourceOptions.CustomTimeouts(create=0, update=0, delete=0)
OPTIONS = {
    PROVIDER.urn: analyzer_pb2.AnalyzerResourceOptions(customTimeouts=NO_TIMEOUTS),
    LOGS.urn: analyzer_pb2.AnalyzerResourceOptions(customTimeouts=NO_TIMEOUTS, parent=LOGS.parent),
    ARCHIVE.urn: analyzer_pb2.AnalyzerResourceOptions(
        protect=True,
        ignoreChanges=["tags"],
        deleteBeforeReplace=True,
        deleteBeforeReplaceDefined=True,
        additionalSecretOutputs=["arn"],
        aliases=["urn:old"],
        customTimeouts=analyzer_pb2.AnalyzerResourceOptions.CustomTimeouts(
            create=1.0, update=2.0, delete=3.0
        ),
    ),
}
PROPERTIES = {
    PROVIDER.urn: {"region": "eu-west-1", "version": "7.0.0"},
    LOGS.urn: {
        "bucket": "acme-logs",
        "tags": {"team": "a"},
        "key": {SIG_KEY: SECRET_SIG, "value": "s3cr3t"},
        "arn": UNKNOWN,
    },
    ARCHIVE.urn: {"bucket": "acme-archive", "size": 3.0},
}
PROVIDER_MESSAGE = analyzer_pb2.AnalyzerProviderResource(
    type=PROVIDER_TYPE,
    urn=PROVIDER.urn,
    name=PROVIDER.name,
    properties=struct({"region": "eu-west-1", "version": "7.0.0"}),
)


def expected_analyze(resource: Resource) -> bytes:
    request = analyzer_pb2.AnalyzeRequest(
        type=resource.type,
        urn=resource.urn,
        name=resource.name,
        properties=struct(PROPERTIES[resource.urn]),
        options=OPTIONS[resource.urn],
    )
    if resource.provider is not None:
        request.provider.CopyFrom(PROVIDER_MESSAGE)
    return request.SerializeToString(deterministic=True)


def expected_analyze_stack() -> bytes:
    request = analyzer_pb2.AnalyzeStackRequest()
    for resource in STACK_RESOURCES:
        message = request.resources.add(
            type=resource.type,
            urn=resource.urn,
            name=resource.name,
            properties=struct(PROPERTIES[resource.urn]),
            options=OPTIONS[resource.urn],
            parent=resource.parent,
            dependencies=list(resource.dependencies),
        )
        if resource is LOGS:
            message.propertyDependencies["bucket"].urns.append(PROVIDER.urn)
        if resource.provider is not None:
            message.provider.CopyFrom(PROVIDER_MESSAGE)
    return request.SerializeToString(deterministic=True)


class _Recorded:
    def __init__(self, requests: list[tuple[str, Any]], rpc: str) -> None:
        self._requests = requests
        self._rpc = rpc

    def __call__(self, request: Any, timeout: float | None = None) -> Any:
        self._requests.append((self._rpc, request))
        return analyzer_pb2.AnalyzeResponse()

    def future(self, request: Any, timeout: float | None = None) -> Future:
        done: Future = Future()
        done.set_result(self(request, timeout))
        return done


class RecordingClient(AnalyzerClient):
    """The client's requests, kept instead of sent."""

    def start(self) -> None:
        self.requests: list[tuple[str, Any]] = []
        self._stub = self  # type: ignore[assignment]
        self._configured = {}

    def __getattr__(self, rpc: str) -> _Recorded:
        return _Recorded(self.requests, rpc)

    def serialized(self, rpc: str) -> list[bytes]:
        return [r.SerializeToString(deterministic=True) for name, r in self.requests if name == rpc]


@pytest.fixture
def client() -> RecordingClient:
    recording = RecordingClient()
    recording.start()
    return recording


@pytest.mark.parametrize("encoded", [False, True], ids=["resources", "encoded once"])
def test_the_requests_are_the_engines_messages_byte_for_byte(client, encoded):
    resources = encode_resources(STACK_RESOURCES) if encoded else STACK_RESOURCES
    client.analyze_many(resources)
    client.analyze_stack(resources)
    client.analyze(resources[1])
    assert client.serialized("Analyze") == [
        *(expected_analyze(resource) for resource in STACK_RESOURCES),
        expected_analyze(LOGS),
    ]
    assert client.serialized("AnalyzeStack") == [expected_analyze_stack()]


def test_a_stack_encodes_each_resource_and_the_default_provider_once(client, monkeypatch):
    built = []
    original = wire.to_struct

    def counted(props):
        built.append(dict(props))
        return original(props)

    monkeypatch.setattr(wire, "to_struct", counted)
    _judge(client, STACK, {}, STACK_RESOURCES)
    assert built == [PROVIDER.properties, PROVIDER.properties, LOGS.properties, ARCHIVE.properties]
    assert client.serialized("AnalyzeStack") == [expected_analyze_stack()]


def test_a_rendered_stack_sends_what_each_resource_encoded_alone_would(client):
    config = example_stack_config("log-archive")
    rendered = render(config, stack="log-archive", preview=True)
    resources = registrations_to_resources(rendered, config)
    assert sum(1 for r in resources if r.provider is not None) > 10
    _judge(client, "log-archive", config, resources)
    alone = [encode_resources([resource])[0] for resource in resources]
    assert client.serialized("Analyze") == [
        e.analyze_request().SerializeToString(deterministic=True) for e in alone
    ]
    stack = analyzer_pb2.AnalyzeStackRequest(resources=[e.analyzer_resource() for e in alone])
    assert client.serialized("AnalyzeStack") == [stack.SerializeToString(deterministic=True)]
