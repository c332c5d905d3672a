"""Reading resource properties and policy config without ever crashing on what a preview, a
team or a config file sends.

pulumi-policy hands policies proxies that raise on unknown (preview) values. Rules here read
plain copies instead, in which an unknown is the `UNKNOWN` marker: a rule decides what an
unknown means for it (usually: nothing can be judged yet, the `up` will judge it). Secrets
arrive unwrapped. Malformed JSON documents are reported, not raised; so is NaN or Infinity in
one, which Python's json reads but JSON (and AWS) does not allow.

A policy's config is read through `config_of(args, policy_name)`, which checks it against what
the policy declared with `declare_config`: the engine lets unknown properties through, and a
misspelt property would silently switch a check off.
"""

from __future__ import annotations

import difflib
import fnmatch
import functools
import json
import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import conventions
from pulumi_policy import PolicyConfigSchema, proxy

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


class NotJsonConstant(ValueError):
    """NaN, Infinity or -Infinity: Python's json reads them, JSON and AWS do not."""


def _refuse_constant(name: str) -> Any:
    raise NotJsonConstant(name)


def strict_json_loads(text: str) -> Any:
    """`json.loads` that refuses NaN, Infinity and -Infinity (raises NotJsonConstant)."""
    return json.loads(text, parse_constant=_refuse_constant)


def non_finite_number(value: Any) -> str | None:
    """The first NaN/Infinity/-Infinity inside `value` (as JSON would spell it), or None."""
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, Mapping):
        value = list(value.values())
    if isinstance(value, list | tuple):
        for item in value:
            found = non_finite_number(item)
            if found:
                return found
    return None


def _non_json_problem(constant: str) -> str:
    return (
        f"is not valid JSON: it contains {constant}, which JSON does not allow (Python's json "
        "reads it, AWS refuses the document); write a string or a finite number instead"
    )


def parse_document(value: Any) -> tuple[dict[str, Any] | None, str | None]:
    """A policy document given as JSON text or an object: (document, None) or (None, problem)."""
    if isinstance(value, Mapping):
        constant = non_finite_number(value)
        if constant:
            return None, _non_json_problem(constant)
        return dict(value), None
    if not isinstance(value, str):
        return None, f"is a {type(value).__name__}, not a JSON policy document"
    try:
        document = strict_json_loads(value)
    except NotJsonConstant as error:
        return None, _non_json_problem(str(error))
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
HOW_TO_FIX_CONFIG = (
    "fix the pack's config (--policy-pack-config, or the policy's config in Pulumi Cloud); "
    "until then this policy judges nothing here"
)


class PolicyConfigError(ValueError):
    """The policy's config is wrong: neither the resource nor the pack is at fault."""


def never_crash(policy_name: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Fail closed on an unforeseen input instead of failing the engine's RPC.

    A bug in a rule then shows as a violation that names it, rather than as an analyzer crash
    that hides every other policy's result. A wrong config shows as what it is.
    """

    def decorate(validate: Callable[..., None]) -> Callable[..., None]:
        @functools.wraps(validate)
        def guarded(args: Any, report_violation: Report) -> None:
            try:
                validate(args, report_violation)
            except proxy.UnknownValueError:
                raise  # pulumi-policy turns this into an advisory "can't run during preview"
            except PolicyConfigError as error:
                report_violation(f"{policy_name}: policy config {error}; {HOW_TO_FIX_CONFIG}.")
            except Exception as error:
                report_violation(
                    f"{policy_name} could not evaluate this resource ({type(error).__name__}: "
                    f"{error}). This is a bug in org-logging-guardrails; please report it with "
                    "the resource's inputs."
                )

        return guarded

    return decorate


# ---- policy config ---------------------------------------------------------------------------

# Set by the engine beside the properties, and stripped from them before the pack sees them.
ENFORCEMENT_LEVEL = "enforcementLevel"


@dataclass(frozen=True)
class ConfigDeclaration:
    """What a policy accepts as config: its properties' JSON schemas, and which of them hold
    regular expressions (checked with Python's `re`, which is what uses them)."""

    policy_name: str
    properties: Mapping[str, Mapping[str, Any]]
    regex_properties: frozenset[str]


# Every policy's declaration, by policy name: the one registry `config_of` checks against.
DECLARED_CONFIG: dict[str, ConfigDeclaration] = {}


def declare_config(
    policy_name: str,
    properties: Mapping[str, Mapping[str, Any]] | None = None,
    *,
    regex_properties: Iterable[str] = (),
) -> PolicyConfigSchema:
    """Record `policy_name`'s config properties and return the schema the engine is sent.

    The schema holds no `"format": "regex"`: the engine would check it with Go's RE2, which
    refuses patterns Python accepts (lookaheads, backreferences).
    """
    props = {name: dict(schema) for name, schema in (properties or {}).items()}
    regexes = frozenset(regex_properties)
    formatted = sorted(name for name, schema in props.items() if "format" in schema)
    if formatted:
        raise ValueError(f"{policy_name}: {formatted} would be format-checked by the engine")
    for name in sorted(regexes):
        schema = props.get(name, {})
        if schema.get("type") not in ("string", "array"):
            raise ValueError(f"{policy_name}: regex property {name!r} is not a string or array")
    if policy_name in DECLARED_CONFIG:
        raise ValueError(f"the config of policy {policy_name!r} is declared twice")
    DECLARED_CONFIG[policy_name] = ConfigDeclaration(policy_name, props, regexes)
    return PolicyConfigSchema(properties={name: dict(schema) for name, schema in props.items()})


_JSON_TYPE_NAMES = (
    (bool, "a boolean"),
    (int, "a number"),
    (float, "a number"),
    (str, "a string"),
    (list, "an array"),
    (tuple, "an array"),
    (Mapping, "an object"),
    (type(None), "null"),
)
_EXPECTED = {
    "string": "a string",
    "boolean": "a boolean",
    "number": "a number",
    "integer": "an integer",
    "array": "an array",
    "object": "an object",
    "null": "null",
}


def _json_type_name(value: Any) -> str:
    for kind, name in _JSON_TYPE_NAMES:
        if isinstance(value, kind):
            return name
    return type(value).__name__


def _is_json_type(value: Any, kind: str) -> bool:
    if kind == "string":
        return isinstance(value, str)
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind == "integer":
        # The engine sends numbers as protobuf doubles: 5 arrives as 5.0.
        return (isinstance(value, int) and not isinstance(value, bool)) or (
            isinstance(value, float) and value.is_integer()
        )
    if kind == "array":
        return isinstance(value, list | tuple)
    if kind == "object":
        return isinstance(value, Mapping)
    if kind == "null":
        return value is None
    return True  # a type this checker does not know: the engine has checked it


def _describe(schema: Mapping[str, Any]) -> str:
    kinds = schema.get("type")
    kinds = kinds if isinstance(kinds, list) else [kinds]
    items = schema.get("items")
    if kinds == ["array"] and isinstance(items, Mapping) and items.get("type") in _EXPECTED:
        return f"an array of {items['type']}s"
    return " or ".join(_EXPECTED.get(kind, str(kind)) for kind in kinds)


def _shown(value: Any) -> str:
    try:
        text = json.dumps(value)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def type_problems(value: Any, schema: Mapping[str, Any], where: str) -> list[str]:
    """Why `value` is not of the JSON type `schema` declares (its items too), if it is not."""
    kinds = schema.get("type")
    if kinds is not None:
        kinds = kinds if isinstance(kinds, list) else [kinds]
        if not any(_is_json_type(value, kind) for kind in kinds):
            shown = "" if value is None else f" ({_shown(value)})"
            return [f"{where} must be {_describe(schema)}, not {_json_type_name(value)}{shown}"]
    items = schema.get("items")
    if isinstance(value, list | tuple) and isinstance(items, Mapping):
        return [
            problem
            for index, item in enumerate(value)
            for problem in type_problems(item, items, f"{where}[{index}]")
        ]
    return []


def closest_name(name: str, known: Iterable[str]) -> str | None:
    """The known name `name` most likely misspells, compared case-insensitively."""
    by_lower = {k.lower(): k for k in known}
    if name.lower() in by_lower:
        return by_lower[name.lower()]
    close = difflib.get_close_matches(name.lower(), list(by_lower), n=1, cutoff=0.6)
    return by_lower[close[0]] if close else None


def regex_problem(name: str, pattern: str) -> str | None:
    try:
        re.compile(pattern)
    except re.error as error:
        return f"{name} {pattern!r} is not a valid regular expression: {error}"
    return None


def config_problems(declaration: ConfigDeclaration, config: Mapping[str, Any]) -> list[str]:
    """Every way `config` breaks the declaration; [] when it is good."""
    known = declaration.properties
    problems: list[str] = []
    for name in sorted(config):
        if name == ENFORCEMENT_LEVEL:
            continue
        if name not in known:
            guess = closest_name(name, known)
            hint = f" (did you mean {guess!r}?)" if guess else ""
            listed = (
                f"its properties are {', '.join(sorted(known))}"
                if known
                else "it takes no properties"
            )
            problems.append(f"has unknown property {name!r}{hint}; {listed}")
            continue
        found = type_problems(config[name], known[name], name)
        if found:
            problems += found
            continue
        if name in declaration.regex_properties:
            patterns = config[name] if isinstance(config[name], list | tuple) else [config[name]]
            problems += [p for p in (regex_problem(name, x) for x in patterns) if p]
    return problems


def config_of(args: Any, policy_name: str) -> dict[str, Any]:
    """The policy's config, checked against its declaration; raises PolicyConfigError.

    Call it once the policy knows the resource (or stack) is its concern, so that a wrong config
    is reported on what the policy judges, not on every resource.
    """
    declaration = DECLARED_CONFIG.get(policy_name)
    if declaration is None:
        raise KeyError(f"policy {policy_name!r} reads config it never declared (declare_config)")
    config = unproxied(args.get_config()) or {}
    if not isinstance(config, Mapping):
        raise PolicyConfigError(f"is {_json_type_name(config)}, not an object")
    problems = config_problems(declaration, config)
    if problems:
        raise PolicyConfigError("; ".join(problems))
    return {key: value for key, value in config.items() if key != ENFORCEMENT_LEVEL}


def name_prefix(config: Mapping[str, Any]) -> str | None:
    """The organization's `namePrefix`: the policy's (checked) config, else the stack's own."""
    configured = config.get("namePrefix")
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
            return strict_json_loads(value)
        except ValueError:  # not JSON, or NaN/Infinity in it: keep the text
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
