"""The offline preview and `pulumi preview --policy-pack` give the same verdicts.

The offline preview re-implements what the engine sends the pack (registrations, the default
provider, Analyze per resource, AnalyzeStack). This compares the two on three of our stacks and
five bad team stacks: the sets of (policy, resource URN, level) must be equal. An SDK,
pulumi-policy or CLI upgrade that changes what the engine sends shows up here first
(docs/upgrade-checklist.md).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from enroll.offline.analyzer.client import AnalyzerClient
from enroll.offline.analyzer.config import policy_pack_config_json
from enroll.offline.analyzer.wire import StackInfo
from enroll.offline.preview import registrations_to_resources
from enroll.offline.render import render
from enroll.offline.runner import OfflineRunner, plan_pack_config
from enroll.run.automation import AutomationRunner, ensure_pack_virtualenv
from enroll.util.paths import POLICY_PACK_DIR, PROJECT_DIR
from tests import team_stacks
from tests.e2e.engine import REPO

# Bad team stacks, one per concern: each makes mandatory policies fire.
TEAM_STACKS = (
    "rds_postgres_default_group",
    "alb_access_logs_with_prefix",
    "bucket_invalid_name",
    "replication_keeps_delete_markers",
    "org_without_scps",
)
TEAM_CONFIG = {"aws:region": "us-east-1"}

Verdict = tuple[str, str, str]  # policy, resource URN, level


def engine_verdicts(events: list) -> set[Verdict]:
    return {
        (e.policy_name, e.resource_urn or "", e.enforcement_level.lower())
        for e in events
        if e is not None
    }


# ---- our stacks -------------------------------------------------------------------------------


def test_our_stacks_get_the_same_verdicts_offline_and_from_the_engine(
    tmp_path, engine_env, emulated_org, demo_plan, monkeypatch
):
    stacks = [next(s for s in demo_plan.stacks if s.role == role) for role in ("log-archive",)]
    stacks += [next(s for s in demo_plan.stacks if s.role == "management")]
    stacks += [next(s for s in demo_plan.stacks if s.role == "source")]
    config = plan_pack_config(demo_plan)
    for key, value in engine_env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("PULUMI_BACKEND_URL", (tmp_path / "backend").as_uri())
    (tmp_path / "backend").mkdir()
    engine = AutomationRunner(
        state_dir=tmp_path / "state",
        policy_packs=(str(POLICY_PACK_DIR),),
        policy_pack_config=policy_pack_config_json(config),
    )
    engine.prepare()
    emulator = emulated_org[0]
    with OfflineRunner(org=None, policy_config=config, workers=1) as offline:
        for stack in stacks:
            online = engine.run(stack, "preview")
            assert online.status == "passed" and online.error is None, online.error
            from_engine = {(v.policy, v.resource, v.level) for v in online.violations}
            offline_result = offline.run(stack, "preview")
            from_mocks = {(v.policy, v.resource, v.level) for v in offline_result.violations}
            assert from_mocks == from_engine, stack.name
            # The same resources: the engine's creates are the render's plus the root stack.
            assert online.changes == {"create": offline_result.resources + 1}, stack.name
    assert emulator.endpoint_url  # the engine's provider ran against the emulator


# ---- bad team stacks ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def team_project(tmp_path_factory) -> Path:
    """A project like a team's, named like ours so that URNs compare: its program runs the team
    stack that the stack config's `team:program` names."""
    project = tmp_path_factory.mktemp("team-project")
    for module in ("team_stacks.py", "team_org_stacks.py"):  # team_stacks imports the other
        shutil.copy(REPO / "tests" / module, project / module)
    (project / "Pulumi.yaml").write_text(
        json.dumps(
            {
                "name": "org-logging",
                "runtime": {
                    "name": "python",
                    "options": {"toolchain": "pip", "virtualenv": str(PROJECT_DIR / ".venv")},
                },
            }
        )
    )
    (project / "__main__.py").write_text(
        "import pulumi\nimport team_stacks\n\n"
        "getattr(team_stacks, pulumi.Config('team').require('program'))()\n"
    )
    return project


@pytest.mark.parametrize("name", TEAM_STACKS)
def test_bad_team_stacks_get_the_same_verdicts_offline_and_from_the_engine(
    name, team_project, engine_env, tmp_path, monkeypatch
):
    from pulumi import automation as auto

    ensure_pack_virtualenv(POLICY_PACK_DIR)
    config = plan_pack_config_for_teams()
    config_file = tmp_path / "pack-config.json"
    config_file.write_text(json.dumps(policy_pack_config_json(config)))
    env = {**engine_env, "PULUMI_BACKEND_URL": (tmp_path / "backend").as_uri()}
    for key, value in env.items():  # the CLI on PATH, its home, the emulator
        monkeypatch.setenv(key, value)
    (tmp_path / "backend").mkdir()
    workspace = auto.LocalWorkspace(work_dir=str(team_project), env_vars=env)
    stack = auto.Stack.create(name.replace("_", "-"), workspace)
    stack.set_all_config(
        {
            "aws:region": auto.ConfigValue(TEAM_CONFIG["aws:region"]),
            "team:program": auto.ConfigValue(name),
        }
    )
    events: list = []
    with pytest.raises(auto.CommandError, match="preview failed"):  # a mandatory violation
        stack.preview(
            policy_packs=[str(POLICY_PACK_DIR)],
            policy_pack_configs=[str(config_file)],
            on_event=lambda event: events.append(getattr(event, "policy_event", None)),
            color="never",
        )
    from_engine = engine_verdicts(events)
    assert any(level == "mandatory" for _, _, level in from_engine), name  # bad on purpose
    # The engine's stack is named with dashes; the offline render takes the same name.
    assert offline_verdicts_named(name, stack.name, config) == from_engine


def offline_verdicts_named(program: str, stack: str, config: dict) -> set[Verdict]:
    rendered = render(TEAM_CONFIG, stack=stack, preview=True, program=getattr(team_stacks, program))
    resources = registrations_to_resources(rendered, TEAM_CONFIG)
    with AnalyzerClient(stack=StackInfo(stack=stack, project="org-logging")) as pack:
        pack.configure(config)
        found: set[Verdict] = set()
        for resource, result in zip(resources, pack.analyze_many(resources), strict=True):
            found |= {
                (d.policy_name, resource.urn, d.enforcement_level) for d in result.diagnostics
            }
        stack_urn = next(r.urn for r in resources if r.type == "pulumi:pulumi:Stack")
        found |= {
            (d.policy_name, d.urn or stack_urn, d.enforcement_level)
            for d in pack.analyze_stack(resources).diagnostics
        }
    return found


def plan_pack_config_for_teams() -> dict:
    """What a team's CI passes: the organization's prefix."""
    from enroll.offline.analyzer.wire import PolicyConfig

    return {
        name: PolicyConfig(properties={"namePrefix": "acme"})
        for name in ("s3-bucket-naming", "log-replication-preserves-history", "log-delivery-prefix")
    }
