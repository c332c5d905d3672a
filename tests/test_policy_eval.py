"""The stand-in provider's resource-policy evaluator (tests/e2e/provider/policy_eval.py).

Each table row is one request against one statement and the verdict AWS gives: both sides of
every operator, missing keys, IfExists, the set prefixes, wildcards, NotAction/NotResource and
principal matching. What the evaluator cannot evaluate must raise, never allow.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.e2e.provider.policy_eval import (
    Caller,
    Decision,
    PolicyError,
    Request,
    applying_statements,
    evaluate,
    principal_context,
)

ACCOUNT = "111111111111"
OTHER = "222222222222"
ADMIN = f"arn:aws:iam::{ACCOUNT}:role/OrgLoggingAdmin"
ADMIN_SESSION = f"arn:aws:sts::{ACCOUNT}:assumed-role/OrgLoggingAdmin/pulumi"
DEPLOYER_SESSION = f"arn:aws:sts::{ACCOUNT}:assumed-role/Deployer/pulumi"
BUCKET = "arn:aws:s3:::acme-org-logs"
ALLOW = Decision.ALLOW
DENY = Decision.EXPLICIT_DENY
NONE = Decision.IMPLICIT_DENY

ADMIN_CALLER = Caller.from_arn(ADMIN_SESSION)
DEPLOYER = Caller.from_arn(DEPLOYER_SESSION)
ROOT = Caller.from_arn(f"arn:aws:iam::{ACCOUNT}:root")
OUTSIDER = Caller.from_arn(f"arn:aws:sts::{OTHER}:assumed-role/OrgLoggingAdmin/pulumi")
CLOUDTRAIL = Caller(service="cloudtrail.amazonaws.com")


def deny(**fields: Any) -> dict[str, Any]:
    """A Deny of s3:* on the bucket to everyone, with `fields` changed (None: left out)."""
    body = {"Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "s3:*", "Resource": BUCKET}
    return {k: v for k, v in {**body, **fields}.items() if v is not None}


def decide(
    statement: dict[str, Any],
    context: dict[str, Any] | None = None,
    caller: Caller = DEPLOYER,
    action: str = "s3:PutLifecycleConfiguration",
    resource: str = BUCKET,
) -> Decision:
    """The verdict on one request against a policy of this one statement (as JSON text, the
    way S3 and KMS hand a policy back)."""
    policy = {"Version": "2012-10-17", "Statement": [statement]}
    return evaluate(json.dumps(policy), Request(caller, action, resource, context or {}))


# --------------------------------------------------------------------------------------------
# Condition operators: (condition, request context, verdict)
# --------------------------------------------------------------------------------------------

CONDITIONS = [
    # StringEquals / StringNotEquals: several values ORed, a negation must match none
    ({"StringEquals": {"aws:PrincipalAccount": ACCOUNT}}, {"aws:PrincipalAccount": ACCOUNT}, DENY),
    ({"StringEquals": {"aws:PrincipalAccount": ACCOUNT}}, {"aws:PrincipalAccount": OTHER}, NONE),
    ({"StringEquals": {"aws:PrincipalAccount": [OTHER, ACCOUNT]}}, {"aws:PrincipalAccount": ACCOUNT}, DENY),
    ({"StringEquals": {"aws:PrincipalAccount": "A"}}, {"aws:PrincipalAccount": "a"}, NONE),
    ({"StringNotEquals": {"aws:PrincipalAccount": [OTHER, ACCOUNT]}}, {"aws:PrincipalAccount": ACCOUNT}, NONE),
    ({"StringNotEquals": {"aws:PrincipalAccount": [OTHER]}}, {"aws:PrincipalAccount": ACCOUNT}, DENY),
    # ...IgnoreCase
    ({"StringEqualsIgnoreCase": {"aws:PrincipalType": "assumedrole"}}, {"aws:PrincipalType": "AssumedRole"}, DENY),
    ({"StringEqualsIgnoreCase": {"aws:PrincipalType": "user"}}, {"aws:PrincipalType": "AssumedRole"}, NONE),
    ({"StringNotEqualsIgnoreCase": {"aws:PrincipalType": "assumedrole"}}, {"aws:PrincipalType": "AssumedRole"}, NONE),
    ({"StringNotEqualsIgnoreCase": {"aws:PrincipalType": "user"}}, {"aws:PrincipalType": "AssumedRole"}, DENY),
    # StringLike / StringNotLike: * and ?, case-sensitive; StringEquals takes * literally
    ({"StringLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/Org*"}}, {"aws:PrincipalArn": ADMIN}, DENY),
    ({"StringLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/org*"}}, {"aws:PrincipalArn": ADMIN}, NONE),
    ({"StringLike": {"aws:PrincipalAccount": "11111111111?"}}, {"aws:PrincipalAccount": ACCOUNT}, DENY),
    ({"StringLike": {"aws:PrincipalAccount": "1111111111?"}}, {"aws:PrincipalAccount": ACCOUNT}, NONE),
    ({"StringEquals": {"aws:PrincipalAccount": "*"}}, {"aws:PrincipalAccount": ACCOUNT}, NONE),
    ({"StringNotLike": {"aws:PrincipalArn": "*/OrgLoggingAdmin"}}, {"aws:PrincipalArn": ADMIN}, NONE),
    ({"StringNotLike": {"aws:PrincipalArn": "*/Deployer"}}, {"aws:PrincipalArn": ADMIN}, DENY),
    # ArnEquals / ArnLike and their negations, part by part
    ({"ArnEquals": {"aws:PrincipalArn": ADMIN}}, {"aws:PrincipalArn": ADMIN}, DENY),
    ({"ArnEquals": {"aws:PrincipalArn": ADMIN}}, {"aws:PrincipalArn": ADMIN + "2"}, NONE),
    ({"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/OrgLoggingAdmin"}}, {"aws:PrincipalArn": ADMIN}, DENY),
    ({"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/Other"}}, {"aws:PrincipalArn": ADMIN}, NONE),
    ({"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::1*"}}, {"aws:PrincipalArn": ADMIN}, NONE),
    ({"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*"}}, {"aws:PrincipalArn": "not-an-arn"}, NONE),
    ({"ArnNotEquals": {"aws:PrincipalArn": ADMIN}}, {"aws:PrincipalArn": ADMIN}, NONE),
    ({"ArnNotEquals": {"aws:PrincipalArn": ADMIN}}, {"aws:PrincipalArn": ADMIN + "2"}, DENY),
    ({"ArnNotLike": {"aws:PrincipalArn": [ADMIN, "arn:aws:iam::*:role/Reader"]}}, {"aws:PrincipalArn": ADMIN}, NONE),
    ({"ArnNotLike": {"aws:PrincipalArn": [ADMIN, "arn:aws:iam::*:role/Reader"]}}, {"aws:PrincipalArn": f"arn:aws:iam::{ACCOUNT}:role/Deployer"}, DENY),
    # Bool: JSON booleans and strings alike
    ({"Bool": {"aws:SecureTransport": "false"}}, {"aws:SecureTransport": False}, DENY),
    ({"Bool": {"aws:SecureTransport": "false"}}, {"aws:SecureTransport": True}, NONE),
    ({"Bool": {"aws:SecureTransport": False}}, {"aws:SecureTransport": "false"}, DENY),
    # Null: true = the key is absent
    ({"Null": {"aws:PrincipalOrgID": "true"}}, {}, DENY),
    ({"Null": {"aws:PrincipalOrgID": "true"}}, {"aws:PrincipalOrgID": "o-abc"}, NONE),
    ({"Null": {"aws:PrincipalOrgID": "false"}}, {"aws:PrincipalOrgID": "o-abc"}, DENY),
    ({"Null": {"aws:PrincipalOrgID": "false"}}, {}, NONE),
    # Numeric
    ({"NumericEquals": {"s3:max-keys": "10"}}, {"s3:max-keys": 10}, DENY),
    ({"NumericEquals": {"s3:max-keys": "10"}}, {"s3:max-keys": "11"}, NONE),
    ({"NumericNotEquals": {"s3:max-keys": "10"}}, {"s3:max-keys": "11"}, DENY),
    ({"NumericNotEquals": {"s3:max-keys": "10"}}, {"s3:max-keys": "10"}, NONE),
    ({"NumericLessThan": {"s3:max-keys": "10"}}, {"s3:max-keys": "9"}, DENY),
    ({"NumericLessThan": {"s3:max-keys": "10"}}, {"s3:max-keys": "10"}, NONE),
    ({"NumericLessThanEquals": {"s3:max-keys": "10"}}, {"s3:max-keys": "10"}, DENY),
    ({"NumericLessThanEquals": {"s3:max-keys": "10"}}, {"s3:max-keys": "11"}, NONE),
    ({"NumericGreaterThan": {"s3:max-keys": "10"}}, {"s3:max-keys": "11"}, DENY),
    ({"NumericGreaterThan": {"s3:max-keys": "10"}}, {"s3:max-keys": "10"}, NONE),
    ({"NumericGreaterThanEquals": {"s3:max-keys": "10"}}, {"s3:max-keys": "10"}, DENY),
    ({"NumericGreaterThanEquals": {"s3:max-keys": "10"}}, {"s3:max-keys": "9"}, NONE),
    ({"NumericEquals": {"s3:max-keys": "10"}}, {"s3:max-keys": "ten"}, NONE),
    # A missing key: a positive operator is false, a negated one true, IfExists true
    ({"StringEquals": {"aws:PrincipalOrgID": "o-abc"}}, {}, NONE),
    ({"StringNotEquals": {"aws:PrincipalOrgID": "o-abc"}}, {}, DENY),
    ({"ArnNotLike": {"aws:PrincipalArn": ADMIN}}, {}, DENY),
    ({"Bool": {"aws:SecureTransport": "false"}}, {}, NONE),
    ({"StringEqualsIfExists": {"aws:PrincipalOrgID": "o-abc"}}, {}, DENY),
    ({"StringEqualsIfExists": {"aws:PrincipalOrgID": "o-abc"}}, {"aws:PrincipalOrgID": "o-xyz"}, NONE),
    ({"StringNotEqualsIfExists": {"aws:PrincipalOrgID": "o-abc"}}, {"aws:PrincipalOrgID": "o-abc"}, NONE),
    ({"NumericLessThanIfExists": {"s3:max-keys": "10"}}, {}, DENY),
    # Key names are case-insensitive
    ({"StringEquals": {"AWS:principalaccount": ACCOUNT}}, {"aws:PrincipalAccount": ACCOUNT}, DENY),
    # Several keys and operators are ANDed
    (
        {"Bool": {"aws:PrincipalIsAWSService": "false"}, "ArnNotLike": {"aws:PrincipalArn": ADMIN}},
        {"aws:PrincipalIsAWSService": False, "aws:PrincipalArn": f"arn:aws:iam::{ACCOUNT}:role/Deployer"},
        DENY,
    ),
    (
        {"Bool": {"aws:PrincipalIsAWSService": "false"}, "ArnNotLike": {"aws:PrincipalArn": ADMIN}},
        {"aws:PrincipalIsAWSService": True, "aws:PrincipalArn": f"arn:aws:iam::{ACCOUNT}:role/Deployer"},
        NONE,
    ),
    (
        {"StringNotEquals": {"aws:PrincipalAccount": [ACCOUNT], "aws:PrincipalOrgID": "o-abc"}},
        {"aws:PrincipalAccount": OTHER, "aws:PrincipalOrgID": "o-abc"},
        NONE,
    ),
    # A multivalued key without a set operator: any value may match; a negation, none may
    ({"StringEquals": {"aws:TagKeys": "env"}}, {"aws:TagKeys": ["owner", "env"]}, DENY),
    ({"StringNotEquals": {"aws:TagKeys": "env"}}, {"aws:TagKeys": ["owner", "env"]}, NONE),
    ({"StringNotEquals": {"aws:TagKeys": "env"}}, {"aws:TagKeys": ["owner", "team"]}, DENY),
    # Set operators over a multivalued key
    ({"ForAnyValue:StringEquals": {"aws:TagKeys": ["env", "team"]}}, {"aws:TagKeys": ["owner", "team"]}, DENY),
    ({"ForAnyValue:StringEquals": {"aws:TagKeys": ["env", "team"]}}, {"aws:TagKeys": ["owner"]}, NONE),
    ({"ForAnyValue:StringEquals": {"aws:TagKeys": ["env"]}}, {}, NONE),
    ({"ForAllValues:StringEquals": {"aws:TagKeys": ["env", "team"]}}, {"aws:TagKeys": ["env", "team"]}, DENY),
    ({"ForAllValues:StringEquals": {"aws:TagKeys": ["env", "team"]}}, {"aws:TagKeys": ["env", "owner"]}, NONE),
    ({"ForAllValues:StringEquals": {"aws:TagKeys": ["env"]}}, {}, DENY),
    ({"ForAnyValue:StringNotEquals": {"aws:TagKeys": ["env"]}}, {"aws:TagKeys": ["env", "owner"]}, DENY),
    ({"ForAnyValue:StringNotEquals": {"aws:TagKeys": ["env"]}}, {"aws:TagKeys": ["env"]}, NONE),
    ({"ForAllValues:StringNotEquals": {"aws:TagKeys": ["env"]}}, {"aws:TagKeys": ["owner", "team"]}, DENY),
    ({"ForAllValues:StringNotEquals": {"aws:TagKeys": ["env"]}}, {"aws:TagKeys": ["owner", "env"]}, NONE),
    ({"ForAnyValue:StringLikeIfExists": {"aws:TagKeys": "e*"}}, {}, DENY),
    # Policy variables in condition values
    ({"StringEquals": {"s3:prefix": "AWSLogs/${aws:PrincipalAccount}/"}}, {"s3:prefix": f"AWSLogs/{ACCOUNT}/", "aws:PrincipalAccount": ACCOUNT}, DENY),
    ({"StringEquals": {"s3:prefix": "AWSLogs/${aws:PrincipalAccount}/"}}, {"s3:prefix": f"AWSLogs/{OTHER}/", "aws:PrincipalAccount": ACCOUNT}, NONE),
    ({"StringEquals": {"s3:prefix": "AWSLogs/${aws:PrincipalAccount}/"}}, {"s3:prefix": "AWSLogs//"}, NONE),
    ({"StringEquals": {"s3:prefix": "${aws:PrincipalOrgID, 'none'}"}}, {"s3:prefix": "none"}, DENY),
]  # fmt: skip


@pytest.mark.parametrize(("condition", "context", "verdict"), CONDITIONS)
def test_a_condition_operator_decides_whether_the_deny_applies(condition, context, verdict):
    assert decide(deny(Condition=condition), context) is verdict


# --------------------------------------------------------------------------------------------
# Actions, resources, principals: (statement fields, request, verdict)
# --------------------------------------------------------------------------------------------

MATCHING = [
    # Action: wildcards, case-insensitive
    ({"Action": "s3:PutLifecycleConfiguration"}, {}, DENY),
    ({"Action": "S3:putlifecycleconfiguration"}, {}, DENY),
    ({"Action": ["s3:GetObject", "s3:Put*"]}, {}, DENY),
    ({"Action": "s3:Put?ifecycleConfiguration"}, {}, DENY),
    ({"Action": "s3:Put?Configuration"}, {}, NONE),
    ({"Action": "*"}, {}, DENY),
    ({"Action": "s3:PutBucketPolicy"}, {}, NONE),
    ({"Action": "kms:*"}, {}, NONE),
    # NotAction: every action but those
    ({"Action": None, "NotAction": "s3:Get*"}, {}, DENY),
    ({"Action": None, "NotAction": ["s3:GetObject", "s3:PutLifecycle*"]}, {}, NONE),
    # Resource: case-sensitive, wildcards within one ARN part
    ({"Resource": "arn:aws:s3:::acme-*"}, {}, DENY),
    ({"Resource": "arn:aws:s3:::ACME-*"}, {}, NONE),
    ({"Resource": "arn:aws:s3:::acme-org-logs/*"}, {}, NONE),
    ({"Resource": ["arn:aws:s3:::acme-org-logs/*", "arn:aws:s3:::acme-org-log?"]}, {}, DENY),
    ({"Resource": "*"}, {}, DENY),
    ({"Resource": "arn:aws:s3:::*"}, {"resource": "arn:aws:s3:::b/AWSLogs/1:2"}, DENY),
    ({"Resource": "arn:aws:*:::acme-org-logs"}, {}, DENY),
    ({"Resource": "arn:aws:s3:*::acme-org-logs"}, {}, DENY),
    ({"Resource": "arn:aws:s3:*"}, {}, NONE),  # `*` does not reach over the colons
    (
        {"Resource": "arn:aws:s3:::acme-org-logs/AWSLogs/${aws:PrincipalAccount}/*"},
        {"resource": f"arn:aws:s3:::acme-org-logs/AWSLogs/{ACCOUNT}/x", "aws:PrincipalAccount": ACCOUNT},
        DENY,
    ),
    (
        {"Resource": "arn:aws:s3:::acme-org-logs/AWSLogs/${aws:PrincipalAccount}/*"},
        {"resource": f"arn:aws:s3:::acme-org-logs/AWSLogs/{OTHER}/x", "aws:PrincipalAccount": ACCOUNT},
        NONE,
    ),
    (
        {"Resource": "arn:aws:s3:::acme-org-logs/AWSLogs/${aws:PrincipalAccount}/*"},
        {"resource": f"arn:aws:s3:::acme-org-logs/AWSLogs/{ACCOUNT}/x"},
        NONE,
    ),
    ({"Resource": "arn:aws:s3:::acme-org-logs/${*}"}, {"resource": "arn:aws:s3:::acme-org-logs/*"}, DENY),
    ({"Resource": "arn:aws:s3:::acme-org-logs/${*}"}, {"resource": "arn:aws:s3:::acme-org-logs/x"}, NONE),
    # NotResource: every resource but those
    ({"Resource": None, "NotResource": "arn:aws:s3:::acme-org-logs/*"}, {}, DENY),
    ({"Resource": None, "NotResource": BUCKET}, {}, NONE),
    # Principal: "*", accounts (id or root ARN), roles, sessions, services
    ({"Principal": "*"}, {}, DENY),
    ({"Principal": "*"}, {"caller": CLOUDTRAIL}, DENY),
    ({"Principal": {"AWS": "*"}}, {"caller": ROOT}, DENY),
    ({"Principal": {"AWS": "*"}}, {"caller": CLOUDTRAIL}, DENY),  # the same as "*"
    ({"Principal": {"AWS": ACCOUNT}}, {}, DENY),
    ({"Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}}, {}, DENY),
    ({"Principal": {"AWS": f"arn:aws:iam::{OTHER}:root"}}, {}, NONE),
    ({"Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}}, {"caller": OUTSIDER}, NONE),
    ({"Principal": {"AWS": ADMIN}}, {"caller": ADMIN_CALLER}, DENY),
    ({"Principal": {"AWS": ADMIN}}, {}, NONE),
    ({"Principal": {"AWS": [ADMIN, DEPLOYER_SESSION]}}, {}, DENY),
    ({"Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}}, {"caller": CLOUDTRAIL}, NONE),
    ({"Principal": {"Service": "cloudtrail.amazonaws.com"}}, {"caller": CLOUDTRAIL}, DENY),
    ({"Principal": {"Service": "cloudtrail.amazonaws.com"}}, {}, NONE),
    ({"Principal": {"Service": "logging.s3.amazonaws.com"}}, {"caller": CLOUDTRAIL}, NONE),
    ({"Principal": {"Federated": "cognito-identity.amazonaws.com"}}, {}, NONE),
    # NotPrincipal: everyone but those
    ({"Principal": None, "NotPrincipal": {"AWS": ADMIN}}, {"caller": ADMIN_CALLER}, NONE),
    ({"Principal": None, "NotPrincipal": {"AWS": ADMIN}}, {}, DENY),
]  # fmt: skip


@pytest.mark.parametrize(("fields", "request_", "verdict"), MATCHING)
def test_action_resource_and_principal_decide_whether_the_statement_applies(
    fields, request_, verdict
):
    caller = request_.get("caller", DEPLOYER)
    resource = request_.get("resource", BUCKET)
    context = {k: v for k, v in request_.items() if k not in ("caller", "resource")}
    assert decide(deny(**fields), context, caller, resource=resource) is verdict


# --------------------------------------------------------------------------------------------
# Deny over Allow; what the evaluator refuses
# --------------------------------------------------------------------------------------------


def test_an_explicit_deny_wins_over_an_allow_and_nothing_allowed_is_an_implicit_deny():
    allow = {"Effect": "Allow", "Principal": {"AWS": ACCOUNT}, "Action": "kms:*", "Resource": "*"}
    deny = {
        "Effect": "Deny",
        "Principal": "*",
        "Action": "kms:DescribeKey",
        "Resource": "*",
        "Condition": {"ArnNotLike": {"aws:PrincipalArn": ADMIN}},
    }
    key = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/1234"

    def verdict(statements: list[dict[str, Any]], caller: Caller) -> Decision:
        context = principal_context(caller)
        request = Request(caller, "kms:DescribeKey", key, context)
        return evaluate({"Statement": statements}, request)

    assert verdict([allow, deny], DEPLOYER) is DENY
    assert verdict([allow, deny], ADMIN_CALLER) is ALLOW
    assert verdict([allow], OUTSIDER) is NONE
    assert verdict([], DEPLOYER) is NONE
    request = Request(DEPLOYER, "kms:DescribeKey", key, principal_context(DEPLOYER))
    assert applying_statements({"Statement": [allow, deny]}, request) == [allow, deny]


def test_the_principal_context_names_the_role_not_its_session():
    assert principal_context(ADMIN_CALLER, "o-abc") == {
        "aws:SecureTransport": True,
        "aws:PrincipalIsAWSService": False,
        "aws:PrincipalType": "AssumedRole",
        "aws:PrincipalArn": ADMIN,
        "aws:PrincipalAccount": ACCOUNT,
        "aws:PrincipalOrgID": "o-abc",
    }
    with_path = Caller.from_arn(ADMIN_SESSION, role_arn=f"arn:aws:iam::{ACCOUNT}:role/ops/X")
    assert with_path.arn == f"arn:aws:iam::{ACCOUNT}:role/ops/X"
    assert principal_context(ROOT) == {
        "aws:SecureTransport": True,
        "aws:PrincipalIsAWSService": False,
        "aws:PrincipalType": "Account",
        "aws:PrincipalArn": f"arn:aws:iam::{ACCOUNT}:root",
        "aws:PrincipalAccount": ACCOUNT,
    }
    assert principal_context(CLOUDTRAIL) == {
        "aws:SecureTransport": True,
        "aws:PrincipalIsAWSService": True,
        "aws:PrincipalType": "AWSService",
        "aws:PrincipalServiceName": "cloudtrail.amazonaws.com",
    }


REFUSED = [
    ({"Condition": {"DateGreaterThan": {"aws:CurrentTime": "2020-01-01T00:00:00Z"}}}, "unsupported condition operator 'DateGreaterThan'"),
    ({"Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}}, "unsupported condition operator 'IpAddress'"),
    ({"Condition": {"ForSomeValues:StringEquals": {"aws:TagKeys": "a"}}}, "unknown condition set operator 'ForSomeValues' in 'ForSomeValues:StringEquals'"),
    ({"Condition": {"NullIfExists": {"aws:PrincipalOrgID": "true"}}}, "Null takes neither IfExists nor a set operator: 'NullIfExists'"),
    ({"Condition": {"Null": {"aws:PrincipalOrgID": "maybe"}}}, "Null takes true or false: 'maybe'"),
    ({"Condition": {"Bool": {"aws:SecureTransport": "yes"}}}, "Bool takes true or false: 'yes'"),
    ({"Condition": {"NumericLessThan": {"s3:max-keys": "ten"}}}, "a Numeric condition takes numbers: 'ten'"),
    ({"Effect": "Audit"}, "Effect must be Allow or Deny: 'Audit'"),
    ({"NotAction": "s3:Get*"}, "a statement has both Action and NotAction"),
    ({"Principal": ["*"]}, "Principal must be \"*\" or an object: ['*']"),
    ({"Principal": {"Canonical": "x"}}, "unknown principal type 'Canonical'"),
    ({"Action": "PutLifecycleConfiguration"}, "an action is service:name or *: 'PutLifecycleConfiguration'"),
]  # fmt: skip


@pytest.mark.parametrize(("fields", "message"), REFUSED)
def test_what_the_evaluator_cannot_evaluate_raises_instead_of_allowing(fields, message):
    with pytest.raises(PolicyError) as refused:
        decide(deny(**fields))
    assert str(refused.value) == message


def test_an_operator_it_cannot_evaluate_raises_even_in_a_statement_about_other_actions():
    about_kms = deny(Action="kms:*", Condition={"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}})
    request = Request(DEPLOYER, "s3:PutLifecycleConfiguration", BUCKET, {})
    with pytest.raises(PolicyError) as refused:
        evaluate({"Statement": [deny(), about_kms]}, request)
    assert str(refused.value) == "unsupported condition operator 'IpAddress'"


def test_a_document_that_is_no_policy_raises():
    request = Request(DEPLOYER, "s3:PutBucketPolicy", BUCKET, {})
    with pytest.raises(PolicyError) as not_json:
        evaluate("{", request)
    assert str(not_json.value).startswith("the policy is not JSON")
    with pytest.raises(PolicyError) as no_statement:
        evaluate({"Version": "2012-10-17"}, request)
    assert str(no_statement.value) == "the policy has no Statement"
