"""`up --bootstrap`: on an organization where nothing ran yet, the management stack creates
adminRoleName everywhere and the SCPs, without the trail, which needs the log-archive stack
(and that stack is deployed as adminRoleName)."""

from __future__ import annotations

import json

import pytest
import yaml
from conftest import render_config, stack_config

from components.settings import SettingsError
from enroll.cli import main
from enroll.demo.emulator import Emulator, fake_credentials, sample_org, sample_settings
from enroll.doctor import run as doctor_run
from enroll.doctor.model import ok
from enroll.doctor.run import BOOTSTRAP_CREATES, CHECKS, Check, run_checks
from enroll.offline.render import RenderError
from enroll.org.model import Plan, PlannedStack
from enroll.org.settings import parse_org_settings

TRAIL = "aws:cloudtrail/trail:Trail"
RULE = "aws:cloudwatch/eventRule:EventRule"


def test_a_bootstrap_render_has_the_admin_roles_and_the_scps_but_no_trail():
    rendered = render_config(stack_config("management", bootstrap=True), "management")
    types = [r.type for r in rendered.resources]
    assert TRAIL not in types
    assert RULE not in types  # the trail's detection rule forwards to the archive's bus
    assert types.count("aws:cloudformation/stackSet:StackSet") == 1
    assert types.count("aws:cloudformation/stackSetInstance:StackSetInstance") == 1
    assert types.count("aws:organizations/policy:Policy") == 2
    assert rendered.one("aws:iam/role:Role", "management-admin-role")
    assert rendered.outputs.get("trailArn") is None  # a None output is not exported


def test_without_bootstrap_the_same_stack_has_the_trail_and_its_rule():
    rendered = render_config(stack_config("management"), "management")
    types = [r.type for r in rendered.resources]
    assert types.count(TRAIL) == 1
    assert types.count(RULE) == 1


def test_bootstrap_is_true_or_false():
    with pytest.raises(RenderError, match=r"org-logging:bootstrap 'maybe' must be true or false"):
        render_config(stack_config("management", bootstrap="maybe"), "management")


def test_bootstrap_is_refused_in_the_settings_file():
    values = {
        "namePrefix": "acme",
        "logArchiveAccountId": "222222222222",
        "homeRegion": "us-east-1",
        "regions": ["us-east-1"],
        "adminRoleName": "OrgLoggingAdmin",
        "bootstrap": True,
    }
    with pytest.raises(SettingsError) as error:
        parse_org_settings(values, "org.yaml")
    assert error.value.problems == [
        "org.yaml: bootstrap is not set in the file: `org-logging up --bootstrap` sets it for "
        "the one run that creates adminRoleName before the log-archive stack exists"
    ]


def test_a_bootstrap_plan_is_the_management_stack_told_to_bootstrap():
    def stack(name, role):
        return PlannedStack(name, role, "111111111111", "us-east-1", {"org-logging:role": role})

    plan = Plan((stack("log-archive", "log-archive"), stack("management", "management")))
    (only,) = plan.bootstrap().stacks
    assert only.name == "management"
    assert only.config == {"org-logging:role": "management", "org-logging:bootstrap": "true"}
    assert Plan((stack("log-archive", "log-archive"),)).bootstrap().stacks == ()


def test_the_bootstrap_preflight_skips_only_the_admin_role_check(monkeypatch):
    ran = []

    def recording(check_id):
        return Check(check_id, check_id, lambda ctx: ran.append(check_id) or ok("fine"))

    monkeypatch.setattr(doctor_run, "CHECKS", tuple(recording(c.id) for c in CHECKS))
    assert {"admin-role"} == BOOTSTRAP_CREATES
    run_checks(object(), skip=BOOTSTRAP_CREATES)
    assert ran == [c.id for c in CHECKS if c.id != "admin-role"]
    ran.clear()
    run_checks(object())
    assert ran == [c.id for c in CHECKS]


# ---- the CLI ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def org(tmp_path_factory):
    with fake_credentials(), Emulator() as emulator:
        sample = sample_org(emulator)
        settings = tmp_path_factory.mktemp("org") / "org.yaml"
        settings.write_text(yaml.safe_dump(sample_settings(sample)))
        yield emulator, settings


def test_preview_bootstrap_runs_the_management_stack_alone_without_its_trail(org, tmp_path):
    emulator, settings = org
    reports = {}
    for flags in ((), ("--bootstrap",)):
        report = tmp_path / f"report{len(flags)}.json"
        code = main(
            [
                "preview",
                "--offline",
                *flags,
                "--roles",
                "management",
                "--settings",
                str(settings),
                "--endpoint-url",
                emulator.endpoint_url,
                "--state-dir",
                str(tmp_path / f"state{len(flags)}"),
                "--report",
                str(report),
            ]
        )
        assert code == 0
        reports[flags] = json.loads(report.read_text())["stacks"]
    (full,), (bootstrap,) = reports[()], reports[("--bootstrap",)]
    assert (bootstrap["name"], bootstrap["status"]) == ("management", "passed")
    # The trail, its detection rule and target, the forwarder role and its policy are left out.
    assert bootstrap["resources"] == full["resources"] - 5


def test_bootstrap_without_the_management_stack_is_a_usage_error(org, tmp_path, capsys):
    emulator, settings = org
    code = main(
        [
            "preview",
            "--offline",
            "--bootstrap",
            "--roles",
            "source",
            "--settings",
            str(settings),
            "--endpoint-url",
            emulator.endpoint_url,
            "--state-dir",
            str(tmp_path),
        ]
    )
    assert code == 2
    assert "--bootstrap runs the management stack, which --roles/--shard left out" in (
        capsys.readouterr().err
    )
