"""The analyzer client drives a real pack process over the engine's gRPC protocol.

Everything is observed through the pack (tests/fixtures/minimal_pack), never by calling a rule.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from enroll.offline.analyzer.client import AnalyzerClient
from enroll.offline.analyzer.config import reconcile_config
from enroll.offline.analyzer.wire import (
    SECRET_SIG,
    SIG_KEY,
    UNKNOWN,
    UNKNOWN_ARRAY,
    UNKNOWN_BOOL,
    UNKNOWN_NUMBER,
    UNKNOWN_OBJECT,
    AnalyzerError,
    PolicyConfig,
    ProviderResource,
    Resource,
    Secret,
    StackInfo,
    make_urn,
)

PACK = Path(__file__).resolve().parent / "fixtures" / "minimal_pack"
STACK, PROJECT = "dev", "org-logging"
BUCKET = "aws:s3/bucket:Bucket"
SCP = "aws:organizations/policy:Policy"
SCP_ATTACHMENT = "aws:organizations/policyAttachment:PolicyAttachment"
COMPONENT = "org-logging:management:OrgGuardrails"
BUCKET_POLICY = "fixture-bucket-name"
STACK_POLICY = "fixture-scp-attachment-wiring"
BUCKET_DESCRIPTION = "S3 buckets have an explicit, prefixed name."

PROVIDER = ProviderResource(
    type="pulumi:providers:aws",
    urn=make_urn(STACK, PROJECT, "pulumi:providers:aws", "default_7_51_1"),
    name="default_7_51_1",
    properties={"region": "eu-west-1", "version": "7.51.1"},
)


def bucket(name: str, props: dict[str, object]) -> Resource:
    return Resource(
        type=BUCKET,
        urn=make_urn(STACK, PROJECT, BUCKET, name),
        name=name,
        properties=props,
        provider=PROVIDER,
    )


def running(pid: int) -> bool:
    """A zombie waiting for its (foreign) parent to reap it counts as gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


@pytest.fixture(scope="module")
def client() -> Iterator[AnalyzerClient]:
    with AnalyzerClient(PACK) as started:
        # No level given: each policy must keep its own (mandatory).
        started.configure({BUCKET_POLICY: PolicyConfig(properties={"requiredPrefix": "acme-"})})
        yield started


# -- resource policies ------------------------------------------------------------------------


def test_violation_carries_policy_name_level_and_message(client):
    (diagnostic,) = client.analyze(bucket("logs", {"acl": "private"})).diagnostics

    assert diagnostic.policy_name == BUCKET_POLICY
    assert diagnostic.policy_pack_name == "fixture-pack"
    assert diagnostic.policy_pack_version == "0.3.0"  # PulumiPolicy.yaml's, as the engine shows
    assert diagnostic.enforcement_level == "mandatory"
    assert diagnostic.urn == ""  # the engine attributes it to the analyzed resource
    assert diagnostic.message == (
        f"{BUCKET_DESCRIPTION}\nS3 buckets must set an explicit `bucket` name."
    )
    assert diagnostic.detail == "S3 buckets must set an explicit `bucket` name."


def test_compliant_bucket_and_other_types_have_no_violation(client):
    assert client.analyze(bucket("ok", {"bucket": "acme-logs"})).diagnostics == ()
    queue = Resource(
        type="aws:sqs/queue:Queue", urn="urn:pulumi:dev::p::aws:sqs/queue:Queue::q", name="q"
    )
    assert client.analyze(queue).diagnostics == ()


def test_provider_reaches_the_policy(client):
    without_provider = Resource(
        BUCKET, make_urn(STACK, PROJECT, BUCKET, "b"), "b", {"bucket": "acme-b"}
    )

    (diagnostic,) = client.analyze(without_provider).diagnostics
    assert diagnostic.detail == "Bucket 'acme-b' arrived without its provider."
    assert client.analyze(bucket("b", {"bucket": "acme-b"})).diagnostics == ()


def test_configured_properties_reach_the_policy_over_the_packs_initial_config(client):
    # The pack's initial_config says "initial-"; Configure said "acme-".
    (diagnostic,) = client.analyze(bucket("bad", {"bucket": "initial-logs"})).diagnostics
    assert diagnostic.detail == "Bucket name 'initial-logs' must start with 'acme-'."
    assert diagnostic.enforcement_level == "mandatory"


def test_configure_sends_every_policy_with_its_default_level(client):
    assert {name: cfg.enforcement_level for name, cfg in client.policy_config.items()} == {
        BUCKET_POLICY: "mandatory",
        STACK_POLICY: "mandatory",
    }


def test_initial_config_with_properties_only_does_not_downgrade_the_policy(client):
    # pulumi-policy leaves its level unset, which is ADVISORY (0) on the wire.
    info = client.analyzer_info()
    assert info.initial_config[BUCKET_POLICY].enforcement_level is None

    defaults = reconcile_config(info, {})
    assert defaults[BUCKET_POLICY] == PolicyConfig("mandatory", {"requiredPrefix": "initial-"})


def test_all_and_explicit_levels_are_applied_in_the_engines_order(client):
    reconciled = reconcile_config(
        client.analyzer_info(),
        {"all": PolicyConfig("advisory"), STACK_POLICY: PolicyConfig("disabled")},
    )
    assert reconciled[BUCKET_POLICY].enforcement_level == "advisory"
    assert reconciled[STACK_POLICY].enforcement_level == "disabled"


def test_config_for_a_policy_the_pack_lacks_is_rejected(client):
    with pytest.raises(ValueError, match=r"\['fixture-bucket-nmae'\], which pack 'fixture-pack'"):
        client.configure({"fixture-bucket-nmae": PolicyConfig(properties={"requiredPrefix": "x"})})


def test_config_the_schema_rejects_is_rejected(client):
    with pytest.raises(ValueError, match="fixture-bucket-name: 5 is not of type 'string'"):
        client.configure({BUCKET_POLICY: PolicyConfig(properties={"requiredPrefix": 5})})


def test_unknown_value_read_by_a_policy_is_an_advisory_notice(client):
    (diagnostic,) = client.analyze(bucket("u", {"bucket": UNKNOWN})).diagnostics

    assert diagnostic.policy_name == BUCKET_POLICY
    assert diagnostic.enforcement_level == "advisory"
    assert "string value at .bucket can't be known during preview" in diagnostic.detail


def test_unknowns_the_policy_does_not_read_are_harmless(client):
    props = {
        "bucket": "acme-x",
        "arn": UNKNOWN,
        "forceDestroy": UNKNOWN_BOOL,
        "count": UNKNOWN_NUMBER,
        "grants": UNKNOWN_ARRAY,
        "tags": UNKNOWN_OBJECT,
        "nested": {"list": [UNKNOWN, {"deep": UNKNOWN}]},
    }
    assert client.analyze(bucket("u2", props)).diagnostics == ()


def test_secret_reaches_the_policy_unwrapped(client):
    assert client.analyze(bucket("s1", {"bucket": Secret("acme-secret")})).diagnostics == ()
    wire = {SIG_KEY: SECRET_SIG, "value": "nope"}  # the form render() records

    (diagnostic,) = client.analyze(bucket("s2", {"bucket": wire})).diagnostics
    assert diagnostic.detail == "Bucket name 'nope' must start with 'acme-'."


def test_analyze_many_returns_results_in_order(client):
    resources = [
        bucket(f"b{i}", {"bucket": "wrong" if i % 3 == 0 else f"acme-{i}"}) for i in range(20)
    ]

    results = client.analyze_many(resources)
    assert [len(result.diagnostics) for result in results] == [int(i % 3 == 0) for i in range(20)]


def test_failing_rpc_names_the_resource_and_the_pack_keeps_serving(client):
    # A resource reference is never sent by the engine; pulumi-policy fails the RPC on it.
    reference = {SIG_KEY: "5cf8f73096256a8f31e491e813e4eb8e", "urn": "urn:x"}
    broken = bucket("broken", {"bucket": reference})

    with pytest.raises(
        AnalyzerError,
        match=r"Analyze\(urn:pulumi:dev::org-logging::aws:s3/bucket:Bucket::broken\) failed: UNKNOWN: .*Unrecognized signature",
    ):
        client.analyze_many([bucket("fine", {"bucket": "acme-fine"}), broken])
    assert client.analyze(bucket("after", {"bucket": "acme-after"})).diagnostics == ()


def test_configure_stack_can_be_sent_for_each_stack(client):
    for name in ("first", "second"):
        client.configure_stack(
            StackInfo(stack=name, project=PROJECT, config={"aws:region": "eu-west-1"})
        )
        assert client.analyze(bucket(name, {"bucket": f"acme-{name}"})).diagnostics == ()


# -- stack policies ---------------------------------------------------------------------------


def scp_stack(
    *, wired: bool = True, depends: bool = True, same_parent: bool = True
) -> list[Resource]:
    guardrails = make_urn(STACK, PROJECT, COMPONENT, "management")
    elsewhere = make_urn(STACK, PROJECT, COMPONENT, "elsewhere")
    scp = Resource(
        type=SCP,
        urn=make_urn(STACK, PROJECT, SCP, "deny-leave", COMPONENT),
        name="deny-leave",
        properties={"content": "{}", "type": "SERVICE_CONTROL_POLICY"},
        parent=guardrails,
        provider=PROVIDER,
    )
    attachment = Resource(
        type=SCP_ATTACHMENT,
        urn=make_urn(STACK, PROJECT, SCP_ATTACHMENT, "deny-leave-root", COMPONENT),
        name="deny-leave-root",
        properties={"policyId": UNKNOWN, "targetId": "r-a1b2"},  # a new SCP has no id yet
        parent=guardrails if same_parent else elsewhere,
        dependencies=[scp.urn] if depends else [],
        property_dependencies={"policyId": [scp.urn] if wired else [], "targetId": []},
        provider=PROVIDER,
    )
    return [
        Resource(COMPONENT, guardrails, "management"),
        Resource(COMPONENT, elsewhere, "elsewhere"),
        scp,
        attachment,
    ]


def test_stack_policy_passes_a_wired_attachment(client):
    assert client.analyze_stack(scp_stack()).diagnostics == ()


def test_stack_policy_sees_property_dependencies(client):
    resources = scp_stack(wired=False)

    (diagnostic,) = client.analyze_stack(resources).diagnostics
    assert diagnostic.policy_name == STACK_POLICY
    assert diagnostic.enforcement_level == "mandatory"
    assert diagnostic.urn == resources[-1].urn
    assert diagnostic.detail == "The attachment's policyId does not come from a Policy."


def test_stack_policy_sees_dependencies(client):
    (diagnostic,) = client.analyze_stack(scp_stack(depends=False)).diagnostics
    assert diagnostic.detail.startswith("The attachment does not depend on urn:pulumi:dev::")


def test_stack_policy_sees_parents(client):
    (diagnostic,) = client.analyze_stack(scp_stack(same_parent=False)).diagnostics
    assert "OrgGuardrails::elsewhere is not its policy's parent" in diagnostic.detail


# -- process lifecycle ------------------------------------------------------------------------


def test_close_stops_the_pack_process():
    with AnalyzerClient(PACK) as started:
        pid = started.pid
        assert pid is not None and running(pid)
    assert started.pid is None
    assert not running(pid)
    with pytest.raises(ProcessLookupError):
        os.killpg(pid, 0)  # nothing left in its process group either
    started.close()  # a second close is harmless
    with pytest.raises(AnalyzerError, match="make a new client"):
        started.start()


def test_close_kills_a_pack_that_ignores_sigint_and_everything_it_started(tmp_path):
    pack = tmp_path / "stubborn"
    pack.mkdir()
    (pack / "PulumiPolicy.yaml").write_text((PACK / "PulumiPolicy.yaml").read_text())
    (pack / "__main__.py").write_text(
        "import os, signal, subprocess, sys\n"
        "signal.signal(signal.SIGINT, signal.SIG_IGN)\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)'])\n"
        "open(os.environ['CHILD_PID_FILE'], 'w').write(str(child.pid))\n"
        + (PACK / "__main__.py").read_text().split("from __future__ import annotations", 1)[1]
    )
    child_pid_file = tmp_path / "child.pid"

    client = AnalyzerClient(pack, env={"CHILD_PID_FILE": str(child_pid_file)})
    with client:
        pid = client.pid
        child = int(child_pid_file.read_text())  # written before the pack printed its port
        assert running(child)
        client.close(grace=0.2)
    assert not running(pid)
    assert not running(child)


def test_pack_that_exits_early_gives_its_stderr(tmp_path):
    (tmp_path / "PulumiPolicy.yaml").write_text("runtime: python\n")
    (tmp_path / "__main__.py").write_text("import org_logging_no_such_module\n")

    with pytest.raises(AnalyzerError) as raised:
        AnalyzerClient(tmp_path, startup_timeout=30).start()
    message = str(raised.value)
    assert "exited (rc=1) before printing its port" in message
    assert "No module named 'org_logging_no_such_module'" in message


def test_print_at_import_time_is_named_as_the_startup_problem(tmp_path):
    (tmp_path / "PulumiPolicy.yaml").write_text("runtime: python\n")
    (tmp_path / "__main__.py").write_text("print('hello from the pack')\n")

    with pytest.raises(AnalyzerError, match="wrote 'hello from the pack' where its port belongs"):
        AnalyzerClient(tmp_path).start()


def test_directory_without_a_pack_is_refused_before_launch(tmp_path):
    with pytest.raises(AnalyzerError, match=r"PulumiPolicy\.yaml is missing"):
        AnalyzerClient(tmp_path).start()


def test_default_pack_is_the_repos_policy_directory():
    from enroll.util.paths import PROJECT_DIR

    assert AnalyzerClient().pack_dir == (PROJECT_DIR / "policy").resolve()
