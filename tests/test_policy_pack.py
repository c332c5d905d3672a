"""The policy pack, judged through the analyzer protocol exactly as the engine drives it."""

from __future__ import annotations

import json
import os
import re

import pytest
from conftest import render_config, stack_config
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from team_stacks import EXPECTED

from enroll.offline.analyzer.client import AnalyzerClient
from enroll.offline.analyzer.wire import (
    UNKNOWN,
    PolicyConfig,
    Resource,
    Secret,
    StackInfo,
    make_urn,
)
from enroll.offline.preview import preview_stack, registrations_to_resources
from enroll.offline.render import render

PACK_CONFIG = {
    name: PolicyConfig(properties={"namePrefix": "acme"})
    for name in (
        "s3-bucket-naming",
        "log-replication-preserves-history",
        "central-bucket-hardened",
        "log-delivery-prefix",
    )
}
TEAM_CONFIG = {"aws:region": "us-east-1"}
REQUIRED = {
    "s3-bucket-naming": "resource",
    "rds-terse-logging": "resource",
    "scp-presence": "stack",
}
# A message is actionable when it tells what to do: one of these verbs, as a whole word ("use",
# not "uses"; "set", not "settings").
ACTIONABLE_VERBS = (
    "set",
    "use",
    "add",
    "remove",
    "deliver",
    "rename",
    "create",
    "merge",
    "split",
    "give",
    "keep",
    "name it",
    "detach",
    "replicate",
    "attach",
)
ACTIONABLE = re.compile(
    r"\b(?:" + "|".join(re.escape(verb) for verb in ACTIONABLE_VERBS) + r")\b", re.IGNORECASE
)


@pytest.mark.parametrize(
    ("message", "actionable"),
    [
        ("Set `bucket` explicitly.", True),
        ("Log group 'app' has no explicit name; name it /aws/<service>/...", True),
        ("An account may only replicate AWSLogs/<accountId>/.", True),
        ("Instance 'orders' uses the default parameter group.", False),  # "uses" is no "use"
        ("Its settings are wrong.", False),  # "settings" is no "set"
        ("Its addresses are wrong.", False),  # "addresses" is no "add"
        ("It was created by hand.", False),  # "created" is no "create"
    ],
)
def test_actionable_means_a_whole_verb_not_a_substring(message, actionable):
    assert bool(ACTIONABLE.search(message)) is actionable


@pytest.fixture(scope="module")
def pack():
    with AnalyzerClient(stack=StackInfo(stack="team", project="team-app")) as client:
        client.configure(PACK_CONFIG)
        yield client


def judge(client: AnalyzerClient, resources: list[Resource]):
    """Every diagnostic, as the engine collects them: Analyze per resource, then AnalyzeStack."""
    found = []
    for resource, result in zip(resources, client.analyze_many(resources), strict=True):
        found += [(d, resource.urn) for d in result.diagnostics]
    found += [(d, d.urn) for d in client.analyze_stack(resources).diagnostics]
    return found


def team_stack(name: str, program, *, preview: bool = False) -> list[Resource]:
    rendered = render(TEAM_CONFIG, stack=name, preview=preview, program=program)
    return registrations_to_resources(rendered, TEAM_CONFIG)


def mandatory(found) -> set[str]:
    return {d.policy_name for d, _ in found if d.enforcement_level == "mandatory"}


# ---- the pack as the engine sees it -----------------------------------------------------------


def test_the_pack_declares_the_required_policies_as_mandatory(pack):
    info = pack.analyzer_info()
    assert info.name == "org-logging-guardrails"
    policies = {p.name: p for p in info.policies}
    for name, kind in REQUIRED.items():
        assert policies[name].enforcement_level == "mandatory"
        assert policies[name].policy_type == kind
    assert "namePrefix" in policies["s3-bucket-naming"].config_schema
    assert {
        "org-trail-hardened",
        "log-replication-preserves-history",
        "central-bucket-hardened",
        "log-destination-org-scoped",
        "log-group-naming",
        "log-delivery-prefix",
        "scp-size-limit",
    } <= set(policies)


@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_team_stacks_are_judged_correctly(pack, case):
    program, expected = EXPECTED[case]
    found = judge(pack, team_stack(case, program))
    assert mandatory(found) == expected, [d.detail for d, _ in found]
    for diagnostic, _ in found:
        assert ACTIONABLE.search(diagnostic.detail), diagnostic.detail


def test_a_resource_violation_names_the_resource_and_the_fix(pack):
    found = judge(pack, team_stack("rds", EXPECTED["rds_postgres_default_group"][0]))
    (violation, urn) = next((d, u) for d, u in found if d.policy_name == "rds-terse-logging")
    assert urn.endswith("aws:rds/instance:Instance::orders")
    assert "log_error_verbosity=terse" in violation.detail
    assert "set parameterGroupName" in violation.detail


def test_unnamed_log_groups_get_advice_not_a_block(pack):
    found = judge(pack, team_stack("lg", EXPECTED["log_group_unnamed"][0]))
    assert [(d.policy_name, d.enforcement_level) for d, _ in found] == [
        ("log-group-naming", "advisory")
    ]


def test_verbose_group_is_reported_on_the_group_and_on_the_database_using_it(pack):
    found = judge(pack, team_stack("pg", EXPECTED["rds_postgres_verbose_group"][0]))
    by_policy = {d.policy_name: (d, urn) for d, urn in found}
    assert by_policy["rds-terse-logging"][1].endswith("ParameterGroup::pg")
    assert by_policy["rds-terse-logging-groups"][1].endswith("Instance::orders")
    assert "log_error_verbosity=terse (is 'verbose')" in by_policy["rds-terse-logging"][0].detail


# ---- our own stacks ------------------------------------------------------------------------------

OUR_STACKS = [
    ("log-archive", "aws", None),
    ("log-archive", "aws-us-gov", None),
    ("log-archive", "aws-cn", None),
    ("management", "aws", None),
    ("management", "aws-us-gov", None),
    ("source", "aws", "us-east-1"),
    ("source", "aws", "eu-west-1"),
    ("source", "aws", "ap-southeast-2"),
    ("source", "aws-us-gov", "us-gov-east-1"),
    ("source", "aws-cn", "cn-northwest-1"),
]


@pytest.mark.parametrize(("role", "partition", "region"), OUR_STACKS)
def test_every_stack_we_render_passes_with_no_mandatory_violation(pack, role, partition, region):
    config = stack_config(role, partition, **({"aws_region": region} if region else {}))
    report = preview_stack(f"{role}-{partition}-{region}", config, pack)
    assert report.status == "passed", report.to_json()
    assert [v for v in report.violations if v.level == "mandatory"] == []


def test_our_management_stack_in_preview_links_attachments_by_dependency(pack):
    rendered = render_config(stack_config("management"), "management", preview=True)
    attachments = [r for r in rendered.resources if r.type.endswith("PolicyAttachment")]
    assert {a.inputs["policyId"] for a in attachments} == {"04da6b54-80e4-46f7-96ec-b56ff0331ba9"}
    found = judge(pack, registrations_to_resources(rendered, stack_config("management")))
    assert "scp-presence" not in mandatory(found)


def test_a_team_org_stack_in_preview_is_judged_by_property_dependencies(pack):
    good = judge(pack, team_stack("org", EXPECTED["org_with_both_scps"][0], preview=True))
    assert mandatory(good) == set()
    ou_only = judge(
        pack, team_stack("org", EXPECTED["org_with_scps_on_an_ou_only"][0], preview=True)
    )
    assert mandatory(ou_only) == {"scp-presence"}


# ---- odd input never crashes the pack ------------------------------------------------------------

TYPES = sorted(
    {
        "aws:s3/bucket:Bucket",
        "aws:s3/bucketV2:BucketV2",
        "aws:s3/bucketReplicationConfig:BucketReplicationConfig",
        "aws:rds/parameterGroup:ParameterGroup",
        "aws:rds/clusterParameterGroup:ClusterParameterGroup",
        "aws:rds/instance:Instance",
        "aws:rds/cluster:Cluster",
        "aws:organizations/policy:Policy",
        "aws:organizations/policyAttachment:PolicyAttachment",
        "aws:cloudtrail/trail:Trail",
        "aws:cloudwatch/logDestinationPolicy:LogDestinationPolicy",
        "aws:cloudwatch/logGroup:LogGroup",
        "aws:ec2/flowLog:FlowLog",
        "aws:lb/loadBalancer:LoadBalancer",
        "aws:elb/loadBalancer:LoadBalancer",
        "aws:cloudfront/distribution:Distribution",
        "aws:apigateway/stage:Stage",
        "aws:apigatewayv2/stage:Stage",
        "aws:route53/resolverQueryLogConfig:ResolverQueryLogConfig",
        "aws:s3/bucketPolicy:BucketPolicy",
    }
)
KEYS = [
    "bucket",
    "bucketPrefix",
    "region",
    "rules",
    "filter",
    "prefix",
    "deleteMarkerReplication",
    "destination",
    "family",
    "parameters",
    "engine",
    "parameterGroupName",
    "dbClusterParameterGroupName",
    "content",
    "type",
    "policyId",
    "targetId",
    "isOrganizationTrail",
    "isMultiRegionTrail",
    "kmsKeyId",
    "accessPolicy",
    "name",
    "logDestination",
    "logDestinationType",
    "accessLogs",
    "connectionLogs",
    "loggingConfig",
    "accessLogSettings",
    "destinationArn",
    "policy",
    "enableLogging",
    "replicationConfiguration",
]
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 10**6),
    st.text(max_size=20),
    st.sampled_from(
        [
            UNKNOWN,
            "{not json",
            "[]",
            '{"Statement": 3}',
            "postgres",
            "aurora-postgresql",
            "s3",
            "default.postgres16",
            "acme-logs-333333333333-us-east-1",
            "arn:aws:s3:::x/y",
        ]
    ),
)
values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(
            st.sampled_from([*KEYS, "id", "status", "name", "value", "enabled"]),
            children,
            max_size=4,
        )
    ),
    max_leaves=12,
)
props = st.dictionaries(st.sampled_from(KEYS), values, max_size=8)


def bug_reports(found) -> list[str]:
    return [d.detail for d, _ in found if "could not evaluate" in d.detail]


@settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(kind=st.sampled_from(TYPES), properties=props)
# Found by this test: an SCP whose content is an object holding an unknown.
@example(kind="aws:organizations/policy:Policy", properties={"content": {"bucket": UNKNOWN}})
def test_no_input_crashes_the_pack(pack, kind, properties):
    resource = Resource(
        type=kind,
        urn=make_urn("team", "team-app", kind, "fuzz"),
        name="fuzz",
        properties=properties,
    )
    found = judge(pack, [resource])  # an RPC error would raise here
    assert bug_reports(found) == []


@pytest.mark.parametrize("kind", TYPES)
def test_missing_and_unknown_properties_are_tolerated(pack, kind):
    for properties in ({}, {key: UNKNOWN for key in KEYS}):
        resource = Resource(
            type=kind, urn=make_urn("team", "team-app", kind, "r"), name="r", properties=properties
        )
        found = judge(pack, [resource])
        assert bug_reports(found) == []
        if properties and not kind.startswith("aws:organizations/"):
            assert mandatory(found) == set(), [d.detail for d, _ in found]


def scp(name: str, content, *, target: str = "r-ab12") -> list[Resource]:
    policy_urn = make_urn("org", "team-app", "aws:organizations/policy:Policy", name)
    return [
        Resource(
            type="aws:organizations/policy:Policy",
            urn=policy_urn,
            name=name,
            properties={"content": content, "type": "SERVICE_CONTROL_POLICY"},
        ),
        Resource(
            type="aws:organizations/policyAttachment:PolicyAttachment",
            urn=make_urn(
                "org",
                "team-app",
                "aws:organizations/policyAttachment:PolicyAttachment",
                f"{name}-att",
            ),
            name=f"{name}-att",
            properties={"policyId": UNKNOWN, "targetId": target},
            property_dependencies={"policyId": [policy_urn]},
        ),
    ]


DENY_LEAVE = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Deny", "Action": "organizations:LeaveOrganization", "Resource": "*"}
        ],
    }
)
PROTECT = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Deny", "Action": ["cloudtrail:*", "s3:*", "logs:*"], "Resource": "*"}
        ],
    }
)


def test_secret_scp_content_is_judged_like_plain_content(pack):
    found = judge(pack, scp("leave", Secret(DENY_LEAVE)) + scp("protect", Secret(PROTECT)))
    assert mandatory(found) == set()
    found = judge(pack, scp("leave", Secret(PROTECT)) + scp("protect", Secret(PROTECT)))
    assert mandatory(found) == {"scp-presence"}


def test_malformed_json_is_reported_not_raised(pack):
    found = judge(pack, scp("leave", "{not json") + scp("protect", PROTECT))
    details = {d.policy_name: d.detail for d, _ in found}
    assert "is not valid JSON" in details["scp-size-limit"]
    assert "no deny-leave SCP" in details["scp-presence"]
    destination = Resource(
        type="aws:cloudwatch/logDestinationPolicy:LogDestinationPolicy",
        urn=make_urn("t", "p", "aws:cloudwatch/logDestinationPolicy:LogDestinationPolicy", "d"),
        name="d",
        properties={"accessPolicy": "[1, 2"},
    )
    (violation, _) = judge(pack, [destination])[0]
    assert (
        violation.policy_name == "log-destination-org-scoped"
        and "is not valid JSON" in violation.detail
    )


def test_an_unknown_scp_content_is_not_judged_in_preview(pack):
    found = judge(pack, scp("leave", UNKNOWN) + scp("protect", UNKNOWN))
    assert mandatory(found) == set()


def test_bucket_names_must_name_the_account_the_provider_is_pinned_to(pack):
    config = {"aws:region": "us-east-1", "aws:allowedAccountIds": ["333333333333"]}

    def buckets() -> None:
        import pulumi_aws as aws

        aws.s3.Bucket("mine", bucket="acme-app-data-333333333333-us-east-1")
        aws.s3.Bucket("theirs", bucket="acme-app-data-444444444444-us-east-1")

    rendered = render(config, stack="pinned", program=buckets)
    found = judge(pack, registrations_to_resources(rendered, config))
    flagged = [
        (urn.rsplit("::", 1)[-1], d.detail)
        for d, urn in found
        if d.policy_name == "s3-bucket-naming"
    ]
    assert flagged == [
        (
            "theirs",
            "Bucket name 'acme-app-data-444444444444-us-east-1' names account 444444444444, but "
            "this stack deploys into 333333333333 (provider allowedAccountIds); rename it to "
            "acme-app-data-333333333333-us-east-1.",
        )
    ]
