"""SourceAccountLogging: each promise of a source stack, asserted on the registered inputs."""

from __future__ import annotations

import json

import pytest
from conftest import (
    ADMIN_ROLE,
    LOG_ARCHIVE,
    MEMBER,
    as_list,
    policy_doc,
    render_config,
    shared,
    stack_config,
    statements,
)

from enroll.offline.render import RenderError

REGION = "eu-west-1"
BUCKET = f"acme-logs-{MEMBER}-{REGION}"
CENTRAL = f"acme-org-logs-{LOG_ARCHIVE}-us-east-1"
NAME = f"source-{REGION}"


def source(region: str = REGION, **overrides):
    return render_config(stack_config("source", aws_region=region, **overrides), f"source-{region}")


@pytest.fixture(scope=shared("module"))
def member():
    return source()


def bucket_policy(rendered, name: str = NAME):
    return statements(
        policy_doc(rendered.one("aws:s3/bucketPolicy:BucketPolicy", f"{name}-logs-policy"))
    )


# ---- local log bucket ------------------------------------------------------------------------


def test_local_bucket_is_named_by_convention_in_the_stack_region(member):
    bucket = member.one("aws:s3/bucket:Bucket")
    assert (bucket.inputs["bucket"], bucket.inputs["region"]) == (BUCKET, REGION)


def test_local_bucket_is_versioned_for_replication(member):
    versioning = member.one("aws:s3/bucketVersioning:BucketVersioning")
    assert versioning.inputs["versioningConfiguration"] == {"status": "Enabled"}


def test_local_bucket_uses_sse_s3_because_elb_logs_require_it(member):
    encryption = member.one(
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
    )
    (rule,) = encryption.inputs["rules"]
    assert rule["applyServerSideEncryptionByDefault"] == {"sseAlgorithm": "AES256"}


def test_local_bucket_blocks_public_access_and_insecure_transport(member):
    block = member.one("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")
    assert all(
        block.inputs[f] is True
        for f in (
            "blockPublicAcls",
            "blockPublicPolicy",
            "ignorePublicAcls",
            "restrictPublicBuckets",
        )
    )
    deny = bucket_policy(member)["DenyInsecureTransport"]
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_local_copies_expire_after_local_retention(member):
    lifecycle = member.one("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration")
    rule = next(r for r in lifecycle.inputs["rules"] if r["id"] == "archive-then-expire")
    assert rule["expiration"] == {"days": 30}
    assert rule["transitions"] == []
    shorter = source(localRetentionDays=7)
    rule = next(
        r
        for r in shorter.one(
            "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
        ).inputs["rules"]
        if r["id"] == "archive-then-expire"
    )
    assert rule["expiration"] == {"days": 7}


def test_vended_logs_write_only_the_accounts_prefix_from_this_account(member):
    policy = bucket_policy(member)
    write = policy["AllowLogDeliveryWrite"]
    assert write["Principal"] == {"Service": "delivery.logs.amazonaws.com"}
    assert write["Resource"] == f"arn:aws:s3:::{BUCKET}/AWSLogs/{MEMBER}/*"
    assert write["Condition"]["StringEquals"]["aws:SourceAccount"] == MEMBER
    assert write["Condition"]["ArnLike"] == {"aws:SourceArn": f"arn:aws:logs:{REGION}:{MEMBER}:*"}
    check = policy["AllowLogDeliveryAclCheck"]
    assert check["Condition"]["StringEquals"] == {"aws:SourceAccount": MEMBER}


def test_elb_writes_through_the_regional_elb_account_in_older_regions(member):
    elb = bucket_policy(member)["AllowLoadBalancerLogDelivery"]
    assert elb["Principal"] == {"AWS": "arn:aws:iam::156460612806:root"}  # eu-west-1
    assert elb["Resource"] == f"arn:aws:s3:::{BUCKET}/AWSLogs/{MEMBER}/*"


def test_elb_writes_through_the_service_principal_in_newer_regions():
    rendered = source("eu-central-2", regions=["us-east-1", "eu-central-2"])
    elb = bucket_policy(rendered, "source-eu-central-2")["AllowLoadBalancerLogDelivery"]
    assert elb["Principal"] == {"Service": "logdelivery.elasticloadbalancing.amazonaws.com"}
    assert elb["Condition"] == {"StringEquals": {"aws:SourceAccount": MEMBER}}
    assert elb["Resource"] == f"arn:aws:s3:::acme-logs-{MEMBER}-eu-central-2/AWSLogs/{MEMBER}/*"


def test_cloudfront_writes_only_under_its_prefix(member):
    cloudfront = bucket_policy(member)["AllowCloudFrontLogDelivery"]
    assert cloudfront["Resource"] == f"arn:aws:s3:::{BUCKET}/AWSLogs/{MEMBER}/CloudFront/*"
    assert cloudfront["Condition"]["StringEquals"] == {"aws:SourceAccount": MEMBER}
    assert (
        member.outputs["deliveryConventions"]["cloudFront"]["s3Prefix"]
        == f"AWSLogs/{MEMBER}/CloudFront/"
    )


def test_no_delivery_service_may_write_outside_the_accounts_prefix(member):
    for statement in bucket_policy(member).values():
        if statement["Effect"] == "Allow" and "s3:PutObject" in as_list(statement["Action"]):
            assert all(
                r.startswith(f"arn:aws:s3:::{BUCKET}/AWSLogs/{MEMBER}/")
                for r in as_list(statement["Resource"])
            )


def test_acls_stay_off_unless_legacy_cloudfront_logging_is_opted_in(member):
    ownership = member.one("aws:s3/bucketOwnershipControls:BucketOwnershipControls")
    assert ownership.inputs["rule"] == {"objectOwnership": "BucketOwnerEnforced"}
    assert member.of_type("aws:s3/bucketAcl:BucketAcl") == []
    legacy = source(cloudFrontLegacyLogging=True)
    ownership = legacy.one("aws:s3/bucketOwnershipControls:BucketOwnershipControls")
    assert ownership.inputs["rule"] == {"objectOwnership": "BucketOwnerPreferred"}
    grants = legacy.one("aws:s3/bucketAcl:BucketAcl").inputs["accessControlPolicy"]["grants"]
    grantees = {g["grantee"]["id"]: g["permission"] for g in grants}
    assert (
        grantees["c4c1ede66af53448b93c283ce9448c4ba468c9432aa01d700d3878632f77d2d0"]
        == "FULL_CONTROL"
    )
    # ACLs on, but still no public ACL can take effect.
    block = legacy.one("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")
    assert block.inputs["ignorePublicAcls"] is True and block.inputs["blockPublicAcls"] is True


def test_legacy_cloudfront_logging_is_refused_outside_the_aws_partition():
    with pytest.raises(
        RenderError,
        match="org-logging:cloudFrontLegacyLogging true is only available in partition aws",
    ):
        render_config(
            stack_config(
                "source", "aws-us-gov", aws_region="us-gov-east-1", cloudFrontLegacyLogging=True
            )
        )


def test_local_bucket_cannot_be_tampered_with_but_by_the_admin_role(member):
    policy = bucket_policy(member)
    admin = f"arn:aws:iam::{MEMBER}:role/{ADMIN_ROLE}"
    assert policy["DenyBucketTamperingExceptAdmin"]["Condition"] == {
        "ArnNotLike": {"aws:PrincipalArn": admin}
    }
    assert "s3:PutReplicationConfiguration" in policy["DenyBucketTamperingExceptAdmin"]["Action"]


# ---- replication -----------------------------------------------------------------------------


def replication(rendered):
    config = rendered.one("aws:s3/bucketReplicationConfig:BucketReplicationConfig")
    (rule,) = config.inputs["rules"]
    return config, rule


def test_replication_uses_the_v2_schema_over_the_whole_account_prefix(member):
    _, rule = replication(member)
    assert rule["filter"] == {"prefix": f"AWSLogs/{MEMBER}/"}
    assert "prefix" not in rule  # the V1 rule field
    assert rule["status"] == "Enabled"


def test_delete_markers_are_not_replicated(member):
    _, rule = replication(member)
    assert rule["deleteMarkerReplication"] == {"status": "Disabled"}


def test_replicas_go_to_the_central_bucket_and_account_owned_by_the_destination(member):
    _, rule = replication(member)
    destination = rule["destination"]
    assert destination["bucket"] == f"arn:aws:s3:::{CENTRAL}"
    assert destination["account"] == LOG_ARCHIVE
    assert destination["accessControlTranslation"] == {"owner": "Destination"}
    # S3 ignores a replica key for SSE-S3 sources: a key here would only mislead.
    assert "encryptionConfiguration" not in destination
    assert "sourceSelectionCriteria" not in rule


def test_replication_time_control_is_optional(member):
    _, rule = replication(member)
    assert "replicationTime" not in rule["destination"]
    _, rule = replication(source(replicationTimeControl=True))
    assert rule["destination"]["replicationTime"] == {"status": "Enabled", "time": {"minutes": 15}}
    assert rule["destination"]["metrics"]["status"] == "Enabled"


def test_replication_waits_for_versioning(member):
    config, _ = replication(member)
    versioning = member.one("aws:s3/bucketVersioning:BucketVersioning")
    assert versioning.urn in config.dependencies


def test_replication_role_is_trusted_by_s3_for_this_account_and_bucket(member):
    role = member.one("aws:iam/role:Role", f"{NAME}-replication-role")
    (trust,) = policy_doc(role, "assumeRolePolicy")["Statement"]
    assert trust["Principal"] == {"Service": "s3.amazonaws.com"}
    assert trust["Condition"] == {
        "StringEquals": {"aws:SourceAccount": MEMBER},
        "ArnLike": {"aws:SourceArn": f"arn:aws:s3:::{BUCKET}"},
    }
    assert role.inputs["name"] == f"acme-logging-replication-{REGION}"


def test_replication_role_has_only_what_replication_needs(member):
    policy = statements(
        policy_doc(member.one("aws:iam/rolePolicy:RolePolicy", f"{NAME}-replication"))
    )
    actions = {a for s in policy.values() for a in as_list(s["Action"])}
    assert actions == {
        "s3:GetReplicationConfiguration",
        "s3:ListBucket",
        "s3:GetObjectVersionForReplication",
        "s3:GetObjectVersionAcl",
        "s3:GetObjectVersionTagging",
        "s3:ReplicateObject",
        "s3:ReplicateTags",
        "s3:ObjectOwnerOverrideToBucketOwner",
        "s3:GetBucketVersioning",
    }
    # Nothing may land outside the account's own prefix of the archive, and nothing is deleted.
    assert (
        policy["ReplicateIntoOwnPrefix"]["Resource"] == f"arn:aws:s3:::{CENTRAL}/AWSLogs/{MEMBER}/*"
    )
    assert "s3:ReplicateDelete" not in actions


def test_same_account_replication_in_the_log_archive_has_no_owner_override():
    rendered = source(accountId=LOG_ARCHIVE)
    _, rule = replication(rendered)
    assert "accessControlTranslation" not in rule["destination"]
    assert "account" not in rule["destination"]


# ---- CloudWatch Logs -------------------------------------------------------------------------


def account_policy(rendered):
    return rendered.one("aws:cloudwatch/logAccountPolicy:LogAccountPolicy").inputs


def test_account_level_subscription_targets_the_regions_destination(member):
    policy = account_policy(member)
    assert (policy["policyType"], policy["scope"], policy["region"]) == (
        "SUBSCRIPTION_FILTER_POLICY",
        "ALL",
        REGION,
    )
    document = json.loads(policy["policyDocument"])
    assert (
        document["DestinationArn"]
        == f"arn:aws:logs:{REGION}:{LOG_ARCHIVE}:destination:acme-org-logs"
    )
    assert (
        document["RoleArn"] == f"arn:aws:iam::{MEMBER}:role/acme-logging-cwl-subscription-{REGION}"
    )
    assert document["FilterPattern"] == ""


def test_subscription_role_is_assumable_by_cloudwatch_logs_of_this_account(member):
    role = member.one("aws:iam/role:Role", f"{NAME}-subscription-role")
    (trust,) = policy_doc(role, "assumeRolePolicy")["Statement"]
    assert trust["Principal"] == {"Service": "logs.amazonaws.com"}
    assert trust["Condition"]["StringEquals"] == {"aws:SourceAccount": MEMBER}


def test_exclusions_become_a_not_in_selection(member):
    assert "selectionCriteria" not in account_policy(member)
    rendered = source(logGroupExclusions=["/aws/lambda/b", "/aws/lambda/a"])
    assert (
        account_policy(rendered)["selectionCriteria"]
        == 'LogGroupName NOT IN ["/aws/lambda/a", "/aws/lambda/b"]'
    )


def test_the_log_archive_account_never_subscribes_its_own_delivery_log_groups():
    rendered = source(accountId=LOG_ARCHIVE, logGroupExclusions=["/team/x"])
    assert account_policy(rendered)["selectionCriteria"] == (
        'LogGroupName NOT IN ["/aws/kinesisfirehose/acme-org-logs", "/team/x"]'
    )
    assert "/aws/kinesisfirehose/acme-org-logs" in rendered.outputs["excludedLogGroups"]


def test_too_many_exclusions_are_refused_before_deploying():
    names = [f"/aws/lambda/{'x' * 200}-{i}" for i in range(130)]
    with pytest.raises(
        RenderError,
        match=r"org-logging:logGroupExclusions '<130 names>' make a selection criteria of \d+ characters; CloudWatch Logs allows 25000",
    ):
        source(logGroupExclusions=names)


# ---- detection --------------------------------------------------------------------------------


API_CALL = "AWS API Call via CloudTrail"


def test_detection_rule_covers_replication_bucket_account_policy_and_alarm_changes(member):
    rule = member.one("aws:cloudwatch/eventRule:EventRule")
    assert rule.inputs["name"] == "acme-logging-detection"
    assert json.loads(rule.inputs["eventPattern"]) == {
        "$or": [
            {
                "source": ["aws.s3"],
                "detail-type": [API_CALL],
                "detail": {
                    "eventSource": ["s3.amazonaws.com"],
                    "eventName": ["PutBucketReplication", "DeleteBucketReplication"],
                },
            },
            {
                "source": ["aws.s3"],
                "detail-type": [API_CALL],
                "detail": {
                    "eventSource": ["s3.amazonaws.com"],
                    "eventName": [
                        "PutBucketPolicy",
                        "DeleteBucketPolicy",
                        "PutBucketLifecycle",
                        "DeleteBucketLifecycle",
                        "PutBucketVersioning",
                        "PutBucketEncryption",
                        "DeleteBucketEncryption",
                        "PutObjectLockConfiguration",
                        "PutBucketOwnershipControls",
                        "PutBucketPublicAccessBlock",
                        "DeleteBucketPublicAccessBlock",
                    ],
                    "requestParameters": {"bucketName": [BUCKET]},
                },
            },
            {
                "source": ["aws.logs"],
                "detail-type": [API_CALL],
                "detail": {
                    "eventSource": ["logs.amazonaws.com"],
                    "eventName": ["PutAccountPolicy", "DeleteAccountPolicy"],
                },
            },
            # This stack's own alarms by name: the log archive forwards its own, never twice.
            {
                "source": ["aws.cloudwatch"],
                "detail-type": ["CloudWatch Alarm State Change"],
                "detail": {
                    "alarmName": [
                        "acme-logging-cwl-delivery-errors",
                        "acme-logging-cwl-delivery-throttling",
                        "acme-logging-replication-failed",
                        "acme-logging-replication-latency",
                    ]
                },
            },
        ]
    }


def test_detection_forwards_to_the_central_bus_with_a_role(member):
    target = member.one("aws:cloudwatch/eventTarget:EventTarget").inputs
    assert (
        target["arn"] == f"arn:aws:events:us-east-1:{LOG_ARCHIVE}:event-bus/acme-org-logging-alerts"
    )
    assert target["roleArn"] == f"arn:aws:iam::{MEMBER}:role/acme-logging-alert-forwarder-{REGION}"
    role = member.one("aws:iam/role:Role", f"{NAME}-alert-forwarder-role")
    (trust,) = policy_doc(role, "assumeRolePolicy")["Statement"]
    assert trust["Condition"]["ArnEquals"] == {
        "aws:SourceArn": f"arn:aws:events:{REGION}:{MEMBER}:rule/acme-logging-detection"
    }
    (forward,) = policy_doc(member.one("aws:iam/rolePolicy:RolePolicy", f"{NAME}-alert-forwarder"))[
        "Statement"
    ]
    assert (forward["Action"], forward["Resource"]) == ("events:PutEvents", target["arn"])


# ---- outputs, regions, errors ----------------------------------------------------------------


def test_outputs_tell_teams_where_to_point_their_services(member):
    assert member.outputs["logBucketName"] == BUCKET
    assert member.outputs["logBucketArn"] == f"arn:aws:s3:::{BUCKET}"
    assert (
        member.outputs["destinationArn"]
        == f"arn:aws:logs:{REGION}:{LOG_ARCHIVE}:destination:acme-org-logs"
    )
    conventions = member.outputs["deliveryConventions"]
    assert conventions["vpcFlowLogs"]["objectsUnder"] == f"AWSLogs/{MEMBER}/vpcflowlogs/"
    assert conventions["apiGatewayAccessLogs"] == {"logGroupPrefix": "/aws/apigateway/"}


@pytest.mark.parametrize("region", ["us-east-1", "eu-west-1", "ap-southeast-2"])
def test_every_enrolled_region_renders(region):
    rendered = source(region)
    assert rendered.one("aws:s3/bucket:Bucket").inputs["bucket"] == f"acme-logs-{MEMBER}-{region}"


def test_a_govcloud_source_stack_uses_govcloud_principals():
    rendered = render_config(
        stack_config("source", "aws-us-gov", aws_region="us-gov-east-1"), "source-gov"
    )
    elb = bucket_policy(rendered, "source-us-gov-east-1")["AllowLoadBalancerLogDelivery"]
    assert elb["Principal"] == {"AWS": "arn:aws-us-gov:iam::190560391635:root"}


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"accountId": "3333"}, "org-logging:accountId '3333' must match ^[0-9]{12}$"),
        (
            {"aws_region": "eu-west-9"},
            "aws:region 'eu-west-9' must be an AWS region of partition aws, aws-us-gov or aws-cn",
        ),
        ({"aws_region": "eu-central-1"}, "aws:region 'eu-central-1' must be one of regions"),
    ],
)
def test_bad_account_or_region_fails_clearly_before_any_resource(overrides, message):
    with pytest.raises(RenderError) as caught:
        render_config(stack_config("source", **overrides), "source-bad")
    assert message in str(caught.value)
    assert [r for r in caught.value.resources if r.custom] == []


def test_destroy_keeps_the_local_logs(member):
    kept = {r.type.split(":")[-1] for r in member.resources if r.retain_on_delete}
    assert {"Bucket", "BucketVersioning", "BucketPolicy", "BucketPublicAccessBlock"} <= kept
    replication = member.one("aws:s3/bucketReplicationConfig:BucketReplicationConfig")
    assert not replication.retain_on_delete  # un-enrolling stops the replication
