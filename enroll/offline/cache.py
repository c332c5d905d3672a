"""Skip what has not changed: an offline verdict reused when nothing it depends on changed.

A stack's fingerprint covers everything its offline verdict is a function of: its name and
config, the organization facts its data sources read, the program's files (and the renderer's
mocks), the pack's files and config, and the versions of Python and the SDKs. A result whose
fingerprint matches one in the state dir is reused (`preview --offline`, unless `--no-cache`).
Only verdicts are kept (passed, failed): an error is worth another attempt.

Unlike the ledger's program digest (what `up --resume` trusts), this one includes the pack and
the offline renderer, and excludes the pack's own virtualenv.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import importlib.metadata
import json
import os
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from enroll.offline.analyzer.wire import PolicyConfig
from enroll.org.model import OrgFacts, StackResult
from enroll.util.files import atomic_write
from enroll.util.paths import PROJECT_DIR

PROGRAM_FILES = (
    "Pulumi.yaml",
    "__main__.py",
    "requirements.txt",
    "components/**/*.py",
    "enroll/offline/**/*.py",
)
SDKS = ("pulumi", "pulumi-aws", "pulumi-policy", "protobuf", "grpcio")
_SKIPPED_DIRS = frozenset({"venv", ".venv", "__pycache__", "node_modules"})
CACHE_DIR = "offline-cache"
_CACHEABLE = frozenset({"passed", "failed"})


def _digest_files(root: Path, files: Iterable[Path]) -> str:
    digest = hashlib.sha256()
    for path in sorted(set(files)):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def program_files(root: Path = PROJECT_DIR) -> list[Path]:
    return [p for pattern in PROGRAM_FILES for p in root.glob(pattern) if p.is_file()]


def pack_files(pack_dir: Path) -> list[Path]:
    """Every file of the pack but its virtualenv and bytecode."""
    found = []
    for folder, dirs, files in os.walk(pack_dir):
        dirs[:] = [d for d in dirs if d not in _SKIPPED_DIRS]
        found.extend(Path(folder) / f for f in files if not f.endswith(".pyc"))
    return found


def sdk_versions() -> dict[str, str]:
    versions = {"python": sys.version}
    for name in SDKS:
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            versions[name] = importlib.metadata.version(name)
    return versions


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def run_digest(
    *,
    pack_dir: Path,
    policy_config: Mapping[str, PolicyConfig],
    org: OrgFacts | None,
    root: Path = PROJECT_DIR,
) -> str:
    """What every stack of a run shares: program, pack, pack config, org facts, SDK versions."""
    parts = {
        "program": _digest_files(root, program_files(root)),
        "pack": _digest_files(pack_dir, pack_files(pack_dir)),
        "packConfig": {name: dataclasses.asdict(c) for name, c in policy_config.items()},
        "org": dataclasses.asdict(org) if org is not None else None,
        "sdks": sdk_versions(),
    }
    return hashlib.sha256(_canonical(parts).encode()).hexdigest()


def stack_fingerprint(run: str, name: str, config: Mapping[str, Any]) -> str:
    return hashlib.sha256(_canonical([run, name, dict(config)]).encode()).hexdigest()


class ResultCache:
    """Verdicts by fingerprint, one small JSON file each under `<state dir>/offline-cache/`."""

    def __init__(self, state_dir: Path) -> None:
        self.folder = Path(state_dir) / CACHE_DIR

    def _path(self, fingerprint: str) -> Path:
        return self.folder / fingerprint[:2] / f"{fingerprint}.json"

    def get(self, fingerprint: str) -> StackResult | None:
        try:
            data = json.loads(self._path(fingerprint).read_text())
            return dataclasses.replace(StackResult.from_json(data), cached=True)
        except (OSError, ValueError, KeyError, TypeError):
            return None  # absent, or torn: render it again

    def put(self, fingerprint: str, result: StackResult) -> None:
        if result.status not in _CACHEABLE:
            return
        path = self._path(fingerprint)
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, json.dumps(result.to_json()))
