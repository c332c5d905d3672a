"""Deployable on real AWS: one test (or more) per finding of the pre-deployment audit.

Each rule below is something AWS refuses, or a promise that did not hold, that our stand-ins
used to accept. The numbers are the audit's items; each test names the behaviour it proves.
"""

from __future__ import annotations

import json

import pytest
from conftest import (
    ADMIN_ROLE,
    LOG_ARCHIVE,
    MANAGEMENT,
    MEMBER,
    ORG_ID,
    policy_doc,
    render_config,
    stack_config,
    statements,
)

from components.documents.delivery import destination_policy_bytes, max_destination_policy_accounts
from components.settings import SettingsError, parse_settings
from enroll.demo.emulator import (
    OPT_IN_REGION,
    Emulator,
    fake_credentials,
    sample_org,
    sample_settings,
)
from enroll.offline.analyzer.wire import UNKNOWN
from enroll.offline.render import Rendered, RenderError, render
from enroll.org.discovery import AccountRegions, DiscoveryError, discover, organizations_client
from enroll.org.model import OrgFacts
from enroll.org.plan import build_plan
from enroll.org.settings import parse_org_settings
from enroll.run.automation import assume_role_config

CENTRAL = f"acme-org-logs-{LOG_ARCHIVE}-us-east-1"
ACCESS = f"acme-org-logs-access-{LOG_ARCHIVE}-us-east-1"
SOURCE_BUCKET = f"acme-logs-{MEMBER}-eu-west-1"
ARCHIVE_ADMIN = f"arn:aws:iam::{LOG_ARCHIVE}:role/{ADMIN_ROLE}"
MEMBER_ADMIN = f"arn:aws:iam::{MEMBER}:role/{ADMIN_ROLE}"
FIREHOSE_ROLE = f"arn:aws:iam::{LOG_ARCHIVE}:role/acme-logging-firehose"
READER_ROLE = f"arn:aws:iam::{LOG_ARCHIVE}:role/acme-logging-reader"
API_CALL = "AWS API Call via CloudTrail"


def archive(**overrides) -> Rendered:
    return render_config(stack_config("log-archive", **overrides), "log-archive")


def source(region: str = "eu-west-1", **overrides) -> Rendered:
    return render_config(stack_config("source", aws_region=region, **overrides), "source")


def management(org: OrgFacts | None = None, preview: bool = False, **overrides) -> Rendered:
    return render(stack_config("management", **overrides), stack="management", org=org,
                  preview=preview)  # fmt: skip


def bucket_of(resource) -> str | None:
    return resource.inputs.get("bucket")


# ---- 1. the management account locks itself out ---------------------------------------------


ALL_RENDERS = {
    "log-archive": lambda: archive(),
    "log-archive with a lock": lambda: archive(objectLock={"mode": "GOVERNANCE", "days": 30}),
    "source": lambda: source(),
    "source with legacy CloudFront": lambda: source(cloudFrontLegacyLogging=True),
    "source with RTC": lambda: source(replicationTimeControl=True),
}


@pytest.mark.parametrize("render_", ALL_RENDERS.values(), ids=ALL_RENDERS.keys())
def test_01_every_bucket_policy_is_applied_after_every_other_part_of_its_bucket(render_):
    """The policy denies configuration changes to all but adminRoleName: applied early, it
    refuses the deployment's own later calls."""
    rendered = render_()
    policies = rendered.of_type("aws:s3/bucketPolicy:BucketPolicy")
    assert policies
    for policy in policies:
        parts = [
            r
            for r in rendered.resources
            if r.type.startswith("aws:s3/bucket")
            and r.type not in ("aws:s3/bucket:Bucket", "aws:s3/bucketPolicy:BucketPolicy")
            and bucket_of(r) == bucket_of(policy)
        ]
        assert len(parts) >= 5, policy.name
        missing = sorted(part.name for part in parts if part.urn not in policy.dependencies)
        assert missing == [], f"{policy.name} does not wait for {missing}"


def test_01_source_stacks_of_the_management_account_run_as_the_admin_role():
    from enroll.org.model import PlannedStack

    config = stack_config("source", accountId=MANAGEMENT)
    stack = PlannedStack("s", "source", MANAGEMENT, "us-east-1", config)
    assert assume_role_config(stack, None) == [
        {
            "roleArn": f"arn:aws:iam::{MANAGEMENT}:role/{ADMIN_ROLE}",
            "sessionName": "org-logging-s",
        }
    ]


# ---- 2. an organization trail needs trusted access --------------------------------------------


def test_02_the_management_stack_stops_without_cloudtrail_trusted_access():
    org = OrgFacts(org_id=ORG_ID, management_account_id=MANAGEMENT, service_access_principals=())
    with pytest.raises(RenderError) as refused:
        management(org)
    assert str(refused.value) == (
        "trusted access for CloudTrail (cloudtrail.amazonaws.com) is not enabled in "
        f"organization {ORG_ID}, so the organization trail cannot be created; enable it with "
        "`aws organizations enable-aws-service-access --service-principal "
        "cloudtrail.amazonaws.com`"
    )
    # Before any AWS resource is registered.
    assert [r.type for r in refused.value.resources if r.custom] == []


def test_02_with_trusted_access_the_trail_is_created():
    org = OrgFacts(
        org_id=ORG_ID,
        management_account_id=MANAGEMENT,
        service_access_principals=("cloudtrail.amazonaws.com",),
    )
    assert management(org).one("aws:cloudtrail/trail:Trail")


# ---- 3. the legacy CloudFront ACL waits for the ownership change ------------------------------


def test_03_the_cloudfront_acl_depends_on_the_buckets_ownership_controls():
    rendered = source(cloudFrontLegacyLogging=True)
    acl = rendered.one("aws:s3/bucketAcl:BucketAcl")
    ownership = rendered.one("aws:s3/bucketOwnershipControls:BucketOwnershipControls")
    assert ownership.inputs["rule"] == {"objectOwnership": "BucketOwnerPreferred"}
    assert ownership.urn in acl.dependencies


# ---- 4. opt-in regions ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def emulated_org():
    with fake_credentials(), Emulator() as emulator:
        yield emulator, sample_org(emulator)


def plan_of(emulator, sample, regions, **settings_overrides):
    raw = {**sample_settings(sample, regions=regions), **settings_overrides}
    settings = parse_org_settings(raw, "org.yaml")
    client = organizations_client(emulator.endpoint_url, region="us-east-1")
    org = discover(client, tag_key=settings.exclude.opt_out_tag, regions=settings.regions)
    return settings, org, build_plan(settings, org)


def test_04_a_pair_whose_opt_in_region_is_off_is_left_out_with_its_reason(emulated_org):
    emulator, sample = emulated_org
    with fake_credentials():
        _, org, plan = plan_of(emulator, sample, ("us-east-1", OPT_IN_REGION))
    (off,) = sample.region_not_enabled
    assert org.enabled_regions is not None and OPT_IN_REGION not in org.enabled_regions[off]
    assert [e.to_json() for e in plan.excluded if e.account_id == off] == [
        {
            "accountId": off,
            "reason": f"opt-in region {OPT_IN_REGION} is not enabled in the account",
            "region": OPT_IN_REGION,
        }
    ]
    names = {s.name for s in plan.stacks}
    assert f"source-{off}-us-east-1" in names  # its other regions stay enrolled
    assert f"source-{off}-{OPT_IN_REGION}" not in names
    assert f"source-{sample.accounts['audit']}-{OPT_IN_REGION}" in names


def test_04_a_region_the_log_archive_has_not_enabled_stops_the_plan(emulated_org):
    emulator, sample = emulated_org
    with fake_credentials(), pytest.raises(DiscoveryError) as stopped:
        plan_of(
            emulator,
            sample,
            ("us-east-1", "ap-east-1"),  # opt-in, enabled nowhere in the sample
        )
    message = str(stopped.value)
    assert f"logArchiveAccountId {sample.log_archive_account_id} has not enabled" in message
    assert (
        f"`aws account enable-region --account-id {sample.log_archive_account_id} "
        "--region-name ap-east-1`" in message
    )


def test_04_no_account_is_asked_when_no_enrolled_region_is_opt_in(emulated_org):
    emulator, sample = emulated_org

    class Refusing(AccountRegions):
        def enabled(self, account_id: str) -> frozenset[str]:
            raise AssertionError("ListRegions called although every region is on by default")

    with fake_credentials():
        client = organizations_client(emulator.endpoint_url, region="us-east-1")
        org = discover(
            client,
            regions=("us-east-1", "eu-west-1"),
            account_regions=Refusing(None, sample.management_account_id),
        )
    assert org.enabled_regions is None
    assert org.region_enabled(sample.accounts["analytics"], OPT_IN_REGION) is True


def test_04_without_account_management_trusted_access_discovery_says_how_to_enable_it():
    with fake_credentials(), Emulator() as emulator:
        sample = sample_org(emulator)
        emulator.client("organizations").disable_aws_service_access(
            ServicePrincipal="account.amazonaws.com"
        )
        with pytest.raises(DiscoveryError) as stopped:
            plan_of(emulator, sample, ("us-east-1", OPT_IN_REGION))
    assert "refused ListRegions (AccessDeniedException)" in str(stopped.value)
    assert "--service-principal account.amazonaws.com" in str(stopped.value)


# ---- 5. aws-cn: destination policies name the member accounts --------------------------------


def test_05_china_destination_policies_name_the_member_accounts_not_the_org():
    rendered = archive_cn = render_config(stack_config("log-archive", "aws-cn"), "log-archive")
    for policy in archive_cn.of_type("aws:cloudwatch/logDestinationPolicy:LogDestinationPolicy"):
        region = policy.inputs["region"]
        assert policy_doc(policy, "accessPolicy") == {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "AllowMemberAccountSubscriptions",
                    "Effect": "Allow",
                    "Principal": {"AWS": sorted([MANAGEMENT, LOG_ARCHIVE, MEMBER])},
                    "Action": ["logs:PutSubscriptionFilter", "logs:PutAccountPolicy"],
                    "Resource": f"arn:aws-cn:logs:{region}:{LOG_ARCHIVE}:destination:acme-org-logs",
                }
            ],
        }
    assert rendered.of_type("aws:cloudwatch/logDestinationPolicy:LogDestinationPolicy")


def test_05_china_needs_the_member_list_and_refuses_one_past_the_policy_size():
    def problems(**overrides):
        values = {
            k.split(":", 1)[1]: v
            for k, v in stack_config("log-archive", "aws-cn", **overrides).items()
            if k.startswith("org-logging:")
        }
        with pytest.raises(SettingsError) as refused:
            parse_settings(values)
        return refused.value.problems

    assert problems(memberAccountIds=None) == [
        "org-logging:memberAccountIds is required in partition aws-cn: its CloudWatch Logs "
        "destination policies list the member accounts (the plan sets it)"
    ]
    most = max_destination_policy_accounts()
    accounts = [f"{i:012d}" for i in range(most + 1)]
    fits = {
        k.split(":", 1)[1]: v
        for k, v in stack_config("log-archive", "aws-cn", memberAccountIds=accounts[:most]).items()
        if k.startswith("org-logging:")
    }
    assert parse_settings(fits).member_account_ids == tuple(accounts[:most])
    (problem,) = problems(memberAccountIds=accounts)
    assert problem.startswith(f"org-logging:memberAccountIds '<{most + 1} accounts>' make a ")
    assert problem.endswith(f"CloudWatch Logs allows 5120 (about {most} accounts in aws-cn)")
    assert destination_policy_bytes(accounts[:most]) <= 5120
    assert destination_policy_bytes(accounts) > 5120


def test_05_elsewhere_the_destination_policy_stays_org_scoped():
    for policy in archive().of_type("aws:cloudwatch/logDestinationPolicy:LogDestinationPolicy"):
        (allow,) = policy_doc(policy, "accessPolicy")["Statement"]
        assert allow["Condition"] == {"StringEquals": {"aws:PrincipalOrgID": ORG_ID}}


# ---- 6. Firehose scales with the organization -------------------------------------------------


def test_06_each_region_has_its_own_stream_partitioned_by_account_only():
    rendered = archive()
    streams = rendered.of_type("aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream")
    by_region = {s.inputs["name"].removeprefix("acme-org-logs-"): s for s in streams}
    assert set(by_region) == {"us-east-1", "eu-west-1", "ap-southeast-2"}
    for region, stream in by_region.items():
        prefix = stream.inputs["extendedS3Configuration"]["prefix"]
        assert (
            prefix
            == f"CloudWatchLogs/!{{partitionKeyFromQuery:owner}}/{region}/!{{timestamp:yyyy/MM/dd}}/"
        )
    targets = {
        d.inputs["region"]: d.inputs["targetArn"]
        for d in rendered.of_type("aws:cloudwatch/logDestination:LogDestination")
    }
    assert targets == {
        region: f"arn:aws:firehose:us-east-1:{LOG_ARCHIVE}:deliverystream/acme-org-logs-{region}"
        for region in by_region
    }


def test_06_plan_warns_when_a_regions_accounts_exceed_the_partition_quota(emulated_org):
    emulator, sample = emulated_org
    with fake_credentials():
        _, _, plan = plan_of(emulator, sample, ("us-east-1",))
    accounts = sum(1 for s in plan.stacks if s.role == "source")
    with fake_credentials():
        # Both sides of the threshold: accounts + 1 (control messages) partitions are needed.
        _, _, at_quota = plan_of(
            emulator, sample, ("us-east-1",), firehosePartitionQuota=accounts + 1
        )
        _, _, over = plan_of(emulator, sample, ("us-east-1",), firehosePartitionQuota=accounts)
    assert at_quota.warnings == ()
    assert over.warnings == (
        f"region us-east-1: {accounts} accounts send CloudWatch Logs through one Firehose stream, "
        f"which needs {accounts + 1} active partitions; firehosePartitionQuota is {accounts}. "
        "Ask AWS to raise the stream's active-partition quota (at most 5,000) and set "
        "firehosePartitionQuota, or records past the quota land in "
        "FirehoseErrors/us-east-1/activePartitionExceeded/.",
    )


def test_06_the_plan_gives_the_log_archive_its_enrolled_accounts(emulated_org):
    emulator, sample = emulated_org
    with fake_credentials():
        _, _, plan = plan_of(emulator, sample, ("us-east-1",))
    members = plan.stacks[0].config["org-logging:memberAccountIds"]
    assert members == sorted({s.account_id for s in plan.stacks if s.role == "source"})


# ---- 7. replication failures are no longer silent ---------------------------------------------


def test_07_replication_metrics_are_always_on_and_rtc_stays_optional():
    (rule,) = source().one("aws:s3/bucketReplicationConfig:BucketReplicationConfig").inputs["rules"]
    assert rule["destination"]["metrics"] == {"status": "Enabled"}
    assert "replicationTime" not in rule["destination"]


def test_07_an_alarm_watches_failed_replication_in_the_source_region():
    alarm = source().one("aws:cloudwatch/metricAlarm:MetricAlarm").inputs
    assert {k: v for k, v in alarm.items() if k != "alarmDescription"} == {
        "name": "acme-logging-replication-failed",
        "namespace": "AWS/S3",
        "metricName": "OperationsFailedReplication",
        "dimensions": {
            "SourceBucket": SOURCE_BUCKET,
            "DestinationBucket": CENTRAL,
            "RuleId": "org-logs",
        },
        "statistic": "Sum",
        "period": 300,
        "evaluationPeriods": 1,
        "comparisonOperator": "GreaterThanThreshold",
        "threshold": 0,
        "treatMissingData": "notBreaching",
        "region": "eu-west-1",
    }
    assert "expire locally after 30 days" in alarm["alarmDescription"]


def test_07_alarm_state_changes_reach_the_central_topic():
    alarm_events = {
        "source": ["aws.cloudwatch"],
        "detail-type": ["CloudWatch Alarm State Change"],
        "detail": {"alarmName": [{"prefix": "acme-logging-"}]},
    }
    forwarded = json.loads(
        source().one("aws:cloudwatch/eventRule:EventRule").inputs["eventPattern"]
    )
    assert alarm_events in forwarded["$or"]
    central = archive().one("aws:cloudwatch/eventRule:EventRule", "log-archive-alert-rule")
    assert alarm_events in json.loads(central.inputs["eventPattern"])["$or"]


# ---- 8. an overwrite no longer erases a log ---------------------------------------------------


@pytest.mark.parametrize(
    "render_, lifecycle, days",
    [
        (archive, "log-archive-central-lifecycle", 365),
        (archive, "log-archive-access-logs-lifecycle", 365),
        (source, "source-eu-west-1-logs-lifecycle", 30),
    ],
)
def test_08_noncurrent_versions_are_kept_as_long_as_current_ones(render_, lifecycle, days):
    rendered = render_()
    rules = rendered.one(
        "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", lifecycle
    ).inputs["rules"]
    (expire,) = [r for r in rules if r["id"] == "archive-then-expire"]
    assert expire["noncurrentVersionExpiration"] == {"noncurrentDays": days}


def bucket_policy(rendered, name):
    return statements(policy_doc(rendered.one("aws:s3/bucketPolicy:BucketPolicy", name)))


def test_08_only_the_central_buckets_writers_may_put_objects():
    deny = bucket_policy(archive(), "log-archive-central-policy")["DenyObjectWritesExceptWriters"]
    assert deny == {
        "Sid": "DenyObjectWritesExceptWriters",
        "Effect": "Deny",
        "Principal": {"AWS": "*"},
        "Action": "s3:PutObject",
        "Resource": f"arn:aws:s3:::{CENTRAL}/*",
        # CloudTrail writes as a service principal; replication uses s3:ReplicateObject.
        "Condition": {
            "Bool": {"aws:PrincipalIsAWSService": "false"},
            "ArnNotLike": {"aws:PrincipalArn": [FIREHOSE_ROLE, ARCHIVE_ADMIN]},
        },
    }


def test_08_only_s3_access_logging_may_put_objects_into_the_access_log_bucket():
    deny = bucket_policy(archive(), "log-archive-access-logs-policy")[
        "DenyObjectWritesExceptWriters"
    ]
    assert deny == {
        "Sid": "DenyObjectWritesExceptWriters",
        "Effect": "Deny",
        "Principal": {"AWS": "*"},
        "Action": "s3:PutObject",
        "Resource": f"arn:aws:s3:::{ACCESS}/*",
        "Condition": {
            "Bool": {"aws:PrincipalIsAWSService": "false"},
            "ArnNotLike": {"aws:PrincipalArn": [ARCHIVE_ADMIN]},
        },
    }


def test_08_only_the_delivery_services_may_put_objects_into_a_source_bucket():
    deny = bucket_policy(source(), "source-eu-west-1-logs-policy")["DenyObjectWritesExceptWriters"]
    assert deny == {
        "Sid": "DenyObjectWritesExceptWriters",
        "Effect": "Deny",
        "Principal": {"AWS": "*"},
        "Action": "s3:PutObject",
        "Resource": f"arn:aws:s3:::{SOURCE_BUCKET}/*",
        # eu-west-1's ELB account writes as an account, not as a service principal.
        "Condition": {
            "Bool": {"aws:PrincipalIsAWSService": "false"},
            "ArnNotLike": {"aws:PrincipalArn": [MEMBER_ADMIN]},
            "StringNotEquals": {"aws:PrincipalAccount": ["156460612806"]},
        },
    }
    newer = bucket_policy(
        source("eu-central-2", regions=["us-east-1", "eu-central-2"]),
        "source-eu-central-2-logs-policy",
    )["DenyObjectWritesExceptWriters"]
    assert "StringNotEquals" not in newer["Condition"]  # a service principal there


def test_08_legacy_cloudfront_keeps_only_its_own_prefix_open():
    deny = bucket_policy(source(cloudFrontLegacyLogging=True), "source-eu-west-1-logs-policy")[
        "DenyObjectWritesExceptWriters"
    ]
    assert "Resource" not in deny
    assert deny["NotResource"] == [f"arn:aws:s3:::{SOURCE_BUCKET}/AWSLogs/{MEMBER}/CloudFront/*"]


def test_08_object_lock_stays_opt_in():
    assert (
        "objectLockEnabled"
        not in archive().one("aws:s3/bucket:Bucket", "log-archive-central").inputs
    )
    assert (
        archive().of_type("aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration")
        == []
    )


# ---- 9. replicas of SSE-S3 objects stay SSE-S3 ------------------------------------------------


def test_09_no_dead_replica_key_grant_and_no_replica_key():
    key = statements(policy_doc(archive().one("aws:kms/key:Key")))
    assert "AllowOrgReplicaEncryption" not in key
    (rule,) = source().one("aws:s3/bucketReplicationConfig:BucketReplicationConfig").inputs["rules"]
    assert "encryptionConfiguration" not in rule["destination"]
    role_policy = statements(
        policy_doc(source().one("aws:iam/rolePolicy:RolePolicy", "source-eu-west-1-replication"))
    )
    assert "EncryptReplicasWithCentralKey" not in role_policy


def test_09_only_the_admin_and_reader_roles_may_read_the_archive():
    deny = bucket_policy(archive(), "log-archive-central-policy")["DenyReadingLogsExceptReaders"]
    assert deny == {
        "Sid": "DenyReadingLogsExceptReaders",
        "Effect": "Deny",
        "Principal": {"AWS": "*"},
        "Action": ["s3:GetObject", "s3:GetObjectVersion"],
        "Resource": f"arn:aws:s3:::{CENTRAL}/*",
        "Condition": {"ArnNotLike": {"aws:PrincipalArn": [ARCHIVE_ADMIN, READER_ROLE]}},
    }


# ---- 10. the management account's trail is watched --------------------------------------------


def test_10_a_management_rule_forwards_trail_tampering_to_the_alert_bus():
    rendered = management()
    rule = rendered.one("aws:cloudwatch/eventRule:EventRule").inputs
    assert (rule["name"], rule["region"]) == ("acme-logging-trail-detection", "us-east-1")
    assert json.loads(rule["eventPattern"]) == {
        "source": ["aws.cloudtrail"],
        "detail-type": [API_CALL],
        "detail": {
            "eventSource": ["cloudtrail.amazonaws.com"],
            "eventName": [
                "StopLogging",
                "DeleteTrail",
                "UpdateTrail",
                "PutEventSelectors",
                "PutInsightSelectors",
            ],
        },
    }
    target = rendered.one("aws:cloudwatch/eventTarget:EventTarget").inputs
    assert (
        target["arn"] == f"arn:aws:events:us-east-1:{LOG_ARCHIVE}:event-bus/acme-org-logging-alerts"
    )
    assert target["roleArn"] == f"arn:aws:iam::{MANAGEMENT}:role/acme-logging-alert-forwarder-trail"
    role = rendered.one("aws:iam/role:Role")
    assert policy_doc(role, "assumeRolePolicy")["Statement"][0]["Condition"] == {
        "StringEquals": {"aws:SourceAccount": MANAGEMENT},
        "ArnEquals": {
            "aws:SourceArn": f"arn:aws:events:us-east-1:{MANAGEMENT}:rule/acme-logging-trail-detection"
        },
    }


# ---- 11. the destination role trusts this organization only -----------------------------------


def test_11_the_destination_role_requires_the_source_org():
    role = archive().one("aws:iam/role:Role", "log-archive-destination-role")
    (trust,) = policy_doc(role, "assumeRolePolicy")["Statement"]
    assert trust["Condition"]["StringEquals"] == {"aws:SourceOrgID": ORG_ID}


# ---- 12. the remaining tampering paths --------------------------------------------------------


def test_12_the_keys_alias_cannot_be_moved_or_deleted_but_by_the_admin_role():
    deny = statements(policy_doc(archive().one("aws:kms/key:Key")))["DenyKeyDestructionExceptAdmin"]
    assert deny == {
        "Sid": "DenyKeyDestructionExceptAdmin",
        "Effect": "Deny",
        "Principal": {"AWS": "*"},
        "Action": [
            "kms:ScheduleKeyDeletion",
            "kms:DisableKey",
            "kms:DisableKeyRotation",
            "kms:PutKeyPolicy",
            "kms:DeleteImportedKeyMaterial",
            "kms:UpdateAlias",
            "kms:DeleteAlias",
        ],
        "Resource": "*",
        "Condition": {"ArnNotLike": {"aws:PrincipalArn": ARCHIVE_ADMIN}},
    }


def test_12_changes_to_the_central_buckets_and_key_are_detected():
    rendered = archive()
    rule = rendered.one("aws:cloudwatch/eventRule:EventRule", "log-archive-archive-detection")
    alternatives = json.loads(rule.inputs["eventPattern"])["$or"]
    watched = {
        bucket
        for a in alternatives
        for bucket in a["detail"].get("requestParameters", {}).get("bucketName", [])
    }
    assert watched == {CENTRAL, ACCESS}
    assert all("PutBucketPolicy" in a["detail"]["eventName"] for a in alternatives[:2])
    assert {
        "source": ["aws.kms"],
        "detail-type": [API_CALL],
        "detail": {
            "eventSource": ["kms.amazonaws.com"],
            "eventName": [
                "PutKeyPolicy",
                "ScheduleKeyDeletion",
                "DisableKey",
                "DisableKeyRotation",
                "UpdateAlias",
                "DeleteAlias",
            ],
        },
    } in alternatives
    target = rendered.one(
        "aws:cloudwatch/eventTarget:EventTarget", "log-archive-archive-detection-target"
    )
    assert target.inputs["arn"] == f"arn:aws:sns:us-east-1:{LOG_ARCHIVE}:acme-org-logging-alerts"


def test_12_account_policy_changes_are_detected_in_every_source():
    pattern = json.loads(source().one("aws:cloudwatch/eventRule:EventRule").inputs["eventPattern"])
    assert {
        "source": ["aws.logs"],
        "detail-type": [API_CALL],
        "detail": {
            "eventSource": ["logs.amazonaws.com"],
            "eventName": ["PutAccountPolicy", "DeleteAccountPolicy"],
        },
    } in pattern["$or"]


def test_12_the_alert_bus_takes_events_only_from_our_forwarder_roles():
    (allow,) = policy_doc(archive().one("aws:cloudwatch/eventBusPolicy:EventBusPolicy"))[
        "Statement"
    ]
    assert allow["Condition"] == {
        "StringEquals": {"aws:PrincipalOrgID": ORG_ID},
        "ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/acme-logging-alert-forwarder-*"},
    }


# ---- 13. the SCP no longer denies every log destination org-wide ------------------------------


def scp(rendered) -> dict:
    policy = rendered.one("aws:organizations/policy:Policy", "management-scp-protect-logging")
    return statements(json.loads(policy.inputs["content"]))


def test_13_destination_actions_are_denied_on_our_destination_only():
    statement = scp(management())
    assert statement["ProtectLogDestinations"] == {
        "Sid": "ProtectLogDestinations",
        "Effect": "Deny",
        "Action": ["logs:DeleteDestination", "logs:PutDestination", "logs:PutDestinationPolicy"],
        "Resource": "arn:aws:logs:*:*:destination:acme-org-logs",
        "Condition": {"ArnNotLike": {"aws:PrincipalArn": f"arn:aws:iam::*:role/{ADMIN_ROLE}"}},
    }
    # PutAccountPolicy has no resource type: it stays "*", and docs/security.md says what that costs.
    assert statement["ProtectLogSubscriptions"]["Action"] == [
        "logs:PutAccountPolicy",
        "logs:DeleteAccountPolicy",
    ]
    assert statement["ProtectLogSubscriptions"]["Resource"] == "*"


# ---- 14. the trail names the key by ARN -------------------------------------------------------


def test_14_the_trail_gets_the_keys_arn_not_its_alias():
    trail = management().one("aws:cloudtrail/trail:Trail").inputs
    assert trail["kmsKeyId"].startswith(f"arn:aws:kms:us-east-1:{LOG_ARCHIVE}:key/")
    assert "alias/" not in trail["kmsKeyId"]


def test_14_before_the_key_exists_a_preview_shows_it_unknown_and_an_update_stops():
    org = OrgFacts(org_id=ORG_ID, management_account_id=MANAGEMENT, central_key_exists=False)
    trail = management(org, preview=True).one("aws:cloudtrail/trail:Trail")
    assert trail.inputs["kmsKeyId"] == UNKNOWN  # as any output of a resource yet to be created
    with pytest.raises(RenderError) as stopped:
        management(org)
    assert str(stopped.value).startswith(
        f"the central key arn:aws:kms:us-east-1:{LOG_ARCHIVE}:alias/acme-org-logs cannot be "
        "described ("
    )
    assert str(stopped.value).endswith("); deploy the log-archive stack first")


def test_14_the_management_account_may_describe_the_key():
    describe = statements(policy_doc(archive().one("aws:kms/key:Key")))[
        "AllowManagementAccountDescribeKey"
    ]
    assert describe == {
        "Sid": "AllowManagementAccountDescribeKey",
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{MANAGEMENT}:root"},
        "Action": "kms:DescribeKey",
        "Resource": "*",
    }


# ---- 15. adminRoleName has no path --------------------------------------------------------------


def test_15_an_admin_role_with_a_path_is_refused_with_the_reason():
    values = {
        k.split(":", 1)[1]: v
        for k, v in stack_config(
            "management", adminRoleName="aws-reserved/sso.amazonaws.com/AWSReservedSSO_Admin"
        ).items()
        if k.startswith("org-logging:")
    }
    with pytest.raises(SettingsError) as refused:
        parse_settings(values)
    assert refused.value.problems == [
        "org-logging:adminRoleName 'aws-reserved/sso.amazonaws.com/AWSReservedSSO_Admin' must be "
        "a role name without a path: the SCPs and the bucket and key policies exempt "
        "arn:<partition>:iam::<account>:role/<name>, which a role under a path (such as IAM "
        "Identity Center's aws-reserved/sso.amazonaws.com/) does not match, so it would be "
        "locked out"
    ]
