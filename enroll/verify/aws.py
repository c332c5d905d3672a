"""The AWS calls of verify, behind one class: the seam the tests can replace.

Every call runs as `adminRoleName` of the account it touches (assumed from the current
credentials, the management account's, as `up` does): the source bucket's policy lets only
that role put an object, and the central bucket's policy lets only it (and the reader role)
read one. Each call retries throttling on its own (enroll.org.awscalls).
"""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Any, Protocol

import boto3
from botocore.exceptions import ClientError

from components import naming
from enroll.org.awscalls import DEFAULT_RETRY, NO_BOTOCORE_RETRIES, Retry, call, error_code

SESSION_NAME = "org-logging-verify"
MISSING = {"404", "NoSuchKey", "NotFound"}


class CanaryCalls(Protocol):
    """What verify asks of AWS."""

    def put_object(self, account: str, region: str, bucket: str, key: str, body: bytes) -> None: ...

    def put_event(self, account: str, region: str, message: str, timestamp_ms: int) -> None: ...

    def exists(self, account: str, region: str, bucket: str, key: str) -> bool: ...

    def list_objects(
        self, account: str, region: str, bucket: str, prefix: str
    ) -> list[tuple[str, datetime]]: ...

    def read(self, account: str, region: str, bucket: str, key: str) -> bytes: ...


class CanaryAws:
    """`CanaryCalls` against AWS or an emulator (`endpoint_url`)."""

    def __init__(
        self,
        *,
        admin_role_name: str,
        endpoint_url: str | None = None,
        retry: Retry = DEFAULT_RETRY,
    ) -> None:
        self.admin_role_name = admin_role_name
        self.endpoint_url = endpoint_url
        self.retry = retry
        self._sessions: dict[str, boto3.Session] = {}
        self._clients: dict[tuple[str, str, str], Any] = {}
        self._lock = threading.Lock()
        self._locks: dict[str, threading.Lock] = {}
        self._base = boto3.Session()
        self._sts_clients: dict[str, Any] = {}

    def _sts(self, region: str) -> Any:
        """STS of the current credentials (boto3's sessions are not thread-safe: one, locked)."""
        with self._lock:
            if region not in self._sts_clients:
                self._sts_clients[region] = self._base.client(
                    "sts",
                    endpoint_url=self.endpoint_url,
                    region_name=region,
                    config=NO_BOTOCORE_RETRIES,
                )
            return self._sts_clients[region]

    def _account_lock(self, account: str) -> threading.Lock:
        with self._lock:
            return self._locks.setdefault(account, threading.Lock())

    def _session(self, account: str, region: str) -> boto3.Session:
        """adminRoleName's session in `account`; call with the account's lock held."""
        if account not in self._sessions:
            role_arn = naming.iam_role_arn(region, account, self.admin_role_name)
            sts = self._sts(region)
            credentials = call(
                sts, "assume_role", self.retry, RoleArn=role_arn, RoleSessionName=SESSION_NAME
            )["Credentials"]
            self._sessions[account] = boto3.Session(
                aws_access_key_id=credentials["AccessKeyId"],
                aws_secret_access_key=credentials["SecretAccessKey"],
                aws_session_token=credentials["SessionToken"],
            )
        return self._sessions[account]

    def client(self, service: str, account: str, region: str) -> Any:
        """One client per service, account and region. A boto3 session is not thread-safe, so
        each account's session is used under that account's lock; accounts go in parallel."""
        key = (service, account, region)
        with self._account_lock(account):
            if key not in self._clients:
                self._clients[key] = self._session(account, region).client(
                    service,
                    endpoint_url=self.endpoint_url,
                    region_name=region,
                    config=NO_BOTOCORE_RETRIES,
                )
            return self._clients[key]

    def put_object(self, account: str, region: str, bucket: str, key: str, body: bytes) -> None:
        s3 = self.client("s3", account, region)
        call(s3, "put_object", self.retry, Bucket=bucket, Key=key, Body=body)

    def put_event(self, account: str, region: str, message: str, timestamp_ms: int) -> None:
        logs = self.client("logs", account, region)
        try:
            call(
                logs,
                "create_log_stream",
                self.retry,
                logGroupName=naming.CANARY_LOG_GROUP,
                logStreamName=naming.CANARY_LOG_STREAM,
            )
        except ClientError as error:
            if error_code(error) != "ResourceAlreadyExistsException":
                raise
        call(
            logs,
            "put_log_events",
            self.retry,
            logGroupName=naming.CANARY_LOG_GROUP,
            logStreamName=naming.CANARY_LOG_STREAM,
            logEvents=[{"timestamp": timestamp_ms, "message": message}],
        )

    def exists(self, account: str, region: str, bucket: str, key: str) -> bool:
        s3 = self.client("s3", account, region)
        try:
            call(s3, "head_object", self.retry, Bucket=bucket, Key=key)
        except ClientError as error:
            if error_code(error) in MISSING:
                return False
            raise
        return True

    def list_objects(
        self, account: str, region: str, bucket: str, prefix: str
    ) -> list[tuple[str, datetime]]:
        s3 = self.client("s3", account, region)
        return [
            (item["Key"], item["LastModified"])
            for item in _object_pages(s3, self.retry, Bucket=bucket, Prefix=prefix)
        ]

    def read(self, account: str, region: str, bucket: str, key: str) -> bytes:
        s3 = self.client("s3", account, region)
        return call(s3, "get_object", self.retry, Bucket=bucket, Key=key)["Body"].read()


def _object_pages(s3: Any, retry: Retry, **kwargs: Any) -> Any:
    """ListObjectsV2 pages (its token is ContinuationToken, and an empty page has no Contents)."""
    token: str | None = None
    while True:
        more = {"ContinuationToken": token} if token else {}
        page = call(s3, "list_objects_v2", retry, **kwargs, **more)
        yield from page.get("Contents", [])
        token = page.get("NextContinuationToken")
        if not token:
            return
