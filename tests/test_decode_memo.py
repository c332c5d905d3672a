"""The pack decodes each distinct property Struct once, not once per policy
(policy/decode_memo.py): it is hit, bounded, pinned to the pulumi-policy it was verified
against, changes no verdict, and no policy can reach the shared decoded value."""

from __future__ import annotations

import ast
import importlib.metadata
import inspect
import io
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import example_stack_config, stack_config
from google.protobuf import json_format
from pulumi_policy import policy as sdk
from pulumi_policy import version as sdk_version
from pulumi_policy.deserialize import deserialize_properties
from team_stacks import EXPECTED
from test_policy_pack import PACK_CONFIG, TEAM_CONFIG, team_stack

from enroll.offline.analyzer.in_process import InProcessAnalyzerClient
from enroll.offline.analyzer.wire import (
    SIG_KEY,
    ProviderResource,
    Resource,
    make_urn,
    to_struct,
)
from enroll.offline.preview import registrations_to_resources, stack_info
from enroll.offline.render import render
from enroll.offline.runner import pack_config
from policy import decode_memo

ASSET_SIG = "c44067f5952c0a294b673a41bacd8c17"  # pulumi_policy/deserialize.py SPECIAL_ASSET_SIG


@pytest.fixture
def fresh_memo() -> Iterator[decode_memo.DecodeMemo]:
    """An empty memo installed for the test; whatever was installed before comes back after."""
    before = decode_memo.installed()
    decode_memo.uninstall()
    memo = decode_memo.install()
    assert memo is not None
    yield memo
    decode_memo.uninstall()
    if before is not None:
        decode_memo.install()


@pytest.fixture(scope="module")
def judge() -> Iterator[InProcessAnalyzerClient]:
    with InProcessAnalyzerClient() as client:
        yield client


def verdicts(client, name: str, config: dict, resources: list[Resource]) -> list:
    client.configure_stack(stack_info(name, config))
    return [*client.analyze_many(resources), client.analyze_stack(resources)]


def distinct_structs(resources: list[Resource]) -> set[bytes]:
    props = [r.properties for r in resources]
    props += [r.provider.properties for r in resources if r.provider is not None]
    return {to_struct(p).SerializeToString(deterministic=True) for p in props}


# -- the pin ------------------------------------------------------------------------------------


def test_the_installed_pulumi_policy_is_the_one_the_memo_was_verified_against():
    installed = importlib.metadata.version("pulumi-policy")
    message = (
        f"pulumi-policy {installed} is installed but policy/decode_memo.py was verified against "
        f"{decode_memo.PINNED_SDK_VERSION}: the memo is now OFF. Re-verify the memo against the "
        "new SDK (pulumi_policy/policy.py Analyze, AnalyzeStack, _get_provider_resource; "
        "proxy.py unknown_checking_proxy; deserialize.py) and bump PINNED_SDK_VERSION"
    )
    assert installed == decode_memo.PINNED_SDK_VERSION, message
    assert sdk_version.VERSION == decode_memo.PINNED_SDK_VERSION, message


def _decode_sites() -> list[ast.FunctionDef]:
    servicer = sdk._PolicyAnalyzerServicer
    methods = (servicer.Analyze, servicer.AnalyzeStack, servicer._get_provider_resource)
    return [ast.parse(textwrap.dedent(inspect.getsource(m))).body[0] for m in methods]


def test_at_each_decode_site_the_decoded_value_goes_only_to_unknown_checking_proxy():
    """What makes sharing the decoded value faithful, read from the SDK source itself."""
    for function in _decode_sites():
        decodes = [
            node
            for node in ast.walk(function)
            if isinstance(node, ast.Call) and ast.unparse(node.func) == "json_format.MessageToDict"
        ]
        assigned = [
            node
            for node in ast.walk(function)
            if isinstance(node, ast.Assign)
            and ast.unparse(node.value).startswith("deserialize_properties(json_format")
        ]
        assert len(decodes) == len(assigned) == 1, function.name
        (statement,) = assigned
        assert ast.unparse(statement) == (
            f"deserialized = deserialize_properties(json_format.MessageToDict("
            f"{ast.unparse(decodes[0].args[0])}))"
        )
        uses = [
            node
            for node in ast.walk(function)
            if isinstance(node, ast.Name) and node.id == "deserialized"
        ]
        proxied = [
            node
            for node in ast.walk(function)
            if isinstance(node, ast.Call)
            and ast.unparse(node) == "unknown_checking_proxy(deserialized)"
        ]
        assert len(uses) == 2 and len(proxied) == 1, function.name  # the assignment, the proxy


def test_on_another_pulumi_policy_the_memo_stays_off_and_says_nothing(monkeypatch, capfd):
    before = decode_memo.installed()
    decode_memo.uninstall()
    original = (sdk.json_format, sdk.deserialize_properties)
    name = "bucket_invalid_name"
    resources = team_stack(name, EXPECTED[name][0], preview=True)
    capfd.readouterr()
    monkeypatch.setattr(sdk_version, "VERSION", "1.22.0")
    try:
        assert decode_memo.install() is None
        assert (sdk.json_format, sdk.deserialize_properties) == original
        assert decode_memo.installed() is None
        # The pack itself still judges, unmemoized.
        with InProcessAnalyzerClient() as client:
            client.configure(PACK_CONFIG)
            fired = {
                d.policy_name
                for result in verdicts(client, name, TEAM_CONFIG, resources)
                for d in result.diagnostics
            }
        assert EXPECTED[name][1] <= fired
        assert decode_memo.installed() is None
        assert capfd.readouterr() == ("", "")
    finally:
        monkeypatch.undo()
        if before is not None:
            decode_memo.install()


def test_installing_twice_keeps_the_first_memo(fresh_memo):
    assert decode_memo.install() is fresh_memo
    assert decode_memo.installed() is fresh_memo


def test_uninstall_gives_the_sdk_its_own_names_back(fresh_memo):
    decode_memo.uninstall()
    assert sdk.json_format is json_format
    assert sdk.deserialize_properties is deserialize_properties
    decode_memo.uninstall()  # twice is harmless
    assert decode_memo.installed() is None


# -- hit, and bounded ---------------------------------------------------------------------------


def test_a_stack_decodes_each_distinct_struct_once_not_once_per_policy(fresh_memo, judge):
    judge.configure(PACK_CONFIG)
    name = "rds_postgres_default_group"
    resources = team_stack(name, EXPECTED[name][0], preview=True)
    verdicts(judge, name, TEAM_CONFIG, resources)
    assert fresh_memo.decodes == len(distinct_structs(resources))
    # Unmemoized, the SDK decodes at every site for every policy: that many calls hit instead.
    decode_memo.uninstall()
    calls = []
    original = sdk.deserialize_properties

    def counted(props, proxy_secrets=False):
        calls.append(1)
        return original(props, proxy_secrets)

    sdk.deserialize_properties = counted
    try:
        verdicts(judge, name, TEAM_CONFIG, resources)
    finally:
        sdk.deserialize_properties = original
    assert fresh_memo.hits + fresh_memo.decodes == len(calls)
    assert len(calls) > 10 * fresh_memo.decodes


def _memo(maxsize: int) -> decode_memo.DecodeMemo:
    return decode_memo.DecodeMemo(json_format.MessageToDict, deserialize_properties, maxsize)


def test_the_memo_keeps_maxsize_structs_and_evicts_the_least_recently_used():
    memo = _memo(2)
    one, two, three = (to_struct({"bucket": name}) for name in ("one", "two", "three"))
    assert memo.decode(one) == {"bucket": "one"}
    memo.decode(two)
    memo.decode(one)  # both fit (maxsize): a hit, and `one` is now the most recent
    assert (memo.decodes, memo.hits, len(memo)) == (2, 1, 2)
    memo.decode(three)  # one more than maxsize: `two`, the least recent, goes
    assert (memo.decodes, len(memo)) == (3, 2)
    memo.decode(one)
    memo.decode(three)
    assert (memo.decodes, memo.hits) == (3, 3)
    memo.decode(two)
    assert (memo.decodes, len(memo)) == (4, 2)


def test_the_key_is_the_content_whatever_the_order_it_was_built_in():
    memo = _memo(4)
    first = memo.decode(to_struct({"a": 1, "b": {"c": [1, "x"], "d": True}}))
    again = memo.decode(to_struct({"b": {"d": True, "c": [1, "x"]}, "a": 1}))
    assert again is first
    assert (memo.decodes, memo.hits) == (1, 1)
    assert memo.decode(to_struct({"a": 2, "b": {"c": [1, "x"], "d": True}})) == {
        "a": 2,
        "b": {"c": [1, "x"], "d": True},
    }
    assert memo.decodes == 2


def test_a_decode_holding_an_asset_object_is_never_shared():
    memo = _memo(4)
    struct = to_struct({"code": {SIG_KEY: ASSET_SIG, "text": "print(1)"}})
    first, second = memo.decode(struct), memo.decode(struct)
    assert first["code"].text == second["code"].text == "print(1)"
    assert first["code"] is not second["code"]
    assert (memo.decodes, memo.hits, len(memo)) == (2, 0, 0)


def test_a_memo_holds_at_least_one_struct():
    with pytest.raises(ValueError, match="maxsize must be at least 1"):
        _memo(0)


# -- verdicts -----------------------------------------------------------------------------------


def _with_and_without(client, name: str, config: dict, resources: list[Resource]) -> None:
    memo = decode_memo.installed()
    assert memo is not None
    hits = memo.hits
    memoized = verdicts(client, name, config, resources)
    assert memo.hits > hits
    decode_memo.uninstall()
    try:
        assert verdicts(client, name, config, resources) == memoized, name
    finally:
        decode_memo.install()


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_team_stack_gets_the_same_verdicts_with_and_without_the_memo(name, judge, fresh_memo):
    judge.configure(PACK_CONFIG)
    _with_and_without(judge, name, TEAM_CONFIG, team_stack(name, EXPECTED[name][0], preview=True))


PLANNED = {
    "management": example_stack_config("management"),
    "log-archive": example_stack_config("log-archive"),
    "source-333333333333-eu-west-1": example_stack_config("source-333333333333-eu-west-1"),
    "source-444444444444-us-east-1": stack_config("source", accountId="444444444444"),
    "source-444444444444-ap-southeast-2": stack_config(
        "source", accountId="444444444444", aws_region="ap-southeast-2"
    ),
}


@pytest.mark.parametrize("name", sorted(PLANNED))
def test_planned_stacks_get_the_same_verdicts_with_and_without_the_memo(name, judge, fresh_memo):
    judge.configure(pack_config("acme"))
    config = PLANNED[name]
    resources = registrations_to_resources(render(config, stack=name, preview=True), config)
    _with_and_without(judge, name, config, resources)


# -- no policy reaches the shared value ---------------------------------------------------------

MEDDLING_PACK = """
from pulumi_policy import PolicyPack, ResourceValidationPolicy, StackValidationPolicy

from policy.decode_memo import install


def meddle(props):
    props["bucket"] = "meddled"
    props["tags"]["team"] = "meddled"
    props["tags"]["__target"]["extra"] = "meddled"
    props["grants"]["__target"].append("meddled")
    props["__target"].clear()


def writer(args, report_violation):
    meddle(args.props)
    meddle(args.provider.props)


def reader(args, report_violation):
    tags = dict(args.props["tags"])
    print(f"{args.urn} {args.props['bucket']} {tags} {list(args.props['grants'])}"
          f" {args.provider.props['region']}")


def stack_writer(args, report_violation):
    for resource in args.resources:
        meddle(resource.props)


def stack_reader(args, report_violation):
    for resource in args.resources:
        print(f"stack {resource.urn} {resource.props['bucket']} {dict(resource.props['tags'])}")


install()
PolicyPack(
    name="meddling",
    policies=[
        ResourceValidationPolicy(name="writer", description="writes", validate=writer),
        ResourceValidationPolicy(name="reader", description="reads", validate=reader),
        StackValidationPolicy(name="stack-writer", description="writes", validate=stack_writer),
        StackValidationPolicy(name="stack-reader", description="reads", validate=stack_reader),
    ],
)
"""


@pytest.fixture
def meddling_pack(tmp_path) -> Path:
    (tmp_path / "PulumiPolicy.yaml").write_text("runtime: python\nversion: 1.0.0\n")
    (tmp_path / "__main__.py").write_text(textwrap.dedent(MEDDLING_PACK))
    return tmp_path


def test_a_policy_writing_into_its_props_changes_nothing_for_the_next_policy_or_resource(
    meddling_pack, fresh_memo
):
    props = {"bucket": "logs", "tags": {"team": "a"}, "grants": ["read"]}
    provider = ProviderResource(
        "pulumi:providers:aws",
        make_urn("s1", "team-app", "pulumi:providers:aws", "default"),
        "default",
        {"region": "eu-west-1", "tags": {"team": "p"}, "grants": [], "bucket": "-"},
    )
    resources = [
        Resource(
            "aws:s3/bucket:Bucket",
            make_urn("s1", "team-app", "aws:s3/bucket:Bucket", name),
            name,
            props,  # the very same properties: one Struct content, decoded once
            provider=provider,
        )
        for name in ("first", "second")
    ]
    prints = io.StringIO()
    with InProcessAnalyzerClient(meddling_pack, prints=prints) as client:
        for _ in range(2):
            verdicts(client, "s1", {}, resources)
    seen = [line.split(": ", 1)[1] for line in prints.getvalue().splitlines()]
    by_resource = [f"{r.urn} logs {{'team': 'a'}} ['read'] eu-west-1" for r in resources]
    by_stack = [f"stack {r.urn} logs {{'team': 'a'}}" for r in resources]
    assert seen == [*by_resource, *by_stack] * 2
    assert fresh_memo.decodes == 2  # the bucket's properties and the provider's
    assert fresh_memo.hits > 10
    assert decode_memo.installed() is fresh_memo
