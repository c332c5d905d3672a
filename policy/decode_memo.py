"""Decode each resource's properties once, not once per policy (pulumi-policy 1.21.0 only).

pulumi-policy's servicer decodes a request's property Struct for every policy it runs:
`deserialize_properties(json_format.MessageToDict(<message>.properties))` in `Analyze`,
`AnalyzeStack` (every resource, per stack policy) and `_get_provider_resource` (the provider,
per policy), each result handed straight to `unknown_checking_proxy`
(pulumi_policy/policy.py 1.21.0). With a dozen policies that is most of the servicer's time.

`install()` rebinds those two names in `pulumi_policy.policy` so that at those three call
sites a Struct is decoded by the SDK's own functions once per distinct content, keyed by its
deterministic serialization, in a bounded LRU. Why sharing the decoded dict is faithful:
`unknown_checking_proxy` (pulumi_policy/proxy.py) rebuilds every dict and list for each
policy, and `_DictProxy.__setitem__` writes into that copy, so a policy can only reach the
leaves; a value is memoized only if every leaf is an immutable scalar (an asset or archive
object is decoded afresh each time). Anywhere else (`Configure`, `Remediate`) the names
behave exactly as the SDK's own.

The rebinding depends on that source, so it installs only on the pinned SDK version: on any
other it does nothing, silently (the pack's stdout carries the port to the engine), and the
pack runs unmemoized. tests/test_decode_memo.py fails on another version.
"""

from __future__ import annotations

import collections
import sys
import threading
from collections.abc import Callable
from types import CodeType, ModuleType
from typing import Any

from google.protobuf import struct_pb2
from pulumi_policy import policy as sdk
from pulumi_policy import version as sdk_version

PINNED_SDK_VERSION = "1.21.0"
DEFAULT_MAXSIZE = 4096  # distinct property sets; an org's stacks share most of theirs
_SCALARS = (str, int, float, bool, type(None))


def _immutable(value: Any) -> bool:
    """Only dicts, lists and scalars: what `unknown_checking_proxy` fully copies or can't mutate."""
    if isinstance(value, dict):
        return all(_immutable(item) for item in value.values())
    if isinstance(value, list):
        return all(_immutable(item) for item in value)
    return isinstance(value, _SCALARS)


class _Undecoded:
    """What `MessageToDict` returns at a decode site: the Struct, for `deserialize_properties`."""

    __slots__ = ("struct",)

    def __init__(self, struct: struct_pb2.Struct) -> None:
        self.struct = struct


class DecodeMemo:
    """The SDK's decode of a property Struct, once per distinct serialization, LRU-bounded."""

    def __init__(
        self,
        message_to_dict: Callable[..., Any],
        deserialize: Callable[..., Any],
        maxsize: int = DEFAULT_MAXSIZE,
    ) -> None:
        if maxsize < 1:
            raise ValueError("maxsize must be at least 1")
        self.maxsize = maxsize
        self.decodes = 0  # Structs decoded (misses, and values not memoized)
        self.hits = 0
        self._message_to_dict = message_to_dict
        self._deserialize = deserialize
        self._entries: collections.OrderedDict[bytes, dict[str, Any]] = collections.OrderedDict()
        self._lock = threading.Lock()  # the pack serves several RPCs at once

    def __len__(self) -> int:
        return len(self._entries)

    def decode(self, struct: struct_pb2.Struct) -> dict[str, Any]:
        key = struct.SerializeToString(deterministic=True)
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
                self.hits += 1
                return found
            self.decodes += 1
        decoded = self._deserialize(self._message_to_dict(struct))
        if _immutable(decoded):
            with self._lock:
                self._entries[key] = decoded
                self._entries.move_to_end(key)
                while len(self._entries) > self.maxsize:
                    self._entries.popitem(last=False)
        return decoded


class _JsonFormat:
    """`json_format` as pulumi_policy.policy sees it: only its decode sites get `_Undecoded`."""

    def __init__(self, original: ModuleType, sites: frozenset[CodeType]) -> None:
        self.original = original
        self._sites = sites

    def __getattr__(self, name: str) -> Any:
        return getattr(self.original, name)

    def MessageToDict(self, message: Any, *args: Any, **kwargs: Any) -> Any:
        if (
            not args
            and not kwargs
            and type(message) is struct_pb2.Struct
            and sys._getframe(1).f_code in self._sites
        ):
            return _Undecoded(message)
        return self.original.MessageToDict(message, *args, **kwargs)


class _Installed:
    """The rebound names and what they replaced, kept on `pulumi_policy.policy` itself."""

    def __init__(self, memo: DecodeMemo) -> None:
        self.memo = memo
        self.original_json_format = sdk.json_format
        self.original_deserialize = sdk.deserialize_properties
        servicer = sdk._PolicyAnalyzerServicer
        sites = frozenset(
            method.__code__
            for method in (servicer.Analyze, servicer.AnalyzeStack, servicer._get_provider_resource)
        )
        self.json_format = _JsonFormat(self.original_json_format, sites)

    def deserialize_properties(self, props: Any, proxy_secrets: bool = False) -> Any:
        if isinstance(props, _Undecoded):
            if proxy_secrets:  # never at the three sites; decode as the SDK would
                return self.original_deserialize(
                    self.json_format.original.MessageToDict(props.struct), True
                )
            return self.memo.decode(props.struct)
        return self.original_deserialize(props, proxy_secrets)


_MARK = "_org_logging_decode_memo"


def installed() -> DecodeMemo | None:
    """The memo in use by pulumi_policy.policy, or None."""
    found = getattr(sdk, _MARK, None)
    return found.memo if found is not None else None


def install(maxsize: int = DEFAULT_MAXSIZE) -> DecodeMemo | None:
    """Memoize the servicer's decodes (module doc); None, and nothing changed, on another SDK.

    Installing twice keeps the first memo: the pack's modules may be imported under two names.
    """
    if sdk_version.VERSION != PINNED_SDK_VERSION:
        return None
    current = installed()
    if current is not None:
        return current
    rebound = _Installed(
        DecodeMemo(sdk.json_format.MessageToDict, sdk.deserialize_properties, maxsize)
    )
    sdk.json_format = rebound.json_format
    sdk.deserialize_properties = rebound.deserialize_properties
    setattr(sdk, _MARK, rebound)
    return rebound.memo


def uninstall() -> None:
    """Give pulumi_policy.policy back its own names (the tests compare with and without)."""
    rebound = getattr(sdk, _MARK, None)
    if rebound is None:
        return
    sdk.json_format = rebound.original_json_format
    sdk.deserialize_properties = rebound.original_deserialize
    delattr(sdk, _MARK)
