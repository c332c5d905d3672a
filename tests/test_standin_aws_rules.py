"""The stand-in `aws` provider (tests/e2e/provider): what it checks, as AWS would, where moto
does not.

Each provider is started exactly as the engine starts it against a moto server (tests/standin.py).
The organization's data sources and the SCPs AWS refuses (malformed, oversized); a bucket
policy's Deny on the provider's own calls; trusted access for an organization trail; ACLs on
BucketOwnerEnforced buckets; opt-in regions; another account's key policy.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import ExitStack, suppress
from typing import Any

import pytest
from standin import (
    ADMIN_ROLE,
    BUCKET_ACL,
    BUCKET_POLICY,
    EVENT_RULE,
    GET_KEY,
    GET_ORGANIZATION,
    KMS_ALIAS,
    KMS_KEY,
    LIFECYCLE,
    OWNERSHIP,
    S3_BUCKET,
    SCP,
    SCP_ATTACHMENT,
    TRAIL,
    as_role,
    client,
    role_credentials,
    rpc_error,
    starter,
)

from enroll.demo.emulator import OPT_IN_REGION, Emulator, SampleOrg, fake_credentials, sample_org

CLOUDTRAIL = "cloudtrail.amazonaws.com"


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    with fake_credentials(), Emulator() as emu:
        yield emu


@pytest.fixture
def start(emulator: Emulator) -> Iterator[Any]:
    """start(**config) -> a configured Provider; every process stops when the test ends."""
    with ExitStack() as stack:
        yield starter(stack, emulator)


@pytest.fixture(scope="module")
def organization() -> Iterator[tuple[Emulator, SampleOrg]]:
    """A fresh emulator holding the sample organization (its "analytics" account has not
    enabled the opt-in region eu-central-2)."""
    with fake_credentials(), Emulator() as emu:
        yield emu, sample_org(emu)


@pytest.fixture
def start_in_org(organization: tuple[Emulator, SampleOrg]) -> Iterator[Any]:
    """start(**config) against the sample organization's emulator."""
    with ExitStack() as stack:
        yield starter(stack, organization[0])


# --------------------------------------------------------------------------------------------
# The organization: data sources and SCPs
# --------------------------------------------------------------------------------------------


def test_get_organization_returns_the_emulators_organization(start, emulator):
    org = client(emulator, "organizations")
    try:
        described = org.create_organization(FeatureSet="ALL")["Organization"]
    except org.exceptions.AlreadyInOrganizationException:
        described = org.describe_organization()["Organization"]
    root = org.list_roots()["Roots"][0]
    if not root.get("PolicyTypes"):
        org.enable_policy_type(RootId=root["Id"], PolicyType="SERVICE_CONTROL_POLICY")

    provider = start(region="us-east-1")
    result = provider.invoke("aws:organizations/getOrganization:getOrganization")
    assert result["id"] == described["Id"]
    assert result["masterAccountId"] == described["MasterAccountId"] == "123456789012"
    assert result["roots"][0]["id"] == root["Id"]
    assert {"type": "SERVICE_CONTROL_POLICY", "status": "ENABLED"} in result["roots"][0][
        "policyTypes"
    ]
    identity = provider.invoke("aws:index/getCallerIdentity:getCallerIdentity")
    assert identity["accountId"] == "123456789012"

    # An SCP goes to moto: attached to the root, it is what getPoliciesForTarget lists.
    scp = {
        "name": "deny-leave",
        "type": "SERVICE_CONTROL_POLICY",
        "content": json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Deny", "Action": "organizations:LeaveOrganization", "Resource": "*"}
                ],
            }
        ),
    }
    policy_id, policy = provider.create(SCP, "deny-leave", scp)
    assert policy_id.startswith("p-") and policy["arn"].endswith(policy_id)
    attachment_id, _ = provider.create(
        SCP_ATTACHMENT, "deny-leave-root", {"policyId": policy_id, "targetId": root["Id"]}
    )
    assert attachment_id == f"{root['Id']}:{policy_id}"
    listed = provider.invoke(
        "aws:organizations/getPoliciesForTarget:getPoliciesForTarget",
        targetId=root["Id"],
        filter="SERVICE_CONTROL_POLICY",
    )
    assert policy_id in listed["ids"]
    fetched = provider.invoke("aws:organizations/getPolicy:getPolicy", policyId=policy_id)
    assert fetched["name"] == "deny-leave"

    # What moto does not check, the stand-in does as AWS would.
    broken = rpc_error(lambda: provider.create(SCP, "broken", {**scp, "name": "b", "content": "{"}))
    assert "MalformedPolicyDocumentException" in broken
    oversized = {**scp, "name": "big", "content": json.dumps({"Statement": [], "Pad": "x" * 5200})}
    assert "POLICY_CONTENT_LIMIT_EXCEEDED" in rpc_error(
        lambda: provider.create(SCP, "big", oversized)
    )


# --------------------------------------------------------------------------------------------
# What AWS refuses and moto lets through
# --------------------------------------------------------------------------------------------


def test_a_bucket_policy_deny_binds_the_providers_own_calls_but_not_the_owners_root(
    start, emulator
):
    account = "123456789012"
    admin_arn = f"arn:aws:iam::{account}:role/{ADMIN_ROLE}"
    bucket_arn = "arn:aws:s3:::sealed-logs"
    admin = start(region="us-east-1", assumeRoles=as_role(account))
    deployer = start(region="us-east-1", assumeRoles=as_role(account, "Deployer"))
    root = start(region="us-east-1")  # the account's own credentials
    bucket, _ = admin.create(S3_BUCKET, "sealed", {"bucket": "sealed-logs"})
    only_the_admin = {
        "Sid": "OnlyTheAdminConfigures",
        "Effect": "Deny",
        "Principal": {"AWS": "*"},
        "Action": [
            "s3:PutLifecycleConfiguration",
            "s3:PutBucketPolicy",
            "s3:DeleteBucketPolicy",
        ],
        "Resource": bucket_arn,
        "Condition": {"ArnNotLike": {"aws:PrincipalArn": admin_arn}},
    }
    tls_only = {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [bucket_arn, f"{bucket_arn}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }
    sealed = json.dumps({"Version": "2012-10-17", "Statement": [only_the_admin, tls_only]})
    admin.create(BUCKET_POLICY, "sealed-policy", {"bucket": bucket, "policy": sealed})
    lifecycle = {
        "bucket": bucket,
        "rules": [
            {
                "id": "expire",
                "status": "Enabled",
                "filter": {"prefix": ""},
                "expiration": {"days": 30},
            }
        ],
    }
    s3 = client(emulator, "s3")

    def denied(who: str, action: str, token: str, name: str, operation: str) -> str:
        return (
            f"creating {token} ({name}): operation error {operation}, api error AccessDenied: "
            f"User: {who} is not authorized to perform: {action} on resource: "
            f'"{bucket_arn}" with an explicit deny in a resource-based policy'
        )

    deployer_arn = f"arn:aws:sts::{account}:assumed-role/Deployer/org-logging"
    assert rpc_error(lambda: deployer.create(LIFECYCLE, "lifecycle", lifecycle)) == denied(
        deployer_arn,
        "s3:PutLifecycleConfiguration",
        LIFECYCLE,
        "lifecycle",
        "PutBucketLifecycleConfiguration",
    )
    with pytest.raises(s3.exceptions.ClientError) as none_yet:
        s3.get_bucket_lifecycle_configuration(Bucket=bucket)
    assert none_yet.value.response["Error"]["Code"] == "NoSuchLifecycleConfiguration"
    root_arn = f"arn:aws:iam::{account}:root"
    assert rpc_error(lambda: root.create(LIFECYCLE, "lifecycle", lifecycle)) == denied(
        root_arn,
        "s3:PutLifecycleConfiguration",
        LIFECYCLE,
        "lifecycle",
        "PutBucketLifecycleConfiguration",
    )

    admin.create(LIFECYCLE, "lifecycle", lifecycle)  # the role the policy exempts
    rules = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    assert [(r["ID"], r["Expiration"]) for r in rules] == [("expire", {"Days": 30})]

    relaxed = json.dumps({"Version": "2012-10-17", "Statement": [tls_only]})
    replace = {"bucket": bucket, "policy": relaxed}
    assert rpc_error(lambda: deployer.create(BUCKET_POLICY, "relaxed", replace)) == denied(
        deployer_arn, "s3:PutBucketPolicy", BUCKET_POLICY, "relaxed", "PutBucketPolicy"
    )
    assert json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"]) == json.loads(sealed)
    # The owner account's root may always replace the policy, whatever it denies.
    root.create(BUCKET_POLICY, "relaxed", replace)
    assert json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"]) == json.loads(relaxed)
    deployer.create(LIFECYCLE, "lifecycle", lifecycle)  # no longer denied


def test_an_organization_trail_needs_trusted_access_which_get_organization_reports(start, emulator):
    org = client(emulator, "organizations")
    with suppress(org.exceptions.AlreadyInOrganizationException):
        org.create_organization(FeatureSet="ALL")
    enabled = {
        s["ServicePrincipal"]
        for s in org.list_aws_service_access_for_organization()["EnabledServicePrincipals"]
    }
    if CLOUDTRAIL in enabled:
        org.disable_aws_service_access(ServicePrincipal=CLOUDTRAIL)
    org.enable_aws_service_access(ServicePrincipal="config.amazonaws.com")
    client(emulator, "s3").create_bucket(Bucket="org-trail-logs")
    provider = start(region="us-east-1")
    trail = {
        "name": "org-trail",
        "s3BucketName": "org-trail-logs",
        "isOrganizationTrail": True,
        "isMultiRegionTrail": True,
    }
    assert provider.invoke(GET_ORGANIZATION)["awsServiceAccessPrincipals"] == [
        "config.amazonaws.com"
    ]
    assert rpc_error(lambda: provider.create(TRAIL, "org-trail", trail)) == (
        f"creating {TRAIL} (org-trail): operation error CreateTrail, api error "
        "CloudTrailAccessNotEnabledException: This exception is thrown when trusted access has "
        "not been enabled between CloudTrail and Organizations. For more information, see "
        "Enabling Trusted Access with Other AWS Services and Prepare For Creating a Trail For "
        "Your Organization."
    )
    assert client(emulator, "cloudtrail").describe_trails()["trailList"] == []

    org.enable_aws_service_access(ServicePrincipal=CLOUDTRAIL)
    assert sorted(provider.invoke(GET_ORGANIZATION)["awsServiceAccessPrincipals"]) == [
        CLOUDTRAIL,
        "config.amazonaws.com",
    ]
    trail_id, _ = provider.create(TRAIL, "org-trail", trail)
    created = client(emulator, "cloudtrail").describe_trails()["trailList"]
    assert [(t["TrailARN"], t["IsOrganizationTrail"]) for t in created] == [(trail_id, True)]
    # A trail of this account only needs no trusted access.
    org.disable_aws_service_access(ServicePrincipal=CLOUDTRAIL)
    provider.create(
        TRAIL, "account-trail", {**trail, "name": "account-trail", "isOrganizationTrail": False}
    )


def test_an_acl_fails_unless_the_buckets_object_ownership_allows_acls(start, emulator):
    provider = start(region="us-east-1")
    bucket, _ = provider.create(S3_BUCKET, "acl-logs", {"bucket": "acl-logs"})
    acl = {"bucket": bucket, "acl": "log-delivery-write"}
    refused = (
        f"creating {BUCKET_ACL} (acl): operation error PutBucketAcl, api error "
        "AccessControlListNotSupported: The bucket does not allow ACLs"
    )
    assert rpc_error(lambda: provider.create(BUCKET_ACL, "acl", acl)) == refused  # the default

    def ownership(name: str, setting: str) -> None:
        provider.create(OWNERSHIP, name, {"bucket": bucket, "rule": {"objectOwnership": setting}})

    ownership("enforced", "BucketOwnerEnforced")
    assert rpc_error(lambda: provider.create(BUCKET_ACL, "acl", acl)) == refused
    ownership("preferred", "BucketOwnerPreferred")
    acl_id, _ = provider.create(BUCKET_ACL, "acl", acl)
    assert acl_id == f"{bucket},log-delivery-write"
    grants = client(emulator, "s3").get_bucket_acl(Bucket=bucket)["Grants"]
    log_delivery = "http://acs.amazonaws.com/groups/s3/LogDelivery"
    assert log_delivery in [g["Grantee"].get("URI") for g in grants]


def test_a_region_the_account_has_not_enabled_fails_configure_and_resources(
    start_in_org, organization
):
    emu, org = organization
    analytics, audit = org.accounts["analytics"], org.accounts["audit"]
    assert org.region_not_enabled == {analytics: OPT_IN_REGION}
    not_enabled = (
        "UnrecognizedClientException: The security token included in the request is invalid. "
        f"(region {OPT_IN_REGION} is not enabled in account {analytics})"
    )
    provider = start_in_org()
    assert rpc_error(
        lambda: provider.configure(region=OPT_IN_REGION, assumeRoles=as_role(analytics))
    ) == (
        "retrieving caller identity from STS: operation error STS: GetCallerIdentity, "
        f"api error {not_enabled}"
    )
    zurich = start_in_org(region=OPT_IN_REGION, assumeRoles=as_role(audit))
    _, bucket = zurich.create(S3_BUCKET, "zurich", {"bucket": f"zurich-{audit}"})
    assert bucket["region"] == OPT_IN_REGION

    # A resource that names the region, from a provider in a region the account has.
    home = start_in_org(region="us-east-1", assumeRoles=as_role(analytics))
    elsewhere = {"bucket": f"zurich-{analytics}", "region": OPT_IN_REGION}
    assert rpc_error(lambda: home.create(S3_BUCKET, "zurich", elsewhere)) == (
        f"creating {S3_BUCKET} (zurich): operation error CreateBucket, api error {not_enabled}"
    )
    rule = {"name": "forward", "region": OPT_IN_REGION}  # kept in memory: refused the same
    assert rpc_error(lambda: home.create(EVENT_RULE, "forward", rule)) == (
        f"creating {EVENT_RULE} (forward): operation error CreateEventRule, api error {not_enabled}"
    )
    s3 = client(emu, "s3", region="us-east-1", **role_credentials(emu, analytics))
    assert f"zurich-{analytics}" not in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    home.create(S3_BUCKET, "virginia", {"bucket": f"virginia-{analytics}"})
    audit_home = start_in_org(region="us-east-1", assumeRoles=as_role(audit))
    audit_home.create(EVENT_RULE, "forward", rule)


def test_get_key_describes_another_accounts_key_only_when_its_key_policy_allows(start, emulator):
    owner, reader_account = "444444444444", "123456789012"
    owner_root = {"AWS": f"arn:aws:iam::{owner}:root"}
    own_only = {
        "Sid": "KeyAdministration",
        "Effect": "Allow",
        "Principal": owner_root,
        "Action": "kms:*",
        "Resource": "*",
    }
    key_owner = start(region="us-east-1", assumeRoles=as_role(owner))
    key_id, key = key_owner.create(
        KMS_KEY,
        "central",
        {"description": "central log key", "policy": json.dumps({"Statement": [own_only]})},
    )
    key_owner.create(
        KMS_ALIAS, "central-alias", {"name": "alias/central-logs", "targetKeyId": key_id}
    )
    alias_arn = f"arn:aws:kms:us-east-1:{owner}:alias/central-logs"
    reader = start(region="us-east-1")  # the management account's root
    reader_arn = f"arn:aws:iam::{reader_account}:root"

    def refused(reason: str) -> str:
        return (
            f"invoking {GET_KEY} (data source): operation error DescribeKey, api error "
            f"AccessDeniedException: User: {reader_arn} is not authorized to perform: "
            f"kms:DescribeKey on resource: {key['arn']} {reason}"
        )

    no_grant = "because no resource-based policy allows the kms:DescribeKey action"
    assert rpc_error(lambda: reader.invoke(GET_KEY, keyId=alias_arn)) == refused(no_grant)

    kms = client(emulator, "kms", **role_credentials(emulator, owner))
    describe = {
        "Sid": "ManagementDescribes",
        "Effect": "Allow",
        "Principal": {"AWS": reader_arn},
        "Action": "kms:DescribeKey",
        "Resource": "*",
    }
    kms.put_key_policy(
        KeyId=key_id, PolicyName="default", Policy=json.dumps({"Statement": [own_only, describe]})
    )
    described = reader.invoke(GET_KEY, keyId=alias_arn)
    created = described.pop("creationDate")
    assert described == {
        "id": key_id,
        "keyId": alias_arn,
        "region": "us-east-1",
        "grantTokens": [],
        "arn": f"arn:aws:kms:us-east-1:{owner}:key/{key_id}",
        "awsAccountId": owner,
        "description": "central log key",
        "enabled": True,
        "keyManager": "CUSTOMER",
        "keyState": "Enabled",
        "keyUsage": "ENCRYPT_DECRYPT",
        "keySpec": "SYMMETRIC_DEFAULT",
        "customerMasterKeySpec": "SYMMETRIC_DEFAULT",
        "origin": "AWS_KMS",
        "multiRegion": False,
    }
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", created)
    assert reader.invoke(GET_KEY, keyId=key["arn"])["id"] == key_id  # by key ARN too
    assert key_owner.invoke(GET_KEY, keyId="alias/central-logs")["arn"] == key["arn"]

    missing = f"arn:aws:kms:us-east-1:{owner}:alias/missing"
    assert rpc_error(lambda: reader.invoke(GET_KEY, keyId=missing)) == (
        f"invoking {GET_KEY} (data source): operation error DescribeKey, api error "
        f"NotFoundException: Alias {missing} is not found."
    )
    # A Deny wins over the grant. (It names the key: moto itself refuses DescribeKey to
    # everyone when any Deny with Resource "*" covers it, whatever its principal or condition.)
    only_admins = {
        "Sid": "OnlyAdminsDescribe",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "kms:DescribeKey",
        "Resource": key["arn"],
        "Condition": {"ArnNotLike": {"aws:PrincipalArn": f"arn:aws:iam::*:role/{ADMIN_ROLE}"}},
    }
    kms.put_key_policy(
        KeyId=key_id,
        PolicyName="default",
        Policy=json.dumps({"Statement": [own_only, describe, only_admins]}),
    )
    assert rpc_error(lambda: reader.invoke(GET_KEY, keyId=alias_arn)) == refused(
        "with an explicit deny in a resource-based policy"
    )
