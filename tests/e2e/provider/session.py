"""Provider configuration and the AWS identity it runs as (Configure).

AWS calls go only to the emulator: `endpoints` from the provider config, else boto3's own
`AWS_ENDPOINT_URL`. With neither, the provider works in memory and never makes a call.
`assumeRoles` are assumed in order (moto routes assumed-role credentials to the role's
account); `allowedAccountIds` / `forbiddenAccountIds` are enforced like the real provider.
An opt-in region the account has not enabled fails as AWS fails it (`region_problem`).
"""

from __future__ import annotations

import os
import re
import threading
from dataclasses import dataclass, field
from typing import Any

from enroll.offline.analyzer.wire import unwrap_secrets
from policy import conventions

from .policy_eval import Caller, principal_context
from .wire import UNKNOWN, config_value

DEFAULT_ACCOUNT = "123456789012"  # moto's account for the base credentials
# What moto's GetCallerIdentity says for credentials it did not issue: the account's own
# keys, which the provider treats as the root user's (AWS says arn:aws:iam::<id>:root).
_MOTO_DEFAULT_IDENTITY = re.compile(r"arn:([^:]+):sts::(\d{12}):user/moto")
MOTO_ACCOUNT_HEADER = "x-moto-account-id"  # moto serves the request from this account
DISABLED_REGION_CODE = "UnrecognizedClientException"  # AWS's answer in a disabled region

# Our boto3 service name -> the keys pulumi-aws' `endpoints` config may use for it.
ENDPOINT_KEYS = {
    "logs": ("logs", "cloudwatchlogs"),
    "events": ("events", "eventbridge", "cloudwatchevents"),
    "firehose": ("firehose",),
}


class ConfigError(Exception):
    """The provider configuration is unusable; the message is what the engine shows."""


def partition_of(region: str) -> str:
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-iso-"):
        return "aws-iso"
    if region.startswith("us-isob-"):
        return "aws-iso-b"
    return "aws"


def dns_suffix(partition: str) -> str:
    return {"aws-cn": "amazonaws.com.cn"}.get(partition, "amazonaws.com")


def _account_ids(value: Any) -> list[str]:
    items = value if isinstance(value, list) else [value] if value else []
    # A list written by `pulumi config set --path` may hold numbers: ids are 12 digits.
    return [str(a).zfill(12) if isinstance(a, int) else str(a) for a in items]


@dataclass
class ProviderConfig:
    region: str
    assume_roles: list[dict[str, Any]] = field(default_factory=list)
    allowed_account_ids: list[str] = field(default_factory=list)
    forbidden_account_ids: list[str] = field(default_factory=list)
    endpoints: dict[str, str] = field(default_factory=dict)
    access_key: str = ""
    secret_key: str = ""
    token: str = ""
    raw: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def parse(cls, values: dict[str, Any]) -> ProviderConfig:
        """`values`: config keys without namespace (`region`, `assumeRoles`...)."""
        values = {
            key: config_value(unwrap_secrets(value))
            for key, value in values.items()
            if value is not None and value != UNKNOWN
        }
        region = values.get("region") or os.environ.get("AWS_REGION") or ""
        region = region or os.environ.get("AWS_DEFAULT_REGION", "")
        if not isinstance(region, str) or not region:
            raise ConfigError(
                "missing required configuration key 'aws:region': set it with "
                "`pulumi config set aws:region <region>`"
            )
        roles = values.get("assumeRoles") or []
        if isinstance(roles, dict):
            roles = [roles]
        single = values.get("assumeRole")
        if isinstance(single, dict) and single.get("roleArn"):
            roles = [*roles, single]
        endpoints: dict[str, str] = {}
        raw_endpoints = values.get("endpoints") or []
        for item in raw_endpoints if isinstance(raw_endpoints, list) else [raw_endpoints]:
            if isinstance(item, dict):
                endpoints.update({k: v for k, v in item.items() if isinstance(v, str) and v})
        return cls(
            region=region,
            assume_roles=[r for r in roles if isinstance(r, dict) and r.get("roleArn")],
            allowed_account_ids=_account_ids(values.get("allowedAccountIds")),
            forbidden_account_ids=_account_ids(values.get("forbiddenAccountIds")),
            endpoints=endpoints,
            access_key=str(values.get("accessKey") or ""),
            secret_key=str(values.get("secretKey") or ""),
            token=str(values.get("token") or ""),
            raw=values,
        )


_ACCOUNT_API_REGION = "us-east-1"  # Account Management's one endpoint


def _is_opt_in(region: str) -> bool:
    try:
        return conventions.is_opt_in_region(region)
    except ValueError:  # a region naming does not know: the emulator decides nothing there
        return False


def _route_to_account(account: str) -> Any:
    def add_header(request: Any, **_: Any) -> None:
        request.headers[MOTO_ACCOUNT_HEADER] = account

    return add_header


class AwsSession:
    """The identity the provider acts as, and boto3 clients for it (one per service x region)."""

    def __init__(self, config: ProviderConfig) -> None:
        self.config = config
        self.region = config.region
        self.partition = partition_of(config.region)
        self.endpoint = os.environ.get("AWS_ENDPOINT_URL", "")
        self.emulated = bool(self.endpoint or config.endpoints)
        self._credentials: dict[str, str] = {}
        self._clients: dict[tuple[str, str, str], Any] = {}
        self._lock = threading.Lock()
        self._region_status: dict[tuple[str, str], str] = {}
        self._org_id: str | None = None
        self.account = DEFAULT_ACCOUNT
        self.caller_arn = f"arn:{self.partition}:iam::{DEFAULT_ACCOUNT}:root"
        self.user_id = "AKIAIOSFODNN7EXAMPLE"
        if config.access_key:
            self._credentials = {
                "aws_access_key_id": config.access_key,
                "aws_secret_access_key": config.secret_key,
            }
            if config.token:
                self._credentials["aws_session_token"] = config.token
        self._sign_in()
        problem = self.region_problem(self.region)
        if problem:
            raise ConfigError(
                "retrieving caller identity from STS: operation error STS: GetCallerIdentity, "
                f"api error {DISABLED_REGION_CODE}: {problem}"
            )
        self._check_account()

    def endpoint_for(self, service: str) -> str:
        for key in ENDPOINT_KEYS.get(service, (service,)):
            if self.config.endpoints.get(key):
                return self.config.endpoints[key]
        return self.endpoint

    def client(self, service: str, region: str | None = None, account: str = "") -> Any:
        """A client as the provider's identity; with `account`, one whose requests moto serves
        from that account (how AWS resolves a key or bucket named by another account's ARN)."""
        if not self.emulated:
            raise ConfigError(
                f"the stand-in aws provider has no emulator for {service}: set AWS_ENDPOINT_URL"
            )
        region = region or self.region
        key = (service, region, account if account != self.account else "")
        with self._lock:
            if key not in self._clients:
                import boto3
                from botocore.config import Config

                created = boto3.session.Session().client(
                    service,
                    region_name=region,
                    endpoint_url=self.endpoint_for(service) or None,
                    config=Config(
                        retries={"max_attempts": 2, "mode": "standard"},
                        connect_timeout=10,
                        read_timeout=60,
                        s3={"addressing_style": "path"},
                    ),
                    **self._credentials,
                )
                if key[2]:
                    created.meta.events.register(
                        f"before-sign.{created.meta.service_model.service_id.hyphenize()}",
                        _route_to_account(key[2]),
                    )
                self._clients[key] = created
            return self._clients[key]

    # --- who the provider is, as a resource policy sees it ----------------------------------

    @property
    def is_root(self) -> bool:
        return Caller.from_arn(self.caller_arn).principal_type == "Account"

    def caller(self) -> Caller:
        """The caller; for a role session aws:PrincipalArn is the configured role's ARN (an
        assumed-role ARN drops the role's path)."""
        assumed = Caller.from_arn(self.caller_arn)
        if not assumed.session_arn:
            return assumed
        role_name = assumed.arn.rsplit("/", 1)[-1]
        for role in reversed(self.config.assume_roles):
            arn = str(role["roleArn"])
            if arn.split(":")[4:5] == [self.account] and arn.rsplit("/", 1)[-1] == role_name:
                return Caller.from_arn(self.caller_arn, role_arn=arn)
        return assumed

    def organization_id(self) -> str:
        """The organization the account belongs to ("" if none): aws:PrincipalOrgID."""
        if self._org_id is None:
            org = self.client("organizations")
            try:
                self._org_id = org.describe_organization()["Organization"]["Id"]
            except org.exceptions.AWSOrganizationsNotInUseException:
                self._org_id = ""
        return self._org_id

    def request_context(self) -> dict[str, Any]:
        """The global condition keys of the provider's requests (over TLS, as itself)."""
        return principal_context(self.caller(), self.organization_id())

    def region_problem(self, region: str) -> str:
        """The message AWS fails a call to an opt-in region the account has not enabled with
        ("" if enabled), from Account Management's GetRegionOptStatus; cached per account and
        region. The error code is DISABLED_REGION_CODE."""
        if not self.emulated or not _is_opt_in(region):
            return ""
        key = (self.account, region)
        status = self._region_status.get(key)
        if status is None:
            answer = self.client("account", _ACCOUNT_API_REGION).get_region_opt_status(
                RegionName=region
            )
            status = self._region_status[key] = answer["RegionOptStatus"]
        if status in ("ENABLED", "ENABLED_BY_DEFAULT"):
            return ""
        return (
            "The security token included in the request is invalid. "
            f"(region {region} is not enabled in account {self.account})"
        )

    def _sign_in(self) -> None:
        for role in self.config.assume_roles:
            arn = str(role["roleArn"])
            if not self.emulated:
                match = re.match(r"arn:[^:]+:iam::(\d{12}):role/", arn)
                if not match:
                    raise ConfigError(f"assumeRoles: invalid roleArn {arn!r}")
                self.account = match[1]
                self.caller_arn = arn
                continue
            request: dict[str, Any] = {
                "RoleArn": arn,
                "RoleSessionName": str(role.get("sessionName") or "pulumi-org-logging"),
            }
            if role.get("externalId"):
                request["ExternalId"] = str(role["externalId"])
            if role.get("policy"):
                request["Policy"] = str(role["policy"])
            try:
                credentials = self.client("sts").assume_role(**request)["Credentials"]
            except Exception as error:
                raise ConfigError(f"assuming role {arn}: {error}") from error
            self._credentials = {
                "aws_access_key_id": credentials["AccessKeyId"],
                "aws_secret_access_key": credentials["SecretAccessKey"],
                "aws_session_token": credentials["SessionToken"],
            }
            with self._lock:
                self._clients.clear()
        if self.emulated:
            try:
                identity = self.client("sts").get_caller_identity()
            except Exception as error:
                raise ConfigError(f"retrieving caller identity from STS: {error}") from error
            self.account = identity["Account"]
            self.caller_arn = identity["Arn"]
            self.user_id = identity["UserId"]
            moto_default = _MOTO_DEFAULT_IDENTITY.fullmatch(self.caller_arn)
            if moto_default:
                self.caller_arn = f"arn:{moto_default[1]}:iam::{moto_default[2]}:root"

    def _check_account(self) -> None:
        # The real provider's words (terraform-provider-aws, internal/conns/config.go).
        allowed = self.config.allowed_account_ids
        if allowed and self.account not in allowed:
            raise ConfigError(f"AWS account ID not allowed: {self.account}")
        if self.account in self.config.forbidden_account_ids:
            raise ConfigError(f"AWS account ID not allowed: {self.account}")
