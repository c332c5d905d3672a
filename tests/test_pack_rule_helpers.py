"""The rules' helpers (organizations, s3, logs, delivery, rds of policy/guardrails), called
directly: what an SCP denies for sure, bucket names, replication rules, the central bucket's
hardening, destination principals, delivery targets and PostgreSQL parameters, each message
written out. The rules themselves are specified through the analyzer (test_pack_rules*.py).
"""

from __future__ import annotations

import pytest
from pack_in_process import alias_pack_modules

alias_pack_modules()  # makes `guardrails` and `conventions` the policy.* modules, as in the pack

from policy.guardrails import delivery, logs, organizations, rds, s3, values  # noqa: E402

# ---- organizations: what an SCP denies for sure ----------------------------------------------


LEAVE = ("organizations:LeaveOrganization",)
PROTECT = ("cloudtrail:StopLogging", "s3:DeleteBucket")
ADMIN_EXEMPT = {"ArnNotLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/OrgLoggingAdmin"}}


def deny(**fields) -> dict:
    return {"Effect": "Deny", "Resource": "*", **fields}


@pytest.mark.parametrize(
    ("props", "scp"),
    [
        ({}, True),
        ({"type": ""}, True),
        ({"type": "SERVICE_CONTROL_POLICY"}, True),
        ({"type": "TAG_POLICY"}, False),
        ({"type": "BACKUP_POLICY"}, False),
    ],
)
def test_a_policy_without_a_type_is_an_scp(props, scp):
    assert organizations.is_scp(props) is scp


@pytest.mark.parametrize(
    ("condition", "problem"),
    [
        (None, None),
        ({}, None),
        (ADMIN_EXEMPT, None),
        ({"ArnNotEquals": {"aws:PrincipalARN": "arn:aws:iam::111111111111:role/a/b"}}, None),
        ({"StringNotLike": {"aws:PrincipalArn": ["arn:aws-cn:iam::*:role/A"]}}, None),
        ({"StringNotEquals": {"aws:PrincipalArn": "arn:aws:iam::*:role/A"}}, None),
        ("x", "its Condition is not an object"),
        (
            {"StringEquals": {"aws:PrincipalArn": "arn:aws:iam::*:role/A"}},
            "its Condition operator 'StringEquals' can switch the deny off",
        ),
        ({"ArnNotLike": "x"}, "its Condition operator 'ArnNotLike' can switch the deny off"),
        (
            {"ArnNotLike": {"aws:SourceIp": "10.0.0.0/8"}},
            "its Condition on 'aws:SourceIp' can switch the deny off",
        ),
        (
            {"ArnNotLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/Org*"}},
            "its exemption 'arn:aws:iam::*:role/Org*' is not one named role (a wildcard in the "
            "role name exempts too much)",
        ),
        (
            {"ArnNotLike": {"aws:PrincipalArn": ["arn:aws:iam::*:role/A", 5]}},
            "its exemption 5 is not one named role (a wildcard in the role name exempts too much)",
        ),
        (
            {"ArnNotLike": {"aws:PrincipalArn": "arn:aws:iam::12345:role/A"}},
            "its exemption 'arn:aws:iam::12345:role/A' is not one named role (a wildcard in the "
            "role name exempts too much)",
        ),
        (
            {"ArnNotLike": {"aws:PrincipalArn": "xarn:aws:iam::*:role/A"}},
            "its exemption 'xarn:aws:iam::*:role/A' is not one named role (a wildcard in the "
            "role name exempts too much)",
        ),
    ],
)
def test_only_an_exemption_of_named_roles_keeps_a_deny_relied_on(condition, problem):
    assert organizations.exemption_problem(condition) == problem


def test_a_deny_with_action_on_every_resource_counts_and_wildcards_match():
    document = {
        "Statement": [
            deny(Sid="A", Action="cloudtrail:Stop*", Condition=ADMIN_EXEMPT),
            deny(Sid="B", Action=["s3:DeleteBucket"], Resource=["arn:aws:s3:::acme-logs-*"]),
            {"Effect": "Allow", "Action": "*", "Resource": "*"},
        ]
    }
    assert organizations.denied_actions(document, PROTECT) == (set(PROTECT), [])


@pytest.mark.parametrize(
    ("statement", "note"),
    [
        (deny(NotAction="s3:GetObject"), "statement S uses NotAction, which is not relied on"),
        (
            deny(Action="*", Condition={"Bool": {"aws:SecureTransport": "false"}}),
            "statement S: its Condition operator 'Bool' can switch the deny off",
        ),
        (
            deny(Action="*", NotResource="arn:aws:s3:::x"),
            "statement S uses NotResource, which is not relied on",
        ),
        ({"Effect": "Deny", "Action": "*"}, "statement S has no Resource"),
        (deny(Action="*", Resource=["bucket", 5]), "statement S has no Resource"),
    ],
)
def test_a_deny_that_might_not_apply_is_noted_not_counted(statement, note):
    document = {"Statement": [{"Sid": "S", **statement}]}
    assert organizations.denied_actions(document, PROTECT) == (set(), [note])


def test_a_statement_without_sid_is_named_by_its_index():
    document = {"Statement": [{"Effect": "Allow"}, deny(NotAction="x")]}
    assert organizations.denied_actions(document, PROTECT) == (
        set(),
        ["statement #1 uses NotAction, which is not relied on"],
    )


def test_a_deny_of_other_actions_or_an_allow_is_neither_counted_nor_noted():
    document = {
        "Statement": [
            deny(Sid="A", Action="ec2:*", Condition={"Bool": {"x": "y"}}),
            {"Sid": "B", "Effect": "Allow", "NotAction": "x", "Resource": "*"},
        ]
    }
    assert organizations.denied_actions(document, PROTECT) == (set(), [])
    assert organizations.denied_actions(document, ()) == (set(), [])


def test_only_a_deny_on_every_resource_counts_for_leaving_the_organization():
    everywhere = {"Statement": [deny(Sid="L", Action="organizations:LeaveOrganization")]}
    assert organizations.denied_actions(everywhere, LEAVE) == (set(LEAVE), [])
    listed = {"Statement": [deny(Sid="L", Action="organizations:*", Resource=["*", "arn:x"])]}
    assert organizations.denied_actions(listed, LEAVE) == (set(LEAVE), [])
    some = {"Statement": [deny(Sid="L", Action="organizations:*", Resource="arn:aws:o::1:x")]}
    assert organizations.denied_actions(some, LEAVE) == (
        set(),
        ["statement L denies leaving on some resources only; use Resource '*'"],
    )
    # The other lists accept a deny on named resources.
    assert organizations.denied_actions(
        {"Statement": [deny(Action="s3:DeleteBucket", Resource="arn:aws:s3:::b")]}, PROTECT
    ) == ({"s3:DeleteBucket"}, [])


@pytest.mark.parametrize(
    ("props", "policy_id"),
    [
        (
            {"id": "p-abcd1234", "arn": "arn:aws:organizations::1:policy/o-x/scp/p-other"},
            "p-abcd1234",
        ),
        ({"id": None, "arn": "arn:aws:organizations::1:policy/o-x/scp/p-12345678"}, "p-12345678"),
        ({"arn": "arn-without-slash"}, None),
        ({"arn": 5}, None),
        ({}, None),
    ],
)
def test_an_scps_id_is_its_id_or_the_end_of_its_arn(props, policy_id):
    assert organizations.policy_id_of(props) == policy_id


class Resource:
    def __init__(self, kind: str = "", urn: str = "", deps=None, **props):
        self.resource_type = kind
        self.urn = urn
        self.props = props
        self.property_dependencies = deps or {}


def test_an_attachment_links_to_its_scp_by_id_or_by_dependency():
    scp = Resource(urn="urn:scp")
    other = Resource(urn="urn:other")
    assert organizations.links(Resource(policyId="p-1"), scp, "p-1") is True
    assert organizations.links(Resource(policyId="p-2"), scp, "p-1") is False
    assert organizations.links(Resource(policyId=""), scp, "") is False
    assert organizations.links(Resource(policyId=None), scp, None) is False
    by_dependency = Resource(deps={"policyId": [other, scp]})
    assert organizations.links(by_dependency, scp, None) is True
    assert organizations.links(Resource(deps={"policyId": [other]}), scp, None) is False
    assert organizations.links(Resource(deps={"targetId": [scp]}), scp, None) is False


def test_a_stack_manages_the_organization_with_an_organizations_resource_or_org_trail():
    trail = "aws:cloudtrail/trail:Trail"
    assert organizations.manages_organization([Resource("aws:organizations/policy:Policy")])
    assert organizations.manages_organization(
        [Resource("aws:s3/bucket:Bucket"), Resource(trail, isOrganizationTrail=True)]
    )
    assert organizations.manages_organization([Resource(trail, isOrganizationTrail="true")])
    assert not organizations.manages_organization([Resource(trail, isOrganizationTrail=False)])
    assert not organizations.manages_organization([Resource(trail)])
    assert not organizations.manages_organization([Resource("aws:s3/bucket:Bucket")])
    assert not organizations.manages_organization([])


# ---- s3: bucket names, replication rules, the central bucket's hardening ---------------------


HELP = "{namePrefix}-{purpose}-{accountId}-{region}"


def naming(name, prefix="acme", region="us-east-1", extra=(), accounts=()):
    return s3.bucket_name_violation(name, prefix, region, list(extra), list(accounts))


def test_a_conventional_bucket_name_passes():
    assert naming("acme-app-data-333333333333-us-east-1") is None
    assert naming("acme-logs-333333333333-us-east-1") is None
    assert naming("acme-org-logs-333333333333-us-east-1") is None
    assert naming("acme-org-logs-access-333333333333-us-east-1") is None
    assert naming("acme-app-333333333333-eu-west-1", region=None) is None
    assert naming("acme-app-333333333333-us-east-1", accounts=["333333333333"]) is None
    assert naming("other-thing", prefix=None) is None


def test_an_invalid_s3_name_is_refused_before_the_convention_with_an_example():
    assert naming("ab") == (
        "Bucket name 'ab' is not a valid S3 bucket name: it is 2 characters long; S3 allows 3 to "
        f"63. Rename it following {HELP}: acme-<purpose>-<accountId>-<region>."
    )
    assert naming("AB-c", prefix=None).endswith(
        f"Rename it following {HELP}: <namePrefix>-<purpose>-<accountId>-<region>."
    )


def test_allowed_patterns_exempt_a_name_that_matches_whole():
    assert naming("legacy-bucket", extra=["legacy-.*"]) is None
    assert naming("legacy-bucket", extra=["legacy"]) is not None  # a whole match is needed


def test_a_name_off_the_convention_says_how_to_follow_it():
    assert naming("acme-app") == (
        f"Bucket name 'acme-app' does not follow the naming convention {HELP} with namePrefix "
        "'acme' (purpose: lowercase words joined by '-'). Rename it, e.g. "
        "acme-app-data-123456789012-us-east-1, or add a pattern to this policy's allowedPatterns."
    )
    assert naming("acmex-app-333333333333-us-east-1") is not None
    assert naming("acme-app-33333333333-us-east-1") is not None  # 11 digits


def test_the_region_in_the_name_must_exist_and_be_the_buckets():
    assert naming("acme-app-333333333333-xx-east-1") == (
        "Bucket name 'acme-app-333333333333-xx-east-1' ends in 'xx-east-1', which is not an AWS "
        "region; rename it to end in the bucket's region."
    )
    assert naming("acme-app-333333333333-eu-west-1") == (
        "Bucket name 'acme-app-333333333333-eu-west-1' names region 'eu-west-1' but the bucket is "
        "created in 'us-east-1'; use acme-app-333333333333-us-east-1."
    )


def test_the_account_in_the_name_must_be_one_the_stack_deploys_into():
    assert naming("acme-app-333333333333-us-east-1", accounts=["444444444444", "555555555555"]) == (
        "Bucket name 'acme-app-333333333333-us-east-1' names account 333333333333, but this stack "
        "deploys into 444444444444, 555555555555 (provider allowedAccountIds); rename it to "
        "acme-app-444444444444-us-east-1."
    )


@pytest.mark.parametrize("purpose", ["logs-old", "logsx", "org-logs-2", "org-logsx"])
def test_log_purposes_are_reserved_for_org_loggings_own_buckets(purpose):
    name = f"acme-{purpose}-333333333333-us-east-1"
    assert naming(name) == (
        f"Bucket purpose {purpose!r} is reserved for org-logging's log buckets: use exactly "
        "acme-logs-333333333333-us-east-1 (the account's log bucket), or another purpose."
    )


def test_the_central_bucket_arn_pattern_takes_the_prefix_or_any():
    assert s3.central_bucket_arn_pattern("acme").fullmatch(
        "arn:aws:s3:::acme-org-logs-222222222222-us-east-1"
    )
    assert not s3.central_bucket_arn_pattern("acme").fullmatch(
        "arn:aws:s3:::other-org-logs-222222222222-us-east-1"
    )
    assert s3.central_bucket_arn_pattern(None).fullmatch(
        "arn:aws-cn:s3:::other-org-logs-222222222222-cn-north-1"
    )
    assert not s3.central_bucket_arn_pattern(None).fullmatch(
        "arn:aws:s3:::other-org-logs-22222222222-us-east-1"
    )
    assert not s3.central_bucket_arn_pattern("a.c").fullmatch(
        "arn:aws:s3:::abc-org-logs-222222222222-us-east-1"
    )


CENTRAL_DEST = {"bucket": "arn:aws:s3:::acme-org-logs-222222222222-us-east-1"}


def rule(**fields):
    base = {
        "id": "r",
        "filter": {"prefix": "AWSLogs/333333333333/"},
        "deleteMarkerReplication": {"status": "Disabled"},
        "destination": CENTRAL_DEST,
    }
    base.update(fields)
    return {k: v for k, v in base.items() if v is not None}


def test_a_v2_rule_of_the_own_prefix_has_no_problem():
    assert s3.replication_rule_problems(rule(), 0, "acme", "333333333333") == []
    assert s3.replication_rule_problems(rule(), 0, "acme", None) == []
    assert (
        s3.replication_rule_problems(
            rule(
                deleteMarkerReplication=[{"status": "Disabled"}],
                filter=[{"prefix": "AWSLogs/333333333333/"}],
            ),
            0,
            "acme",
            "333333333333",
        )
        == []
    )


def test_replication_rule_problems_are_each_named_with_the_rule():
    assert s3.replication_rule_problems(
        rule(id=None, filter=None, prefix="AWSLogs/", deleteMarkerReplication=None), 3, "acme", None
    ) == [
        "Replication rule 3 uses the V1 schema (`prefix`), under which S3 replicates delete "
        "markers; use `filter: {prefix: ...}` and `deleteMarkerReplication: {status: Disabled}`.",
        "Replication rule 3 must set deleteMarkerReplication.status to Disabled (it is None): "
        "deleting a local copy must never hide the archived log.",
        "Replication rule 3 replicates into the central log bucket with filter prefix None; "
        "replicate exactly AWSLogs/<accountId>/.",
    ]
    assert s3.replication_rule_problems(rule(prefix=""), 0, "acme", None) == []
    assert s3.replication_rule_problems(
        rule(deleteMarkerReplication={"status": "Enabled"}), 0, "acme", None
    ) == [
        "Replication rule r must set deleteMarkerReplication.status to Disabled (it is "
        "'Enabled'): deleting a local copy must never hide the archived log."
    ]
    assert (
        s3.replication_rule_problems(
            rule(deleteMarkerReplication={"status": values.UNKNOWN}), 0, "acme", None
        )
        == []
    )


def test_into_the_archive_a_rule_replicates_exactly_its_accounts_prefix():
    assert s3.replication_rule_problems(rule(filter={"prefix": "AWSLogs/"}), 0, "acme", None) == [
        "Replication rule r replicates into the central log bucket with filter prefix "
        "'AWSLogs/'; replicate exactly AWSLogs/<accountId>/."
    ]
    assert (
        s3.replication_rule_problems(
            rule(filter={"prefix": "AWSLogs/333333333333/x"}), 0, "acme", None
        )
        != []
    )
    assert (
        s3.replication_rule_problems(
            rule(filter={"prefix": values.UNKNOWN}), 0, "acme", "333333333333"
        )
        == []
    )
    assert s3.replication_rule_problems(rule(), 0, "acme", "444444444444") == [
        "Replication rule r replicates 'AWSLogs/333333333333/' into the central log bucket, but "
        "its source bucket belongs to account 444444444444: an account may only replicate "
        "AWSLogs/444444444444/ (the archive refuses the rest)."
    ]
    elsewhere = rule(destination={"bucket": "arn:aws:s3:::acme-app-1"}, filter={"prefix": "x"})
    assert s3.replication_rule_problems(elsewhere, 0, "acme", "444444444444") == []


def test_into_the_archive_replicas_belong_to_the_destination_account():
    owned = dict(CENTRAL_DEST, account="222222222222")
    problem = (
        "Replication rule r must make replicas owned by the destination account: set "
        "destination.accessControlTranslation.owner to Destination."
    )
    assert s3.replication_rule_problems(rule(destination=owned), 0, "acme", None) == [problem]
    translated = dict(owned, accessControlTranslation={"owner": "Destination"})
    assert s3.replication_rule_problems(rule(destination=translated), 0, "acme", None) == []
    unknown = dict(owned, accessControlTranslation=[{"owner": values.UNKNOWN}])
    assert s3.replication_rule_problems(rule(destination=unknown), 0, "acme", None) == []
    assert s3.replication_rule_problems(rule(destination=[owned]), 0, "acme", None) == [problem]


def test_a_sub_resource_is_attached_by_bucket_name_or_by_dependency():
    bucket = Resource(urn="urn:bucket")
    assert s3.attached_to(Resource(bucket="b"), bucket, "b") is True
    assert s3.attached_to(Resource(bucket="c"), bucket, "b") is False
    assert s3.attached_to(Resource(deps={"bucket": [Resource(urn="x"), bucket]}), bucket, "b")
    assert not s3.attached_to(Resource(deps={"bucket": [Resource(urn="x")]}), bucket, "b")
    assert not s3.attached_to(Resource(deps={"policy": [bucket]}), bucket, "b")


HARDENED = {
    "aws:s3/bucketVersioning:BucketVersioning": [
        {"versioningConfiguration": {"status": "Enabled"}}
    ],
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": [
        {"rule": {"objectOwnership": "BucketOwnerEnforced"}}
    ],
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": [
        {
            "blockPublicAcls": True,
            "blockPublicPolicy": "true",
            "ignorePublicAcls": True,
            "restrictPublicBuckets": True,
        }
    ],
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": [
        {
            "rules": [
                {
                    "applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms"},
                    "bucketKeyEnabled": True,
                }
            ]
        }
    ],
    "aws:s3/bucketPolicy:BucketPolicy": [
        {
            "policy": {
                "Statement": [
                    {"Effect": "Deny", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
                ]
            }
        }
    ],
    "aws:s3/bucketLogging:BucketLogging": [{"targetBucket": "access"}],
}


def hardening(**replaced):
    parts = dict(HARDENED)
    for kind, value in replaced.items():
        key = next(k for k in parts if k.split(":")[-1] == kind)
        if value is None:
            del parts[key]
        else:
            parts[key] = value
    return s3.central_bucket_problems("b", parts)


def test_a_fully_hardened_bucket_has_no_problem():
    assert hardening() == []
    assert (
        hardening(
            BucketPolicy=[
                {
                    "policy": '{"Statement": {"Effect": "Deny", "Condition": '
                    '{"Bool": {"aws:SecureTransport": false}}}}'
                }
            ]
        )
        == []
    )


def test_each_missing_hardening_is_named():
    assert hardening(BucketVersioning=None) == [
        "versioning must be Enabled (add aws.s3.BucketVersioning)"
    ]
    assert hardening(BucketVersioning=[{"versioningConfiguration": [{"status": "Suspended"}]}]) == [
        "versioning must be Enabled (add aws.s3.BucketVersioning)"
    ]
    assert hardening(BucketOwnershipControls=[{"rule": {"objectOwnership": "ObjectWriter"}}]) == [
        "Object Ownership must be BucketOwnerEnforced"
    ]
    assert hardening(BucketOwnershipControls=[]) == ["Object Ownership must be BucketOwnerEnforced"]
    assert hardening(BucketPublicAccessBlock=None) == [
        "the public-access block must set blockPublicAcls, blockPublicPolicy, ignorePublicAcls, "
        "restrictPublicBuckets to true"
    ]
    assert hardening(
        BucketPublicAccessBlock=[
            {
                "blockPublicAcls": True,
                "blockPublicPolicy": "false",
                "ignorePublicAcls": values.UNKNOWN,
            }
        ]
    ) == ["the public-access block must set blockPublicPolicy, restrictPublicBuckets to true"]
    kms_no_key = [{"rules": {"applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms"}}}]
    assert hardening(BucketServerSideEncryptionConfiguration=kms_no_key) == [
        "default encryption must be aws:kms with bucketKeyEnabled"
    ]
    sse_s3 = [
        {
            "rules": [
                {
                    "applyServerSideEncryptionByDefault": [{"sseAlgorithm": "AES256"}],
                    "bucketKeyEnabled": True,
                }
            ]
        }
    ]
    assert hardening(BucketServerSideEncryptionConfiguration=sse_s3) == [
        "default encryption must be aws:kms with bucketKeyEnabled"
    ]
    assert hardening(BucketServerSideEncryptionConfiguration=None) == [
        "default encryption must be aws:kms with bucketKeyEnabled"
    ]
    assert hardening(BucketLogging=None) == [
        "server access logging must go to the access-log bucket (aws.s3.BucketLogging)"
    ]
    assert hardening(BucketLogging=[]) == [
        "server access logging must go to the access-log bucket (aws.s3.BucketLogging)"
    ]


def test_unknown_hardening_values_are_judged_at_up():
    unknown = values.UNKNOWN
    assert (
        hardening(
            BucketVersioning=[{"versioningConfiguration": {"status": unknown}}],
            BucketOwnershipControls=[{"rule": {"objectOwnership": unknown}}],
            BucketServerSideEncryptionConfiguration=[
                {"rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": unknown}}]}
            ],
            BucketPolicy=[{"policy": unknown}],
        )
        == []
    )


def test_the_bucket_policy_must_exist_deny_plain_http_and_grant_no_replicate_delete():
    assert hardening(BucketPolicy=None) == [
        "a bucket policy must deny non-TLS requests and deletions"
    ]
    assert hardening(BucketPolicy=[{"policy": "{"}]) == [
        "its bucket policy is not valid JSON (Expecting property name enclosed in double quotes "
        "at line 1 column 2)"
    ]
    no_tls = {
        "Statement": [{"Effect": "Allow", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]
    }
    assert hardening(BucketPolicy=[{"policy": no_tls}]) == [
        "the bucket policy must deny requests without TLS (aws:SecureTransport false)"
    ]
    true_tls = {
        "Statement": [{"Effect": "Deny", "Condition": {"Bool": {"aws:SecureTransport": "true"}}}]
    }
    assert hardening(BucketPolicy=[{"policy": true_tls}]) == [
        "the bucket policy must deny requests without TLS (aws:SecureTransport false)"
    ]
    tls = HARDENED["aws:s3/bucketPolicy:BucketPolicy"][0]["policy"]["Statement"]
    grant = {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}
    assert hardening(BucketPolicy=[{"policy": {"Statement": [*tls, grant]}}]) == [
        "the bucket policy must not allow s3:ReplicateDelete (or s3:*)"
    ]


@pytest.mark.parametrize(
    ("statement", "granted"),
    [
        ({"Effect": "Allow", "Action": "s3:ReplicateDelete"}, True),
        ({"Effect": "Allow", "Action": ["s3:Get*", "s3:Replicate*"]}, True),
        ({"Effect": "Allow", "Action": "s3:GetObject"}, False),
        ({"Effect": "Deny", "Action": "s3:*"}, False),
        ({"Effect": "Allow", "NotAction": "s3:GetObject"}, True),
        ({"Effect": "Allow", "NotAction": ["s3:Replicate*"]}, False),
        ({"Action": "s3:*"}, False),
    ],
)
def test_a_grant_is_an_allow_whose_action_or_not_action_covers_it(statement, granted):
    assert s3.grants(statement, "s3:ReplicateDelete") is granted


# ---- logs: who may subscribe to a destination ------------------------------------------------


@pytest.mark.parametrize(
    ("principal", "anyone"),
    [
        ("*", True),
        ({"AWS": "*"}, True),
        ({"AWS": ["111111111111", "*"]}, True),
        ({"AWS": "111111111111"}, False),
        ({"Service": "*"}, False),
        (["*"], False),
        (None, False),
    ],
)
def test_everyone_is_a_bare_star_or_star_among_the_aws_principals(principal, anyone):
    assert logs.everyone(principal) is anyone


@pytest.mark.parametrize(
    ("condition", "scoped"),
    [
        ({"StringEquals": {"aws:PrincipalOrgID": "o-1"}}, True),
        ({"StringLike": {"aws:principalorgpaths": "o-1/*"}}, True),
        ({"ForAnyValue:StringLike": {"aws:PrincipalOrgPaths": ["o-1/*"]}}, True),
        ({"StringEqualsIgnoreCase": {"AWS:PRINCIPALORGID": "o-1"}}, True),
        ({"Bool": {"aws:PrincipalOrgID": "o-1"}}, False),
        ({"StringNotEquals": {"aws:PrincipalOrgID": "o-1"}}, False),
        ({"StringEquals": {"aws:SourceAccount": "1"}}, False),
        ({"StringEquals": "o-1"}, False),
        ("x", False),
        (None, False),
        ({}, False),
    ],
)
def test_org_scoped_is_a_string_equality_or_like_on_the_org_id_or_path(condition, scoped):
    assert logs.org_scoped(condition) is scoped


# ---- delivery: where services write logs -----------------------------------------------------


class DeliveryArgs:
    resource_type = "aws:lb/loadBalancer:LoadBalancer"
    name = "web"


def checker(prefix="acme"):
    found: list[str] = []
    config = {"namePrefix": prefix} if prefix else {}
    return delivery.Checker(DeliveryArgs(), found.append, config), found


def test_the_log_bucket_pattern_takes_the_prefix_or_any():
    assert delivery.log_bucket_pattern("acme").fullmatch("acme-logs-333333333333-us-east-1")
    assert not delivery.log_bucket_pattern("acme").fullmatch("acme-logs-33333333333-us-east-1")
    assert not delivery.log_bucket_pattern("acme").fullmatch("other-logs-333333333333-us-east-1")
    assert not delivery.log_bucket_pattern("a.c").fullmatch("abc-logs-333333333333-us-east-1")
    assert delivery.log_bucket_pattern(None).fullmatch("other-logs-333333333333-us-east-1")
    match = delivery.log_bucket_pattern(None).fullmatch("x-logs-333333333333-eu-west-1")
    assert (match["account"], match["region"]) == ("333333333333", "eu-west-1")


def test_a_checker_names_the_resource_and_the_example_bucket():
    check, _ = checker()
    assert check.what() == "LoadBalancer 'web'"
    assert check.example == "acme-logs-<accountId>-<region>"
    assert checker(None)[0].example == "<namePrefix>-logs-<accountId>-<region>"


def test_delivery_to_the_log_bucket_without_prefix_passes():
    check, found = checker()
    check.bucket("acme-logs-333333333333-us-east-1", None, "access")
    check.bucket("acme-logs-333333333333-us-east-1", "", "access")
    check.bucket(values.UNKNOWN, "x", "access")
    check.bucket("x", values.UNKNOWN, "access")
    assert found == []


def test_delivery_elsewhere_or_under_a_prefix_is_named():
    check, found = checker()
    check.bucket("team-bucket", None, "load balancer access")
    check.bucket(5, None, "load balancer access")
    check.bucket("acme-logs-333333333333-us-east-1", "elb/", "load balancer access")
    assert found == [
        "LoadBalancer 'web' delivers load balancer access logs to bucket 'team-bucket', which "
        "org-logging does not collect. Deliver to the account's log bucket "
        "acme-logs-<accountId>-<region> (the source stack's logBucketName output).",
        "LoadBalancer 'web' delivers load balancer access logs to bucket 5, which org-logging "
        "does not collect. Deliver to the account's log bucket acme-logs-<accountId>-<region> "
        "(the source stack's logBucketName output).",
        "LoadBalancer 'web' delivers load balancer access logs under prefix 'elb/', so they land "
        "in elb/AWSLogs/... and are never replicated. Remove the prefix: the service writes "
        "AWSLogs/<accountId>/ itself.",
    ]


def test_an_s3_destination_arn_is_split_into_bucket_and_path():
    check, found = checker()
    check.s3_arn("arn:aws:s3:::acme-logs-333333333333-us-east-1", "VPC flow")
    check.s3_arn("arn:aws:s3:::acme-logs-333333333333-us-east-1/", "VPC flow")
    check.s3_arn(values.UNKNOWN, "VPC flow")
    assert found == []
    check.s3_arn("arn:aws:s3:::acme-logs-333333333333-us-east-1/flow/", "VPC flow")
    check.s3_arn("s3://bucket", "VPC flow")
    check.s3_arn(None, "VPC flow")
    assert found == [
        "LoadBalancer 'web' delivers VPC flow logs under prefix 'flow', so they land in "
        "flow/AWSLogs/... and are never replicated. Remove the prefix: the service writes "
        "AWSLogs/<accountId>/ itself.",
        "LoadBalancer 'web' has an S3 destination 's3://bucket' that is not an S3 ARN.",
        "LoadBalancer 'web' has an S3 destination None that is not an S3 ARN.",
    ]


def test_api_gateway_logs_go_to_a_log_group_under_aws_apigateway():
    check, found = checker()
    check.log_group("arn:aws:logs:us-east-1:333333333333:log-group:/aws/apigateway/a/s", "x")
    check.log_group("arn:aws:logs:us-east-1:333333333333:log-group:/aws/apigateway/a/s:*", "x")
    check.log_group(values.UNKNOWN, "x")
    assert found == []
    for arn in (
        "arn:aws:logs:us-east-1:333333333333:log-group:/custom/a",
        "arn:aws:logs:us-east-1:333333333333:log-group:aws/apigateway/a",
        "/aws/apigateway/a",
        None,
    ):
        check.log_group(arn, "API Gateway access logs")
    assert found == [
        f"LoadBalancer 'web' sends API Gateway access logs to {arn!r}; use a log group named "
        "/aws/apigateway/<api>/<stage> so the archive can tell these logs from others."
        for arn in (
            "arn:aws:logs:us-east-1:333333333333:log-group:/custom/a",
            "arn:aws:logs:us-east-1:333333333333:log-group:aws/apigateway/a",
            "/aws/apigateway/a",
            None,
        )
    ]


# ---- rds: PostgreSQL logs tersely -------------------------------------------------------------


def parameters(**given):
    return [{"name": name, "value": value} for name, value in given.items()]


def test_terse_parameters_have_no_problem_whatever_their_case():
    # https://www.postgresql.org/docs/current/runtime-config-logging.html
    assert (
        rds.parameter_problems(
            parameters(
                LOG_ERROR_VERBOSITY=" Terse ",
                log_parameter_max_length=0,
                log_parameter_max_length_on_error="0",
            )
        )
        == []
    )


def test_each_missing_or_wrong_parameter_is_named_with_its_value():
    assert rds.parameter_problems(
        parameters(log_error_verbosity="default", log_parameter_max_length="-1")
    ) == [
        "log_error_verbosity=terse (is 'default')",
        "log_parameter_max_length=0 (is '-1')",
        "log_parameter_max_length_on_error=0",
    ]
    assert rds.parameter_problems(
        [
            *parameters(log_error_verbosity="verbose", log_parameter_max_length="0"),
            {"name": 5, "value": "x"},
            "junk",
        ]
    ) == ["log_error_verbosity=terse (is 'verbose')", "log_parameter_max_length_on_error=0"]


def test_unknown_parameters_are_judged_at_up():
    assert rds.parameter_problems(values.UNKNOWN) is None
    assert (
        rds.parameter_problems(
            parameters(
                log_error_verbosity=values.UNKNOWN,
                log_parameter_max_length="0",
                log_parameter_max_length_on_error="0",
            )
        )
        == []
    )
    assert rds.parameter_problems(None) == [
        "log_error_verbosity=terse",
        "log_parameter_max_length=0",
        "log_parameter_max_length_on_error=0",
    ]


def test_the_fix_lists_every_setting():
    assert rds.terse_fix(["a=1", "b=2"]) == "set a=1, b=2 in its parameters"


@pytest.mark.parametrize(
    ("family", "postgres"),
    [
        ("postgres16", True),
        ("aurora-postgresql15", True),
        ("POSTGRES14", True),
        ("mysql8.0", False),
        ("aurora-mysql", False),
        (None, False),
    ],
)
def test_postgres_families_are_recognised(family, postgres):
    assert rds.is_postgres_family(family) is postgres


def test_statements_that_do_not_count_do_not_stop_the_ones_after_them():
    skipped = [
        {"Sid": "allow", "Effect": "Allow", "Action": "*", "Resource": "*"},
        deny(Sid="notaction", NotAction="s3:GetObject"),
        deny(Sid="other", Action="ec2:*"),
        deny(Sid="conditioned", Action="*", Condition={"Bool": {"aws:SecureTransport": "false"}}),
        deny(Sid="notresource", Action="*", NotResource="arn:aws:s3:::x"),
        {"Sid": "noresource", "Effect": "Deny", "Action": "*"},
    ]
    counted = deny(Sid="counted", Action=["cloudtrail:StopLogging", "s3:DeleteBucket"])
    assert organizations.denied_actions({"Statement": [*skipped, counted]}, PROTECT) == (
        set(PROTECT),
        [
            "statement notaction uses NotAction, which is not relied on",
            "statement conditioned: its Condition operator 'Bool' can switch the deny off",
            "statement notresource uses NotResource, which is not relied on",
            "statement noresource has no Resource",
        ],
    )
    some = deny(Sid="some", Action="organizations:*", Resource="arn:aws:organizations::1:x")
    everywhere = deny(Sid="all", Action="organizations:LeaveOrganization")
    assert organizations.denied_actions({"Statement": [some, everywhere]}, LEAVE) == (
        set(LEAVE),
        ["statement some denies leaving on some resources only; use Resource '*'"],
    )


def test_an_unknown_parameter_does_not_hide_the_missing_ones_after_it():
    assert rds.parameter_problems(parameters(log_error_verbosity=values.UNKNOWN)) == [
        "log_parameter_max_length=0",
        "log_parameter_max_length_on_error=0",
    ]


def test_only_a_v1_prefix_without_a_filter_is_the_v1_schema():
    v1 = (
        "Replication rule r uses the V1 schema (`prefix`), under which S3 replicates delete "
        "markers; use `filter: {prefix: ...}` and `deleteMarkerReplication: {status: Disabled}`."
    )
    elsewhere = {"bucket": "arn:aws:s3:::acme-app-1"}
    assert (
        s3.replication_rule_problems(rule(destination=elsewhere, filter=None), 0, "acme", None)
        == []
    )
    assert (
        s3.replication_rule_problems(
            rule(destination=elsewhere, filter=None, prefix=""), 0, "acme", None
        )
        == []
    )
    assert (
        s3.replication_rule_problems(
            rule(destination=elsewhere, prefix="AWSLogs/333333333333/"), 0, "acme", None
        )
        == []
    )
    assert s3.replication_rule_problems(
        rule(destination=elsewhere, filter=None, prefix="logs/"), 0, "acme", None
    ) == [v1]


def test_another_organizations_archive_is_not_the_central_bucket():
    other = {"bucket": "arn:aws:s3:::other-org-logs-222222222222-us-east-1"}
    assert (
        s3.replication_rule_problems(
            rule(destination=other, filter={"prefix": "x"}), 0, "acme", "444444444444"
        )
        == []
    )


def test_the_checker_collects_only_the_configured_prefixs_log_buckets():
    check, found = checker("acme")
    check.bucket("other-logs-333333333333-us-east-1", None, "access")
    assert len(found) == 1 and "bucket 'other-logs-333333333333-us-east-1'" in found[0]


def test_only_slashes_are_trimmed_from_prefixes_and_paths():
    check, found = checker()
    check.bucket("acme-logs-333333333333-us-east-1", "elbX/", "access")
    check.s3_arn("arn:aws:s3:::acme-logs-333333333333-us-east-1/Xflow/", "VPC flow")
    assert [f.split(", so they land in ")[1].split(" and")[0] for f in found] == [
        "elbX/AWSLogs/...",
        "Xflow/AWSLogs/...",
    ]
