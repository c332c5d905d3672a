"""Which rule fires, with which message: one valid resource, then one case per mutated field.

Every threshold is tested on both sides with AWS's own numbers written out here (never the
pack's constants, so a wrong constant in the pack fails these tests):
- an SCP holds at most 5,120 characters, and a target at most 5 SCPs, FullAWSAccess included
  (https://docs.aws.amazon.com/organizations/latest/userguide/orgs_reference_limits.html);
- PostgreSQL logs errors tersely and no bind parameters
  (https://www.postgresql.org/docs/current/runtime-config-logging.html).
"""

from __future__ import annotations

import dataclasses
import json

import pytest
from pack_in_process import team_pack_client
from test_policy_pack import DENY_LEAVE, PACK_CONFIG, PROTECT, judge, scp

from enroll.offline.analyzer.wire import PolicyConfig, Resource, make_urn


@pytest.fixture(scope="module")
def client():
    with team_pack_client() as started:
        yield started


@pytest.fixture
def pack(client):
    client.configure(PACK_CONFIG)  # each test starts from the same config
    return client


def resource(kind: str, logical_name: str, **properties) -> Resource:
    return Resource(
        type=kind,
        urn=make_urn("team", "team-app", kind, logical_name),
        name=logical_name,
        properties=properties,
    )


def fired(found, policy: str) -> list[str]:
    """The messages `policy` reported."""
    return [d.detail for d, _ in found if d.policy_name == policy]


# ---- scp-size-limit: 5,120 characters ---------------------------------------------------------

HEAD = '{"Version":"2012-10-17","Statement":[{"Sid":"'
TAIL = '","Effect":"Deny","Action":"organizations:LeaveOrganization","Resource":"*"}]}'


def minified_scp(length: int) -> str:
    """A minified deny-leave SCP of exactly `length` characters (its Sid pads it)."""
    content = HEAD + "A" * (length - len(HEAD) - len(TAIL)) + TAIL
    assert len(content) == length and json.loads(content)
    return content


def spaced_scp(length: int) -> str:
    """An SCP of `length` characters of which one is a space: minified, one character less."""
    content = minified_scp(length - 1).replace('"Effect":', '"Effect": ', 1)
    assert len(content) == length
    return content


def size_of(pack, content: str) -> list[str]:
    return fired(judge(pack, scp("big", content)), "scp-size-limit")


def test_an_scp_of_exactly_5120_characters_passes(pack):
    assert size_of(pack, minified_scp(5120)) == []


def test_an_scp_of_5121_characters_is_refused_with_its_size_and_the_limit(pack):
    assert size_of(pack, minified_scp(5121)) == [
        "SCP 'big' is 5121 characters; AWS allows 5120. Split it into two SCPs or use wildcards."
    ]


def test_an_scp_that_fits_once_minified_is_told_to_minify(pack):
    assert size_of(pack, spaced_scp(5121)) == [
        "SCP 'big' is 5121 characters; AWS allows 5120. Minified it is 5120: write it with "
        "json.dumps(..., separators=(',', ':'))."
    ]


def test_an_oversized_scp_that_does_not_fit_minified_either_must_be_split(pack):
    assert size_of(pack, spaced_scp(5122)) == [
        "SCP 'big' is 5122 characters; AWS allows 5120. Split it into two SCPs or use wildcards."
    ]


def test_the_size_of_another_organizations_policy_type_is_not_judged(pack):
    tag_policy = resource(
        "aws:organizations/policy:Policy",
        "tags",
        type="TAG_POLICY",
        content=minified_scp(5121),
    )
    assert fired(judge(pack, [tag_policy]), "scp-size-limit") == []


# ---- scp-count-limit: 5 per target, FullAWSAccess included ------------------------------------


def attached(count: int, target: str = "r-ab12", first: int = 0) -> list[Resource]:
    stack: list[Resource] = []
    for index in range(first, first + count):
        stack += scp(f"scp{index}", DENY_LEAVE, target=target)
    return stack


def count_of(pack, resources: list[Resource]) -> list[str]:
    return fired(judge(pack, resources), "scp-count-limit")


def test_four_scps_and_full_aws_access_fit_a_target(pack):
    assert count_of(pack, attached(4)) == []


def test_a_fifth_scp_beside_full_aws_access_is_one_too_many(pack):
    assert count_of(pack, attached(5)) == [
        "5 SCPs are attached to r-ab12 in this stack (with FullAWSAccess, 6); AWS allows 5 per "
        "target. Merge SCPs, or attach some to OUs."
    ]


def test_with_full_aws_access_detached_five_scps_fit_and_six_do_not(pack):
    detached = PolicyConfig(properties={"fullAwsAccessDetached": True})
    pack.configure({**PACK_CONFIG, "scp-count-limit": detached})
    assert count_of(pack, attached(5)) == []
    assert count_of(pack, attached(6)) == [
        "6 SCPs are attached to r-ab12 in this stack; AWS allows 5 per target. Merge SCPs, or "
        "attach some to OUs."
    ]


def test_scps_are_counted_per_target(pack):
    assert count_of(pack, attached(4, "r-ab12") + attached(4, "ou-ab12-cdef3456", first=4)) == []
    found = count_of(pack, attached(4, "r-ab12") + attached(5, "ou-ab12-cdef3456", first=4))
    assert found == [
        "5 SCPs are attached to ou-ab12-cdef3456 in this stack (with FullAWSAccess, 6); AWS allows "
        "5 per target. Merge SCPs, or attach some to OUs."
    ]


def test_a_count_violation_is_reported_by_scp_count_limit_itself(pack):
    found = judge(pack, attached(5))
    assert {d.policy_name for d, _ in found if "SCPs are attached" in d.detail} == {
        "scp-count-limit"
    }


# ---- scp-presence: the valid pair, then each requirement broken -------------------------------


def test_the_two_scps_attached_to_the_root_satisfy_scp_presence(pack):
    assert (
        fired(judge(pack, scp("leave", DENY_LEAVE) + scp("protect", PROTECT)), "scp-presence") == []
    )


def test_without_the_deny_leave_scp_scp_presence_names_the_missing_one(pack):
    (message,) = fired(judge(pack, scp("protect", PROTECT)), "scp-presence")
    assert message.startswith("This stack manages the organization but has no deny-leave SCP.")


def test_an_scp_attached_to_an_ou_only_is_not_attached_to_the_root(pack):
    found = judge(
        pack, scp("leave", DENY_LEAVE, target="ou-ab12-cdef3456") + scp("protect", PROTECT)
    )
    assert fired(found, "scp-presence") == [
        "The deny-leave SCP is not attached to the root. Add an "
        "aws.organizations.PolicyAttachment of it to every target: the organization root (r-...)."
    ]


# ---- rds-terse-logging: terse errors, no bind parameters ----------------------------------------

TERSE = {
    "log_error_verbosity": "terse",
    "log_parameter_max_length": "0",
    "log_parameter_max_length_on_error": "0",
}


def group(family: str = "postgres16", **overrides) -> Resource:
    values = {**TERSE, **overrides}
    parameters = [{"name": k, "value": v} for k, v in values.items() if v is not None]
    return resource(
        "aws:rds/parameterGroup:ParameterGroup",
        "pg",
        name="acme-orders-pg16",
        family=family,
        parameters=parameters,
    )


def terse_of(pack, *resources: Resource) -> list[str]:
    return fired(judge(pack, list(resources)), "rds-terse-logging")


def test_a_terse_postgres_parameter_group_passes(pack):
    assert terse_of(pack, group()) == []
    assert terse_of(pack, group(log_error_verbosity="TERSE")) == []  # PostgreSQL ignores case


@pytest.mark.parametrize("verbosity", ["default", "verbose", ""])
def test_any_error_verbosity_but_terse_is_a_violation(pack, verbosity):
    assert terse_of(pack, group(log_error_verbosity=verbosity)) == [
        f"PostgreSQL parameter group 'pg' must set log_error_verbosity=terse (is {verbosity!r}) "
        "in its parameters."
    ]


@pytest.mark.parametrize(
    "parameter", ["log_parameter_max_length", "log_parameter_max_length_on_error"]
)
@pytest.mark.parametrize("length", ["-1", "1", "64"])
def test_logging_any_bind_parameter_bytes_is_a_violation(pack, parameter, length):
    assert terse_of(pack, group(**{parameter: length})) == [
        f"PostgreSQL parameter group 'pg' must set {parameter}=0 (is {length!r}) in its parameters."
    ]


def test_a_required_parameter_left_out_is_named(pack):
    assert terse_of(pack, group(log_error_verbosity=None)) == [
        "PostgreSQL parameter group 'pg' must set log_error_verbosity=terse in its parameters."
    ]


def test_an_aurora_postgresql_cluster_group_is_judged_and_a_mysql_group_is_not(pack):
    cluster_group = group(family="aurora-postgresql16", log_error_verbosity="default")
    cluster_group = dataclasses.replace(
        cluster_group, type="aws:rds/clusterParameterGroup:ClusterParameterGroup"
    )
    assert terse_of(pack, cluster_group) == [
        "PostgreSQL parameter group 'pg' must set log_error_verbosity=terse (is 'default') in its "
        "parameters."
    ]
    assert terse_of(pack, group(family="mysql8.0", log_error_verbosity="default")) == []


def test_a_postgres_instance_on_a_default_group_is_told_to_create_one(pack):
    def instance(group_name):
        return resource(
            "aws:rds/instance:Instance", "orders", engine="postgres", parameterGroupName=group_name
        )

    assert terse_of(pack, instance("acme-orders-pg16")) == []
    expected = (
        "PostgreSQL Instance 'orders' uses the default parameter group, which logs verbosely and "
        "can log bind parameters. Create an aws.rds.ParameterGroup with log_error_verbosity=terse, "
        "log_parameter_max_length=0, log_parameter_max_length_on_error=0 and set "
        "parameterGroupName to it."
    )
    assert terse_of(pack, instance("default.postgres16")) == [expected]
    assert terse_of(pack, instance(None)) == [expected]


def test_a_database_using_a_verbose_group_of_the_stack_is_reported_by_rds_terse_logging_groups(
    pack,
):
    database = resource(
        "aws:rds/instance:Instance",
        "orders",
        engine="postgres",
        parameterGroupName="acme-orders-pg16",
    )
    assert fired(judge(pack, [group(), database]), "rds-terse-logging-groups") == []
    found = judge(pack, [group(log_error_verbosity="default"), database])
    assert fired(found, "rds-terse-logging-groups") == [
        "PostgreSQL Instance 'orders' uses parameter group 'pg', but set "
        "log_error_verbosity=terse (is 'default') in its parameters."
    ]
