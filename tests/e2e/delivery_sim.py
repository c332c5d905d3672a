"""What moto does not do: replicate objects and deliver CloudWatch Logs subscriptions.

A small delivery simulator for the tests, driven by the deployed configuration only:

- **replication** reads each source bucket's replication configuration from the emulator and
  does what S3 does for each enabled rule: S3 must be able to assume the rule's role (its trust
  policy), the role must allow reading the source version and replicating into the destination
  (its inline policies), and the destination bucket's policy must let the role in (cross
  account). Then the objects under the rule's prefix are copied to the same key. A check that
  fails is recorded in `failures`, and nothing is copied for that rule;
- **subscriptions** follow the account policy (`SUBSCRIPTION_FILTER_POLICY`: every log group of
  the account and region but the excluded ones) to its destination (which must exist in the
  log group's region and let the account in), the destination to its Firehose stream, and the
  stream to its bucket: the new events of each log group become one CloudWatch Logs
  `DATA_MESSAGE` record per log stream, written as Firehose writes them (newline-delimited,
  GZIP, under the stream's prefix with `owner` and the arrival date filled in).

The account policies, destinations and streams live in the stand-in provider's memory, not in
moto: `DeployedPipeline.from_states` reads them from the stacks' Pulumi state (the outputs the
engine recorded). The resource policies are judged by the stand-in provider's evaluator.
"""

from __future__ import annotations

import gzip
import json
import re
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from tests.e2e.provider.policy_eval import (
    Caller,
    Decision,
    Request,
    evaluate,
    principal_context,
)

ACCOUNT_POLICY = "aws:cloudwatch/logAccountPolicy:LogAccountPolicy"
DESTINATION = "aws:cloudwatch/logDestination:LogDestination"
DESTINATION_POLICY = "aws:cloudwatch/logDestinationPolicy:LogDestinationPolicy"
STREAM = "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream"
S3_SERVICE = "s3.amazonaws.com"

Clients = Callable[[str, str, str], Any]  # (service, account, region) -> a boto3 client


@dataclass(frozen=True)
class Subscription:
    """An account-level subscription filter policy of one account x region."""

    account: str
    region: str
    name: str
    destination_arn: str
    excluded: frozenset[str]


@dataclass(frozen=True)
class Destination:
    arn: str
    target_arn: str
    access_policy: str | None


@dataclass(frozen=True)
class Stream:
    arn: str
    name: str
    bucket: str
    prefix: str
    gzip: bool


@dataclass
class DeployedPipeline:
    subscriptions: list[Subscription] = field(default_factory=list)
    destinations: dict[str, Destination] = field(default_factory=dict)
    streams: dict[str, Stream] = field(default_factory=dict)

    @classmethod
    def from_resources(cls, resources: Iterable[Mapping[str, Any]]) -> DeployedPipeline:
        """From `{"type", "outputs"}` records, as in a Pulumi checkpoint."""
        pipeline = cls()
        policies: dict[str, str] = {}
        destinations: list[Mapping[str, Any]] = []
        for resource in resources:
            kind, out = resource.get("type"), resource.get("outputs") or {}
            if kind == ACCOUNT_POLICY and out.get("policyType") == "SUBSCRIPTION_FILTER_POLICY":
                document = json.loads(out["policyDocument"])
                pipeline.subscriptions.append(
                    Subscription(
                        account=document["RoleArn"].split(":")[4],
                        region=out["region"],
                        name=out["policyName"],
                        destination_arn=document["DestinationArn"],
                        excluded=excluded_log_groups(out.get("selectionCriteria")),
                    )
                )
            elif kind == DESTINATION:
                destinations.append(out)
            elif kind == DESTINATION_POLICY:
                policies[f"{out['region']}/{out['destinationName']}"] = out["accessPolicy"]
            elif kind == STREAM:
                s3 = out["extendedS3Configuration"]
                pipeline.streams[out["arn"]] = Stream(
                    arn=out["arn"],
                    name=out["name"],
                    bucket=s3["bucketArn"].split(":::", 1)[1],
                    prefix=s3.get("prefix") or "",
                    gzip=s3.get("compressionFormat") == "GZIP",
                )
        for out in destinations:
            policy = policies.get(f"{out['region']}/{out['name']}")
            pipeline.destinations[out["arn"]] = Destination(out["arn"], out["targetArn"], policy)
        return pipeline

    @classmethod
    def from_states(cls, backend: Path) -> DeployedPipeline:
        """Every stack's resources in a file backend (`file://<backend>`)."""
        resources: list[Mapping[str, Any]] = []
        for state in sorted((backend / ".pulumi" / "stacks").rglob("*.json")):
            checkpoint = json.loads(state.read_text()).get("checkpoint", {})
            resources += (checkpoint.get("latest") or {}).get("resources") or []
        return cls.from_resources(resources)


def excluded_log_groups(criteria: str | None) -> frozenset[str]:
    """`LogGroupName NOT IN [...]`, the only selection criteria account policies support."""
    if not criteria:
        return frozenset()
    matched = re.fullmatch(r"LogGroupName NOT IN (\[.*\])", criteria.strip())
    if not matched:
        raise ValueError(f"selection criteria the simulator does not model: {criteria!r}")
    return frozenset(json.loads(matched[1]))


def _allowed(policies: Iterable[Any], request: Request) -> bool:
    decisions = [evaluate(policy, request) for policy in policies]
    return Decision.ALLOW in decisions and Decision.EXPLICIT_DENY not in decisions


class DeliverySimulator:
    """Call `step()` whenever the pipeline should make progress (tests call it while they wait).

    `sources`: the (account, region, bucket) of every source log bucket; `archive`: the
    log-archive account; `org_id`: what `aws:PrincipalOrgID` is for the organization's callers.
    """

    def __init__(
        self,
        clients: Clients,
        pipeline: DeployedPipeline,
        *,
        sources: Iterable[tuple[str, str, str]],
        archive: tuple[str, str],
        org_id: str,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.clients, self.pipeline = clients, pipeline
        self.sources = list(sources)
        self.archive_account, self.home_region = archive
        self.org_id, self.now = org_id, now
        self.replicated: set[tuple[str, str]] = set()
        self.delivered: set[tuple[str, str, str, str]] = set()
        self.failures: list[str] = []

    def step(self) -> None:
        """One round of both paths. A step that cannot run is a failure, never a crash: the
        tests read `failures` to learn why something did not arrive."""
        for account, region, bucket in self.sources:
            self._guarded(f"replication of {bucket}", self.replicate, account, region, bucket)
        for subscription in self.pipeline.subscriptions:
            where = f"subscription of {subscription.account} {subscription.region}"
            self._guarded(where, self.deliver, subscription)

    def _guarded(self, what: str, step: Callable[..., None], *args: Any) -> None:
        try:
            step(*args)
        except Exception as error:
            self._fail(f"{what}: {type(error).__name__}: {error}")

    def _fail(self, message: str) -> None:
        if message not in self.failures:
            self.failures.append(message)

    # ---- S3 replication ---------------------------------------------------------------------

    def replicate(self, account: str, region: str, bucket: str) -> None:
        s3 = self.clients("s3", account, region)
        try:
            config = s3.get_bucket_replication(Bucket=bucket)["ReplicationConfiguration"]
        except ClientError:
            return  # no replication configuration: nothing to do
        for rule in config["Rules"]:
            if rule.get("Status") != "Enabled":
                continue
            prefix = (rule.get("Filter") or {}).get("Prefix", rule.get("Prefix", ""))
            destination = rule["Destination"]
            target = destination["Bucket"].split(":::", 1)[1]
            keys = [
                item["Key"]
                for page in s3.get_paginator("list_objects_v2").paginate(
                    Bucket=bucket, Prefix=prefix
                )
                for item in page.get("Contents", [])
                if (target, item["Key"]) not in self.replicated
            ]
            if not keys:
                continue
            why_not = self._replication_refused(account, region, bucket, config["Role"], rule, keys)
            if why_not:
                self._fail(f"replication {bucket} -> {target}: {why_not}")
                continue
            archive = self.clients("s3", self.archive_account, self.home_region)
            for key in keys:
                body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
                archive.put_object(Bucket=target, Key=key, Body=body)
                self.replicated.add((target, key))

    def _replication_refused(
        self, account: str, region: str, bucket: str, role_arn: str, rule: dict, keys: list[str]
    ) -> str | None:
        """Why S3 could not replicate `keys` with `role_arn`, or None."""
        iam = self.clients("iam", account, region)
        role_name = role_arn.rsplit("/", 1)[1]
        try:
            role = iam.get_role(RoleName=role_name)["Role"]
        except ClientError as error:
            return f"the role {role_arn} cannot be read: {error}"
        s3_service = Caller(service=S3_SERVICE)
        bucket_arn = f"arn:{role_arn.split(':')[1]}:s3:::{bucket}"
        assume = Request(
            s3_service,
            "sts:AssumeRole",
            role_arn,
            {
                **principal_context(s3_service),
                "aws:SourceAccount": account,
                "aws:SourceArn": bucket_arn,
            },
        )
        if not _allowed([role["AssumeRolePolicyDocument"]], assume):
            return f"S3 may not assume {role_arn} (its trust policy)"
        policies = [
            iam.get_role_policy(RoleName=role_name, PolicyName=name)["PolicyDocument"]
            for name in iam.list_role_policies(RoleName=role_name)["PolicyNames"]
        ]
        role_caller = Caller(
            account=account, arn=role_arn, session_arn=f"{role_arn}/s3-replication"
        )
        target_arn = rule["Destination"]["Bucket"]
        actions = [("s3:GetObjectVersionForReplication", f"{bucket_arn}/{keys[0]}")]
        actions += [("s3:ReplicateObject", f"{target_arn}/{keys[0]}")]
        if rule["Destination"].get("AccessControlTranslation"):
            actions += [("s3:ObjectOwnerOverrideToBucketOwner", f"{target_arn}/{keys[0]}")]
        for action, resource in actions:
            if not _allowed(policies, Request(role_caller, action, resource)):
                return f"the role {role_arn} does not allow {action} on {resource}"
        target = target_arn.split(":::", 1)[1]
        archive = self.clients("s3", self.archive_account, self.home_region)
        bucket_policy = archive.get_bucket_policy(Bucket=target)["Policy"]
        context = principal_context(role_caller, self.org_id)
        for action, resource in actions[1:]:
            decision = evaluate(bucket_policy, Request(role_caller, action, resource, context))
            cross_account = account != self.archive_account
            if decision is Decision.EXPLICIT_DENY or (
                cross_account and decision is not Decision.ALLOW
            ):
                return f"the policy of {target} does not let {role_arn} {action} {resource}"
        return None

    # ---- CloudWatch Logs subscription -> destination -> Firehose -> S3 ----------------------

    def deliver(self, subscription: Subscription) -> None:
        account, region = subscription.account, subscription.region
        destination = self.pipeline.destinations.get(subscription.destination_arn)
        where = f"subscription {subscription.name} of {account} {region}"
        if destination is None or destination.arn.split(":")[3] != region:
            self._fail(f"{where}: no destination {subscription.destination_arn} in {region}")
            return
        if destination.access_policy is not None:
            caller = Caller(account=account, arn=f"arn:aws:iam::{account}:root")
            request = Request(
                caller,
                "logs:PutSubscriptionFilter",
                destination.arn,
                principal_context(caller, self.org_id),
            )
            if evaluate(destination.access_policy, request) is not Decision.ALLOW:
                self._fail(f"{where}: the destination's policy does not let {account} in")
                return
        stream = self.pipeline.streams.get(destination.target_arn)
        if stream is None:
            self._fail(f"{where}: no Firehose stream {destination.target_arn}")
            return
        logs = self.clients("logs", account, region)
        records = []
        for group in logs.get_paginator("describe_log_groups").paginate():
            for log_group in group["logGroups"]:
                name = log_group["logGroupName"]
                if name not in subscription.excluded:
                    records += self._new_records(logs, subscription, name)
        if records:
            self._write(stream, account, records)

    def _new_records(self, logs: Any, subscription: Subscription, group: str) -> list[dict]:
        by_stream: dict[str, list[dict]] = {}
        for page in logs.get_paginator("filter_log_events").paginate(logGroupName=group):
            for event in page["events"]:
                seen = (subscription.account, subscription.region, group, event["eventId"])
                if seen in self.delivered:
                    continue
                self.delivered.add(seen)
                by_stream.setdefault(event["logStreamName"], []).append(
                    {
                        "id": event["eventId"],
                        "timestamp": event["timestamp"],
                        "message": event["message"],
                    }
                )
        return [
            {
                "messageType": "DATA_MESSAGE",
                "owner": subscription.account,
                "logGroup": group,
                "logStream": stream,
                "subscriptionFilters": [subscription.name],
                "logEvents": events,
            }
            for stream, events in by_stream.items()
        ]

    def _write(self, stream: Stream, owner: str, records: list[dict]) -> None:
        """One Firehose object: decompressed records, a newline after each, GZIP'd."""
        arrived = self.now()
        prefix = stream.prefix.replace("!{partitionKeyFromQuery:owner}", owner).replace(
            "!{timestamp:yyyy/MM/dd}", arrived.strftime("%Y/%m/%d")
        )
        name = f"{stream.name}-1-{arrived.strftime('%Y-%m-%d-%H-%M-%S')}-{uuid.uuid4()}"
        body = "".join(json.dumps(record) + "\n" for record in records).encode()
        if stream.gzip:
            body, name = gzip.compress(body), f"{name}.gz"
        archive = self.clients("s3", self.archive_account, stream.arn.split(":")[3])
        archive.put_object(Bucket=stream.bucket, Key=f"{prefix}{name}", Body=body)


def admin_clients(role_name: str, endpoint_url: str | None = None) -> Clients:
    """Clients of each account as `role_name` (assumed from the current credentials), as the
    stacks and verify act: the emulator then serves each call in that account."""
    import boto3

    cache: dict[tuple[str, str, str], Any] = {}

    def client(service: str, account: str, region: str) -> Any:
        key = (service, account, region)
        if key not in cache:
            sts = boto3.client("sts", endpoint_url=endpoint_url, region_name=region)
            credentials = sts.assume_role(
                RoleArn=f"arn:aws:iam::{account}:role/{role_name}",
                RoleSessionName="delivery-simulator",
            )["Credentials"]
            cache[key] = boto3.client(
                service,
                endpoint_url=endpoint_url,
                region_name=region,
                aws_access_key_id=credentials["AccessKeyId"],
                aws_secret_access_key=credentials["SecretAccessKey"],
                aws_session_token=credentials["SessionToken"],
            )
        return cache[key]

    return client
