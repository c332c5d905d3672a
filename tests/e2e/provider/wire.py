"""Property values on the wire: google.protobuf.Struct with Pulumi's sentinels.

Secrets travel as `{SIG_KEY: SECRET_SIG, "value": ...}` and unknowns as the UNKNOWN string
(pulumi/sdk/go/common/resource/plugin/rpc.go). Handlers work on `plain` values; outputs are
built on the wire form of the inputs, so a secret input stays secret in the outputs.
"""

from __future__ import annotations

import json
from typing import Any

import yaml
from google.protobuf import json_format, struct_pb2

UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
SIG_KEY = "4dabf18193072939515e22adb298388d"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"


def from_struct(struct: struct_pb2.Struct | None) -> dict[str, Any]:
    return json_format.MessageToDict(struct) if struct is not None else {}


def to_struct(values: dict[str, Any]) -> struct_pb2.Struct:
    struct = struct_pb2.Struct()
    struct.update(values)
    return struct


def is_secret(value: Any) -> bool:
    return isinstance(value, dict) and value.get(SIG_KEY) == SECRET_SIG


def secret(value: Any) -> dict[str, Any]:
    return {SIG_KEY: SECRET_SIG, "value": value}


def has_unknown(value: Any) -> bool:
    if isinstance(value, dict):
        return any(has_unknown(item) for item in value.values())
    if isinstance(value, list):
        return any(has_unknown(item) for item in value)
    return value == UNKNOWN


def config_value(value: Any) -> Any:
    """A provider config value: the engine may send lists and maps as JSON strings."""
    if isinstance(value, str):
        text = value.strip()
        if text[:1] in "[{":
            # JSON as a rule; `pulumi config set --path` can give YAML-ish `[123456789012]`.
            try:
                return json.loads(text)
            except ValueError:
                pass
            try:
                return yaml.safe_load(text)
            except yaml.YAMLError:
                return value
        if text in ("true", "false"):
            return text == "true"
    return value
