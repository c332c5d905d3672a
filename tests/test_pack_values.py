"""The pack's value and config helpers (policy/guardrails/values.py), called directly: reading
what the engine sends, JSON documents, IAM action patterns and each policy's declared config.

The rules are specified through the analyzer protocol (test_pack_rules*.py); these are the
functions every rule relies on, with their edge cases written out.
"""

from __future__ import annotations

import pytest
from pack_in_process import alias_pack_modules

alias_pack_modules()  # makes `guardrails` and `conventions` the policy.* modules, as in the pack

from policy.guardrails import values  # noqa: E402


@pytest.mark.parametrize(
    ("pattern", "action", "matches"),
    [
        ("s3:GetObject", "s3:GetObject", True),
        ("S3:getobject", "s3:GetObject", True),  # IAM actions are case-insensitive
        ("s3:Get*", "s3:GetObject", True),
        ("s3:Get?bject", "s3:GetObject", True),
        ("s3:Put*", "s3:GetObject", False),
        ("s3:GetObjec", "s3:GetObject", False),
        (["s3:GetObject"], "s3:GetObject", False),  # only a string is a pattern
        (None, "s3:GetObject", False),
    ],
)
def test_an_action_matches_as_iam_matches_it(pattern, action, matches):
    assert values.action_matches(pattern, action) is matches


def test_any_matches_is_true_when_one_pattern_matches():
    assert values.any_matches(["s3:Put*", "s3:Get*"], "s3:GetObject") is True
    assert values.any_matches(["s3:Put*", "kms:*"], "s3:GetObject") is False
    assert values.any_matches([], "s3:GetObject") is False


# ---- values: reading what the engine sends ---------------------------------------------------


def test_unknowns_are_found_at_any_depth_and_shown_as_unknown():
    unknown = values.UNKNOWN
    assert repr(unknown) == "<unknown>"
    assert values.contains_unknown(unknown) is True
    assert values.contains_unknown({"a": [1, {"b": unknown}]}) is True
    assert values.contains_unknown(("x", unknown)) is True
    assert values.contains_unknown({"a": [1, {"b": 2}], "c": ("x",)}) is False
    assert values.contains_unknown("x") is False


def test_get_walks_keys_and_indexes_and_gives_none_where_the_shape_is_wrong():
    data = {"a": [{"b": "x"}, {"b": "y"}]}
    assert values.get(data, "a", 0, "b") == "x"
    assert values.get(data, "a", -1, "b") == "y"
    assert values.get(data, "a", -2, "b") == "x"
    assert values.get(data, "a", 2, "b") is None
    assert values.get(data, "a", -3, "b") is None
    assert values.get(data, "a", "b") is None  # a key into a list
    assert values.get(data, "z", "b") is None
    assert values.get({"a": "text"}, "a", 0) is None  # an index into a string
    assert values.get({"a": values.UNKNOWN}, "a", "b") is values.UNKNOWN
    assert values.get(data) == data


def test_lists_and_nested_blocks_are_read_whichever_way_the_provider_sends_them():
    assert values.as_list(None) == []
    assert values.as_list("a") == ["a"]
    assert values.as_list(["a"]) == ["a"]
    assert values.first([{"a": 1}, {"a": 2}]) == {"a": 1}
    assert values.first([]) is None
    assert values.first({"a": 1}) == {"a": 1}


@pytest.mark.parametrize(
    ("value", "true", "false"),
    [
        (True, True, False),
        (False, False, True),
        ("true", True, False),
        ("TRUE", True, False),
        ("false", False, True),
        ("False", False, True),
        ("yes", False, False),
        (1, False, False),
        (0, False, False),
        (None, False, False),
    ],
)
def test_booleans_arrive_as_booleans_or_strings(value, true, false):
    assert values.is_true(value) is true
    assert values.is_false(value) is false


@pytest.mark.parametrize(
    ("value", "found"),
    [
        (float("nan"), "NaN"),
        (float("inf"), "Infinity"),
        (float("-inf"), "-Infinity"),
        (1.5, None),
        (0, None),
        ("NaN", None),
        ({"a": {"b": [1, float("inf")]}}, "Infinity"),
        ([1, (2, float("-inf"))], "-Infinity"),
        ([float("nan"), float("inf")], "NaN"),  # the first one
        ({"a": [1, 2], "b": "c"}, None),
        ([], None),
    ],
)
def test_non_finite_numbers_are_found_anywhere_and_named_as_json_would(value, found):
    assert values.non_finite_number(value) == found


NOT_JSON = (
    "is not valid JSON: it contains {}, which JSON does not allow (Python's json reads it, AWS "
    "refuses the document); write a string or a finite number instead"
)


def test_a_document_is_parsed_from_json_text_or_taken_as_an_object():
    document = {"Version": "2012-10-17", "Statement": []}
    assert values.parse_document(document) == (document, None)
    assert values.parse_document('{"Version": "2012-10-17"}') == ({"Version": "2012-10-17"}, None)
    assert values.parse_document({"a": float("nan")}) == (None, NOT_JSON.format("NaN"))
    assert values.parse_document('{"a": -Infinity}') == (None, NOT_JSON.format("-Infinity"))
    assert values.parse_document(5) == (None, "is a int, not a JSON policy document")
    assert values.parse_document(None) == (None, "is a NoneType, not a JSON policy document")
    assert values.parse_document("[1]") == (None, "is JSON but not a policy document object")
    assert values.parse_document('{"a": }') == (
        None,
        "is not valid JSON (Expecting value at line 1 column 7)",
    )


def test_statements_are_the_objects_of_statement_a_lone_one_included():
    lone = {"Effect": "Deny"}
    assert values.statements({"Statement": lone}) == [lone]
    assert values.statements({"Statement": [lone, "x", 3, lone]}) == [lone, lone]
    assert values.statements({}) == []


def test_unproxied_copies_mappings_and_lists_and_marks_unknown_sentinels():
    from pulumi_policy import proxy

    assert values.unproxied({"a": (1, [proxy.UNKNOWN_STRING_VALUE])}) == {
        "a": [1, [values.UNKNOWN]]
    }
    assert values.unproxied("plain") == "plain"
    proxied = proxy.unknown_checking_proxy({"a": [1, {"b": "c"}]})
    assert values.unproxied(proxied) == {"a": [1, {"b": "c"}]}


# ---- values: each policy's config ------------------------------------------------------------


@pytest.fixture
def registry(monkeypatch):
    """An empty registry of declarations, so a test may declare its own policies."""
    monkeypatch.setattr(values, "DECLARED_CONFIG", {})
    return values.DECLARED_CONFIG


def test_a_declaration_is_recorded_once_and_its_schema_sent_without_formats(registry):
    properties = {"allowedPatterns": {"type": "array", "items": {"type": "string"}}}
    schema = values.declare_config("p", properties, regex_properties=["allowedPatterns"])
    assert schema.properties == properties
    assert registry == {
        "p": values.ConfigDeclaration("p", properties, frozenset({"allowedPatterns"}))
    }
    assert values.declare_config("q").properties == {}
    assert registry["q"] == values.ConfigDeclaration("q", {}, frozenset())
    with pytest.raises(ValueError, match=r"^the config of policy 'p' is declared twice$"):
        values.declare_config("p")


def test_a_declaration_refuses_formats_and_regexes_that_are_not_strings(registry):
    with pytest.raises(
        ValueError, match=r"^r: \['a', 'b'\] would be format-checked by the engine$"
    ):
        values.declare_config("r", {"b": {"format": "regex"}, "a": {"format": "x"}, "c": {}})
    with pytest.raises(ValueError, match=r"^s: regex property 'n' is not a string or array$"):
        values.declare_config("s", {"n": {"type": "number"}}, regex_properties=["n"])
    with pytest.raises(ValueError, match=r"^t: regex property 'missing' is not a string or array$"):
        values.declare_config("t", {}, regex_properties=["missing"])
    values.declare_config("u", {"one": {"type": "string"}}, regex_properties=["one"])
    assert registry["u"].regex_properties == frozenset({"one"})
    assert "r" not in registry and "s" not in registry and "t" not in registry


@pytest.mark.parametrize(
    ("value", "kinds"),
    [
        ("x", {"string"}),
        (True, {"boolean"}),
        (5, {"number", "integer"}),
        (5.0, {"number", "integer"}),  # the engine sends numbers as doubles
        (5.5, {"number"}),
        (["a"], {"array"}),
        (("a",), {"array"}),
        ({"a": 1}, {"object"}),
        (None, {"null"}),
    ],
)
def test_json_types_are_told_apart_as_json_schema_does(value, kinds):
    for kind in ("string", "boolean", "number", "integer", "array", "object", "null"):
        assert values._is_json_type(value, kind) is (kind in kinds), kind
    assert values._is_json_type(value, "some-future-type") is True


@pytest.mark.parametrize(
    ("value", "name"),
    [
        (True, "a boolean"),
        (3, "a number"),
        (3.5, "a number"),
        ("x", "a string"),
        ([1], "an array"),
        ((1,), "an array"),
        ({}, "an object"),
        (None, "null"),
        (b"x", "bytes"),
    ],
)
def test_a_values_json_type_is_named_for_people(value, name):
    assert values._json_type_name(value) == name


def test_a_schema_is_described_for_people():
    assert values._describe({"type": "string"}) == "a string"
    assert values._describe({"type": ["string", "null"]}) == "a string or null"
    assert values._describe({"type": "array", "items": {"type": "string"}}) == "an array of strings"
    assert values._describe({"type": "array", "items": {"type": "thing"}}) == "an array"
    assert values._describe({"type": "array", "items": "string"}) == "an array"
    assert values._describe({"type": "integer"}) == "an integer"
    assert values._describe({"type": "thing"}) == "thing"


def test_a_value_is_shown_as_json_and_cut_at_60_characters():
    assert values._shown({"a": 1}) == '{"a": 1}'
    assert values._shown("x" * 58) == '"' + "x" * 58 + '"'  # 60 characters
    assert values._shown("x" * 59) == '"' + "x" * 56 + "..."  # 61 would be too many
    assert values._shown({1, 2}) == "{1, 2}"  # not JSON: repr
    assert values._shown(float("nan")) == "NaN"


def test_type_problems_name_the_property_the_type_and_each_bad_item():
    schema = {"type": "array", "items": {"type": "string"}}
    assert values.type_problems(["a", "b"], schema, "p") == []
    assert values.type_problems(["a", 3, None], schema, "p") == [
        "p[1] must be a string, not a number (3)",
        "p[2] must be a string, not null",
    ]
    assert values.type_problems("a", schema, "p") == [
        'p must be an array of strings, not a string ("a")'
    ]
    assert values.type_problems(7, {}, "p") == []
    assert values.type_problems(None, {"type": ["string", "null"]}, "p") == []
    assert values.type_problems([1], {"items": {"type": "string"}}, "p") == [
        "p[0] must be a string, not a number (1)"
    ]
    assert values.type_problems([1], {"type": "array", "items": "string"}, "p") == []


def test_the_closest_known_name_is_found_case_insensitively():
    known = ["namePrefix", "allowedPatterns"]
    assert values.closest_name("nameprefix", known) == "namePrefix"
    assert values.closest_name("allowedPattern", known) == "allowedPatterns"
    assert values.closest_name("region", known) is None
    assert values.closest_name("x", []) is None


def test_a_regex_python_cannot_compile_is_named_with_the_reason():
    assert values.regex_problem("allowedPatterns", "^a+$") is None
    assert values.regex_problem("allowedPatterns", "(") == (
        "allowedPatterns '(' is not a valid regular expression: missing ), unterminated "
        "subpattern at position 0"
    )


DECLARATION = values.ConfigDeclaration(
    "p",
    {
        "namePrefix": {"type": "string"},
        "allowedPatterns": {"type": "array", "items": {"type": "string"}},
        "pattern": {"type": "string"},
    },
    frozenset({"allowedPatterns", "pattern"}),
)


def test_config_problems_lists_every_problem_in_name_order():
    assert values.config_problems(DECLARATION, {}) == []
    assert (
        values.config_problems(DECLARATION, {"namePrefix": "acme", "enforcementLevel": "mandatory"})
        == []
    )
    assert values.config_problems(
        DECLARATION,
        {
            "pattern": "(",
            "nameprefix": "acme",
            "allowedPatterns": ["^ok$", "[", 3],
            "zzz": 1,
        },
    ) == [
        "allowedPatterns[2] must be a string, not a number (3)",
        "has unknown property 'nameprefix' (did you mean 'namePrefix'?); its properties are "
        "allowedPatterns, namePrefix, pattern",
        "pattern '(' is not a valid regular expression: missing ), unterminated subpattern at "
        "position 0",
        "has unknown property 'zzz'; its properties are allowedPatterns, namePrefix, pattern",
    ]
    assert values.config_problems(DECLARATION, {"allowedPatterns": ["^ok$", "["]}) == [
        "allowedPatterns '[' is not a valid regular expression: unterminated character set at "
        "position 0"
    ]
    empty = values.ConfigDeclaration("q", {}, frozenset())
    assert values.config_problems(empty, {"x": 1}) == [
        "has unknown property 'x'; it takes no properties"
    ]


class Args:
    def __init__(self, config=None, provider=None):
        self._config = config
        self.provider = provider

    def get_config(self):
        return self._config


class Provider:
    def __init__(self, **props):
        self.props = props


def test_config_of_returns_the_checked_config_without_the_enforcement_level(registry):
    registry["p"] = DECLARATION
    assert values.config_of(Args({"namePrefix": "a", "enforcementLevel": "advisory"}), "p") == {
        "namePrefix": "a"
    }
    assert values.config_of(Args(None), "p") == {}
    with pytest.raises(values.PolicyConfigError, match=r"^is an array, not an object$"):
        values.config_of(Args(["x"]), "p")
    with pytest.raises(values.PolicyConfigError) as raised:
        values.config_of(Args({"a": 1, "pattern": 2}), "p")
    assert str(raised.value) == (
        "has unknown property 'a'; its properties are allowedPatterns, namePrefix, pattern; "
        "pattern must be a string, not a number (2)"
    )
    with pytest.raises(KeyError, match="policy 'nobody' reads config it never declared"):
        values.config_of(Args({}), "nobody")


def test_the_name_prefix_is_the_configured_one_else_the_stacks():
    assert values.name_prefix({"namePrefix": "acme"}) == "acme"
    assert values.name_prefix({"namePrefix": ""}) is None
    assert values.name_prefix({"namePrefix": 5}) is None
    assert values.name_prefix({}) is None


def test_provider_config_decodes_json_encoded_lists_and_maps_only():
    provider = Provider(
        allowedAccountIds='["111111111111"]',
        defaultTags='{"tags": {"a": "b"}}',
        region="eu-west-1",
        broken="[not json",
        nan="[NaN]",
    )
    args = Args(provider=provider)
    assert values.provider_config(args, "allowedAccountIds") == ["111111111111"]
    assert values.provider_config(args, "defaultTags") == {"tags": {"a": "b"}}
    assert values.provider_config(args, "region") == "eu-west-1"
    assert values.provider_config(args, "broken") == "[not json"
    assert values.provider_config(args, "nan") == "[NaN]"
    assert values.provider_config(args, "missing") is None
    assert values.provider_config(Args(), "region") is None
    assert values.provider_config(Args(provider=Provider(n=3)), "n") == 3


def test_a_resources_region_is_its_own_else_its_providers():
    args = Args(provider=Provider(region="eu-west-1"))
    assert values.provider_region(args) == "eu-west-1"
    assert values.provider_region(Args()) is None
    assert values.provider_region(Args(provider=Provider(region=3))) is None
    assert values.provider_region(Args(provider=Provider())) is None
    assert values.resource_region(args, {"region": "us-east-2"}) == "us-east-2"
    assert values.resource_region(args, {"region": ""}) == "eu-west-1"
    assert values.resource_region(args, {"region": 5}) == "eu-west-1"
    assert values.resource_region(args, {}) == "eu-west-1"
    assert values.resource_region(Args(), {}) is None


def test_without_a_configured_prefix_the_stacks_own_name_prefix_is_used():
    import contextvars

    from pulumi.runtime import config as runtime_config

    def read(stack_config: dict) -> tuple:
        runtime_config.CONFIG.set(stack_config)  # only in this copied context
        return values.name_prefix({}), values.name_prefix({"namePrefix": "team"})

    stack = {"org-logging:namePrefix": "acme"}
    assert contextvars.copy_context().run(read, stack) == ("acme", "team")
    empty = {"org-logging:namePrefix": ""}
    assert contextvars.copy_context().run(read, empty) == (None, "team")
    other = {"other-project:namePrefix": "x"}
    assert contextvars.copy_context().run(read, other) == (None, "team")


def test_an_args_object_without_a_provider_has_no_provider_config():
    class Bare:  # a stack resource's args have no `provider` attribute
        pass

    assert values.provider_config(Bare(), "region") is None
    assert values.provider_region(Bare()) is None


def test_a_list_of_types_is_checked_as_either_of_them():
    either = {"type": ["string", "null"]}
    assert values.type_problems(5, either, "p") == ["p must be a string or null, not a number (5)"]


def test_the_enforcement_level_is_skipped_and_the_next_property_still_checked():
    assert values.config_problems(DECLARATION, {"enforcementLevel": "mandatory", "zzz": 1}) == [
        "has unknown property 'zzz'; its properties are allowedPatterns, namePrefix, pattern"
    ]


def test_a_single_regex_is_checked_whole():
    assert values.config_problems(DECLARATION, {"pattern": "a("}) == [
        "pattern 'a(' is not a valid regular expression: missing ), unterminated subpattern at "
        "position 1"
    ]
