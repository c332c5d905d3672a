"""Policy config is checked by the pack itself: the engine validates it against a schema without
`additionalProperties: false` (pulumi-policy cannot express it), so a misspelt property would
pass silently and switch a check off.

Each case configures the running pack, then judges a stack in which every policy has something
to judge: the only diagnostics must be the config errors, on what the misconfigured policy
judges, saying the config is at fault and how to fix it.
"""

from __future__ import annotations

import json
import re

import pytest
from pack_in_process import team_pack_client
from pulumi.runtime.proto import analyzer_pb2
from test_policy_pack import DENY_LEAVE, PACK_CONFIG, PROTECT, judge, scp

from enroll.offline.analyzer.client import AnalyzerClient
from enroll.offline.analyzer.wire import (
    PolicyConfig,
    Resource,
    make_urn,
    policy_config_proto,
)
from enroll.util.paths import POLICY_PACK_DIR

# Every policy's config properties, as the README's table documents them.
PROPERTIES = {
    "s3-bucket-naming": ["allowedPatterns", "namePrefix"],
    "log-replication-preserves-history": ["namePrefix"],
    "central-bucket-hardened": ["namePrefix"],
    "log-delivery-prefix": ["namePrefix"],
    "scp-presence": ["protectedActions", "targets"],
    "scp-count-limit": ["fullAwsAccessDetached"],
    "log-group-naming": ["allowedPrefixes"],
    "scp-size-limit": [],
    "rds-terse-logging": [],
    "rds-terse-logging-groups": [],
    "org-trail-hardened": [],
    "log-destination-org-scoped": [],
}
FIX = (
    "fix the pack's config (--policy-pack-config, or the policy's config in Pulumi Cloud); until "
    "then this policy judges nothing here."
)
BUCKET = "acme-app-data-333333333333-us-east-1"


@pytest.fixture(scope="module")
def client():
    with team_pack_client() as started:
        yield started


@pytest.fixture
def pack(client):
    client.configure(PACK_CONFIG)
    return client


def configured(client: AnalyzerClient, **properties: dict) -> None:
    """PACK_CONFIG with `properties` merged in per policy, sent as is: unlike `configure`, this
    skips the offline runner's own schema check, as a runner that does not check would."""
    policies = {}
    for name, config in client.configure(PACK_CONFIG).items():
        extra = properties.get(name.replace("-", "_"), {})
        merged = PolicyConfig(config.enforcement_level, {**config.properties, **extra})
        policies[name] = policy_config_proto(name, merged)
    client.stub.Configure(analyzer_pb2.ConfigureAnalyzerRequest(policyConfig=policies))


def resource(kind: str, logical_name: str, **properties) -> Resource:
    return Resource(
        type=kind,
        urn=make_urn("team", "team-app", kind, logical_name),
        name=logical_name,
        properties=properties,
    )


def concerning_every_policy() -> list[Resource]:
    """A stack that passes every policy, with something for each to judge."""
    group = resource(
        "aws:rds/parameterGroup:ParameterGroup",
        "pg",
        name="acme-orders-pg16",
        family="postgres16",
        parameters=[
            {"name": "log_error_verbosity", "value": "terse"},
            {"name": "log_parameter_max_length", "value": "0"},
            {"name": "log_parameter_max_length_on_error", "value": "0"},
        ],
    )
    return [
        resource("aws:s3/bucket:Bucket", "data", bucket=BUCKET, region="us-east-1"),
        resource(
            "aws:s3/bucketReplicationConfig:BucketReplicationConfig",
            "copy",
            bucket="acme-logs-333333333333-us-east-1",
            rules=[
                {
                    "id": "into-archive",
                    "status": "Enabled",
                    "filter": {"prefix": "AWSLogs/333333333333/"},
                    "deleteMarkerReplication": {"status": "Disabled"},
                    "destination": {
                        "bucket": "arn:aws:s3:::acme-org-logs-222222222222-us-east-1",
                        "account": "222222222222",
                        "accessControlTranslation": {"owner": "Destination"},
                    },
                }
            ],
        ),
        group,
        resource(
            "aws:rds/instance:Instance", "orders", engine="postgres", parameterGroupName=group.name
        ),
        *scp("leave", DENY_LEAVE),
        *scp("protect", PROTECT),
        resource(
            "aws:cloudtrail/trail:Trail",
            "trail",
            isOrganizationTrail=True,
            isMultiRegionTrail=True,
            includeGlobalServiceEvents=True,
            enableLogFileValidation=True,
            enableLogging=True,
            kmsKeyId="arn:aws:kms:us-east-1:222222222222:alias/acme-org-logs",
        ),
        resource(
            "aws:cloudwatch/logDestinationPolicy:LogDestinationPolicy",
            "org-only",
            accessPolicy=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"AWS": "*"},
                            "Action": "logs:PutSubscriptionFilter",
                            "Resource": "*",
                            "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}},
                        }
                    ],
                }
            ),
        ),
        resource("aws:cloudwatch/logGroup:LogGroup", "app", name="/aws/lambda/app"),
        resource(
            "aws:ec2/flowLog:FlowLog",
            "vpc",
            logDestinationType="s3",
            logDestination="arn:aws:s3:::acme-logs-333333333333-us-east-1",
        ),
    ]


def findings(client, resources=None) -> set[tuple[str, str]]:
    found = judge(client, concerning_every_policy() if resources is None else resources)
    for diagnostic, _ in found:
        assert "bug in org-logging-guardrails" not in diagnostic.detail, diagnostic.detail
    return {(d.policy_name, d.detail) for d, _ in found}


def unknown(policy: str, name: str, guess: str | None = None) -> str:
    hint = f" (did you mean {guess!r}?)" if guess else ""
    known = PROPERTIES[policy]
    listed = f"its properties are {', '.join(known)}" if known else "it takes no properties"
    return f"{policy}: policy config has unknown property {name!r}{hint}; {listed}; {FIX}"


# ---- the schemas the engine gets ---------------------------------------------------------------


def test_every_policy_declares_its_properties_and_no_regex_format(pack):
    policies = {p.name: p for p in pack.analyzer_info().policies}
    assert {name: sorted(p.config_schema) for name, p in policies.items()} == PROPERTIES
    # Go's RE2 would refuse valid Python patterns: the engine must not check them.
    assert "format" not in json.dumps([p.config_schema for p in policies.values()])


def test_the_stack_used_here_concerns_every_policy_and_passes_them_all(pack):
    assert findings(pack) == set()


# ---- unknown properties ------------------------------------------------------------------------


@pytest.mark.parametrize("policy", sorted(PROPERTIES))
def test_every_policy_refuses_an_unknown_property(pack, policy):
    configured(pack, **{policy.replace("-", "_"): {"bogusSetting": True}})
    assert findings(pack) == {(policy, unknown(policy, "bogusSetting"))}


def test_the_reviewers_typo_no_longer_switches_the_naming_check_off(pack):
    misnamed = [resource("aws:s3/bucket:Bucket", "data", bucket="data-333333333333-us-east-1")]
    configured(pack, s3_bucket_naming={"nameprefix": "acme"})
    assert findings(pack, misnamed) == {
        (
            "s3-bucket-naming",
            "s3-bucket-naming: policy config has unknown property 'nameprefix' (did you mean "
            "'namePrefix'?); its properties are allowedPatterns, namePrefix; fix the pack's "
            "config (--policy-pack-config, or the policy's config in Pulumi Cloud); until then "
            "this policy judges nothing here.",
        )
    }


@pytest.mark.parametrize(
    ("policy", "given", "guess"),
    [
        ("s3-bucket-naming", "NAMEPREFIX", "namePrefix"),
        ("s3-bucket-naming", "allowedPattern", "allowedPatterns"),
        ("s3-bucket-naming", "allowed_patterns", "allowedPatterns"),
        ("scp-count-limit", "fullAWSAccessDetached", "fullAwsAccessDetached"),
        ("scp-presence", "target", "targets"),
        ("log-group-naming", "allowedprefixes", "allowedPrefixes"),
        ("log-delivery-prefix", "colour", None),
        ("rds-terse-logging", "namePrefix", None),
    ],
)
def test_an_unknown_property_suggests_the_closest_known_one(pack, policy, given, guess):
    configured(pack, **{policy.replace("-", "_"): {given: "x"}})
    assert {detail for _, detail in findings(pack)} == {unknown(policy, given, guess)}


def test_enforcement_level_is_never_taken_for_a_property(pack):
    configured(pack, rds_terse_logging={"enforcementLevel": "advisory"})
    assert findings(pack) == set()
    pack.configure({**PACK_CONFIG, "log-group-naming": PolicyConfig("mandatory")})
    assert findings(pack) == set()


def test_a_config_error_is_reported_at_the_level_the_policy_runs_at(pack):
    wrong = PolicyConfig("advisory", {"prefixes": ["/aws/"]})
    pack.configure({**PACK_CONFIG, "log-group-naming": wrong})
    found = judge(pack, concerning_every_policy())
    assert [(d.policy_name, d.enforcement_level) for d, _ in found] == [
        ("log-group-naming", "advisory")
    ]


# ---- reported on what the policy judges, not on every resource --------------------------------


def test_a_resource_policys_config_error_is_reported_on_its_resources_only(pack):
    configured(pack, s3_bucket_naming={"nameprefix": "acme"})
    found = judge(pack, concerning_every_policy())
    assert [(d.policy_name, urn.rsplit("::", 1)[-1]) for d, urn in found] == [
        ("s3-bucket-naming", "data")
    ]


def test_a_stack_policys_config_error_is_reported_only_on_a_stack_it_judges(pack):
    configured(pack, central_bucket_hardened={"prefix": "acme"}, scp_count_limit={"x": 1})
    logs_only = [r for r in concerning_every_policy() if r.type.startswith("aws:cloudwatch/")]
    assert findings(pack, logs_only) == set()
    assert {policy for policy, _ in findings(pack)} == {
        "central-bucket-hardened",
        "scp-count-limit",
    }


# ---- values of the wrong type ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("properties", "problem"),
    [
        (
            {"s3_bucket_naming": {"allowedPatterns": "^legacy-.*$"}},
            'allowedPatterns must be an array of strings, not a string ("^legacy-.*$")',
        ),
        (
            {"s3_bucket_naming": {"allowedPatterns": ["^legacy-.*$", 5]}},
            "allowedPatterns[1] must be a string, not a number (5.0)",
        ),
        (
            {"s3_bucket_naming": {"namePrefix": None}},
            "namePrefix must be a string, not null",
        ),
        (
            {"scp_count_limit": {"fullAwsAccessDetached": "true"}},
            'fullAwsAccessDetached must be a boolean, not a string ("true")',
        ),
        (
            {"scp_presence": {"targets": {"root": "r-ab12"}}},
            'targets must be an array of strings, not an object ({"root": "r-ab12"})',
        ),
    ],
)
def test_a_value_of_the_wrong_type_is_a_config_error(pack, properties, problem):
    configured(pack, **properties)
    (policy,) = (name.replace("_", "-") for name in properties)
    assert findings(pack) == {(policy, f"{policy}: policy config {problem}; {FIX}")}


# ---- regular expressions -----------------------------------------------------------------------


def test_an_invalid_allowed_pattern_names_the_property_the_pattern_and_the_error(pack):
    configured(pack, s3_bucket_naming={"allowedPatterns": ["^legacy-[a-z]+$", "^(legacy"]})
    assert findings(pack) == {
        (
            "s3-bucket-naming",
            "s3-bucket-naming: policy config allowedPatterns '^(legacy' is not a valid regular "
            f"expression: missing ), unterminated subpattern at position 1; {FIX}",
        )
    }


def test_every_problem_of_a_config_is_reported_at_once(pack):
    configured(pack, s3_bucket_naming={"allowedPatterns": ["[z-a]"], "nameprefix": "acme"})
    ((_, message),) = findings(pack)
    assert message == (
        "s3-bucket-naming: policy config allowedPatterns '[z-a]' is not a valid regular "
        "expression: bad character range z-a at position 1; has unknown property 'nameprefix' "
        "(did you mean 'namePrefix'?); its properties are allowedPatterns, namePrefix; " + FIX
    )


def test_a_python_only_pattern_is_accepted_and_exempts_what_it_matches(pack):
    legacy = [resource("aws:s3/bucket:Bucket", "old", bucket="legacy-data", region="us-east-1")]
    (message,) = {detail for _, detail in findings(pack, legacy)}
    assert message.startswith("Bucket name 'legacy-data' does not follow the naming convention")
    # A lookahead: Python's re has it, Go's RE2 (the engine's regexes) does not.
    configured(pack, s3_bucket_naming={"allowedPatterns": ["^(?!acme-)legacy-[a-z-]+$"]})
    assert findings(pack, legacy) == set()


# ---- the README documents every property -------------------------------------------------------


def test_the_readme_config_table_lists_every_property_of_every_policy():
    readme = (POLICY_PACK_DIR / "README.md").read_text()
    section = readme.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    documented = set()
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) >= 2 and cells[1].startswith("`"):
            for policy in re.findall(r"`([a-z0-9-]+)`", cells[0]):
                documented.add((policy, cells[1].strip("`")))
    assert documented == {(p, name) for p, names in PROPERTIES.items() for name in names}
