"""The stand-in `aws` provider (tests/e2e/provider), driven over the engine's gRPC protocol:
its lifecycle (Configure, Check, Diff, Create, Update, Read, Delete), previews, secrets and
assumed roles.

Each provider is started exactly as the engine starts it (`pulumi-resource-aws <engine>`, port
read from stdout) against a moto server, so what AWS validates (replication needs versioning,
the trust-policy grammar) fails through Create as it would against AWS; what the stand-in checks
where moto does not is in test_standin_aws_rules.py. The last test runs the real Pulumi CLI with
the plugin installed: it is marked `engine`, so `make e2e` runs it (after building the CLI) and
`make test` leaves it out.
"""

from __future__ import annotations

import json
import os
import subprocess
import textwrap
import time
from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any

import grpc
import pytest
from google.protobuf import empty_pb2
from pulumi.runtime.proto import provider_pb2
from standin import (
    BUCKET_POLICY,
    REPLICATION,
    ROLE,
    S3_BUCKET,
    VERSIONING,
    client,
    provider_env,
    rpc_error,
    starter,
)

from enroll.demo.emulator import Emulator, fake_credentials
from tests.e2e.provider import (
    PLUGIN_SCRIPT,
    PLUGIN_VERSION,
    REPO_ROOT,
    RPC_LOG_ENV,
    ProviderProcess,
    install_plugin,
)
from tests.e2e.provider.wire import SECRET_SIG, SIG_KEY, UNKNOWN, from_struct, secret, to_struct

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


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    with fake_credentials(), Emulator() as emu:
        yield emu


@pytest.fixture
def start(emulator: Emulator) -> Iterator[Any]:
    """start(**config) -> a configured Provider; every process stops when the test ends."""
    with ExitStack() as stack:
        yield starter(stack, emulator)


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


@pytest.mark.engine
def test_the_real_engine_deploys_and_destroys_through_the_installed_plugin(
    emulator, tmp_path, engine_bin
):
    home, backend, project = tmp_path / "home", tmp_path / "state", tmp_path / "project"
    for folder in (home, backend, project):
        folder.mkdir()
    rpc_log = tmp_path / "rpc.log"
    env = provider_env(
        emulator,
        PATH=f"{engine_bin}{os.pathsep}{os.environ.get('PATH', '')}",
        PULUMI_HOME=str(home),
        PULUMI_BACKEND_URL=f"file://{backend}",
        PULUMI_CONFIG_PASSPHRASE="x",
        PULUMI_SKIP_UPDATE_CHECK="1",
        PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION="true",
        **{RPC_LOG_ENV: str(rpc_log)},
    )
    for inherited in ("PULUMI_ACCESS_TOKEN", "PULUMI_CONFIG_PASSPHRASE_FILE", "PULUMI_STACK"):
        env.pop(inherited, None)
    pulumi = str(engine_bin / "pulumi")
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
