"""The policy pack served in the test process: the same requests, the same servicer, no gRPC.

The pack's own tests (test_pack_rules*.py, test_policy_config.py) drive it through
`AnalyzerClient`, which launches it as a process the way the engine does. A mutation tool sees
only the code the test process runs, so under mutation testing (conftest.UNDER_MUTATION) or with
ORG_LOGGING_PACK_IN_PROCESS=1 those tests get `InProcessAnalyzerClient` instead: it runs the
pack's `__main__.py` here, keeps the `_PolicyAnalyzerServicer` that `PolicyPack` would have
served, and sends it the very protobuf requests `AnalyzerClient` builds.

The pack imports itself as top-level `guardrails` and `conventions` (its directory is the
engine's working directory); here they are the `policy.guardrails` and `policy.conventions`
modules, so each function has one module name, the one its file path gives.
"""

from __future__ import annotations

import importlib
import os
import runpy
import sys
from concurrent.futures import Future
from typing import Any

import pulumi_policy
from pulumi_policy import policy as policy_sdk

from enroll.offline.analyzer.client import DEFAULT_PACK_DIR, AnalyzerClient
from enroll.offline.analyzer.config import load_pack_project
from enroll.offline.analyzer.wire import StackInfo

GUARDRAILS = ("values", "cloudtrail", "delivery", "logs", "organizations", "rds", "s3")


def in_process_wanted() -> bool:
    return "MUTANT_UNDER_TEST" in os.environ or os.environ.get("ORG_LOGGING_PACK_IN_PROCESS") == "1"


def alias_pack_modules() -> None:
    """Make `import conventions` and `from guardrails.x import` find the policy.* modules."""
    sys.modules["conventions"] = importlib.import_module("policy.conventions")
    sys.modules["guardrails"] = importlib.import_module("policy.guardrails")
    for name in GUARDRAILS:  # values first: the others import it
        sys.modules[f"guardrails.{name}"] = importlib.import_module(f"policy.guardrails.{name}")


class _CapturedPack(Exception):
    def __init__(self, servicer: Any) -> None:
        super().__init__("policy pack captured")
        self.servicer = servicer


def pack_servicer() -> Any:
    """The servicer `PolicyPack(...)` in policy/__main__.py builds, without serving it."""
    alias_pack_modules()
    original = pulumi_policy.PolicyPack

    class Capture:
        def __init__(self, name: str, policies: list[Any], enforcement_level: Any = None) -> None:
            level = enforcement_level or pulumi_policy.EnforcementLevel.ADVISORY
            raise _CapturedPack(policy_sdk._PolicyAnalyzerServicer(name, "0.0.1", policies, level))

    pulumi_policy.PolicyPack = Capture  # type: ignore[misc,assignment]
    try:
        runpy.run_path(str(DEFAULT_PACK_DIR / "__main__.py"), run_name="__main__")
    except _CapturedPack as captured:
        servicer = captured.servicer
    else:
        raise AssertionError("policy/__main__.py built no PolicyPack")
    finally:
        pulumi_policy.PolicyPack = original  # type: ignore[misc]
    # The pack process configures Pulumi's runtime from PULUMI_* variables; here that would
    # change the settings every other test in this process sees.
    servicer._configure_runtime_settings = lambda: None
    return servicer


class _Method:
    """One RPC of the stub: called, or `.future(...)` as `analyze_many` pipelines it."""

    def __init__(self, handler: Any) -> None:
        self._handler = handler

    def __call__(self, request: Any, timeout: float | None = None) -> Any:
        return self._handler(request, None)

    def future(self, request: Any, timeout: float | None = None) -> Future:
        done: Future = Future()
        try:
            done.set_result(self._handler(request, None))
        except Exception as error:
            done.set_exception(error)
        return done


class _Stub:
    def __init__(self, servicer: Any) -> None:
        self._servicer = servicer

    def __getattr__(self, rpc: str) -> _Method:
        return _Method(getattr(self._servicer, rpc))

    def Handshake(self, request: Any, timeout: float | None = None) -> None:
        return None  # pulumi-policy 1.21 leaves it unimplemented

    def Cancel(self, request: Any, timeout: float | None = None) -> None:
        return None


class InProcessAnalyzerClient(AnalyzerClient):
    """`AnalyzerClient` whose pack is the servicer in this process (see the module doc)."""

    def start(self) -> None:
        if self._started:
            raise AssertionError("this client has already started its pack; make a new client")
        self._started = True
        self._pack_version = str(load_pack_project(self.pack_dir).get("version") or "")
        self._stub = _Stub(pack_servicer())  # type: ignore[assignment]
        if self.stack is not None:
            self.configure_stack(self.stack)

    def close(self, grace: float = 5.0) -> None:
        self._stub = None


def analyzer_client_class() -> type[AnalyzerClient]:
    return InProcessAnalyzerClient if in_process_wanted() else AnalyzerClient


def team_pack_client() -> AnalyzerClient:
    """The pack as a team stack's preview meets it: launched, or in process (module doc)."""
    return analyzer_client_class()(stack=StackInfo(stack="team", project="team-app"))
