"""`--plan FILE`: the whole shape is checked before anything runs, every problem at once."""

from __future__ import annotations

import json

import pytest

from enroll.org.planfile import PlanError, load_plan, parse_plan

STACK = {
    "name": "source-333333333333-eu-west-1",
    "role": "source",
    "accountId": "333333333333",
    "region": "eu-west-1",
    "config": {"org-logging:role": "source", "aws:allowedAccountIds": ["333333333333"]},
}


def problems(document) -> list[str]:
    with pytest.raises(PlanError) as refused:
        parse_plan(document, "plan.json")
    return refused.value.problems


def test_a_saved_plan_round_trips():
    plan = parse_plan({"stacks": [STACK], "excluded": [], "warnings": ["w"]}, "plan.json")
    assert plan.to_json() == {"stacks": [STACK], "excluded": [], "warnings": ["w"]}


@pytest.mark.parametrize(
    "document, expected",
    [
        ({"stacks": {}}, ["stacks {} must be a list"]),
        ({"stacks": []}, ["stacks must list at least one stack"]),
        ({}, ["stacks is missing"]),
        (
            {"stacks": [{**STACK, "config": "x"}]},
            [f"stacks[0] ({STACK['name']}).config 'x' must be a map"],
        ),
        (
            {"stacks": [STACK, STACK]},
            [f"stacks[1] ({STACK['name']}) has the name of stacks[0]: stack names are unique"],
        ),
        (
            {"stacks": [{**STACK, "role": "bogus"}]},
            [
                f"stacks[0] ({STACK['name']}).role 'bogus' must be one of log-archive, management, source"
            ],
        ),
        (
            {"stacks": [{**STACK, "name": "a b"}]},
            [
                "stacks[0] (a b).name 'a b' must be a Pulumi stack name "
                "(1-100 of letters, digits, '-', '_', '.')"
            ],
        ),
        (
            {"stacks": [{**STACK, "config": {"role": "source"}}]},
            [
                f"stacks[0] ({STACK['name']}).config has keys ['role'] that are not stack config "
                "keys (<namespace>:<key>)"
            ],
        ),
    ],
)
def test_each_problem_is_named_with_its_place(document, expected):
    assert problems(document) == expected


def test_every_problem_is_reported_at_once():
    bad = {**STACK, "accountId": "12", "region": "mars-1", "extra": 1}
    assert problems({"stacks": [bad], "excluded": "x"}) == [
        f"stacks[0] ({STACK['name']}).accountId '12' must be a 12-digit account id",
        f"stacks[0] ({STACK['name']}).region 'mars-1' is not an AWS region of aws, aws-us-gov "
        "or aws-cn",
        f"stacks[0] ({STACK['name']}).extra is not a field of a plan",
        "excluded 'x' must be a list",
    ]


@pytest.mark.parametrize(
    "content, expected",
    [
        (b"\xff\xfe", "is not UTF-8 text"),
        (b"{", "is not JSON (Expecting property name enclosed in double quotes at line 1)"),
        (b"[1]", "must be a JSON object with `stacks`"),
        (b"[" * 50_000 + b"]" * 50_000, "is nested too deeply to be a plan"),
    ],
)
def test_a_file_that_is_no_plan_says_why(tmp_path, content, expected):
    path = tmp_path / "plan.json"
    path.write_bytes(content)
    with pytest.raises(PlanError) as refused:
        load_plan(str(path))
    assert refused.value.problems == [expected]


def test_a_missing_file_says_so(tmp_path):
    with pytest.raises(PlanError, match="cannot be read: No such file or directory"):
        load_plan(str(tmp_path / "nope.json"))


def test_the_cli_refuses_a_plan_with_an_empty_stacks_map(tmp_path, capsys):
    from enroll.cli import main

    path = tmp_path / "plan.json"
    path.write_text(json.dumps({"stacks": {}}))
    assert main(["preview", "--offline", "--plan", str(path), "--state-dir", str(tmp_path)]) == 2
    assert "stacks {} must be a list" in capsys.readouterr().err
