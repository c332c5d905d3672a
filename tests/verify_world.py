"""A log-archive stack and one source stack, rendered under mocks and applied to moto (in
process), with the delivery simulator over them: what `verify` runs against in the unit tests.

Only what the canary's paths touch is applied: the buckets, their versioning and policies, the
replication configuration and role, and the canary log group. The account policy, destinations
and streams stay in the rendered configuration, which the simulator follows.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from conftest import ADMIN_ROLE, LOG_ARCHIVE, MEMBER, ORG_ID, render_config, stack_config

from enroll.offline.mocks import computed_outputs
from enroll.offline.render import Rendered
from enroll.org.model import PlannedStack
from enroll.verify.run import Clock, Pipeline
from tests.e2e.delivery_sim import Clients, DeliverySimulator, DeployedPipeline, admin_clients

HOME = "us-east-1"
SOURCE_REGION = "eu-west-1"
SOURCE_STACK = PlannedStack(
    name=f"source-{MEMBER}-{SOURCE_REGION}",
    role="source",
    account_id=MEMBER,
    region=SOURCE_REGION,
    config={},
)
PIPELINE = Pipeline(name_prefix="acme", log_archive_account=LOG_ARCHIVE, home_region=HOME)


def rendered_stacks() -> list[tuple[Rendered, str, str]]:
    """(render, account, region) of the log-archive stack and the source stack."""
    archive = render_config(stack_config("log-archive"), "log-archive")
    source = render_config(
        stack_config("source", aws_region=SOURCE_REGION), f"source-{SOURCE_REGION}"
    )
    return [(archive, LOG_ARCHIVE, HOME), (source, MEMBER, SOURCE_REGION)]


def _camel_to_pascal(value: Any) -> Any:
    """Pulumi's camelCase replication rule -> the S3 API's PascalCase."""
    if isinstance(value, dict):
        return {k[0].upper() + k[1:]: _camel_to_pascal(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_camel_to_pascal(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)  # the gRPC Struct carries every number as a double
    return value


def apply(rendered: Rendered, account: str, region: str, clients: Clients) -> None:
    s3, iam, logs = (clients(service, account, region) for service in ("s3", "iam", "logs"))
    for r in rendered.resources:
        inputs = r.inputs
        if r.type == "aws:s3/bucket:Bucket":
            where = {} if region == "us-east-1" else {"LocationConstraint": region}
            s3.create_bucket(
                Bucket=inputs["bucket"], **{"CreateBucketConfiguration": where} if where else {}
            )
        elif r.type == "aws:s3/bucketVersioning:BucketVersioning":
            s3.put_bucket_versioning(
                Bucket=inputs["bucket"], VersioningConfiguration={"Status": "Enabled"}
            )
        elif r.type == "aws:s3/bucketPolicy:BucketPolicy":
            s3.put_bucket_policy(Bucket=inputs["bucket"], Policy=inputs["policy"])
        elif r.type == "aws:s3/bucketReplicationConfig:BucketReplicationConfig":
            rules = _camel_to_pascal(inputs["rules"])
            for rule in rules:
                rule["ID"] = rule.pop("Id")
            s3.put_bucket_replication(
                Bucket=inputs["bucket"],
                ReplicationConfiguration={"Role": inputs["role"], "Rules": rules},
            )
        elif r.type == "aws:iam/role:Role":
            iam.create_role(
                RoleName=inputs["name"], AssumeRolePolicyDocument=inputs["assumeRolePolicy"]
            )
        elif r.type == "aws:iam/rolePolicy:RolePolicy":
            iam.put_role_policy(
                RoleName=inputs["role"], PolicyName=r.name, PolicyDocument=inputs["policy"]
            )
        elif r.type == "aws:cloudwatch/logGroup:LogGroup" and region == SOURCE_REGION:
            logs.create_log_group(logGroupName=inputs["name"])


def deployed_configuration(stacks: list[tuple[Rendered, str, str]]) -> DeployedPipeline:
    """What the engine would record: each resource's inputs and the outputs AWS computes."""
    return DeployedPipeline.from_resources(
        {
            "type": r.type,
            "outputs": {
                **r.inputs,
                **computed_outputs(r.type, r.name, r.inputs, region=region, account=account),
            },
        }
        for rendered, account, region in stacks
        for r in rendered.resources
    )


@dataclass
class SteppingClock:
    """Starts now; every sleep moves it on and lets `on_sleep` (the pipeline) make progress."""

    on_sleep: Callable[[], None] = lambda: None
    now: float = field(default_factory=time.time)
    slept: list[float] = field(default_factory=list)

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds
        self.on_sleep()

    @property
    def clock(self) -> Clock:
        return Clock(now=lambda: self.now, sleep=self.sleep)

    def utc(self) -> datetime:
        return datetime.fromtimestamp(self.now, UTC)


@dataclass
class World:
    clients: Clients
    simulator: DeliverySimulator
    stepping: SteppingClock

    def break_replication_role(self) -> str:
        """Replace the replication role's policy with one that cannot replicate (reads only)."""
        iam = self.clients("iam", MEMBER, SOURCE_REGION)
        role = f"acme-logging-replication-{SOURCE_REGION}"
        (name,) = iam.list_role_policies(RoleName=role)["PolicyNames"]
        document = iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]
        for statement in document["Statement"]:
            actions = (
                statement["Action"]
                if isinstance(statement["Action"], list)
                else [statement["Action"]]
            )
            statement["Action"] = [a for a in actions if not a.startswith("s3:Replicate")] or [
                "s3:ListBucket"
            ]
        iam.put_role_policy(RoleName=role, PolicyName=name, PolicyDocument=json.dumps(document))
        return role


def build_world() -> World:
    """Call inside `mock_aws()`."""
    clients = admin_clients(ADMIN_ROLE)
    stacks = rendered_stacks()
    for rendered, account, region in stacks:
        apply(rendered, account, region, clients)
    stepping = SteppingClock()
    simulator = DeliverySimulator(
        clients,
        deployed_configuration(stacks),
        sources=[(MEMBER, SOURCE_REGION, PIPELINE.source_bucket(SOURCE_STACK))],
        archive=(LOG_ARCHIVE, HOME),
        org_id=ORG_ID,
        now=stepping.utc,
    )
    stepping.on_sleep = simulator.step
    return World(clients, simulator, stepping)
