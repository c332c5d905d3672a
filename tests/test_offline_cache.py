"""`preview --offline` skips what has not changed: a stack whose fingerprint (its config, the
program's files, the pack's files and config, the org facts, the SDK versions) matches a verdict
in the state dir reuses it, reported as cached; changing any of them runs the stack again."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
import yaml
from conftest import example_stack_config

from enroll.cli import main
from enroll.demo.emulator import Emulator, fake_credentials, sample_org, sample_settings
from enroll.offline import cache
from enroll.offline.analyzer.wire import PolicyConfig
from enroll.offline.cache import ResultCache, run_digest, stack_fingerprint
from enroll.offline.runner import OfflineRunner, pack_config
from enroll.org.model import OrgFacts, PlannedStack, StackResult, Violation

ORG = OrgFacts(org_id="o-abc", management_account_id="111111111111")
CONFIG = {"s3-bucket-naming": PolicyConfig(properties={"namePrefix": "acme"})}


@pytest.fixture
def project(tmp_path) -> tuple[Path, Path]:
    root, pack = tmp_path / "root", tmp_path / "pack"
    for path, text in {
        root / "Pulumi.yaml": "name: x\n",
        root / "__main__.py": "import components\n",
        root / "components" / "bucket.py": "BUCKET = 1\n",
        root / "enroll" / "offline" / "mocks.py": "MOCKS = 1\n",
        pack / "__main__.py": "PACK = 1\n",
        pack / "PulumiPolicy.yaml": "runtime: python\n",
        pack / "guardrails" / "s3.py": "RULE = 1\n",
        pack / "venv" / "lib" / "site.py": "x = 1\n",
    }.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root, pack


def digest(project, *, policy_config=CONFIG, org=ORG) -> str:
    root, pack = project
    return run_digest(pack_dir=pack, policy_config=policy_config, org=org, root=root)


@pytest.mark.parametrize(
    "changed",
    [
        "Pulumi.yaml",
        "__main__.py",
        "components/bucket.py",
        "enroll/offline/mocks.py",
    ],
)
def test_changing_a_program_file_changes_the_fingerprint(project, changed):
    before = digest(project)
    (project[0] / changed).write_text("changed = True\n")
    assert digest(project) != before


@pytest.mark.parametrize("changed", ["__main__.py", "PulumiPolicy.yaml", "guardrails/s3.py"])
def test_changing_a_pack_file_changes_the_fingerprint(project, changed):
    before = digest(project)
    (project[1] / changed).write_text("changed = True\n")
    assert digest(project) != before


def test_a_new_pack_file_changes_the_fingerprint(project):
    before = digest(project)
    (project[1] / "guardrails" / "rds.py").write_text("RULE = 2\n")
    assert digest(project) != before


def test_the_packs_virtualenv_and_bytecode_are_not_part_of_it(project):
    before = digest(project)
    (project[1] / "venv" / "lib" / "site.py").write_text("x = 2\n")
    (project[1] / "guardrails" / "s3.cpython-311.pyc").write_bytes(b"\0")
    assert digest(project) == before


def test_changing_the_pack_config_or_the_org_changes_the_fingerprint(project):
    before = digest(project)
    other = {"s3-bucket-naming": PolicyConfig(properties={"namePrefix": "zzz"})}
    assert digest(project, policy_config=other) != before
    assert digest(project, org=dataclasses.replace(ORG, scp_enabled=False)) != before
    assert digest(project, org=None) != before
    assert digest(project) == before


@pytest.mark.parametrize("sdk", ["python", "pulumi", "pulumi-aws", "pulumi-policy"])
def test_changing_an_sdk_version_changes_the_fingerprint(project, monkeypatch, sdk):
    versions = cache.sdk_versions()
    before = digest(project)
    monkeypatch.setattr(cache, "sdk_versions", lambda: {**versions, sdk: "0.0.0-other"})
    assert digest(project) != before


def test_changing_the_stacks_config_or_name_changes_the_fingerprint():
    base = stack_fingerprint("run", "s", {"aws:region": "us-east-1"})
    assert stack_fingerprint("run", "s", {"aws:region": "us-east-1"}) == base
    assert stack_fingerprint("run", "s", {"aws:region": "eu-west-1"}) != base
    assert stack_fingerprint("run", "t", {"aws:region": "us-east-1"}) != base
    assert stack_fingerprint("run2", "s", {"aws:region": "us-east-1"}) != base


def test_a_verdict_comes_back_as_cached_and_an_error_is_not_kept(tmp_path):
    store = ResultCache(tmp_path)
    verdict = StackResult(
        "s", "source", "333333333333", "us-east-1", "failed", 12,
        violations=[Violation("p", "mandatory", "fix it", "urn:x")],
    )  # fmt: skip
    store.put("ab" * 32, verdict)
    assert store.get("ab" * 32) == dataclasses.replace(verdict, cached=True)
    assert store.get("ab" * 32).to_json()["cached"] is True
    store.put("cd" * 32, dataclasses.replace(verdict, status="error", error="boom"))
    assert store.get("cd" * 32) is None


def test_a_torn_entry_is_rendered_again(tmp_path):
    store = ResultCache(tmp_path)
    path = tmp_path / cache.CACHE_DIR / "ef" / f"{'ef' * 32}.json"
    path.parent.mkdir(parents=True)
    path.write_text('{"name": "s", "ro')
    assert store.get("ef" * 32) is None


# -- the runner --------------------------------------------------------------------------------


def planned(name: str, role: str, config: dict) -> PlannedStack:
    return PlannedStack(name, role, config.get("org-logging:accountId", ""), "us-east-1", config)


def preview_all(state_dir: Path | None, stacks: list[PlannedStack]) -> tuple[list, int]:
    with OfflineRunner(
        org=None, policy_config=pack_config("acme"), workers=1, state_dir=state_dir
    ) as runner:
        results = [runner.run(stack, "preview") for stack in stacks]
    return results, runner.cross_checked


def test_a_second_preview_reuses_unchanged_stacks_and_reruns_a_changed_one(tmp_path):
    management = example_stack_config("management")
    log_archive = example_stack_config("log-archive")
    stacks = [planned("management", "management", management)]
    stacks.append(planned("log-archive", "log-archive", log_archive))
    first, cross_checked = preview_all(tmp_path, stacks)
    assert [r.cached for r in first] == [False, False]
    assert [r.status for r in first] == ["passed", "passed"]
    assert cross_checked == 1  # the first stack of 50

    again, cross_checked = preview_all(tmp_path, stacks)
    assert [r.cached for r in again] == [True, True]
    assert [dataclasses.replace(r, cached=False, duration_seconds=0) for r in again] == [
        dataclasses.replace(r, duration_seconds=0) for r in first
    ]
    assert all(r.to_json()["cached"] is True for r in again)
    assert cross_checked == 0

    stacks[1] = planned("log-archive", "log-archive", {**log_archive, "aws:region": "eu-west-1"})
    changed, _ = preview_all(tmp_path, stacks)
    assert [r.cached for r in changed] == [True, False]

    uncached, _ = preview_all(None, stacks)  # --no-cache
    assert [r.cached for r in uncached] == [False, False]


def test_preview_offline_twice_reports_the_unchanged_stacks_as_cached(capsys, tmp_path):
    with fake_credentials(), Emulator() as emulator:
        settings = tmp_path / "org.yaml"
        settings.write_text(yaml.safe_dump(sample_settings(sample_org(emulator))))
        flags = ["--settings", str(settings), "--endpoint-url", emulator.endpoint_url]
        flags += ["--roles", "management,log-archive", "--state-dir", str(tmp_path)]

        def preview(*extra: str) -> dict:
            report = tmp_path / "report.json"
            assert main(["preview", "--offline", "--report", str(report), *flags, *extra]) == 0
            return json.loads(report.read_text())

        first = preview("--judge", "grpc")
        second = preview()
        third = preview("--no-cache", "--cross-check-every", "1")
    capsys.readouterr()
    assert [s.get("cached") for s in first["stacks"]] == [None, None]
    assert [s.get("cached") for s in second["stacks"]] == [True, True]
    assert (first["summary"]["cached"], second["summary"]["cached"]) == (0, 2)
    assert [s.get("cached") for s in third["stacks"]] == [None, None]
    uncached = [{k: v for k, v in s.items() if k != "cached"} for s in second["stacks"]]
    assert uncached == first["stacks"] == third["stacks"]
