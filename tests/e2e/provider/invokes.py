"""The data sources the program calls (Invoke), answered from the emulator.

getCallerIdentity, getRegion and getPartition also work without an emulator; the
Organizations, S3, KMS and IAM ones need it.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable
from typing import Any

from .policy_eval import Request, applying_statements
from .resources import ApiError, error_code, require_region
from .session import AwsSession, dns_suffix, partition_of

_ASSUMED_ROLE = re.compile(r"arn:([^:]+):sts::(\d{12}):assumed-role/([^/]+)/(.+)")


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
    services = _pages(org, "list_aws_service_access_for_organization", "EnabledServicePrincipals")
    result.update(
        awsServiceAccessPrincipals=[s["ServicePrincipal"] for s in services],
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


def _kms_key(aws: AwsSession, key_id: str, region: str) -> tuple[Any, dict[str, Any]]:
    """The key `key_id` names (key id, key ARN, alias name or alias ARN) and a KMS client of
    its account: an ARN may name another account, whose KMS answers."""
    parts = key_id.split(":")
    owner = parts[4] if key_id.startswith("arn:") and len(parts) >= 6 else aws.account
    kms = aws.client("kms", region, account=owner)
    try:
        metadata = kms.describe_key(KeyId=key_id)["KeyMetadata"]
    except Exception as error:
        if error_code(error) == "NotFoundException" and "alias/" in key_id:
            alias_arn = key_id
            if not key_id.startswith("arn:"):
                alias_arn = f"arn:{partition_of(region)}:kms:{region}:{owner}:{key_id}"
            raise ApiError(
                "NotFoundException", f"Alias {alias_arn} is not found.", "DescribeKey"
            ) from None
        raise
    return kms, metadata


def _authorize_cross_account(aws: AwsSession, kms: Any, metadata: dict[str, Any]) -> None:
    """moto gap: moto describes another account's key for anyone; AWS needs the key policy to
    allow the caller kms:DescribeKey (and to deny it nothing)."""
    action = "kms:DescribeKey"
    policy = kms.get_key_policy(KeyId=metadata["KeyId"], PolicyName="default")["Policy"]
    context = {**aws.request_context(), "kms:CallerAccount": aws.account}
    request = Request(aws.caller(), action, metadata["Arn"], context)
    effects = {statement["Effect"] for statement in applying_statements(policy, request)}
    if effects == {"Allow"}:
        return
    reason = (
        "with an explicit deny in a resource-based policy"
        if "Deny" in effects
        else f"because no resource-based policy allows the {action} action"
    )
    raise ApiError(
        "AccessDeniedException",
        f"User: {aws.caller_arn} is not authorized to perform: {action} on resource: "
        f"{metadata['Arn']} {reason}",
        "DescribeKey",
    )


def _rfc3339(value: Any) -> str:
    if isinstance(value, datetime.datetime):
        return value.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return str(value)


def get_key(aws: AwsSession, args: dict[str, Any]) -> dict[str, Any]:
    key_id = str(args["keyId"])
    region = args.get("region") or aws.region
    require_region(aws, region, "DescribeKey")
    kms, metadata = _kms_key(aws, key_id, region)
    if metadata["AWSAccountId"] != aws.account:
        _authorize_cross_account(aws, kms, metadata)
    # Like the real data source: `keyId` stays the argument, `id` is the key's id.
    return {
        "id": metadata["KeyId"],
        "keyId": key_id,
        "region": region,
        "grantTokens": args.get("grantTokens") or [],
        "arn": metadata["Arn"],
        "awsAccountId": metadata["AWSAccountId"],
        "description": metadata.get("Description", ""),
        "enabled": bool(metadata.get("Enabled")),
        "keyManager": metadata.get("KeyManager", ""),
        "keyState": metadata.get("KeyState", ""),
        # moto omits KeyUsage; a SYMMETRIC_DEFAULT key can only encrypt and decrypt.
        "keyUsage": metadata.get("KeyUsage")
        or ("ENCRYPT_DECRYPT" if metadata.get("KeySpec") == "SYMMETRIC_DEFAULT" else ""),
        "keySpec": metadata.get("KeySpec", ""),
        "customerMasterKeySpec": metadata.get("CustomerMasterKeySpec", ""),
        "origin": metadata.get("Origin", ""),
        "multiRegion": bool(metadata.get("MultiRegion")),
        "creationDate": _rfc3339(metadata.get("CreationDate", "")),
    }


def get_caller_identity(aws: AwsSession, args: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": aws.account,
        "accountId": aws.account,
        "arn": aws.caller_arn,
        "userId": aws.user_id,
    }


def get_session_context(aws: AwsSession, args: dict[str, Any]) -> dict[str, Any]:
    """The role behind an assumed-role ARN, path included (GetRole: the assumed-role ARN drops
    the path); any other ARN is its own issuer, as the real data source answers:
    https://www.pulumi.com/registry/packages/aws/api-docs/iam/getsessioncontext/"""
    arn = str(args["arn"])
    result = {"id": arn, "arn": arn, "issuerArn": arn, "issuerId": "", "issuerName": ""}
    result["sessionName"] = ""
    match = _ASSUMED_ROLE.fullmatch(arn)
    if match is None:
        return result
    partition, account, name, session = match.groups()
    role = aws.client("iam", account=account).get_role(RoleName=name)["Role"]
    return {
        **result,
        "issuerArn": f"arn:{partition}:iam::{account}:role{role['Path']}{name}",
        "issuerId": role["RoleId"],
        "issuerName": name,
        "sessionName": session,
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
    "aws:kms/getKey:getKey": get_key,
    "aws:index/getCallerIdentity:getCallerIdentity": get_caller_identity,
    "aws:iam/getSessionContext:getSessionContext": get_session_context,
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
