"""Does a resource-based policy (a bucket policy, a key policy) let one request through?

The stand-in provider asks this before the calls AWS authorizes against a resource policy and
moto does not. No maintained Python library fits: principalmapper is AGPL and unreleased since
2022; policyuniverse evaluates no conditions; moto's iam access_control only handles
StringEquals and turns a failed condition on an Allow into a deny. So this module implements
the part of AWS's evaluation logic those checks need:
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html

- a statement applies when its Principal (or NotPrincipal) covers the caller, its Action (or
  NotAction) the action, its Resource (or NotResource) the resource, and every condition holds;
  an applying Deny wins over any Allow, and without an applying Allow the request is denied;
- `*` and `?` wildcards in actions (case-insensitive) and resources (case-sensitive, ARN
  segment by segment), policy variables such as `${aws:PrincipalAccount}` in resources and
  condition values;
- the condition operators String(Not)Equals(IgnoreCase), String(Not)Like, Arn(Not)Equals,
  Arn(Not)Like, Bool, Null and the Numeric ones, each with `...IfExists` and the
  `ForAnyValue:` / `ForAllValues:` set prefixes. Keys and operators in a block are ANDed, the
  values of one key ORed (a negated operator: the key matches none of them). A key missing
  from the request context makes a positive operator false and a negated one true;
  `IfExists` makes it true.

What it cannot evaluate it refuses (`PolicyError`), so a check never allows by accident. Not
modelled: identity policies, permission boundaries, session policies, SCPs and RCPs, KMS
grants, and the Date, IpAddress and Binary operators.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any


class PolicyError(ValueError):
    """The document is not a policy, or uses what this evaluator does not model."""


class Decision(Enum):
    ALLOW = "Allow"
    EXPLICIT_DENY = "ExplicitDeny"
    IMPLICIT_DENY = "ImplicitDeny"


_ASSUMED_ROLE = re.compile(r"arn:([^:]+):sts::(\d{12}):assumed-role/([^/]+)/.+")
_ACCOUNT_ROOT = re.compile(r"arn:[^:]+:iam::(\d{12}):root")


@dataclass(frozen=True)
class Caller:
    """Who asks. `arn` is aws:PrincipalArn: a role's ARN for its sessions (their STS ARN is
    `session_arn`), the user's or root's ARN otherwise. `service` is set when an AWS service
    calls with its service principal (then there is no account or ARN)."""

    account: str = ""
    arn: str = ""
    session_arn: str = ""
    service: str = ""

    @classmethod
    def from_arn(cls, arn: str, role_arn: str = "") -> Caller:
        """The caller GetCallerIdentity names; `role_arn`: the assumed role's ARN with its path
        (an assumed-role ARN drops the path)."""
        assumed = _ASSUMED_ROLE.fullmatch(arn)
        if assumed:
            partition, account, role = assumed.groups()
            principal = role_arn or f"arn:{partition}:iam::{account}:role/{role}"
            return cls(account=account, arn=principal, session_arn=arn)
        parts = arn.split(":")
        if len(parts) < 6 or not parts[4]:
            raise PolicyError(f"not a principal ARN: {arn!r}")
        return cls(account=parts[4], arn=arn)

    @property
    def principal_type(self) -> str:
        if self.service:
            return "AWSService"
        if self.session_arn:
            return "AssumedRole"
        if _ACCOUNT_ROOT.fullmatch(self.arn):
            return "Account"
        return "User"


def principal_context(
    caller: Caller, org_id: str = "", *, secure_transport: bool = True
) -> dict[str, Any]:
    """The global condition keys AWS puts in every request context for this caller."""
    context: dict[str, Any] = {
        "aws:SecureTransport": secure_transport,
        "aws:PrincipalIsAWSService": bool(caller.service),
        "aws:PrincipalType": caller.principal_type,
    }
    if caller.service:
        context["aws:PrincipalServiceName"] = caller.service
        return context
    context["aws:PrincipalArn"] = caller.arn
    context["aws:PrincipalAccount"] = caller.account
    if org_id:
        context["aws:PrincipalOrgID"] = org_id
    return context


@dataclass(frozen=True)
class Request:
    """One API request: `action` as IAM names it (`s3:PutBucketPolicy`), the resource ARN, and
    the request context (condition key -> a string, bool, number or list of them)."""

    caller: Caller
    action: str
    resource: str
    context: Mapping[str, Any] = field(default_factory=dict)


def evaluate(policy: str | Mapping[str, Any], request: Request) -> Decision:
    """AWS's verdict from this one policy: an applying Deny, else an applying Allow, else none."""
    applying = applying_statements(policy, request)
    if any(statement["Effect"] == "Deny" for statement in applying):
        return Decision.EXPLICIT_DENY
    if applying:
        return Decision.ALLOW
    return Decision.IMPLICIT_DENY


def applying_statements(
    policy: str | Mapping[str, Any], request: Request
) -> list[Mapping[str, Any]]:
    """The statements of `policy` that apply to `request` (each checked whole first)."""
    statements = _statements(policy)
    context = {key.lower(): value for key, value in request.context.items()}
    return [s for s in statements if _applies(s, request, context)]


# --------------------------------------------------------------------------------------------
# Statements
# --------------------------------------------------------------------------------------------


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else [value]


def _statements(policy: str | Mapping[str, Any]) -> list[Mapping[str, Any]]:
    if isinstance(policy, str):
        try:
            policy = json.loads(policy)
        except ValueError as error:
            raise PolicyError(f"the policy is not JSON: {error}") from None
    if not isinstance(policy, Mapping) or "Statement" not in policy:
        raise PolicyError("the policy has no Statement")
    statements = _as_list(policy["Statement"])
    for statement in statements:
        if not isinstance(statement, Mapping):
            raise PolicyError(f"a statement is not an object: {statement!r}")
        if statement.get("Effect") not in ("Allow", "Deny"):
            raise PolicyError(f"Effect must be Allow or Deny: {statement.get('Effect')!r}")
        for one, other in (("Action", "NotAction"), ("Principal", "NotPrincipal")):
            if one in statement and other in statement:
                raise PolicyError(f"a statement has both {one} and {other}")
        if "Action" not in statement and "NotAction" not in statement:
            raise PolicyError("a statement has neither Action nor NotAction")
        if "Resource" in statement and "NotResource" in statement:
            raise PolicyError("a statement has both Resource and NotResource")
        condition = statement.get("Condition", {})
        if not isinstance(condition, Mapping):
            raise PolicyError(f"Condition is not an object: {condition!r}")
        # What cannot be evaluated fails now, whether or not the statement would apply.
        for name, block in condition.items():
            operator = _operator(name)
            if not isinstance(block, Mapping):
                raise PolicyError(f"the {name} condition is not an object: {block!r}")
            for values in block.values():
                _check_values(operator, [_text(value) for value in _as_list(values)])
    return statements


def _applies(statement: Mapping[str, Any], request: Request, context: Mapping[str, Any]) -> bool:
    # No Principal: an identity policy's statement, about its own identity.
    if "Principal" in statement and not _principal_covers(statement["Principal"], request.caller):
        return False
    if "NotPrincipal" in statement and _principal_covers(statement["NotPrincipal"], request.caller):
        return False
    if "Action" in statement:
        if not _any_action(statement["Action"], request.action):
            return False
    elif _any_action(statement["NotAction"], request.action):
        return False
    # No Resource (a trust policy): the resource the policy is attached to.
    if "Resource" in statement:
        if not _any_resource(statement["Resource"], request.resource, context):
            return False
    elif "NotResource" in statement and _any_resource(
        statement["NotResource"], request.resource, context
    ):
        return False
    return all(
        _condition_holds(operator, key, values, context)
        for operator, block in statement.get("Condition", {}).items()
        for key, values in block.items()
    )


def _principal_covers(principal: Any, caller: Caller) -> bool:
    if principal == "*":
        return True
    if not isinstance(principal, Mapping):
        raise PolicyError(f'Principal must be "*" or an object: {principal!r}')
    for kind, values in principal.items():
        for value in _as_list(values):
            if kind == "AWS":
                if value == "*":
                    return True  # every principal, as "Principal": "*"
                root = _ACCOUNT_ROOT.fullmatch(str(value))
                account = root[1] if root else str(value)
                # An account principal covers every identity of the account.
                if not caller.service and account == caller.account:
                    return True
                if not caller.service and value in (caller.arn, caller.session_arn):
                    return True
            elif kind == "Service":
                if caller.service and value == caller.service:
                    return True
            elif kind not in ("Federated", "CanonicalUser"):
                raise PolicyError(f"unknown principal type {kind!r}")
    return False


def _any_action(patterns: Any, action: str) -> bool:
    for pattern in _as_list(patterns):
        if pattern != "*" and ":" not in str(pattern):
            raise PolicyError(f"an action is service:name or *: {pattern!r}")
        regex = _wildcard_regex(str(pattern), {}, ignore_case=True)
        if regex is not None and regex.fullmatch(action):
            return True
    return False


def _any_resource(patterns: Any, resource: str, context: Mapping[str, Any]) -> bool:
    return any(_arn_like(str(pattern), resource, context) for pattern in _as_list(patterns))


# --------------------------------------------------------------------------------------------
# Wildcards and policy variables
# --------------------------------------------------------------------------------------------

_TOKEN = re.compile(r"\$\{[^}]*\}|\*|\?|[^$*?]+|\$")
_VARIABLE = re.compile(r"\$\{\s*([^,}]+?)\s*(?:,\s*'([^']*)'\s*)?\}")
_SPECIAL = {"*": "*", "?": "?", "$": "$"}  # ${*}, ${?}, ${$}: the literal character


def _variable(token: str, context: Mapping[str, Any]) -> str | None:
    """A policy variable's value; None when the request has no such key (and no default)."""
    match = _VARIABLE.fullmatch(token)
    if not match:
        raise PolicyError(f"malformed policy variable {token!r}")
    name, default = match.groups()
    if name in _SPECIAL:
        return _SPECIAL[name]
    value = context.get(name.lower())
    if value is None or isinstance(value, list | tuple):
        return default
    return _text(value)


def _wildcard_regex(
    pattern: str, context: Mapping[str, Any], *, ignore_case: bool = False, wildcards: bool = True
) -> re.Pattern[str] | None:
    """`pattern` as a regex (None: it names a variable the request lacks, so nothing matches)."""
    parts: list[str] = []
    for token in _TOKEN.findall(pattern):
        if token.startswith("${"):
            value = _variable(token, context)
            if value is None:
                return None
            parts.append(re.escape(value))
        elif wildcards and token == "*":
            parts.append(".*")
        elif wildcards and token == "?":
            parts.append(".")
        else:
            parts.append(re.escape(token))
    return re.compile("".join(parts), re.DOTALL | (re.IGNORECASE if ignore_case else 0))


_ARN_COLON = re.compile(r":(?![^{]*\})")  # a colon outside ${...}


def _arn_like(pattern: str, value: str, context: Mapping[str, Any]) -> bool:
    """ArnLike: each of the six colon-separated parts matched on its own (a wildcard never
    reaches over a colon there); a pattern that is not an ARN (`*`) is matched whole."""
    if not pattern.startswith("arn:"):
        regex = _wildcard_regex(pattern, context)
        return regex is not None and regex.fullmatch(value) is not None
    pattern_parts = _ARN_COLON.split(pattern, maxsplit=5)
    value_parts = value.split(":", 5)
    if len(pattern_parts) < 6 or len(value_parts) < 6:
        return False
    for part, text in zip(pattern_parts, value_parts, strict=True):
        regex = _wildcard_regex(part, context)
        if regex is None or regex.fullmatch(text) is None:
            return False
    return True


# --------------------------------------------------------------------------------------------
# Conditions
# --------------------------------------------------------------------------------------------


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _string_equals(policy: str, actual: Any, context: Mapping[str, Any]) -> bool:
    regex = _wildcard_regex(policy, context, wildcards=False)
    return regex is not None and regex.fullmatch(_text(actual)) is not None


def _string_equals_ignore_case(policy: str, actual: Any, context: Mapping[str, Any]) -> bool:
    regex = _wildcard_regex(policy, context, ignore_case=True, wildcards=False)
    return regex is not None and regex.fullmatch(_text(actual)) is not None


def _string_like(policy: str, actual: Any, context: Mapping[str, Any]) -> bool:
    regex = _wildcard_regex(policy, context)
    return regex is not None and regex.fullmatch(_text(actual)) is not None


def _arn_matches(policy: str, actual: Any, context: Mapping[str, Any]) -> bool:
    return _arn_like(policy, _text(actual), context)


def _bool_equals(policy: str, actual: Any, context: Mapping[str, Any]) -> bool:
    return _text(actual).lower() == policy.lower()


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise PolicyError(f"a Numeric condition takes numbers: {text!r}") from None


def _numeric(compare: Callable[[float, float], bool]) -> Callable[..., bool]:
    def matches(policy: str, actual: Any, context: Mapping[str, Any]) -> bool:
        expected = _number(policy)
        try:
            value = float(_text(actual))
        except ValueError:
            return False  # a request value that is no number matches no number
        return compare(value, expected)

    return matches


# base operator -> (how one request value matches one policy value, negated?)
_OPERATORS: dict[str, tuple[Callable[[str, Any, Mapping[str, Any]], bool], bool]] = {
    "StringEquals": (_string_equals, False),
    "StringNotEquals": (_string_equals, True),
    "StringEqualsIgnoreCase": (_string_equals_ignore_case, False),
    "StringNotEqualsIgnoreCase": (_string_equals_ignore_case, True),
    "StringLike": (_string_like, False),
    "StringNotLike": (_string_like, True),
    "ArnEquals": (_arn_matches, False),
    "ArnLike": (_arn_matches, False),
    "ArnNotEquals": (_arn_matches, True),
    "ArnNotLike": (_arn_matches, True),
    "Bool": (_bool_equals, False),
    "NumericEquals": (_numeric(lambda a, b: a == b), False),
    "NumericNotEquals": (_numeric(lambda a, b: a == b), True),
    "NumericLessThan": (_numeric(lambda a, b: a < b), False),
    "NumericLessThanEquals": (_numeric(lambda a, b: a <= b), False),
    "NumericGreaterThan": (_numeric(lambda a, b: a > b), False),
    "NumericGreaterThanEquals": (_numeric(lambda a, b: a >= b), False),
}
_SET_PREFIXES = ("ForAnyValue", "ForAllValues")


@dataclass(frozen=True)
class _Operator:
    base: str
    set_prefix: str = ""
    if_exists: bool = False


def _operator(name: str) -> _Operator:
    prefix, _, base = name.rpartition(":")
    if prefix and prefix not in _SET_PREFIXES:
        raise PolicyError(f"unknown condition set operator {prefix!r} in {name!r}")
    if_exists = base.endswith("IfExists")
    if if_exists:
        base = base[: -len("IfExists")]
    if base == "Null":
        if if_exists or prefix:
            raise PolicyError(f"Null takes neither IfExists nor a set operator: {name!r}")
    elif base not in _OPERATORS:
        raise PolicyError(f"unsupported condition operator {name!r}")
    return _Operator(base, prefix, if_exists)


def _check_values(operator: _Operator, values: list[str]) -> None:
    for value in values:
        if operator.base in ("Null", "Bool") and value.lower() not in ("true", "false"):
            raise PolicyError(f"{operator.base} takes true or false: {value!r}")
        if operator.base.startswith("Numeric"):
            _number(value)


def _condition_holds(name: str, key: str, expected: Any, context: Mapping[str, Any]) -> bool:
    operator = _operator(name)
    raw = context.get(key.lower())
    actual = [] if raw is None else _as_list(raw)
    wanted = [_text(value) for value in _as_list(expected)]
    if operator.base == "Null":
        return any((value.lower() == "true") == (not actual) for value in wanted)
    matches, negated = _OPERATORS[operator.base]

    def holds_for(value: Any) -> bool:
        hit = any(matches(policy_value, value, context) for policy_value in wanted)
        return not hit if negated else hit

    if not actual:
        if operator.if_exists or operator.set_prefix == "ForAllValues":
            return True
        if operator.set_prefix == "ForAnyValue":
            return False
        return negated
    if operator.set_prefix == "ForAllValues":
        return all(holds_for(value) for value in actual)
    if operator.set_prefix == "ForAnyValue" or not negated:
        return any(holds_for(value) for value in actual)
    return all(holds_for(value) for value in actual)  # negated: no value may match
