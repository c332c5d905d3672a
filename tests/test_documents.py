"""Every policy document the program emits passes AWS's grammar (moto) and parliament's lint."""

from __future__ import annotations

import json
from collections.abc import Iterator

import parliament
import pytest
from conftest import render_config, stack_config
from moto.iam.policy_validation import IAMPolicyDocumentValidator, IAMTrustPolicyDocumentValidator

from enroll.offline.render import Rendered

# The finding kinds that mean a document is wrong, not merely broad .
BAD_FINDINGS = {
    "UNKNOWN_ACTION",
    "UNKNOWN_PREFIX",
    "MALFORMED",
    "MALFORMED_JSON",
    "INVALID_ARN",
    "NO_VERSION",
    "INVALID_VERSION",
    "OLD_VERSION",
    "MISMATCHED_TYPE",
    "MISMATCHED_TYPE_OPERATION_TO_NULL",
    "UNKNOWN_OPERATOR",
}
DOCUMENT_KEYS = ("policy", "assumeRolePolicy", "accessPolicy", "content")

RENDERS = [
    (role, partition)
    for role in ("log-archive", "management", "source")
    for partition in ("aws", "aws-us-gov", "aws-cn")
]


def documents_of(rendered: Rendered) -> Iterator[tuple[str, str, str, dict]]:
    for resource in rendered.resources:
        for key in DOCUMENT_KEYS:
            value = resource.inputs.get(key)
            if isinstance(value, str) and value.startswith("{"):
                yield resource.type, resource.name, key, json.loads(value)


def rendered_documents() -> list[tuple[str, str, str, str, dict]]:
    found = []
    for role, partition in RENDERS:
        for token, name, key, document in documents_of(
            render_config(stack_config(role, partition), role)
        ):
            found.append((f"{role}/{partition}", token, name, key, document))
    # Registration order is asynchronous: sort, so every xdist worker collects the same tests.
    return sorted(found, key=lambda d: d[:4])


DOCUMENTS = rendered_documents()


def document_at(where: str, name: str, key: str) -> dict:
    """The document, rendered again for the test that asks (render_config caches, but not
    under mutation testing: the collection-time render above must not stand in for it)."""
    role, partition = where.split("/")
    rendered = render_config(stack_config(role, partition), role)
    (document,) = [d for _, n, k, d in documents_of(rendered) if (n, k) == (name, key)]
    return document


def doc_id(document: tuple) -> str:
    where, _, name, key, _ = document
    return f"{where}:{name}:{key}"


def params(keep=lambda d: True) -> list:
    """(where, name, key) of each kept document, named by doc_id."""
    return [pytest.param(d[0], d[2], d[3], id=doc_id(d)) for d in DOCUMENTS if keep(d)]


def test_every_kind_of_document_is_covered():
    kinds = {(token, key) for _, token, _, key, _ in DOCUMENTS}
    assert kinds == {
        ("aws:s3/bucketPolicy:BucketPolicy", "policy"),
        ("aws:kms/key:Key", "policy"),
        ("aws:iam/role:Role", "assumeRolePolicy"),
        ("aws:iam/rolePolicy:RolePolicy", "policy"),
        ("aws:cloudwatch/logDestinationPolicy:LogDestinationPolicy", "accessPolicy"),
        ("aws:cloudwatch/eventBusPolicy:EventBusPolicy", "policy"),
        ("aws:sns/topicPolicy:TopicPolicy", "policy"),
        ("aws:organizations/policy:Policy", "content"),
    }


@pytest.mark.parametrize(
    "where, name, key", params(lambda d: d[1] == "aws:iam/rolePolicy:RolePolicy")
)
def test_identity_policies_pass_the_iam_validator(where, name, key):
    IAMPolicyDocumentValidator(json.dumps(document_at(where, name, key))).validate()


@pytest.mark.parametrize("where, name, key", params(lambda d: d[3] == "assumeRolePolicy"))
def test_trust_policies_pass_the_iam_trust_validator(where, name, key):
    IAMTrustPolicyDocumentValidator(json.dumps(document_at(where, name, key))).validate()


def lintable(document: dict, key: str) -> dict:
    """Parliament has no trust-policy mode: give each trust statement a Resource to lint it."""
    if key != "assumeRolePolicy":
        return document
    return {
        **document,
        "Statement": [{**s, "Resource": "*"} for s in document["Statement"]],
    }


@pytest.mark.parametrize("where, name, key", params())
def test_every_document_has_no_parliament_finding_of_a_bad_kind(where, name, key):
    analyzed = parliament.analyze_policy_string(
        json.dumps(lintable(document_at(where, name, key), key)), ignore_private_auditors=True
    )
    bad = [(f.issue, f.detail) for f in analyzed.findings if f.issue in BAD_FINDINGS]
    assert bad == []


def test_the_lint_really_catches_bad_documents():
    """The filter above would let nothing through if parliament found nothing at all."""
    broken = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "s3:GetObjekt", "Resource": "arn:aws:s3:::b/*"},
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3"},
            {
                "Effect": "Allow",
                "Action": "s3:GetObject",
                "Resource": "*",
                "Condition": {"NumericEquals": {"aws:SourceArn": "x"}},
            },
        ],
    }
    issues = {f.issue for f in parliament.analyze_policy_string(json.dumps(broken)).findings}
    assert {"UNKNOWN_ACTION", "INVALID_ARN", "MISMATCHED_TYPE"} <= issues


def test_every_document_is_valid_json_with_the_current_version():
    for where, _, name, key, _ in DOCUMENTS:
        document = document_at(where, name, key)
        assert document["Version"] == "2012-10-17"
        assert document["Statement"]
