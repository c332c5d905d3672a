"""The policy pack served in the test process: the same requests, the same servicer, no gRPC.

The pack's own tests (test_pack_rules*.py, test_policy_config.py) drive it through
`AnalyzerClient`, which launches it as a process the way the engine does. A mutation tool sees
only the code the test process runs, so under mutation testing (conftest.UNDER_MUTATION) or with
ORG_LOGGING_PACK_IN_PROCESS=1 those tests get `InProcessAnalyzerClient` instead: it runs the
pack's `__main__.py` here (enroll/offline/analyzer/in_process.py, what `preview --offline`
judges with), and sends the servicer the very protobuf requests `AnalyzerClient` builds.

The pack imports itself as top-level `guardrails`, `conventions` and `decode_memo` (its
directory is the engine's working directory); here they are the `policy.guardrails`,
`policy.conventions` and `policy.decode_memo` modules, so each function has one module name, the
one its file path gives.
"""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path
from typing import Any

from enroll.offline.analyzer.client import DEFAULT_PACK_DIR, AnalyzerClient
from enroll.offline.analyzer.in_process import (
    InProcessAnalyzerClient as ProductionInProcessClient,
)
from enroll.offline.analyzer.wire import StackInfo

GUARDRAILS = ("values", "cloudtrail", "delivery", "logs", "organizations", "rds", "s3")


def in_process_wanted() -> bool:
    return "MUTANT_UNDER_TEST" in os.environ or os.environ.get("ORG_LOGGING_PACK_IN_PROCESS") == "1"


def alias_pack_modules() -> None:
    """Make `import conventions` and `from guardrails.x import` find the policy.* modules."""
    sys.modules["conventions"] = importlib.import_module("policy.conventions")
    sys.modules["decode_memo"] = importlib.import_module("policy.decode_memo")
    sys.modules["guardrails"] = importlib.import_module("policy.guardrails")
    for name in GUARDRAILS:  # values first: the others import it
        sys.modules[f"guardrails.{name}"] = importlib.import_module(f"policy.guardrails.{name}")


def _alias_imports(pack_dir: Path) -> None:
    alias_pack_modules()


class InProcessAnalyzerClient(ProductionInProcessClient):
    """The production in-process client with the pack's modules named `policy.*` (module doc)."""

    def __init__(self, pack_dir: str | Path = DEFAULT_PACK_DIR, **options: Any) -> None:
        super().__init__(pack_dir, prepare_imports=_alias_imports, **options)


def analyzer_client_class() -> type[AnalyzerClient]:
    return InProcessAnalyzerClient if in_process_wanted() else AnalyzerClient


def team_pack_client() -> AnalyzerClient:
    """The pack as a team stack's preview meets it: launched, or in process (module doc)."""
    return analyzer_client_class()(stack=StackInfo(stack="team", project="team-app"))
