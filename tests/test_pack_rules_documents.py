"""Policy documents with NaN, Infinity or -Infinity are refused: Python's json reads them, JSON
(RFC 8259) has no such values and AWS rejects the document. Every document the pack parses is
judged so: SCPs, bucket policies, CloudWatch Logs destination policies."""

from __future__ import annotations

import json

import pytest
from pack_in_process import team_pack_client
from test_policy_pack import PACK_CONFIG, PROTECT, judge, scp

from enroll.offline.analyzer.wire import Resource, make_urn


@pytest.fixture(scope="module")
def client():
    with team_pack_client() as started:
        yield started


@pytest.fixture
def pack(client):
    client.configure(PACK_CONFIG)
    return client


def fired(found, policy: str) -> list[str]:
    return [d.detail for d, _ in found if d.policy_name == policy]


def not_json(constant: str) -> str:
    return (
        f"is not valid JSON: it contains {constant}, which JSON does not allow (Python's json "
        "reads it, AWS refuses the document); write a string or a finite number instead"
    )


THE_REVIEWERS_SCP = (
    '{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":NaN,"Resource":Infinity}]}'
)


def test_python_reads_the_reviewers_scp_which_is_why_the_pack_must_not():
    assert json.loads(THE_REVIEWERS_SCP)["Statement"][0]["Resource"] == float("inf")


def test_an_scp_with_nan_and_infinity_is_refused_naming_the_first(pack):
    assert fired(judge(pack, scp("nan", THE_REVIEWERS_SCP)), "scp-size-limit") == [
        f"SCP 'nan': its content {not_json('NaN')}. Give a JSON policy document."
    ]


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_each_non_json_constant_is_refused_wherever_it_is(pack, constant):
    content = (
        '{"Version":"2012-10-17","Statement":[{"Effect":"Deny",'
        '"Action":"organizations:LeaveOrganization","Resource":"*",'
        f'"Condition":{{"NumericLessThan":{{"aws:MultiFactorAuthAge":{constant}}}}}}}]}}'
    )
    assert fired(judge(pack, scp("leave", content)), "scp-size-limit") == [
        f"SCP 'leave': its content {not_json(constant)}. Give a JSON policy document."
    ]


def test_the_same_scp_with_a_finite_number_is_valid_json(pack):
    content = THE_REVIEWERS_SCP.replace("NaN", '"organizations:LeaveOrganization"').replace(
        "Infinity", '"*"'
    )
    assert fired(judge(pack, scp("leave", content)), "scp-size-limit") == []


def test_a_nan_scp_does_not_count_as_the_deny_leave_scp(pack):
    valid = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Deny", "Action": "organizations:LeaveOrganization", "Resource": "*"}
            ],
        }
    )
    assert fired(judge(pack, scp("leave", valid) + scp("protect", PROTECT)), "scp-presence") == []
    broken = valid.replace('"Resource": "*"', '"Resource": "*", "Sid": NaN')
    (message,) = fired(judge(pack, scp("leave", broken) + scp("protect", PROTECT)), "scp-presence")
    assert message.startswith("This stack manages the organization but has no deny-leave SCP.")


def test_a_bucket_policy_with_infinity_is_refused(pack):
    central = "acme-org-logs-222222222222-us-east-1"
    policy = (
        '{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:*",'
        f'"Resource":"arn:aws:s3:::{central}/*","Condition":{{"NumericGreaterThan":'
        '{"s3:TlsVersion":-Infinity}}}]}'
    )
    stack = [
        Resource(
            type=kind,
            urn=make_urn("t", "p", kind, name),
            name=name,
            properties={"bucket": central, **props},
        )
        for kind, name, props in (
            ("aws:s3/bucket:Bucket", "central", {}),
            ("aws:s3/bucketPolicy:BucketPolicy", "policy", {"policy": policy}),
        )
    ]
    (message,) = fired(judge(pack, stack), "central-bucket-hardened")
    assert f"its bucket policy {not_json('-Infinity')}" in message


def test_a_destination_policy_with_nan_is_refused(pack):
    kind = "aws:cloudwatch/logDestinationPolicy:LogDestinationPolicy"
    destination = Resource(
        type=kind,
        urn=make_urn("t", "p", kind, "d"),
        name="d",
        properties={"accessPolicy": '{"Version":"2012-10-17","Statement":NaN}'},
    )
    assert fired(judge(pack, [destination]), "log-destination-org-scoped") == [
        f"Destination policy 'd': accessPolicy {not_json('NaN')}."
    ]
