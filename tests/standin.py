"""The stand-in `aws` provider in tests: started exactly as the engine starts it (against a moto
server) and called in the engine's wire format, for test_standin_provider.py and
test_standin_aws_rules.py."""

from __future__ import annotations

import json
import os
from contextlib import ExitStack
from typing import Any

import boto3
import grpc
import pytest
from pulumi.runtime.proto import provider_pb2

from enroll.demo.emulator import Emulator
from tests.e2e.provider import ProviderProcess
from tests.e2e.provider.wire import from_struct, to_struct

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
ADMIN_ROLE = "OrgLoggingAdmin"


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
