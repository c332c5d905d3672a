"""The stand-in `aws` provider (tests/e2e/provider), driven over the engine's gRPC protocol.

Each provider is started exactly as the engine starts it (`pulumi-resource-aws <engine>`, port
read from stdout) against a moto server, so what AWS validates (replication needs versioning,
the trust-policy grammar) fails through Create as it would against AWS; so does what the
stand-in checks where moto does not (a bucket policy's Deny on the provider's own calls, trusted
access for an organization trail, ACLs on BucketOwnerEnforced buckets, opt-in regions, another
account's key policy). The last test runs the real Pulumi CLI with the plugin installed, when
the CLI has been built.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import textwrap
import time
from collections.abc import Iterator
from contextlib import ExitStack, suppress
from pathlib import Path
from typing import Any

import boto3
import grpc
import pytest
from google.protobuf import empty_pb2
from pulumi.runtime.proto import provider_pb2

from enroll.demo.emulator import OPT_IN_REGION, Emulator, SampleOrg, fake_credentials, sample_org
from tests.e2e.provider import (
    PLUGIN_SCRIPT,
    PLUGIN_VERSION,
    REPO_ROOT,
    RPC_LOG_ENV,
    ProviderProcess,
    install_plugin,
)
from tests.e2e.provider.wire import SECRET_SIG, SIG_KEY, UNKNOWN, from_struct, secret, to_struct

ENGINE_BIN = Path.home() / ".cache" / "org-logging" / "engine-v3.274.0" / "bin"
MEMBER = "333333333333"
TRUST_S3 = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "s3.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
)

S3_BUCKET = "aws:s3/bucket:Bucket"
VERSIONING = "aws:s3/bucketVersioning:BucketVersioning"
REPLICATION = "aws:s3/bucketReplicationConfig:BucketReplicationConfig"
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
ROLE = "aws:iam/role:Role"
SCP = "aws:organizations/policy:Policy"
SCP_ATTACHMENT = "aws:organizations/policyAttachment:PolicyAttachment"
LIFECYCLE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
OWNERSHIP = "aws:s3/bucketOwnershipControls:BucketOwnershipControls"
BUCKET_ACL = "aws:s3/bucketAcl:BucketAcl"
TRAIL = "aws:cloudtrail/trail:Trail"
KMS_KEY = "aws:kms/key:Key"
KMS_ALIAS = "aws:kms/alias:Alias"
EVENT_RULE = "aws:cloudwatch/eventRule:EventRule"
GET_KEY = "aws:kms/getKey:getKey"
GET_ORGANIZATION = "aws:organizations/getOrganization:getOrganization"
CLOUDTRAIL = "cloudtrail.amazonaws.com"
ADMIN_ROLE = "OrgLoggingAdmin"


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    with fake_credentials(), Emulator() as emu:
        yield emu


def client(emulator: Emulator, service: str, region: str = "us-east-1", **creds: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=emulator.endpoint_url,
        region_name=region,
        aws_access_key_id=creds.get("AccessKeyId", "testing"),
        aws_secret_access_key=creds.get("SecretAccessKey", "testing"),
        aws_session_token=creds.get("SessionToken"),
    )


def provider_env(emulator: Emulator, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_ENDPOINT_URL=emulator.endpoint_url,
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        **extra,
    )
    return env


class Provider:
    """A started plugin and the calls the engine makes, in the engine's wire format."""

    def __init__(self, process: ProviderProcess) -> None:
        self.process = process
        self.stub = process.stub

    def configure(self, **config: Any) -> provider_pb2.ConfigureResponse:
        # As the engine sends it: typed args, and the legacy string variables.
        variables = {
            f"aws:config:{k}": v if isinstance(v, str) else json.dumps(v) for k, v in config.items()
        }
        return self.stub.Configure(
            provider_pb2.ConfigureRequest(
                variables=variables,
                args=to_struct(config),
                acceptSecrets=True,
                acceptResources=True,
            )
        )

    @staticmethod
    def urn(token: str, name: str) -> str:
        return f"urn:pulumi:test::org-logging::{token}::{name}"

    def check(self, token: str, name: str, inputs: dict[str, Any]) -> provider_pb2.CheckResponse:
        return self.stub.Check(
            provider_pb2.CheckRequest(
                urn=self.urn(token, name),
                news=to_struct(inputs),
                randomSeed=b"seed",
                name=name,
                type=token,
            )
        )

    def create(
        self, token: str, name: str, inputs: dict[str, Any], preview: bool = False
    ) -> tuple[str, dict[str, Any]]:
        checked = self.check(token, name, inputs)
        assert not checked.failures, checked.failures
        response = self.stub.Create(
            provider_pb2.CreateRequest(
                urn=self.urn(token, name),
                properties=checked.inputs,
                name=name,
                type=token,
                preview=preview,
            )
        )
        return response.id, from_struct(response.properties)

    def delete(self, token: str, name: str, resource_id: str, state: dict[str, Any]) -> None:
        self.stub.Delete(
            provider_pb2.DeleteRequest(
                id=resource_id,
                urn=self.urn(token, name),
                properties=to_struct(state),
                name=name,
                type=token,
            )
        )

    def diff(self, token: str, olds: dict[str, Any], news: dict[str, Any]) -> Any:
        return self.stub.Diff(
            provider_pb2.DiffRequest(
                id="x",
                urn=self.urn(token, "x"),
                olds=to_struct(olds),
                news=to_struct(news),
                old_inputs=to_struct(olds),
                name="x",
                type=token,
            )
        )

    def invoke(self, token: str, **args: Any) -> dict[str, Any]:
        response = self.stub.Invoke(provider_pb2.InvokeRequest(tok=token, args=to_struct(args)))
        assert not response.failures
        return from_struct(getattr(response, "return"))


def starter(stack: ExitStack, emulator: Emulator) -> Any:
    def start_provider(**config: Any) -> Provider:
        process = stack.enter_context(ProviderProcess(env=provider_env(emulator)))
        provider = Provider(process)
        if config:
            provider.configure(**config)
        return provider

    return start_provider


@pytest.fixture
def start(emulator: Emulator) -> Iterator[Any]:
    """start(**config) -> a configured Provider; every process stops when the test ends."""
    with ExitStack() as stack:
        yield starter(stack, emulator)


@pytest.fixture(scope="module")
def organization() -> Iterator[tuple[Emulator, SampleOrg]]:
    """A fresh emulator holding the sample organization (its "analytics" account has not
    enabled the opt-in region eu-central-2)."""
    with fake_credentials(), Emulator() as emu:
        yield emu, sample_org(emu)


@pytest.fixture
def start_in_org(organization: tuple[Emulator, SampleOrg]) -> Iterator[Any]:
    """start(**config) against the sample organization's emulator."""
    with ExitStack() as stack:
        yield starter(stack, organization[0])


def as_role(account: str, role: str = ADMIN_ROLE) -> list[dict[str, str]]:
    """The assumeRoles config of a stack that runs as `role` in `account`."""
    return [{"roleArn": f"arn:aws:iam::{account}:role/{role}", "sessionName": "org-logging"}]


def role_credentials(emulator: Emulator, account: str, role: str = ADMIN_ROLE) -> dict[str, str]:
    arn = f"arn:aws:iam::{account}:role/{role}"
    return client(emulator, "sts").assume_role(RoleArn=arn, RoleSessionName="check")["Credentials"]


def rpc_error(call: Any) -> str:
    with pytest.raises(grpc.RpcError) as caught:
        call()
    return caught.value.details()


# --------------------------------------------------------------------------------------------


def test_the_plugin_reports_aws_7_51_1_and_accepts_secrets(start):
    provider = start()
    assert provider.process.port > 0
    assert provider.stub.GetPluginInfo(empty_pb2.Empty()).version == PLUGIN_VERSION == "7.51.1"
    handshake = provider.stub.Handshake(
        provider_pb2.ProviderHandshakeRequest(engine_address="127.0.0.1:1")
    )
    assert handshake.accept_secrets and handshake.accept_resources
    configured = provider.configure(region="us-east-1")
    assert configured.acceptSecrets and configured.supportsPreview and configured.acceptResources
    schema = json.loads(provider.stub.GetSchema(provider_pb2.GetSchemaRequest(version=0)).schema)
    assert schema["name"] == "aws" and schema["version"] == "7.51.1"
    assert provider.stub.Cancel(empty_pb2.Empty()) == empty_pb2.Empty()


def test_the_plugin_prints_only_its_port_and_runs_from_any_directory(emulator, tmp_path):
    with ProviderProcess(env=provider_env(emulator), cwd=tmp_path) as process:
        assert process.stub.GetPluginInfo(empty_pb2.Empty()).version == "7.51.1"


def test_replication_fails_without_versioning_and_succeeds_after_it(start, emulator):
    provider = start(region="us-east-1")
    source, _ = provider.create(S3_BUCKET, "source", {"bucket": "repl-source"})
    target, _ = provider.create(S3_BUCKET, "target", {"bucket": "repl-target"})
    replication = {
        "bucket": source,
        "role": "arn:aws:iam::123456789012:role/acme-logging-replication-us-east-1",
        "rules": [
            {
                "id": "org-logs",
                "priority": 1,
                "status": "Enabled",
                "filter": {"prefix": "AWSLogs/123456789012/"},
                "deleteMarkerReplication": {"status": "Disabled"},
                "destination": {"bucket": f"arn:aws:s3:::{target}", "storageClass": "STANDARD"},
            }
        ],
    }
    message = rpc_error(lambda: provider.create(REPLICATION, "replication", replication))
    assert "Versioning must be 'Enabled' on the bucket to apply a replication configuration" in (
        message
    )
    assert "PutBucketReplication" in message and REPLICATION in message

    for bucket in (source, target):
        provider.create(
            VERSIONING,
            f"{bucket}-versioning",
            {"bucket": bucket, "versioningConfiguration": {"status": "Enabled"}},
        )
    resource_id, outputs = provider.create(REPLICATION, "replication", replication)
    assert resource_id == source and outputs["id"] == source
    rules = client(emulator, "s3").get_bucket_replication(Bucket=source)[
        "ReplicationConfiguration"
    ]["Rules"]
    assert rules[0]["ID"] == "org-logs" and rules[0]["Priority"] == 1


def test_moto_rejects_an_invalid_trust_policy_through_create(start, emulator):
    provider = start(region="us-east-1")
    bad_trust = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "s3.amazonaws.com"},
                    "Action": "s3:GetObject",
                }
            ],
        }
    )
    message = rpc_error(
        lambda: provider.create(ROLE, "bad", {"name": "bad-trust", "assumeRolePolicy": bad_trust})
    )
    assert "MalformedPolicyDocument" in message
    assert "Trust Policy statement actions can only be sts:AssumeRole" in message
    with pytest.raises(client(emulator, "iam").exceptions.NoSuchEntityException):
        client(emulator, "iam").get_role(RoleName="bad-trust")  # nothing left behind

    role_id, outputs = provider.create(
        ROLE, "good", {"name": "good-trust", "assumeRolePolicy": TRUST_S3}
    )
    assert role_id == "good-trust"
    assert outputs["arn"] == "arn:aws:iam::123456789012:role/good-trust"
    assert outputs["uniqueId"].startswith("AROA")


def test_gov_cloud_ids_and_arns_are_in_the_aws_us_gov_partition(start, emulator):
    provider = start(region="us-gov-west-1")
    bucket_id, bucket = provider.create(S3_BUCKET, "gov", {"bucket": "gov-logs"})
    assert bucket_id == "gov-logs"
    assert bucket["arn"] == "arn:aws-us-gov:s3:::gov-logs"
    _, role = provider.create(ROLE, "gov-role", {"name": "gov-role", "assumeRolePolicy": TRUST_S3})
    assert role["arn"] == "arn:aws-us-gov:iam::123456789012:role/gov-role"
    gov_s3 = client(emulator, "s3", region="us-gov-west-1")
    assert gov_s3.get_bucket_location(Bucket="gov-logs")["LocationConstraint"] == "us-gov-west-1"
    assert provider.invoke("aws:index/getPartition:getPartition")["partition"] == "aws-us-gov"


def test_get_organization_returns_the_emulators_organization(start, emulator):
    org = client(emulator, "organizations")
    try:
        described = org.create_organization(FeatureSet="ALL")["Organization"]
    except org.exceptions.AlreadyInOrganizationException:
        described = org.describe_organization()["Organization"]
    root = org.list_roots()["Roots"][0]
    if not root.get("PolicyTypes"):
        org.enable_policy_type(RootId=root["Id"], PolicyType="SERVICE_CONTROL_POLICY")

    provider = start(region="us-east-1")
    result = provider.invoke("aws:organizations/getOrganization:getOrganization")
    assert result["id"] == described["Id"]
    assert result["masterAccountId"] == described["MasterAccountId"] == "123456789012"
    assert result["roots"][0]["id"] == root["Id"]
    assert {"type": "SERVICE_CONTROL_POLICY", "status": "ENABLED"} in result["roots"][0][
        "policyTypes"
    ]
    identity = provider.invoke("aws:index/getCallerIdentity:getCallerIdentity")
    assert identity["accountId"] == "123456789012"

    # An SCP goes to moto: attached to the root, it is what getPoliciesForTarget lists.
    scp = {
        "name": "deny-leave",
        "type": "SERVICE_CONTROL_POLICY",
        "content": json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Deny", "Action": "organizations:LeaveOrganization", "Resource": "*"}
                ],
            }
        ),
    }
    policy_id, policy = provider.create(SCP, "deny-leave", scp)
    assert policy_id.startswith("p-") and policy["arn"].endswith(policy_id)
    attachment_id, _ = provider.create(
        SCP_ATTACHMENT, "deny-leave-root", {"policyId": policy_id, "targetId": root["Id"]}
    )
    assert attachment_id == f"{root['Id']}:{policy_id}"
    listed = provider.invoke(
        "aws:organizations/getPoliciesForTarget:getPoliciesForTarget",
        targetId=root["Id"],
        filter="SERVICE_CONTROL_POLICY",
    )
    assert policy_id in listed["ids"]
    fetched = provider.invoke("aws:organizations/getPolicy:getPolicy", policyId=policy_id)
    assert fetched["name"] == "deny-leave"

    # What moto does not check, the stand-in does as AWS would.
    broken = rpc_error(lambda: provider.create(SCP, "broken", {**scp, "name": "b", "content": "{"}))
    assert "MalformedPolicyDocumentException" in broken
    oversized = {**scp, "name": "big", "content": json.dumps({"Statement": [], "Pad": "x" * 5200})}
    assert "POLICY_CONTENT_LIMIT_EXCEEDED" in rpc_error(
        lambda: provider.create(SCP, "big", oversized)
    )


def test_delete_removes_the_bucket_from_moto_and_tolerates_it_gone(start, emulator):
    provider = start(region="eu-west-1")
    bucket_id, state = provider.create(S3_BUCKET, "doomed", {"bucket": "doomed-bucket"})
    s3 = client(emulator, "s3", region="eu-west-1")
    s3.head_bucket(Bucket=bucket_id)
    provider.delete(S3_BUCKET, "doomed", bucket_id, state)
    with pytest.raises(s3.exceptions.ClientError) as gone:
        s3.head_bucket(Bucket=bucket_id)
    assert gone.value.response["Error"]["Code"] == "404"
    provider.delete(S3_BUCKET, "doomed", bucket_id, state)  # already gone: fine


def test_update_reapplies_and_read_notices_what_is_gone(start, emulator):
    provider = start(region="us-east-1")
    bucket_id, bucket = provider.create(S3_BUCKET, "changing", {"bucket": "changing-bucket"})
    enabled = {"bucket": bucket_id, "versioningConfiguration": {"status": "Enabled"}}
    versioning_id, state = provider.create(VERSIONING, "changing-versioning", enabled)
    suspended = {**enabled, "versioningConfiguration": {"status": "Suspended"}}
    updated = provider.stub.Update(
        provider_pb2.UpdateRequest(
            id=versioning_id,
            urn=provider.urn(VERSIONING, "changing-versioning"),
            olds=to_struct(state),
            news=to_struct(suspended),
            old_inputs=to_struct(enabled),
            name="changing-versioning",
            type=VERSIONING,
        )
    )
    assert from_struct(updated.properties)["versioningConfiguration"] == {"status": "Suspended"}
    s3 = client(emulator, "s3")
    assert s3.get_bucket_versioning(Bucket=bucket_id)["Status"] == "Suspended"

    def read() -> provider_pb2.ReadResponse:
        return provider.stub.Read(
            provider_pb2.ReadRequest(
                id=bucket_id,
                urn=provider.urn(S3_BUCKET, "changing"),
                properties=to_struct(bucket),
                inputs=to_struct({"bucket": bucket_id}),
                name="changing",
                type=S3_BUCKET,
            )
        )

    assert read().id == bucket_id
    s3.delete_bucket(Bucket=bucket_id)  # deleted behind Pulumi's back
    assert read().id == ""


def test_secrets_stay_secret_in_the_outputs(start, emulator):
    provider = start(region="us-east-1")
    bucket_id, _ = provider.create(S3_BUCKET, "secretive", {"bucket": "secretive-bucket"})
    document = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": f"arn:aws:s3:::{bucket_id}/*",
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            }
        ],
    }
    _, outputs = provider.create(
        BUCKET_POLICY,
        "secretive-policy",
        {"bucket": bucket_id, "policy": secret(json.dumps(document))},
    )
    assert outputs["policy"][SIG_KEY] == SECRET_SIG
    assert json.loads(outputs["policy"]["value"]) == document
    stored = client(emulator, "s3").get_bucket_policy(Bucket=bucket_id)["Policy"]
    assert json.loads(stored) == document  # AWS got the plain value


def test_a_preview_creates_nothing_and_leaves_computed_outputs_unknown(start, emulator):
    provider = start(region="us-east-1")
    resource_id, outputs = provider.create(
        S3_BUCKET, "planned", {"bucket": "planned-bucket"}, preview=True
    )
    assert resource_id == ""
    assert outputs["bucket"] == "planned-bucket" and outputs["arn"] == UNKNOWN
    names = [b["Name"] for b in client(emulator, "s3").list_buckets()["Buckets"]]
    assert "planned-bucket" not in names


def test_diff_replaces_on_a_new_bucket_name_and_updates_versioning_in_place(start):
    provider = start(region="us-east-1")
    renamed = provider.diff(S3_BUCKET, {"bucket": "a"}, {"bucket": "b"})
    assert renamed.changes == provider_pb2.DiffResponse.DIFF_SOME
    assert list(renamed.replaces) == ["bucket"]
    suspended = provider.diff(
        VERSIONING,
        {"bucket": "a", "versioningConfiguration": {"status": "Enabled"}},
        {"bucket": "a", "versioningConfiguration": {"status": "Suspended"}},
    )
    assert list(suspended.diffs) == ["versioningConfiguration"] and not suspended.replaces
    same = provider.diff(S3_BUCKET, {"bucket": "a"}, {"bucket": "a"})
    assert same.changes == provider_pb2.DiffResponse.DIFF_NONE
    later = provider.diff(S3_BUCKET, {"bucket": "a"}, {"bucket": UNKNOWN})
    assert list(later.replaces) == ["bucket"]


def test_check_autonames_and_reports_missing_required_inputs(start):
    provider = start(region="us-east-1")
    named = from_struct(provider.check(S3_BUCKET, "Central", {}).inputs)
    assert named["bucket"].startswith("central-") and len(named["bucket"]) == len("central-") + 7
    failures = provider.check(BUCKET_POLICY, "p", {"bucket": "b"}).failures
    assert [(f.property, f.reason) for f in failures] == [
        ("policy", "Missing required property 'policy'")
    ]


def test_assume_roles_puts_the_bucket_into_the_assumed_account(start, emulator):
    role_arn = f"arn:aws:iam::{MEMBER}:role/OrganizationAccountAccessRole"
    provider = start(
        region="us-east-1",
        assumeRoles=[{"roleArn": role_arn, "sessionName": "org-logging"}],
        allowedAccountIds=[MEMBER],
    )
    bucket_id, _ = provider.create(S3_BUCKET, "member", {"bucket": "member-logs"})
    _, role = provider.create(
        ROLE, "member-role", {"name": "member-role", "assumeRolePolicy": TRUST_S3}
    )
    assert role["arn"] == f"arn:aws:iam::{MEMBER}:role/member-role"

    creds = client(emulator, "sts").assume_role(RoleArn=role_arn, RoleSessionName="check")[
        "Credentials"
    ]
    member_s3 = client(emulator, "s3", **creds)
    assert bucket_id in [b["Name"] for b in member_s3.list_buckets()["Buckets"]]
    base_s3 = client(emulator, "s3")
    assert bucket_id not in [b["Name"] for b in base_s3.list_buckets()["Buckets"]]
    member_role = client(emulator, "iam", **creds).get_role(RoleName="member-role")["Role"]
    assert member_role["Arn"] == role["arn"]


def test_allowed_account_ids_mismatch_fails_configure(start):
    provider = start()
    message = rpc_error(
        lambda: provider.configure(region="us-east-1", allowedAccountIds=["222222222222"])
    )
    assert message == "AWS account ID not allowed: 123456789012"
    # The engine's legacy form: every value a string, lists as JSON.
    legacy = start()
    with pytest.raises(grpc.RpcError) as caught:
        legacy.stub.Configure(
            provider_pb2.ConfigureRequest(
                variables={
                    "aws:config:region": "us-east-1",
                    "aws:config:allowedAccountIds": '["222222222222"]',
                }
            )
        )
    assert caught.value.details() == "AWS account ID not allowed: 123456789012"


# --------------------------------------------------------------------------------------------
# What AWS refuses and moto lets through
# --------------------------------------------------------------------------------------------


def test_a_bucket_policy_deny_binds_the_providers_own_calls_but_not_the_owners_root(
    start, emulator
):
    account = "123456789012"
    admin_arn = f"arn:aws:iam::{account}:role/{ADMIN_ROLE}"
    bucket_arn = "arn:aws:s3:::sealed-logs"
    admin = start(region="us-east-1", assumeRoles=as_role(account))
    deployer = start(region="us-east-1", assumeRoles=as_role(account, "Deployer"))
    root = start(region="us-east-1")  # the account's own credentials
    bucket, _ = admin.create(S3_BUCKET, "sealed", {"bucket": "sealed-logs"})
    only_the_admin = {
        "Sid": "OnlyTheAdminConfigures",
        "Effect": "Deny",
        "Principal": {"AWS": "*"},
        "Action": [
            "s3:PutLifecycleConfiguration",
            "s3:PutBucketPolicy",
            "s3:DeleteBucketPolicy",
        ],
        "Resource": bucket_arn,
        "Condition": {"ArnNotLike": {"aws:PrincipalArn": admin_arn}},
    }
    tls_only = {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [bucket_arn, f"{bucket_arn}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }
    sealed = json.dumps({"Version": "2012-10-17", "Statement": [only_the_admin, tls_only]})
    admin.create(BUCKET_POLICY, "sealed-policy", {"bucket": bucket, "policy": sealed})
    lifecycle = {
        "bucket": bucket,
        "rules": [
            {
                "id": "expire",
                "status": "Enabled",
                "filter": {"prefix": ""},
                "expiration": {"days": 30},
            }
        ],
    }
    s3 = client(emulator, "s3")

    def denied(who: str, action: str, token: str, name: str, operation: str) -> str:
        return (
            f"creating {token} ({name}): operation error {operation}, api error AccessDenied: "
            f"User: {who} is not authorized to perform: {action} on resource: "
            f'"{bucket_arn}" with an explicit deny in a resource-based policy'
        )

    deployer_arn = f"arn:aws:sts::{account}:assumed-role/Deployer/org-logging"
    assert rpc_error(lambda: deployer.create(LIFECYCLE, "lifecycle", lifecycle)) == denied(
        deployer_arn,
        "s3:PutLifecycleConfiguration",
        LIFECYCLE,
        "lifecycle",
        "PutBucketLifecycleConfiguration",
    )
    with pytest.raises(s3.exceptions.ClientError) as none_yet:
        s3.get_bucket_lifecycle_configuration(Bucket=bucket)
    assert none_yet.value.response["Error"]["Code"] == "NoSuchLifecycleConfiguration"
    root_arn = f"arn:aws:iam::{account}:root"
    assert rpc_error(lambda: root.create(LIFECYCLE, "lifecycle", lifecycle)) == denied(
        root_arn,
        "s3:PutLifecycleConfiguration",
        LIFECYCLE,
        "lifecycle",
        "PutBucketLifecycleConfiguration",
    )

    admin.create(LIFECYCLE, "lifecycle", lifecycle)  # the role the policy exempts
    rules = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    assert [(r["ID"], r["Expiration"]) for r in rules] == [("expire", {"Days": 30})]

    relaxed = json.dumps({"Version": "2012-10-17", "Statement": [tls_only]})
    replace = {"bucket": bucket, "policy": relaxed}
    assert rpc_error(lambda: deployer.create(BUCKET_POLICY, "relaxed", replace)) == denied(
        deployer_arn, "s3:PutBucketPolicy", BUCKET_POLICY, "relaxed", "PutBucketPolicy"
    )
    assert json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"]) == json.loads(sealed)
    # The owner account's root may always replace the policy, whatever it denies.
    root.create(BUCKET_POLICY, "relaxed", replace)
    assert json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"]) == json.loads(relaxed)
    deployer.create(LIFECYCLE, "lifecycle", lifecycle)  # no longer denied


def test_an_organization_trail_needs_trusted_access_which_get_organization_reports(start, emulator):
    org = client(emulator, "organizations")
    with suppress(org.exceptions.AlreadyInOrganizationException):
        org.create_organization(FeatureSet="ALL")
    enabled = {
        s["ServicePrincipal"]
        for s in org.list_aws_service_access_for_organization()["EnabledServicePrincipals"]
    }
    if CLOUDTRAIL in enabled:
        org.disable_aws_service_access(ServicePrincipal=CLOUDTRAIL)
    org.enable_aws_service_access(ServicePrincipal="config.amazonaws.com")
    client(emulator, "s3").create_bucket(Bucket="org-trail-logs")
    provider = start(region="us-east-1")
    trail = {
        "name": "org-trail",
        "s3BucketName": "org-trail-logs",
        "isOrganizationTrail": True,
        "isMultiRegionTrail": True,
    }
    assert provider.invoke(GET_ORGANIZATION)["awsServiceAccessPrincipals"] == [
        "config.amazonaws.com"
    ]
    assert rpc_error(lambda: provider.create(TRAIL, "org-trail", trail)) == (
        f"creating {TRAIL} (org-trail): operation error CreateTrail, api error "
        "CloudTrailAccessNotEnabledException: This exception is thrown when trusted access has "
        "not been enabled between CloudTrail and Organizations. For more information, see "
        "Enabling Trusted Access with Other AWS Services and Prepare For Creating a Trail For "
        "Your Organization."
    )
    assert client(emulator, "cloudtrail").describe_trails()["trailList"] == []

    org.enable_aws_service_access(ServicePrincipal=CLOUDTRAIL)
    assert sorted(provider.invoke(GET_ORGANIZATION)["awsServiceAccessPrincipals"]) == [
        CLOUDTRAIL,
        "config.amazonaws.com",
    ]
    trail_id, _ = provider.create(TRAIL, "org-trail", trail)
    created = client(emulator, "cloudtrail").describe_trails()["trailList"]
    assert [(t["TrailARN"], t["IsOrganizationTrail"]) for t in created] == [(trail_id, True)]
    # A trail of this account only needs no trusted access.
    org.disable_aws_service_access(ServicePrincipal=CLOUDTRAIL)
    provider.create(
        TRAIL, "account-trail", {**trail, "name": "account-trail", "isOrganizationTrail": False}
    )


def test_an_acl_fails_unless_the_buckets_object_ownership_allows_acls(start, emulator):
    provider = start(region="us-east-1")
    bucket, _ = provider.create(S3_BUCKET, "acl-logs", {"bucket": "acl-logs"})
    acl = {"bucket": bucket, "acl": "log-delivery-write"}
    refused = (
        f"creating {BUCKET_ACL} (acl): operation error PutBucketAcl, api error "
        "AccessControlListNotSupported: The bucket does not allow ACLs"
    )
    assert rpc_error(lambda: provider.create(BUCKET_ACL, "acl", acl)) == refused  # the default

    def ownership(name: str, setting: str) -> None:
        provider.create(OWNERSHIP, name, {"bucket": bucket, "rule": {"objectOwnership": setting}})

    ownership("enforced", "BucketOwnerEnforced")
    assert rpc_error(lambda: provider.create(BUCKET_ACL, "acl", acl)) == refused
    ownership("preferred", "BucketOwnerPreferred")
    acl_id, _ = provider.create(BUCKET_ACL, "acl", acl)
    assert acl_id == f"{bucket},log-delivery-write"
    grants = client(emulator, "s3").get_bucket_acl(Bucket=bucket)["Grants"]
    log_delivery = "http://acs.amazonaws.com/groups/s3/LogDelivery"
    assert log_delivery in [g["Grantee"].get("URI") for g in grants]


def test_a_region_the_account_has_not_enabled_fails_configure_and_resources(
    start_in_org, organization
):
    emu, org = organization
    analytics, audit = org.accounts["analytics"], org.accounts["audit"]
    assert org.region_not_enabled == {analytics: OPT_IN_REGION}
    not_enabled = (
        "UnrecognizedClientException: The security token included in the request is invalid. "
        f"(region {OPT_IN_REGION} is not enabled in account {analytics})"
    )
    provider = start_in_org()
    assert rpc_error(
        lambda: provider.configure(region=OPT_IN_REGION, assumeRoles=as_role(analytics))
    ) == (
        "retrieving caller identity from STS: operation error STS: GetCallerIdentity, "
        f"api error {not_enabled}"
    )
    zurich = start_in_org(region=OPT_IN_REGION, assumeRoles=as_role(audit))
    _, bucket = zurich.create(S3_BUCKET, "zurich", {"bucket": f"zurich-{audit}"})
    assert bucket["region"] == OPT_IN_REGION

    # A resource that names the region, from a provider in a region the account has.
    home = start_in_org(region="us-east-1", assumeRoles=as_role(analytics))
    elsewhere = {"bucket": f"zurich-{analytics}", "region": OPT_IN_REGION}
    assert rpc_error(lambda: home.create(S3_BUCKET, "zurich", elsewhere)) == (
        f"creating {S3_BUCKET} (zurich): operation error CreateBucket, api error {not_enabled}"
    )
    rule = {"name": "forward", "region": OPT_IN_REGION}  # kept in memory: refused the same
    assert rpc_error(lambda: home.create(EVENT_RULE, "forward", rule)) == (
        f"creating {EVENT_RULE} (forward): operation error CreateEventRule, api error {not_enabled}"
    )
    s3 = client(emu, "s3", region="us-east-1", **role_credentials(emu, analytics))
    assert f"zurich-{analytics}" not in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    home.create(S3_BUCKET, "virginia", {"bucket": f"virginia-{analytics}"})
    audit_home = start_in_org(region="us-east-1", assumeRoles=as_role(audit))
    audit_home.create(EVENT_RULE, "forward", rule)


def test_get_key_describes_another_accounts_key_only_when_its_key_policy_allows(start, emulator):
    owner, reader_account = "444444444444", "123456789012"
    owner_root = {"AWS": f"arn:aws:iam::{owner}:root"}
    own_only = {
        "Sid": "KeyAdministration",
        "Effect": "Allow",
        "Principal": owner_root,
        "Action": "kms:*",
        "Resource": "*",
    }
    key_owner = start(region="us-east-1", assumeRoles=as_role(owner))
    key_id, key = key_owner.create(
        KMS_KEY,
        "central",
        {"description": "central log key", "policy": json.dumps({"Statement": [own_only]})},
    )
    key_owner.create(
        KMS_ALIAS, "central-alias", {"name": "alias/central-logs", "targetKeyId": key_id}
    )
    alias_arn = f"arn:aws:kms:us-east-1:{owner}:alias/central-logs"
    reader = start(region="us-east-1")  # the management account's root
    reader_arn = f"arn:aws:iam::{reader_account}:root"

    def refused(reason: str) -> str:
        return (
            f"invoking {GET_KEY} (data source): operation error DescribeKey, api error "
            f"AccessDeniedException: User: {reader_arn} is not authorized to perform: "
            f"kms:DescribeKey on resource: {key['arn']} {reason}"
        )

    no_grant = "because no resource-based policy allows the kms:DescribeKey action"
    assert rpc_error(lambda: reader.invoke(GET_KEY, keyId=alias_arn)) == refused(no_grant)

    kms = client(emulator, "kms", **role_credentials(emulator, owner))
    describe = {
        "Sid": "ManagementDescribes",
        "Effect": "Allow",
        "Principal": {"AWS": reader_arn},
        "Action": "kms:DescribeKey",
        "Resource": "*",
    }
    kms.put_key_policy(
        KeyId=key_id, PolicyName="default", Policy=json.dumps({"Statement": [own_only, describe]})
    )
    described = reader.invoke(GET_KEY, keyId=alias_arn)
    created = described.pop("creationDate")
    assert described == {
        "id": key_id,
        "keyId": alias_arn,
        "region": "us-east-1",
        "grantTokens": [],
        "arn": f"arn:aws:kms:us-east-1:{owner}:key/{key_id}",
        "awsAccountId": owner,
        "description": "central log key",
        "enabled": True,
        "keyManager": "CUSTOMER",
        "keyState": "Enabled",
        "keyUsage": "ENCRYPT_DECRYPT",
        "keySpec": "SYMMETRIC_DEFAULT",
        "customerMasterKeySpec": "SYMMETRIC_DEFAULT",
        "origin": "AWS_KMS",
        "multiRegion": False,
    }
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", created)
    assert reader.invoke(GET_KEY, keyId=key["arn"])["id"] == key_id  # by key ARN too
    assert key_owner.invoke(GET_KEY, keyId="alias/central-logs")["arn"] == key["arn"]

    missing = f"arn:aws:kms:us-east-1:{owner}:alias/missing"
    assert rpc_error(lambda: reader.invoke(GET_KEY, keyId=missing)) == (
        f"invoking {GET_KEY} (data source): operation error DescribeKey, api error "
        f"NotFoundException: Alias {missing} is not found."
    )
    # A Deny wins over the grant. (It names the key: moto itself refuses DescribeKey to
    # everyone when any Deny with Resource "*" covers it, whatever its principal or condition.)
    only_admins = {
        "Sid": "OnlyAdminsDescribe",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "kms:DescribeKey",
        "Resource": key["arn"],
        "Condition": {"ArnNotLike": {"aws:PrincipalArn": f"arn:aws:iam::*:role/{ADMIN_ROLE}"}},
    }
    kms.put_key_policy(
        KeyId=key_id,
        PolicyName="default",
        Policy=json.dumps({"Statement": [own_only, describe, only_admins]}),
    )
    assert rpc_error(lambda: reader.invoke(GET_KEY, keyId=alias_arn)) == refused(
        "with an explicit deny in a resource-based policy"
    )


# --------------------------------------------------------------------------------------------
# The real engine
# --------------------------------------------------------------------------------------------

PROGRAM = textwrap.dedent(
    """
    import pulumi
    import pulumi_aws as aws

    bucket = aws.s3.Bucket("logs", bucket="e2e-standin-logs")
    aws.s3.BucketVersioning(
        "logs-versioning",
        bucket=bucket.id,
        versioning_configuration={"status": "Enabled"},
    )
    identity = aws.get_caller_identity()
    pulumi.export("bucketArn", bucket.arn)
    pulumi.export("account", identity.account_id)
    """
)


@pytest.mark.skipif(not (ENGINE_BIN / "pulumi").exists(), reason="the Pulumi CLI is not built")
def test_the_real_engine_deploys_and_destroys_through_the_installed_plugin(emulator, tmp_path):
    home, backend, project = tmp_path / "home", tmp_path / "state", tmp_path / "project"
    for folder in (home, backend, project):
        folder.mkdir()
    rpc_log = tmp_path / "rpc.log"
    env = provider_env(
        emulator,
        PATH=f"{ENGINE_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        PULUMI_HOME=str(home),
        PULUMI_BACKEND_URL=f"file://{backend}",
        PULUMI_CONFIG_PASSPHRASE="x",
        PULUMI_SKIP_UPDATE_CHECK="1",
        PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION="true",
        **{RPC_LOG_ENV: str(rpc_log)},
    )
    for inherited in ("PULUMI_ACCESS_TOKEN", "PULUMI_CONFIG_PASSPHRASE_FILE", "PULUMI_STACK"):
        env.pop(inherited, None)
    pulumi = str(ENGINE_BIN / "pulumi")
    installed = install_plugin(pulumi, home, env)
    assert installed == home / "plugins" / "resource-aws-v7.51.1" / "pulumi-resource-aws"
    text = installed.read_text()
    assert str(PLUGIN_SCRIPT) in text and str(REPO_ROOT / ".venv" / "bin" / "python") in text

    (project / "Pulumi.yaml").write_text(
        "name: standin-e2e\n"
        "runtime:\n"
        "  name: python\n"
        "  options:\n"
        f"    virtualenv: {REPO_ROOT / '.venv'}\n"
    )
    (project / "__main__.py").write_text(PROGRAM)

    def run(*args: str) -> str:
        started = time.monotonic()
        done = subprocess.run(
            [pulumi, *args, "--non-interactive"],
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert done.returncode == 0, (
            f"pulumi {' '.join(args)} failed after {time.monotonic() - started:.0f}s:\n"
            f"{done.stdout}\n{done.stderr}\n--- rpc log ---\n"
            f"{rpc_log.read_text() if rpc_log.exists() else ''}"
        )
        return done.stdout

    run("stack", "init", "dev")
    run("config", "set", "aws:region", "us-east-1")
    run("config", "set", "--path", "aws:allowedAccountIds[0]", "123456789012")
    run("up", "--yes", "--skip-preview")
    outputs = json.loads(run("stack", "output", "--json"))
    assert outputs == {"bucketArn": "arn:aws:s3:::e2e-standin-logs", "account": "123456789012"}
    s3 = client(emulator, "s3")
    versioning = s3.get_bucket_versioning(Bucket="e2e-standin-logs")
    assert versioning["Status"] == "Enabled"

    run("destroy", "--yes", "--skip-preview")
    assert "e2e-standin-logs" not in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    calls = {line.split()[0] for line in rpc_log.read_text().splitlines()}
    assert {"Configure", "Check", "Create", "Invoke", "Delete"} <= calls
