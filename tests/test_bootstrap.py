"""Bootstrap: the management stack creates adminRoleName in every member account with a
service-managed StackSet, and in the management account with a plain role; only the deployers
may assume it, and it may do what the member stacks need, no more (docs/security.md, "The
admin role")."""

from __future__ import annotations

import fnmatch
import json
from typing import Any

import pytest
from conftest import ADMIN_ROLE, MANAGEMENT, as_list, render_config, stack_config
from document_literals import ADMIN_ROLE_ACTIONS
from moto.iam.policy_validation import IAMPolicyDocumentValidator, IAMTrustPolicyDocumentValidator

from components.documents.bootstrap import size_problems
from components.documents.bootstrap_actions import INVOKE_ACTIONS, RESOURCE_ACTIONS
from components.settings import SettingsError, parse_settings
from enroll.offline.mocks import OfflineMocks
from enroll.offline.render import Registration, Rendered, RenderError, render

STACK_SET = "aws:cloudformation/stackSet:StackSet"
INSTANCE = "aws:cloudformation/stackSetInstance:StackSetInstance"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
CALLER_IDENTITY = "aws:index/getCallerIdentity:getCallerIdentity"
SESSION_CONTEXT = "aws:iam/getSessionContext:getSessionContext"
ROOT_ARN = f"arn:aws:iam::{MANAGEMENT}:root"  # the offline render's caller: the root user
OPERATION_PREFERENCES = {
    "failureTolerancePercentage": 10,
    "maxConcurrentPercentage": 100,
    "regionConcurrencyType": "PARALLEL",
}
# IAM and CloudFormation quotas, in IAM's characters (white space excluded) and bytes:
# https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html
# https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_CreateStackSet.html
TRUST_POLICY_MAX = 2048
ONE_POLICY_MAX = 6144
ROLE_INLINE_POLICIES_MAX = 10240
TEMPLATE_BODY_MAX = 51200


def trust(*deployers: str, partition: str = "aws") -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ManagementAccountDeployers",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:{partition}:iam::{MANAGEMENT}:root"},
                "Action": ["sts:AssumeRole", "sts:SetSourceIdentity"],
                "Condition": {"ArnEquals": {"aws:PrincipalArn": list(deployers)}},
            }
        ],
    }


def admin_role(rendered: Rendered) -> Registration:
    return rendered.one(ROLE, "management-admin-role")


def admin_policies(rendered: Rendered) -> list[Registration]:
    found = [p for p in rendered.of_type(ROLE_POLICY) if p.name.startswith("management-admin-")]
    return sorted(found, key=lambda p: p.name)


def template(rendered: Rendered) -> dict[str, Any]:
    return json.loads(rendered.one(STACK_SET).inputs["templateBody"])


def iam_chars(document: dict[str, Any]) -> int:
    """What IAM counts against its quotas: characters other than white space."""
    return sum(1 for c in json.dumps(document) if not c.isspace())


# ---- the StackSet, its instance, the management account's role ------------------------------


def test_the_stack_set_is_service_managed_auto_deployed_and_retained(management):
    stack_set = management.one(STACK_SET, "management-admin-role-stack-set")
    assert {k: v for k, v in stack_set.inputs.items() if k != "templateBody"} == {
        "name": "acme-logging-admin-role",
        "description": f"org-logging: {ADMIN_ROLE} in every member account",
        "permissionModel": "SERVICE_MANAGED",
        "callAs": "SELF",
        # Accounts that join get the role; an account that leaves keeps it.
        "autoDeployment": {"enabled": True, "retainStacksOnAccountRemoval": True},
        "capabilities": ["CAPABILITY_NAMED_IAM"],
        "managedExecution": {"active": True},
        "operationPreferences": OPERATION_PREFERENCES,
        "region": "us-east-1",
    }
    assert stack_set.parent.endswith("OrgGuardrails::management")
    assert stack_set.retain_on_delete is False
    assert management.outputs["adminRoleStackSetName"] == "acme-logging-admin-role"


def test_the_template_creates_the_same_role_as_the_management_accounts(management):
    body = template(management)
    role = admin_role(management)
    assert body["AWSTemplateFormatVersion"] == "2010-09-09"
    assert body["Outputs"] == {"AdminRoleArn": {"Value": {"Fn::GetAtt": ["AdminRole", "Arn"]}}}
    assert list(body["Resources"]) == ["AdminRole"]
    resource = body["Resources"]["AdminRole"]
    assert resource["Type"] == "AWS::IAM::Role"
    assert resource["Properties"] == {
        "RoleName": ADMIN_ROLE,
        "Description": role.inputs["description"],
        "AssumeRolePolicyDocument": trust(ROOT_ARN),
        "Policies": [
            {"PolicyName": p.inputs["name"], "PolicyDocument": json.loads(p.inputs["policy"])}
            for p in admin_policies(management)
        ],
    }
    # The template is also an output: in aws-cn it is how the members' roles get made.
    assert (
        management.outputs["adminRoleTemplate"] == management.one(STACK_SET).inputs["templateBody"]
    )


def test_one_instance_targets_the_root_in_the_home_region_and_keeps_the_roles(management):
    instance = management.one(INSTANCE, "management-admin-role-stack-set-instance")
    assert instance.inputs == {
        "stackSetName": "acme-logging-admin-role",
        "deploymentTargets": {"organizationalUnitIds": ["r-a1b2"]},
        "stackSetInstanceRegion": "us-east-1",  # IAM is global: one region is every region
        "callAs": "SELF",
        "operationPreferences": OPERATION_PREFERENCES,
        # Destroy removes the instance, not the roles the log-archive stack still needs.
        "retainStack": True,
    }
    assert instance.property_dependencies["stackSetName"] == [management.one(STACK_SET).urn]
    assert management.outputs["adminRoleStackSetTargets"] == ["r-a1b2"]


def test_with_scp_targets_the_instance_targets_those_ous_instead():
    targets = ["ou-ab12-cdef3456", "ou-ab12-0123abcd"]
    rendered = render_config(stack_config("management", scpTargets=targets), "management")
    assert rendered.one(INSTANCE).inputs["deploymentTargets"] == {"organizationalUnitIds": targets}
    assert rendered.outputs["adminRoleStackSetTargets"] == targets


def test_the_management_account_gets_its_own_role_kept_on_destroy(management):
    role = admin_role(management)
    assert role.inputs == {
        "name": ADMIN_ROLE,
        "description": (
            "org-logging: deploys the log-archive and source stacks; the one role the SCPs and "
            "the log bucket and key policies exempt"
        ),
        "assumeRolePolicy": json.dumps(trust(ROOT_ARN)),
    }
    assert role.retain_on_delete is True
    policies = admin_policies(management)
    assert [(p.name, p.inputs["name"], p.inputs["role"]) for p in policies] == [
        ("management-admin-role-policy-1", "acme-logging-admin-1", ADMIN_ROLE)
    ]
    assert all(p.retain_on_delete for p in policies)
    assert policies[0].property_dependencies["role"] == [role.urn]
    assert management.outputs["adminRoleArn"] == f"arn:aws:iam::{MANAGEMENT}:role/{ADMIN_ROLE}"


def test_the_role_may_not_change_itself(management):
    (policy,) = admin_policies(management)
    statements = json.loads(policy.inputs["policy"])["Statement"]
    assert statements[-1] == {
        "Sid": "NoChangesToItself",
        "Effect": "Deny",
        "Action": ADMIN_ROLE_ACTIONS,
        "Resource": f"arn:aws:iam::*:role/{ADMIN_ROLE}",
    }
    assert [s["Effect"] for s in statements[:-1]] == ["Allow"] * (len(statements) - 1)


# ---- who may assume it: deployerRoleArns ------------------------------------------------------


class AssumedRoleCaller(OfflineMocks):
    """The offline mocks, with credentials of a role session: `caller` as GetCallerIdentity
    gives it, `issuer` as getSessionContext resolves it (the role, path included)."""

    caller = f"arn:aws:sts::{MANAGEMENT}:assumed-role/Deployer/ci-run"
    issuer = f"arn:aws:iam::{MANAGEMENT}:role/ci/Deployer"

    def call(self, args: Any) -> tuple[dict, list]:
        if args.token == CALLER_IDENTITY:
            self.invokes.append(args.token)
            return {"accountId": self.caller.split(":")[4], "arn": self.caller}, []
        if args.token == SESSION_CONTEXT:
            self.invokes.append(args.token)
            assert dict(args.args) == {"arn": self.caller}
            return {"arn": self.caller, "issuerArn": self.issuer, "issuerName": "Deployer"}, []
        return super().call(args)


def test_by_default_the_deploying_role_with_its_path_may_assume_it(monkeypatch):
    monkeypatch.setattr("enroll.offline.render.OfflineMocks", AssumedRoleCaller)
    rendered = render(stack_config("management"), stack="management")
    deployer = f"arn:aws:iam::{MANAGEMENT}:role/ci/Deployer"  # not the assumed-role ARN
    assert json.loads(admin_role(rendered).inputs["assumeRolePolicy"]) == trust(deployer)
    assert template(rendered)["Resources"]["AdminRole"]["Properties"][
        "AssumeRolePolicyDocument"
    ] == trust(deployer)
    assert rendered.outputs["deployerRoleArns"] == [deployer]
    assert {CALLER_IDENTITY, SESSION_CONTEXT} <= set(rendered.invokes)


def test_a_deployer_outside_the_management_account_is_refused_before_anything_deploys(
    monkeypatch,
):
    class Outsider(AssumedRoleCaller):
        caller = "arn:aws:sts::999999999999:assumed-role/Deployer/ci-run"
        issuer = "arn:aws:iam::999999999999:role/Deployer"

    monkeypatch.setattr("enroll.offline.render.OfflineMocks", Outsider)
    with pytest.raises(RenderError) as caught:
        render(stack_config("management"), stack="management")
    assert str(caught.value) == (
        "the deployer arn:aws:iam::999999999999:role/Deployer is not in the management account "
        f"{MANAGEMENT}; run the management stack there, or set org-logging:deployerRoleArns"
    )
    assert [r.type for r in caught.value.resources if r.custom] == []


def test_a_root_user_deployer_is_trusted_with_a_warning_to_name_the_roles(caplog):
    rendered = render(stack_config("management"), stack="management")
    assert json.loads(admin_role(rendered).inputs["assumeRolePolicy"]) == trust(ROOT_ARN)
    assert (
        f"adminRoleName trusts the deployer {ROOT_ARN}, which is not a role (a root user cannot "
        "assume roles); set org-logging:deployerRoleArns to the roles that deploy"
    ) in caplog.messages


def test_explicit_deployer_role_arns_are_trusted_and_the_caller_is_not_asked():
    deployers = [
        f"arn:aws:iam::{MANAGEMENT}:role/Deployer",
        f"arn:aws:iam::{MANAGEMENT}:role/pipelines/Release",
    ]
    rendered = render_config(stack_config("management", deployerRoleArns=deployers), "management")
    assert json.loads(admin_role(rendered).inputs["assumeRolePolicy"]) == trust(*deployers)
    assert template(rendered)["Resources"]["AdminRole"]["Properties"][
        "AssumeRolePolicyDocument"
    ] == trust(*deployers)
    assert rendered.outputs["deployerRoleArns"] == deployers
    assert CALLER_IDENTITY not in rendered.invokes
    assert SESSION_CONTEXT not in rendered.invokes


def deployer_problems(value: Any, partition: str = "aws") -> list[str]:
    config = stack_config("management", partition, deployerRoleArns=value)
    region = config.pop("aws:region")
    with pytest.raises(SettingsError) as caught:
        parse_settings({k.split(":", 1)[1]: v for k, v in config.items()}, stack_region=region)
    return caught.value.problems


KEY = "org-logging:deployerRoleArns"


@pytest.mark.parametrize(
    "value, problem",
    [
        (
            [f"arn:aws:iam::{MANAGEMENT}:user/alice"],
            f"{KEY} 'arn:aws:iam::{MANAGEMENT}:user/alice' (an item) must be the ARN of an IAM "
            "role, arn:<partition>:iam::<account>:role/[<path>/]<name>",
        ),
        (
            [f"arn:aws-cn:iam::{MANAGEMENT}:role/Deployer"],
            f"{KEY} 'arn:aws-cn:iam::{MANAGEMENT}:role/Deployer' (an item) is in partition "
            "aws-cn, but homeRegion 'us-east-1' is in aws; one organization is one partition",
        ),
        (
            ["arn:aws:iam::999999999999:role/Deployer"],
            f"{KEY} 'arn:aws:iam::999999999999:role/Deployer' (an item) is a role of account "
            f"999999999999; a deployer must be a role of the management account {MANAGEMENT}",
        ),
        ([], f"{KEY} [] must list at least one role ARN (or be left out)"),
        (
            [f"arn:aws:iam::{MANAGEMENT}:role/D", f"arn:aws:iam::{MANAGEMENT}:role/D"],
            f"{KEY} 'arn:aws:iam::{MANAGEMENT}:role/D' (an item) is listed twice",
        ),
        (
            f"arn:aws:iam::{MANAGEMENT}:role/D",
            f"{KEY} 'arn:aws:iam::{MANAGEMENT}:role/D' must be a list (in Pulumi config, JSON "
            'text like ["a", "b"])',
        ),
    ],
    ids=["a-user", "other-partition", "other-account", "empty", "twice", "not-a-list"],
)
def test_a_bad_deployer_role_arn_names_the_key_the_value_and_the_rule(value, problem):
    assert deployer_problems(value) == [problem]


def test_deployers_must_fit_the_trust_policy_quota_on_both_sides_of_it():
    def roles(count: int) -> list[str]:
        return [f"arn:aws:iam::{MANAGEMENT}:role/deployers/Deployer-{i:02d}-{'x' * 40}" for i in
                range(count)]  # fmt: skip

    assert iam_chars(trust(*roles(18))) <= TRUST_POLICY_MAX < iam_chars(trust(*roles(19)))
    render_config(stack_config("management", deployerRoleArns=roles(18)), "management")
    assert deployer_problems(roles(19)) == [
        f"{KEY} '<19 roles>' make a trust policy of {iam_chars(trust(*roles(19)))} characters; "
        "IAM allows 2048 (the default quota)"
    ]


# ---- partitions -------------------------------------------------------------------------------


def test_aws_cn_has_no_stack_set_but_the_management_role_and_the_template(caplog):
    rendered = render(stack_config("management", "aws-cn"), stack="management")
    assert rendered.of_type(STACK_SET) == rendered.of_type(INSTANCE) == []
    root = f"arn:aws-cn:iam::{MANAGEMENT}:root"
    assert json.loads(admin_role(rendered).inputs["assumeRolePolicy"]) == trust(
        root, partition="aws-cn"
    )
    body = json.loads(rendered.outputs["adminRoleTemplate"])
    assert body["Resources"]["AdminRole"]["Properties"]["AssumeRolePolicyDocument"] == trust(
        root, partition="aws-cn"
    )
    assert "adminRoleStackSetName" not in rendered.outputs
    assert rendered.outputs["adminRoleStackSetTargets"] == []
    assert rendered.outputs["adminRoleArn"] == f"arn:aws-cn:iam::{MANAGEMENT}:role/{ADMIN_ROLE}"
    assert (
        "aws-cn has no service-managed StackSets: create adminRoleName in each member account "
        "from the adminRoleTemplate output (docs/security.md, China)"
    ) in caplog.messages


def test_aws_us_gov_has_the_stack_set_with_its_own_partition():
    rendered = render_config(stack_config("management", "aws-us-gov"), "management")
    assert rendered.one(STACK_SET).inputs["region"] == "us-gov-west-1"
    assert rendered.one(INSTANCE).inputs["stackSetInstanceRegion"] == "us-gov-west-1"
    root = f"arn:aws-us-gov:iam::{MANAGEMENT}:root"
    assert template(rendered)["Resources"]["AdminRole"]["Properties"][
        "AssumeRolePolicyDocument"
    ] == trust(root, partition="aws-us-gov")


# ---- what it may do: every type the member stacks register -----------------------------------

# Everything these stacks can register: every optional part switched on, every partition.
MEMBER_CONFIGS = [
    ("log-archive", stack_config("log-archive", partition))
    for partition in ("aws", "aws-us-gov", "aws-cn")
] + [
    ("source", stack_config("source", partition))
    for partition in ("aws", "aws-us-gov", "aws-cn")
] + [
    (
        "log-archive",
        stack_config(
            "log-archive",
            objectLock={"mode": "GOVERNANCE", "days": 30},
            alertEmails=["security@example.com"],
        ),
    ),
    ("source", stack_config("source", cloudFrontLegacyLogging=True, replicationTimeControl=True)),
]  # fmt: skip
# Data sources answered by the provider itself, without an AWS call.
LOCAL_INVOKES = {"aws:index/getRegion:getRegion", "aws:index/getPartition:getPartition"}


def member_stacks_register() -> tuple[set[str], set[str]]:
    """The resource types and data sources of every member stack render."""
    types: set[str] = set()
    invokes: set[str] = set()
    for role, config in MEMBER_CONFIGS:
        rendered = render_config(config, role)
        types |= {r.type for r in rendered.resources if r.custom}
        invokes |= set(rendered.invokes) - LOCAL_INVOKES
    return {t for t in types if not t.startswith("pulumi:providers:")}, invokes


def granted(documents: list[dict[str, Any]]) -> set[tuple[str, str]]:
    """(statement Sid, action) of every Allow."""
    return {
        (s["Sid"], action)
        for document in documents
        for s in document["Statement"]
        if s["Effect"] == "Allow"
        for action in as_list(s["Action"])
    }


def uncovered(types: set[str], invokes: set[str], documents: list[dict[str, Any]]) -> list[str]:
    """What the role could not do: a type or data source with no actions in bootstrap_actions,
    or an action of theirs the policies do not allow in its statement."""
    allowed = granted(documents)
    missing = []
    for token in sorted(types | invokes):
        table = RESOURCE_ACTIONS.get(token) or INVOKE_ACTIONS.get(token)
        if not table:
            missing.append(f"{token}: no actions in bootstrap_actions")
            continue
        missing += [
            f"{token}: {action} is not allowed in statement {scope}"
            for scope, actions in table.items()
            for action in actions
            if (scope, action) not in allowed
        ]
    return missing


def rendered_admin_documents(rendered: Rendered) -> list[dict[str, Any]]:
    return [json.loads(p.inputs["policy"]) for p in admin_policies(rendered)]


def test_the_role_policy_covers_every_resource_type_the_member_stacks_register(management):
    types, invokes = member_stacks_register()
    # The renders really registered the stacks' resources.
    assert {"aws:s3/bucket:Bucket", "aws:kms/key:Key", "aws:iam/role:Role"} <= types
    documents = rendered_admin_documents(management)
    assert uncovered(types, invokes, documents) == []
    # The provider's own call, for allowedAccountIds.
    assert ("NoResourceType", "sts:GetCallerIdentity") in granted(documents)


def test_the_role_gets_no_actions_for_a_type_the_member_stacks_do_not_register():
    types, invokes = member_stacks_register()
    assert sorted(set(RESOURCE_ACTIONS) - types) == []
    assert sorted(set(INVOKE_ACTIONS) - invokes) == []


def test_the_coverage_check_fails_for_a_type_without_actions_or_an_action_not_granted(
    management,
):
    documents = rendered_admin_documents(management)
    types = {"aws:sns/topic:Topic", "aws:s3/bucket:Bucket"}
    invokes = {"aws:s3/getCanonicalUserId:getCanonicalUserId"}
    assert uncovered(types, invokes, documents) == []
    assert uncovered(types | {"aws:sqs/queue:Queue"}, invokes, documents) == [
        "aws:sqs/queue:Queue: no actions in bootstrap_actions"
    ]
    without = [
        {
            **d,
            "Statement": [
                {**s, "Action": [a for a in as_list(s["Action"]) if a != "sns:CreateTopic"]}
                for s in d["Statement"]
            ],
        }
        for d in documents
    ]
    assert uncovered(types, invokes, without) == [
        "aws:sns/topic:Topic: sns:CreateTopic is not allowed in statement AlertTopic"
    ]


def test_the_role_cannot_delete_what_the_stacks_retain_nor_use_wildcard_actions(management):
    actions = {action for _, action in granted(rendered_admin_documents(management))}
    assert not [a for a in actions if "*" in a]
    retained = {
        "s3:DeleteBucket",
        "s3:DeleteBucketPolicy",
        "kms:ScheduleKeyDeletion",
        "kms:DisableKey",
        "kms:DeleteAlias",
    }
    assert actions & retained == set()


# ---- grammar and size, as for every other role ------------------------------------------------


@pytest.mark.parametrize("partition", ["aws", "aws-us-gov", "aws-cn"])
def test_the_templates_documents_pass_the_iam_validators_and_fit_the_quotas(partition):
    deployers = [
        f"arn:{partition}:iam::{MANAGEMENT}:role/deployers/Deployer-{i:02d}-{'x' * 40}"
        for i in range(17)  # 18 pass the trust quota in aws-us-gov
    ]
    config = stack_config(
        "management",
        partition,
        namePrefix="abcdefghijklmnop",
        adminRoleName="A" * 64,
        deployerRoleArns=deployers,
    )
    rendered = render_config(config, "management")
    body = rendered.outputs["adminRoleTemplate"]
    properties = json.loads(body)["Resources"]["AdminRole"]["Properties"]
    trust_document = properties["AssumeRolePolicyDocument"]
    documents = [p["PolicyDocument"] for p in properties["Policies"]]
    IAMTrustPolicyDocumentValidator(json.dumps(trust_document)).validate()
    for document in documents:
        IAMPolicyDocumentValidator(json.dumps(document)).validate()
    assert iam_chars(trust_document) <= TRUST_POLICY_MAX
    assert all(iam_chars(d) <= ONE_POLICY_MAX for d in documents)
    assert sum(iam_chars(d) for d in documents) <= ROLE_INLINE_POLICIES_MAX
    assert len(body.encode()) <= TEMPLATE_BODY_MAX
    # The management account's role carries the very same documents.
    assert json.loads(admin_role(rendered).inputs["assumeRolePolicy"]) == trust_document
    assert rendered_admin_documents(rendered) == documents


def test_sizes_past_the_quotas_are_refused_with_the_limit():
    big = {"Version": "2012-10-17", "Statement": [{"Sid": "x" * 6200}]}
    assert size_problems(big, [big, big], "y" * 51201) == [
        f"the admin role's trust policy is {iam_chars(big)} characters; IAM allows 2048 "
        "(default quota)",
        f"the admin role's policy 1 is {iam_chars(big)} characters; the limit kept is 6144",
        f"the admin role's policy 2 is {iam_chars(big)} characters; the limit kept is 6144",
        f"the admin role's inline policies are {2 * iam_chars(big)} characters together; IAM "
        "allows 10240",
        "the admin role's template is 51201 bytes; CloudFormation allows 51200",
    ]
    small = {"Version": "2012-10-17", "Statement": []}
    assert size_problems(small, [small], "y" * 51200) == []


def resources_of(documents: list[dict[str, Any]], sid: str) -> list[str]:
    (statement,) = [s for d in documents for s in d["Statement"] if s.get("Sid") == sid]
    assert statement["Effect"] == "Allow"
    return as_list(statement["Resource"])


# Each physical name the member stacks give a resource, and the statement whose resources must
# match it (as IAM matches ARNs: * spans any characters).
NAMED_IN_SCOPE = {
    "aws:s3/bucket:Bucket": ("bucket", "LogBuckets", "arn:aws:s3:::{}"),
    "aws:iam/role:Role": ("name", "LoggingRoles", "arn:aws:iam::222222222222:role/{}"),
    "aws:glue/catalogDatabase:CatalogDatabase": (
        "name",
        "QueryLayer",
        "arn:aws:glue:us-east-1:222222222222:database/{}",
    ),
    "aws:athena/workgroup:Workgroup": (
        "name",
        "QueryLayer",
        "arn:aws:athena:us-east-1:222222222222:workgroup/{}",
    ),
}


def test_the_role_may_act_on_every_bucket_role_database_and_workgroup_by_its_name(management):
    """A type covered by its actions is not enough: the statement's resources must match the
    names the stacks really give (a bucket of a new purpose outside `{prefix}-logs-*` would be
    refused by IAM)."""
    documents = rendered_admin_documents(management)
    outside = []
    for role, config in MEMBER_CONFIGS:
        for resource in render_config(config, role).resources:
            if resource.type not in NAMED_IN_SCOPE:
                continue
            key, sid, arn_format = NAMED_IN_SCOPE[resource.type]
            arn = arn_format.format(resource.inputs[key])
            if not any(fnmatch.fnmatchcase(arn, p) for p in resources_of(documents, sid)):
                outside.append(f"{resource.type} {resource.inputs[key]} is outside {sid}")
    assert outside == []
