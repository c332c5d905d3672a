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

# Tests marked `engine` need the Pulumi engine built by `make engine` and take minutes:
# `make e2e` (ORG_LOGGING_E2E=1) runs them, `make test` deselects them. Every test under
# tests/e2e is one of them.
E2E = os.environ.get("ORG_LOGGING_E2E") == "1"
collect_ignore = [] if E2E else ["e2e"]
E2E_DIR = Path(__file__).resolve().parent / "e2e"
ENGINE_VERSION = "3.274.0"  # engine/build.sh builds this version

# mutmut (`make mutation`) sets MUTANT_UNDER_TEST in every process that runs tests. There no
# render is shared between tests: each test runs the code it checks, so mutmut links the test
# to the functions it exercises, and a render cached before the mutant was switched on never
# hides it.
UNDER_MUTATION = "MUTANT_UNDER_TEST" in os.environ

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
    """Render (cached: the tests only read the result; never under mutation testing)."""
    config_json = json.dumps(config, sort_keys=True)
    if UNDER_MUTATION:
        return render(json.loads(config_json), stack=stack, preview=preview)
    return _render_cached(config_json, stack, preview)


def shared(scope: str) -> str:
    """The scope of a fixture that holds a render: `scope`, or each test's own under mutation
    testing."""
    return "function" if UNDER_MUTATION else scope


def policy_doc(resource: Registration, key: str = "policy") -> dict[str, Any]:
    return json.loads(resource.inputs[key])


def statements(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["Sid"]: s for s in document["Statement"]}


def as_list(value: Any) -> list:
    return value if isinstance(value, list) else [value]


@pytest.fixture(scope=shared("session"))
def log_archive() -> Rendered:
    return render_config(stack_config("log-archive"), "log-archive")


@pytest.fixture(scope=shared("session"))
def management() -> Rendered:
    return render_config(stack_config("management"), "management")


# ---- the engine ------------------------------------------------------------------------------


def engine_dir() -> Path:
    """Where engine/build.sh puts the engine (the same variables, the same default)."""
    configured = os.environ.get("ORG_LOGGING_ENGINE_DIR")
    if configured:
        return Path(configured)
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    version = os.environ.get("PULUMI_ENGINE_VERSION", ENGINE_VERSION).removeprefix("v")
    return Path(cache) / "org-logging" / f"engine-v{version}"


@pytest.fixture(scope="session")
def engine_bin() -> Path:
    """The built engine's bin directory; a test that needs it fails when it is missing."""
    bin_dir = engine_dir() / "bin"
    if not (bin_dir / "pulumi").exists():
        pytest.fail(
            f"the Pulumi engine is not built ({bin_dir / 'pulumi'} is missing): run `make engine`, "
            "or `make e2e`, which builds it first",
            pytrace=False,
        )
    return bin_dir


@pytest.hookimpl(tryfirst=True)  # before `-m engine` selects by the mark
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test under tests/e2e `engine`; deselect the `engine` tests unless
    ORG_LOGGING_E2E=1."""
    for item in items:
        if E2E_DIR in item.path.parents:
            item.add_marker(pytest.mark.engine)
    if E2E:
        return
    needs_engine = [item for item in items if item.get_closest_marker("engine")]
    if needs_engine:
        config.hook.pytest_deselected(items=needs_engine)
        items[:] = [item for item in items if not item.get_closest_marker("engine")]
