"""moto's server, plus stand-ins for the AWS APIs org-logging calls that moto 5.2.5 lacks:
Account Management's regions API (ListRegions, GetRegionOptStatus, EnableRegion,
DisableRegion) here, and CloudFormation's organizations access for StackSets and the rule
that a role must exist and trust the caller to be assumed in emulator_access.py.

Discovery calls it with boto3's `account` client exactly as it calls AWS, so the emulator
serves the same code path. The stand-in keeps AWS's rules that matter here:
- a region launched after 2019-03-20 starts DISABLED in every account, older ones are
  ENABLED_BY_DEFAULT and cannot be changed;
- naming another account (`AccountId`) needs the caller to be that account's management
  account, with trusted access for account.amazonaws.com enabled:
  https://docs.aws.amazon.com/accounts/latest/reference/API_ListRegions.html
- the management account cannot name itself: it omits AccountId.

Run as `python -m enroll.demo.emulator_server -H 127.0.0.1 -p 0` (moto's own arguments), plus
`--enforce-role-trust` to turn on the AssumeRole rule.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from moto.account import urls
from moto.account.models import account_backends
from moto.account.responses import AccountResponse
from moto.organizations.models import organizations_backends

from enroll.demo import emulator_access
from enroll.demo.emulator_access import organization_of
from policy import conventions

ACCOUNT_SERVICE = "account.amazonaws.com"
ENFORCE_ROLE_TRUST = "--enforce-role-trust"
OPERATIONS = ("listRegions", "getRegionOptStatus", "enableRegion", "disableRegion")


class RegionApiError(Exception):
    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


def _statuses(backend: Any) -> dict[str, str]:
    if not hasattr(backend, "region_opt_status"):
        backend.region_opt_status = {
            region: "DISABLED" if conventions.is_opt_in_region(region) else "ENABLED_BY_DEFAULT"
            for region, partition in conventions.REGIONS.items()
            if partition is conventions.AWS
        }
    return backend.region_opt_status


def _target_account(caller: str, named: str | None) -> str:
    """The account a request is about; naming another one follows Organizations' rules."""
    if not named or named == caller:
        if named == caller:
            organization = organization_of(caller)
            if organization is not None and organization.master_account_id == caller:
                raise RegionApiError(
                    "ValidationException",
                    "The management account can only be specified by omitting AccountId.",
                )
        return caller
    organization = organization_of(caller)
    if organization is None or organization.master_account_id != caller:
        raise RegionApiError(
            "AccessDeniedException",
            f"Account {caller} is not the management account of an organization that "
            f"contains {named}.",
            403,
        )
    backend = organizations_backends[caller]["aws"]
    if named not in {account.id for account in backend.accounts}:
        raise RegionApiError(
            "AccessDeniedException", f"Account {named} is not a member of your organization.", 403
        )
    if ACCOUNT_SERVICE not in {s["ServicePrincipal"] for s in backend.services}:
        raise RegionApiError(
            "AccessDeniedException",
            "Trusted access is not enabled for the AWS Account Management service "
            f"({ACCOUNT_SERVICE}) in your organization.",
            403,
        )
    return named


def handle(operation: str, caller: str, body: dict[str, Any]) -> dict[str, Any]:
    """One request of the regions API, as AWS answers it (raises RegionApiError)."""
    account = _target_account(caller, body.get("AccountId"))
    statuses = _statuses(account_backends[account]["aws"])
    if operation == "listRegions":
        wanted = set(body.get("RegionOptStatusContains") or [])
        regions = [
            {"RegionName": region, "RegionOptStatus": status}
            for region, status in sorted(statuses.items())
            if not wanted or status in wanted
        ]
        start = int(body.get("NextToken") or 0)
        size = int(body.get("MaxResults") or 20)
        page = regions[start : start + size]
        result: dict[str, Any] = {"Regions": page}
        if start + size < len(regions):
            result["NextToken"] = str(start + size)
        return result
    region = body.get("RegionName", "")
    if region not in statuses:
        raise RegionApiError("ValidationException", f"Unknown region {region!r}.")
    if operation == "getRegionOptStatus":
        return {"RegionName": region, "RegionOptStatus": statuses[region]}
    if not conventions.is_opt_in_region(region):
        raise RegionApiError(
            "ValidationException", f"{region} is enabled by default and cannot be changed."
        )
    statuses[region] = "ENABLED" if operation == "enableRegion" else "DISABLED"
    return {}


def install() -> None:
    """Route the regions API of moto's `account` service to `handle`."""

    class RegionsResponse(AccountResponse):
        def _dispatch(self, request: Any, full_url: str, headers: Any) -> Any:
            operation = full_url.split("?")[0].rstrip("/").rsplit("/", 1)[-1]
            self.setup_class(request, full_url, headers)
            try:
                body = json.loads(request.data or b"{}")
                result = handle(operation, self.current_account, body)
            except RegionApiError as error:
                return (
                    error.status,
                    {"Content-Type": "application/json", "x-amzn-ErrorType": error.code},
                    json.dumps({"__type": error.code, "message": error.message}),
                )
            return 200, {"Content-Type": "application/json"}, json.dumps(result)

    for operation in OPERATIONS:
        urls.url_paths[f"{{0}}/{operation}$"] = RegionsResponse.dispatch


def main() -> None:
    enforce = ENFORCE_ROLE_TRUST in sys.argv[1:]
    install()
    emulator_access.install(enforce_role_trust=enforce)
    from moto.server import main as moto_main

    moto_main([arg for arg in sys.argv[1:] if arg != ENFORCE_ROLE_TRUST])


if __name__ == "__main__":
    main()
