"""Reading resource properties without ever crashing on what a preview or a team sends.

pulumi-policy hands policies proxies that raise on unknown (preview) values. Rules here read
plain copies instead, in which an unknown is the `UNKNOWN` marker: a rule decides what an
unknown means for it (usually: nothing can be judged yet, the `up` will judge it). Secrets
arrive unwrapped. Malformed JSON documents are reported, not raised.
"""

from __future__ import annotations

import fnmatch
import functools
import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import conventions
from pulumi_policy import proxy

_UNKNOWN_SENTINELS = frozenset(
    {
        proxy.UNKNOWN_BOOLEAN_VALUE,
        proxy.UNKNOWN_NUMBER_VALUE,
        proxy.UNKNOWN_STRING_VALUE,
        proxy.UNKNOWN_ARRAY_VALUE,
        proxy.UNKNOWN_ASSET_VALUE,
        proxy.UNKNOWN_ARCHIVE_VALUE,
        proxy.UNKNOWN_OBJECT_VALUE,
    }
)


class _Unknown:
    """A value the engine will only know after the update."""

    def __repr__(self) -> str:
        return "<unknown>"


UNKNOWN = _Unknown()


def unproxied(value: Any) -> Any:
    """A plain copy of `value` with pulumi-policy's proxies removed and unknowns marked."""
    if isinstance(value, proxy._DictProxy):
        target = value["__target"]
        return {key: unproxied(target[key]) for key in target}
    if isinstance(value, proxy._ListProxy):
        return [unproxied(item) for item in value["__target"]]
    if isinstance(value, Mapping):
        return {key: unproxied(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [unproxied(item) for item in value]
    if isinstance(value, str) and value in _UNKNOWN_SENTINELS:
        return UNKNOWN
    return value


def is_unknown(value: Any) -> bool:
    return value is UNKNOWN


def contains_unknown(value: Any) -> bool:
    """Whether any part of `value` is unknown (a preview's value of a resource yet to exist)."""
    if is_unknown(value):
        return True
    if isinstance(value, Mapping):
        return any(contains_unknown(item) for item in value.values())
    if isinstance(value, list | tuple):
        return any(contains_unknown(item) for item in value)
    return False


def get(data: Any, *path: str | int) -> Any:
    """`data[path0][path1]...`, or None where any step is missing or of the wrong shape."""
    for step in path:
        if is_unknown(data):
            return UNKNOWN
        if isinstance(step, int):
            if not isinstance(data, list) or not -len(data) <= step < len(data):
                return None
            data = data[step]
        else:
            if not isinstance(data, Mapping):
                return None
            data = data.get(step)
    return data


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def first(value: Any) -> Any:
    """Nested blocks arrive as an object or a one-element list depending on the provider."""
    if isinstance(value, list):
        return value[0] if value else None
    return value


def is_true(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() == "true")


def is_false(value: Any) -> bool:
    return value is False or (isinstance(value, str) and value.lower() == "false")


def parse_document(value: Any) -> tuple[dict[str, Any] | None, str | None]:
    """A policy document given as JSON text or an object: (document, None) or (None, problem)."""
    if isinstance(value, Mapping):
        return dict(value), None
    if not isinstance(value, str):
        return None, f"is a {type(value).__name__}, not a JSON policy document"
    try:
        document = json.loads(value)
    except json.JSONDecodeError as error:
        return None, f"is not valid JSON ({error.msg} at line {error.lineno} column {error.colno})"
    if not isinstance(document, dict):
        return None, "is JSON but not a policy document object"
    return document, None


def statements(document: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The document's statements that are objects (a lone statement may be given bare)."""
    return [s for s in as_list(document.get("Statement")) if isinstance(s, dict)]


def action_matches(pattern: Any, action: str) -> bool:
    """IAM action matching: case-insensitive, `*` and `?` wildcards."""
    if not isinstance(pattern, str):
        return False
    return fnmatch.fnmatchcase(action.lower(), pattern.lower())


def any_matches(patterns: Iterable[Any], action: str) -> bool:
    return any(action_matches(p, action) for p in patterns)


ACCOUNT = conventions.ACCOUNT_ID_PATTERN


# ---- policy plumbing ------------------------------------------------------------------------

Report = Callable[..., None]


def never_crash(policy_name: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Fail closed on an unforeseen input instead of failing the engine's RPC.

    A bug in a rule then shows as a violation that names it, rather than as an analyzer crash
    that hides every other policy's result.
    """

    def decorate(validate: Callable[..., None]) -> Callable[..., None]:
        @functools.wraps(validate)
        def guarded(args: Any, report_violation: Report) -> None:
            try:
                validate(args, report_violation)
            except proxy.UnknownValueError:
                raise  # pulumi-policy turns this into an advisory "can't run during preview"
            except Exception as error:
                report_violation(
                    f"{policy_name} could not evaluate this resource ({type(error).__name__}: "
                    f"{error}). This is a bug in org-logging-guardrails; please report it with "
                    "the resource's inputs."
                )

        return guarded

    return decorate


def config_of(args: Any) -> dict[str, Any]:
    return unproxied(args.get_config()) or {}


def name_prefix(args: Any) -> str | None:
    """The organization's `namePrefix`: the policy's config, else the stack's own config."""
    configured = config_of(args).get("namePrefix")
    if isinstance(configured, str) and configured:
        return configured
    try:
        import pulumi

        from_stack = pulumi.Config("org-logging").get("namePrefix")
    except Exception:
        return None
    return from_stack or None


def provider_config(args: Any, key: str) -> Any:
    """A value of the resource's provider config. The engine sends provider config values as
    strings, lists and maps JSON-encoded: decode those."""
    provider = getattr(args, "provider", None)
    if provider is None:
        return None
    value = get(unproxied(provider.props), key)
    if isinstance(value, str) and value[:1] in ("[", "{"):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def provider_region(args: Any) -> str | None:
    provider = getattr(args, "provider", None)
    if provider is None:
        return None
    region = get(unproxied(provider.props), "region")
    return region if isinstance(region, str) else None


def resource_region(args: Any, props: Mapping[str, Any]) -> str | None:
    """pulumi-aws v7: the resource's own `region`, else its provider's."""
    region = props.get("region")
    if isinstance(region, str) and region:
        return region
    return provider_region(args)
