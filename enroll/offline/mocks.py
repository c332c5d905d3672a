"""Pulumi mocks for the offline render: what a provider would compute (ids, ARNs) for the
resources we and teams declare, and what the data sources would return for an organization."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from components.contract import ROLE_ACCOUNT_KEY, config_key
from enroll.org.model import OrgFacts
from policy import conventions


def _partition(region: str) -> str:
    """The region's partition; a team stack may use a region our table lacks: assume aws."""
    try:
        return conventions.partition_of(region).name
    except ValueError:
        return "aws"


def _short_id(*parts: str) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:12]


def computed_outputs(token: str, name: str, inputs: dict, *, region: str, account: str) -> dict:
    """The id and ARN a real provider would return for the resources we and teams declare."""
    region = inputs.get("region") or region
    part = _partition(region)
    uid = _short_id(token, name)
    named = inputs.get("name") or name

    def arn(service: str, resource: str, *, reg: str = region, acct: str = account) -> str:
        return f"arn:{part}:{service}:{reg}:{acct}:{resource}"

    out: dict[str, Any] = {}
    if token == "aws:s3/bucket:Bucket" or token == "aws:s3/bucketV2:BucketV2":
        bucket = inputs.get("bucket") or f"{name}-{uid}"
        out = {"id": bucket, "bucket": bucket, "arn": f"arn:{part}:s3:::{bucket}"}
    elif token == "aws:iam/role:Role":
        out = {"id": named, "name": named, "arn": arn("iam", f"role/{named}", reg="")}
    elif token == "aws:kms/key:Key":
        key_id = f"{uid[:8]}-{uid[8:12]}-4000-8000-{uid}"
        out = {"id": key_id, "keyId": key_id, "arn": arn("kms", f"key/{key_id}")}
    elif token == "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream":
        out = {
            "id": arn("firehose", f"deliverystream/{named}"),
            "arn": arn("firehose", f"deliverystream/{named}"),
        }
    elif token == "aws:cloudwatch/logDestination:LogDestination":
        out = {"id": named, "arn": arn("logs", f"destination:{named}")}
    elif token == "aws:cloudwatch/logGroup:LogGroup":
        out = {"id": named, "arn": arn("logs", f"log-group:{named}")}
    elif token == "aws:cloudwatch/eventBus:EventBus":
        out = {"id": named, "arn": arn("events", f"event-bus/{named}")}
    elif token == "aws:cloudwatch/eventRule:EventRule":
        bus = inputs.get("eventBusName") or "default"
        path = f"rule/{named}" if bus == "default" else f"rule/{bus}/{named}"
        out = {"id": f"{bus}|{named}", "arn": arn("events", path)}
    elif token == "aws:sns/topic:Topic":
        out = {"id": arn("sns", named), "arn": arn("sns", named)}
    elif token == "aws:cloudtrail/trail:Trail":
        out = {"id": named, "arn": arn("cloudtrail", f"trail/{named}")}
    elif token == "aws:cloudwatch/metricAlarm:MetricAlarm":
        out = {"id": named, "arn": arn("cloudwatch", f"alarm:{named}")}
    elif token == "aws:organizations/policy:Policy":
        out = {
            "id": f"p-{uid[:8]}",
            "arn": f"arn:{part}:organizations::{account}:policy/p-{uid[:8]}",
        }
    return {**inputs, **out}


class OfflineMocks:
    """Pulumi mocks (duck-typed to `pulumi.runtime.Mocks`) with a sample org behind them."""

    def __init__(self, config: Mapping[str, Any], org: OrgFacts | None, preview: bool) -> None:
        def get(key: str) -> str:
            value = config.get(config_key(key))
            return value if isinstance(value, str) else ""

        self.account = get(ROLE_ACCOUNT_KEY.get(get("role"), "accountId")) or "123456789012"
        self.region = str(config.get("aws:region") or get("homeRegion") or "us-east-1")
        self.org = org or OrgFacts(
            org_id=get("orgId") or "o-exampleorg1",
            management_account_id=get("managementAccountId") or self.account,
        )
        self.preview = preview
        self.invokes: list[str] = []

    def new_resource(self, args: Any) -> tuple[str | None, dict]:
        state = computed_outputs(
            args.typ, args.name, dict(args.inputs), region=self.region, account=self.account
        )
        if self.preview:
            # In a preview the provider has not created anything: ids and outputs are unknown.
            return None, dict(args.inputs)
        return state.pop("id", f"{args.name}-{_short_id(args.typ, args.name)}"), state

    def call(self, args: Any) -> tuple[dict, list]:
        self.invokes.append(args.token)
        org = self.org
        part = _partition(self.region)
        token = args.token
        if token == "aws:organizations/getOrganization:getOrganization":
            types = (
                [{"type": "SERVICE_CONTROL_POLICY", "status": "ENABLED"}] if org.scp_enabled else []
            )
            org_arn = f"arn:{part}:organizations::{org.management_account_id}"
            return {
                "id": org.org_id,
                "arn": f"{org_arn}:organization/{org.org_id}",
                "masterAccountId": org.management_account_id,
                "awsServiceAccessPrincipals": list(org.service_access_principals),
                "featureSet": "ALL",
                "roots": [
                    {
                        "id": org.root_id,
                        "name": "Root",
                        "arn": f"{org_arn}:root/{org.org_id}/{org.root_id}",
                        "policyTypes": types,
                    }
                ],
            }, []
        if token == "aws:organizations/getPoliciesForTarget:getPoliciesForTarget":
            names = org.attached_scps.get(args.args.get("targetId", ""), ())
            return {
                "ids": [f"p-{_short_id(n)[:8]}" for n in names],
                "id": args.args.get("targetId"),
            }, []
        if token == "aws:organizations/getPolicy:getPolicy":
            policy_id = args.args.get("policyId", "")
            names = {f"p-{_short_id(n)[:8]}": n for ns in org.attached_scps.values() for n in ns}
            return {"id": policy_id, "name": names.get(policy_id, policy_id)}, []
        if token == "aws:kms/getKey:getKey":
            # The key an alias ARN names, in the alias's account and region.
            key_id = str(args.args.get("keyId", ""))
            parts = key_id.split(":")
            if not org.central_key_exists:
                # As the engine reports a failed invoke: an error the program may catch.
                return {}, [("keyId", f"NotFoundException: Alias {key_id} is not found.")]
            if len(parts) < 6:
                return {}, []
            uid = _short_id("key", key_id)
            key = f"{uid[:8]}-{uid[8:12]}-4000-8000-{uid}"
            return {
                "id": key,
                "keyId": key_id,
                "arn": ":".join([*parts[:5], f"key/{key}"]),
            }, []
        if token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {"accountId": self.account, "arn": f"arn:{part}:iam::{self.account}:root"}, []
        if token == "aws:s3/getCanonicalUserId:getCanonicalUserId":
            return {"id": _short_id("canonical", self.account) * 5, "displayName": ""}, []
        if token == "aws:index/getRegion:getRegion":
            return {"name": self.region, "region": self.region}, []
        if token == "aws:index/getPartition:getPartition":
            return {"partition": part}, []
        return {}, []
