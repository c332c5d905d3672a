"""The program as a whole: role dispatch, partitions, example stacks, component outputs."""

from __future__ import annotations

import re

import pulumi
import pytest
from conftest import LOG_ARCHIVE, example_stack_config, render_config, stack_config

from components.log_archive import LogArchive, LogArchiveArgs
from components.management import OrgGuardrails, OrgGuardrailsArgs
from components.settings import parse_settings
from enroll.offline.mocks import OfflineMocks

ARN = re.compile(r"arn:[a-z-]*:")


def arns_in(value) -> list[str]:
    if isinstance(value, dict):
        return [a for item in value.values() for a in arns_in(item)]
    if isinstance(value, list):
        return [a for item in value for a in arns_in(item)]
    if isinstance(value, str):
        return ARN.findall(value)
    return []


@pytest.mark.parametrize("role", ["log-archive", "management", "source"])
@pytest.mark.parametrize("partition", ["aws-us-gov", "aws-cn"])
def test_a_non_commercial_partition_renders_its_own_arns_only(role, partition):
    rendered = render_config(stack_config(role, partition), role)
    found = [a for r in rendered.resources for a in arns_in(r.inputs)] + arns_in(rendered.outputs)
    assert found, "the render should contain ARNs"
    assert set(found) == {f"arn:{partition}:"}


def test_govcloud_log_archive_uses_govcloud_regions_and_endpoints():
    rendered = render_config(stack_config("log-archive", "aws-us-gov"), "log-archive")
    bucket = rendered.one("aws:s3/bucket:Bucket", "log-archive-central")
    assert bucket.inputs["bucket"] == f"acme-org-logs-{LOG_ARCHIVE}-us-gov-west-1"
    assert (
        rendered.outputs["centralBucketArn"]
        == f"arn:aws-us-gov:s3:::acme-org-logs-{LOG_ARCHIVE}-us-gov-west-1"
    )
    china = render_config(stack_config("log-archive", "aws-cn"), "log-archive")
    assert "s3.cn-north-1.amazonaws.com.cn" in china.one("aws:kms/key:Key").inputs["policy"]


@pytest.mark.parametrize("stack", ["log-archive", "management", "source-333333333333-eu-west-1"])
def test_the_example_stacks_render(stack):
    rendered = render_config(example_stack_config(stack), stack)
    component = {
        "log-archive": "org-logging:log_archive:LogArchive",
        "management": "org-logging:management:OrgGuardrails",
    }.get(stack, "org-logging:source_account:SourceAccountLogging")
    assert rendered.one(component)
    assert len([r for r in rendered.resources if r.custom]) > 3


def test_the_example_log_archive_subscribes_emails_and_leaves_the_lock_opt_in():
    rendered = render_config(example_stack_config("log-archive"), "log-archive")
    assert (
        rendered.of_type("aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration") == []
    )
    assert rendered.of_type("aws:sns/topicSubscription:TopicSubscription")


# ---- component outputs, checked the Pulumi way ---------------------------------------------


@pytest.fixture
def mocked_runtime(request):
    """Pulumi mocks as a stack of `role` (the mark) would see them: its account, its org."""
    role = request.node.get_closest_marker("role").args[0]
    mocks = OfflineMocks(stack_config(role), None, preview=False)
    pulumi.runtime.set_mocks(mocks, project="org-logging", stack="unit")
    yield
    pulumi.runtime.settings.reset_options()


def settings_for(role: str):
    config = stack_config(role)
    return parse_settings(
        {k.split(":", 1)[1]: v for k, v in config.items() if k.startswith("org-logging:")},
        stack_region=config["aws:region"],
    )


@pytest.mark.role("log-archive")
@pulumi.runtime.test
def test_log_archive_outputs(mocked_runtime):
    archive = LogArchive("unit-archive", LogArchiveArgs.from_settings(settings_for("log-archive")))

    def check(values):
        bucket_name, bucket_arn, firehose_arn, destination = values
        assert bucket_name == f"acme-org-logs-{LOG_ARCHIVE}-us-east-1"
        assert bucket_arn == f"arn:aws:s3:::{bucket_name}"
        assert firehose_arn == (
            f"arn:aws:firehose:us-east-1:{LOG_ARCHIVE}:deliverystream/acme-org-logs-eu-west-1"
        )
        assert destination == f"arn:aws:logs:eu-west-1:{LOG_ARCHIVE}:destination:acme-org-logs"

    return pulumi.Output.all(
        archive.outputs.central_bucket_name,
        archive.outputs.central_bucket_arn,
        archive.outputs.firehose_arns["eu-west-1"],
        archive.outputs.destination_arns["eu-west-1"],
    ).apply(check)


@pytest.mark.role("management")
@pulumi.runtime.test
def test_org_guardrails_outputs(mocked_runtime):
    guardrails = OrgGuardrails(
        "unit-guardrails", OrgGuardrailsArgs.from_settings(settings_for("management"))
    )
    assert guardrails.outputs.scp_targets == ["r-a1b2"]

    def check(values):
        trail_arn, deny_leave, protect = values
        assert trail_arn == "arn:aws:cloudtrail:us-east-1:111111111111:trail/acme-org-trail"
        assert deny_leave.startswith("p-") and protect.startswith("p-") and deny_leave != protect

    return pulumi.Output.all(
        guardrails.outputs.trail_arn,
        guardrails.outputs.scp_ids["deny-leave"],
        guardrails.outputs.scp_ids["protect-logging"],
    ).apply(check)
