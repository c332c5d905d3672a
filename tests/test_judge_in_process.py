"""Judging in process (what `preview --offline` does by default) gives exactly the diagnostics
of the pack process, on every stack of the demo plan and every team stack of the tests; a
policy's prints and crashes still name the policy and the stack; and a disagreement between
the two judges is an error that shows both verdicts."""

from __future__ import annotations

import io
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import example_stack_config
from team_stacks import EXPECTED
from test_policy_pack import PACK_CONFIG, TEAM_CONFIG, team_stack

from enroll.demo.emulator import Emulator, fake_credentials, sample_org, sample_settings
from enroll.offline.analyzer.client import AnalyzerClient
from enroll.offline.analyzer.in_process import InProcessAnalyzerClient
from enroll.offline.analyzer.wire import AnalyzerError, PolicyConfig, Resource, make_urn
from enroll.offline.preview import (
    preview_stack,
    registrations_to_resources,
    stack_info,
)
from enroll.offline.render import render
from enroll.offline.runner import plan_pack_config
from enroll.org.discovery import discover, organizations_client
from enroll.org.plan import build_plan
from enroll.org.settings import parse_org_settings


def verdicts(client: AnalyzerClient, name: str, config: dict, resources: list[Resource]) -> list:
    """Everything the pack answered for one stack, in the engine's order."""
    client.configure_stack(stack_info(name, config))
    return [*client.analyze_many(resources), client.analyze_stack(resources)]


@pytest.fixture(scope="module")
def demo():
    with fake_credentials(), Emulator() as emulator:
        sample = sample_org(emulator)
        settings = parse_org_settings(sample_settings(sample), "demo")
        org = discover(
            organizations_client(emulator.endpoint_url, region="us-east-1"),
            tag_key=settings.exclude.opt_out_tag,
            regions=settings.regions,
        )
    return org.facts(), build_plan(settings, org)


def both_judges(config: dict[str, PolicyConfig]) -> Iterator[tuple[AnalyzerClient, ...]]:
    with AnalyzerClient() as launched, InProcessAnalyzerClient() as in_process:
        launched.configure(config)
        in_process.configure(config)
        yield launched, in_process


@pytest.fixture(scope="module")
def demo_judges(demo):
    yield from both_judges(plan_pack_config(demo[1]))


@pytest.fixture(scope="module")
def team_judges():
    yield from both_judges(PACK_CONFIG)


def test_every_demo_stack_gets_the_same_diagnostics_in_process_and_from_the_pack(demo, demo_judges):
    org, plan = demo
    launched, in_process = demo_judges
    judged = 0
    for stack in plan.stacks:
        config = dict(stack.config)
        rendered = render(config, stack=stack.name, preview=True, org=org)
        resources = registrations_to_resources(rendered, config)
        expected = verdicts(launched, stack.name, config, resources)
        assert verdicts(in_process, stack.name, config, resources) == expected, stack.name
        judged += len(resources)
    # Our stacks are clean (no diagnostics); the team stacks below carry the violations.
    assert len(plan.stacks) > 20
    assert judged > 20 * len(plan.stacks)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_team_stack_gets_the_same_diagnostics_in_process_and_from_the_pack(name, team_judges):
    launched, in_process = team_judges
    resources = team_stack(name, EXPECTED[name][0], preview=True)
    expected = verdicts(launched, name, TEAM_CONFIG, resources)
    assert verdicts(in_process, name, TEAM_CONFIG, resources) == expected
    fired = {d.policy_name for r in expected for d in r.diagnostics if d.enforcement_level}
    assert EXPECTED[name][1] <= fired


# -- prints and crashes -------------------------------------------------------------------------

NOISY_PACK = """
import sys

import pulumi
from pulumi_policy import PolicyPack, ResourceValidationPolicy


def chatty(args, report_violation):
    print(f"looking at {args.name}")
    print("no newline at the end", end="")


def grumpy(args, report_violation):
    print(f"{args.name} is", end="", file=sys.stderr)
    print(" not to my taste", file=sys.stderr)
    pulumi.log.warn("careful")


def fragile(args, report_violation):
    if args.name == "bad":
        raise KeyError("bucket")


PolicyPack(
    name="noisy",
    policies=[
        ResourceValidationPolicy(name="chatty", description="prints", validate=chatty),
        ResourceValidationPolicy(name="grumpy", description="complains", validate=grumpy),
        ResourceValidationPolicy(name="fragile", description="raises", validate=fragile),
    ],
)
"""


@pytest.fixture
def noisy_pack(tmp_path) -> Path:
    (tmp_path / "PulumiPolicy.yaml").write_text("runtime: python\nversion: 1.0.0\n")
    (tmp_path / "__main__.py").write_text(textwrap.dedent(NOISY_PACK))
    return tmp_path


def bucket(name: str) -> Resource:
    urn = make_urn("s1", "team-app", "aws:s3/bucket:Bucket", name)
    return Resource("aws:s3/bucket:Bucket", urn, name, {"bucket": name})


def test_a_policys_prints_are_attributed_to_the_policy_and_the_stack(noisy_pack):
    prints = io.StringIO()
    with InProcessAnalyzerClient(noisy_pack, prints=prints) as client:
        client.configure_stack(stack_info("s1", {}))
        client.analyze_many([bucket("good")])
    assert prints.getvalue().splitlines() == [
        "policy chatty (stack s1): looking at good",
        "policy grumpy (stack s1) stderr: good is not to my taste",
        "policy grumpy (stack s1) stderr: warning: careful",
        # a line without its newline is written when the request is answered
        "policy chatty (stack s1): no newline at the end",
    ]


def test_a_policys_crash_names_the_policy_the_stack_and_the_resource(noisy_pack):
    with InProcessAnalyzerClient(noisy_pack, prints=io.StringIO()) as client:
        client.configure_stack(stack_info("s1", {}))
        with pytest.raises(AnalyzerError) as raised:
            client.analyze_many([bucket("good"), bucket("bad")])
    message = str(raised.value)
    assert message.startswith(
        f"policy fragile crashed (stack s1, resource {bucket('bad').urn}) in Analyze: "
        "KeyError: 'bucket'\nTraceback"
    )
    assert 'raise KeyError("bucket")' in message


# -- the cross-check ----------------------------------------------------------------------------


def test_judges_that_disagree_make_the_stack_an_error_showing_both_verdicts(team_judges):
    launched, _ = team_judges
    other = {**PACK_CONFIG, "s3-bucket-naming": PolicyConfig(properties={"namePrefix": "zzz"})}
    with InProcessAnalyzerClient() as in_process:
        in_process.configure(other)
        alone = preview_stack("log-archive", _log_archive_config(), in_process)
        assert "s3-bucket-naming" in {v.policy for v in alone.violations}
        checked = preview_stack(
            "log-archive", _log_archive_config(), in_process, cross_check=launched
        )
    assert checked.status == "error"
    assert checked.error.startswith("JUDGES DISAGREE")
    in_process_part, pack_part = checked.error.split("\npack process:\n")
    assert "s3-bucket-naming" in in_process_part
    assert "s3-bucket-naming" not in pack_part


def test_judges_that_agree_leave_the_verdict_alone(team_judges):
    launched, in_process = team_judges
    alone = preview_stack("management", _management_config(), in_process)
    checked = preview_stack("management", _management_config(), in_process, cross_check=launched)
    assert checked == alone
    assert checked.status == "passed"


def _management_config() -> dict:
    return example_stack_config("management")


def _log_archive_config() -> dict:
    return example_stack_config("log-archive")
