"""Shared sample organization and render helpers for the tests."""

from __future__ import annotations

import json
import os
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from enroll.offline.render import Registration, Rendered, render

ROOT = Path(__file__).resolve().parent.parent

# The engine end-to-end tests need `make engine` and take minutes: `make e2e` runs them.
collect_ignore = [] if os.environ.get("ORG_LOGGING_E2E") else ["e2e"]

ORG_ID = "o-a1b2c3d4e5"
MANAGEMENT = "111111111111"
LOG_ARCHIVE = "222222222222"
MEMBER = "333333333333"
ADMIN_ROLE = "OrgLoggingAdmin"
PREFIX = "acme"

HOME_REGION = {"aws": "us-east-1", "aws-us-gov": "us-gov-west-1", "aws-cn": "cn-north-1"}
REGIONS = {
    "aws": ["us-east-1", "eu-west-1", "ap-southeast-2"],
    "aws-us-gov": ["us-gov-west-1", "us-gov-east-1"],
    "aws-cn": ["cn-north-1", "cn-northwest-1"],
}


def stack_config(role: str, partition: str = "aws", **overrides: Any) -> dict[str, Any]:
    """A valid config for `role` in a sample org of `partition`; overrides use short keys.

    An override of None removes the key.
    """
    home = HOME_REGION[partition]
    values: dict[str, Any] = {
        "role": role,
        "namePrefix": PREFIX,
        "orgId": ORG_ID,
        "managementAccountId": MANAGEMENT,
        "logArchiveAccountId": LOG_ARCHIVE,
        "homeRegion": home,
        "regions": REGIONS[partition],
        "adminRoleName": ADMIN_ROLE,
    }
    if role == "log-archive":
        values["retentionDays"] = 365
        values["memberAccountIds"] = [MANAGEMENT, LOG_ARCHIVE, MEMBER]
    if role == "source":
        values["accountId"] = MEMBER
    region = overrides.pop("aws_region", home)
    values.update(overrides)
    config = {f"org-logging:{k}": v for k, v in values.items() if v is not None}
    if region is not None:
        config["aws:region"] = region
    return config


def example_stack_config(stack: str) -> dict[str, Any]:
    return yaml.safe_load((ROOT / "stacks" / f"Pulumi.{stack}.yaml").read_text())["config"]


@cache
def _render_cached(config_json: str, stack: str, preview: bool) -> Rendered:
    return render(json.loads(config_json), stack=stack, preview=preview)


def render_config(config: dict[str, Any], stack: str = "test", preview: bool = False) -> Rendered:
    """Render (cached: the tests only read the result)."""
    return _render_cached(json.dumps(config, sort_keys=True), stack, preview)


def policy_doc(resource: Registration, key: str = "policy") -> dict[str, Any]:
    return json.loads(resource.inputs[key])


def statements(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["Sid"]: s for s in document["Statement"]}


def as_list(value: Any) -> list:
    return value if isinstance(value, list) else [value]


@pytest.fixture(scope="session")
def log_archive() -> Rendered:
    return render_config(stack_config("log-archive"), "log-archive")


@pytest.fixture(scope="session")
def management() -> Rendered:
    return render_config(stack_config("management"), "management")
