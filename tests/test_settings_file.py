"""The settings file is read strictly: what YAML would silently accept is an error with its line."""

from __future__ import annotations

import pytest

from components.settings import SettingsError
from enroll.org.settings import load_org_settings
from enroll.util import strictyaml

VALID = """namePrefix: acme
logArchiveAccountId: "222222222222"
homeRegion: us-east-1
regions: [us-east-1]
adminRoleName: OrgLoggingAdmin
"""


def problems(tmp_path, content: str | bytes) -> list[str]:
    path = tmp_path / "org.yaml"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    with pytest.raises(SettingsError) as refused:
        load_org_settings(path)
    return refused.value.problems


def test_a_valid_file_loads(tmp_path):
    path = tmp_path / "org.yaml"
    path.write_text(VALID)
    assert load_org_settings(path).name_prefix == "acme"


def test_a_duplicated_key_is_an_error_naming_both_lines(tmp_path):
    text = VALID + "exclude: {}\nexclude:\n  accountIds: []\n"
    (problem,) = problems(tmp_path, text)
    assert problem == (
        f"{tmp_path / 'org.yaml'}: line 7: 'exclude' is given twice (first on line 6); "
        "YAML would silently keep the last one"
    )


def test_a_duplicated_nested_key_is_an_error_too(tmp_path):
    text = VALID + "exclude:\n  accountIds: []\n  accountIds: ['333333333333']\n"
    assert "line 8: 'accountIds' is given twice (first on line 7)" in problems(tmp_path, text)[0]


def test_an_alias_bomb_is_refused_before_it_expands():
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8)
    )
    with pytest.raises(
        strictyaml.YamlProblem,
        match=r"line 2: an alias \(a reuse of the value on line 1\) is not allowed here",
    ):
        strictyaml.load(bomb)


def test_a_key_that_is_not_a_string_is_an_error():
    with pytest.raises(strictyaml.YamlProblem, match="line 1: the key 12 must be a string"):
        strictyaml.load("12: x\n")


@pytest.mark.parametrize("depth, refused", [(64, False), (65, True), (50_000, True)])
def test_nesting_is_bounded_on_both_sides_of_the_limit(depth, refused):
    text = "[" * depth + "]" * depth
    if refused:
        with pytest.raises(strictyaml.YamlProblem, match="nested more than 64 levels deep"):
            strictyaml.load(text)
    else:
        assert strictyaml.load(text) is not None


def test_a_file_that_is_not_utf8_says_so(tmp_path):
    (problem,) = problems(tmp_path, "namePrefix: caf\xe9\n".encode("latin-1"))
    assert problem == (
        f"settings file {tmp_path / 'org.yaml'} is not UTF-8 text (byte 0xe9 at offset 15); "
        "save it as UTF-8"
    )


def test_a_directory_is_not_a_settings_file(tmp_path):
    with pytest.raises(SettingsError, match="is a directory, not a YAML file"):
        load_org_settings(tmp_path)
