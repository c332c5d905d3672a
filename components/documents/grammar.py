"""The grammar of every policy document: statements built with `allow` or `deny` (so an Effect
flip stands out in review), service principals, trust policies. Pure functions returning dicts;
`json.dumps` happens at the resource boundary."""

from __future__ import annotations

from typing import Any

from components import naming

Document = dict[str, Any]
Statement = dict[str, Any]


VERSION = "2012-10-17"


def policy(*statements: Statement) -> Document:
    return {"Version": VERSION, "Statement": list(statements)}


def _statement(
    sid: str,
    effect: str,
    actions: list[str] | str,
    resources: list[str] | str,
    *,
    principal: Any = None,
    condition: dict[str, dict[str, Any]] | None = None,
) -> Statement:
    body: Statement = {"Sid": sid, "Effect": effect}
    if principal is not None:
        body["Principal"] = principal
    body["Action"] = actions
    body["Resource"] = resources
    if condition:
        body["Condition"] = condition
    return body


def allow(
    sid: str,
    actions: list[str] | str,
    resources: list[str] | str,
    *,
    principal: Any = None,
    condition: dict[str, dict[str, Any]] | None = None,
) -> Statement:
    return _statement(sid, "Allow", actions, resources, principal=principal, condition=condition)


def deny(
    sid: str,
    actions: list[str] | str,
    resources: list[str] | str,
    *,
    principal: Any = None,
    condition: dict[str, dict[str, Any]] | None = None,
) -> Statement:
    return _statement(sid, "Deny", actions, resources, principal=principal, condition=condition)


def service(name: str) -> dict[str, str]:
    return {"Service": naming.service_principal(name)}


EVERYONE = {"AWS": "*"}


def trust_policy(service_name: str, condition: dict[str, dict[str, Any]]) -> Document:
    """A role only `service_name` may assume, and only under `condition` (confused deputy)."""
    return policy(_trust(service_name, condition))


def _trust(service_name: str, condition: dict[str, dict[str, Any]]) -> dict[str, Any]:
    # Trust policies have no Resource element.
    return {
        "Sid": "TrustedService",
        "Effect": "Allow",
        "Principal": service(service_name),
        "Action": "sts:AssumeRole",
        "Condition": condition,
    }


def principal_trust_policy(
    sid: str, principal: dict[str, Any], actions: list[str], condition: dict[str, dict[str, Any]]
) -> Document:
    """A role only `principal` may assume (`actions`: sts:AssumeRole and the session actions
    it may take along), and only under `condition`."""
    return policy(
        {
            "Sid": sid,
            "Effect": "Allow",
            "Principal": principal,
            "Action": actions,
            "Condition": condition,
        }
    )
