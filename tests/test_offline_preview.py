"""Offline preview: the example stacks rendered as a preview and run through a real pack.

The pack is the minimal fixture (tests/fixtures/minimal_pack), started once per module; the real
pack's rules are tested with the pack itself.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import (
    LOG_ARCHIVE,
    MANAGEMENT,
    MEMBER,
    ORG_ID,
    example_stack_config,
    render_config,
    stack_config,
)

from enroll.offline import preview as offline
from enroll.offline.analyzer.client import AnalyzerClient
from enroll.offline.analyzer.wire import SECRET_SIG, SIG_KEY, UNKNOWN, PolicyConfig, Resource
from enroll.offline.preview import (
    DEFAULT_AWS_PROVIDER,
    default_aws_provider,
    preview_stack,
    registrations_to_resources,
)
from enroll.offline.render import render
from enroll.org.model import OrgFacts, StackResult

PACK = Path(__file__).resolve().parent / "fixtures" / "minimal_pack"
EXAMPLES = {
    "management": ("management", MANAGEMENT, "us-east-1"),
    "log-archive": ("log-archive", LOG_ARCHIVE, "us-east-1"),
    "source-333333333333-eu-west-1": ("source", MEMBER, "eu-west-1"),
}
SCP = "aws:organizations/policy:Policy"
SCP_ATTACHMENT = "aws:organizations/policyAttachment:PolicyAttachment"
DEFAULT_PROVIDER_URN = "urn:pulumi:management::org-logging::pulumi:providers:aws::default_7_51_1"
REPORT_KEYS = ["name", "role", "accountId", "region", "status", "resources", "violations"]


@pytest.fixture(scope="module")
def client() -> Iterator[AnalyzerClient]:
    with AnalyzerClient(PACK) as started:
        started.configure(
            {"fixture-bucket-name": PolicyConfig(properties={"requiredPrefix": "acme-"})}
        )
        yield started


@pytest.fixture(scope="module")
def management_resources() -> list[Resource]:
    config = example_stack_config("management")
    return registrations_to_resources(render_config(config, "management", preview=True), config)


# -- reports ----------------------------------------------------------------------------------


@pytest.mark.parametrize("stack", EXAMPLES)
def test_example_stack_passes_with_its_resources_counted(client, stack):
    config = example_stack_config(stack)
    rendered = render_config(config, stack, preview=True)
    registered = [r for r in rendered.resources if r.type != "pulumi:pulumi:Stack"]

    report = preview_stack(stack, config, client)
    assert report == StackResult(stack, *EXAMPLES[stack], "passed", len(registered))
    assert report.resources > 5


def test_one_pack_serves_many_stacks(client):
    pid = client.pid
    for stack in ("management", "source-333333333333-eu-west-1", "management"):
        assert preview_stack(stack, example_stack_config(stack), client).status == "passed"
    assert client.pid == pid


def test_failing_stack_reports_each_violation_as_json(client):
    config = example_stack_config("source-333333333333-eu-west-1")
    config["org-logging:namePrefix"] = "beta"

    report = preview_stack("source-beta", config, client)
    assert report.to_json() == {
        "name": "source-beta",
        "role": "source",
        "accountId": MEMBER,
        "region": "eu-west-1",
        "status": "failed",
        "resources": report.resources,
        "violations": [
            {
                "policy": "fixture-bucket-name",
                "level": "mandatory",
                # The policy's description, which pulumi-policy prepends, is stripped.
                "message": "Bucket name 'beta-logs-333333333333-eu-west-1' must start with 'acme-'.",
                "resource": "urn:pulumi:source-beta::org-logging::org-logging:source_account:"
                "SourceAccountLogging$aws:s3/bucket:Bucket::source-eu-west-1-logs",
            }
        ],
    }


def test_passing_report_json_has_exactly_the_report_keys(client):
    report = preview_stack("management", example_stack_config("management"), client).to_json()

    assert list(report) == REPORT_KEYS
    assert report["violations"] == []


def unknown_bucket_name_program() -> None:
    import pulumi_aws as aws

    first = aws.s3.Bucket("first", bucket="acme-first")
    aws.s3.Bucket("unknown-name", bucket=first.arn)  # unknown until `first` exists


def test_advisory_violation_alone_does_not_fail_the_stack(client, monkeypatch):
    monkeypatch.setattr(
        offline, "render", functools.partial(render, program=unknown_bucket_name_program)
    )

    report = preview_stack(
        "advisory", example_stack_config("source-333333333333-eu-west-1"), client
    )
    assert report.status == "passed"
    assert report.resources == 2
    (violation,) = report.violations
    assert violation.level == "advisory"
    assert (
        violation.resource == "urn:pulumi:advisory::org-logging::aws:s3/bucket:Bucket::unknown-name"
    )
    assert "string value at .bucket can't be known during preview" in violation.message


def test_bad_config_is_an_error_report_with_the_settings_message(client):
    config = stack_config("management", namePrefix="ACME_")

    report = preview_stack("management", config, client)
    assert report.status == "error"
    assert report.error.startswith(
        "invalid org-logging configuration:\n  org-logging:namePrefix 'ACME_'"
    )
    assert report.violations == []
    assert report.resources == 0
    assert report.to_json() == {
        "name": "management",
        "role": "management",
        "accountId": MANAGEMENT,
        "region": "us-east-1",
        "status": "error",
        "resources": 0,
        "violations": [],
        "error": report.error,
    }


def test_org_facts_reach_the_program(client):
    org = OrgFacts(
        org_id=ORG_ID, management_account_id=MANAGEMENT, root_id="r-zz99", scp_enabled=False
    )

    report = preview_stack("management", example_stack_config("management"), client, org=org)
    assert report.status == "error"
    assert "service control policies are not enabled on root r-zz99" in report.error


# -- what the pack is sent --------------------------------------------------------------------


def test_default_provider_is_in_the_stack_and_attached_to_every_aws_resource(management_resources):
    (provider,) = [r for r in management_resources if r.type == "pulumi:providers:aws"]
    assert provider.urn == DEFAULT_PROVIDER_URN
    assert provider.name == DEFAULT_AWS_PROVIDER == "default_7_51_1"
    # Provider inputs are config strings: the engine sends a list JSON-encoded.
    assert provider.properties == {
        "region": "us-east-1",
        "version": "7.51.1",
        "allowedAccountIds": '["111111111111"]',
    }
    first_aws = next(i for i, r in enumerate(management_resources) if r.type.startswith("aws:"))
    assert management_resources.index(provider) == first_aws - 1

    for resource in management_resources:
        if resource.type.startswith("aws:"):
            assert resource.provider is not None
            assert (resource.provider.urn, resource.provider.properties) == (
                provider.urn,
                provider.properties,
            )
        else:
            assert resource.provider is None, resource.type  # the stack, components, the provider


def test_provider_region_falls_back_to_the_home_region():
    config = stack_config("log-archive", aws_region=None)

    provider = default_aws_provider("log-archive", config)
    assert provider.properties == {"region": "us-east-1", "version": "7.51.1"}


def test_pack_sees_the_provider_of_every_bucket(client):
    config = example_stack_config("log-archive")
    resources = registrations_to_resources(
        render_config(config, "log-archive", preview=True), config
    )
    buckets = [r for r in resources if r.type == "aws:s3/bucket:Bucket"]
    assert len(buckets) == 3  # central, access logs, Athena results
    assert [r.diagnostics for r in client.analyze_many(buckets)] == [(), (), ()]

    stripped = [dataclasses.replace(r, provider=None) for r in buckets]
    details = [d.detail for result in client.analyze_many(stripped) for d in result.diagnostics]
    assert details == [
        f"Bucket {r.properties['bucket']!r} arrived without its provider." for r in buckets
    ]


def test_scp_attachments_in_preview_reach_their_policy_by_property_dependency(
    client, management_resources
):
    by_urn = {r.urn: r for r in management_resources}
    attachments = [r for r in management_resources if r.type == SCP_ATTACHMENT]
    assert len(attachments) == 2
    for attachment in attachments:
        assert attachment.properties["policyId"] == UNKNOWN  # the new SCP has no id yet
        (policy_urn,) = attachment.property_dependencies["policyId"]
        assert by_urn[policy_urn].type == SCP
        assert policy_urn in attachment.dependencies
    assert client.analyze_stack(management_resources).diagnostics == ()

    unwired = [
        dataclasses.replace(r, property_dependencies={}) if r.type == SCP_ATTACHMENT else r
        for r in management_resources
    ]
    diagnostics = client.analyze_stack(unwired).diagnostics
    assert [(d.urn, d.detail) for d in diagnostics] == [
        (a.urn, "The attachment's policyId does not come from a Policy.") for a in attachments
    ]


def test_secrets_and_unknowns_keep_their_wire_form_and_do_not_crash_the_pack(client):
    def program() -> None:
        import pulumi
        import pulumi_aws as aws

        aws.s3.Bucket("secret-name", bucket=pulumi.Output.secret("acme-secret"))
        first = aws.s3.Bucket("first", bucket="acme-first")
        aws.s3.Bucket("unknown-name", bucket=first.arn)  # unknown until `first` exists

    config = example_stack_config("source-333333333333-eu-west-1")
    rendered = render(config, stack="wire", preview=True, program=program)
    resources = {r.name: r for r in registrations_to_resources(rendered, config)}

    assert resources["secret-name"].properties["bucket"] == {
        SIG_KEY: SECRET_SIG,
        "value": "acme-secret",
    }
    assert resources["unknown-name"].properties["bucket"] == UNKNOWN
    results = client.analyze_many(resources.values())
    notices = [d for result in results for d in result.diagnostics]
    assert [(d.policy_name, d.enforcement_level) for d in notices] == [
        ("fixture-bucket-name", "advisory")
    ]
    assert "can't be known during preview" in notices[0].detail


def test_pack_that_dies_gives_an_error_report_not_an_exception():
    with AnalyzerClient(PACK) as doomed:
        os.kill(doomed.pid, signal.SIGKILL)  # only the pack this test started
        os.waitid(os.P_PID, doomed.pid, os.WEXITED | os.WNOWAIT)  # dead, not yet reaped

        report = preview_stack("management", example_stack_config("management"), doomed)
    assert report.status == "error"
    assert report.resources > 0
    assert report.error.startswith("policy pack failed: ConfigureStack(management) failed")
    assert "(the pack has exited, signal 9)" in report.error
