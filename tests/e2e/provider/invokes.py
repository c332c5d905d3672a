"""The data sources the program calls (Invoke), answered from the emulator.

getCallerIdentity, getRegion and getPartition also work without an emulator; the
Organizations and S3 ones need it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .session import AwsSession, dns_suffix, partition_of


class UnsupportedInvoke(Exception):
    pass


def _region(aws: AwsSession, args: dict[str, Any]) -> str:
    region = args.get("region") or args.get("name") or args.get("id")
    return region if isinstance(region, str) and region else aws.region


def _pages(client: Any, operation: str, key: str, **request: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for page in client.get_paginator(operation).paginate(**request):
        items.extend(page.get(key, []))
    return items


def get_organization(aws: AwsSession, args: dict[str, Any]) -> dict[str, Any]:
    org = aws.client("organizations")
    described = org.describe_organization()["Organization"]
    result: dict[str, Any] = {
        "id": described["Id"],
        "arn": described["Arn"],
        "featureSet": described.get("FeatureSet", "ALL"),
        "masterAccountArn": described.get("MasterAccountArn", ""),
        "masterAccountEmail": described.get("MasterAccountEmail", ""),
        "masterAccountId": described["MasterAccountId"],
        "masterAccountName": "",
        "accounts": [],
        "nonMasterAccounts": [],
        "roots": [],
        "awsServiceAccessPrincipals": [],
        "enabledPolicyTypes": [],
    }
    if described["MasterAccountId"] != aws.account:
        return result  # like the real data source: a member account sees the basics only
    accounts = [
        {
            "arn": a["Arn"],
            "email": a["Email"],
            "id": a["Id"],
            "name": a["Name"],
            "status": a.get("Status", ""),
            "state": a.get("State", a.get("Status", "")),
        }
        for a in _pages(org, "list_accounts", "Accounts")
    ]
    roots = [
        {
            "arn": r["Arn"],
            "id": r["Id"],
            "name": r["Name"],
            "policyTypes": [
                {"status": t["Status"], "type": t["Type"]} for t in r.get("PolicyTypes", [])
            ],
        }
        for r in _pages(org, "list_roots", "Roots")
    ]
    master = next((a for a in accounts if a["id"] == described["MasterAccountId"]), None)
    result.update(
        accounts=accounts,
        nonMasterAccounts=[a for a in accounts if a["id"] != described["MasterAccountId"]],
        roots=roots,
        masterAccountName=master["name"] if master else "",
        enabledPolicyTypes=[
            t["type"] for r in roots for t in r["policyTypes"] if t["status"] == "ENABLED"
        ],
    )
    return result


def get_policies_for_target(aws: AwsSession, args: dict[str, Any]) -> dict[str, Any]:
    org = aws.client("organizations")
    target, kind = args["targetId"], args.get("filter") or "SERVICE_CONTROL_POLICY"
    policies = _pages(org, "list_policies_for_target", "Policies", TargetId=target, Filter=kind)
    return {
        "id": target,
        "targetId": target,
        "filter": kind,
        "ids": [p["Id"] for p in policies],
        "policies": [
            {
                "id": p["Id"],
                "arn": p["Arn"],
                "name": p["Name"],
                "description": p.get("Description", ""),
                "type": p["Type"],
                "awsManaged": bool(p.get("AwsManaged")),
            }
            for p in policies
        ],
    }


def get_policy(aws: AwsSession, args: dict[str, Any]) -> dict[str, Any]:
    policy = aws.client("organizations").describe_policy(PolicyId=args["policyId"])["Policy"]
    summary = policy["PolicySummary"]
    return {
        "id": summary["Id"],
        "policyId": summary["Id"],
        "arn": summary["Arn"],
        "name": summary["Name"],
        "description": summary.get("Description", ""),
        "type": summary["Type"],
        "awsManaged": bool(summary.get("AwsManaged")),
        "content": policy.get("Content", ""),
    }


def get_canonical_user_id(aws: AwsSession, args: dict[str, Any]) -> dict[str, Any]:
    owner = aws.client("s3").list_buckets()["Owner"]
    return {"id": owner["ID"], "displayName": owner.get("DisplayName", "")}


def get_caller_identity(aws: AwsSession, args: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": aws.account,
        "accountId": aws.account,
        "arn": aws.caller_arn,
        "userId": aws.user_id,
    }


def get_region(aws: AwsSession, args: dict[str, Any]) -> dict[str, Any]:
    region = _region(aws, args)
    suffix = dns_suffix(partition_of(region))
    return {
        "id": region,
        "name": region,
        "region": region,
        "description": region,
        "endpoint": f"ec2.{region}.{suffix}",
    }


def get_partition(aws: AwsSession, args: dict[str, Any]) -> dict[str, Any]:
    partition = partition_of(_region(aws, args))
    suffix = dns_suffix(partition)
    return {
        "id": partition,
        "partition": partition,
        "dnsSuffix": suffix,
        "reverseDnsPrefix": ".".join(reversed(suffix.split("."))),
    }


INVOKES: dict[str, Callable[[AwsSession, dict[str, Any]], dict[str, Any]]] = {
    "aws:organizations/getOrganization:getOrganization": get_organization,
    "aws:organizations/getPoliciesForTarget:getPoliciesForTarget": get_policies_for_target,
    "aws:organizations/getPolicy:getPolicy": get_policy,
    "aws:s3/getCanonicalUserId:getCanonicalUserId": get_canonical_user_id,
    "aws:index/getCallerIdentity:getCallerIdentity": get_caller_identity,
    "aws:index/getRegion:getRegion": get_region,
    "aws:index/getPartition:getPartition": get_partition,
}


def invoke(aws: AwsSession, token: str, args: dict[str, Any]) -> dict[str, Any]:
    handler = INVOKES.get(token)
    if handler is None:
        raise UnsupportedInvoke(
            f"the stand-in aws provider does not implement the data source {token}; "
            f"it implements: {', '.join(sorted(INVOKES))}"
        )
    return handler(aws, args)
